"""A real Alertmanager process, and alerts posted to it the way Prometheus would."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

import yaml

from testing.backends.process import ALERTMANAGER_BIN, Backend, BackendError, PathLike, _session, _subdir, start

_AM_CONFIG = {
    "route": {"receiver": "null", "group_by": ["alertname", "service"],
              "group_wait": "1s", "group_interval": "1s", "repeat_interval": "1h"},
    "receivers": [{"name": "null"}],
}


def alertmanager(workdir: PathLike, *, ready_timeout: float = 30.0,
                 extra_args: Sequence[str] = (), config_doc: Mapping[str, Any] | None = None) -> Backend:
    """Alertmanager with a null receiver (or `config_doc`), its own storage, clustering off."""
    wd = _subdir(workdir, "alertmanager")
    config = wd / "alertmanager.yml"
    config.write_text(yaml.safe_dump(dict(config_doc) if config_doc else _AM_CONFIG))
    storage = wd / "data"
    storage.mkdir()

    def argv_for(port: int) -> list[str]:
        return [ALERTMANAGER_BIN, f"--config.file={config}", f"--storage.path={storage}",
                f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address=",
                f"--web.external-url=http://127.0.0.1:{port}/", *extra_args]

    return start("alertmanager", argv_for, wd, "/-/ready", ready_timeout)


def _rfc3339(t: float | datetime) -> str:
    if isinstance(t, (int, float)):
        t = datetime.fromtimestamp(t, timezone.utc)
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def post_alerts(url: str, alerts: Sequence[Mapping[str, Any]], timeout: float = 10.0) -> list[dict]:
    """POST alerts to Alertmanager's ``/api/v2/alerts`` and wait until GET returns them.

    Each alert is ``{"labels": {...}, "annotations": {...}, "startsAt": ..., "endsAt": ...}``
    (times as RFC 3339 strings, unix seconds or datetimes; ``startsAt`` defaults to now,
    ``endsAt`` to an hour from now so the alert stays active).  Returns the GET answer.
    """
    now = time.time()
    body = []
    for a in alerts:
        item: dict[str, Any] = {"labels": dict(a["labels"])}
        if a.get("annotations"):
            item["annotations"] = dict(a["annotations"])
        for key, default in (("startsAt", now), ("endsAt", now + 3600)):
            v = a.get(key, default)
            item[key] = v if isinstance(v, str) else _rfc3339(v)
        if a.get("generatorURL"):
            item["generatorURL"] = a["generatorURL"]
        body.append(item)
    url = url.rstrip("/")
    with _session() as http:
        r = http.post(url + "/api/v2/alerts", data=json.dumps(body),
                      headers={"Content-Type": "application/json"}, timeout=10)
        if r.status_code != 200:
            raise BackendError(f"alertmanager rejected the alerts: HTTP {r.status_code}: {r.text[:500]}")
        deadline = time.monotonic() + timeout
        got: list[dict] = []
        while time.monotonic() < deadline:
            got = http.get(url + "/api/v2/alerts", timeout=10).json()
            seen = [g.get("labels", {}) for g in got]
            if all(any(all(s.get(k) == v for k, v in item["labels"].items()) for s in seen)
                   for item in body):
                return got
            time.sleep(0.1)
    raise BackendError(f"posted alerts did not show in GET /api/v2/alerts within {timeout}s: {got}")
