"""A notification whose incident cannot be saved (a full disk) stays spooled and is applied again
once the disk takes writes: the receiver keeps applying, one incident, nothing lost."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import triage.serve.workers as workers_mod
from testing.serve import alert, notification
from triage.serve.alerts import parse
from triage.serve.settings import ServeSettings
from triage.serve.workers import Engine


def test_a_failed_save_is_retried_and_the_dispatcher_keeps_going(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(workers_mod, "SAVE_RETRY", 0.05)
    cfg = ServeSettings(host="127.0.0.1", port=0, token=None, settle=3600.0, spool_dir=tmp_path / "spool",
                        records_dir=tmp_path / "incidents")
    w = Engine(cfg, deps=None)  # type: ignore[arg-type]  # the dispatcher never runs triage
    real_save, fails = w.store.save, {"left": 2}

    def flaky(inc):
        if fails["left"]:
            fails["left"] -= 1
            raise OSError(28, "No space left on device")
        real_save(inc)
    monkeypatch.setattr(w.store, "save", flaky)
    first = parse(json.dumps(notification([alert("HighLatency", "checkout", time.time() - 30)],
                                          group_key="g1")).encode())
    w.spool.put({"received": time.time(), "notification": first.to_json()})
    thread = threading.Thread(target=w._dispatch, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while (fails["left"] or w.spool.depth) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert fails["left"] == 0 and w.spool.depth == 0, "the spooled notification was never applied"
        second = parse(json.dumps(notification([alert("ErrorsHigh", "payment", time.time() - 30)],
                                               group_key="g2")).encode())
        w.spool.put({"received": time.time(), "notification": second.to_json()})
        w._wake.set()
        while w.spool.depth and time.monotonic() < deadline:
            time.sleep(0.02)
        assert w.spool.depth == 0, "the dispatcher stopped after the failed save"
        services = sorted(i["service"] for i in w.store.listing())
        assert services == ["checkout", "payment"], services
        assert thread.is_alive()
    finally:
        w.stop.set()
        w._wake.set()
        thread.join(5)
