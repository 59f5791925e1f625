"""What `health` reads from a cluster (connected by `connect.py`): one paginated list call per
resource kind (pods, events, deployments, HPAs, nodes) run concurrently, and pod logs for the
containers the checks ask about. Bodies are read with `_preload_content=False` and turned
straight into `triage.models.health` values (`parse.py`): deserialising thousands of `V1Pod`
objects costs more than the whole rest of the run, and no SDK object may leave this package anyway.

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
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote

from triage.errors import SourceError
from triage.models.health import Deployment, KubeSnapshot, LogRequest, LogText, Pod
from triage.secrets import redact
from triage.sources.ahead import Ahead, quick_switching
from triage.sources.bounded import AnswerTooLarge, AnswerTooSlow, mib, read_bounded
from triage.sources.http import network_reason
from triage.sources.kubernetes.connect import (
    SERVICE_ACCOUNT_DIR,
    ExecPluginError,
    KubeconfigError,
    connect,
)
from triage.sources.kubernetes.direct import DirectApiError, DirectClient
from triage.sources.kubernetes.direct import load as load_direct
from triage.sources.kubernetes.parse import PARSE

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

# resource → (API group for messages, whether it is namespaced)
_RESOURCES = {
    "pods": ("", True),
    "events": ("", True),
    "deployments": ("apps", True),
    "horizontalpodautoscalers": ("autoscaling", True),
    "nodes": ("", False),
}


class _RunOver(Exception):
    """The run's deadline passed: no further request is sent."""


class _ListError(Exception):
    """One list call failed. `fatal` ones (unreachable, timeout, 401) stop the whole source."""

    def __init__(self, message: str, *, fatal: bool) -> None:
        super().__init__(message)
        self.message = message
        self.fatal = fatal


class KubernetesSource:
    """A cluster reached like kubectl reaches it. Config is loaded on first use, so building one is cheap."""

    backend = "kubernetes"

    def __init__(self, *, context: str | None = None, kubeconfig: str | None = None,
                 timeout: float = DEFAULT_TIMEOUT, max_concurrency: int = 8, page_size: int = PAGE_SIZE,
                 environment: Mapping[str, str] | None = None,
                 service_account_dir: str = SERVICE_ACCOUNT_DIR, run_budget: float | None = None) -> None:
        self._k8s: Any = None  # the SDK, imported only when the kubeconfig needs it (see `direct`)
        # What an answer outside 2xx is raised as: DirectApiError, and the SDK's ApiException once it is used.
        self._api_errors: tuple[type[BaseException], ...] = (DirectApiError,)
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

    def _connect(self) -> Any:
        if self._api is not None:
            return self._api
        try:
            direct = load_direct(context=self.context, kubeconfig=self.kubeconfig, env=self._env,
                                 service_account_dir=str(self._sa_dir))
        except KubeconfigError as exc:
            raise SourceError(exc.message, backend=self.backend) from None
        if direct is not None:
            self._namespace = direct.namespace
            self.where = direct.where
            self._api = DirectClient(direct, max(self.max_concurrency, 4))
            return self._api
        import kubernetes.client  # the SDK, for what the direct reading does not handle
        import kubernetes.client.exceptions
        import kubernetes.config

        self._k8s = kubernetes
        self._api_errors = (DirectApiError, kubernetes.client.exceptions.ApiException)
        try:
            conn = connect(context=self.context, kubeconfig=self.kubeconfig, env=self._env, timeout=self.timeout,
                           service_account_dir=str(self._sa_dir))
        except KubeconfigError as exc:
            raise SourceError(exc.message, backend=self.backend) from None
        conn.config.connection_pool_maxsize = max(self.max_concurrency, 4)
        self._namespace = conn.namespace
        self.where = conn.where
        self._api = self._k8s.client.ApiClient(conn.config)
        return self._api

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
        """One GET (the direct client's, or the SDK ApiClient's: auth, TLS, proxy, timeouts), the body unparsed,
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
        if isinstance(api, DirectClient):
            return api.get(path, query, accept=accept, cap=cap, error_cap=ERROR_ANSWER_BYTES,
                           connect_timeout=timeout[0], read_timeout=timeout[1], deadline=deadline)
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
        """Every object of one kind, page by page (`limit`/`continue`): one logical call. A page's
        objects are read while the next page is asked for (issue 17: the API server writes a page of
        500 pods in about the time they take to read)."""
        group, namespaced = _RESOURCES[resource]
        prefix = {"": "/api/v1", "apps": "/apis/apps/v1", "autoscaling": "/apis/autoscaling/v2"}[group]
        path = (f"{prefix}/namespaces/{quote(namespace, safe='')}/{resource}" if namespace is not None and namespaced
                else f"{prefix}/{resource}")
        out: list[Any] = []
        scope = self._scope(resource, namespace)

        def page(token: Any, number: int) -> dict[str, Any]:
            query: list[tuple[str, Any]] = [("limit", self.page_size)]
            if selector:
                query.append(("labelSelector", selector))
            if fields:
                query.append(("fieldSelector", fields))
            if token:
                query.append(("continue", token))
            return self._page(path, query, resource, namespace, number)

        pages, parsing = 1, None
        body = page(None, pages)
        while True:
            if parsing is not None:
                parsing.result()
            meta, items = body.get("metadata"), body.get("items")
            # The next page is asked for before this one is read only where it would be asked for
            # next anyway: a continue token, and neither cap reached whatever this page holds.
            if (type(meta) is dict and meta.get("continue") and type(items) is list and pages < MAX_PAGES
                    and len(out) + len(items) <= MAX_LIST_OBJECTS):
                # Read in a thread of its own; the JSON is decoded in this one, where it always was
                # (glibc gives each thread that allocates large blocks an arena of its own).
                parsing = Ahead(partial(self._parse_items, resource, body, out))
                pages += 1
                try:
                    body = page(meta["continue"], pages)
                except BaseException:
                    parsing.result()  # its failure first, as when the pages were read in turn
                    raise
                continue
            self._parse_items(resource, body, out)
            token = (body.get("metadata") or {}).get("continue")
            if not token:
                return out
            pages += 1
            if pages > MAX_PAGES or len(out) > MAX_LIST_OBJECTS:
                raise _ListError(f"list {resource} {scope}: more than {MAX_PAGES} pages or {MAX_LIST_OBJECTS} "
                                 "objects (the cap on one list); not read", fatal=False)
            body = page(token, pages)

    def _page(self, path: str, query: list[tuple[str, Any]], resource: str, namespace: str | None,
              pages: int) -> dict[str, Any]:
        """One page of a list, every way it can fail said as a `_ListError`."""
        scope = self._scope(resource, namespace)
        try:
            body = json.loads(self._get(path, query))
        except self._api_errors as exc:
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
        return body

    def _parse_items(self, resource: str, body: Mapping[str, Any], out: list[Any]) -> None:
        parse = PARSE[resource]
        for item in body.get("items") or ():
            try:
                out.append(parse(item))
            except (ValueError, TypeError, AttributeError, KeyError) as exc:
                # One object nobody foresaw must not hide the others.
                name = ((item.get("metadata") or {}).get("name") if isinstance(item, dict) else None) or "?"
                with self._lock:
                    self._unreadable.setdefault(resource, []).append(f"{name} ({type(exc).__name__}: {exc})")

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
            tasks.append(("events", ns, partial(self._list, "events", ns, fields="type=Warning")))
            tasks.append(("horizontalpodautoscalers", ns, partial(self._list, "horizontalpodautoscalers", ns)))
            if pod_selectors is not None and ns is not None:
                tasks.append(("deployments+pods", ns, partial(self._deployments_then_pods, ns, pod_selectors)))
            else:
                tasks.append(("deployments", ns, partial(self._list, "deployments", ns)))
                tasks.append(("pods", ns, partial(self._list, "pods", ns)))
        if nodes:
            tasks.append(("nodes", None, partial(self._list, "nodes", None)))
        results: dict[str, list[Any]] = {"pods": [], "events": [], "deployments": [], "horizontalpodautoscalers": [],
                                         "nodes": []}
        errors: list[_ListError] = []
        with quick_switching(), ThreadPoolExecutor(max_workers=min(self.max_concurrency, len(tasks))) as pool:
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
            except self._api_errors as exc:
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
