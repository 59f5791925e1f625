"""The only code in triage that changes anything, and what it may change is a closed list:

- `scale_deployment`: PATCH `/apis/apps/v1/namespaces/{ns}/deployments/{name}/scale`, only
  upwards, at most ×4 and never past 100 replicas;
- `rollout_restart`: what `kubectl rollout restart` does, a strategic-merge PATCH of the pod
  template's `kubectl.kubernetes.io/restartedAt` annotation;
- `restart_container`: `docker restart` through the Docker SDK.

There is no shell, no arbitrary command and no other verb: the commands playbooks render for
the operator are printed, never run. Every call returns a plain record (what, target, before,
after, result, time) whether it worked, failed or was refused; nothing raises past `perform`.
"""

from __future__ import annotations

import json
import os
import re
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Mapping
from urllib.parse import quote

from triage.config import redact, register_secret
from triage.sources.bounded import AnswerTooLarge, AnswerTooSlow, mib, read_bounded
from triage.sources.kubernetes import ExecPluginError

KINDS = ("scale_deployment", "rollout_restart", "restart_container")
MAX_REPLICAS = 100
MAX_SCALE_FACTOR = 4
DEFAULT_TIMEOUT = 10.0
DEFAULT_STOP_TIMEOUT = 10
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
ANSWER_BYTES = 8 << 20      # a Deployment or a Scale is a few kB; past this the answer is not read
ERROR_ANSWER_BYTES = 64 * 1024

_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_CONTAINER = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,254}$")


class _Failed(Exception):
    def __init__(self, result: str, before: Any = None) -> None:
        super().__init__(result)
        self.result = result
        self.before = before


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


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
        self._apps: Any = None
        self._api_client: Any = None
        self._docker: Any = None
        self.api = "the Kubernetes API"

    def _kubeconfig_paths(self) -> str | None:
        paths = self.kubeconfig or self._env.get("KUBECONFIG")
        if not paths:
            default = Path(self._env.get("HOME") or str(Path.home())) / ".kube" / "config"
            paths = str(default) if default.is_file() else None
        return paths

    def where(self, action: Mapping[str, Any]) -> str:
        """Which cluster or engine an action goes to: the kubeconfig context (as `--context` or the
        kubeconfig's current-context names it), or the Docker host. Read from the local files only."""
        if action.get("kind") == "restart_container":
            return redact(self._env.get("DOCKER_HOST") or "unix:///var/run/docker.sock")
        if self.context:
            return self.context
        paths = self._kubeconfig_paths()
        if paths is None:
            return "in-cluster" if self._env.get("KUBERNETES_SERVICE_HOST") else "(no kubeconfig)"
        try:
            from kubernetes import config

            from triage.sources.kubernetes import kubeconfig_problem

            if kubeconfig_problem(paths):
                return "(unreadable kubeconfig)"
            _, active = config.list_kube_config_contexts(config_file=paths)
            return str((active or {}).get("name") or "(no current-context)")
        except Exception:
            return "(unreadable kubeconfig)"

    def close(self) -> None:
        for client in (self._api_client, self._docker):
            if client is not None:
                try:
                    client.close()
                except Exception:
                    pass

    def perform(self, action: Mapping[str, Any]) -> dict[str, Any]:
        what, target = describe(action)
        record: dict[str, Any] = {"action": str(action.get("kind")), "what": what, "target": target,
                                  "context": self.where(action), **target_fields(action),
                                  "before": None, "after": None, "result": "", "time": _now()}
        handler: Callable[[Mapping[str, Any]], tuple[Any, Any, str]] | None = {
            "scale_deployment": self._scale,
            "rollout_restart": self._rollout_restart,
            "restart_container": self._restart_container,
        }.get(str(action.get("kind")))
        started = time.monotonic()
        if handler is None:
            record["result"] = f"refused: not an action triage performs (only {', '.join(KINDS)})"
            return record
        try:
            before, after, result = handler(action)
        except _Failed as exc:
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

    # ---- Kubernetes ---------------------------------------------------------------------------

    def _kube(self) -> Any:
        if self._apps is not None:
            return self._apps
        try:
            from kubernetes import client, config
        except ImportError:  # pragma: no cover - a dependency of triage
            raise _Failed("failed: the kubernetes package is not installed") from None
        cfg = client.Configuration()
        paths = self._kubeconfig_paths()
        try:
            if paths is None and self.context is None and self._env.get("KUBERNETES_SERVICE_HOST"):
                config.load_incluster_config(client_configuration=cfg)
            elif paths is None:
                raise _Failed("failed: no kubeconfig found (~/.kube/config or $KUBECONFIG) and not running in a pod")
            else:
                from triage.sources.kubernetes import kubeconfig_problem, load_kubeconfig

                problem = kubeconfig_problem(paths)
                if problem:
                    raise _Failed(f"failed: {problem}")
                load_kubeconfig(cfg, paths, self.context, timeout=self.timeout)
        except _Failed:
            raise
        except ExecPluginError as exc:
            raise _Failed(f"failed: kubeconfig: {exc.message}") from None
        except Exception as exc:
            raise _Failed(f"failed: kubeconfig: {redact(' '.join(str(exc).split()))[:200]}") from None
        cfg.retries = False
        for value in (cfg.api_key or {}).values():
            register_secret(str(value))
            register_secret(str(value).split(" ", 1)[-1])
        if cfg.password:
            register_secret(str(cfg.password))
        self.api = f"the Kubernetes API at {redact(cfg.host)}"
        self._api_client = client.ApiClient(cfg)
        self._apps = self._api_client
        return self._apps

    def _call(self, method: str, path: str, verb: str, before: Any = None, body: Any = None,
              content_type: str | None = None) -> dict[str, Any]:
        """One request through the client's ApiClient (auth, TLS, proxy), its JSON answer read within
        ANSWER_BYTES decoded bytes and the deadline of the request: the generated AppsV1Api reads and
        deserialises an answer whole, whatever its size."""
        api = self._kube()
        timeout = (min(3.0, self.timeout), self.timeout)
        deadline = time.monotonic() + self.timeout
        headers = {"Accept": "application/json", **({"Content-Type": content_type} if content_type else {})}
        unreachable = f"failed: {verb}: {self.api} is unreachable or did not answer within {self.timeout:g}s"
        try:
            if hasattr(api, "param_serialize"):  # kubernetes >= 33
                request = api.param_serialize(method=method, resource_path=path, header_params=headers, body=body,
                                              auth_settings=["BearerToken"])
                response = api.call_api(*request, _request_timeout=timeout)
                raw, status, reason = response.response, response.status, response.reason
            else:  # pragma: no cover - older clients
                raw = api.call_api(path, method, header_params=headers, body=body, auth_settings=["BearerToken"],
                                   _preload_content=False, _return_http_data_only=True, _request_timeout=timeout)
                status, reason = raw.status, raw.reason
        except ExecPluginError as exc:
            raise _Failed(f"failed: {verb}: {exc.message}", before) from None
        except Exception as exc:
            status = getattr(exc, "status", None)
            if status:  # older clients raise ApiException for an error status
                raise _Failed(_http_failure(verb, status, getattr(exc, "reason", ""), getattr(exc, "body", None)),
                              before) from None
            text = redact(" ".join(str(exc).split()))[:200]
            raise _Failed(f"{unreachable} ({type(exc).__name__}: {text})", before) from None
        done = False
        maybe = "; the change may have been made: check it" if method != "GET" else ""
        try:
            if not 200 <= status <= 299:
                data = read_bounded(raw, cap=ERROR_ANSWER_BYTES, deadline=deadline, truncate=True)
                done = True
                raise _Failed(_http_failure(verb, status, reason, data), before)
            data = read_bounded(raw, cap=ANSWER_BYTES, deadline=deadline)
            done = True
        except AnswerTooLarge as exc:
            raise _Failed(f"failed: {verb}: the answer is larger than {mib(exc.cap)} (the cap on one answer of "
                          f"{self.api}); not read{maybe}", before) from None
        except AnswerTooSlow:
            raise _Failed(f"{unreachable} (the answer was still coming){maybe}", before) from None
        except _Failed:
            raise
        except Exception as exc:
            text = redact(" ".join(str(exc).split()))[:200]
            raise _Failed(f"{unreachable} ({type(exc).__name__}: {text}){maybe}", before) from None
        finally:
            if not done:
                raw.close()
            raw.release_conn()
        try:
            answer = json.loads(data)
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise _Failed(f"failed: {verb}: {self.api} answered with something that is not a JSON object{maybe}",
                          before)
        return answer

    def _names(self, action: Mapping[str, Any]) -> tuple[str, str]:
        ns, name = str(action.get("namespace") or ""), str(action.get("name") or "")
        if not _DNS_LABEL.match(ns):
            raise _Failed(f"refused: {ns!r} is not a Kubernetes namespace name")
        if not _DNS_SUBDOMAIN.match(name):
            raise _Failed(f"refused: {name!r} is not a Kubernetes deployment name")
        return ns, name

    def _scale(self, action: Mapping[str, Any]) -> tuple[Any, Any, str]:
        ns, name = self._names(action)
        replicas = action.get("replicas")
        if isinstance(replicas, bool) or not isinstance(replicas, int) or not 1 <= replicas <= MAX_REPLICAS:
            raise _Failed(f"refused: replicas must be a whole number from 1 to {MAX_REPLICAS}, not {replicas!r}")
        base = f"/apis/apps/v1/namespaces/{quote(ns, safe='')}/deployments/{quote(name, safe='')}"
        scale = self._call("GET", f"{base}/scale", f"read deployments/scale {ns}/{name}")
        current = _int((scale.get("spec") or {}).get("replicas")) or 0
        before = {"replicas": current}
        if replicas <= current:
            return before, before, (f"unchanged: already at {current} replicas (asked for {replicas}); "
                                    "this action only scales out")
        if replicas > max(current, 1) * MAX_SCALE_FACTOR:
            raise _Failed(f"refused: {current} → {replicas} is more than ×{MAX_SCALE_FACTOR} in one step", before)
        done = self._call("PATCH", f"{base}/scale", f"patch deployments/scale {ns}/{name}", before,
                          body={"spec": {"replicas": replicas}}, content_type="application/merge-patch+json")
        now = _int((done.get("spec") or {}).get("replicas")) if isinstance(done.get("spec"), dict) else None
        after = {"replicas": now}
        if now != replicas:
            return before, after, f"failed: asked for {replicas} replicas, the API server answered {now}"
        return before, after, "ok"

    def _rollout_restart(self, action: Mapping[str, Any]) -> tuple[Any, Any, str]:
        ns, name = self._names(action)
        path = f"/apis/apps/v1/namespaces/{quote(ns, safe='')}/deployments/{quote(name, safe='')}"
        dep = self._call("GET", path, f"read deployment {ns}/{name}")
        before = _restart_state(dep)
        stamp = _now()
        body = {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: stamp}}}}}
        done = self._call("PATCH", path, f"patch deployment {ns}/{name}", before, body=body,
                          content_type="application/strategic-merge-patch+json")
        after = _restart_state(done)
        if after.get("restarted_at") != stamp:
            return before, after, "failed: the API server did not keep the restartedAt annotation"
        return before, after, "ok"

    # ---- Docker -------------------------------------------------------------------------------

    def _restart_container(self, action: Mapping[str, Any]) -> tuple[Any, Any, str]:
        """`docker restart NAME`, every answer read bounded (the SDK reads /version and the inspect whole)."""
        name = str(action.get("name") or "")
        if not _CONTAINER.match(name):
            raise _Failed(f"refused: {name!r} is not a Docker container name")
        from triage.errors import SourceError
        from triage.sources.docker import DockerSource

        host = redact(self._env.get("DOCKER_HOST") or "unix:///var/run/docker.sock")

        def failed(message: str, before: Any = None) -> _Failed:
            text = message if message.startswith(f"Docker at {host}") else f"Docker at {host}: {message}"
            return _Failed(f"failed: {text}", before)

        try:
            if self._docker is None:
                self._docker = DockerSource(timeout=self.timeout, environment=self._env)
            info = self._docker.inspect(name)
        except SourceError as exc:
            raise failed(exc.message) from None
        if info is None:
            raise _Failed(f"failed: Docker at {host} has no container named {name}")
        before = _container_state(info)
        try:
            # the engine answers once the container stopped (up to stop_timeout) and started again
            if not self._docker.post("/containers/{0}/restart", name, params={"t": self.stop_timeout},
                                     seconds=self.timeout + self.stop_timeout, what=f"docker restart {name}"):
                raise _Failed(f"failed: Docker at {host} has no container named {name}", before)
            info = self._docker.inspect(name) or {}
        except SourceError as exc:
            raise failed(exc.message, before) from None
        after = _container_state(info)
        if after["status"] != "running":
            return before, after, f"failed: the container is {after['status']} after the restart"
        if after["started_at"] == before["started_at"]:
            return before, after, "failed: the container did not start again"
        return before, after, "ok"


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _restart_state(dep: Mapping[str, Any]) -> dict[str, Any]:
    def get(*keys: str) -> Any:
        cur: Any = dep
        for k in keys:
            cur = cur.get(k) if isinstance(cur, dict) else None
        return cur
    annotations = get("spec", "template", "metadata", "annotations")
    return {"generation": get("metadata", "generation"),
            "restarted_at": annotations.get(RESTARTED_AT) if isinstance(annotations, dict) else None,
            "updated_replicas": get("status", "updatedReplicas")}


def _http_failure(verb: str, status: Any, reason: Any, body: Any) -> str:
    message = ""
    try:
        message = str(json.loads(body or b"{}").get("message") or "")
    except (ValueError, TypeError, AttributeError):
        pass
    detail = f": {redact(message)[:200]}" if message else ""
    return f"failed: {verb}: HTTP {status} {reason or ''}".rstrip() + detail


def _container_state(info: Mapping[str, Any]) -> dict[str, Any]:
    state = info.get("State") if isinstance(info.get("State"), dict) else {}
    return {"status": state.get("Status"), "started_at": state.get("StartedAt"),
            "restart_count": info.get("RestartCount")}
