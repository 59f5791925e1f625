"""A plain-HTTP GET over the standard library, for the common case of a Prometheus source (issue 17).

requests (with urllib3, charset_normalizer, idna, the cookie jars) costs ~60 ms of a one-service
`rca`'s ~200 ms of CPU. When nothing requests would add applies to a backend, the source sends
its GETs through http.client with a small keep-alive pool instead. `usable()` says when: an
`http://` URL without credentials, a query or a fragment in it, no proxy in the environment
(HTTP_PROXY, ALL_PROXY, any case) and no netrc file (NETRC, ~/.netrc, ~/_netrc) that requests
would take credentials from. Anything else (https and its CA options, proxies, netrc, URL
credentials) still goes through requests, and so does any answer that redirects.

What leaves here looks to the source like what requests gave it: `status_code`, `headers`
(case-insensitive `get`), `iter_content` (gzip decoded a bounded piece at a time), `close`, and
`raw._connection.sock` for read_bounded's deadline timer. Failures are OSError (socket's own:
refused, unresolved, reset, TimeoutError) or TransportError."""

from __future__ import annotations

import os
import sys
import threading
import zlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

from triage.sources import wire

if TYPE_CHECKING:
    import http.client
    import ssl

REDIRECTS = (301, 302, 303, 307, 308)
_PROXY_VARS = ("http_proxy", "all_proxy")


class TransportError(Exception):
    """A broken answer (a bad status line, a body cut short, a body that does not decode)."""


def usable(url: str, auth: object | None, environ: Any = None) -> bool:
    """Whether a GET to `url` is the same over http.client as over requests (see the module)."""
    env = os.environ if environ is None else environ
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    del port
    if parts.scheme != "http" or not parts.hostname or parts.username is not None or parts.password is not None \
            or parts.query or parts.fragment:
        return False
    if any(key.lower() in _PROXY_VARS and value for key, value in env.items()):
        return False
    if auth is None:
        names = [env["NETRC"]] if env.get("NETRC") else []
        home = os.path.expanduser("~")
        names += [os.path.join(home, ".netrc"), os.path.join(home, "_netrc")]
        if any(os.path.exists(name) for name in names):
            return False
    return True


class Transport:
    """A backend's GETs: over a Pool when `usable`, else (and for an answer that redirects, which
    requests follows) over a requests Session made on first use."""

    def __init__(self, url: str, auth: tuple[str, str] | None, headers: dict[str, str], verify: bool | str,
                 size: int) -> None:
        self.url, self.auth, self.headers, self.verify, self.size = url, auth, headers, verify, size
        self.pool = Pool(url, size) if usable(url, auth) else None
        self.plain_headers = {"Accept": "*/*", "Connection": "keep-alive", **headers}
        if auth is not None:
            self.plain_headers["Authorization"] = basic_auth(*auth)
        self._lock = threading.Lock()
        self._session: Any = None

    def session(self) -> Any:
        with self._lock:
            if self._session is None:
                from triage.sources.http import requests_session

                self._session = requests_session(self.url, self.verify, self.size)
            return self._session

    def get(self, path: str, params: dict | None, left: float) -> Any:
        """GET with a connect timeout of min(3 s, left) and a read timeout of `left`, streamed."""
        if self.pool is not None:
            response = self.pool.get(path, params, self.plain_headers, min(3.0, left), left)
            if response.status_code not in REDIRECTS:
                return response
            response.close()
        return self.session().get(f"{self.url}{path}", params=params, headers=self.headers, auth=self.auth,
                                  timeout=(min(3.0, left), left), stream=True, verify=self.verify)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()
        if self._session is not None:
            self._session.close()


class _Raw:
    def __init__(self, connection: Any) -> None:
        self._connection = connection


def _http_errors() -> tuple[type[BaseException], ...]:
    """wire's HTTPException, and http.client's once something read an answer through it."""
    client = sys.modules.get("http.client")
    return (wire.HTTPException,) if client is None else (wire.HTTPException, client.HTTPException)


# zlib's window bits for the content-codings read here (gzip's header, zlib's or gzip's for deflate)
_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": 32 + zlib.MAX_WBITS}


class Response:
    """One answer, streamed."""

    def __init__(self, pool: Pool, connection: Any, answer: Any) -> None:
        self._pool = pool
        self._connection = connection
        self._answer = answer
        self.status_code = answer.status
        self.headers = answer.headers
        self.raw = _Raw(connection)
        self._done = False
        self._inflater: Any = None
        self._wbits = 16 + zlib.MAX_WBITS

    def iter_content(self, chunk_size: int) -> Iterator[bytes]:
        coding = self._coding()
        wbits = _WBITS.get(coding, 0)
        inflate = zlib.decompressobj(wbits) if wbits else None
        later = False   # past the first gzip member: what does not decode there is trailing data
        while True:
            try:
                chunk = self._answer.read(chunk_size)
            except _http_errors() as exc:
                raise TransportError(f"the answer was cut short ({type(exc).__name__})") from None
            if not chunk:
                break
            if inflate is None:
                yield chunk
                continue
            while chunk:
                if inflate.eof:   # the next member of a multi-member gzip stream: all are read, as urllib3 does
                    inflate, later = zlib.decompressobj(wbits), True
                try:
                    piece = inflate.decompress(chunk, chunk_size)
                except zlib.error:
                    if later:   # trailing garbage after a member, which urllib3 and gzip readers allow
                        self._done = True
                        return
                    raise TransportError(f"Received response with content-encoding: {coding}, "
                                         "but failed to decode it.") from None
                if piece:
                    yield piece
                chunk = inflate.unconsumed_tail or (inflate.unused_data if inflate.eof else b"")
        if inflate is not None:
            try:
                tail = inflate.flush()
            except zlib.error:
                tail = b""
            if tail:
                yield tail
        self._done = True

    def read1(self, amt: int, decode_content: bool = True) -> bytes:
        """At most about `amt` decoded bytes of what has arrived (b"" at the end): the reading
        `triage.sources.bounded.read_bounded` does on a urllib3 answer. gzip/deflate are inflated
        `amt` bytes at a time, so a small bomb never grows past what is asked for."""
        del decode_content  # always decoded, as urllib3 is asked to
        inflate = self._inflate()
        while True:
            if inflate is not None and inflate.unconsumed_tail:
                chunk = inflate.unconsumed_tail
            elif inflate is not None and inflate.eof and inflate.unused_data:
                # the next member of a multi-member gzip stream: read them all, as urllib3 does
                chunk = inflate.unused_data
                inflate = self._inflater = zlib.decompressobj(self._wbits)
            else:
                try:
                    chunk = self._answer.read1(amt)
                except _http_errors() as exc:
                    raise TransportError(f"the answer was cut short ({type(exc).__name__})") from None
                if not chunk:
                    try:
                        self._answer.read()  # read1 leaves a Content-Length answer open at its end
                    except _http_errors() as exc:
                        raise TransportError(f"the answer was cut short ({type(exc).__name__})") from None
                    self._done = True
                    if inflate is None:
                        return b""
                    try:
                        return inflate.flush()
                    except zlib.error:
                        return b""
                    finally:
                        self._inflater = None
            if inflate is None:
                return chunk
            if inflate.eof:  # a member ended with the last chunk: this one begins the next
                inflate = self._inflater = zlib.decompressobj(self._wbits)
            try:
                piece = inflate.decompress(chunk, amt)
            except zlib.error:
                raise TransportError("the answer's content-encoding does not decode") from None
            if piece:
                return piece

    def _inflate(self) -> Any:
        if self._inflater is None and not self._done:
            coding = self._coding()
            if coding not in ("identity", ""):
                if coding not in _WBITS:
                    raise TransportError(f"the answer's content-encoding {coding[:40]!r} is not one this reads")
                self._wbits = _WBITS[coding]
                self._inflater = zlib.decompressobj(self._wbits)
        return self._inflater

    def _coding(self) -> str:
        return (self.headers.get("Content-Encoding") or "identity").strip().lower()

    def close(self) -> None:
        """Back to the pool when the answer was read to its end on a connection that stays open."""
        answer = self._answer
        reusable = self._done and answer.isclosed() and not answer.will_close
        if not reusable:
            answer.close()
        self._pool.put(self._connection, reusable)


def _https_connection(host: str, port: int, *, timeout: float, context: ssl.SSLContext,
                      server_hostname: str | None) -> http.client.HTTPConnection:
    """https with the name the certificate is checked against set apart from the host (a
    kubeconfig's `tls-server-name`)."""
    import http.client

    class _HTTPSConnection(http.client.HTTPSConnection):
        def __init__(self) -> None:
            super().__init__(host, port, timeout=timeout, context=context)

        def connect(self) -> None:
            http.client.HTTPConnection.connect(self)
            self.sock = context.wrap_socket(self.sock, server_hostname=server_hostname or host)

    return _HTTPSConnection()


def _http_connection(host: str, port: int, timeout: float) -> http.client.HTTPConnection:
    import http.client

    return http.client.HTTPConnection(host, port, timeout=timeout)


class Pool:
    """Keep-alive connections to one host, at most `size` idle; thread-safe. With `context`, over
    TLS (`server_hostname`: the name checked in the certificate, else the URL's host)."""

    def __init__(self, url: str, size: int, *, context: ssl.SSLContext | None = None,
                 server_hostname: str | None = None) -> None:
        parts = urlsplit(url)
        self.host = parts.hostname or ""
        self.port = parts.port or (443 if context is not None else 80)
        self.prefix = parts.path
        self.context = context
        self.server_hostname = server_hostname
        self.size = max(1, size)
        self._idle: list[Any] = []   # wire.Connection, or http.client's
        self._lock = threading.Lock()

    def put(self, connection: Any, reusable: bool) -> None:
        if reusable and getattr(connection, "reusable", True):
            with self._lock:
                if len(self._idle) < self.size:
                    self._idle.append(connection)
                    return
        connection.close()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()

    def get(self, path: str, params: dict | None, headers: dict[str, str], connect_timeout: float,
            read_timeout: float) -> Response:
        """GET `path` (after the URL's own path) with `params`; raises OSError or TransportError."""
        target = f"{self.prefix}{path}"
        if params:
            target += "?" + urlencode({k: str(v) for k, v in params.items()})
        # the bytes http.client would send, over a bare socket; None: through http.client itself
        data = wire.request(self.host, self.port, target, headers) if self.context is None else None
        with self._lock:
            reused = self._idle.pop() if self._idle else None
        if reused is not None and isinstance(reused, wire.Connection) != (data is not None):
            reused.close()
            reused = None
        if reused is not None:
            try:
                return self._send(reused, target, headers, data, read_timeout)
            except ConnectionError:
                # A kept-alive connection the server closed meanwhile (urllib3 checks before reuse).
                reused.close()
        connection: Any
        if data is not None:
            connection = wire.Connection(self.host, self.port, connect_timeout)
        elif self.context is None:
            connection = _http_connection(self.host, self.port, connect_timeout)
        else:
            connection = _https_connection(self.host, self.port, timeout=connect_timeout, context=self.context,
                                           server_hostname=self.server_hostname)
        try:
            connection.connect()
        except BaseException:
            connection.close()
            raise
        return self._send(connection, target, headers, data, read_timeout)

    def _send(self, connection: Any, target: str, headers: dict[str, str], data: bytes | None,
              read_timeout: float) -> Response:
        try:
            if connection.sock is not None:
                connection.sock.settimeout(read_timeout)
            connection.timeout = read_timeout
            if data is not None:
                answer = connection.get(data)
            else:
                connection.request("GET", target, headers=headers)
                answer = connection.getresponse()
        except _http_errors() as exc:   # RemoteDisconnected, BadStatusLine: as requests says them
            connection.close()
            raise ConnectionAbortedError(f"Connection aborted: {type(exc).__name__}({exc})") from None
        except BaseException:
            connection.close()
            raise
        return Response(self, connection, answer)


def basic_auth(username: str, password: str) -> str:
    """The Authorization header of HTTP basic auth, as requests writes it (latin-1 if it can)."""
    import base64

    def encoded(text: str) -> bytes:
        try:
            return text.encode("latin1")
        except UnicodeEncodeError:
            return text.encode("utf-8")

    return "Basic " + base64.b64encode(encoded(username) + b":" + encoded(password)).decode("ascii")


_Errors = tuple[type[BaseException], ...]


def requests_errors() -> tuple[_Errors, _Errors, _Errors, _Errors]:
    """requests' Timeout, SSLError, ConnectionError and RequestException when requests is loaded
    (else nothing of it was used: empty tuples, and requests is not imported for them)."""
    if sys.modules.get("requests") is None:
        return (), (), (), ()
    # Another request's thread may be importing it right now (its first https or proxied call):
    # `import` waits for that import to finish, where the module in sys.modules is still partial.
    import requests

    exc = requests.exceptions
    return (exc.Timeout,), (exc.SSLError,), (exc.ConnectionError,), (exc.RequestException,)
