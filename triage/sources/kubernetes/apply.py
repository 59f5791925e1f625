"""The Kubernetes verbs of `--apply`, and no other: both PATCH a Deployment.

- `scale_deployment`: PATCH `/apis/apps/v1/namespaces/{ns}/deployments/{name}/scale`, only
  upwards, at most ×4 and never past 100 replicas;
- `rollout_restart`: what `kubectl rollout restart` does, a strategic-merge PATCH of the pod
  template's `kubectl.kubernetes.io/restartedAt` annotation.

The cluster is reached through `connect.py`, like the reads: the same kubeconfig, context and
exec-plugin deadline. Every outcome that is not `ok` is raised as `ActionFailed` with the
record's line; what was read before a change travels with it.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

from triage.errors import UsageError
from triage.models import iso
from triage.secrets import redact
from triage.sources.bounded import AnswerTooLarge, AnswerTooSlow, mib, read_bounded
from triage.sources.interface import ActionFailed
from triage.sources.kubernetes.connect import ExecPluginError, KubeconfigError, connect

MAX_REPLICAS = 100
MAX_SCALE_FACTOR = 4
DEFAULT_TIMEOUT = 10.0
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
ANSWER_BYTES = 8 << 20      # a Deployment or a Scale is a few kB; past this the answer is not read
ERROR_ANSWER_BYTES = 64 * 1024

_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


class KubeActions:
    """The cluster side of an `ActionRunner`; the client is built on the first action, so a plan
    with only Docker actions never loads a kubeconfig."""

    def __init__(self, *, context: str | None, kubeconfig: str | None, timeout: float,
                 environment: Mapping[str, str]) -> None:
        self.context = context
        self.kubeconfig = kubeconfig
        self.timeout = timeout
        self._env = environment
        self._api_client: Any = None
        self.api = "the Kubernetes API"

    def close(self) -> None:
        if self._api_client is not None:
            try:
                self._api_client.close()
            except Exception:
                pass

    def _kube(self) -> Any:
        if self._api_client is not None:
            return self._api_client
        try:
            from kubernetes import client
        except ImportError:  # pragma: no cover - a dependency of triage
            raise ActionFailed("failed: the kubernetes package is not installed") from None
        try:
            conn = connect(context=self.context, kubeconfig=self.kubeconfig, env=self._env, timeout=self.timeout)
        except UsageError as exc:  # no such --context
            raise ActionFailed(f"failed: {exc.message}") from None
        except KubeconfigError as exc:
            raise ActionFailed(_kubeconfig_failure(exc)) from None
        except Exception as exc:
            raise ActionFailed(f"failed: kubeconfig: {_said(exc)}") from None
        self.api = conn.where
        self._api_client = client.ApiClient(conn.config)
        return self._api_client

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
            raise ActionFailed(f"failed: {verb}: {exc.message}", before) from None
        except Exception as exc:
            status = getattr(exc, "status", None)
            if status:  # older clients raise ApiException for an error status
                raise ActionFailed(_http_failure(verb, status, getattr(exc, "reason", ""), getattr(exc, "body", None)),
                              before) from None
            text = redact(" ".join(str(exc).split()))[:200]
            raise ActionFailed(f"{unreachable} ({type(exc).__name__}: {text})", before) from None
        done = False
        maybe = "; the change may have been made: check it" if method != "GET" else ""
        try:
            if not 200 <= status <= 299:
                data = read_bounded(raw, cap=ERROR_ANSWER_BYTES, deadline=deadline, truncate=True)
                done = True
                raise ActionFailed(_http_failure(verb, status, reason, data), before)
            data = read_bounded(raw, cap=ANSWER_BYTES, deadline=deadline)
            done = True
        except AnswerTooLarge as exc:
            raise ActionFailed(f"failed: {verb}: the answer is larger than {mib(exc.cap)} (the cap on one answer of "
                          f"{self.api}); not read{maybe}", before) from None
        except AnswerTooSlow:
            raise ActionFailed(f"{unreachable} (the answer was still coming){maybe}", before) from None
        except ActionFailed:
            raise
        except Exception as exc:
            text = redact(" ".join(str(exc).split()))[:200]
            raise ActionFailed(f"{unreachable} ({type(exc).__name__}: {text}){maybe}", before) from None
        finally:
            if not done:
                raw.close()
            raw.release_conn()
        try:
            answer = json.loads(data)
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise ActionFailed(f"failed: {verb}: {self.api} answered with something that is not a JSON object{maybe}",
                          before)
        return answer

    def _names(self, action: Mapping[str, Any]) -> tuple[str, str]:
        ns, name = str(action.get("namespace") or ""), str(action.get("name") or "")
        if not _DNS_LABEL.match(ns):
            raise ActionFailed(f"refused: {ns!r} is not a Kubernetes namespace name")
        if not _DNS_SUBDOMAIN.match(name):
            raise ActionFailed(f"refused: {name!r} is not a Kubernetes deployment name")
        return ns, name

    def scale(self, action: Mapping[str, Any]) -> tuple[Any, Any, str]:
        ns, name = self._names(action)
        replicas = action.get("replicas")
        if isinstance(replicas, bool) or not isinstance(replicas, int) or not 1 <= replicas <= MAX_REPLICAS:
            raise ActionFailed(f"refused: replicas must be a whole number from 1 to {MAX_REPLICAS}, not {replicas!r}")
        base = f"/apis/apps/v1/namespaces/{quote(ns, safe='')}/deployments/{quote(name, safe='')}"
        scale = self._call("GET", f"{base}/scale", f"read deployments/scale {ns}/{name}")
        current = _int((scale.get("spec") or {}).get("replicas")) or 0
        before = {"replicas": current}
        if replicas <= current:
            return before, before, (f"unchanged: already at {current} replicas (asked for {replicas}); "
                                    "this action only scales out")
        if replicas > max(current, 1) * MAX_SCALE_FACTOR:
            raise ActionFailed(f"refused: {current} → {replicas} is more than ×{MAX_SCALE_FACTOR} in one step", before)
        done = self._call("PATCH", f"{base}/scale", f"patch deployments/scale {ns}/{name}", before,
                          body={"spec": {"replicas": replicas}}, content_type="application/merge-patch+json")
        now = _int((done.get("spec") or {}).get("replicas")) if isinstance(done.get("spec"), dict) else None
        after = {"replicas": now}
        if now != replicas:
            return before, after, f"failed: asked for {replicas} replicas, the API server answered {now}"
        return before, after, "ok"

    def rollout_restart(self, action: Mapping[str, Any]) -> tuple[Any, Any, str]:
        ns, name = self._names(action)
        path = f"/apis/apps/v1/namespaces/{quote(ns, safe='')}/deployments/{quote(name, safe='')}"
        dep = self._call("GET", path, f"read deployment {ns}/{name}")
        before = _restart_state(dep)
        stamp = iso(datetime.now(timezone.utc))
        body = {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: stamp}}}}}
        done = self._call("PATCH", path, f"patch deployment {ns}/{name}", before, body=body,
                          content_type="application/strategic-merge-patch+json")
        after = _restart_state(done)
        if after.get("restarted_at") != stamp:
            return before, after, "failed: the API server did not keep the restartedAt annotation"
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


def _said(exc: BaseException) -> str:
    return redact(" ".join(str(exc).split()))[:200]


def _kubeconfig_failure(exc: KubeconfigError) -> str:
    """An action's record quotes the client (or the exec plugin), as it did before the reads and the
    actions shared one loader; a failure of triage's own checks is said as the check says it."""
    if exc.cause is None:
        return f"failed: {exc.message}"
    if isinstance(exc.cause, ExecPluginError):
        return f"failed: kubeconfig: {exc.cause.message}"
    return f"failed: kubeconfig: {_said(exc.cause)}"
