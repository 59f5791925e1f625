"""The methods `dataclasses` writes for every value type, compiled once and kept (issue 17).

Each `@dataclass` writes the source of its `__init__`, `__repr__`, `__eq__`, `__hash__` and,
frozen, `__setattr__`/`__delattr__`, and compiles it with `exec`: about two thirds of the ~1.5 ms
a class costs, and a one-service `rca` imports some sixty of them. Only the process entry point
installs this: `dataclasses`' own `exec` is looked up in its module first, so a module-level
`exec` there compiles each source text once, and the code objects are kept in the user's cache
directory ($XDG_CACHE_HOME/triage/dataclass-code-<interpreter tag>.marshal), one file per
interpreter (code objects are the interpreter's own, as in `__pycache__`).

The table is keyed by the exact source text, so a changed class compiles anew and nothing else
needs checking; the same text always compiles to the same code. The file is read only when it
is a regular file of this user's, written by nobody else (as `__pycache__` trusts its own
files); anything odd about it (missing, truncated, another format) is a cold start, never an
error, and nothing here ever prints.
"""

from __future__ import annotations

import builtins
import os
import sys
from types import CodeType
from typing import Any

# A table past this many entries (versions of triage come and go) starts again from this run's.
MAX_ENTRIES = 4000
# one file per interpreter (the code objects are its own), kept by triage/usercache.py
CACHE_FILE = f"dataclass-code-{sys.implementation.cache_tag or 'python'}.marshal"
_KEY = ("dataclass-code", 2, sys.version)   # 2: compiled without this module's __future__

_table: dict[str, CodeType] = {}
_used: set[str] = set()
_added = False
_installed = False


def cache_file() -> str:
    from triage.usercache import cache_dir

    return os.path.join(cache_dir(), CACHE_FILE)


def _exec(source: Any, globals: Any = None, locals: Any = None, /) -> None:
    global _added
    if type(source) is not str:
        builtins.exec(source, globals, locals)
        return
    code = _table.get(source)
    if code is None:
        # dont_inherit: not this module's `annotations` future, which made the methods' annotations
        # strings ('_type_a') where dataclasses' own exec evaluates them
        code = compile(source, "<string>", "exec", dont_inherit=True)
        _table[source] = code
        _added = True
    _used.add(source)
    builtins.exec(code, globals, locals)


def _read() -> dict[str, CodeType]:
    from triage import usercache

    table = usercache.read(CACHE_FILE, _KEY, private=True)
    if type(table) is not dict:
        return {}
    return {k: v for k, v in table.items() if type(k) is str and type(v) is CodeType}


class _OnFirstUse:
    """A module of `dataclasses`' imported when `dataclasses` first uses it: `inspect` (~5 ms with
    ast, dis and tokenize) only writes the `__doc__` of a class that has none, and `copy` serves
    asdict/astuple (issue 17). Only `dataclasses`' own name is this: sys.modules is left as it was."""

    __spec__ = None   # what `import` looks at on a module in sys.modules (not a use)

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        import importlib

        return getattr(importlib.import_module(self._name), attr)


LATER = ("inspect", "copy")


def _import_dataclasses() -> Any:
    """`dataclasses`, its LATER modules each a _OnFirstUse where nothing had imported them yet."""
    if "dataclasses" in sys.modules:
        return sys.modules["dataclasses"]
    stand_ins = {name: _OnFirstUse(name) for name in LATER if name not in sys.modules}
    sys.modules.update(stand_ins)  # type: ignore[arg-type]
    try:
        import dataclasses
    finally:
        for name, stand_in in stand_ins.items():
            if sys.modules.get(name) is stand_in:
                del sys.modules[name]
    return dataclasses


def install() -> None:
    """Compile `dataclasses`' methods through the kept table (once a process)."""
    global _installed
    if _installed:
        return
    _installed = True
    try:
        dataclasses = _import_dataclasses()
    except ImportError:
        return
    _table.update(_read())
    dataclasses.exec = _exec


def save() -> None:
    """Keep what this run compiled, if it compiled anything new; a failure is a later cold start."""
    global _added
    if not _added:
        return
    _added = False
    from triage import usercache

    usercache.write(CACHE_FILE, _KEY, _table if len(_table) <= MAX_ENTRIES else {k: _table[k] for k in _used})
