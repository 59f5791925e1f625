"""`triage rca` for one service (target ≤ 0.5 s with start-up, ≤ 25 HTTP requests) and
`--all-services` over N generated services (target ≤ 3 s and ≤ 150 MB RSS for 500)."""

from __future__ import annotations

from bench.detect import main

if __name__ == "__main__":
    main("rca")
