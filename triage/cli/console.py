"""Consoles made at call time (tests swap sys.stdout), colour only on a terminal.

Colour is off with the global `--no-color` or a non-empty `NO_COLOR` (https://no-color.org);
bold and dim stay (NO_COLOR is about colour). Pipes and JSON never get any escape code.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console


# rich is imported when a console is made: the root callback sets this before `--help` is parsed.
_settings = {"no_color": False}


def set_no_color(value: bool) -> None:
    """The global `--no-color`, set by the root callback on every run (an in-process run after
    one with the flag gets colour back)."""
    _settings["no_color"] = value


def no_color() -> bool:
    return _settings["no_color"] or bool(os.environ.get("NO_COLOR"))


def deliver(text: str, path: Path | None, *, force: bool) -> None:
    """A document to stdout, or written to `path` as a new file (never over one without `force`)
    with the path said on stdout."""
    if path is None:
        sys.stdout.write(text)
        return
    from triage.files import write_new

    write_new(path, text, force=force)
    sys.stdout.write(f"{path}\n")


def out() -> Console:
    from rich.console import Console

    # Piped output is never wrapped: a grep or a CI log wants whole lines.
    tty = sys.stdout.isatty()
    return Console(file=sys.stdout, highlight=False, soft_wrap=not tty, width=None if tty else 160,
                   no_color=no_color())


def err() -> Console:
    from rich.console import Console

    return Console(file=sys.stderr, highlight=False, no_color=no_color())


@contextmanager
def progress(enabled: bool = True) -> Iterator:
    """A spinner on stderr when it is a terminal; plain silence otherwise (CI, pipes, JSON), and
    then rich is not imported at all (~17 ms of a JSON run's start-up)."""
    if not enabled or not _is_terminal(sys.stderr):
        yield lambda message: None
        return
    console = err()
    if not console.is_terminal:
        yield lambda message: None
        return
    with console.status("starting") as status:
        yield Spinner(status)


BAR_WIDTH = 20


class Spinner:
    """The stage ("querying 25 signals for 47 services") and, while a wave of requests is out, a bar
    of the answers so far: `▰▰▰▰▱▱▱▱ 12/38 answers`. Called with the stage; `answered` by a source."""

    def __init__(self, status: Any) -> None:
        self._status = status
        self._stage = "starting"
        self._lock = threading.Lock()

    def __call__(self, message: str) -> None:
        with self._lock:
            self._stage = message
            self._status.update(message)

    def answered(self, done: int, total: int) -> None:
        with self._lock:
            filled = round(BAR_WIDTH * done / total) if total else BAR_WIDTH
            bar = "▰" * filled + "▱" * (BAR_WIDTH - filled)
            self._status.update(f"{self._stage}  {bar} {done}/{total} answers")


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def print_json(payload: Any) -> None:
    """JSON on stdout with every control character from outside \\u-escaped (C1, DEL, bidi)."""
    from triage.render.json import write_inert_json

    write_inert_json(payload, sys.stdout)
    sys.stdout.flush()
