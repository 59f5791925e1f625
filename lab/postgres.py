"""A throwaway PostgreSQL 15 server: initdb in a temp dir, loopback port, SCRAM passwords.

Postgres refuses to run as root, so as root the data directory belongs to the ``postgres``
user (created by Debian's postgresql package) and the server runs as that user.
Durability is traded for speed (``fsync=off``): the data lives as long as one lab run.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import signal
import tempfile
from dataclasses import dataclass
from pathlib import Path

import psycopg

from lab import procs
from lab.procs import LabError

SCHEMA = """
CREATE TABLE events (
    id integer PRIMARY KEY,
    name text NOT NULL,
    venue text NOT NULL,
    starts_at timestamptz NOT NULL,
    price_cents integer NOT NULL,
    tickets_remaining integer NOT NULL
);
CREATE TABLE bookings (
    id bigserial PRIMARY KEY,
    event_id integer NOT NULL REFERENCES events (id),
    user_id integer NOT NULL,
    qty integer NOT NULL CHECK (qty > 0),
    status text NOT NULL,
    payment_id text,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX bookings_event_id ON bookings (event_id);
"""

EVENTS = [
    (1, "Coldplay — Music of the Spheres", "Gelora Bung Karno", 1_000_000),
    (2, "Jazz Goes to Campus", "Universitas Indonesia", 1_000_000),
    (3, "Java Jazz Festival, day 1", "JIExpo Kemayoran", 1_000_000),
    (4, "Java Jazz Festival, day 2", "JIExpo Kemayoran", 1_000_000),
    (5, "Synchronize Fest", "Gambir Expo", 1_000_000),
]
APP_USER = "booking_app"


def _find_bin(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    for base in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (base / name).exists():
            return str(base / name)
    raise LabError(f"{name} not found: install PostgreSQL 15 (Debian: apt-get install postgresql-15)")


@dataclass
class Postgres:
    port: int
    superuser_password: str
    app_password: str
    proc: procs.Proc
    datadir: Path
    own_dir: Path | None = None

    def dsn(self, dbname: str = "postgres", *, user: str = "postgres") -> str:
        password = self.superuser_password if user == "postgres" else self.app_password
        return f"host=127.0.0.1 port={self.port} dbname={dbname} user={user} password={password} connect_timeout=5"

    def url(self, dbname: str = "postgres") -> str:
        """A libpq URL for postgres_exporter (superuser: it reads pg_stat_activity of every backend)."""
        return (f"postgresql://postgres:{self.superuser_password}@127.0.0.1:{self.port}/{dbname}"
                "?sslmode=disable")

    def create_database(self, name: str) -> None:
        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" OWNER {APP_USER}')
        with psycopg.connect(self.dsn(name, user=APP_USER), autocommit=True) as conn:
            conn.execute(SCHEMA)
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO events (id, name, venue, starts_at, price_cents, tickets_remaining) "
                    "VALUES (%s, %s, %s, now() + interval '30 days', 750000, %s)", EVENTS)

    def stop(self) -> None:
        self.proc.stop(timeout=15)
        if self.own_dir is not None:
            shutil.rmtree(self.own_dir, ignore_errors=True)


def start(workdir: Path, port: int, *, max_connections: int = 200) -> Postgres:
    initdb, postgres = _find_bin("initdb"), _find_bin("postgres")
    logdir = workdir / "postgres"
    logdir.mkdir(parents=True, exist_ok=True)
    user = None
    if os.geteuid() == 0:
        try:
            pw = pwd.getpwnam("postgres")
        except KeyError as e:
            raise LabError("running as root, and there is no 'postgres' user to run PostgreSQL as "
                           "(Debian's postgresql-15 package creates it)") from e
        user = "postgres"
        # The server user must reach its data directory: a temp dir of its own (the lab's
        # workdir may sit below directories only root can enter, like pytest's).
        base = Path(tempfile.mkdtemp(prefix="triage-lab-pg-"))
        os.chown(base, pw.pw_uid, pw.pw_gid)
    else:
        base = logdir
    datadir = base / "data"
    proc = None
    try:
        superuser_password = secrets.token_hex(12)
        app_password = secrets.token_hex(12)
        pwfile = base / "pwfile"
        pwfile.write_text(superuser_password + "\n")
        pwfile.chmod(0o600)
        if user:
            os.chown(pwfile, pwd.getpwnam(user).pw_uid, pwd.getpwnam(user).pw_gid)
        log = logdir / "postgres.log"
        procs.run([initdb, "-D", str(datadir), "-U", "postgres", "--auth-local=trust", "--auth-host=scram-sha-256",
                   f"--pwfile={pwfile}", "-E", "UTF8", "--locale=C", "--no-instructions"],
                  log_path=log, user=user, timeout=120)
        pwfile.unlink()
        settings = {
            "listen_addresses": "127.0.0.1", "port": str(port), "unix_socket_directories": "",
            "max_connections": str(max_connections), "shared_buffers": "64MB",
            "fsync": "off", "synchronous_commit": "off", "full_page_writes": "off",
            "password_encryption": "scram-sha-256", "log_min_messages": "warning",
            "log_connections": "off", "deadlock_timeout": "1s", "max_locks_per_transaction": "64",
        }
        argv = [postgres, "-D", str(datadir)] + [a for k, v in settings.items() for a in ("-c", f"{k}={v}")]
        # SIGINT is Postgres' "fast" shutdown: roll back open transactions, close clients, exit.
        proc = procs.start("postgres", argv, log_path=log, user=user, stop_signal=signal.SIGINT)
        server = Postgres(port, superuser_password, app_password, proc, datadir, base if base != logdir else None)

        def ready() -> bool:
            with psycopg.connect(server.dsn(), autocommit=True, connect_timeout=2):
                return True

        procs.wait_until("postgres accepting connections", ready, timeout=60, proc=proc, interval=0.2)
        with psycopg.connect(server.dsn(), autocommit=True) as conn:
            conn.execute(f"CREATE ROLE {APP_USER} LOGIN PASSWORD %s".replace("%s", _literal(app_password)))
        return server
    except BaseException:
        if proc is not None:
            proc.stop(timeout=15)
        if base != logdir:
            shutil.rmtree(base, ignore_errors=True)
        raise


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
