"""The allocator's settings for a fleet pass.

A fleet pass decodes one large answer after another in the query threads. glibc serves
allocations up to its mmap threshold from per-thread heaps and, after the first large block is
freed, raises that threshold up to 32 MB, so the bodies and their pieces of every later answer
land in heaps that keep their freed pages: at 10,000 services ~140 MB of the peak RSS was freed
memory. A fixed threshold (which also turns the adjustment off) gives every large block its own
mapping, returned to the system when it is freed. Elsewhere (another libc, no ctypes) nothing
changes.
"""

from __future__ import annotations

from typing import Any

# mallopt's M_MMAP_THRESHOLD and glibc's default threshold.
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 128 * 1024

_done: list[bool] = []


def _libc() -> Any:
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    if not name:
        return None
    libc = ctypes.CDLL(name)
    return libc if hasattr(libc, "mallopt") else None


def fleet_heap(libc: Any = None) -> bool:
    """Large blocks in their own mappings from now on (once a process); whether it was set."""
    if _done and libc is None:
        return _done[0]
    try:
        lib = libc if libc is not None else _libc_once()
        ok = bool(lib is not None and lib.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1)
    except (OSError, AttributeError, ImportError):
        ok = False
    if libc is None:
        _done.append(ok)
    return ok


def trim() -> None:
    """Give the heap's free pages back to the system (after a fleet's series are freed, for the
    results that take their place, which the allocator serves from elsewhere)."""
    lib = _libc_once()
    if lib is not None and hasattr(lib, "malloc_trim"):
        lib.malloc_trim(0)


_lib: list[Any] = []


def _libc_once() -> Any:
    if not _lib:
        try:
            _lib.append(_libc())
        except (OSError, AttributeError, ImportError):
            _lib.append(None)
    return _lib[0]
