"""A throwaway MariaDB server, a mysqld_exporter reading it and a Prometheus scraping that
exporter every second: the real MySQL families, made by a real server under load.

`mariadb-install-db` initialises a temp data directory; `mariadbd` runs on a free loopback
port and a socket of its own (``--no-defaults``: Debian's /etc/mysql never applies, and
Debian's own service is never started). As root the server runs ``--user=root``. Clients are
`mariadb` command-line subprocesses (`Client`), each a session of its own, stopped by PID.
Everything here is stopped and reaped by ``stop()``, at the latest at interpreter exit or on
SIGTERM (testing/backends/process.py). Every wait has a deadline.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import requests
import yaml

from testing.backends.process import (
    _STARTED,
    PROMETHEUS_BIN,
    Backend,
    BackendError,
    PathLike,
    _install_sigterm_hook,
    _subdir,
    _tail,
    free_port,
    start,
)

# /usr/sbin is off a user's PATH on Debian
MARIADBD_BIN = os.environ.get("TRIAGE_TEST_MARIADBD") or shutil.which("mariadbd") or "/usr/sbin/mariadbd"
INSTALL_DB_BIN = os.environ.get("TRIAGE_TEST_MARIADB_INSTALL_DB", "mariadb-install-db")
CLIENT_BIN = os.environ.get("TRIAGE_TEST_MARIADB", "mariadb")
EXPORTER_BIN = os.environ.get("TRIAGE_TEST_MYSQLD_EXPORTER", "prometheus-mysqld-exporter")
BINARIES = (MARIADBD_BIN, INSTALL_DB_BIN, CLIENT_BIN, EXPORTER_BIN, PROMETHEUS_BIN)
# the longest unix socket path mariadbd takes (sun_path is 108 bytes with its NUL)
SOCKET_PATH_MAX = 107


def _popen(kind: str, argv: Sequence[str], log_path: Path, **kw) -> subprocess.Popen:
    """A process in a session of its own, registered to be stopped by PID (SIGTERM hook, atexit)."""
    with open(log_path, "ab") as logf:
        logf.write(f"\n$ {' '.join(argv)}\n".encode())
        logf.flush()
        try:
            proc = subprocess.Popen(list(argv), stdout=logf, stderr=subprocess.STDOUT,
                                    start_new_session=True, **kw)
        except OSError as e:
            raise BackendError(f"{kind}: cannot run {argv[0]}: {e}") from e
    _STARTED[proc.pid] = proc
    _install_sigterm_hook()
    return proc


class MariaDB(Backend):
    """A running `mariadbd`: ``.port``, ``.socket``, ``.password`` (root's) and ``.sql()``."""

    port: int
    socket: Path
    password: str
    short_dir: Path | None = None   # the socket's own directory when the work dir's path is too long for one

    def stop(self) -> None:
        try:
            super().stop()
        finally:
            if self.short_dir is not None:
                shutil.rmtree(self.short_dir, ignore_errors=True)

    def client_argv(self, *, database: str | None = None, password: str | None = None) -> list[str]:
        password = self.password if password is None else password
        argv = [CLIENT_BIN, "--no-defaults", f"--socket={self.socket}", "--user=root",
                f"--password={password}", "--batch", "--skip-column-names"]
        return argv + ([database] if database else [])

    def sql(self, statements: str, *, database: str | None = None, timeout: float = 30.0,
            password: str | None = None) -> str:
        """Run statements in one client session and return its output; raises on failure."""
        try:
            done = subprocess.run(self.client_argv(database=database, password=password), input=statements, text=True,
                                  capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired as e:
            raise self.fail(f"SQL did not finish in {timeout:.0f}s") from e
        if done.returncode != 0:
            err = done.stderr.strip()[-500:]
            if self.password:
                err = err.replace(self.password, "***")
            raise self.fail(f"SQL failed ({done.returncode}): {err}")
        return done.stdout

    def client(self, statements: str, *, database: str | None = None) -> Client:
        """A session running `statements` in the background (a lock holder, a waiter, an idle connection)."""
        log = self.workdir / "clients.log"
        proc = _popen("mariadb client", self.client_argv(database=database), log, stdin=subprocess.PIPE)
        assert proc.stdin is not None
        proc.stdin.write(statements.encode())
        proc.stdin.close()
        return Client(proc)


class Client:
    """One background `mariadb` session; ``stop()`` ends it by PID (its server session with it)."""

    def __init__(self, proc: subprocess.Popen) -> None:
        self.proc = proc

    def stop(self, timeout: float = 10.0) -> None:
        try:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(timeout=timeout)
        finally:
            _STARTED.pop(self.proc.pid, None)


def start_mariadb(workdir: PathLike, *, max_connections: int = 100, ready_timeout: float = 60.0,
                  extra_args: Sequence[str] = ()) -> MariaDB:
    """Initialise a data directory and start `mariadbd` on a free loopback port; returns once
    root can log in with the password it was given. Performance schema and the
    QUERY_RESPONSE_TIME plugin are on, so the exporter has their families too."""
    wd = _subdir(workdir, "mariadb")
    datadir, sock, log = wd / "data", wd / "mysqld.sock", wd / "mariadb.log"
    root = ["--user=root"] if os.geteuid() == 0 else []
    # its own temporary directory: servers bootstrapping side by side (the suite's workers, the lab's
    # stacks) must not share /tmp's `#sql-temptable-*` files (one's clean-up aborted another's install)
    tmpdir = wd / "tmp"
    tmpdir.mkdir()
    argv = [INSTALL_DB_BIN, "--no-defaults", f"--datadir={datadir}", "--auth-root-authentication-method=normal",
            "--skip-test-db", "--skip-name-resolve", f"--tmpdir={tmpdir}", *root]
    with open(log, "ab") as logf:
        try:
            rc = subprocess.run(argv, stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                timeout=180).returncode
        except (OSError, subprocess.TimeoutExpired) as e:
            raise BackendError(f"mariadb-install-db: {e}\n{_tail(log)}") from e
    if rc != 0:
        raise BackendError(f"mariadb-install-db exited {rc}\n--- last lines of {log} ---\n{_tail(log)}")
    short_dir = None
    if len(os.fsencode(sock)) > SOCKET_PATH_MAX:   # a deep temp dir (pytest-xdist's per-worker base, say)
        short_dir = Path(tempfile.mkdtemp(prefix="triage-mariadb-"))
        sock = short_dir / "mysqld.sock"
    port = free_port()
    try:
        proc = _popen("mariadb", [
            MARIADBD_BIN, "--no-defaults", f"--datadir={datadir}", f"--socket={sock}", f"--port={port}",
            "--bind-address=127.0.0.1", f"--pid-file={wd / 'mysqld.pid'}", f"--tmpdir={tmpdir}",
            f"--max-connections={max_connections}",
            "--skip-name-resolve", "--skip-log-bin", "--innodb-buffer-pool-size=32M", "--innodb-log-file-size=16M",
            "--innodb-flush-log-at-trx-commit=0", "--performance-schema=ON", "--plugin-load-add=query_response_time",
            "--query-response-time-stats=ON", *root, *extra_args], log, stdin=subprocess.DEVNULL)
    except BaseException:
        if short_dir is not None:
            shutil.rmtree(short_dir, ignore_errors=True)
        raise
    server = MariaDB("mariadb", proc, f"mysql://127.0.0.1:{port}", wd, log)
    server.port, server.socket, server.password = port, sock, ""
    server.short_dir = short_dir
    try:
        password = secrets.token_hex(12)
        deadline = time.monotonic() + ready_timeout
        while True:
            if not server.running:
                raise server.fail(f"exited with code {proc.returncode} before it was ready")
            done = subprocess.run(server.client_argv(password=""), input="SELECT 1;", text=True, capture_output=True,
                                  timeout=10)
            if done.returncode == 0:
                break
            if time.monotonic() > deadline:
                raise server.fail(f"no login after {ready_timeout:.0f}s: {done.stderr.strip()[:300]}")
            time.sleep(0.2)
        server.password = password   # before the statements, so a failure's message hides it
        server.sql("CREATE USER IF NOT EXISTS 'root'@'127.0.0.1';"
                   "GRANT ALL ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;"
                   f"ALTER USER 'root'@'127.0.0.1' IDENTIFIED BY '{password}';"
                   f"ALTER USER 'root'@'localhost' IDENTIFIED BY '{password}';", password="")
    except BaseException:
        server.stop()
        raise
    return server


def start_exporter(server: MariaDB, workdir: PathLike, *, collectors: Sequence[str] = (),
                   ready_timeout: float = 30.0) -> Backend:
    """prometheus-mysqld-exporter on a free loopback port, reading `server` over TCP; returns
    once its /metrics says ``mysql_up 1``."""
    wd = _subdir(workdir, "mysqld-exporter")
    cnf = wd / "my.cnf"
    cnf.write_text(f"[client]\nuser=root\npassword={server.password}\nhost=127.0.0.1\nport={server.port}\n")
    cnf.chmod(0o600)

    def argv_for(port: int) -> list[str]:
        return [EXPORTER_BIN, f"--config.my-cnf={cnf}", f"--web.listen-address=127.0.0.1:{port}",
                *[f"--{c}" for c in collectors]]

    exporter = start("mysqld-exporter", argv_for, wd, "/metrics", ready_timeout)
    try:
        deadline = time.monotonic() + ready_timeout
        while "\nmysql_up 1" not in exporter.http.get(exporter.url + "/metrics", timeout=10).text:
            if time.monotonic() > deadline or not exporter.running:
                raise exporter.fail("mysql_up is not 1")
            time.sleep(0.3)
    except BaseException:
        exporter.stop()
        raise
    return exporter


def start_scraping_prometheus(targets: dict[str, str], workdir: PathLike, *,
                              ready_timeout: float = 60.0) -> Backend:
    """Prometheus scraping each ``job: host:port`` every second; returns once every target is up."""
    wd = _subdir(workdir, "prometheus")
    config = wd / "prometheus.yml"
    config.write_text(yaml.safe_dump({
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
        "scrape_configs": [{"job_name": job, "static_configs": [{"targets": [addr]}]}
                           for job, addr in targets.items()],
    }))

    def argv_for(port: int) -> list[str]:
        return [PROMETHEUS_BIN, f"--config.file={config}", f"--storage.tsdb.path={wd / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{port}"]

    prom = start("prometheus", argv_for, wd, "/-/ready", ready_timeout)
    try:
        deadline = time.monotonic() + ready_timeout
        while True:
            try:
                up = {r["metric"]["job"] for r in prom.query("up == 1")}
            except (requests.RequestException, BackendError, KeyError):
                up = set()
            if up >= set(targets):
                break
            if time.monotonic() > deadline:
                raise prom.fail(f"targets not up after {ready_timeout:.0f}s: {sorted(set(targets) - up)}")
            time.sleep(0.3)
    except BaseException:
        prom.stop()
        raise
    return prom


def available() -> list[str]:
    """The binaries this module needs that are not on PATH."""
    return [b for b in BINARIES if shutil.which(b) is None and not os.access(b, os.X_OK)]
