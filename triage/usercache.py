"""Small files kept between runs in the user's cache directory ($XDG_CACHE_HOME/triage, else
~/.cache/triage), each under a key naming what it was made of (issue 17).

A kept file is `marshal` of plain data (tuples, lists, dicts, str, int, float, None): unlike
pickle, reading one never runs code, and the caller checks every value's type before building
anything from it. A cache is only ever a shortcut: a file that cannot be read, written or
trusted (missing, truncated, another version's, another key's, a directory in its place, a
read-only home) is no cache, and nothing here raises or prints. The one file that holds code
objects (the dataclass methods of triage/cli/codecache.py: marshal loads them, nothing runs them
but the class they are made for) is read `private`ly. Builtin modules only: the help
cache (triage/cli/helpcache.py) shares `cache_dir` and runs before anything else is imported.
"""

from __future__ import annotations

import marshal
import os
import time

# bumped when what a kept file holds changes shape
FORMAT = 1
MAX_BYTES = 16 * 1024 * 1024
# A file changed less than this long ago might change again within the filesystem's timestamp
# granularity (a clock tick, up to seconds on some filesystems) keeping its size and mtime: what was
# made of it is not kept, or a second same-sized edit could go unseen (git's "racy" entries).
SETTLED_NS = 2_000_000_000


def cache_dir() -> str:
    """$XDG_CACHE_HOME/triage, else ~/.cache/triage."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "triage")


def stamp(path: str) -> tuple[str, int, int, int]:
    """What a kept result says of one file it was made of: resolved path, size, mtime, inode.
    Raises OSError when the file cannot be stat'ed."""
    st = os.stat(path)
    return (os.path.realpath(path), st.st_size, st.st_mtime_ns, st.st_ino)


def settled(mtime_ns: int) -> bool:
    """Whether a file last changed at `mtime_ns` is old enough for what is made of it to be kept."""
    return mtime_ns <= time.time_ns() - SETTLED_NS


def read(name: str, key: object, *, private: bool = False) -> object | None:
    """What `write(name, key, …)` kept, or None (no file, another key, or anything wrong with it).
    `private`: only a regular file of this user's that nobody else may write, not through a link
    (what holds code objects must be as trusted as `__pycache__`)."""
    flags = os.O_RDONLY | (getattr(os, "O_NOFOLLOW", 0) if private else 0)
    try:
        with open(os.open(os.path.join(cache_dir(), name), flags), "rb") as f:
            st = os.fstat(f.fileno())
            if not (st.st_mode & 0o170000 == 0o100000 and 0 < st.st_size <= MAX_BYTES):
                return None
            if private and (st.st_uid != os.getuid() or st.st_mode & 0o022):
                return None
            data = f.read(MAX_BYTES + 1)
        kept = marshal.loads(data)  # noqa: S302 - our own plain data, its types checked by the caller
    except Exception:  # noqa: BLE001 - an unreadable cache is no cache: OSError, EOFError, ValueError, TypeError
        return None
    if type(kept) is not tuple or len(kept) != 3 or kept[0] != FORMAT or kept[1] != key:
        return None
    return kept[2]


def write(name: str, key: object, value: object) -> None:
    """Keep `value` (plain data) under `key`: written beside its target and renamed into place,
    so a reader sees the old file or the whole new one; mode 0600, the directory made 0700."""
    directory = cache_dir()
    target = os.path.join(directory, name)
    tmp = f"{target}.{os.getpid()}.tmp"
    try:
        data = marshal.dumps((FORMAT, key, value))  # type: ignore[arg-type]  # plain data, by contract
        if len(data) > MAX_BYTES:
            return
        os.makedirs(directory, mode=0o700, exist_ok=True)
        try:
            os.unlink(tmp)  # left by a process of the same id that died mid-write
        except FileNotFoundError:
            pass
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with open(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, target)
    except Exception:  # noqa: BLE001 - a cache that cannot be written is no cache (read-only home, full disk)
        try:
            os.unlink(tmp)
        except OSError:
            pass
