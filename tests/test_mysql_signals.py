"""MySQL/MariaDB through mysqld_exporter: a real MariaDB under real load, scraped every second
by a real Prometheus, and the catalog reading db_lock_waits and db_connections_ratio from
the mysqld_exporter families alone (the Prometheus holds nothing else), as `detect` collects
them, and `triage queries check` naming the alternatives that answered.

One server, two phases after a quiet baseline: (a) lock contention: one session holds
``SELECT ... FOR UPDATE`` on a hot row while four others wait to update it; (b) connection
limit: ``max_connections`` is 20 and idle sessions fill it. Two services name that server
both ways the catalog allows: `bookings` by its schema (info_schema.tables collected),
`ticketing` by the exporter's scrape job. A minimal booking service
(testing/backends/mysql_booking.py: every request a real `mariadb` session as a non-SUPER
user) runs throughout, so `triage rca` has the service's own signals: its bookings wait on
the held row, then its connections are refused at max_connections.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from testing.backends import mariadb
from testing.backends.mysql_booking import Booking
from testing.cli import run_cli
from triage.catalog import load_catalog
from triage.config.settings import load_settings
from triage.signals import collect, make_windows
from triage.sources.prometheus import PrometheusSource

PHASE = 30.0            # seconds of baseline, of lock contention, of full connections
MAX_CONNECTIONS = 20
GAP = 15.0              # seconds between the two phases
JOB = "ticketing-db"

pytestmark = pytest.mark.skipif(bool(mariadb.available()),
                                reason=f"missing {', '.join(mariadb.available())} (scripts/test installs them)")

CONFIG = f"""\
prometheus:
  url: {{url}}
  step: 2
  rate_interval: 10s
services:
  bookings:
    database: bookings
  ticketing:
    database: {JOB}
"""


def _wait_scraped(prom, at: float, timeout: float = 20.0) -> None:
    """Until Prometheus holds a sample of the exporter at or after `at`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = prom.query("max(timestamp(mysql_up))")
        if result and float(result[0]["value"][1]) >= at:
            return
        time.sleep(0.3)
    raise prom.fail(f"no scrape after {at} within {timeout:.0f}s")


def _sleep_until(t: float) -> None:
    time.sleep(max(0.0, t - time.time()))


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """Run both phases; yield the Prometheus and the end of each phase (unix seconds)."""
    wd = tmp_path_factory.mktemp("mysql")
    started: list = []
    clients: list[mariadb.Client] = []
    try:
        server = mariadb.start_mariadb(wd, max_connections=MAX_CONNECTIONS)
        started.append(server)
        server.sql("CREATE DATABASE bookings;"
                   "CREATE TABLE bookings.events (id INT PRIMARY KEY, tickets_remaining INT NOT NULL) ENGINE=InnoDB;"
                   "INSERT INTO bookings.events VALUES (1, 1000000), (2, 1000000), (3, 1000000);"
                   f"CREATE USER 'app'@'127.0.0.1' IDENTIFIED BY '{server.password}';"
                   "GRANT SELECT, UPDATE ON bookings.* TO 'app'@'127.0.0.1';")
        exporter = mariadb.start_exporter(server, wd, collectors=["collect.info_schema.tables"])
        started.append(exporter)
        app = Booking("bookings", host="127.0.0.1", port=server.port, user="app", password=server.password,
                      database="bookings", threads=3)
        started.append(app)
        prom = mariadb.start_scraping_prometheus({JOB: exporter.url.removeprefix("http://"), "bookings": app.target},
                                                 wd)
        started.append(prom)
        begin = time.time()

        lock_start = begin + PHASE
        _sleep_until(lock_start)
        clients.append(server.client("SET SESSION innodb_lock_wait_timeout = 300; BEGIN;"
                                     "SELECT * FROM bookings.events WHERE id = 1 FOR UPDATE; DO SLEEP(300);"))
        time.sleep(1.0)
        for _ in range(4):
            clients.append(server.client("SET SESSION innodb_lock_wait_timeout = 300; BEGIN;"
                                         "UPDATE bookings.events SET tickets_remaining = tickets_remaining - 1 "
                                         "WHERE id = 1; COMMIT;"))
        lock_end = lock_start + PHASE
        _sleep_until(lock_end)
        _wait_scraped(prom, lock_end)
        for c in clients:
            c.stop()
        clients.clear()

        # A quiet gap first: the lock phase's sessions end at lock_end, and their long statements
        # land in the statement digests then; the connection phase's window starts after them.
        conn_start = lock_end + GAP
        _sleep_until(conn_start)
        conn_end = conn_start + PHASE
        # every slot a non-SUPER session may take (the exporter, root, gets MariaDB's extra one)
        # The booking service's own sessions compete for the slots: a filler refused ("Too many
        # connections", more often on a loaded machine) is started again until the phase ends, so
        # the server stays full however slowly the fillers come up.
        for _ in range(MAX_CONNECTIONS):
            clients.append(server.client("DO SLEEP(300);"))
        while time.time() < conn_end:
            for i, c in enumerate(clients):
                if c.proc.poll() is not None:
                    c.stop()
                    clients[i] = server.client("DO SLEEP(300);")
            time.sleep(0.5)
        _wait_scraped(prom, conn_end)
        for c in clients:
            c.stop()
        clients.clear()
        yield {"prom": prom, "lock_end": lock_end, "conn_end": conn_end, "wd": wd}
    finally:
        for c in clients:
            c.stop()
        for backend in reversed(started):
            backend.stop()


SIGNALS = ("db_lock_waits", "db_connections_ratio", "db_max_connections")


def levels(lab, at: float, service: str) -> dict[str, tuple[float, float, int]]:
    """Each signal's (baseline max, window max, alternative that answered), as `detect` collects
    it: the catalog's alternatives against the real Prometheus, window and baseline ending at `at`."""
    config = Path(lab["wd"]) / "triage.yaml"
    config.write_text(CONFIG.format(url=lab["prom"].url))
    settings = load_settings(config=str(config))
    span = timedelta(seconds=PHASE)
    windows = make_windows(datetime.fromtimestamp(at, timezone.utc), span, span, settings.step)
    with PrometheusSource(settings.prometheus) as source:
        got = collect(source, load_catalog(), settings, [settings.service(service)], windows, SIGNALS)
    assert not got.errors, got.errors
    out = {}
    for name, series in got.signals.get(service, {}).items():
        base = [v for t, v in series.points if t < windows.window.start.timestamp()]
        win = [v for t, v in series.points if t >= windows.window.start.timestamp() + 6]
        out[name] = (max(base), max(win), series.alternative)
    assert set(out) == set(SIGNALS), got.missing
    return out


def test_queries_check_names_the_mysqld_exporter_alternatives(lab):
    config = Path(lab["wd"]) / "triage.yaml"
    config.write_text(CONFIG.format(url=lab["prom"].url))
    result = run_cli(["queries", "check", "--config", str(config), "--service", "bookings",
                      "--at", str(int(lab["conn_end"])), "--window", "90s", "--output", "json"])
    assert result.code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert {*SIGNALS, "db_latency_p95"} <= set(doc["signals_with_data"]), doc["signals_with_data"]
    answered = {(r["signal"], r["family"]) for r in doc["alternatives"] if r["status"] == "data"}
    for name in (*SIGNALS, "db_latency_p95"):   # p95 from the QUERY_RESPONSE_TIME histogram
        assert (name, "mysqld_exporter") in answered, name
    # the database's signals from the server's exporter alone (the booking service exports only HTTP)
    assert not any(family != "mysqld_exporter" for name, family in answered
                   if name in (*SIGNALS, "db_latency_p95")), answered


@pytest.mark.parametrize("service", ["bookings", "ticketing"])
def test_lock_contention_raises_db_lock_waits(lab, service):
    got = levels(lab, lab["lock_end"], service)
    base, win, alt = got["db_lock_waits"]
    assert base == 0 and win >= 3, got              # four sessions wait on the one held row
    base, win, alt = got["db_connections_ratio"]
    assert win < 0.5, got                           # six of twenty: not a connection problem
    # the schema alternative for `bookings`, the scrape job's for `ticketing`
    assert alt == (3 if service == "bookings" else 4), got


@pytest.mark.parametrize("service", ["bookings", "ticketing"])
def test_connection_limit_raises_db_connections_ratio(lab, service):
    got = levels(lab, lab["conn_end"], service)
    base, win, _ = got["db_connections_ratio"]
    assert base < 0.5 and win >= 0.8, got           # eighteen idle sessions of twenty: past the warning
    assert got["db_max_connections"][1] == MAX_CONNECTIONS
    assert got["db_lock_waits"][1] == 0, got


def _rca(lab, service: str, at: float) -> dict:
    config = Path(lab["wd"]) / "triage.yaml"
    config.write_text(CONFIG.format(url=lab["prom"].url))
    result = run_cli(["rca", "--config", str(config), "--service", service, "--at", str(int(at)),
                      "--window", f"{int(PHASE)}s", "--baseline", f"{int(PHASE)}s", "--output", "json"])
    assert result.stdout.strip(), result.stderr
    (Path(lab["wd"]) / f"rca-{int(at)}.json").write_text(result.stdout)
    return json.loads(result.stdout)


@pytest.mark.parametrize(("phase", "bottleneck", "steps"), [
    ("lock_end", "lock_contention", ("blocking-tree-mysql", "end-blockers-mysql")),
    ("conn_end", "db_pool_exhaustion", ("find-connection-holders-mysql",)),
])
def test_rca_names_the_mysql_incident_and_the_plan_speaks_mysql(lab, phase, bottleneck, steps):
    """The verdict from the mysqld_exporter families alone, and the plan's MySQL twins."""
    from test_playbooks import plan, proposed

    from triage.playbooks import load_library
    from triage.playbooks.context import database_engine

    doc = _rca(lab, "bookings", lab[phase])
    assert doc["bottleneck"] == bottleneck, (doc["bottleneck"], doc.get("candidates"),
                                             {k: v for k, v in doc["signals"].items() if k.startswith("db_")})
    assert database_engine(doc) == "mysql"
    ids = {s.step.full_id.rsplit("/", 1)[-1] for s in proposed(plan(load_library(), rca=doc))}
    assert set(steps) <= ids, ids
    assert not any(c.startswith("psql") for s in proposed(plan(load_library(), rca=doc)) for c in s.commands)
