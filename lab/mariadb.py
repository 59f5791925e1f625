"""A throwaway MariaDB server and its mysqld_exporter, for the lab's MySQL stacks.

Reuses testing/backends/mariadb.py: ``mariadb-install-db`` in the stack's workdir,
``mariadbd`` on a free loopback port (``--no-defaults``), Debian's
prometheus-mysqld-exporter reading it as root (with ``collect.info_schema.tables``, so the
catalog can tie the server's signals to the stack's schema). Each MySQL stack gets a
server of its own: lock waits and connection counts are the server's, not a schema's.
The booking service logs in as a non-SUPER user, so ``max_connections`` applies to it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from lab.postgres import EVENTS
from lab.procs import LabError
from testing.backends import mariadb as backend
from testing.backends.process import Backend, BackendError

APP_USER = "booking_app"
LOCK_WAIT_TIMEOUT = 5       # seconds: innodb_lock_wait_timeout (MariaDB's default is 50)

SCHEMA = """
CREATE TABLE events (
    id INT PRIMARY KEY,
    name VARCHAR(200) NOT NULL,
    venue VARCHAR(200) NOT NULL,
    starts_at DATETIME NOT NULL,
    price_cents INT NOT NULL,
    tickets_remaining INT NOT NULL
) ENGINE=InnoDB;
CREATE TABLE bookings (
    id BIGINT AUTO_INCREMENT PRIMARY KEY,
    event_id INT NOT NULL,
    user_id INT NOT NULL,
    qty INT NOT NULL CHECK (qty > 0),
    status VARCHAR(32) NOT NULL,
    payment_id VARCHAR(64),
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    KEY bookings_event_id (event_id),
    FOREIGN KEY (event_id) REFERENCES events (id)
) ENGINE=InnoDB;
"""


def available() -> list[str]:
    """The binaries a MySQL stack needs that are missing."""
    return backend.available()


def _literal(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"


@dataclass
class MariaDB:
    server: backend.MariaDB
    exporter: Backend | None
    app_password: str

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def exporter_target(self) -> str:
        assert self.exporter is not None
        return self.exporter.url.removeprefix("http://")

    def dsn(self, database: str) -> str:
        """The booking service's DSN (``lab.app_mysql`` parses it)."""
        return f"mysql://{APP_USER}:{self.app_password}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> None:
        values = ", ".join(f"({i}, {_literal(n)}, {_literal(v)}, NOW() + INTERVAL 30 DAY, 750000, {t})"
                           for i, n, v, t in EVENTS)
        self.server.sql(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4;"
                        f"GRANT ALL ON `{name}`.* TO '{APP_USER}'@'127.0.0.1';")
        self.server.sql(SCHEMA + "INSERT INTO events (id, name, venue, starts_at, price_cents, tickets_remaining) "
                        f"VALUES {values};", database=name)

    def stop(self) -> None:
        if self.exporter is not None:
            self.exporter.stop()
        self.server.stop()


def start(workdir: Path, *, max_connections: int = 40) -> MariaDB:
    """MariaDB (``max_connections`` for non-SUPER users) and its exporter; raises LabError."""
    missing = available()
    if missing:
        raise LabError(f"MySQL stacks need MariaDB and mysqld_exporter: missing {', '.join(missing)} "
                       "(apt-get install mariadb-server prometheus-mysqld-exporter)")
    try:
        server = backend.start_mariadb(workdir, max_connections=max_connections,
                                       extra_args=[f"--innodb-lock-wait-timeout={LOCK_WAIT_TIMEOUT}"])
    except BackendError as e:
        raise LabError(f"mariadb: {e}") from e
    db = MariaDB(server, None, secrets.token_hex(12))
    try:
        server.sql(f"CREATE USER '{APP_USER}'@'127.0.0.1' IDENTIFIED BY {_literal(db.app_password)};")
        db.exporter = backend.start_exporter(server, workdir, collectors=["collect.info_schema.tables"])
    except BackendError as e:
        db.stop()
        raise LabError(f"mysqld_exporter: {e}") from e
    except BaseException:
        db.stop()
        raise
    return db
