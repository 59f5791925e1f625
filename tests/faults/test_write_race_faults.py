"""No overwrite, even in a race (issue 13, item 7): of writers racing for one name exactly one wins,
the others are refused with one line, and the winner's file is whole. Threads and processes, the
library call and the real command (`postmortem --out`, `demo --out`)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.faults.conftest import check, run_bounded

ROOT = Path(__file__).resolve().parents[2]
WRITERS = 6
BIG = 4 * 1024 * 1024  # a text that takes a while to write and fsync: the window of the old check-then-rename


def _text(i: int) -> str:
    return f"writer {i}\n" + ("x" * 63 + "\n") * (BIG // 64)


def _leftovers(directory: Path, names: set[str]) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name not in names)


def _race_threads(target, n: int = WRITERS) -> list:
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i: int) -> None:
        barrier.wait()
        try:
            target(i)
            results[i] = "won"
        except BaseException as exc:  # noqa: BLE001 - what each writer got is the finding
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return results


def test_threads_racing_for_one_name_one_wins(tmp_path):
    from triage.errors import UsageError
    from triage.files import write_new

    path = tmp_path / "postmortem.md"
    results = _race_threads(lambda i: write_new(path, _text(i)))
    winners = [i for i, r in enumerate(results) if r == "won"]
    assert len(winners) == 1, f"{len(winners)} writers all 'succeeded': {results}"
    losers = [r for r in results if r != "won"]
    assert all(isinstance(r, UsageError) and "already exists" in r.message for r in losers), losers
    assert path.read_text() == _text(winners[0]), "the winner's file is not whole"
    assert _leftovers(tmp_path, {path.name}) == []


def test_threads_racing_for_a_pair_one_wins_whole(tmp_path):
    """incident.json + postmortem.md: both from the same writer, or the writer is refused and leaves nothing."""
    from triage.errors import UsageError
    from triage.files import write_files

    rec, pm = tmp_path / "o" / "incident.json", tmp_path / "o" / "postmortem.md"
    results = _race_threads(lambda i: write_files([(rec, _text(i)), (pm, f"pm of writer {i}\n")]))
    winners = [i for i, r in enumerate(results) if r == "won"]
    assert len(winners) == 1, results
    assert all(isinstance(r, UsageError) for r in results if r != "won"), results
    assert rec.read_text() == _text(winners[0]) and pm.read_text() == f"pm of writer {winners[0]}\n"
    assert _leftovers(rec.parent, {rec.name, pm.name}) == []


def test_forced_writers_racing_leave_one_whole_file(tmp_path):
    """--force: every writer may replace, but the file is always one writer's whole text."""
    from triage.files import write_new

    path = tmp_path / "incident.json"
    path.write_text("old\n")
    results = _race_threads(lambda i: write_new(path, _text(i), force=True))
    assert results == ["won"] * WRITERS, results
    assert path.read_text() in {_text(i) for i in range(WRITERS)}
    assert _leftovers(tmp_path, {path.name}) == []


_WRITER = """
import os, sys, time
from pathlib import Path
from triage.errors import UsageError
from triage.files import write_new
path, go, i = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
text = f"writer {i}\\n" + ("x" * 63 + "\\n") * ({big} // 64)
while not go.exists():
    time.sleep(0.002)
try:
    write_new(path, text)
except UsageError as exc:
    print(exc.message)
    sys.exit(3)
print("won")
"""


def _env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def test_processes_racing_for_one_name_one_wins(tmp_path):
    path, go = tmp_path / "incident.json", tmp_path / "go"
    code = _WRITER.replace("{big}", str(BIG))
    procs = [subprocess.Popen([sys.executable, "-c", code, str(path), str(go), str(i)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=_env()) for i in range(WRITERS)]

    def release() -> None:
        time.sleep(1.0)  # every interpreter started and waiting (a late one only loses the race)
        go.touch()

    outs, codes = _finish(procs, start=release)
    assert codes.count(0) == 1, f"{codes.count(0)} processes all 'succeeded': {outs}"
    assert set(codes) == {0, 3}, outs
    for (out, err), rc in zip(outs, codes):
        assert err == "", err
        if rc == 3:
            assert "already exists" in out, out
    winner = codes.index(0)
    assert path.read_text() == _text(winner)
    assert _leftovers(tmp_path, {path.name, go.name}) == []


def _finish(procs, start=None):
    """`start()`, then every racer's (stdout, stderr) and exit code; none is left running,
    whatever happens."""
    try:
        if start is not None:
            start()
        outs = [p.communicate(timeout=120) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    return outs, [p.returncode for p in procs]


def _triage(args, cwd):
    return subprocess.Popen([sys.executable, "-m", "triage", *args], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=_env())


@pytest.fixture(scope="module")
def demo_record(tmp_path_factory):
    out = tmp_path_factory.mktemp("race-demo") / "d"
    check(run_bounded(["demo", "--out", str(out)]), {0})
    return out / "incident.json"


@pytest.mark.parametrize("command", ["postmortem --out", "demo --out"])
def test_commands_racing_for_one_out_one_wins(tmp_path, demo_record, command):
    """The real command, four at once onto one --out: one exit 0, the others exit 3 with one line."""
    target = tmp_path / ("pm.md" if command == "postmortem --out" else "d")
    args = (["postmortem", str(demo_record), "--out", str(target)] if command == "postmortem --out"
            else ["demo", "--out", str(target)])
    outs, codes = _finish([_triage(args, tmp_path) for _ in range(4)])
    assert codes.count(0) == 1, f"exit codes {codes}: {outs}"
    for (_out, err), rc in zip(outs, codes):
        assert "Traceback" not in err and "internal error" not in err, err
        if rc != 0:
            assert rc == 3 and len(err.strip().splitlines()) == 1 and "already exists" in err, err
    if command == "postmortem --out":
        assert target.read_text().startswith("# ")
        assert _leftovers(tmp_path, {target.name}) == []
    else:
        assert sorted(p.name for p in target.iterdir()) == ["incident.json", "postmortem.md"]


# ---- appends to one record (two `mitigate --apply` recording at once) ------------------------------

_APPENDER = """
import sys, time
from pathlib import Path
from triage.incident import append_actions
path, go, i = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
while not go.exists():
    time.sleep(0.002)
for k in range(3):
    append_actions(path, [{"time": "2026-11-10T20:01:00Z", "phase": "mitigate", "step": f"w{i}/{k}",
                           "what": "scale", "target": "shop/orders", "result": "ok", "by": "triage --apply"}])
print("done")
"""


def test_processes_appending_to_one_record_lose_no_action(tmp_path, demo_record):
    """Read, append, replace under a lock: every action of every writer is in the record afterwards."""
    import json
    import shutil

    path, go = tmp_path / "incident.json", tmp_path / "go"
    shutil.copy(demo_record, path)
    before = json.loads(path.read_text())["actions"]
    procs = [subprocess.Popen([sys.executable, "-c", _APPENDER, str(path), str(go), str(i)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=_env()) for i in range(WRITERS)]

    def release() -> None:
        time.sleep(1.0)
        go.touch()

    outs, codes = _finish(procs, start=release)
    assert codes == [0] * WRITERS, outs
    steps = [a["step"] for a in json.loads(path.read_text())["actions"][len(before):]]
    assert sorted(steps) == sorted(f"w{i}/{k}" for i in range(WRITERS) for k in range(3)), \
        f"{WRITERS * 3 - len(steps)} actions lost: {sorted(steps)}"
    assert _leftovers(tmp_path, {path.name, go.name}) == []


def test_threads_appending_to_one_record_lose_no_action(tmp_path, demo_record):
    import json
    import shutil

    from triage.incident import append_actions

    path = tmp_path / "incident.json"
    shutil.copy(demo_record, path)
    before = len(json.loads(path.read_text())["actions"])
    results = _race_threads(lambda i: append_actions(path, [{"time": "2026-11-10T20:01:00Z", "step": f"t{i}",
                                                             "what": "scale", "result": "ok"}]))
    assert results == ["won"] * WRITERS, results
    steps = [a["step"] for a in json.loads(path.read_text())["actions"][before:]]
    assert sorted(steps) == sorted(f"t{i}" for i in range(WRITERS)), steps
