"""Files a user keeps: written whole or not at all, and never over one that exists unless asked.

Every write is staged in a fsynced temporary file beside its target and given its final name
with a hard link (O_EXCL where the file system has none), so a full disk, Ctrl-C or a racing
writer leaves either the old file or the new one, never a torn or lost one.
"""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: appends are not locked
    fcntl = None  # type: ignore[assignment]

from triage.errors import TriageError, UsageError


class WriteError(TriageError):
    """A file could not be written (read-only or full disk, a directory in the way, ...)."""


_NO_HARD_LINKS = {errno.EPERM, errno.EXDEV, errno.EMLINK, errno.ENOSYS, errno.EOPNOTSUPP,
                  getattr(errno, "ENOTSUP", errno.EOPNOTSUPP)}


def _exists(path: Path) -> bool:
    try:
        os.lstat(path)
    except FileNotFoundError:
        return False
    except OSError as exc:
        if exc.errno == errno.ENOTDIR:
            return False
        raise WriteError(f"cannot write {path}: {exc.strerror}") from None
    return True


def refuse_existing(paths: Sequence[Path], force: bool) -> None:
    """The check write_files makes first, for a command to make before its work (a `run` that
    would be refused at the end should not query for a minute first). Not a guarantee: the
    exclusive naming at write time is."""
    for path in paths:
        _refuse(Path(path), force)


def _refuse(path: Path, force: bool) -> None:
    """Before anything is written: a directory in the way, or a file that is not ours to replace."""
    if os.path.isdir(path):
        raise WriteError(f"{path} is a directory; name the file to write")
    if not force and _exists(path):
        raise UsageError(f"{path} already exists; it may hold someone's edits (use --force to replace it)")


def make_dirs(directory: Path) -> list[Path]:
    """mkdir -p, saying in one line why it cannot be done; the directories it created, outermost first."""
    directory = Path(directory)
    missing: list[Path] = []
    walk = directory
    while not os.path.isdir(walk):
        if _exists(walk):
            if os.path.isdir(walk):  # another writer made it between the two looks
                break
            raise WriteError(f"{walk} exists and is not a directory")
        missing.append(walk)
        if walk.parent == walk:
            break
        walk = walk.parent
    made: list[Path] = []
    try:
        for d in reversed(missing):
            try:
                os.mkdir(d)
            except FileExistsError:
                if not os.path.isdir(d):
                    raise WriteError(f"{d} exists and is not a directory") from None
                continue
            made.append(d)
    except OSError as exc:
        remove_dirs(made)
        raise WriteError(f"cannot create the directory {exc.filename or directory}: {exc.strerror}") from None
    except BaseException:
        remove_dirs(made)
        raise
    return made


def remove_dirs(made: Sequence[Path]) -> None:
    """Undo make_dirs: remove what it created, innermost first, if still empty."""
    for d in reversed(made):
        try:
            os.rmdir(d)
        except OSError:
            pass


def _stage(path: Path, text: str | bytes, *, mode: int | None = None) -> str:
    """The whole text in a temp file beside `path`, fsynced, with the mode the umask gives
    (or `mode`)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(text.encode("utf-8") if isinstance(text, str) else text)
            fh.flush()
            os.fsync(fh.fileno())
        if mode is None:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(tmp, mode)
    except BaseException:
        _unlink(tmp)
        raise
    return tmp


def _create_exclusive(tmp: str, path: Path, text: str) -> None:
    """Give the staged file its final name with an operation that fails if the name exists."""
    try:
        os.link(tmp, path)
        return
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in _NO_HARD_LINKS:
            raise
    # A file system without hard links: O_EXCL still refuses an existing name (the text is not
    # atomic there; a reader could see it half-written, a second writer still cannot replace it).
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, os.stat(tmp).st_mode & 0o777)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        _unlink(path)
        raise


def _unlink(path: str | Path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def sync_dir(directory: Path) -> None:
    """fsync a directory so a rename or unlink in it survives a crash (best effort)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_files(files: Sequence[tuple[Path, str]], *, force: bool = False) -> None:
    """Write every file or none: each is staged whole (fsynced temp file) before any gets its name.

    Without `force` a final name is created with an operation that fails when it exists
    (os.link, else O_EXCL), so of two writers racing for a name exactly one wins and the other
    is refused; nothing it wrote is left behind. With `force` a file is replaced atomically.
    A failure (full or read-only disk, a directory in the way, Ctrl-C) leaves no temp file, no
    half of a pair and no directory this call created. (With `force`, staging is where a disk
    fails; should a rename fail after another succeeded, the message names what was replaced.)
    """
    items = [(Path(p), t) for p, t in files]
    for path, _ in items:
        _refuse(path, force)
    made: list[Path] = []
    staged: list[tuple[str, Path]] = []
    named: list[Path] = []
    replaced: list[Path] = []  # with --force, a rename cannot be taken back
    current = items[0][0] if items else Path()
    try:
        for path, _ in items:
            made += make_dirs(path.parent)
        for path, text in items:
            current = path
            staged.append((_stage(path, text), path))
        for (tmp, path), (_, text) in zip(staged, items, strict=True):
            current = path
            if force:
                os.replace(tmp, path)
                replaced.append(path)
            else:
                _create_exclusive(tmp, path, text)
                named.append(path)
        for directory in {p.parent for p, _ in items}:
            sync_dir(directory)
    except BaseException as exc:
        for path in named:  # created by this call a moment ago: ours to take back
            _unlink(path)
        for tmp, _ in staged:
            _unlink(tmp)
        remove_dirs(made)
        if isinstance(exc, FileExistsError):
            raise UsageError(f"{current} already exists; it may hold someone's edits "
                             "(use --force to replace it)") from None
        if isinstance(exc, IsADirectoryError):
            raise WriteError(f"{current} is a directory; name the file to write") from None
        if isinstance(exc, OSError):
            left = (f"; {', '.join(str(p) for p in replaced)} already replaced" if replaced
                    else "; nothing was written")
            raise WriteError(f"cannot write {current}: {exc.strerror or exc}{left}") from None
        raise
    finally:
        for tmp, _ in staged:
            if os.path.lexists(tmp):
                _unlink(tmp)


def replace_file(path: Path, data: str | bytes, *, mode: int | None = None) -> None:
    """Create or replace `path` atomically, as write_files(force=True) does for one file: staged
    whole in a fsynced temp file beside it (a dot name no reader takes for an entry), renamed,
    the directory fsynced. Readers see the old file or the new one.

    Unlike write_files it raises the OSError itself, not WriteError: it is for writers that
    decide what a failure means (`triage serve`'s spool answers 503 to a full disk, so that
    Alertmanager retries, and a worker keeps the incident to try again); no temp file is left.
    `mode` (e.g. 0o600) instead of the umask's."""
    path = Path(path)
    tmp = _stage(path, data, mode=mode)
    try:
        os.replace(tmp, path)
    except BaseException:
        _unlink(tmp)
        raise
    sync_dir(path.parent)


def write_new(path: Path, text: str, *, force: bool = False) -> None:
    """Create `path` atomically; refuse to replace a file unless forced, even against a racing writer."""
    write_files([(Path(path), text)], force=force)


@contextmanager
def directory_lock(directory: Path) -> Iterator[None]:
    """flock on the directory itself: no lock file is left beside the record. Where the file
    system cannot lock (ENOLCK on some NFS), the append goes on unlocked, as before."""
    try:
        fd = os.open(directory, os.O_RDONLY) if fcntl is not None else -1
    except OSError:
        fd = -1
    if fd < 0:
        yield
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError:
            pass
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
