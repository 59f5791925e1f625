"""`mitigate --apply`: the steps marked safe, one confirmation each, every outcome recorded.

Changes go only through the closed list of actions in `triage.sources.actions`; nothing else
in the CLI changes anything. Ctrl-C or end of input stops at once, and what was already done
still reaches the output and the record.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from triage.render.escape import strip_control

if TYPE_CHECKING:
    from triage.config import Settings
    from triage.playbooks import Plan, PlanInputs


def refuse_unattended(apply: bool, yes: bool) -> None:
    """Before any query: an unattended --apply without --yes is a mistake, not a prompt to hang on."""
    if apply and not yes and not _stdin_is_tty():
        from triage.errors import UsageError

        raise UsageError("refusing to --apply: stdin is not a terminal, so no one can confirm each step; "
                         "add --yes to apply the safe steps without asking")


def _stdin_is_tty() -> bool:
    try:
        return bool(sys.stdin is not None and sys.stdin.isatty())
    except (ValueError, OSError):
        return False


def say(message: str) -> None:
    sys.stderr.write(f"triage: {strip_control(message)}\n")
    sys.stderr.flush()


class _NoAnswer(Exception):
    """End of input at a prompt (Ctrl-D on a terminal)."""


class Stopped(Exception):
    """--apply stopped at a prompt (Ctrl-C, end of input) or mid-action (Ctrl-C): the outcomes so far."""

    def __init__(self, records: list[dict[str, Any]], message: str) -> None:
        super().__init__(message)
        self.records = records
        self.message = message


def apply_safe_steps(plan: Plan, *, yes: bool, context: str | None, timeout: float,
                     runner: Any = None) -> list[dict[str, Any]]:
    """Each safe step once, confirmed one by one (or all with --yes); every outcome is recorded.

    Ctrl-C or end of input raises `Stopped` with the outcomes so far, so an action already taken
    still reaches the record; a step interrupted mid-request is recorded as such (it may have happened).
    """
    import json

    from triage.sources.actions import ActionRunner, describe

    steps = plan.safe_steps
    if not steps:
        say("--apply: no step marked safe applies to this incident; nothing was changed")
        return []
    own = runner is None
    runner = runner or ActionRunner(context=context, timeout=timeout)
    records: list[dict[str, Any]] = []
    done: set[str] = set()
    current: Any = None  # the PlannedStep being asked about or applied
    in_flight = False
    try:
        for p in steps:
            assert p.action is not None  # a safe step always carries its action
            key = json.dumps(p.action, sort_keys=True)
            if key in done:
                continue
            done.add(key)
            current = p
            what, target = describe(p.action)
            full = _full_target(runner, p.action, target)
            answer = True if yes else _confirm(f"apply step {p.step.full_id}: {what} of {full}?")
            if answer:
                say(f"applying {p.step.full_id}: {what} of {full}")
                in_flight = True
                record = runner.perform(p.action)
                in_flight = False
            else:
                result = "declined" if answer is False else "declined: no y or n after 3 answers"
                record = {"action": p.action.get("kind"), "what": what, "target": target,
                          **_target_ref(runner, p.action), "before": None, "after": None, "result": result,
                          "time": _now()}
            record.update({"step": p.step.full_id, "phase": "mitigate", "service": p.service, "by": "triage --apply"})
            say(f"{record['what']} of {record['target']}: {record['result']}")
            records.append(record)
    except _NoAnswer:
        raise Stopped(records, f"no answer (end of input) at step {current.step.full_id}: stopped; "
                                "it and the steps after it were not applied") from None
    except KeyboardInterrupt:
        raise _interrupted(records, runner, current, in_flight) from None
    finally:
        if own:
            runner.close()
    return records


def _interrupted(records: list[dict[str, Any]], runner: Any, current: Any, in_flight: bool) -> Stopped:
    """Ctrl-C: a step cut off mid-request is recorded as such (it may have happened)."""
    from triage.sources.actions import describe

    if in_flight and current is not None:
        what, target = describe(current.action)
        records.append({"action": current.action.get("kind"), "what": what, "target": target,
                        **_target_ref(runner, current.action), "before": None,
                        "after": None, "result": "interrupted: the request may have reached the target; check it",
                        "time": _now(), "step": current.step.full_id, "phase": "mitigate",
                        "service": current.service, "by": "triage --apply"})
        return Stopped(records, f"interrupted while applying {current.step.full_id} ({what} of {target}): "
                                "it may have happened; check it")
    where = f" at step {current.step.full_id}" if current is not None else ""
    return Stopped(records, f"interrupted{where}: it and the steps after it were not applied")


def _target_ref(runner: Any, action: Any) -> dict[str, Any]:
    """context, namespace, kind, name: the full target, as the record keeps it."""
    from triage.sources.actions import target_fields

    where = getattr(runner, "where", None)
    return {"context": where(action) if callable(where) else None, **target_fields(action)}


def _full_target(runner: Any, action: Any, target: str) -> str:
    """`deployment shop/orders in context prod`, `docker container web-1 at unix:///var/run/docker.sock`."""
    context = _target_ref(runner, action)["context"]
    if context is None:
        return target
    return f"{target} at {context}" if action.get("kind") == "restart_container" else f"{target} in context {context}"


def _confirm(question: str, attempts: int = 3) -> bool | None:
    """y/N on stderr, the answer from stdin: True, False (n or Enter), None (no y or n after `attempts`).

    Not click's confirm: it echoes a space to stdout (a readline work-around), which would land in the
    `-o json` / `-o markdown` result, and it re-asks a garbled answer forever. End of input raises
    `_NoAnswer`; both it and Ctrl-C leave a newline first, so the next message starts a line of its own.
    """
    for _ in range(attempts):
        sys.stderr.write(f"{question} [y/N]: ")
        sys.stderr.flush()
        try:
            line = sys.stdin.readline()
        except KeyboardInterrupt:
            sys.stderr.write("\n")
            raise
        if not line:
            sys.stderr.write("\n")
            raise _NoAnswer
        answer = line.strip().lower()
        if answer in ("y", "yes"):
            return True
        if answer in ("", "n", "no"):
            return False
        say(f"answer y or n, not {strip_control(answer)[:20]!r}")
    return None


def _now() -> str:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def check_before_applying(plan: Plan, incident: PlanInputs, settings: Settings, service: str | None,
                          namespace: str | None) -> None:
    """Refuse before acting, not after: a record that cannot take the actions, a target nobody named."""
    from triage.incident import check_recordable
    from triage.playbooks import check_targets

    if not plan.safe_steps:
        return
    if incident.record_path is not None:
        check_recordable(incident.record_path)
    # What may change is what the operator names now, never what a record or document says.
    named = list(settings.services.values())
    if service:
        named.append(settings.service(service, namespace))
    check_targets(plan.safe_steps, named,
                  config=f"the config {settings.config_path}" if settings.config_path else "a config (none found)")


def apply_and_record(plan: Plan, incident: PlanInputs, *, yes: bool, context: str | None,
                     timeout: float) -> tuple[list[dict[str, Any]], bool, bool]:
    """The actions taken, whether they could not be recorded, whether a prompt or Ctrl-C stopped them."""
    from triage.errors import TriageError
    from triage.incident import append_actions

    stopped = False
    unrecorded = False
    try:
        actions = apply_safe_steps(plan, yes=yes, context=context, timeout=timeout)
    except Stopped as exc:  # Ctrl-C or end of input: what was done before is still recorded
        actions, stopped = exc.records, True
        say(exc.message)
    if incident.record_path is not None and actions:
        try:
            append_actions(incident.record_path, actions)
            say(f"recorded {len(actions)} action(s) in {incident.record_path}")
        except (TriageError, OSError) as exc:
            unrecorded = True
            say(f"error: could not record the actions in {incident.record_path} "
                f"({getattr(exc, 'message', None) or exc}); they are in this output")
    elif actions:
        say(f"not recorded: no incident record (--from incident.json) to add the {len(actions)} action(s) to")
    return actions, unrecorded, stopped
