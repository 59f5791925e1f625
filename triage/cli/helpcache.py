"""`triage --help` (and bare `triage`), and `triage <command> --help`, from a cache, without
importing typer (issue 17).

The root's help lists every command, so typer would import and build all of them (~5x the
whole `python -c pass` start-up). The text it rendered is kept in the user's cache directory
($XDG_CACHE_HOME/triage/help.txt) after a line naming what it was made of: triage's version,
the interpreter, typer's install and the size and mtime of every file of triage/cli. Any change
to a command, an option or typer renders it anew. Only the process entry point reads it, and only
at a width where click's help does not depend on the terminal (80 columns or more: click wraps
help at 78). Plain os calls only: pathlib, hashlib and shutil would cost more than the read.

A command's help (`triage rca --help`, `triage queries -h`) is kept the same way, one file per
command ($XDG_CACHE_HOME/triage/help-<command>.txt) under the same key: only that command's
module would be built, but typer, click and the module's imports are most of the start-up.
"""

from __future__ import annotations

import os
import sys

from triage.usercache import cache_dir

ROOT_HELP: tuple[list[str], ...] = ([], ["--help"], ["-h"])
HELP_FLAGS = ("--help", "-h")
# click formats help to min(columns, 80) - 2: from 80 columns on the text is the same
MIN_COLUMNS = 80
_CLI = os.path.dirname(os.path.abspath(__file__))


def cache_file(command: str = "") -> str:
    """The file the help of `command` ("" for the root) is kept in."""
    return os.path.join(cache_dir(), f"help-{command}.txt" if command else "help.txt")


def command_of(args: list[str]) -> str | None:
    """Whose help the command line asks for: "" for the root's, a command's name for
    `<command> --help` / `<command> -h`, None for anything else (not served from the cache)."""
    if args in ROOT_HELP:
        return ""
    if len(args) == 2 and args[1] in HELP_FLAGS:
        from triage.cli import COMMANDS

        if args[0] in COMMANDS:
            return args[0]
    return None


def key(cli_dir: str = _CLI) -> str | None:
    """What the root's help is made of (one line), or None when it cannot be told (then no cache)."""
    from importlib.util import find_spec

    from triage import __version__

    try:
        spec = find_spec("typer")
        typer_file = spec.origin if spec is not None and spec.origin else ""
        parts = [__version__, sys.version.replace("\n", " "), typer_file]
        if typer_file:
            parts.append(str(os.stat(os.path.dirname(typer_file)).st_mtime_ns))
        with os.scandir(cli_dir) as entries:
            files = sorted(e.name for e in entries if e.name.endswith(".py"))
        for name in files:
            st = os.stat(os.path.join(cli_dir, name))
            parts.append(f"{name}:{st.st_size}:{st.st_mtime_ns}")
    except (OSError, ValueError, ImportError):
        return None
    return "triage-help " + " ".join(parts)


def columns() -> int:
    """The terminal's width as shutil.get_terminal_size tells it (COLUMNS first, then stdout's)."""
    try:
        return int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        pass
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns if sys.__stdout__ else 80
    except (AttributeError, ValueError, OSError):
        return 80


def wanted(args: list[str]) -> bool:
    return command_of(args) is not None and columns() >= MIN_COLUMNS


def read(args: list[str]) -> str | None:
    """The cached help (the root's or a command's) for this command line, or None."""
    if not wanted(args):
        return None
    k = key()
    if k is None:
        return None
    try:
        with open(cache_file(command_of(args) or ""), encoding="utf-8") as f:
            head, _, text = f.read().partition("\n")
    except (OSError, UnicodeDecodeError):
        return None
    return text if head == k and text else None


def write(text: str, command: str = "") -> None:
    """Keep `text` (the help of `command`, "" for the root, just rendered at a width of 80 or
    more) for the next run; a cache that cannot be written is no cache."""
    k = key()
    if k is None or not text:
        return
    target = cache_file(command)
    tmp = f"{target}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(f"{k}\n{text}")
        os.replace(tmp, target)
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass
