"""The database: pool exhaustion vs slow queries vs locks vs a connection per request.

Pool: requests wait for a pooled connection while the queries themselves stay fast.
Slow queries: the queries got slow (the pool then fills because they hold connections).
Locks: writes wait, reads do not, lock counts rise. Churn: connect time dominates DB time.
"""

from __future__ import annotations

import math

from triage.analysis.classify.evidence import num, times
from triage.analysis.classify.facts import Facts
from triage.analysis.classify.rules.base import Rule

QUERY_RISE, READ_RISE, WRITE_RISE, LOCK_RISE = 2.0, 2.0, 3.0, 2.0
# Reads and writes judged against half of the query latency warning.
SPLIT_SHARE = 0.5
POOL_FULL, POOL_BUSY = 0.7, 0.45
# The server's own connection limit (max_connections): risen past its warning share, new
# connections start being refused whatever the service's pool says (past the critical share,
# most are). Engine-agnostic: the
# catalog reads it from postgres_exporter or mysqld_exporter alike.
SERVER_FULL, SERVER_RISE = 0.65, 0.2
WAIT, WAIT_RISE, WAIT_BONUS = 0.6, 3.0, 0.2
QUEUE, QUEUE_STRONG, QUEUE_BONUS, QUEUE_RISE = 0.55, 0.75, 0.15, 3.0
POOL_BECAUSE_SLOW = 0.45
FAST_QUERIES_BONUS = 0.1
QUERIES_CRITICAL, QUERIES_WARNING, READS_SLOW = 0.85, 0.75, 0.65
ONLY_WRITES = 0.5
SLOW_WRITES_NO_LOCKS = 0.65
LOCK_WRITES, LOCK_COUNTS, LOCK_COUNTS_BONUS = 0.7, 0.5, 0.2
CONCURRENCY_RISE, CONCURRENCY_BONUS = 1.5, 0.05
LOCKS_BUT_READS_SLOW, LOCKS_FLAT = 0.6, 0.5
CHURN_CRITICAL, CHURN_WARNING, CHURN_RISE, CHURN_BONUS = 0.85, 0.6, 0.15, 0.1
MIN_SCORE = 0.45


def _flags(f: Facts) -> dict[str, bool]:
    if "db" in f.shared:
        return f.shared["db"]  # type: ignore[return-value]
    dbl, rd, wr, locks = (f.get(n) for n in ("db_latency_p95", "db_read_latency_p95", "db_write_latency_p95",
                                             "db_lock_waits"))
    db_w, db_c = f.th("db_latency_p95")
    flags = {
        "query_slow": bool(dbl and dbl.window is not None and db_w is not None and (
            (dbl.window >= db_w and dbl.rose(QUERY_RISE)) or dbl.window >= (db_c or math.inf))),
        "reads_slow": bool(rd and rd.window is not None and rd.rose(READ_RISE) and db_w is not None
                           and rd.window >= db_w * SPLIT_SHARE),
        "writes_slow": bool(wr and wr.window is not None and wr.rose(WRITE_RISE) and db_w is not None
                            and wr.window >= db_w * SPLIT_SHARE),
        "locks_up": bool(locks and locks.rose(LOCK_RISE)),
    }
    f.shared["db"] = flags
    return flags


def pool(f: Facts) -> None:
    flags = _flags(f)
    pool_l, wait, waiting, dbl = (f.get(n) for n in ("db_pool_usage_ratio", "db_pool_wait_p95", "db_pool_waiting",
                                                      "db_latency_p95"))
    c = f.cands["db_pool_exhaustion"]
    p_w, p_c = f.th("db_pool_usage_ratio")
    if pool_l and pool_l.window is not None:
        if p_c is not None and pool_l.window >= p_c:
            c.raise_to(POOL_FULL)
            c.add(pool_l, f"pool {num(pool_l.window, 'ratio')} in use on the fullest pod "
                          f"(baseline {num(pool_l.baseline, 'ratio')})")
        elif p_w is not None and pool_l.window >= p_w:
            c.raise_to(POOL_BUSY)
            c.add(pool_l, f"pool {num(pool_l.window, 'ratio')} in use")
    if wait and wait.window is not None:
        wt_w, _ = f.th("db_pool_wait_p95")
        if wt_w is not None and wait.window >= wt_w and wait.rose(WAIT_RISE):
            c.raise_to(max(c.score + WAIT_BONUS, WAIT))
            c.add(wait, f"requests wait {num(wait.window, 's')} (p95) for a connection, "
                        f"baseline {num(wait.baseline, 's')}")
    if waiting and waiting.window is not None:
        q_w, q_c = f.th("db_pool_waiting")
        if q_w is not None and waiting.window >= max(q_w, 1.0) and waiting.rose(QUEUE_RISE):
            strong = q_c is not None and waiting.window >= q_c
            c.raise_to(max(c.score + QUEUE_BONUS, QUEUE_STRONG if strong else QUEUE))
            c.add(waiting, f"{waiting.window:.0f} clients wait for a pgbouncer server connection "
                           f"(baseline {waiting.baseline or 0:.0f})")
    server = f.get("db_connections_ratio")
    if server and server.window is not None:
        s_w, s_c = f.th("db_connections_ratio")
        if (s_w is not None and server.window >= s_w
                and server.baseline is not None and server.window - server.baseline >= SERVER_RISE):
            full = s_c is not None and server.window >= s_c
            c.raise_to(c.score + WAIT_BONUS if c.score else (SERVER_FULL if full else POOL_BUSY))
            c.add(server, f"the database holds {num(server.window, 'ratio')} of its max_connections "
                          f"(baseline {num(server.baseline, 'ratio')}): new connections are refused")
    if c.score and dbl is None and f.sets.missing.get("db_latency_p95", "").startswith("query failed"):
        # Never a verdict built on a failed query: without query latency, a full pool could
        # as well be slow queries holding their connections.
        c.score = min(c.score, MIN_SCORE - 0.01)
        c.add(None, "cannot tell pool exhaustion from slow queries: the db_latency_p95 query failed")
    if c.score and dbl and dbl.window is not None:
        if flags["query_slow"]:
            c.scale(POOL_BECAUSE_SLOW)
            c.add(dbl, f"but the queries themselves slowed to {num(dbl.window, 's')}: "
                       "the pool fills because queries are slow")
        else:
            c.raise_to(c.score + FAST_QUERIES_BONUS)
            c.add(dbl, f"while queries stay at {num(dbl.window, 's')} (p95)")


def slow_queries(f: Facts) -> None:
    flags = _flags(f)
    dbl, rd, wr, locks = (f.get(n) for n in ("db_latency_p95", "db_read_latency_p95", "db_write_latency_p95",
                                             "db_lock_waits"))
    _, db_c = f.th("db_latency_p95")
    c = f.cands["db_latency"]
    if flags["query_slow"] and dbl is not None and dbl.window is not None:
        c.raise_to(QUERIES_CRITICAL if (db_c is not None and dbl.window >= db_c) else QUERIES_WARNING)
        c.add(dbl, f"query p95 {num(dbl.window, 's')} (baseline {num(dbl.baseline, 's')}, {times(dbl.ratio)})")
    elif flags["reads_slow"] and rd is not None:
        c.raise_to(READS_SLOW)
        c.add(rd, f"SELECT p95 {num(rd.window, 's')} (baseline {num(rd.baseline, 's')})")
    if c.score and flags["writes_slow"] and not flags["reads_slow"] and (locks is None or flags["locks_up"]):
        c.scale(ONLY_WRITES)
        c.add(wr, "only writes slowed; reads did not")
    elif not c.score and flags["writes_slow"] and wr is not None and locks is not None and not flags["locks_up"]:
        c.raise_to(SLOW_WRITES_NO_LOCKS)
        c.add(wr, f"write p95 {num(wr.window, 's')} (baseline {num(wr.baseline, 's')}) with lock counts flat: "
                  "the writes themselves are slow (I/O, indexes)")


def locks(f: Facts) -> None:
    flags = _flags(f)
    rd, wr, lk, inflight = (f.get(n) for n in ("db_read_latency_p95", "db_write_latency_p95", "db_lock_waits",
                                               "inflight"))
    c = f.cands["lock_contention"]
    if flags["writes_slow"] and wr is not None and not flags["reads_slow"]:
        c.raise_to(LOCK_WRITES)
        c.add(wr, f"write p95 {num(wr.window, 's')} (baseline {num(wr.baseline, 's')}) while reads stay at "
                  f"{num(rd.window if rd else None, 's')}")
    if flags["locks_up"] and lk is not None:
        c.raise_to(c.score + LOCK_COUNTS_BONUS if c.score else LOCK_COUNTS)
        c.add(lk, f"{num(lk.window, 'locks')} held or awaited (baseline {num(lk.baseline, 'locks')})")
    if c.score and inflight is not None and inflight.rose(CONCURRENCY_RISE):
        c.raise_to(c.score + CONCURRENCY_BONUS)
        c.add(inflight, f"in-flight requests {times(inflight.ratio)}: high concurrency and high latency")
    if c.score and flags["reads_slow"]:
        c.scale(LOCKS_BUT_READS_SLOW)
    if c.score and lk is not None and not flags["locks_up"]:
        c.scale(LOCKS_FLAT)
        c.add(lk, f"but lock counts stay at {num(lk.window, 'locks')}: writes are slow, not blocked")


def churn(f: Facts) -> None:
    conn = f.get("db_connect_share")
    c = f.cands["connection_churn"]
    if conn is None or conn.window is None:
        return
    cw, cc = f.th("db_connect_share")
    if cc is not None and conn.window >= cc:
        c.raise_to(CHURN_CRITICAL)
    elif cw is not None and conn.window >= cw:
        c.raise_to(CHURN_WARNING)
    if c.score:
        c.add(conn, f"opening connections is {num(conn.window, 'ratio')} of DB time "
                    f"(baseline {num(conn.baseline, 'ratio')}; without pooling it is typically around half)")
        if conn.baseline is not None and conn.window - conn.baseline >= CHURN_RISE:
            c.raise_to(c.score + CHURN_BONUS)


RULES = (
    Rule("db_pool_exhaustion", ("db_pool_usage_ratio", "db_pool_wait_p95", "db_pool_waiting"),
         "is waiting for DB connections", pool),
    Rule("db_latency", ("db_latency_p95", "db_read_latency_p95"), "is waiting on slow queries", slow_queries),
    Rule("lock_contention", ("db_write_latency_p95", "db_lock_waits"), "is waiting on database locks", locks),
    Rule("connection_churn", ("db_connect_share",), "opens a new DB connection per request", churn),
)
ADJUSTMENTS = ()
