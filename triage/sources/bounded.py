"""Answers read within a size cap and a deadline, whatever the server sends.

`response.read()` reads a body whole and decodes it whole: a 3 MB gzip bomb becomes 3 GB in
memory, a plain 1.2 GB body 1.2 GB, and a server trickling a byte every half second keeps a
read timeout from ever firing. Here a body is read in pieces of decoded bytes (urllib3 decodes
at most what is asked for), and the reading stops at the cap or at the deadline.
"""

from __future__ import annotations

import time
from typing import Any

CHUNK = 256 * 1024


class AnswerTooLarge(Exception):
    def __init__(self, cap: int) -> None:
        super().__init__(f"larger than {mib(cap)}")
        self.cap = cap


class AnswerTooSlow(Exception):
    pass


def mib(size: int) -> str:
    return f"{size / (1 << 20):g} MiB" if size >= 1 << 20 else f"{size // 1024} KiB"


def read_bounded(raw: Any, *, cap: int, deadline: float, truncate: bool = False) -> bytes:
    """The decoded body of a urllib3 response, at most `cap` bytes (past it: `AnswerTooLarge`, or the
    first `cap` bytes with `truncate`), by `deadline` (`time.monotonic()`; past it: `AnswerTooSlow`)."""
    read = getattr(raw, "read1", None) or raw.read
    chunks: list[bytes] = []
    size = 0
    while True:
        if time.monotonic() > deadline:
            raise AnswerTooSlow
        # decode_content: requests opens its responses with decoding off and decodes in iter_content
        chunk = read(min(CHUNK, cap + 1 - size), decode_content=True)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > cap:
            if truncate:
                chunks.append(chunk)
                return b"".join(chunks)[:cap]
            raise AnswerTooLarge(cap)
        chunks.append(chunk)
