"""Phase 2 `triage mitigate`, phase 4 `triage fix`, and `triage playbooks list|show|validate`.

A plan is made from documents (the rca of a live run or of an incident record, and the health
checks); `--apply` then runs the steps marked safe, one confirmation each, through the closed
list of actions in `triage.sources.actions`. Nothing else here changes anything.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, List, Optional, Sequence

import typer

from triage.cli import options

if TYPE_CHECKING:
    from triage.config import Settings
    from triage.playbooks import Library, Plan
    from triage.playbooks import PlanInputs as Incident

app = typer.Typer(help="The playbooks behind `mitigate` and `fix`: list, show, validate.", no_args_is_help=True)

HealthFrom = typer.Option(None, "--health-from", metavar="HEALTH_JSON",
                          help="A `triage health -o json` document to use instead of checking live.")
NoHealth = typer.Option(False, "--no-health", help="Do not run the health checks (only the rca's steps).")
NoKubernetes = typer.Option(False, "--no-kubernetes", help="Health checks: do not check Kubernetes.")
NoDocker = typer.Option(False, "--no-docker", help="Health checks: do not check Docker.")
Url = typer.Option(None, "--url", metavar="URL", help="Health checks: a health/readiness URL to GET (repeatable).")
Context = typer.Option(None, "--context", metavar="NAME",
                       help="kubeconfig context for health checks and --apply (default: the current one).")
Timeout = typer.Option(10.0, "--timeout", min=0.1, max=600, metavar="SECONDS",
                       help="Deadline of every call to Kubernetes, Docker and HTTP endpoints, and of a "
                            "kubeconfig exec credential plugin.")
Apply = typer.Option(False, "--apply", help="Run the steps marked safe (scale, rollout restart, container restart), "
                                            "asking before each one. Only what the config (or --service and "
                                            "--namespace) names for a service is changed, never what a record "
                                            "alone names.")
Yes = typer.Option(False, "--yes", "-y", help="With --apply: do not ask (needed when stdin is not a terminal).")
PlaybookFrom = typer.Option(None, "--from", metavar="INCIDENT_JSON",
                            help="Plan from an incident record (its rca and health), with no network; "
                                 "--apply appends the actions to it.")


def mitigate(
    service: options.OptStr = options.Service,
    all_services: bool = options.AllServices,
    namespace: options.OptStr = options.Namespace,
    at: options.OptStr = options.At,
    window: str = options.Window,
    baseline: str = options.Baseline,
    output: options.Output = options.OutputOpt,
    config: options.OptStr = options.Config,
    prometheus_url: options.OptStr = options.PrometheusUrl,
    alertmanager_url: options.OptStr = options.AlertmanagerUrl,
    max_concurrency: int = options.MaxConcurrency,
    from_record: options.OptStr = PlaybookFrom,
    health_from: options.OptStr = HealthFrom,
    no_health: bool = NoHealth,
    no_kubernetes: bool = NoKubernetes,
    no_docker: bool = NoDocker,
    url: Optional[List[str]] = Url,
    context: options.OptStr = Context,
    timeout: float = Timeout,
    apply: bool = Apply,
    yes: bool = Yes,
) -> None:
    """Phase 2, mitigation: the playbooks' mitigations for what was found; --apply runs the safe ones."""
    _refuse_unattended(apply, yes)
    incident, library, settings = _incident(service, all_services, namespace, at, window, baseline, config,
                                            prometheus_url, alertmanager_url, max_concurrency, from_record,
                                            health_from, no_health, no_kubernetes, no_docker, url or [], context,
                                            timeout, output)
    from triage.playbooks import make_plan

    plan = make_plan(library, incident, "mitigate")
    actions: list[dict[str, Any]] = []
    unrecorded = False
    if apply and incident.record_path is not None and plan.safe_steps:
        from triage.incident import check_recordable

        check_recordable(incident.record_path)  # refuse before acting, not after
    if apply and plan.safe_steps:
        from triage.playbooks import check_targets

        # What may change is what the operator names now, never what a record or document says.
        named = list(settings.services.values())
        if service:
            named.append(settings.service(service, namespace))
        check_targets(plan.safe_steps, named,
                      config=f"the config {settings.config_path}" if settings.config_path else "a config (none found)")
    if output is options.Output.table:
        render_table(plan)
    if apply:
        stopped: _Stopped | None = None
        try:
            actions = apply_safe_steps(plan, yes=yes, context=context, timeout=timeout)
        except _Stopped as exc:  # Ctrl-C or end of input: what was done before is still recorded
            actions, stopped = exc.records, exc
            _say(exc.message)
        if incident.record_path is not None and actions:
            from triage.errors import TriageError
            from triage.incident import append_actions as record_actions

            try:
                record_actions(incident.record_path, actions)
                _say(f"recorded {len(actions)} action(s) in {incident.record_path}")
            except (TriageError, OSError) as exc:
                unrecorded = True
                _say(f"error: could not record the actions in {incident.record_path} "
                     f"({getattr(exc, 'message', None) or exc}); they are in this output")
        elif actions:
            _say(f"not recorded: no incident record (--from incident.json) to add the {len(actions)} action(s) to")
        if stopped is not None:
            raise typer.Exit(130)
        if output is options.Output.table:
            render_actions(actions)
    elif yes:
        _say("--yes does nothing without --apply: nothing was changed")
    elif output is options.Output.table and plan.safe_steps:
        _say(f"{len(plan.safe_steps)} step(s) are marked safe; nothing was changed (run with --apply to be asked "
             "about each)")
    _finish(plan, output, actions, failed=unrecorded)


def fix(
    service: options.OptStr = options.Service,
    all_services: bool = options.AllServices,
    namespace: options.OptStr = options.Namespace,
    at: options.OptStr = options.At,
    window: str = options.Window,
    baseline: str = options.Baseline,
    output: options.Output = options.OutputOpt,
    config: options.OptStr = options.Config,
    prometheus_url: options.OptStr = options.PrometheusUrl,
    alertmanager_url: options.OptStr = options.AlertmanagerUrl,
    max_concurrency: int = options.MaxConcurrency,
    from_record: options.OptStr = PlaybookFrom,
    health_from: options.OptStr = HealthFrom,
    no_health: bool = NoHealth,
    no_kubernetes: bool = NoKubernetes,
    no_docker: bool = NoDocker,
    url: Optional[List[str]] = Url,
    context: options.OptStr = Context,
    timeout: float = Timeout,
) -> None:
    """Phase 4, permanent fix: the playbooks' fixes for the classified bottleneck, with effort and a success metric."""
    incident, library, _ = _incident(service, all_services, namespace, at, window, baseline, config, prometheus_url,
                                     alertmanager_url, max_concurrency, from_record, health_from, no_health,
                                     no_kubernetes, no_docker, url or [], context, timeout, output)
    from triage.playbooks import make_plan

    plan = make_plan(library, incident, "fix")
    if output is options.Output.table:
        render_table(plan)
    _finish(plan, output, [])


def _finish(plan: "Plan", output: options.Output, actions: Sequence[dict[str, Any]], *, failed: bool = False) -> None:
    from triage.cli.common import print_json
    from triage.render.plan import plan_markdown

    if output is options.Output.json:
        payload = plan.to_json()
        if plan.phase == "mitigate":
            payload["actions"] = list(actions)
        print_json(payload)
    elif output is options.Output.markdown:
        sys.stdout.write(plan_markdown(plan, actions))
    raise typer.Exit(3 if failed else int(plan.status.exit_code))


def _refuse_unattended(apply: bool, yes: bool) -> None:
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


def _say(message: str) -> None:
    from triage.report import strip_control

    sys.stderr.write(f"triage: {strip_control(message)}\n")
    sys.stderr.flush()


def _incident(service, all_services, namespace, at, window, baseline, config, prometheus_url, alertmanager_url,
              max_concurrency, from_record, health_from, no_health, no_kubernetes, no_docker, urls, context, timeout,
              output) -> "tuple[Incident, Library, Settings]":
    """Settings → the documents a plan is made from (a record, or a live rca and health run)."""
    from dataclasses import replace

    from triage.config import load_settings
    from triage.errors import UsageError
    from triage.incident import read_json
    from triage.playbooks import PlanInputs as Incident
    from triage.playbooks import check_health, incident_from_record, load_library

    settings = load_settings(config=config, prometheus_url=prometheus_url, alertmanager_url=alertmanager_url)
    library = load_library(settings.playbooks_dirs)
    urls_for_commands = {
        "prometheus_url": settings.prometheus.display_url if settings.prometheus else None,
        "alertmanager_url": settings.alertmanager.display_url if settings.alertmanager else None,
    }
    health = None
    if health_from:
        path = Path(health_from)
        health = check_health(read_json(path, "export of triage health -o json"), str(path))
    if from_record:
        if all_services:
            raise UsageError("--from plans from the record's services; use --service NAME to pick one")
        incident = incident_from_record(Path(from_record), service=service)
        if health is not None:
            incident = replace(incident, health=health)
        return replace(incident, **urls_for_commands), library, settings
    if not service and not all_services:
        if health is not None:
            return Incident(rcas=(), health=health, services=dict(settings.services), source=str(health_from),
                            **urls_for_commands), library, settings
        raise UsageError("which incident? give --service NAME (or --all-services) to analyse it live, "
                         "--from incident.json for a record, or --health-from health.json")
    rcas, target, windows = _live_rca(settings, service, all_services, namespace, at, window, baseline,
                                      max_concurrency, output)
    if health is None and not no_health:
        health = _live_health(settings, target, windows, no_kubernetes=no_kubernetes, no_docker=no_docker,
                              urls=urls, context=context, timeout=timeout)
    return Incident(rcas=tuple(rcas), health=health, services=dict(settings.services), source="live",
                    **urls_for_commands), library, settings


def _live_rca(settings, service, all_services, namespace, at, window, baseline, max_concurrency, output):
    from triage.analysis.rca import rank_fleet
    from triage.catalog import load_catalog
    from triage.cli import clients, console
    from triage.cli.common import windows_from
    from triage.pipeline import resolve_target, run_rca
    from triage.playbooks import rca_documents

    catalog = load_catalog(settings.queries_dirs)
    windows = windows_from(settings, at, window, baseline, fleet=all_services)
    source = clients.prometheus(settings, max_concurrency)
    with console.progress(output is options.Output.table) as progress:
        target = resolve_target(settings, source, catalog, windows, service=service, all_services=all_services,
                                namespace=namespace)
        results, _ = run_rca(settings, catalog, source, windows, target,
                             alert_sources=clients.alert_sources(settings, source), progress=progress)
    if target.fleet:
        doc = {"schema": "triage.fleet/v1", "window": windows.window.to_json(),
               "ranking": rank_fleet(results, settings.services),
               "services": {r.service.name: r.to_json() for r in results}}
    else:
        doc = results[0].to_json()
    return rca_documents(doc), target, windows


def _live_health(settings, target, windows, *, no_kubernetes, no_docker, urls, context, timeout):
    """The health phase as `triage run` runs it, when this build has it."""
    try:
        from triage.cli.health import collect_health  # type: ignore[attr-defined]
    except ImportError:
        return None
    if no_kubernetes and no_docker and not urls and not any(s.health_urls for s in target.services):
        return None
    report = collect_health(settings, list(target.services), window_seconds=windows.window.seconds,
                            no_kubernetes=no_kubernetes, no_docker=no_docker, urls=urls, context=context,
                            timeout=timeout)
    return report.to_json()


class _NoAnswer(Exception):
    """End of input at a prompt (Ctrl-D on a terminal)."""


class _Stopped(Exception):
    """--apply stopped at a prompt (Ctrl-C, end of input) or mid-action (Ctrl-C): the outcomes so far."""

    def __init__(self, records: list[dict[str, Any]], message: str) -> None:
        super().__init__(message)
        self.records = records
        self.message = message


def apply_safe_steps(plan: "Plan", *, yes: bool, context: str | None, timeout: float,
                     runner: Any = None) -> list[dict[str, Any]]:
    """Each safe step once, confirmed one by one (or all with --yes); every outcome is recorded.

    Ctrl-C or end of input raises `_Stopped` with the outcomes so far, so an action already taken
    still reaches the record; a step interrupted mid-request is recorded as such (it may have happened).
    """
    import json

    from triage.sources.actions import ActionRunner, describe

    steps = plan.safe_steps
    if not steps:
        _say("--apply: no step marked safe applies to this incident; nothing was changed")
        return []
    own = runner is None
    runner = runner or ActionRunner(context=context, timeout=timeout)
    records: list[dict[str, Any]] = []
    done: set[str] = set()
    current = None
    in_flight = False
    try:
        for p in steps:
            key = json.dumps(p.action, sort_keys=True)
            if key in done:
                continue
            done.add(key)
            current = p
            what, target = describe(p.action)
            full = _full_target(runner, p.action, target)
            answer = True if yes else _confirm(f"apply step {p.step.full_id}: {what} of {full}?")
            if answer:
                _say(f"applying {p.step.full_id}: {what} of {full}")
                in_flight = True
                record = runner.perform(p.action)
                in_flight = False
            else:
                result = "declined" if answer is False else "declined: no y or n after 3 answers"
                record = {"action": p.action.get("kind"), "what": what, "target": target,
                          **_target_ref(runner, p.action), "before": None, "after": None, "result": result,
                          "time": _now()}
            record.update({"step": p.step.full_id, "phase": "mitigate", "service": p.service, "by": "triage --apply"})
            _say(f"{record['what']} of {record['target']}: {record['result']}")
            records.append(record)
    except _NoAnswer:
        raise _Stopped(records, f"no answer (end of input) at step {current.step.full_id}: stopped; "
                                "it and the steps after it were not applied") from None
    except KeyboardInterrupt:
        if in_flight and current is not None:
            what, target = describe(current.action)
            records.append({"action": current.action.get("kind"), "what": what, "target": target,
                            **_target_ref(runner, current.action), "before": None,
                            "after": None, "result": "interrupted: the request may have reached the target; check it",
                            "time": _now(), "step": current.step.full_id, "phase": "mitigate",
                            "service": current.service, "by": "triage --apply"})
            raise _Stopped(records, f"interrupted while applying {current.step.full_id} ({what} of {target}): "
                                    "it may have happened; check it") from None
        where = f" at step {current.step.full_id}" if current is not None else ""
        raise _Stopped(records, f"interrupted{where}: it and the steps after it were not applied") from None
    finally:
        if own:
            runner.close()
    return records


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
    from triage.report import strip_control

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
        _say(f"answer y or n, not {strip_control(answer)[:20]!r}")
    return None


def _now() -> str:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---- rendering --------------------------------------------------------------------------------


def render_table(plan: "Plan") -> None:
    from rich.text import Text

    from triage.cli import console
    from triage.playbooks import num_text
    from triage.render.plan import describe_action
    from triage.report import strip_control as clean

    out = console.out()
    style = {"ok": "green", "warning": "yellow", "critical": "bold red", "unknown": "magenta"}
    for s in plan.services:
        head = Text()
        head.append(f"{clean(s.get('service'))} ({clean(s.get('namespace'))}): ", style="bold")
        head.append(str(s.get("bottleneck")), style="bold red" if s.get("bottleneck") not in ("none", "unknown")
                    else "magenta")
        head.append(f"  confidence {s.get('confidence')}  trigger {s.get('trigger')}  "
                    f"severity {s.get('severity') or '-'}")
        out.print(head)
    for ph, title in (("mitigations", "MITIGATIONS"), ("fixes", "PERMANENT FIXES")):
        if plan.phase not in ("both", "mitigate" if ph == "mitigations" else "fix"):
            continue
        proposed = [p for p in plan.of(ph) if p.status == "proposed"]
        out.print(Text(f"\n{title} ({len(proposed)})", style="bold"))
        if not proposed:
            out.print(Text("  nothing in the playbooks applies to what was found", style="dim"))
        for i, p in enumerate(proposed, 1):
            line = Text(f"\n{i:>2}. ", style="bold")
            line.append(clean(p.title), style="bold")
            if p.target and p.target.get("kind") != "service":
                line.append(f"  [{clean(p.target.get('kind'))} {clean(p.target.get('name'))}]", style="cyan")
            if p.action:
                line.append("  [safe]", style="green")
            out.print(line)
            out.print(Text(f"    {p.step.full_id} · seed {clean(p.step.seed)}", style="dim"))
            if p.description:
                out.print(Text(f"    {clean(p.description)}"))
            out.print(Text(f"    when {p.step.when_text}  →  {clean(p.why)}", style="dim"))
            for ev in p.evidence:
                out.print(Text(f"    evidence  {clean(ev['text'])}"))
            for f in p.findings[1:]:
                out.print(Text(f"    also      {clean(f.get('kind'))} {clean(f.get('name'))}: "
                               f"{clean(f.get('reason'))}"))
            for n in p.numbers:
                result = num_text(n["value"]) if n["value"] is not None else f"n/a ({clean(n.get('missing', ''))})"
                out.print(Text(f"    number    {n['name']} = {n['formula']} = {n['with']} = {result}", style="cyan"))
            out.print(Text(f"    risk      {clean(p.risk)}", style="yellow"))
            if p.step.phase == "fixes":
                prio = f"  priority {p.step.priority}" if p.step.priority else ""
                out.print(Text(f"    effort    {clean(p.step.effort)}  ·  timeline {clean(p.step.timeline)}{prio}"))
                out.print(Text(f"    success   {clean(p.success_metric)}", style="green"))
            if p.action:
                out.print(Text(f"    --apply   {describe_action(p.action)}", style="green"))
            for cmd in p.commands:
                for k, cl in enumerate(clean(cmd).split("\n")):
                    out.print(Text(("    $ " if k == 0 else "      ") + cl))
            if p.verify:
                out.print(Text(f"    $ {clean(p.verify)}", style="dim"))
        skipped = [p for p in plan.of(ph) if p.status == "skipped"]
        if skipped:
            out.print(Text(f"\nskipped ({len(skipped)})", style="magenta"))
            for p in skipped:
                out.print(Text(f"  - {clean(p.title)} ({p.step.full_id}): {clean(p.why)}", style="magenta"))
    for note in plan.notes:
        out.print(Text(f"note: {clean(note)}", style="dim"))
    out.print(Text(f"status: {plan.status.value.upper()}", style=style.get(plan.status.value, "")))


def render_actions(actions: Sequence[dict[str, Any]]) -> None:
    if not actions:
        return
    from rich.text import Text

    from triage.cli import console
    from triage.report import strip_control as clean

    out = console.out()
    out.print(Text("\nACTIONS", style="bold"))
    for a in actions:
        ok = str(a.get("result", "")).startswith("ok")
        out.print(Text(f"  {clean(a.get('time'))}  {clean(a.get('what'))} of {clean(a.get('target'))}: "
                       f"{clean(a.get('result'))}  (before {a.get('before')}, after {a.get('after')})",
                       style="green" if ok else "yellow"))


# ---- triage playbooks ... ---------------------------------------------------------------------


@app.command("list")
def list_(
    output: options.Output = options.OutputOpt,
    config: options.OptStr = options.Config,
) -> None:
    """Every playbook (yours first, then the built-ins), with what it covers."""
    from triage.cli.common import print_json
    from triage.config import load_settings
    from triage.playbooks import load_library
    from triage.report import md

    library = load_library(load_settings(config=config).playbooks_dirs)
    books = list(library.playbooks.values())
    if output is options.Output.json:
        print_json({"schema": "triage.playbooks/v1", "playbooks": [
            {"name": p.name, "title": p.title, "file": str(p.path), "bundled": p.bundled, "covers": p.covers(),
             "mitigations": len(p.mitigations), "fixes": len(p.fixes)} for p in books]})
        return
    if output is options.Output.markdown:
        lines = ["| playbook | title | covers | mitigations | fixes | file |", "|---|---|---|---|---|---|"]
        for p in books:
            lines.append(f"| {md(p.name)} | {md(p.title)} | {md(_covers(p))} | {len(p.mitigations)} | "
                         f"{len(p.fixes)} | {md(p.path)} |")
        sys.stdout.write("\n".join(lines) + "\n")
        return
    from rich.table import Table

    from triage.cli import console
    from triage.report import strip_control as clean

    table = Table(box=None, header_style="bold", pad_edge=False)
    for col in ("playbook", "covers", "mitigations", "fixes", "origin"):
        table.add_column(col, overflow="fold", no_wrap=col == "playbook")
    for p in books:
        table.add_row(clean(p.name), clean(_covers(p)), str(len(p.mitigations)), str(len(p.fixes)),
                      "built-in" if p.bundled else clean(p.path))
    console.out().print(table)


def _covers(p: Any) -> str:
    c = p.covers()
    parts = c["bottlenecks"] + c["reasons"]
    if c["signals"]:
        parts.append("signals: " + ", ".join(c["signals"]))
    return ", ".join(parts)


@app.command("show")
def show(
    name: str = typer.Argument(..., metavar="NAME", help="The playbook's name (its file name without .yaml)."),
    output: options.Output = options.OutputOpt,
    config: options.OptStr = options.Config,
) -> None:
    """One playbook as written: its steps, conditions, commands (unrendered) and risks."""
    from triage.cli.common import print_json
    from triage.config import load_settings
    from triage.playbooks import load_library

    book = load_library(load_settings(config=config).playbooks_dirs).get(name)
    if output is options.Output.json:
        print_json({"schema": "triage.playbook/v1", **book.to_json()})
        return
    if output is options.Output.markdown:
        sys.stdout.write(_show_markdown(book))
        return
    from rich.text import Text

    from triage.cli import console
    from triage.report import strip_control as clean

    out = console.out()
    out.print(Text(f"{clean(book.name)}: {clean(book.title)}", style="bold"))
    out.print(Text(f"{clean(book.path)}", style="dim"))
    if book.description:
        out.print(Text(clean(book.description)))
    for phase, steps in (("MITIGATIONS", book.mitigations), ("PERMANENT FIXES", book.fixes)):
        if not steps:
            continue
        out.print(Text(f"\n{phase}", style="bold"))
        for s in steps:
            out.print(Text(f"\n  {s.id}: {clean(s.title)}" + ("  [safe]" if s.safe else ""), style="bold"))
            out.print(Text(f"    seed      {clean(s.seed)}", style="dim"))
            out.print(Text(f"    when      {clean(s.when_text)}"))
            for name_, text, _ in s.compute:
                out.print(Text(f"    compute   {name_} = {clean(text)}", style="cyan"))
            if s.evidence:
                out.print(Text(f"    evidence  {', '.join(s.evidence)}"))
            out.print(Text(f"    risk      {clean(s.risk)}", style="yellow"))
            if s.phase == "fixes":
                out.print(Text(f"    effort    {clean(s.effort)} · timeline {clean(s.timeline)}"
                               + (f" · priority {s.priority}" if s.priority else "")))
                out.print(Text(f"    success   {clean(s.success_metric)}", style="green"))
            if s.action:
                out.print(Text(f"    action    {s.action}", style="green"))
            for cmd in s.commands:
                for k, cl in enumerate(clean(cmd).split("\n")):
                    out.print(Text(("    $ " if k == 0 else "      ") + cl))


def _show_markdown(book: Any) -> str:
    from triage.report import md, md_code

    lines = [f"# {md(book.name)}: {md(book.title)}", "", md(book.description), ""]
    for phase, steps in (("Mitigations", book.mitigations), ("Permanent fixes", book.fixes)):
        if not steps:
            continue
        lines += [f"## {phase}", ""]
        for s in steps:
            lines += [f"### {md(s.id)}: {md(s.title)}", "", f"- seed: {md(s.seed)}", f"- when: {md_code(s.when_text)}"]
            lines += [f"- compute: {md_code(n + ' = ' + t)}" for n, t, _ in s.compute]
            lines.append(f"- risk: {md(s.risk)}")
            if s.phase == "fixes":
                lines += [f"- effort: {md(s.effort)}; timeline: {md(s.timeline)}",
                          f"- success metric: {md_code(s.success_metric)}"]
            if s.safe:
                lines.append(f"- safe: {md(s.action)}")
            body = "\n".join(s.commands)
            lines += ["", "````sh", body, "````", ""]
    return "\n".join(lines).rstrip() + "\n"


@app.command("validate")
def validate(
    paths: Optional[List[str]] = typer.Argument(None, metavar="[PATH]...",
                                                help="Files or directories (default: your playbooks_dir and the "
                                                     "built-ins)."),
    output: options.Output = options.OutputOpt,
    config: options.OptStr = options.Config,
) -> None:
    """Check playbooks: schema, conditions, placeholders, actions; exit 0 when all are valid, 3 otherwise."""
    from triage.catalog import search_dirs
    from triage.cli.common import print_json
    from triage.config import load_settings
    from triage.playbooks import coverage, load_library, validate_paths

    if paths:
        targets = [Path(p) for p in paths]
    else:
        settings = load_settings(config=config)
        targets = [d for d in search_dirs("playbooks", settings.playbooks_dirs) if d.is_dir()
                   or d in settings.playbooks_dirs]
    good, errors = validate_paths(targets)
    uncovered: list[str] = []
    if not paths and not errors:
        for name, phases in coverage(load_library(settings.playbooks_dirs)).items():
            missing = [ph for ph, titles in phases.items() if not titles]
            if missing:
                uncovered.append(f"{name}: no {' and no '.join(missing)}")
    steps = sum(len(p.steps) for p in good)
    if output is options.Output.json:
        print_json({"schema": "triage.playbooks-validate/v1", "valid": not errors,
                    "files": [{"file": str(p.path), "name": p.name, "mitigations": len(p.mitigations),
                               "fixes": len(p.fixes)} for p in good],
                    "errors": errors, "uncovered": uncovered})
    else:
        from triage.report import strip_control as clean

        prefix = "- " if output is options.Output.markdown else ""
        for p in good:
            sys.stdout.write(f"{prefix}ok {clean(p.path)} ({len(p.mitigations)} mitigations, {len(p.fixes)} fixes)\n")
        for e in errors:
            sys.stdout.write(f"{prefix}FAILED {clean(e)}\n")
        for u in uncovered:
            sys.stdout.write(f"{prefix}warning: {clean(u)}\n")
        sys.stdout.write(f"{len(good)} valid, {len(errors)} invalid ({steps} steps)\n")
    raise typer.Exit(3 if errors or not (good or errors) else 0)
