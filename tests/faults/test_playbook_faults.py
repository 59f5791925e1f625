"""Broken playbook files (issue 8, Files): each fault is put into a user playbook directory and
read three ways — `triage playbooks validate DIR`, `triage playbooks list` with the directory as
`playbooks_dir` of a triage.yaml, and `triage mitigate --from demo/incident.json` with it in
`$TRIAGE_PLAYBOOKS_DIR`. Outcome: exit 3 and the file, the line where there is one, and what is
wrong — on stdout as a FAILED line for `validate` (it reports every file), as the one stderr line for
the others. Never a traceback, never a built-in silently used instead of a broken user file."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.faults.conftest import cell, check, run_bounded

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "demo" / "incident.json"

STEP = """  - id: {id}
    title: T
    seed: '002'
    when: 'error_ratio > 10%'
    commands:
      - kubectl -n {{namespace}} get pods
    risk: none
"""
GOOD = "title: t\nmitigations:\n" + STEP.format(id="a")


def _text(name: str, text: str | bytes) -> Callable[[Path], list[Path]]:
    def make(books: Path) -> list[Path]:
        path = books / name
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
        return [path]
    return make


def _big(books: Path) -> list[Path]:
    path = books / "big.yaml"
    with open(path, "wb") as f:
        f.write(b"# padding\n" * (5 * 1024 * 1024))
    return [path]


def _dir(books: Path) -> list[Path]:
    (books / "dir.yaml").mkdir()
    (books / "dir.yaml" / "inner.yaml").write_text(GOOD)
    return [books / "dir.yaml"]


def _loop(books: Path) -> list[Path]:
    (books / "a.yaml").symlink_to("b.yaml")
    (books / "b.yaml").symlink_to("a.yaml")
    return [books / "a.yaml", books / "b.yaml"]


def _dangling(books: Path) -> list[Path]:
    (books / "gone.yaml").symlink_to(books / "deleted.yaml")
    return [books / "gone.yaml"]


def _many(books: Path) -> list[Path]:
    path = books / "many.yaml"
    path.write_text("title: t\nmitigations:\n" + "".join(STEP.format(id=f"s{i}") for i in range(201)))
    return [path]


def _bomb(books: Path) -> list[Path]:
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    path = books / "bomb.yaml"
    path.write_text("title: t\nmitigations: []\n" + "\n".join(lines).replace("a0:", "description:", 1) + "\n")
    return [path]


# fault → (make the file(s), line of the error or None, phrase)
FAULTS: dict[str, tuple[Callable[[Path], list[Path]], int | None, str]] = {
    "YAML syntax error": (_text("syntax.yaml", "title: t\nmitigations: [\n  - id: a\n"), 3, "invalid YAML"),
    "wrong type (commands is a string)": (
        _text("types.yaml", GOOD.replace("commands:\n      - kubectl -n {namespace} get pods",
                                         "commands: kubectl get pods")), 7, "mitigations[0].commands must be a list"),
    "wrong type (safe: 'yes')": (_text("types.yaml", GOOD + "    safe: 'yes'\n"), 10,
                                 "mitigations[0].safe must be a true/false, not string 'yes'"),
    "wrong type (top level is a list)": (_text("types.yaml", "- title: t\n"), 1, "(top level) must be a mapping"),
    "wrong type (!!int 'x')": (_text("types.yaml", "title: !!int 'x'\nmitigations: []\n"), 1,
                               "'x' cannot be read as !!int"),
    "python tag": (_text("tag.yaml", "title: !!python/name:os.system\nmitigations: []\n"), 1,
                   "a tag the safe YAML loader does not know"),
    "unknown key": (_text("unknown.yaml", GOOD + "    retries: 3\n"), 10, "unknown key 'mitigations[0].retries'"),
    "bad `when` expression": (_text("when.yaml", GOOD.replace("error_ratio > 10%", "error_ratio >> 10%(")), 6,
                              "unexpected '>' (column 14"),
    "`when` is a number": (_text("when.yaml", GOOD.replace("error_ratio > 10%", "error_ratio * 2")), 6,
                           "is a number; a condition is needed here"),
    "unknown signal": (_text("signal.yaml", GOOD.replace("error_ratio > 10%", "eror_ratio > 10%")), 6,
                       "unknown signal or name 'eror_ratio'"),
    "unknown reason": (_text("reason.yaml", GOOD.replace("error_ratio > 10%", 'reason == "OOMKiled"')), 6,
                       "unknown reason 'OOMKiled'"),
    "unknown placeholder": (_text("placeholder.yaml", GOOD.replace("{namespace}", "{namespac}")), 8,
                            "unknown placeholder '{namespac}'"),
    "duplicate step id": (_text("dup.yaml", GOOD + STEP.format(id="a")), 10, "id 'a' is also used at line 3"),
    "duplicate key": (_text("dup.yaml", "title: t\n" + GOOD), 2, "key 'title' is given twice"),
    "201 steps": (_many, 3, "more than 200 mitigations"),
    "alias bomb": (_bomb, 3, "description must be a string"),
    "50 MB file": (_big, None, "bytes is too large for a playbook (limit 5242880)"),
    "non-UTF-8 bytes": (_text("latin1.yaml", GOOD.replace("title: T", "title: caf\xe9").encode("latin-1")), 4,
                        "not UTF-8 (byte 0xe9)"),
    "empty file": (_text("empty.yaml", ""), None, "empty file"),
    "only comments": (_text("empty.yaml", "# nothing yet\n"), None, "empty file"),
    "a directory where a file is expected": (_dir, None, "cannot read: Is a directory"),
    "symlink loop": (_loop, None, "cannot read: Too many levels of symbolic links"),
    "dangling symlink": (_dangling, None, "no such file"),
}
COMMANDS = ("validate DIR", "list (playbooks_dir)", "mitigate --from demo (TRIAGE_PLAYBOOKS_DIR)")
BUGS: dict = {}  # every bug these cells found is fixed; see FAULTS.md


def _as_nobody(tmp_path: Path) -> None:
    os.chmod(tmp_path, 0o755)
    for parent in tmp_path.parents:
        if str(parent) in ("/", "/tmp"):
            break
        os.chmod(parent, os.stat(parent).st_mode | 0o005)


def _run(command: str, tmp_path: Path, books: Path, *, as_nobody: bool = False, output: str = "table"):
    config = tmp_path / "triage.yaml"
    config.write_text(f"playbooks_dir: {books.name}\n")  # relative: resolved against the config's directory
    env = {"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    if command == "validate DIR":
        args = ["playbooks", "validate", str(books)]
    elif command == "list (playbooks_dir)":
        args = ["playbooks", "list", "--config", str(config), "-o", output]
    else:
        args = ["mitigate", "--from", str(DEMO), "-o", "json"]
        env["TRIAGE_PLAYBOOKS_DIR"] = str(books)
        config.unlink()
    if not as_nobody:
        return run_bounded(args, env=env, cwd=tmp_path, limit=30)
    # Warm up as root on a good directory: the stdlib of this interpreter is not readable by nobody,
    # so a module first imported as nobody would fail to load (an artefact of the test, not of triage).
    warm = tmp_path / "warm"
    (warm / "books").mkdir(parents=True)
    (warm / "books" / "good.yaml").write_text(GOOD)
    _run(command, warm, warm / "books")
    _as_nobody(tmp_path)
    os.setegid(65534)
    os.seteuid(65534)
    try:
        return run_bounded(args, env=env, cwd=tmp_path, limit=30)
    finally:
        os.seteuid(0)
        os.setegid(0)


@pytest.fixture(autouse=True)
def _demo_untouched():
    before = DEMO.read_bytes()
    yield
    assert DEMO.read_bytes() == before, "demo/incident.json was changed"


@pytest.mark.parametrize("fault,command", [cell(BUGS, f, c) for f in FAULTS for c in COMMANDS])
def test_broken_playbook(tmp_path, fault, command):
    make, line, phrase = FAULTS[fault]
    books = tmp_path / "books"
    books.mkdir()
    bad = make(books)
    files = {p.name: p.read_bytes() for p in books.iterdir() if p.is_file()}
    result = _run(command, tmp_path, books)
    check(result, {3})
    where = f"{bad[0]}:{line}: " if line else f"{bad[0]}: "
    if command == "validate DIR":
        failed = [ln for ln in result.stdout.splitlines() if ln.startswith("FAILED ")]
        assert len(failed) == len(bad), result.stdout
        assert failed[0].startswith(f"FAILED {where}") and phrase in failed[0], failed[0]
        assert f"0 valid, {len(bad)} invalid" in result.stdout
        assert result.stderr == ""
    else:
        [msg] = result.stderr.strip().splitlines()
        assert msg.startswith(f"triage: error: {where}") and phrase in msg, msg
        assert result.stdout == ""
    assert {p.name: p.read_bytes() for p in books.iterdir() if p.is_file()} == files
    written = ["books"] if command.startswith("mitigate") else ["books", "triage.yaml"]
    assert sorted(p.name for p in tmp_path.iterdir()) == written  # nothing else written


# ---- the directory itself ----------------------------------------------------------------------


def _missing(t: Path) -> Path:
    return t / "books"


def _a_file(t: Path) -> Path:
    (t / "books").write_text(GOOD)
    return t / "books"


def _dir_loop(t: Path) -> Path:
    (t / "books").symlink_to("books")
    return t / "books"


def _unreadable(t: Path) -> Path:
    (t / "books").mkdir()
    (t / "books" / "mine.yaml").write_text(GOOD)
    os.chmod(t / "books", 0)
    return t / "books"


# fault → (make: tmp_path → the configured path, phrase for list/mitigate, phrase for validate DIR or None: valid)
DIR_FAULTS: dict[str, tuple[Callable[[Path], Path], str, str | None]] = {
    "missing": (_missing, "books: playbooks directory not found", "books: no such file or directory"),
    "a file, not a directory": (_a_file, "books: not a directory", None),
    "a symlink loop": (_dir_loop, "books: cannot read: Too many levels of symbolic links",
                       "books: cannot read: Too many levels of symbolic links"),
    "not readable (mode 000, as nobody)": (_unreadable, "books: cannot read the playbooks directory: Permission denied",
                                           "books: cannot read the playbooks directory: Permission denied"),
}
DIR_COMMANDS = COMMANDS


@pytest.mark.parametrize("fault,command", [cell(BUGS, f, c) for f in DIR_FAULTS for c in DIR_COMMANDS])
def test_broken_playbooks_dir(tmp_path, fault, command):
    make, phrase, validate_phrase = DIR_FAULTS[fault]
    books = make(tmp_path)
    if "nobody" in fault and os.geteuid() != 0:
        pytest.skip("needs root to switch to nobody")
    try:
        result = _run(command, tmp_path, books, as_nobody="nobody" in fault)
    finally:
        if "nobody" in fault:
            os.chmod(books, 0o755)
    if command != "validate DIR":
        check(result, {3})
        [msg] = result.stderr.strip().splitlines()
        assert msg.startswith("triage: error: ") and phrase in msg, msg
    elif validate_phrase is None:  # a path given to validate may be one playbook file: this one is, and valid
        check(result, {0})
        assert f"ok {books} (1 mitigation, 0 fixes)" in result.stdout
    else:
        check(result, {3})
        [line] = [ln for ln in result.stdout.splitlines() if ln.startswith("FAILED ")]
        assert validate_phrase in line, line


# ---- the same name twice: not an error, the first directory wins -------------------------------


def test_a_user_playbook_named_like_a_built_in_replaces_it(tmp_path):
    books = tmp_path / "books"
    books.mkdir()
    (books / "db_pool_exhaustion.yaml").write_text(GOOD.replace("title: t", "title: Ours"))
    listed = _run("list (playbooks_dir)", tmp_path, books, output="json")
    check(listed, {0})
    [ours] = [p for p in json.loads(listed.stdout)["playbooks"] if p["name"] == "db_pool_exhaustion"]
    assert ours["file"] == str(books / "db_pool_exhaustion.yaml") and not ours["bundled"] and ours["title"] == "Ours"
    planned = _run("mitigate --from demo (TRIAGE_PLAYBOOKS_DIR)", tmp_path, books)
    check(planned, {0, 1, 2})
    ids = [s["id"] for s in json.loads(planned.stdout)["mitigations"]]
    assert not any(i.startswith("db_pool_exhaustion/restart") for i in ids), ids  # the built-in's steps are gone
    validated = _run("validate DIR", tmp_path, books)
    check(validated, {0})


def test_the_same_name_in_env_and_config_dirs_env_wins(tmp_path):
    env_books, file_books = tmp_path / "env-books", tmp_path / "books"
    env_books.mkdir()
    file_books.mkdir()
    (env_books / "mine.yaml").write_text(GOOD.replace("title: t", "title: from-env"))
    (file_books / "mine.yaml").write_text(GOOD.replace("title: t", "title: from-file"))
    (tmp_path / "triage.yaml").write_text("playbooks_dir: books\n")
    result = run_bounded(["playbooks", "list", "-o", "json", "--config", str(tmp_path / "triage.yaml")],
                         env={"TRIAGE_PLAYBOOKS_DIR": str(env_books), "HOME": str(tmp_path)}, cwd=tmp_path, limit=30)
    check(result, {0})
    [mine] = [p for p in json.loads(result.stdout)["playbooks"] if p["name"] == "mine"]
    assert mine["title"] == "from-env" and mine["file"] == str(env_books / "mine.yaml")


def test_a_tagged_value_in_the_config_file_is_one_line(tmp_path):
    """The loader is shared with triage.yaml: `!!int "x"` there was the same internal error."""
    config = tmp_path / "triage.yaml"
    config.write_text("services:\n  checkout: {tier: !!int 'x'}\n")
    result = run_bounded(["playbooks", "list", "--config", str(config)], env={"HOME": str(tmp_path)},
                         cwd=tmp_path, limit=30)
    check(result, {3})
    [msg] = result.stderr.strip().splitlines()
    assert f"{config}:2: 'x' cannot be read as !!int" in msg, msg
