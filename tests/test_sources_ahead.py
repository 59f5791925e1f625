"""`triage.sources.ahead` and the listing that uses it (issue 17): a page's objects are read in a
thread of their own while the next page is asked for; the objects, their order, what could not be
read and the requests sent are what reading the pages in turn gave."""

from __future__ import annotations

import sys
import threading

import pytest

from testing.k8s import FakeKubeAPI, kubeconfig, load_logs, load_manifests
from testing.k8s.fleet import fleet
from triage.sources.ahead import SWITCH_INTERVAL, Ahead, quick_switching
from triage.sources.kubernetes import KubernetesSource


def test_ahead_gives_the_result_or_raises_the_calls_exception() -> None:
    started = threading.Event()

    def work() -> int:
        started.set()
        return 42

    assert Ahead(work).result() == 42 and started.is_set()

    def fail() -> None:
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        Ahead(fail).result()


def test_quick_switching_nests_and_puts_back_the_interval() -> None:
    before = sys.getswitchinterval()
    try:
        sys.setswitchinterval(0.005)
        with quick_switching():
            assert sys.getswitchinterval() == pytest.approx(SWITCH_INTERVAL)
            with quick_switching():
                assert sys.getswitchinterval() == pytest.approx(SWITCH_INTERVAL)
            assert sys.getswitchinterval() == pytest.approx(SWITCH_INTERVAL)
        assert sys.getswitchinterval() == pytest.approx(0.005)
        sys.setswitchinterval(0.0005)  # already quicker: left as it is
        with quick_switching():
            assert sys.getswitchinterval() == pytest.approx(0.0005)
        assert sys.getswitchinterval() == pytest.approx(0.0005)
    finally:
        sys.setswitchinterval(before)


def _snapshot(api: FakeKubeAPI, tmp_path, page_size: int, namespace: str = "bench"):
    path = tmp_path / f"kubeconfig-{page_size}"
    path.write_text(kubeconfig(api.url, namespace=namespace))
    source = KubernetesSource(kubeconfig=str(path), page_size=page_size, timeout=10)
    api.reset_requests()
    try:
        return source.snapshot([namespace]), [q for p, q, _ in api.requests if p.endswith("/pods")]
    finally:
        source.close()


@pytest.mark.parametrize("page_size", [1, 7, 50, 500])
def test_pages_read_ahead_give_what_one_page_gives(tmp_path, page_size: int) -> None:
    objects, logs = fleet(120, nodes=3, crash_every=7)
    broken = [o for o in objects if o["kind"] == "Pod"][::23]
    for pod in broken:  # unreadable objects on several pages
        pod["status"]["containerStatuses"][0]["restartCount"] = "many"
    with FakeKubeAPI(objects, logs=logs) as api:
        whole, _ = _snapshot(api, tmp_path, 10_000)
        paged, calls = _snapshot(api, tmp_path, page_size)
    assert len(whole.pods) == 120 - len(broken)
    assert paged.pods == whole.pods and paged.events == whole.events and paged.nodes == whole.nodes
    assert paged.problems == whole.problems and "could not be read" in paged.problems[0][1]
    assert len(calls) == -(-120 // page_size)  # one request a page, none past the last
    assert "continue" not in calls[0] and all("continue" in q for q in calls[1:])


def test_the_switch_interval_is_back_after_a_snapshot(tmp_path) -> None:
    before = sys.getswitchinterval()
    with FakeKubeAPI(load_manifests(), logs=load_logs()) as api:
        snap, _ = _snapshot(api, tmp_path, 2, "shop")
    assert snap.pods and sys.getswitchinterval() == before
