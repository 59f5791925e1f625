"""The suite's own scheduling under pytest-xdist (tests/conftest.py): a module's tests are one unit,
the two live-lab modules one unit between them (one lab for the session), and the lab goes first."""

from __future__ import annotations

import argparse

import pytest

from tests import conftest

pytest.importorskip("xdist")


def test_a_module_is_one_unit_and_the_live_lab_modules_share_one():
    assert conftest.scope_of("tests/test_lab_live.py::test_pool_exhaustion") == \
        conftest.scope_of("tests/test_lab_live_mysql.py::test_lock_contention[a]")
    assert conftest.scope_of("tests/test_x.py::test_a") == conftest.scope_of("tests/test_x.py::TestY::test_b[1]")
    assert conftest.scope_of("tests/test_x.py::test_a") != conftest.scope_of("tests/test_y.py::test_a")
    assert conftest.scope_of("tests/faults/test_z.py::test_a") == "tests/faults/test_z.py"


class Config:
    def __init__(self, dist: str) -> None:
        self.option = argparse.Namespace(dist=dist, numprocesses=2, tx=["2*popen"], maxprocesses=None,
                                         loadscopereorder=True)

    def getoption(self, name: str):
        return getattr(self.option, name)

    getvalue = getoption


def test_loadfile_gets_the_suites_scheduler_in_collection_order():
    config = Config("loadfile")
    scheduler = conftest.pytest_xdist_make_scheduler(config, None)
    assert scheduler is not None
    assert scheduler._split_scope("tests/test_lab_live_mysql.py::t") == "live-lab"
    assert config.option.loadscopereorder is False


@pytest.mark.parametrize("dist", ["load", "loadscope", "loadgroup", "worksteal"])
def test_another_dist_mode_of_your_own_is_left_to_xdist(dist):
    assert conftest.pytest_xdist_make_scheduler(Config(dist), None) is None


def test_a_worker_runs_the_live_lab_first():
    class Item:
        def __init__(self, nodeid: str) -> None:
            self.nodeid = nodeid

    items = [Item("tests/test_a.py::t"), Item("tests/test_lab_live_mysql.py::t"), Item("tests/test_b.py::t"),
             Item("tests/test_lab_live.py::t")]
    worker = argparse.Namespace(workerinput={})
    conftest.pytest_collection_modifyitems(worker, items)
    assert [i.nodeid for i in items] == ["tests/test_lab_live_mysql.py::t", "tests/test_lab_live.py::t",
                                         "tests/test_a.py::t", "tests/test_b.py::t"]
    alone = [Item("tests/test_b.py::t"), Item("tests/test_lab_live.py::t")]
    conftest.pytest_collection_modifyitems(argparse.Namespace(), alone)   # one process: collection order
    assert [i.nodeid for i in alone] == ["tests/test_b.py::t", "tests/test_lab_live.py::t"]
