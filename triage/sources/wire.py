"""A GET over a bare socket, as http.client sends and reads it, for the plain-http pool of
triage.sources.plainhttp (issue 17).

http.client brings the email package (its header parser), ssl and socket's enum tables: about
half of what a one-service `rca` imported before its first request could leave. Here the
request is the bytes http.client writes for the pool's GETs, and the answer is read as
http.client reads it: the body methods below are HTTPResponse's (CPython 3.11), the same reads
on the same 8 KiB buffer, so a body cut short, a broken chunk or a connection that closes ends
the same way. Only the plain case is done here: a request http.client would write otherwise (a
Host, Content-Length or Transfer-Encoding of the caller's, a character it refuses or encodes,
an IPv6 zone) is not (`request` says None and the pool asks http.client), and an answer whose
head is not a plain HTTP/1.1 one (another version, a 1xx, 204 or 304 status, a folded, bare-LF
or unusual header line, more than 100 lines) is handed, every byte read so far with it, to
http.client's HTTPResponse, which says what it always said about it.

The reading code is derived from CPython's Lib/http/client.py (3.11), Copyright (c) 2001-2023
Python Software Foundation, used under the PSF License Agreement (Python 3.11's LICENSE file).
"""

from __future__ import annotations

import _socket
import io
from typing import Any

MAXLINE = 65536
MAXHEADERS = 100
BUFFER = 8192   # io.DEFAULT_BUFFER_SIZE: what socket.makefile("rb") gives http.client


class HTTPException(Exception):
    """http.client's exceptions of the same names, raised where it raises them."""


class IncompleteRead(HTTPException):
    def __init__(self, partial: bytes, expected: int | None = None) -> None:
        self.args = (partial,)
        self.partial = partial
        self.expected = expected

    def __repr__(self) -> str:
        more = f", {self.expected} more expected" if self.expected is not None else ""
        return f"{type(self).__name__}({len(self.partial)} bytes read{more})"

    __str__ = object.__str__


class LineTooLong(HTTPException):
    def __init__(self, line_type: str) -> None:
        super().__init__(f"got more than {MAXLINE} bytes when reading {line_type}")


class RemoteDisconnected(HTTPException):
    """The server closed the connection before the status line (an idle keep-alive it ended)."""


def connect(host: str, port: int, timeout: float) -> Any:
    """socket.create_connection + HTTPConnection.connect's TCP_NODELAY, on _socket: the last error
    of the addresses tried is raised. A host name is passed as the bytes the idna codec would
    make of it, where that is plain ASCII (the codec, and its import, only for the others)."""
    name: str | bytes = host
    if host.isascii():
        labels = host.split(".")
        if all(0 < len(label) < 64 for label in labels[:-1]) and len(labels[-1]) < 64:
            name = host.encode("ascii")
    error: OSError | None = None
    for family, kind, proto, _, address in _socket.getaddrinfo(name, port, 0, _socket.SOCK_STREAM):
        sock = None
        try:
            sock = _socket.socket(family, kind, proto)
            sock.settimeout(timeout)
            sock.connect(address)
        except OSError as exc:
            error = exc
            if sock is not None:
                sock.close()
            continue
        try:
            sock.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, 1)
        except OSError as exc:
            if exc.errno != 92:   # ENOPROTOOPT
                sock.close()
                raise
        return sock
    if error is not None:
        raise error
    raise OSError("getaddrinfo returns an empty list")


def _plain(text: str, low: int = 0x21) -> bool:
    return text.isascii() and all(low <= ord(ch) <= 0x7E for ch in text)


def request(host: str, port: int, target: str, headers: dict[str, str]) -> bytes | None:
    """The bytes http.client sends for `GET target` with `headers` on a connection to host:port,
    or None where it would write something else (or refuse): ask it then."""
    names = {str(name).lower() for name in headers}
    if names & {"host", "content-length", "transfer-encoding"} or not target.startswith("/") \
            or not _plain(target) or not _plain(host) or "%" in host:
        return None
    where = f"[{host}]" if ":" in host else host
    lines = [f"GET {target} HTTP/1.1", f"Host: {where}" if port == 80 else f"Host: {where}:{port}"]
    if "accept-encoding" not in names:
        lines.append("Accept-Encoding: identity")
    for name, value in headers.items():
        if not isinstance(name, str) or not isinstance(value, str) or not _plain(name) or ":" in name \
                or not all(ch == "\t" or 0x20 <= ord(ch) <= 0x7E for ch in value) or not value.isascii():
            return None
        lines.append(f"{name}: {value}")
    lines += ["", ""]
    return "\r\n".join(lines).encode("ascii")


class Headers:
    """The answer's header lines as http.client's HTTPMessage gives them: `get` is the first of
    that name (any case), its value after the colon without leading blanks."""

    def __init__(self, items: list[tuple[str, str]]) -> None:
        self._items = items

    def get(self, name: str, default: Any = None) -> Any:
        wanted = name.lower()
        for key, value in self._items:
            if key.lower() == wanted:
                return value
        return default

    def items(self) -> list[tuple[str, str]]:
        return list(self._items)


class _Reader(io.RawIOBase):
    """socket.SocketIO for reading, on a _socket; the socket is closed with it when the answer
    owns it (a connection that closes at the answer's end)."""

    def __init__(self, sock: Any) -> None:
        self._sock = sock
        self.owns = False

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        return self._sock.recv_into(b)  # type: ignore[no-any-return]

    def close(self) -> None:
        if not self.closed and self.owns:
            self._sock.close()
        super().close()


class _Replay(io.RawIOBase):
    """The bytes already read of an answer, then the rest of it: for http.client's own reading."""

    def __init__(self, head: bytes, rest: Any) -> None:
        self._head = head
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        if self._head:
            n = min(len(b), len(self._head))
            b[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._rest.read1(len(b))
        b[:len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._rest.close()
        super().close()


class _FileOf:
    """What HTTPResponse takes a file from."""

    def __init__(self, fp: Any) -> None:
        self._fp = fp

    def makefile(self, mode: str) -> Any:
        return self._fp


class Connection:
    """One keep-alive connection (`sock` None once an answer took it over to read to its close)."""

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.sock: Any = None
        self.reusable = True   # False once an answer was read by http.client (it may hold bytes of the next)

    def connect(self) -> None:
        self.sock = connect(self.host, self.port, self.timeout)

    def close(self) -> None:
        sock, self.sock = self.sock, None
        if sock is not None:
            sock.close()

    def get(self, data: bytes) -> Any:
        """Send `data` (`request`'s) and read the answer's head: an Answer, or http.client's
        HTTPResponse for a head that is not the plain case."""
        self.sock.sendall(data)
        reader = _Reader(self.sock)
        fp = io.BufferedReader(reader, BUFFER)
        read: list[bytes] = []
        head = _head(fp, read)
        answer: Any
        if head is None:
            self.reusable = False
            import http.client

            replay = _FileOf(io.BufferedReader(_Replay(b"".join(read), fp), BUFFER))
            answer = http.client.HTTPResponse(replay, method="GET")  # type: ignore[arg-type]
            try:
                answer.begin()
            except BaseException:
                answer.close()
                raise
        else:
            answer = Answer(fp, *head)
        if answer.will_close:   # HTTPConnection.getresponse: the answer now owns the socket
            reader.owns = True
            self.sock = None
        return answer


def _head(fp: Any, read: list[bytes]) -> tuple[int, str, Headers] | None:
    """Status, reason and headers of a plain HTTP/1.1 head, or None (every line read is in `read`)."""
    line = fp.readline(MAXLINE + 1)
    read.append(line)
    if not line:
        raise RemoteDisconnected("Remote end closed connection without response")
    if not (line.startswith(b"HTTP/1.1 ") and line.endswith(b"\r\n") and len(line) <= MAXLINE
            and line[9:12].isdigit() and (len(line) == 14 or line[12:13] == b" ")
            and b"\r" not in line[:-2] and b"\n" not in line[:-2]):
        return None
    status = int(line[9:12])
    if not 200 <= status <= 599 or status in (204, 304):
        return None
    reason = line[13:-2].decode("iso-8859-1").strip()
    items: list[tuple[str, str]] = []
    while True:
        line = fp.readline(MAXLINE + 1)
        read.append(line)
        if len(read) > MAXHEADERS + 1 or len(line) > MAXLINE or not line.endswith(b"\r\n"):
            return None
        if line == b"\r\n":
            return status, reason, Headers(items)
        body = line[:-2]
        colon = body.find(b":")
        if colon <= 0 or b"\r" in body or b"\n" in body:
            return None
        name = body[:colon]
        if not all(0x21 <= c <= 0x7E for c in name):
            return None
        items.append((name.decode("ascii"), body[colon + 1:].decode("iso-8859-1").lstrip(" \t")))


class Answer:
    """http.client.HTTPResponse (3.11) past its head, for a GET: the same reads of the same file."""

    def __init__(self, fp: Any, status: int, reason: str, headers: Headers) -> None:
        self.fp: Any = fp
        self.status = status
        self.reason = reason
        self.headers = headers
        tr_enc = headers.get("transfer-encoding")
        self.chunked = bool(tr_enc and tr_enc.lower() == "chunked")
        self.chunk_left: int | None = None
        conn = headers.get("connection")
        self.will_close = bool(conn and "close" in conn.lower())
        self.length: int | None = None
        length = headers.get("content-length")
        if length and not self.chunked:
            try:
                self.length = int(length)
            except ValueError:
                self.length = None
            else:
                if self.length < 0:
                    self.length = None
        if not self.will_close and not self.chunked and self.length is None:
            self.will_close = True

    def _close_conn(self) -> None:
        fp, self.fp = self.fp, None
        if fp is not None:
            fp.close()

    def close(self) -> None:
        if self.fp:
            self._close_conn()

    def isclosed(self) -> bool:
        return self.fp is None

    def read(self, amt: int | None = None) -> bytes:
        if self.fp is None:
            return b""
        if self.chunked:
            return self._read_chunked(amt)
        if amt is not None:
            if self.length is not None and amt > self.length:
                amt = self.length
            s = self.fp.read(amt)
            if not s and amt:
                self._close_conn()
            elif self.length is not None:
                self.length -= len(s)
                if not self.length:
                    self._close_conn()
            return s
        if self.length is None:
            s = self.fp.read()
        else:
            try:
                s = self._safe_read(self.length)
            except IncompleteRead:
                self._close_conn()
                raise
            self.length = 0
        self._close_conn()
        return s

    def _read_next_chunk_size(self) -> int:
        line = self.fp.readline(MAXLINE + 1)
        if len(line) > MAXLINE:
            raise LineTooLong("chunk size")
        i = line.find(b";")
        if i >= 0:
            line = line[:i]
        try:
            return int(line, 16)
        except ValueError:
            self._close_conn()
            raise

    def _read_and_discard_trailer(self) -> None:
        while True:
            line = self.fp.readline(MAXLINE + 1)
            if len(line) > MAXLINE:
                raise LineTooLong("trailer line")
            if not line or line in (b"\r\n", b"\n"):
                break

    def _get_chunk_left(self) -> int | None:
        chunk_left = self.chunk_left
        if not chunk_left:
            if chunk_left is not None:
                self._safe_read(2)
            try:
                chunk_left = self._read_next_chunk_size()
            except ValueError:
                raise IncompleteRead(b"") from None
            if chunk_left == 0:
                self._read_and_discard_trailer()
                self._close_conn()
                chunk_left = None
            self.chunk_left = chunk_left
        return chunk_left

    def _read_chunked(self, amt: int | None = None) -> bytes:
        value: list[bytes] = []
        try:
            while True:
                chunk_left = self._get_chunk_left()
                if chunk_left is None:
                    break
                if amt is not None and amt <= chunk_left:
                    value.append(self._safe_read(amt))
                    self.chunk_left = chunk_left - amt
                    break
                value.append(self._safe_read(chunk_left))
                if amt is not None:
                    amt -= chunk_left
                self.chunk_left = 0
            return b"".join(value)
        except IncompleteRead as exc:
            raise IncompleteRead(b"".join(value)) from exc

    def _safe_read(self, amt: int) -> bytes:
        data = self.fp.read(amt)
        if len(data) < amt:
            raise IncompleteRead(data, amt - len(data))
        return data

    def read1(self, n: int = -1) -> bytes:
        if self.fp is None:
            return b""
        if self.chunked:
            return self._read1_chunked(n)
        if self.length is not None and (n < 0 or n > self.length):
            n = self.length
        result = self.fp.read1(n)
        if not result and n:
            self._close_conn()
        elif self.length is not None:
            self.length -= len(result)
        return result

    def _read1_chunked(self, n: int) -> bytes:
        chunk_left = self._get_chunk_left()
        if chunk_left is None or n == 0:
            return b""
        if not 0 <= n <= chunk_left:
            n = chunk_left
        read = self.fp.read1(n)
        self.chunk_left = chunk_left - len(read)
        if not read:
            raise IncompleteRead(b"")
        return read
