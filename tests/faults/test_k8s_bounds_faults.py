"""Bounded answers from Kubernetes and Docker (issue 13, item 4).

A gzip bomb (3 MB on the wire, 3 GiB decoded), a plain 3 GiB body, an API server that hands out
continue tokens forever, one that trickles a byte at a time: on a list, a pod log, or a Docker
list / inspect / stats / logs answer. Each becomes a `skipped` entry (or one line) naming what was
read and the cap; the other kinds and sources still run; never `MemoryError`, never a hang.

The program runs as a process with 2 GiB of address space (RLIMIT_AS), so an answer read whole
fails the cell with MemoryError instead of taking the machine's memory.
"""

from __future__ import annotations

import gzip
import json
import os
import time
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from testing.k8s import kubeconfig, load_logs, load_manifests
from tests.faults.conftest import check
from tests.faults.test_exec_plugin_faults import run_process
from tests.faults.test_health_faults import ALL, TOKEN, DockerFaultProxy, FaultKubeAPI

HUGE = 3 << 30          # decoded size of every huge answer: past the 2 GiB the process may use
FILL = 16 << 20         # one gzip member of spaces (or log lines)


@cache
def _member(text: bytes) -> bytes:
    return gzip.compress(text * (FILL // len(text)), 9)


def bomb(head: bytes, tail: bytes, filler: bytes = b" ") -> bytes:
    """A valid gzip stream of concatenated members: head, HUGE bytes of filler, tail."""
    return gzip.compress(head) + _member(filler) * (HUGE // FILL) + gzip.compress(tail)


def plain(head: bytes, tail: bytes, filler: bytes = b" ") -> tuple[dict, Callable[[], Iterator[bytes]]]:
    block = filler * ((1 << 20) // len(filler))
    count = HUGE // len(block)

    def chunks() -> Iterator[bytes]:
        yield head
        for _ in range(count):
            yield block
        yield tail
    return {"Content-Length": str(len(head) + len(block) * count + len(tail))}, chunks


LIST_HEAD, LIST_TAIL = b'{"kind":"PodList","apiVersion":"v1","metadata":{},"items":[', b"]}"
LOG = b"ERROR database gone\n"


def _trickle() -> Iterator[bytes]:
    yield LIST_HEAD
    for _ in range(120):
        time.sleep(0.5)
        yield b" "
    yield LIST_TAIL


def _endless(path: str, query: dict) -> tuple:
    n = int((query.get("continue") or ["0"])[0] or 0)
    return 200, {"kind": "PodList", "apiVersion": "v1", "metadata": {"continue": str(n + 1)}, "items": []}


K8S: dict[str, tuple[Callable[[str, dict], Any], str]] = {
    # case → (fault(path, query), what the skipped reason says)
    "pods list: gzip bomb": (lambda p, q: (200, bomb(LIST_HEAD, LIST_TAIL), {"Content-Encoding": "gzip"})
                             if p.endswith("/pods") else None, "MiB"),
    "pods list: 3 GiB plain body": (lambda p, q: (200, plain(LIST_HEAD, LIST_TAIL)[1], plain(LIST_HEAD, LIST_TAIL)[0])
                                    if p.endswith("/pods") else None, "MiB"),
    "events list: gzip bomb": (lambda p, q: (200, bomb(LIST_HEAD, LIST_TAIL), {"Content-Encoding": "gzip"})
                               if p.endswith("/events") else None, "MiB"),
    "nodes list: 3 GiB plain body": (lambda p, q: (200, plain(LIST_HEAD, LIST_TAIL)[1], plain(LIST_HEAD, LIST_TAIL)[0])
                                     if p.endswith("/nodes") else None, "MiB"),
    "pods list: continue tokens forever": (lambda p, q: _endless(p, q) if p.endswith("/pods") else None, "pages"),
    "pods list: one byte every 0.5 s": (lambda p, q: (200, _trickle, {}) if p.endswith("/pods") else None,
                                        "did not answer within 2s"),
    "pod log: gzip bomb": (lambda p, q: (200, bomb(b"", b"", LOG), {"Content-Encoding": "gzip"})
                           if p.endswith("/log") else None, "MiB"),
    "pod log: 3 GiB plain body": (lambda p, q: (200, plain(b"", b"", LOG)[1], plain(b"", b"", LOG)[0])
                                  if p.endswith("/log") else None, "MiB"),
}


@pytest.mark.parametrize("case", list(K8S))
def test_kubernetes_answer_is_bounded(tmp_path, case):
    fault, phrase = K8S[case]
    api = FaultKubeAPI(load_manifests(), logs=load_logs(), tokens={TOKEN: ALL}, fault=fault)
    path = tmp_path / "kubeconfig"
    path.write_text(kubeconfig(api.url, token=TOKEN, namespace="shop"))
    # 2 s is the deadline the trickle must meet; a size cap must be met first, so its cases get more
    # time (inflating up to the cap on a loaded machine can take longer than 2 s)
    timeout = "2" if phrase.startswith("did not answer") else "20"
    with api:
        result = run_process(["health", "--no-docker", "-n", "shop", "--timeout", timeout, "-o", "json"],
                             {"KUBECONFIG": str(path), "HOME": str(tmp_path)}, tmp_path, limit=60)
        pod_lists = api.count("/api/v1/namespaces/shop/pods")
    check(result, {2, 3}, secrets=[TOKEN])
    payload = json.loads(result.stdout)
    reasons = [s["reason"] for s in payload["skipped"] if s["source"] == "kubernetes"]
    assert "MemoryError" not in result.stderr + " ".join(reasons), reasons
    assert any(phrase in r for r in reasons), reasons
    assert not any("internal error" in r for r in reasons), reasons
    if "pods" in case and "forever" in case:
        assert pod_lists <= 1100, f"{pod_lists} pod list pages"
    if "log" in case:  # the log was the only thing too big: the pods were judged
        assert any(f["reason"] == "CrashLoopBackOff" for f in payload["findings"]), payload["findings"]
        [line] = [r for r in reasons if phrase in r]
        assert "log" in line, line


# ---- Docker: a real dockerd behind the fault proxy -----------------------------------------------

@pytest.fixture(scope="module")
def engine():
    from tests.conftest import need

    need("dockerd")
    if os.geteuid() != 0:
        pytest.skip("dockerd needs root")
    from testing.docker_engine import start_engine

    with start_engine() as running:
        running.import_busybox()
        for name in ("web-1", "web-2"):
            running.run(name, "exec sleep 3600")
        running.run("crashy", "echo ERROR database gone; exit 3")
        running.wait_for(lambda: running.state("crashy")["State"]["Status"] == "exited", "crashy to exit")
        yield running


def _bombed(cond: Callable[[str], bool], head: bytes, tail: bytes, filler: bytes = b" ", *, gz: bool = True):
    def answer(path: str):
        if not cond(path):
            return None
        if gz:
            data = bomb(head, tail, filler)
            return 200, {"Content-Type": "application/json", "Content-Encoding": "gzip",
                         "Content-Length": str(len(data))}, [data]
        headers, chunks = plain(head, tail, filler)
        return 200, {"Content-Type": "application/json", **headers}, chunks()
    return answer


def _is(kind: str) -> Callable[[str], bool]:
    def cond(path: str) -> bool:
        bare = path.split("?")[0]
        if kind == "list":
            return bare.endswith("/containers/json")
        if kind == "version":
            return bare.endswith("/version")
        if kind == "inspect":
            return bare.endswith("/json") and not bare.endswith("/containers/json")
        return bare.endswith(f"/{kind}")
    return cond


DOCKER = {
    # case → (answer hook, what the skipped reason says, whether the report still judges the containers)
    "version (the SDK's first call): gzip bomb": (_bombed(_is("version"), b"{", b"}"), "MiB", False),
    "list: gzip bomb": (_bombed(_is("list"), b"[", b"]"), "MiB", False),
    "list: 3 GiB plain body": (_bombed(_is("list"), b"[", b"]", gz=False), "MiB", False),
    "inspect: 3 GiB plain body": (_bombed(_is("inspect"), b'{"Id":"x","Name":"/x"', b"}", gz=False), "MiB", False),
    "stats: gzip bomb": (_bombed(_is("stats"), b"{", b"}"), None, True),
    "logs: 3 GiB plain body": (_bombed(_is("logs"), b"", b"", LOG, gz=False), "MiB", True),
    "logs: gzip bomb": (_bombed(_is("logs"), b"", b"", LOG), "MiB", True),
}


@pytest.mark.parametrize("case", list(DOCKER))
def test_docker_answer_is_bounded(tmp_path, engine, case):
    answer, phrase, judged = DOCKER[case]
    with DockerFaultProxy(engine.sock, str(tmp_path / "p.sock"), lambda path: None, answer=answer) as proxy:
        result = run_process(["health", "--no-kubernetes", "--timeout", "5", "-o", "json"],
                             {"DOCKER_HOST": proxy.host, "HOME": str(tmp_path)}, tmp_path, limit=60)
    check(result, {0, 1, 2, 3})
    payload = json.loads(result.stdout)
    reasons = [s["reason"] for s in payload["skipped"] if s["source"] == "docker"]
    assert "MemoryError" not in result.stderr + " ".join(reasons), reasons
    assert not any("internal error" in r for r in reasons), reasons
    if phrase is not None:
        assert any(phrase in r for r in reasons), reasons
    names = {f["name"] for f in payload["findings"]}
    if judged:
        assert {"web-1", "web-2", "crashy"} <= names, payload
    else:
        assert result.code == 3


# ---- --apply: the apply fake answering the GET or the PATCH with a bomb ---------------------------

def _answer(gz: bool):
    def make():
        if gz:
            data = bomb(b'{"kind":"Scale","spec":{"replicas":2', b"}}")
            return {"Content-Type": "application/json", "Content-Encoding": "gzip",
                    "Content-Length": str(len(data))}, [data]
        headers, chunks = plain(b'{"kind":"Scale","spec":{"replicas":2', b"}}")
        return {"Content-Type": "application/json", **headers}, chunks()
    return make


APPLY = {
    # case → (method answered so, gzip?, PATCHes that reach the fake)
    "GET of the scale: gzip bomb": ("GET", True, 0),
    "GET of the scale: 3 GiB plain body": ("GET", False, 0),
    "answer to the PATCH: gzip bomb": ("PATCH", True, 1),
}


@pytest.mark.parametrize("case", list(APPLY))
def test_apply_answer_is_bounded(tmp_path, case):
    from testing.k8s.apply import TOKEN as APPLY_TOKEN
    from testing.k8s.apply import deployment
    from tests.faults.test_apply_faults import FaultKube, record_for

    method, gz, patches = APPLY[case]
    rec = record_for(tmp_path, "scale")
    with FaultKube([deployment("orders", "shop", 2)]) as cluster:
        path = cluster.kubeconfig(tmp_path / "kubeconfig")
        cluster.fault = (method, _answer(gz))
        result = run_process(["mitigate", "--from", str(rec), "--apply", "--yes", "--timeout", "5", "-o", "json"],
                             {"KUBECONFIG": str(path), "HOME": str(tmp_path)}, tmp_path, limit=60)
        sent = len(cluster.patches())
    check(result, {2}, secrets=[APPLY_TOKEN])
    [action] = json.loads(result.stdout)["actions"]
    assert action["result"].startswith("failed: ") and "MiB" in action["result"] and "cap" in action["result"], action
    if method == "PATCH":
        assert "check it" in action["result"], action
    assert sent == patches
    assert json.loads(rec.read_text())["actions"][-1]["result"] == action["result"]


# ---- the kubeconfig itself: read whole by the client ----------------------------------------------

@pytest.mark.parametrize("case", ["/dev/zero", "a FIFO nobody writes", "a 40 MB file"])
def test_kubeconfig_that_cannot_be_read_whole(tmp_path, case):
    if case == "/dev/zero":
        path = Path("/dev/zero")
    elif case.startswith("a FIFO"):
        path = tmp_path / "kubeconfig"
        os.mkfifo(path)
    else:
        path = tmp_path / "kubeconfig"
        with open(path, "wb") as fh:
            fh.write(b"# padding\n" * (4 << 20))
    result = run_process(["health", "--no-docker", "--timeout", "2", "-o", "json"],
                         {"KUBECONFIG": str(path), "HOME": str(tmp_path)}, tmp_path, limit=30)
    check(result, {3})
    [skip] = [s for s in json.loads(result.stdout)["skipped"] if s["source"] == "kubernetes"]
    assert str(path) in skip["reason"] and ("regular file" in skip["reason"] or "too large" in skip["reason"]), skip


def test_a_slow_endless_list_ends_at_the_checks_deadline(tmp_path):
    """Continue tokens forever at 0.3 s a page, `--timeout 0.5`: every request is in time, the list
    never ends; all of the run's requests end within 30 x --timeout (15 s) and pods are skipped."""
    def slow_endless(p: str, q: dict):
        if not p.endswith("/pods"):
            return None
        time.sleep(0.3)
        return _endless(p, q)

    api = FaultKubeAPI(load_manifests(), logs=load_logs(), tokens={TOKEN: ALL}, fault=slow_endless)
    path = tmp_path / "kubeconfig"
    path.write_text(kubeconfig(api.url, token=TOKEN, namespace="shop"))
    with api:
        result = run_process(["health", "--no-docker", "-n", "shop", "--timeout", "0.5", "-o", "json"],
                             {"KUBECONFIG": str(path), "HOME": str(tmp_path)}, tmp_path, limit=45)
        pages = api.count("/api/v1/namespaces/shop/pods")
    check(result, {2, 3}, secrets=[TOKEN])
    reasons = [s["reason"] for s in json.loads(result.stdout)["skipped"] if s["source"] == "kubernetes"]
    assert any("deadline of 15s" in r and "list pods" in r for r in reasons), reasons
    assert pages < 1000, pages


@pytest.mark.parametrize("case", ["version: gzip bomb", "inspect: 3 GiB plain body", "no fault (restarted)"])
def test_apply_docker_answer_is_bounded(tmp_path, engine, case):
    """`mitigate --apply` restarting a container of a configured service through the socket proxy."""
    from tests.test_playbooks import finding, health_doc

    answer = {"version: gzip bomb": _bombed(_is("version"), b"{", b"}"),
              "inspect: 3 GiB plain body": _bombed(lambda p: p.split("?")[0].endswith("/containers/web-2/json"),
                                                   b'{"Id":"x"', b"}", gz=False)}.get(case, lambda path: None)
    (tmp_path / "triage.yaml").write_text("services:\n  web:\n    namespace: shop\n")
    health = tmp_path / "health.json"
    health.write_text(json.dumps(health_doc(finding("Unhealthy", kind="container", name="web-2"))))
    started = engine.state("web-2")["State"]["StartedAt"]
    with DockerFaultProxy(engine.sock, str(tmp_path / "p.sock"), lambda path: None, answer=answer) as proxy:
        result = run_process(["mitigate", "--health-from", str(health), "--apply", "--yes", "-o", "json"],
                             {"DOCKER_HOST": proxy.host, "HOME": str(tmp_path)}, tmp_path, limit=60)
    check(result, {2})
    [action] = json.loads(result.stdout)["actions"]
    if case.startswith("no fault"):
        assert action["result"] == "ok", action
        assert engine.state("web-2")["State"]["StartedAt"] != started
    else:
        assert action["result"].startswith(f"failed: Docker at {proxy.host}") and "MiB" in action["result"], action
        assert engine.state("web-2")["State"]["StartedAt"] == started, "restarted after an unreadable answer"
