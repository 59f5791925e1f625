"""Reading playbook files: the schema (unknown keys), then every expression, placeholder and
action checked, each error naming the file and the line of the key it is about.

A user directory's file replaces the built-in file of the same name (HolmesGPT's toolsets
do the same), and `validate` reads each file on its own so one broken file does not hide
the errors of the next.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import yaml

from triage.catalog import bundled_dir, search_dirs
from triage.errors import ConfigError
from triage.playbooks.expr import ExprError, check_expr, names_in, parse_expr, type_name
from triage.playbooks.names import FINDING_NAMES, FINDING_VARS, IDENTITY_VARS, Scope
from triage.playbooks.schema import (
    EVIDENCE_EXTRA,
    PLAYBOOK_SCHEMA,
    Library,
    Playbook,
    Step,
)
from triage.playbooks.template import check_template
from triage.yamlschema import compose, read_text, validate

MAX_STEPS_PER_FILE = 200
_SEED = re.compile(r"^00[0-4](?:\s*[,/+&]\s*00[0-4])*(?=\s|$|:)")
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


def _node_at(node: yaml.Node | None, *path: Any) -> yaml.Node | None:
    current = node
    for key in path:
        if isinstance(key, int):
            if not isinstance(current, yaml.SequenceNode) or key >= len(current.value):
                return None
            current = current.value[key]
        else:
            if not isinstance(current, yaml.MappingNode):
                return None
            for k, v in current.value:
                if isinstance(k, yaml.ScalarNode) and k.value == key:
                    current = v
                    break
            else:
                return None
    return current


def _line(node: yaml.Node | None, root: yaml.Node | None) -> int:
    n = node or root
    return n.start_mark.line + 1 if n is not None else 0


def load_playbook(path: Path, *, bundled: bool = False) -> Playbook:
    """One file, validated: schema (unknown keys), expressions, placeholders, actions."""
    source = str(path)
    node = compose(read_text(path, "playbook"), source)
    if node is None:
        raise ConfigError(f"{source}: empty file; a playbook needs a title and at least one of mitigations or fixes")
    raw = validate(node, PLAYBOOK_SCHEMA, source)
    name = path.stem
    steps: dict[str, list[Step]] = {"mitigations": [], "fixes": []}
    seen: dict[str, int] = {}
    for phase in ("mitigations", "fixes"):
        items = raw.get(phase) or []
        if len(items) > MAX_STEPS_PER_FILE:
            raise ConfigError(f"{source}:{_line(_node_at(node, phase), node)}: more than {MAX_STEPS_PER_FILE} {phase}")
        for i, item in enumerate(items):
            steps[phase].append(_step(_Where(item, phase, i, source, node), name, seen))
    if not steps["mitigations"] and not steps["fixes"]:
        raise ConfigError(f"{source}:{_line(None, node)}: a playbook needs at least one of mitigations or fixes")
    return Playbook(name=name, path=path, title=raw["title"], description=raw.get("description", ""),
                    mitigations=tuple(steps["mitigations"]), fixes=tuple(steps["fixes"]), bundled=bundled)


@dataclass(frozen=True)
class _Where:
    """One step of a file, so that every error about it starts with its file, line and id."""

    item: Mapping[str, Any]
    phase: str
    i: int
    source: str
    root: yaml.Node | None

    def line(self, *keys: Any) -> int:
        return _line(_node_at(self.root, self.phase, self.i, *keys), self.root)

    def fail(self, keys: Sequence[Any], message: str) -> ConfigError:
        return ConfigError(f"{self.source}:{self.line(*keys)}: {self.phase}[{self.i}] "
                           f"({self.item.get('id', '?')}): {message}")


def _step(where: _Where, playbook: str, seen: dict[str, int]) -> Step:
    item, phase = where.item, where.phase
    sid = item["id"]
    _check_identity(where, seen)
    computed, scope = _computed(where)
    when = _parse(item["when"], Scope(), "bool", lambda m: where.fail(("when",), m))
    finding_scoped = bool(names_in(when) & set(FINDING_NAMES))
    _check_evidence(where, scope, finding_scoped)
    _check_texts(where, scope, finding_scoped)
    replicas_expr = _check_action(where, scope, finding_scoped) if phase == "mitigations" else None
    action = item.get("action")
    return Step(
        playbook=playbook, phase=phase, id=sid, title=item["title"], seed=item["seed"], when_text=item["when"],
        when=when, commands=tuple(item["commands"]), risk=item["risk"], compute=tuple(computed),
        evidence=tuple(item.get("evidence") or ()), description=item.get("description", ""),
        safe=bool(item.get("safe")), action=dict(action) if action else None, action_replicas=replicas_expr,
        effort=item.get("effort", ""), timeline=item.get("timeline", ""), priority=item.get("priority"),
        success_metric=item.get("success_metric", ""), line=seen[sid], finding_scoped=finding_scoped,
    )


def _check_identity(where: _Where, seen: dict[str, int]) -> None:
    """The id (unique in its file: it names the step in plans and records) and the seed it cites."""
    sid, seed = where.item["id"], where.item["seed"]
    if not _ID.match(sid):
        raise where.fail(("id",), f"id {sid!r} must be lowercase letters, digits and dashes")
    if sid in seen:
        raise where.fail(("id",), f"id '{sid}' is also used at line {seen[sid]}")
    seen[sid] = where.line()
    if not _SEED.match(seed):
        raise where.fail(("seed",), f"seed {seed!r} must start with the seed number(s) it comes from "
                                    "(000 to 004), e.g. \"001 §5.4 phase 2\"")


def _computed(where: _Where) -> tuple[list[tuple[str, str, Any]], Scope]:
    """The step's `compute` numbers, each able to use the ones before it; and the scope they make."""
    computed: list[tuple[str, str, Any]] = []
    scope = Scope()
    for cname, ctext in (where.item.get("compute") or {}).items():
        keys = ("compute", cname)
        if not re.match(r"^[a-z][a-z0-9_]*$", cname):
            raise where.fail(keys, f"compute name {cname!r} must be lowercase letters, digits and _")
        try:
            scope.type_of_name(cname)
        except ExprError:
            pass
        else:
            raise where.fail(keys, f"compute name '{cname}' hides a signal or name of the same name")
        if cname in IDENTITY_VARS or cname in FINDING_VARS:
            raise where.fail(keys, f"compute name '{cname}' hides a template variable")
        expr = _parse(ctext, scope, "num", partial(where.fail, keys))
        computed.append((cname, ctext, expr))
        scope = Scope([c[0] for c in computed])
    return computed, scope


def _check_evidence(where: _Where, scope: Scope, finding_scoped: bool) -> None:
    for j, ev in enumerate(where.item.get("evidence") or []):
        if ev in EVIDENCE_EXTRA:
            if ev == "finding" and not finding_scoped:
                raise where.fail(("evidence", j), "evidence 'finding' needs a `when` that looks at a health finding")
            continue
        try:
            t = scope.type_of_name(ev)
        except ExprError as exc:
            raise where.fail(("evidence", j), f"evidence: {exc.message}") from None
        if isinstance(t, tuple):
            raise where.fail(("evidence", j), f"evidence '{ev}' is a word; list signals, capacity.* or "
                                              f"{', '.join(EVIDENCE_EXTRA)}")


def _check_texts(where: _Where, scope: Scope, finding_scoped: bool) -> None:
    """Every placeholder of the title, risk, description, commands and success metric."""
    item = where.item
    texts: list[tuple[tuple[Any, ...], str]] = [(("title",), item["title"]), (("risk",), item["risk"])]
    if item.get("description"):
        texts.append((("description",), item["description"]))
    if not item["commands"]:
        raise where.fail(("commands",), "commands must list at least one command")
    texts += [(("commands", j), c) for j, c in enumerate(item["commands"])]
    if where.phase == "fixes":
        texts.append((("success_metric",), item["success_metric"]))
        if "'" in item["success_metric"]:
            raise where.fail(("success_metric",), "the success metric is pasted into a single-quoted shell "
                                                  "argument: use double quotes inside PromQL")
    for keys, text in texts:
        try:
            check_template(text, scope, finding_scoped=finding_scoped)
        except ExprError as exc:
            raise where.fail(keys, exc.message) from None


def _check_action(where: _Where, scope: Scope, finding_scoped: bool) -> Any:
    """A mitigation's action (only with `safe: true`, and the other way round); its parsed replicas."""
    item = where.item
    action = item.get("action")
    if item.get("safe") and action is None:
        raise where.fail(("safe",), "safe: true needs an action (scale_deployment, rollout_restart, "
                                    "restart_container)")
    if action is None:
        return None
    if not item.get("safe"):
        raise where.fail(("action",), "an action is only run for steps marked safe: true")
    kind = action["kind"]
    replicas_expr = None
    if kind == "scale_deployment":
        if not action.get("replicas"):
            raise where.fail(("action",), "scale_deployment needs replicas (an expression)")
        replicas_expr = _parse(action["replicas"], scope, "num", lambda m: where.fail(("action", "replicas"), m))
    elif action.get("replicas"):
        raise where.fail(("action", "replicas"), f"{kind} takes no replicas")
    if kind == "restart_container" and not finding_scoped and not action.get("name"):
        raise where.fail(("action",), "restart_container needs a container: a `when` on a health finding "
                                      "(kind == \"container\") or a name")
    for key in ("name", "namespace"):
        if action.get(key):
            try:
                check_template(action[key], scope, finding_scoped=finding_scoped)
            except ExprError as exc:
                raise where.fail(("action", key), exc.message) from None
    return replicas_expr


def _parse(text: str, scope: Scope, want: str, fail: Callable[[str], ConfigError]) -> Any:
    try:
        node = parse_expr(text)
        got = check_expr(node, scope)
    except ExprError as exc:
        raise fail(f"{exc.message} (column {exc.pos + 1} of {text!r})") from None
    if got != want:
        raise fail(f"{text!r} is a {type_name(got)}; a {'condition' if want == 'bool' else 'number'} is needed here")
    return node


def load_library(user_dirs: Iterable[Path] = ()) -> Library:
    """Every playbook; a user directory's file replaces the built-in file of the same name."""
    found: dict[str, Playbook] = {}
    bundled = bundled_dir("playbooks")
    for directory in search_dirs("playbooks", user_dirs):
        if not directory.is_dir():
            if directory != bundled:
                raise ConfigError(_not_a_directory(directory))
            continue
        for path in _playbook_files(directory):
            if path.stem in found:
                continue
            found[path.stem] = load_playbook(path, bundled=directory == bundled)
    return Library(dict(sorted(found.items())))


def _playbook_files(directory: Path) -> list[Path]:
    """The directory's `*.yaml`; one that cannot be listed is an error (Path.glob would say: no files)."""
    try:
        names = os.listdir(directory)
    except OSError as exc:
        raise ConfigError(f"{directory}: cannot read the playbooks directory: {exc.strerror}") from None
    return sorted(directory / n for n in names if n.endswith(".yaml"))


def _not_a_directory(path: Path, missing: str = "playbooks directory not found") -> str:
    try:
        path.stat()
    except FileNotFoundError:
        return f"{path}: {missing}"
    except OSError as exc:  # a symlink loop, a component that is not searchable
        return f"{path}: cannot read: {exc.strerror}"
    return f"{path}: not a directory (playbooks_dir names a directory of *.yaml playbooks)"


def validate_paths(paths: Sequence[Path]) -> tuple[list[Playbook], list[str]]:
    """Each file on its own, so one broken file does not hide the errors of the next."""
    files: list[Path] = []
    errors: list[str] = []
    for p in paths:
        if p.is_dir():
            try:
                files += _playbook_files(p)
            except ConfigError as exc:
                errors.append(exc.message)
        elif p.is_file():
            files.append(p)
        else:
            errors.append(_not_a_directory(p, "no such file or directory"))
    good = []
    for f in files:
        try:
            good.append(load_playbook(f, bundled=f.parent == bundled_dir("playbooks")))
        except ConfigError as exc:
            errors.append(exc.message)
    return good, errors
