"""The Docker Engine through the docker SDK (`DOCKER_HOST`, `DOCKER_TLS_VERIFY`, `DOCKER_CERT_PATH`,
as `docker.from_env()` reads them): one list call, then inspect and one-shot stats per
container concurrently with a bound, and logs of the failing ones. Only `DockerContainer`
and `LogText` values leave this module; every failure of the daemon is a `SourceError`."""

from __future__ import annotations

import json
import os
import re
import struct
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Any

from triage.errors import SourceError
from triage.models.health import (
    DockerContainer,
    DockerStats,
    HealthProbe,
    LogRequest,
    LogText,
)
from triage.secrets import redact
from triage.sources.bounded import AnswerTooLarge, AnswerTooSlow, mib, read_bounded
from triage.sources.http import network_reason

DEFAULT_TIMEOUT = 10.0
LOG_LINES = 100
# Caps on one answer, decoded (a gzip bomb is small on the wire): the list of a busy host is a
# few MB, one inspect some kB, a stats sample a few kB, 100 log lines rarely more than 100 kB.
LIST_ANSWER_BYTES = 32 << 20
INSPECT_ANSWER_BYTES = 8 << 20
STATS_ANSWER_BYTES = 1 << 20
LOG_ANSWER_BYTES = 1 << 20
ERROR_ANSWER_BYTES = 64 * 1024
MAX_STATS_CONCURRENCY = 64
_UNLIMITED = 1 << 60


def _time(raw: Any) -> float | None:
    """Docker's RFC 3339 with nanoseconds; the zero time (`0001-01-01…`) is None."""
    if not raw or not isinstance(raw, str) or raw.startswith("0001-"):
        return None
    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)?", raw)
    if not m:
        return None
    frac = (m.group(2) or ".0")[:7]
    zone = m.group(3) or "Z"
    try:
        moment = datetime.fromisoformat(m.group(1) + frac + ("+00:00" if zone == "Z" else zone))
    except ValueError:
        return None
    return moment.astimezone(timezone.utc).timestamp()


class DockerSource:
    backend = "docker"

    def __init__(self, *, timeout: float = DEFAULT_TIMEOUT, max_concurrency: int = 8,
                 environment: Mapping[str, str] | None = None, run_budget: float | None = None) -> None:
        import docker  # the SDK is imported only when Docker is actually asked

        self._sdk = docker
        self.timeout = timeout
        self.max_concurrency = max(1, max_concurrency)
        self._env = dict(os.environ if environment is None else environment)
        self.host = self._env.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
        self._api: Any = None
        self._lock = threading.Lock()
        self.requests = 0
        self.run_budget = run_budget  # all of a run's requests end within it (none starts past it)
        self._run_ends: float | None = None

    def _count(self) -> None:
        with self._lock:
            self.requests += 1

    @property
    def name(self) -> str:
        return f"Docker at {redact(self.host)}"

    def close(self) -> None:
        if self._api is not None:
            self._api.close()

    def _client(self) -> Any:
        if self._api is None:
            from docker.constants import DEFAULT_DOCKER_API_VERSION
            from docker.utils import version_lt

            try:
                # A version given: the SDK would otherwise ask /version itself, reading the answer whole.
                client = self._sdk.from_env(timeout=self.timeout, environment=self._env,
                                            max_pool_size=MAX_STATS_CONCURRENCY, version=DEFAULT_DOCKER_API_VERSION)
            except self._sdk.errors.DockerException as exc:
                raise self._error(exc, "connect") from None
            api = client.api
            try:
                info = self._json(api, "/version", cap=STATS_ANSWER_BYTES, what="asking its version", versioned=False)
            except _TooLarge as exc:
                raise SourceError(exc.message, backend=self.backend) from None
            server = str((info or {}).get("ApiVersion") or "") if isinstance(info, dict) else ""
            if not re.fullmatch(r"\d+\.\d+", server):
                raise SourceError(f"{self.name}: asking its version: the answer has no ApiVersion",
                                  backend=self.backend)
            if version_lt(server, DEFAULT_DOCKER_API_VERSION):
                api._version = server  # what `version="auto"` negotiates: the older of the two
            self._api = api
        return self._api

    def _error(self, exc: BaseException, what: str) -> SourceError:
        api_error = getattr(self._sdk.errors, "APIError", ())
        if isinstance(exc, api_error):
            status = getattr(exc, "status_code", None)
            explanation = redact(str(getattr(exc, "explanation", "") or ""))[:200]
            return SourceError(f"{self.name}: {what} failed with HTTP {status}: {explanation}", backend=self.backend)
        reason = network_reason(exc)
        if reason == "socket not found":
            return SourceError(f"no Docker daemon at {redact(self.host)} (socket not found; start Docker or set "
                               "DOCKER_HOST)", backend=self.backend)
        if reason == "permission denied":
            return SourceError(f"permission denied on {redact(self.host)} (needs root or the docker group)",
                               backend=self.backend)
        if reason == "timed out":
            return SourceError(f"{self.name} did not answer within {self.timeout:g}s", backend=self.backend)
        return SourceError(f"{self.name} is unreachable: {reason}", backend=self.backend)

    def _fetch(self, api: Any, path: str, *args: str, params: Mapping[str, Any] | None = None, cap: int,
               what: str, versioned: bool = True) -> bytes | None:
        """One GET of the Engine API, the body read within `cap` decoded bytes and the deadline of
        one request; None for a 404 (the container went away). The SDK's own calls read and decode
        a body whole, so they are not used for anything that answers with a body."""
        now = time.monotonic()
        deadline = now + self.timeout
        if self.run_budget is not None:
            with self._lock:
                if self._run_ends is None:
                    self._run_ends = now + self.run_budget
            if now >= self._run_ends:
                raise SourceError(f"{self.name}: the checks' deadline of {self.run_budget:g}s (30 x --timeout) "
                                  f"passed before {what}", backend=self.backend)
            deadline = min(deadline, self._run_ends)
        try:
            response = api._get(api._url(path, *args, versioned_api=versioned), params=dict(params or {}),
                                stream=True)
        except Exception as exc:
            raise self._error(exc, what) from None
        self._count()
        done = False
        try:
            if response.status_code >= 400:
                body = read_bounded(response.raw, cap=ERROR_ANSWER_BYTES, deadline=deadline, truncate=True)
                done = True
                if response.status_code == 404:
                    return None
                try:
                    message = str(json.loads(body).get("message") or "")
                except (ValueError, AttributeError):
                    message = body.decode("utf-8", "replace")
                raise SourceError(f"{self.name}: {what} failed with HTTP {response.status_code}: "
                                  f"{redact(' '.join(message.split()))[:200]}", backend=self.backend)
            data = read_bounded(response.raw, cap=cap, deadline=deadline)
            done = True
            return data
        except AnswerTooLarge as exc:
            raise _TooLarge(f"{self.name}: {what}: the answer is larger than {mib(exc.cap)} (the cap on one "
                            "Docker answer); not read") from None
        except AnswerTooSlow:
            raise SourceError(f"{self.name} did not answer within {self.timeout:g}s ({what} was still coming)",
                              backend=self.backend) from None
        except SourceError:
            raise
        except Exception as exc:
            raise self._error(exc, what) from None
        finally:
            if not done:
                response.raw.close()
            response.close()

    def post(self, path: str, *args: str, params: Mapping[str, Any] | None = None, seconds: float,
             what: str) -> bool:
        """A POST that answers with no body (restart): False for a 404; an error's body read bounded."""
        api = self._client()
        try:
            response = api._post(api._url(path, *args), params=dict(params or {}), stream=True, timeout=seconds)
        except Exception as exc:
            raise self._error(exc, what) from None
        self._count()
        try:
            body = read_bounded(response.raw, cap=ERROR_ANSWER_BYTES, deadline=time.monotonic() + self.timeout,
                                truncate=True)
        except Exception:
            body = b""
        finally:
            response.raw.close()
            response.close()
        if response.status_code == 404:
            return False
        if response.status_code >= 400:
            try:
                message = str(json.loads(body).get("message") or "")
            except (ValueError, AttributeError):
                message = body.decode("utf-8", "replace")
            raise SourceError(f"{self.name}: {what} failed with HTTP {response.status_code}: "
                              f"{redact(' '.join(message.split()))[:200]}", backend=self.backend)
        return True

    def inspect(self, name: str) -> dict | None:
        """One container's inspect, bounded (None: no such container)."""
        api = self._client()
        try:
            info = self._json(api, "/containers/{0}/json", name, cap=INSPECT_ANSWER_BYTES,
                              what=f"inspecting container {name}")
        except _TooLarge as exc:
            raise SourceError(exc.message, backend=self.backend) from None
        return info if isinstance(info, dict) else None

    def _json(self, api: Any, path: str, *args: str, params: Mapping[str, Any] | None = None, cap: int,
              what: str, versioned: bool = True) -> Any:
        data = self._fetch(api, path, *args, params=params, cap=cap, what=what, versioned=versioned)
        if data is None:
            return None
        try:
            return json.loads(data)
        except ValueError:
            raise SourceError(f"{self.name}: {what}: the answer is not JSON", backend=self.backend) from None

    def _map(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
        if len(items) <= 1:
            return [fn(i) for i in items]
        with ThreadPoolExecutor(max_workers=min(self.max_concurrency, len(items))) as pool:
            return list(pool.map(fn, items))

    def containers(self, select: Callable[[str, Mapping[str, str]], bool] | None = None) -> list[DockerContainer]:
        api = self._client()
        try:
            listed = self._json(api, "/containers/json", params={"all": 1}, cap=LIST_ANSWER_BYTES,
                                what="listing containers")
        except _TooLarge as exc:
            raise SourceError(exc.message, backend=self.backend) from None
        if not isinstance(listed, list) or not all(isinstance(i, dict) for i in listed):
            raise SourceError(f"{self.name}: listing containers: the answer is not a list of containers",
                              backend=self.backend)
        chosen = []
        for item in listed:
            name = ((item.get("Names") or ["/" + item.get("Id", "")[:12]])[0]).lstrip("/")
            if select is None or select(name, item.get("Labels") or {}):
                chosen.append(item)
        if not chosen:
            return []

        def inspect(cid: str) -> dict | None:
            try:
                info = self._json(api, "/containers/{0}/json", cid, cap=INSPECT_ANSWER_BYTES,
                                  what=f"inspecting container {cid[:12]}")
            except _TooLarge as exc:
                raise SourceError(exc.message, backend=self.backend) from None
            return info if isinstance(info, dict) else None  # None: removed between the list and the inspect

        # Docker answers a stats call at its collector's next tick (about a second), whatever
        # the order: every stats call is sent at once so they all ride the same tick, while
        # the inspects run beside them.
        running = [c["Id"] for c in chosen if c.get("State") == "running"]
        workers = min(MAX_STATS_CONCURRENCY, len(running) + self.max_concurrency)
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            stats = {cid: pool.submit(self._stats, api, cid) for cid in running}
            infos = list(pool.map(inspect, [c["Id"] for c in chosen]))
            out = []
            for item, info in zip(chosen, infos, strict=True):
                if info is None:
                    continue
                future = stats.get(item["Id"])
                state = info.get("State") or {}
                running_now = state.get("Running") and not state.get("Restarting")
                out.append(_container(info, future.result() if future is not None and running_now else None))
        return out

    def _stats(self, api: Any, cid: str) -> DockerStats | None:
        try:
            raw = self._json(api, "/containers/{0}/stats", cid, params={"stream": 0, "one-shot": 1},
                             cap=STATS_ANSWER_BYTES, what=f"stats of container {cid[:12]}")
        except Exception:
            return None  # stats are a detail: a container that stopped meanwhile (or answered nonsense) has none
        return _stats(raw)

    def logs(self, requests: Sequence[LogRequest]) -> list[LogText]:
        api = self._client()

        def one(req: LogRequest) -> LogText:
            try:
                raw = self._fetch(api, "/containers/{0}/logs", req.owner,
                                  params={"stdout": 1, "stderr": 1, "tail": LOG_LINES, "timestamps": 0},
                                  cap=LOG_ANSWER_BYTES, what=f"the log of container {req.container}")
            except _TooLarge as exc:
                return LogText(req, error=exc.message, too_large=True)
            except SourceError as exc:
                return LogText(req, error=exc.message)
            if raw is None:
                return LogText(req, error="no such container")
            text = _demux(raw).decode("utf-8", "replace")
            return LogText(req, lines=tuple(text.splitlines()[-LOG_LINES:]))

        return self._map(one, list(requests))


class _TooLarge(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _demux(data: bytes) -> bytes:
    """The Engine's multiplexed log stream (8-byte frame headers: stream, 0, 0, 0, size) as text;
    a TTY container's log has no frames and is returned as it is."""
    if len(data) < 8 or data[0] not in (0, 1, 2) or data[1:4] != b"\0\0\0":
        return data
    out, pos = [], 0
    while pos + 8 <= len(data):
        size = struct.unpack(">I", data[pos + 4:pos + 8])[0]
        out.append(data[pos + 8:pos + 8 + size])
        pos += 8 + size
    return b"".join(out)


def _stats(raw: Any) -> DockerStats | None:
    if not isinstance(raw, dict):
        return None
    mem = raw.get("memory_stats") or {}
    usage = mem.get("usage")
    inner = mem.get("stats") or {}
    if usage is not None:
        # What `docker stats` shows: page cache that can be reclaimed does not count.
        usage -= inner.get("total_inactive_file", inner.get("inactive_file", 0)) or 0
    limit = mem.get("limit")
    if not limit or limit >= _UNLIMITED:
        limit = None
    cpu = raw.get("cpu_stats") or {}
    total = (cpu.get("cpu_usage") or {}).get("total_usage")
    throttling = cpu.get("throttling_data") or {}
    return DockerStats(memory_usage=max(0, usage) if usage is not None else None, memory_limit=limit,
                       cpu_seconds=total / 1e9 if total is not None else None,
                       throttled_periods=int(throttling.get("throttled_periods") or 0),
                       periods=int(throttling.get("periods") or 0))


def _container(info: dict, stats: DockerStats | None) -> DockerContainer:
    state = info.get("State") or {}
    host = info.get("HostConfig") or {}
    config = info.get("Config") or {}
    health = state.get("Health") or {}
    status = str(state.get("Status") or "unknown")
    if state.get("Restarting"):
        status = "restarting"
    memory = host.get("Memory") or 0
    if stats is not None and not memory:
        stats = DockerStats(stats.memory_usage, None, stats.cpu_seconds, stats.throttled_periods, stats.periods)
    return DockerContainer(
        id=str(info.get("Id", "")),
        name=str(info.get("Name", "")).lstrip("/"),
        image=str(config.get("Image", "")),
        state=status,
        exit_code=state.get("ExitCode"),
        oom_killed=bool(state.get("OOMKilled")),
        restart_count=int(info.get("RestartCount") or 0),
        restart_policy=str((host.get("RestartPolicy") or {}).get("Name") or ""),
        health=health.get("Status") or None,
        failing_streak=int(health.get("FailingStreak") or 0),
        health_log=tuple(HealthProbe(exit_code=int(p.get("ExitCode", -1)), output=str(p.get("Output") or ""),
                                     end=_time(p.get("End"))) for p in (health.get("Log") or [])),
        started_at=_time(state.get("StartedAt")),
        finished_at=_time(state.get("FinishedAt")),
        error=str(state.get("Error") or ""),
        memory_limit=memory or None,
        nano_cpus=host.get("NanoCpus") or None,
        labels={str(k): str(v) for k, v in (config.get("Labels") or {}).items()},
        stats=stats,
    )
