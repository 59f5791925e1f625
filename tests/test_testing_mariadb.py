"""testing/backends/mariadb.py: a MariaDB started under a work directory too deep for a unix socket
path (pytest-xdist's per-worker base directory made the lab's one 120 bytes) gets its socket in a
short directory of its own, which goes when the server stops."""

from __future__ import annotations

import os

import pytest

from testing.backends import mariadb

pytestmark = pytest.mark.skipif(bool(mariadb.available()),
                                reason=f"missing {', '.join(mariadb.available())} (scripts/test installs them)")


def test_a_work_directory_too_deep_for_a_socket(tmp_path):
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    server = mariadb.start_mariadb(deep)
    try:
        assert len(os.fsencode(server.workdir / "mysqld.sock")) > mariadb.SOCKET_PATH_MAX
        assert server.short_dir is not None and server.socket.parent == server.short_dir
        assert len(os.fsencode(server.socket)) <= mariadb.SOCKET_PATH_MAX
        assert server.sql("SELECT 40 + 2;").split()[-1] == "42"
    finally:
        server.stop()
    assert not server.short_dir.exists()


def test_a_shallow_one_keeps_the_socket_beside_the_data(tmp_path):
    server = mariadb.start_mariadb(tmp_path)
    try:
        assert server.short_dir is None and server.socket.parent == server.workdir
    finally:
        server.stop()
