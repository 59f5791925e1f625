"""The engine behind the receiver: one dispatcher applies spooled notifications to incidents in
arrival order; a bounded pool of workers runs the due incidents (one run per incident, however
many notifications it had). SIGTERM stops taking work, lets in-flight runs finish within the
drain time, and leaves the rest on disk for the next start."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from triage.errors import SourceError, TriageError
from triage.files import write_files
from triage.incident import record_text
from triage.postmortem import find_template, render
from triage.serve.alerts import Notification
from triage.serve.incidents import Incident, Store
from triage.serve.metrics import Metrics
from triage.serve.settings import ServeSettings
from triage.serve.sinks import Notifier, say
from triage.serve.spool import Spool, read_json
from triage.serve.work import Deps, RunRequest, failed_record, run_incident, verdict

MAX_BACKOFF = 30.0
SAVE_RETRY = 5.0        # seconds before a notification whose incident could not be saved is applied again


class Engine:
    def __init__(self, cfg: ServeSettings, deps: Deps, *, metrics: Metrics | None = None) -> None:
        self.cfg = cfg
        self.deps = deps
        self.metrics = metrics or Metrics()
        cfg.spool_dir.mkdir(parents=True, exist_ok=True)
        self.spool = Spool(cfg.spool_dir)
        self.store = Store(cfg.spool_dir, settle=cfg.settle, labels=cfg.service_labels)
        self.stop = threading.Event()
        self.notifier = Notifier(cfg.sinks, self.store, self.metrics, public_url=cfg.public_url, stop=self.stop)
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []
        self.metrics.gauge("triage_serve_spool_depth", lambda: {(): float(self.spool.depth)})
        self.metrics.gauge("triage_serve_incidents",
                           lambda: {(("state", k),): float(v) for k, v in self.store.counts().items()})

    @property
    def ready(self) -> bool:
        return bool(self._threads) and not self.stop.is_set()

    def accept(self, notification: Notification) -> None:
        """On disk before the caller answers 200 (raises SpoolFull when too much waits)."""
        self.spool.put({"received": time.time(), "notification": notification.to_json()})
        self._wake.set()

    def start(self) -> None:
        self._threads.append(threading.Thread(target=self._dispatch, name="triage-dispatch", daemon=True))
        for n in range(self.cfg.workers):
            self._threads.append(threading.Thread(target=self._work, name=f"triage-worker-{n}", daemon=True))
        for thread in self._threads:
            thread.start()
        self.notifier.resume()

    def shutdown(self) -> None:
        """Drain: no new work; in-flight runs get `drain` seconds to finish and write their record."""
        self.stop.set()
        self._wake.set()
        with self.store.cond:
            self.store.cond.notify_all()
        deadline = time.monotonic() + self.cfg.drain
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        left = [t.name for t in self._threads if t.is_alive()]
        if left:
            say(f"drain time ({self.cfg.drain:g}s) over with {len(left)} run(s) unfinished; they run again at the "
                "next start")
        self.notifier.close()

    def _dispatch(self) -> None:
        while not self.stop.is_set():
            self._wake.clear()
            for path, entry in self.spool.entries():
                if self.stop.is_set():
                    return
                try:
                    self._apply(entry)
                except OSError as exc:
                    # A full or read-only disk: the notification stays spooled and is applied again
                    # (a repeat joins its incident, never a second one) once the disk takes writes.
                    self.metrics.inc("triage_serve_notifications_total", result="save_failed")
                    say(f"cannot save an incident ({exc.strerror or exc}); retrying in {SAVE_RETRY:g}s")
                    self._wake.wait(SAVE_RETRY)
                    break
                self.spool.done(path)
            self._wake.wait(1.0)

    def _apply(self, entry: Any) -> None:
        try:
            notification = Notification.from_json(entry["notification"])
            received = float(entry["received"])
        except (KeyError, TypeError, ValueError):
            self.metrics.inc("triage_serve_notifications_total", result="damaged")
            return
        event, inc = self.store.apply(notification, received)
        self.metrics.inc("triage_serve_incidents_total", event=event)
        if inc is not None and event in ("opened", "resolved"):
            say(f"incident {inc.id} {event} (service {inc.service}, {inc.alert_count} alert(s))")

    def _work(self) -> None:
        store = self.store
        while not self.stop.is_set():
            with store.cond:
                task = store.take(time.time())
                if task is None:
                    due = store.next_due()
                    store.cond.wait(1.0 if due is None else min(1.0, max(0.05, due - time.time())))
                    continue
            kind, inc = task
            try:
                self._run(inc) if kind == "run" else self._rerender(inc)
            finally:
                store.release(inc)
            self.notifier.send_pending(inc)

    def _record_path(self, inc: Incident) -> Path:
        return self.cfg.records_dir / inc.id / "incident.json"

    def _run(self, inc: Incident) -> None:
        started = time.time()
        path = self._record_path(inc)
        if path.exists():
            # Written by a process that stopped before it could say so: not run a second time.
            self._finish(inc, read_json(path), path, write=False)
            return
        record = self._attempts(inc, started)
        if record is None:
            with self.store.cond:
                inc.run = "pending"
            return
        self._finish(inc, record, path, write=True)
        self.metrics.observe("triage_serve_run_seconds", time.time() - started)
        self.metrics.inc("triage_serve_runs_total", result=inc.run)
        say(f"incident {inc.id}: {inc.run}: {inc.result.get('summary') or inc.reason or ''}")

    def _attempts(self, inc: Incident, started: float) -> dict[str, Any] | None:
        """The run, retried with backoff while the backend cannot be asked, up to `retry_for`;
        then a record saying which phase failed and why. None when draining stopped it."""
        request = RunRequest(inc.service, inc.namespace, inc.window_end, self.cfg.window, self.cfg.baseline)
        delay = 1.0
        while True:
            try:
                return run_incident(self.deps, request)
            except SourceError as exc:
                if self.stop.is_set():
                    return None
                if time.time() + delay > started + self.cfg.retry_for:
                    return failed_record(self.deps, request, f"{exc.message} (retried for "
                                         f"{time.time() - started:.0f}s)", started)
                self.metrics.inc("triage_serve_run_retries_total")
                say(f"incident {inc.id}: {exc.message}; retrying in {delay:g}s")
                if self.stop.wait(delay):
                    return None
                delay = min(delay * 2, MAX_BACKOFF)
            except TriageError as exc:
                return failed_record(self.deps, request, exc.message, started)
            except Exception as exc:  # noqa: BLE001 - one incident's crash must not end the receiver
                return failed_record(self.deps, request, f"internal error: {type(exc).__name__}: {exc}", started)

    def _write(self, inc: Incident, record: dict[str, Any], path: Path) -> float | None:
        with self.store.cond:
            record["id"] = inc.id
            record["notification"] = inc.notification_json()
            resolved = inc.resolved_at
        text = render(record, find_template("postmortem", self.deps.settings.templates_dirs))
        write_files([(path, record_text(record, path)), (path.parent / "postmortem.md", text)], force=True)
        return resolved

    def _finish(self, inc: Incident, record: dict[str, Any], path: Path, *, write: bool) -> None:
        resolved = None  # a record found on disk may predate the resolution: re-render it then
        try:
            if write:
                resolved = self._write(inc, record, path)
        except TriageError as exc:
            with self.store.cond:
                inc.run, inc.reason = "failed", exc.message
            return
        facts = verdict(record)
        failed = [f"{n}: {p.get('reason')}" for n, p in (record.get("phases") or {}).items()
                  if p.get("status") == "failed"]
        with self.store.cond:
            inc.record = str(path)
            inc.result = {k: facts[k] for k in ("bottleneck", "confidence", "severity", "summary")}
            inc.run = "failed" if failed else "done"
            inc.reason = failed[0] if failed else None
            if inc.resolved_at == resolved:
                inc.rerender = False
            self.notifier.announce(inc, "triaged")

    def _rerender(self, inc: Incident) -> None:
        """`resolved` after the run: the record gets the resolution, the draft is rendered again."""
        if not inc.record:
            with self.store.cond:
                inc.rerender = False
            return
        path = Path(inc.record)
        try:
            self._write(inc, read_json(path), path)
        except (OSError, ValueError, TriageError) as exc:
            say(f"incident {inc.id}: cannot re-render the draft: {exc}")
        with self.store.cond:
            inc.rerender = False
            self.notifier.announce(inc, "resolved")
