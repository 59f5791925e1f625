"""Consoles made at call time (tests swap sys.stdout), colour only on a terminal."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console


def out() -> Console:
    # Piped output is never wrapped: a grep or a CI log wants whole lines.
    tty = sys.stdout.isatty()
    return Console(file=sys.stdout, highlight=False, soft_wrap=not tty, width=None if tty else 160)


def err() -> Console:
    return Console(file=sys.stderr, highlight=False)


@contextmanager
def progress(enabled: bool = True) -> Iterator:
    """A spinner on stderr when it is a terminal; plain silence otherwise (CI, pipes, JSON)."""
    console = err()
    if not enabled or not console.is_terminal:
        yield lambda message: None
        return
    with console.status("starting") as status:
        yield lambda message: status.update(message)


def print_json(payload: Any) -> None:
    """JSON on stdout with every control character from outside \\u-escaped (C1, DEL, bidi)."""
    from triage.render.json import inert_json

    sys.stdout.write(inert_json(payload) + "\n")
    sys.stdout.flush()
