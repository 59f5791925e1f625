"""The Kubernetes API through the official `kubernetes` client: kubeconfig (with `--context`)
or in-cluster config, then one paginated list call per resource kind (pods, events,
deployments, HPAs, nodes) run concurrently, and pod logs for the containers the checks ask
about. Bodies are read with `_preload_content=False` and turned straight into
`triage.health.facts` values: deserialising thousands of `V1Pod` objects costs more than the
whole rest of the run, and no SDK object may leave this module anyway.

Every failure is worded for a human: a 403 names the permission that is missing
(`list pods in namespace shop`), a 401 says the credentials were rejected, and nothing a
kubeconfig holds (tokens, passwords, client keys) reaches a message.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence
from urllib.parse import quote

from triage.config import redact, register_secret
from triage.errors import SourceError, UsageError
from triage.health.facts import (
    Condition, Deployment, Hpa, KubeContainer, KubeEvent, KubeSnapshot, LogRequest, LogText, Node, Pod,
)
from triage.sources.bounded import AnswerTooLarge, AnswerTooSlow, mib, read_bounded
from triage.sources.http import network_reason

DEFAULT_TIMEOUT = 10.0
PAGE_SIZE = 500
LOG_LINES = 100
LOG_BYTES = 256 * 1024
# Caps on what one answer may be, decoded (a gzip bomb is small on the wire): a page of 500
# objects is a few MB on a real cluster; a log is asked for with limitBytes, which a proxy may drop.
LIST_ANSWER_BYTES = 32 << 20
LOG_ANSWER_BYTES = 1 << 20
ERROR_ANSWER_BYTES = 64 * 1024
MAX_PAGES = 1000            # continue tokens handed out forever must end somewhere
MAX_LIST_OBJECTS = 200_000  # a list past this is not a namespace a quick check can judge
SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"

# resource → (API group for messages, whether it is namespaced)
_RESOURCES = {
    "pods": ("", True),
    "events": ("", True),
    "deployments": ("apps", True),
    "horizontalpodautoscalers": ("autoscaling", True),
    "nodes": ("", False),
}


EXEC_OUTPUT_LIMIT = 1 << 20  # a credential is a few kB; an endless stream must not fill memory


class ExecPluginError(Exception):
    """A kubeconfig `exec` credential plugin failed; the message is a human's line (no secret in it)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def run_exec_plugin(exec_config: Mapping[str, Any], *, cwd: str | None, cluster: Any, timeout: float) -> dict:
    """Run an `exec` credential plugin as kubectl does, but under a deadline: the client's own runner
    waits forever for a plugin that never returns, reads an endless answer whole, and turns every
    failure into a log line on the root logger. Returns the ExecCredential's `status`."""
    import selectors
    import signal
    import subprocess
    import time

    command = str(exec_config.get("command") or "")
    name = os.path.basename(command) or "(no command)"
    if not command:
        raise ExecPluginError("exec plugin: the kubeconfig names no command")
    api_version = str(exec_config.get("apiVersion") or "")
    env = dict(os.environ)
    for item in exec_config.get("env") or ():
        try:
            env[str(item["name"])] = str(item["value"])
        except (KeyError, TypeError):
            raise ExecPluginError(f"exec plugin {name}: an env entry has no name or value") from None
    info: dict[str, Any] = {"apiVersion": api_version, "kind": "ExecCredential", "spec": {"interactive": False}}
    if exec_config.get("provideClusterInfo") and cluster is not None:
        info["spec"]["cluster"] = getattr(cluster, "value", cluster)
    env["KUBERNETES_EXEC_INFO"] = json.dumps(info, default=str)
    argv = [command, *(str(a) for a in exec_config.get("args") or ())]
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                cwd=cwd or None, env=env, start_new_session=True)
    except FileNotFoundError:
        raise ExecPluginError(f"exec plugin {name}: command not found ({redact(command)})") from None
    except PermissionError:
        raise ExecPluginError(f"exec plugin {name}: permission denied (is it executable?)") from None
    except OSError as exc:
        raise ExecPluginError(f"exec plugin {name} could not be started: {exc.strerror}") from None
    deadline = time.monotonic() + timeout
    out, err = bytearray(), bytearray()
    sel = selectors.DefaultSelector()
    assert proc.stdout is not None and proc.stderr is not None
    sel.register(proc.stdout, selectors.EVENT_READ, out)
    sel.register(proc.stderr, selectors.EVENT_READ, err)
    try:
        exited = False
        while sel.get_map():
            left = deadline - time.monotonic()
            if left <= 0:
                raise ExecPluginError(f"exec plugin {name} did not answer within {timeout:g}s")
            ready = sel.select(0 if exited else min(left, 0.1))
            if exited and not ready:
                break  # it exited, and what is left open belongs to a child it left behind
            for key, _ in ready:
                chunk = os.read(key.fd, 65536)
                if not chunk:
                    sel.unregister(key.fileobj)
                    continue
                key.data.extend(chunk)
                if len(key.data) > EXEC_OUTPUT_LIMIT:
                    raise ExecPluginError(f"exec plugin {name} printed more than {EXEC_OUTPUT_LIMIT >> 20} MiB "
                                          "(the cap on a credential)")
            exited = exited or proc.poll() is not None
        try:
            code = proc.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            raise ExecPluginError(f"exec plugin {name} did not answer within {timeout:g}s") from None
    finally:
        sel.close()
        proc.stdout.close()
        proc.stderr.close()
        if proc.poll() is None:  # past the deadline, over the cap, or interrupted: its whole group goes
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                pass
            proc.wait()
    if code < 0:
        try:
            sig = signal.Signals(-code).name
        except ValueError:
            sig = "?"
        raise ExecPluginError(f"exec plugin {name} was killed by signal {-code} ({sig})")
    if code > 0:
        first = next((ln.strip() for ln in err.decode("utf-8", "replace").splitlines() if ln.strip()), "")
        said = f": {redact(first)[:200]}" if first else ""
        raise ExecPluginError(f"exec plugin {name} failed with exit status {code}{said}")
    try:
        data = json.loads(out.decode("utf-8", "replace"))
    except ValueError:
        raise ExecPluginError(f"exec plugin {name} printed something that is not an ExecCredential "
                              "(not JSON)") from None
    if not isinstance(data, dict) or not isinstance(data.get("status"), dict):
        raise ExecPluginError(f"exec plugin {name} printed JSON that is not an ExecCredential (no status)")
    if api_version and data.get("apiVersion") != api_version:
        raise ExecPluginError(f"exec plugin {name} answered apiVersion {str(data.get('apiVersion'))[:60]!r}, "
                              f"not {api_version}")
    status = data["status"]
    if status.get("token"):
        register_secret(str(status["token"]))
    elif not (status.get("clientCertificateData") and status.get("clientKeyData")):
        raise ExecPluginError(f"exec plugin {name} answered with no token and no client certificate and key")
    return status


def load_kubeconfig(cfg: Any, paths: str, context: str | None, *, timeout: float) -> None:
    """`kubernetes.config.load_kube_config`, with the `exec` plugin run by `run_exec_plugin`
    (its deadline is `timeout`) and its failures raised as `ExecPluginError` instead of logged."""
    from kubernetes.config import kube_config

    loader = kube_config._get_kube_config_loader(filename=paths, active_context=context, persist_config=False)

    def bounded_exec_plugin(self: Any = loader) -> bool | None:
        user = self._user
        if not user or "exec" not in user:
            return None
        base_path = self._get_base_path(self._cluster.path)
        raw = user["exec"]
        raw = getattr(raw, "value", raw)  # the client's ConfigNode around the plain mapping
        if not isinstance(raw, Mapping):
            raise ExecPluginError("exec plugin: the kubeconfig's exec entry is not a mapping")
        status = run_exec_plugin(raw, cwd=base_path, cluster=self._cluster, timeout=timeout)
        if status.get("token"):
            self.token = "Bearer %s" % status["token"]
        else:
            self.cert_file = kube_config.FileOrData(status, None, data_key_name="clientCertificateData",
                                                    file_base_path=base_path, base64_file_content=False,
                                                    temp_file_path=self._temp_file_path).as_file()
            self.key_file = kube_config.FileOrData(status, None, data_key_name="clientKeyData",
                                                   file_base_path=base_path, base64_file_content=False,
                                                   temp_file_path=self._temp_file_path).as_file()
        if status.get("expirationTimestamp"):
            try:
                self.expiry = kube_config.parse_rfc3339(status["expirationTimestamp"])
            except (ValueError, TypeError):
                pass
        return True

    loader._load_from_exec_plugin = bounded_exec_plugin
    with _root_logging_kept_off_stderr():
        loader.load_and_set(cfg)


KUBECONFIG_BYTES = 16 << 20


def kubeconfig_problem(paths: str) -> str | None:
    """Why the kubeconfig file(s) of `paths` (a $KUBECONFIG list) cannot be read as one, if they cannot:
    the client reads each file whole, so a device (`/dev/zero`), a FIFO or a huge file would hang or
    fill memory before it said anything."""
    for part in str(paths).split(os.pathsep):
        if not part:
            continue
        try:
            info = os.stat(part)
        except FileNotFoundError:
            continue  # the client skips a missing file of a list, and says so when none is left
        except OSError as exc:
            return f"kubeconfig {part}: {exc.strerror}"
        import stat

        if not stat.S_ISREG(info.st_mode):
            return f"kubeconfig {part}: not a regular file"
        if info.st_size > KUBECONFIG_BYTES:
            return f"kubeconfig {part}: {info.st_size} bytes is too large for a kubeconfig (limit {KUBECONFIG_BYTES})"
    return None


class _root_logging_kept_off_stderr:
    """The client logs its kubeconfig problems with `logging.error` on the root logger, which
    installs a stderr handler on first use (`ERROR:root:…` lines in the middle of a report).
    While a kubeconfig loads, the root logger has a handler of ours, so none is installed."""

    def __enter__(self) -> None:
        import logging

        self._handler = logging.NullHandler()
        logging.getLogger().addHandler(self._handler)

    def __exit__(self, *exc: object) -> None:
        import logging

        logging.getLogger().removeHandler(self._handler)


class _RunOver(Exception):
    """The run's deadline passed: no further request is sent."""


class _ListError(Exception):
    """One list call failed. `fatal` ones (unreachable, timeout, 401) stop the whole source."""

    def __init__(self, message: str, *, fatal: bool) -> None:
        super().__init__(message)
        self.message = message
        self.fatal = fatal


def _ts(raw: Any) -> float | None:
    if not raw or not isinstance(raw, str):
        return None
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _conditions(raw: Any) -> tuple[Condition, ...]:
    out = []
    for c in raw or ():
        if isinstance(c, dict) and c.get("type"):
            out.append(Condition(type=str(c["type"]), status=str(c.get("status", "Unknown")),
                                 reason=str(c.get("reason") or ""), message=str(c.get("message") or ""),
                                 last_transition=_ts(c.get("lastTransitionTime"))))
    return tuple(out)


def _container(raw: dict, init: bool) -> KubeContainer:
    state = raw.get("state") or {}
    last = (raw.get("lastState") or {}).get("terminated") or {}
    if "running" in state and state["running"] is not None:
        kind, detail = "running", state["running"] or {}
    elif state.get("waiting") is not None:
        kind, detail = "waiting", state["waiting"] or {}
    elif state.get("terminated") is not None:
        kind, detail = "terminated", state["terminated"] or {}
    else:
        kind, detail = "unknown", {}
    return KubeContainer(
        name=str(raw.get("name", "")), ready=bool(raw.get("ready")), restarts=int(raw.get("restartCount") or 0),
        state=kind, reason=str(detail.get("reason") or ""), message=str(detail.get("message") or ""),
        exit_code=detail.get("exitCode"), started_at=_ts(detail.get("startedAt")),
        finished_at=_ts(detail.get("finishedAt")), last_reason=str(last.get("reason") or ""),
        last_exit_code=last.get("exitCode"), last_finished_at=_ts(last.get("finishedAt")),
        last_message=str(last.get("message") or ""), init=init)


def _pod(raw: dict) -> Pod:
    meta = raw.get("metadata") or {}
    spec = raw.get("spec") or {}
    status = raw.get("status") or {}
    owner = next((f"{o.get('kind')}/{o.get('name')}" for o in meta.get("ownerReferences") or ()
                  if o.get("controller")), "")
    containers = tuple(_container(c, True) for c in status.get("initContainerStatuses") or ()) + tuple(
        _container(c, False) for c in status.get("containerStatuses") or ())
    return Pod(namespace=str(meta.get("namespace", "")), name=str(meta.get("name", "")),
               phase=str(status.get("phase") or "Unknown"), reason=str(status.get("reason") or ""),
               message=str(status.get("message") or ""), node=str(spec.get("nodeName") or ""),
               created_at=_ts(meta.get("creationTimestamp")), labels=dict(meta.get("labels") or {}), owner=owner,
               conditions=_conditions(status.get("conditions")), containers=containers,
               spec_containers=tuple(str(c.get("name")) for c in spec.get("containers") or ()))


def _event(raw: dict) -> KubeEvent:
    meta = raw.get("metadata") or {}
    obj = raw.get("involvedObject") or raw.get("regarding") or {}
    series = raw.get("series") or {}
    seen = (_ts(raw.get("lastTimestamp")) or _ts(series.get("lastObservedTime")) or _ts(raw.get("eventTime"))
            or _ts(raw.get("firstTimestamp")) or _ts(meta.get("creationTimestamp")))
    return KubeEvent(namespace=str(obj.get("namespace") or meta.get("namespace") or ""),
                     object_kind=str(obj.get("kind") or ""), object_name=str(obj.get("name") or ""),
                     reason=str(raw.get("reason") or ""), message=str(raw.get("message") or raw.get("note") or ""),
                     type=str(raw.get("type") or "Normal"),
                     count=int(raw.get("count") or series.get("count") or 1), last_seen=seen)


def _deployment(raw: dict) -> Deployment:
    meta = raw.get("metadata") or {}
    spec = raw.get("spec") or {}
    status = raw.get("status") or {}
    replicas = spec.get("replicas")
    return Deployment(namespace=str(meta.get("namespace", "")), name=str(meta.get("name", "")),
                      replicas=int(1 if replicas is None else replicas), ready=int(status.get("readyReplicas") or 0),
                      available=int(status.get("availableReplicas") or 0),
                      unavailable=int(status.get("unavailableReplicas") or 0),
                      updated=int(status.get("updatedReplicas") or 0), generation=int(meta.get("generation") or 0),
                      observed_generation=int(status.get("observedGeneration") or 0),
                      selector=dict((spec.get("selector") or {}).get("matchLabels") or {}),
                      conditions=_conditions(status.get("conditions")))


def _metric_text(spec: dict, current: Sequence[dict]) -> str:
    """`cpu 55% (target 70%)`, `http_requests_per_second 12 (target 10)` from autoscaling/v2."""
    kind = spec.get("type", "")
    body = spec.get({"Resource": "resource", "ContainerResource": "containerResource", "Pods": "pods",
                     "Object": "object", "External": "external"}.get(kind, ""), {}) or {}
    name = body.get("name") or (body.get("metric") or {}).get("name") or kind.lower() or "metric"
    target = body.get("target") or {}
    want = target.get("averageUtilization")
    unit = "%" if want is not None else ""
    if want is None:
        want = target.get("averageValue", target.get("value"))
    now = None
    for cur in current:
        cbody = cur.get({"Resource": "resource", "ContainerResource": "containerResource", "Pods": "pods",
                         "Object": "object", "External": "external"}.get(cur.get("type", ""), ""), {}) or {}
        cname = cbody.get("name") or (cbody.get("metric") or {}).get("name")
        if cur.get("type") == kind and cname == name:
            c = cbody.get("current") or {}
            now = c.get("averageUtilization") if unit else c.get("averageValue", c.get("value"))
    shown = f"{name} {now}{unit}" if now is not None else f"{name} unknown"
    return f"{shown} (target {want}{unit})" if want is not None else shown


def _hpa(raw: dict) -> Hpa:
    meta = raw.get("metadata") or {}
    spec = raw.get("spec") or {}
    status = raw.get("status") or {}
    ref = spec.get("scaleTargetRef") or {}
    current = status.get("currentMetrics") or []
    return Hpa(namespace=str(meta.get("namespace", "")), name=str(meta.get("name", "")),
               target_kind=str(ref.get("kind") or ""), target_name=str(ref.get("name") or ""),
               min_replicas=int(spec.get("minReplicas") or 1), max_replicas=int(spec.get("maxReplicas") or 0),
               current_replicas=int(status.get("currentReplicas") or 0),
               desired_replicas=int(status.get("desiredReplicas") or 0),
               metrics=tuple(_metric_text(m, current) for m in spec.get("metrics") or ()),
               conditions=_conditions(status.get("conditions")))


def _node(raw: dict) -> Node:
    meta = raw.get("metadata") or {}
    return Node(name=str(meta.get("name", "")), conditions=_conditions((raw.get("status") or {}).get("conditions")),
                unschedulable=bool((raw.get("spec") or {}).get("unschedulable")))


_PARSE: dict[str, Callable[[dict], Any]] = {
    "pods": _pod, "events": _event, "deployments": _deployment, "horizontalpodautoscalers": _hpa, "nodes": _node,
}


class KubernetesSource:
    """A cluster reached like kubectl reaches it. Config is loaded on first use, so building one is cheap."""

    backend = "kubernetes"

    def __init__(self, *, context: str | None = None, kubeconfig: str | None = None,
                 timeout: float = DEFAULT_TIMEOUT, max_concurrency: int = 8, page_size: int = PAGE_SIZE,
                 environment: Mapping[str, str] | None = None,
                 service_account_dir: str = SERVICE_ACCOUNT_DIR, run_budget: float | None = None) -> None:
        import kubernetes.client  # the SDK is imported only when the cluster is actually asked
        import kubernetes.client.exceptions
        import kubernetes.config

        self._k8s = kubernetes
        self.context = context
        self.kubeconfig = kubeconfig
        self.timeout = timeout
        self.max_concurrency = max(1, max_concurrency)
        self.page_size = page_size
        self._env = dict(os.environ if environment is None else environment)
        self._sa_dir = Path(service_account_dir)
        self._api: Any = None
        self._namespace = "default"
        self.where = "the Kubernetes API"
        self._lock = threading.Lock()
        self._unreadable: dict[str, list[str]] = {}
        self.requests = 0
        # All of a run's requests end within `run_budget` seconds of the first: each request has its
        # own deadline, and no request starts past the run's (paginated lists of a slow API server).
        self.run_budget = run_budget
        self._run_ends: float | None = None

    # ---- configuration ------------------------------------------------------------------

    def _kubeconfig_paths(self) -> str | None:
        if self.kubeconfig:
            return self.kubeconfig
        env = self._env.get("KUBECONFIG")
        if env:
            return env
        home = self._env.get("HOME") or str(Path.home())
        default = Path(home) / ".kube" / "config"
        return str(default) if default.is_file() else None

    def _connect(self) -> Any:
        if self._api is not None:
            return self._api
        client = self._k8s.client
        cfg = client.Configuration()
        paths = self._kubeconfig_paths()
        if paths is None and self.context is None and self._env.get("KUBERNETES_SERVICE_HOST"):
            self._load_in_cluster(cfg)
        elif paths is None:
            raise SourceError("no kubeconfig found (~/.kube/config or $KUBECONFIG) and not running in a pod",
                              backend=self.backend)
        else:
            self._load_kubeconfig(cfg, paths)
        cfg.retries = False
        cfg.connection_pool_maxsize = max(self.max_concurrency, 4)
        for value in (cfg.api_key or {}).values():
            register_secret(str(value))
            register_secret(str(value).split(" ", 1)[-1])
        if cfg.password:
            register_secret(str(cfg.password))
        self.where = f"the Kubernetes API at {redact(cfg.host)}"
        self._api = client.ApiClient(cfg)
        return self._api

    def _load_kubeconfig(self, cfg: Any, paths: str) -> None:
        config = self._k8s.config
        problem = kubeconfig_problem(paths)
        if problem:
            raise SourceError(problem, backend=self.backend)
        try:
            contexts, active = config.list_kube_config_contexts(config_file=paths)
        except config.ConfigException as exc:
            raise SourceError(f"kubeconfig {paths}: {_config_reason(exc)}", backend=self.backend) from None
        except OSError as exc:
            raise SourceError(f"kubeconfig {paths}: {exc.strerror}", backend=self.backend) from None
        chosen = active
        if self.context is not None:
            chosen = next((c for c in contexts or () if c.get("name") == self.context), None)
            if chosen is None:
                names = ", ".join(sorted(str(c.get("name")) for c in contexts or ())) or "none"
                raise UsageError(f"--context {self.context}: no such context in {paths} (contexts: {names})")
        if not chosen:
            raise SourceError(f"kubeconfig {paths} has no current-context; pass --context", backend=self.backend)
        try:
            load_kubeconfig(cfg, paths, chosen.get("name"), timeout=self.timeout)
        except ExecPluginError as exc:
            raise SourceError(f"kubeconfig {paths}: {exc.message}", backend=self.backend) from None
        except config.ConfigException as exc:
            raise SourceError(f"kubeconfig {paths}: {_config_reason(exc)}", backend=self.backend) from None
        except Exception as exc:  # exec plugins, unreadable cert files
            raise SourceError(f"kubeconfig {paths}: {redact(str(exc))[:200]}", backend=self.backend) from None
        self._namespace = str((chosen.get("context") or {}).get("namespace") or "default")

    def _load_in_cluster(self, cfg: Any) -> None:
        incluster = self._k8s.config.incluster_config
        try:
            incluster.InClusterConfigLoader(token_filename=str(self._sa_dir / "token"),
                                            cert_filename=str(self._sa_dir / "ca.crt"),
                                            environ=self._env).load_and_set(cfg)
        except self._k8s.config.ConfigException as exc:
            raise SourceError(f"in-cluster config: {_config_reason(exc)}", backend=self.backend) from None
        try:
            self._namespace = (self._sa_dir / "namespace").read_text().strip() or "default"
        except OSError:
            self._namespace = "default"

    def default_namespace(self) -> str:
        """The namespace of the kubeconfig context (or the pod's own, in-cluster); `default` otherwise."""
        self._connect()
        return self._namespace

    def close(self) -> None:
        if self._api is not None:
            self._api.close()

    # ---- lists --------------------------------------------------------------------------

    def _count(self) -> None:
        with self._lock:
            self.requests += 1

    def _get(self, path: str, query: list[tuple[str, Any]], accept: str = "application/json",
             cap: int = LIST_ANSWER_BYTES) -> bytes:
        """One GET through the client's ApiClient (auth, TLS, proxy, timeouts), the body unparsed,
        read within `cap` decoded bytes and the deadline of one request (`timeout`, not per read).

        The generated `CoreV1Api` & co. are not used: importing them builds hundreds of model
        classes (most of a second), and their typed results would be thrown away here anyway.
        """
        api = self._connect()
        now = time.monotonic()
        if self.run_budget is not None:
            with self._lock:
                if self._run_ends is None:
                    self._run_ends = now + self.run_budget
            if now >= self._run_ends:
                raise _RunOver
        deadline = now + self.timeout if self._run_ends is None else min(now + self.timeout, self._run_ends)
        timeout = (min(3.0, self.timeout), max(0.1, min(self.timeout, deadline - now)))
        self._count()
        if hasattr(api, "param_serialize"):  # kubernetes >= 33 (pydantic generator)
            request = api.param_serialize(method="GET", resource_path=path, query_params=query,
                                          header_params={"Accept": accept}, auth_settings=["BearerToken"])
            response = api.call_api(*request, _request_timeout=timeout)
            raw = response.response
            ok = 200 <= response.status <= 299
        else:
            raw = api.call_api(path, "GET", query_params=query, header_params={"Accept": accept},
                               auth_settings=["BearerToken"], _preload_content=False, _return_http_data_only=True,
                               _request_timeout=timeout)
            ok, response = True, None
        done = False
        try:
            if not ok:
                response.data = read_bounded(raw, cap=ERROR_ANSWER_BYTES, deadline=deadline, truncate=True)
                done = True
                raise self._k8s.client.exceptions.ApiException.from_response(http_resp=response, body=None,
                                                                            data=None)
            data = read_bounded(raw, cap=cap, deadline=deadline)
            done = True
            return data
        finally:
            if not done:  # a body left half-read must not go back to the pool
                raw.close()
            raw.release_conn()

    def _list(self, resource: str, namespace: str | None, selector: str | None = None,
              fields: str | None = None) -> list[Any]:
        """Every object of one kind, page by page (`limit`/`continue`): one logical call."""
        group, namespaced = _RESOURCES[resource]
        prefix = {"": "/api/v1", "apps": "/apis/apps/v1", "autoscaling": "/apis/autoscaling/v2"}[group]
        path = (f"{prefix}/namespaces/{quote(namespace, safe='')}/{resource}" if namespace is not None and namespaced
                else f"{prefix}/{resource}")
        parse = _PARSE[resource]
        out: list[Any] = []
        token: str | None = None
        scope = self._scope(resource, namespace)
        pages = 0
        while True:
            pages += 1
            if pages > MAX_PAGES or len(out) > MAX_LIST_OBJECTS:
                raise _ListError(f"list {resource} {scope}: more than {MAX_PAGES} pages or {MAX_LIST_OBJECTS} "
                                 "objects (the cap on one list); not read", fatal=False)
            query: list[tuple[str, Any]] = [("limit", self.page_size)]
            if selector:
                query.append(("labelSelector", selector))
            if fields:
                query.append(("fieldSelector", fields))
            if token:
                query.append(("continue", token))
            try:
                body = json.loads(self._get(path, query))
            except self._k8s.client.exceptions.ApiException as exc:
                raise self._api_error(exc, "list", resource, namespace) from None
            except ExecPluginError as exc:  # the credential expired and its plugin failed to renew it
                raise _ListError(exc.message, fatal=True) from None
            except AnswerTooLarge as exc:
                raise _ListError(f"list {resource} {scope}: the answer is larger than {mib(exc.cap)} (the cap on "
                                 f"one answer of {self.where}); not read", fatal=False) from None
            except AnswerTooSlow:
                if self._run_ends is not None and time.monotonic() >= self._run_ends:
                    raise _ListError(self._over(f"list {resource} {scope}", pages), fatal=True) from None
                raise _ListError(f"{self.where} did not answer within {self.timeout:g}s (list {resource} {scope} "
                                 "was still coming)", fatal=True) from None
            except _RunOver:
                raise _ListError(self._over(f"list {resource} {scope}", pages), fatal=True) from None
            except ValueError:
                raise _ListError(f"{self.where} answered the {resource} list with something that is not JSON",
                                 fatal=False) from None
            except Exception as exc:
                if self._run_ends is not None and time.monotonic() >= self._run_ends - 0.05:
                    raise _ListError(self._over(f"list {resource} {scope}", pages), fatal=True) from None
                raise self._network_error(exc) from None
            if not isinstance(body, dict):
                raise _ListError(f"{self.where} answered the {resource} list with something that is not a list",
                                 fatal=False)
            for item in body.get("items") or ():
                try:
                    out.append(parse(item))
                except (ValueError, TypeError, AttributeError, KeyError) as exc:
                    # One object nobody foresaw must not hide the others.
                    name = ((item.get("metadata") or {}).get("name") if isinstance(item, dict) else None) or "?"
                    with self._lock:
                        self._unreadable.setdefault(resource, []).append(f"{name} ({type(exc).__name__}: {exc})")
            token = (body.get("metadata") or {}).get("continue")
            if not token:
                return out

    def _network_error(self, exc: BaseException) -> _ListError:
        reason = network_reason(exc)
        if reason == "timed out":
            return _ListError(f"{self.where} did not answer within {self.timeout:g}s", fatal=True)
        return _ListError(f"{self.where} is unreachable: {reason}", fatal=True)

    def _over(self, what: str, pages: int) -> str:
        at = f" (at page {pages})" if pages > 1 else ""
        return (f"{self.where}: the checks' deadline of {self.run_budget:g}s (30 x --timeout) passed before "
                f"{what} was read{at}")

    @staticmethod
    def _scope(resource: str, namespace: str | None) -> str:
        namespaced = _RESOURCES.get(resource, ("", True))[1]
        return f"in namespace {namespace}" if namespace and namespaced else (
            "in all namespaces" if namespaced else "(cluster-scoped)")

    def _api_error(self, exc: Any, verb: str, resource: str, namespace: str | None) -> _ListError:
        status = getattr(exc, "status", None)
        message = ""
        try:
            message = str(json.loads(exc.body or "{}").get("message") or "")
        except (ValueError, TypeError, AttributeError):
            pass
        scope = self._scope(resource, namespace)
        if status == 401:
            return _ListError(f"{self.where} rejected the credentials (401 Unauthorized): the token or "
                              "certificate has expired or is not valid for this cluster", fatal=True)
        if status == 403:
            user = re.search(r'User "([^"]+)"', message)
            who = f" for {user.group(1)}" if user else ""
            return _ListError(f"forbidden (403): missing permission to {verb} {resource} {scope}{who}", fatal=False)
        if status == 404 and resource == "horizontalpodautoscalers" and "namespaces" not in message:
            return _ListError("autoscaling/v2 is not served by this cluster (Kubernetes older than 1.23?): "
                              "HPAs not checked", fatal=False)
        detail = f": {redact(message)[:200]}" if message else ""
        return _ListError(f"{verb} {resource} {scope} failed with HTTP {status}{detail}", fatal=status in (None, 0))

    def snapshot(self, namespaces: Sequence[str] | None, *,
                 pod_selectors: Callable[[str, Sequence[Deployment]], Sequence[str]] | None = None,
                 nodes: bool = True) -> KubeSnapshot:
        """Pods, events, deployments and HPAs of `namespaces` (None: all of them) and the nodes, concurrently.

        With `pod_selectors`, a namespace's deployments are read first and the pods are listed
        with the first label selector it returns that matches any pod (server-side filtering).
        """
        self._connect()
        spaces: list[str | None] = list(namespaces) if namespaces is not None else [None]
        tasks: list[tuple[str, str | None, Callable[[], Any]]] = []
        for ns in spaces:
            # Only Warning events say anything the checks use (probe failures, back-offs,
            # scheduling and metrics failures); Normal ones are most of a busy namespace.
            tasks.append(("events", ns, lambda n=ns: self._list("events", n, fields="type=Warning")))
            tasks.append(("horizontalpodautoscalers", ns, lambda n=ns: self._list("horizontalpodautoscalers", n)))
            if pod_selectors is not None and ns is not None:
                tasks.append(("deployments+pods", ns, lambda n=ns: self._deployments_then_pods(n, pod_selectors)))
            else:
                tasks.append(("deployments", ns, lambda n=ns: self._list("deployments", n)))
                tasks.append(("pods", ns, lambda n=ns: self._list("pods", n)))
        if nodes:
            tasks.append(("nodes", None, lambda: self._list("nodes", None)))
        results: dict[str, list[Any]] = {"pods": [], "events": [], "deployments": [], "horizontalpodautoscalers": [],
                                         "nodes": []}
        errors: list[_ListError] = []
        with ThreadPoolExecutor(max_workers=min(self.max_concurrency, len(tasks))) as pool:
            futures = [(name, pool.submit(fn)) for name, _, fn in tasks]
            for name, future in futures:
                try:
                    value = future.result()
                except _ListError as exc:
                    errors.append(exc)
                    continue
                if name == "deployments+pods":
                    deps, pods = value
                    results["deployments"].extend(deps)
                    results["pods"].extend(pods)
                else:
                    results[name].extend(value)
        fatal = [e for e in errors if e.fatal]
        if fatal and len(errors) == len(tasks):
            raise SourceError(fatal[0].message, backend=self.backend)
        messages = [e.message for e in errors]
        for resource, bad in sorted(self._unreadable.items()):
            messages.append(f"{len(bad)} {resource} could not be read and were left out: {', '.join(bad[:3])}")
        problems = tuple(dict.fromkeys(("kubernetes", m) for m in messages))
        return KubeSnapshot(pods=tuple(results["pods"]), events=tuple(results["events"]),
                            deployments=tuple(results["deployments"]), hpas=tuple(results["horizontalpodautoscalers"]),
                            nodes=tuple(results["nodes"]),
                            nodes_read=nodes and not any("nodes" in e.message for e in errors),
                            problems=problems, requests=self.requests)

    def _deployments_then_pods(self, namespace: str, choose: Callable[[str, Sequence[Deployment]], Sequence[str]]
                               ) -> tuple[list[Deployment], list[Pod]]:
        try:
            deployments = self._list("deployments", namespace)
        except _ListError as exc:
            if exc.fatal:
                raise
            deployments = []
        pods: list[Pod] = []
        for selector in choose(namespace, deployments):
            pods = self._list("pods", namespace, selector)
            if pods:
                break
        return deployments, pods

    # ---- logs ---------------------------------------------------------------------------

    def logs(self, requests: Sequence[LogRequest]) -> list[LogText]:
        """The tail of each requested container log, fetched concurrently with a bound."""
        if not requests:
            return []
        self._connect()

        def one(req: LogRequest) -> LogText:
            query: list[tuple[str, Any]] = [("container", req.container), ("tailLines", LOG_LINES),
                                            ("limitBytes", LOG_BYTES)]
            if req.previous:
                query.append(("previous", "true"))
            if req.since_seconds:
                query.append(("sinceSeconds", req.since_seconds))
            try:
                data = self._get(f"/api/v1/namespaces/{quote(req.namespace or '', safe='')}/pods/"
                                 f"{quote(req.owner, safe='')}/log", query,
                                 accept="text/plain, */*", cap=LOG_ANSWER_BYTES)
            except AnswerTooLarge as exc:
                return LogText(req, error=f"log of {req.namespace}/{req.owner} container {req.container}: larger "
                                          f"than {mib(exc.cap)} (the cap on one log answer); not read",
                               too_large=True)
            except AnswerTooSlow:
                return LogText(req, error=f"did not answer within {self.timeout:g}s")
            except _RunOver:
                return LogText(req, error=self._over(f"the log of {req.namespace}/{req.owner}", 1))
            except self._k8s.client.exceptions.ApiException as exc:
                return LogText(req, error=self._api_error(exc, "get", "pods/log", req.namespace).message)
            except ExecPluginError as exc:
                return LogText(req, error=exc.message)
            except Exception as exc:
                return LogText(req, error=network_reason(exc))
            text = data.decode("utf-8", "replace")
            return LogText(req, lines=tuple(text.splitlines()[-LOG_LINES:]))

        if len(requests) == 1:
            return [one(requests[0])]
        with ThreadPoolExecutor(max_workers=min(self.max_concurrency, len(requests))) as pool:
            return list(pool.map(one, requests))


def _config_reason(exc: BaseException) -> str:
    text = redact(" ".join(str(exc).split()))
    if "No configuration found" in text:
        return "no configuration found (empty or missing file)"
    return text[:200]
