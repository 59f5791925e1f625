"""What a fleet's or a service's collection must hold before it is judged: some data at all, and
an answer from each signal that decides whether the service is ok (the checks `detect` and `rca`
make on a collection before they judge it)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from triage.config import ServiceConfig
from triage.errors import NoDataError, SourceError

if TYPE_CHECKING:
    from triage.signals import Collection


def ensure_data(collection: Collection, services: Sequence[ServiceConfig], required: Sequence[str]) -> None:
    """A service with none of the required signals has no data at all: say so instead of judging."""
    empty = [s.name for s in services if not any(n in collection.signals.get(s.name, {}) for n in required)]
    if empty and len(empty) == len(services):
        # Nothing answered because the backend failed (timed out, refused): say that, not "no data".
        fatal = next((e for e in collection.errors if e.fatal), None)
        if fatal is not None:
            raise fatal
        names = ", ".join(empty)
        raise NoDataError(
            f"no data for service {names} between {collection.windows.baseline.start:%Y-%m-%d %H:%M}Z and "
            f"{collection.windows.window.end:%Y-%m-%d %H:%M}Z (none of {', '.join(required)} answered; "
            "check the name, --namespace, --at, or run `triage queries check`)"
        )


def ensure_decided(collection: Collection, services: Sequence[ServiceConfig], deciding: Sequence[str]) -> None:
    """A pass whose deciding query failed calls nobody ok: fail naming the signal and the query."""
    for name in deciding:
        hit = [s.name for s in services if name in collection.failed.get(s.name, {})]
        if hit:
            err = collection.failed[hit[0]][name]
            flat = " ".join((err.query or "").split())
            shown = flat if len(flat) <= 120 else f"{flat[:120]}… ({len(flat)} characters)"
            raise SourceError(f"{err.message}: the {name} query failed for {len(hit)} of {len(services)} "
                              f"service(s), so they cannot be called ok (query {shown!r})",
                              backend=err.backend, query=err.query, detail=err.detail, fatal=err.fatal)
