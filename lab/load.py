"""A bounded, open-loop load generator for the booking API (loopback only).

Arrivals are Poisson at ``--rate`` per second whatever the service does (open loop, like
real users: a slow service builds a queue instead of slowing the clients down), bounded
three ways: the run stops issuing after ``--duration`` seconds, at most ``--max-inflight``
requests are outstanding (arrivals beyond are dropped and counted), and every request
gives up after ``--timeout`` seconds. The mix: ``--book-share`` of requests are
``POST /book`` (``--hot-share`` of them for ``--hot-event``, the on-sale concert), the rest
``GET /status``. At the end one JSON line of counts and latencies goes to stdout.

Run: ``python -m lab.load --url http://127.0.0.1:8000 --rate 12 --duration 60``.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import random
import sys
import time
from collections import Counter
from urllib.parse import urlsplit

import httpx


def loopback_only(url: str) -> str:
    host = urlsplit(url).hostname or ""
    try:
        ok = ipaddress.ip_address(host).is_loopback
    except ValueError:
        ok = host == "localhost"
    if not ok:
        raise SystemExit(f"lab.load sends traffic to loopback addresses only, not {host!r}")
    return url.rstrip("/")


async def run(args: argparse.Namespace) -> dict:
    rng = random.Random(args.seed)
    events = list(range(1, args.events + 1))
    statuses: Counter[str] = Counter()
    latencies: list[float] = []
    inflight = 0
    dropped = 0
    tasks: set[asyncio.Task] = set()
    limits = httpx.Limits(max_connections=args.max_inflight, max_keepalive_connections=args.max_inflight)
    async with httpx.AsyncClient(base_url=args.url, timeout=args.timeout, limits=limits, trust_env=False) as client:

        async def one() -> None:
            nonlocal inflight
            inflight += 1
            t0 = time.perf_counter()
            try:
                if rng.random() < args.book_share:
                    event = args.hot_event if rng.random() < args.hot_share else rng.choice(events)
                    body = {"event_id": event, "qty": rng.choice((1, 1, 1, 2, 2, 4)),
                            "user_id": rng.randrange(1, 10**6)}
                    if rng.random() < args.promo_share:
                        body["promo_code"] = rng.choice(("harbolnas", "payday", "early-bird"))
                    r = await client.post("/book", json=body)
                else:
                    r = await client.get("/status", params={"event_id": rng.choice(events)})
                statuses[str(r.status_code)] += 1
            except httpx.TimeoutException:
                statuses["timeout"] += 1
            except httpx.HTTPError as e:
                statuses[type(e).__name__] += 1
            finally:
                latencies.append(time.perf_counter() - t0)
                inflight -= 1

        start = time.monotonic()
        deadline = start + args.duration
        next_at = start
        while True:
            next_at += rng.expovariate(args.rate) if args.rate > 0 else args.duration
            if next_at >= deadline:
                break
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            if inflight >= args.max_inflight:
                dropped += 1
                continue
            task = asyncio.create_task(one())
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        await asyncio.sleep(max(0.0, deadline - time.monotonic()))
        if tasks:
            await asyncio.wait(tasks, timeout=args.timeout + 1)
    latencies.sort()

    def pct(p: float) -> float | None:
        return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))], 4) if latencies else None

    return {"url": args.url, "rate": args.rate, "duration": args.duration, "sent": sum(statuses.values()),
            "dropped": dropped, "statuses": dict(statuses), "p50": pct(0.5), "p95": pct(0.95), "p99": pct(0.99)}


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m lab.load", description=__doc__.split("\n\n")[0])
    p.add_argument("--url", required=True, type=loopback_only)
    p.add_argument("--rate", type=float, required=True, help="requests per second (Poisson arrivals)")
    p.add_argument("--duration", type=float, required=True, help="seconds of arrivals")
    p.add_argument("--book-share", type=float, default=0.4)
    p.add_argument("--hot-event", type=int, default=1)
    p.add_argument("--hot-share", type=float, default=0.2)
    p.add_argument("--promo-share", type=float, default=0.75)
    p.add_argument("--events", type=int, default=5)
    p.add_argument("--max-inflight", type=int, default=200)
    p.add_argument("--timeout", type=float, default=10.0)
    p.add_argument("--seed", type=int, default=None)
    args = p.parse_args(argv)
    if not 0 < args.rate <= 500 or not 0 < args.duration <= 3600:
        p.error("--rate must be in (0, 500] and --duration in (0, 3600]")
    return args


def main(argv: list[str] | None = None) -> None:
    summary = asyncio.run(run(parse(argv)))
    sys.stdout.write(json.dumps(summary) + "\n")


if __name__ == "__main__":
    main()
