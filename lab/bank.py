"""The "bank API" stub that ``/book`` charges (seed 000's payment → bank timeouts).

``POST /v1/charges`` answers after a log-normal delay around ``latency_ms``, and with 503
for a share ``error_rate`` of the calls; both come from its control file and change while
it runs. It is instrumented like the service (``service="bank-api"`` is a scrape label).

Run: ``python -m lab.bank --port 8001`` with ``LAB_CONTROL`` in the environment.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import os
import random
import sys
import uuid
from contextlib import asynccontextmanager

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from lab import control
from lab.instrument import MetricsMiddleware


def create_app(control_path: str | None) -> Starlette:
    ctl = control.Watcher(control_path, control.BANK_DEFAULTS)
    rng = random.Random()

    async def charge(request: Request) -> Response:
        body = await request.json()
        median = max(0.0, float(ctl["latency_ms"])) / 1000.0
        sigma = float(ctl["latency_sigma"])
        delay = median * math.exp(rng.gauss(0.0, sigma)) if median > 0 else 0.0
        await asyncio.sleep(min(delay, 30.0))
        if rng.random() < float(ctl["error_rate"]):
            return JSONResponse({"error": "issuer unavailable"}, status_code=503)
        return JSONResponse({"id": f"ch_{uuid.uuid4().hex[:16]}", "status": "succeeded",
                             "amount": body.get("amount"), "reference": body.get("reference")}, status_code=200)

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def metrics(request: Request) -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    @asynccontextmanager
    async def lifespan(app: Starlette):
        task = asyncio.create_task(ctl.run())
        try:
            yield
        finally:
            task.cancel()

    routes = [Route("/v1/charges", charge, methods=["POST"]), Route("/health", health), Route("/metrics", metrics)]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.add_middleware(MetricsMiddleware, routes={r.path: r.path for r in routes})
    return app


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m lab.bank", description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    uvicorn.run(create_app(os.environ.get("LAB_CONTROL")), host=args.host, port=args.port, log_level="warning",
                access_log=False, timeout_graceful_shutdown=2)


if __name__ == "__main__":
    main()
