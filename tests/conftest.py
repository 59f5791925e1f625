"""Shared fixtures: an isolated home, and real backends loaded with the scenario library."""

from __future__ import annotations

import importlib.util
import os
import shutil

import pytest


def pytest_configure(config):
    """SIGTERM (scripts/test stopping a run, a CI timeout) ends pytest as Ctrl-C does: the fixtures'
    finalizers stop what they started (the backends also on their own: testing/backends/process.py)."""
    from testing.backends.process import sigterm_as_interrupt

    sigterm_as_interrupt()


# The modules that share the session's live lab (tests/lab_live_run.py): one xdist worker runs them all.
LIVE_LAB_MODULES = ("tests/test_lab_live.py", "tests/test_lab_live_mysql.py")


def _module_of(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def scope_of(nodeid: str) -> str:
    """The unit of work a test goes out in under xdist: its module, the live-lab modules one unit."""
    module = _module_of(nodeid)
    return "live-lab" if module in LIVE_LAB_MODULES else module


def pytest_collection_modifyitems(config, items):
    """On an xdist worker (scripts/test runs `-n N --dist loadfile`) the live-lab modules go first: the
    lab mostly waits (~5 min) while the other workers run the rest."""
    if hasattr(config, "workerinput"):
        items.sort(key=lambda item: _module_of(item.nodeid) not in LIVE_LAB_MODULES)


if importlib.util.find_spec("xdist") is not None:
    def pytest_xdist_make_scheduler(config, log):
        """`--dist loadfile`, except that the live-lab modules are one unit (one worker, one lab), and
        the units go out in collection order (the lab first), not largest first."""
        if config.getoption("dist") != "loadfile":
            return None
        from xdist.scheduler import LoadScopeScheduling

        class ModuleScheduling(LoadScopeScheduling):
            def _split_scope(self, nodeid: str) -> str:
                return scope_of(nodeid)

        config.option.loadscopereorder = False
        return ModuleScheduling(config, log)


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory, monkeypatch):
    """No test reads the developer's own triage config or cache."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    # the user's cache (help text, query catalog) too: a developer's XDG_CACHE_HOME is not shared
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    for key in list(os.environ):
        if key.startswith("TRIAGE_"):
            monkeypatch.delenv(key)
    return home


def need(binary: str) -> str:
    path = shutil.which(binary)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{binary} is not installed; .ci/run must install it")
        pytest.skip(f"{binary} is not installed")
    return path


PROM_WEB_USER = "triage"
PROM_WEB_PASSWORD = "correct-horse-battery"
# bcrypt of PROM_WEB_PASSWORD (a hash is not a secret; it lets a real Prometheus demand basic auth)
PROM_WEB_HASH = "$2b$04$fbPnlr3eweOYk/Cs8XeLDOT1schFvuDGKV3c.21NGD..TegiNli/q"


@pytest.fixture(scope="session")
def fleet_dataset():
    from testing.scenarios.library import bottleneck_fleet, default_fleet, export_dataset

    return export_dataset(default_fleet() + bottleneck_fleet())


@pytest.fixture(scope="session")
def prometheus_server(fleet_dataset, tmp_path_factory):
    """A real Prometheus holding the scenario library, backfilled with promtool."""
    need("prometheus")
    need("promtool")
    from testing.backends import prometheus_from_openmetrics

    openmetrics, _ = fleet_dataset
    with prometheus_from_openmetrics(openmetrics, tmp_path_factory.mktemp("prometheus")) as backend:
        yield backend


@pytest.fixture(scope="session")
def victoria_metrics_server(fleet_dataset, tmp_path_factory):
    """A real VictoriaMetrics holding the same scenario library."""
    need("victoria-metrics")
    from testing.backends import victoria_metrics_from_import

    _, vm_text = fleet_dataset
    with victoria_metrics_from_import(vm_text, tmp_path_factory.mktemp("victoria")) as backend:
        yield backend


@pytest.fixture(scope="session", params=["prometheus", "victoria-metrics"])
def metrics_backend(request):
    """Every detect test runs against both backends: same queries, same verdicts."""
    name = "prometheus_server" if request.param == "prometheus" else "victoria_metrics_server"
    return request.getfixturevalue(name)


@pytest.fixture(scope="session")
def alertmanager_server(tmp_path_factory):
    need("prometheus-alertmanager")
    from testing.backends import alertmanager

    with alertmanager(tmp_path_factory.mktemp("alertmanager")) as backend:
        yield backend


@pytest.fixture(scope="session")
def live_lab(tmp_path_factory):
    """Every live-lab scenario this machine can run, in one lab for the session (tests/lab_live_run.py)."""
    from tests.lab_live_run import run

    return run(tmp_path_factory.mktemp("lab-live"))
