"""Telling people: a Slack incoming webhook (Block Kit, mrkdwn), a generic JSON webhook (the
`triage.rca/v1` document and the incident id) and a directory. Each delivery runs on its own
small pool with a timeout and retries, after the record is on disk: a sink that fails or hangs
delays nobody's run and loses nothing (its status is saved, a restart sends what is pending)."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from triage.secrets import redact
from triage.serve.incidents import Incident, Store
from triage.serve.metrics import Metrics
from triage.serve.settings import SinkSettings
from triage.serve.spool import read_json, write_json
from triage.serve.work import verdict
from triage.sources.webhook import post_json

SINK_THREADS = 4


def slack_escape(text: Any) -> str:
    """Slack's mrkdwn has three control characters; a label value must not open a link or mention."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _where(inc: Incident, public_url: str | None) -> str:
    return f"{public_url}/incidents/{inc.id}" if public_url else (inc.record or "")


def _first(inc: Incident, key: str) -> str:
    return next((str(a[key]) for a in inc.alerts if a.get(key)), "")


def slack_message(inc: Incident, record: Mapping[str, Any], event: str, public_url: str | None) -> dict[str, Any]:
    facts = verdict(record)
    where = _where(inc, public_url)
    severity = facts.get("severity") or "no severity"
    where_ns = f" ({slack_escape(inc.namespace)})" if inc.namespace else ""
    if event == "resolved":
        head = f"Resolved: *{slack_escape(inc.service)}*{where_ns} · {slack_escape(inc.id)}"
        text = f"resolved: {inc.service}: {facts.get('bottleneck') or 'unknown'}"
    else:
        confidence = facts.get("confidence")
        shown = f" ({confidence:.2f})" if isinstance(confidence, (int, float)) else ""
        head = (f"*{slack_escape(severity)}* · *{slack_escape(inc.service)}*{where_ns} · "
                f"`{slack_escape(facts.get('bottleneck') or 'unknown')}`{shown}")
        text = f"[{severity}] {inc.service}: {facts.get('bottleneck') or 'unknown'}{shown}"
    sentence = slack_escape(facts.get("summary") or "no verdict")
    blocks: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": f"{head}\n{sentence}"}}]
    lines = [f"• `{slack_escape(ev.get('signal'))}`: {slack_escape(ev.get('summary') or '')}"
             for ev in facts["evidence"]]
    if lines and event != "resolved":
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "*Top evidence*\n" + "\n".join(lines)}})
    context = [f"alert: {slack_escape(_first(inc, 'alertname') or inc.group_key)}"]
    if _first(inc, "summary"):
        context.append(slack_escape(_first(inc, "summary")))
    runbook = _first(inc, "runbook_url")
    if runbook.startswith(("http://", "https://")):
        context.append(f"<{slack_escape(runbook)}|runbook>")
    if where:
        context.append(f"record: {slack_escape(where)}")
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": " · ".join(context)}]})
    return {"text": f"{text} — {facts.get('summary') or ''}".strip(" —"), "blocks": blocks}


def json_message(inc: Incident, record: Mapping[str, Any], event: str, public_url: str | None) -> dict[str, Any]:
    return {"schema": "triage.serve.event/v1", "event": event, "incident": inc.id, "service": inc.service,
            "namespace": inc.namespace, "status": inc.status, "resolved": inc.summary()["resolved"],
            "record": _where(inc, public_url), "rca": record.get("rca"), "notification": inc.notification_json()}


def say(line: str) -> None:
    sys.stderr.write(f"triage: serve: {redact(line)}\n")
    sys.stderr.flush()


class Notifier:
    """Delivers `triaged` and `resolved` events to every sink; statuses saved on the incident."""

    def __init__(self, sinks: tuple[SinkSettings, ...], store: Store, metrics: Metrics, *,
                 public_url: str | None, stop: threading.Event) -> None:
        self.sinks = sinks
        self.store = store
        self.metrics = metrics
        self.public_url = public_url
        self.stop = stop
        self._pool = ThreadPoolExecutor(max_workers=SINK_THREADS, thread_name_prefix="triage-sink")

    def announce(self, inc: Incident, event: str) -> None:
        """Mark the event pending on every sink (saved by the caller), then send it."""
        for sink in self.sinks:
            inc.sinks[f"{sink.name}:{event}"] = "pending"

    def send_pending(self, inc: Incident) -> None:
        for key, state in list(inc.sinks.items()):
            name, _, event = key.partition(":")
            sink = next((s for s in self.sinks if s.name == name), None)
            if state == "pending" and sink is not None:
                self._pool.submit(self._deliver, sink, inc, event)

    def resume(self) -> None:
        for inc in self.store.pending_sinks():
            self.send_pending(inc)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _deliver(self, sink: SinkSettings, inc: Incident, event: str) -> None:
        try:
            record = read_json(Path(inc.record)) if inc.record else {}
            outcome = self._send(sink, inc, record, event)
        except Exception as exc:  # noqa: BLE001 - a sink must never take the receiver down
            outcome = f"failed: {type(exc).__name__}: {exc}"
        if outcome != "sent" and self.stop.is_set():
            return  # draining: it stays pending on disk, and the next start sends it
        result = "sent" if outcome == "sent" else "failed"
        self.metrics.inc("triage_serve_sink_deliveries_total", sink=sink.name, result=result)
        if outcome != "sent":
            say(f"sink {sink.name}: {event} of {inc.id} not delivered: {outcome}")
        with self.store.cond:
            inc.sinks[f"{sink.name}:{event}"] = redact(outcome)
            self.store.save(inc)

    def _send(self, sink: SinkSettings, inc: Incident, record: Mapping[str, Any], event: str) -> str:
        build: Callable[..., dict[str, Any]] = slack_message if sink.kind == "slack" else json_message
        payload = build(inc, record, event, self.public_url)
        if sink.kind == "directory":
            assert sink.path is not None
            sink.path.mkdir(parents=True, exist_ok=True)
            write_json(sink.path / f"{inc.id}.{event}.json", payload)
            return "sent"
        assert sink.url is not None
        delivery = post_json(sink.url, payload, timeout=sink.timeout, retries=sink.retries, stop=self.stop)
        return "sent" if delivery.ok else f"failed after {delivery.attempts} attempt(s): {delivery.reason}"
