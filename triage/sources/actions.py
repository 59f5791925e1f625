"""The only code in triage that changes anything, and what it may change is a closed list:

- `scale_deployment` and `rollout_restart`: a PATCH of a Deployment, done by
  `triage/sources/kubernetes/apply.py` (only upwards, at most ×4 and never past 100 replicas;
  what `kubectl rollout restart` does);
- `restart_container`: `docker restart` through the Docker Engine API, here.

There is no shell, no arbitrary command and no other verb: the commands playbooks render for
the operator are printed, never run. Every call returns a plain record (what, target, before,
after, result, time) whether it worked, failed or was refused; nothing raises past `perform`.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any

from triage.errors import SourceError
from triage.models import iso
from triage.secrets import redact
from triage.sources.docker import DockerSource
from triage.sources.interface import ActionFailed
from triage.sources.kubernetes.apply import DEFAULT_TIMEOUT, KubeActions
from triage.sources.kubernetes.connect import context_name

KINDS = ("scale_deployment", "rollout_restart", "restart_container")
DEFAULT_STOP_TIMEOUT = 10

_CONTAINER = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,254}$")


def _now() -> str:
    return iso(datetime.now(timezone.utc))


def target_fields(action: Mapping[str, Any]) -> dict[str, Any]:
    """What an action changes, field by field (the record keeps these beside `target`)."""
    kind = action.get("kind")
    if kind in ("scale_deployment", "rollout_restart"):
        return {"namespace": action.get("namespace"), "kind": "deployment", "name": action.get("name")}
    if kind == "restart_container":
        return {"namespace": None, "kind": "container", "name": action.get("name")}
    return {"namespace": None, "kind": None, "name": None}


def describe(action: Mapping[str, Any]) -> tuple[str, str]:
    """(what, target) of an action, the way the record and the confirmation prompt say it."""
    kind = action.get("kind")
    if kind == "scale_deployment":
        target = f"deployment {action.get('namespace')}/{action.get('name')}"
        return f"scale to {action.get('replicas')} replicas", target
    if kind == "rollout_restart":
        return "rollout restart", f"deployment {action.get('namespace')}/{action.get('name')}"
    if kind == "restart_container":
        return "restart container", f"docker container {action.get('name')}"
    return f"unknown action {str(kind)[:40]!r}", "-"


class ActionRunner:
    """Performs actions against the cluster (kubeconfig or in-cluster) and Docker (`DOCKER_HOST`).

    Clients are built on first use, so a plan with only Docker actions never loads a kubeconfig.
    """

    def __init__(self, *, context: str | None = None, kubeconfig: str | None = None,
                 timeout: float = DEFAULT_TIMEOUT, stop_timeout: int = DEFAULT_STOP_TIMEOUT,
                 environment: Mapping[str, str] | None = None) -> None:
        self.context = context
        self.kubeconfig = kubeconfig
        self.timeout = timeout
        self.stop_timeout = stop_timeout
        self._env = dict(os.environ if environment is None else environment)
        self._kube = KubeActions(context=context, kubeconfig=kubeconfig, timeout=timeout, environment=self._env)
        self._docker: Any = None

    def where(self, action: Mapping[str, Any]) -> str:
        """Which cluster or engine an action goes to: the kubeconfig context (as `--context` or the
        kubeconfig's current-context names it), or the Docker host. Read from the local files only."""
        if action.get("kind") == "restart_container":
            return redact(self._env.get("DOCKER_HOST") or "unix:///var/run/docker.sock")
        return context_name(self.context, self.kubeconfig, self._env)

    def close(self) -> None:
        self._kube.close()
        if self._docker is not None:
            try:
                self._docker.close()
            except Exception:
                pass

    def perform(self, action: Mapping[str, Any]) -> dict[str, Any]:
        what, target = describe(action)
        record: dict[str, Any] = {"action": str(action.get("kind")), "what": what, "target": target,
                                  "context": self.where(action), **target_fields(action),
                                  "before": None, "after": None, "result": "", "time": _now()}
        handler: Callable[[Mapping[str, Any]], tuple[Any, Any, str]] | None = {
            "scale_deployment": self._kube.scale,
            "rollout_restart": self._kube.rollout_restart,
            "restart_container": self._restart_container,
        }.get(str(action.get("kind")))
        started = time.monotonic()
        if handler is None:
            record["result"] = f"refused: not an action triage performs (only {', '.join(KINDS)})"
            return record
        try:
            before, after, result = handler(action)
        except ActionFailed as exc:
            record["before"] = exc.before
            record["result"] = exc.result
        except Exception as exc:  # nothing foreseen: still an outcome for the record, never a lost action
            text = redact(" ".join(str(exc).split()))[:200]
            record["result"] = (f"failed: {type(exc).__name__}{': ' + text if text else ''}; "
                                "the request may have reached the target: check it")
        else:
            record.update(before=before, after=after, result=result)
        record["seconds"] = round(time.monotonic() - started, 3)
        return record

    # ---- Docker -------------------------------------------------------------------------------

    def _restart_container(self, action: Mapping[str, Any]) -> tuple[Any, Any, str]:
        """`docker restart NAME`, every answer read bounded (the SDK reads /version and the inspect whole)."""
        name = str(action.get("name") or "")
        if not _CONTAINER.match(name):
            raise ActionFailed(f"refused: {name!r} is not a Docker container name")
        host = redact(self._env.get("DOCKER_HOST") or "unix:///var/run/docker.sock")

        def failed(message: str, before: Any = None) -> ActionFailed:
            text = message if message.startswith(f"Docker at {host}") else f"Docker at {host}: {message}"
            return ActionFailed(f"failed: {text}", before)

        try:
            if self._docker is None:
                self._docker = DockerSource(timeout=self.timeout, environment=self._env)
            info = self._docker.inspect(name)
        except SourceError as exc:
            raise failed(exc.message) from None
        if info is None:
            raise ActionFailed(f"failed: Docker at {host} has no container named {name}")
        before = _container_state(info)
        try:
            # the engine answers once the container stopped (up to stop_timeout) and started again
            if not self._docker.post("/containers/{0}/restart", name, params={"t": self.stop_timeout},
                                     seconds=self.timeout + self.stop_timeout, what=f"docker restart {name}"):
                raise ActionFailed(f"failed: Docker at {host} has no container named {name}", before)
            info = self._docker.inspect(name) or {}
        except SourceError as exc:
            raise failed(exc.message, before) from None
        after = _container_state(info)
        if after["status"] != "running":
            return before, after, f"failed: the container is {after['status']} after the restart"
        if after["started_at"] == before["started_at"]:
            return before, after, "failed: the container did not start again"
        return before, after, "ok"


def _container_state(info: Mapping[str, Any]) -> dict[str, Any]:
    raw = info.get("State")
    state = raw if isinstance(raw, dict) else {}
    return {"status": state.get("Status"), "started_at": state.get("StartedAt"),
            "restart_count": info.get("RestartCount")}
