"""triage.sources.wire against http.client itself: the same request bytes, and the same reading of
every answer (plain ones read here, odd heads handed to http.client), body or error alike."""

from __future__ import annotations

import http.client
import socket
import threading

import pytest

from triage.sources import wire

HEADERS = {"Accept": "*/*", "Connection": "keep-alive", "User-Agent": "triage", "Accept-Encoding": "gzip",
           "X-Scope-OrgID": "team a", "Authorization": "Basic YTpi"}


class _Sent:
    def __init__(self) -> None:
        self.data = b""

    def sendall(self, data: bytes) -> None:
        self.data += bytes(data)


def _client_bytes(host: str, port: int, target: str, headers: dict[str, str]) -> bytes:
    conn = http.client.HTTPConnection(host, port)
    sent = _Sent()
    conn.sock = sent  # type: ignore[assignment]
    conn.request("GET", target, headers=headers)
    return sent.data


@pytest.mark.parametrize(("host", "port", "headers"), [
    ("127.0.0.1", 9090, HEADERS),
    ("prom.internal", 80, HEADERS),
    ("::1", 9090, HEADERS),
    ("127.0.0.1", 9090, {"User-Agent": "triage"}),   # no Accept-Encoding: http.client adds identity
    ("127.0.0.1", 9090, {"X-Tab": "a\tb", "accept-encoding": "gzip"}),
])
def test_the_request_is_what_http_client_sends(host, port, headers):
    target = "/prometheus/api/v1/query_range?query=sum+by+%28service%29+%28up%29&start=1&end=2&step=15"
    assert wire.request(host, port, target, headers) == _client_bytes(host, port, target, headers)


@pytest.mark.parametrize(("target", "headers"), [
    ("/a b", HEADERS),                         # http.client refuses it (InvalidURL)
    ("/caf\u00e9", HEADERS),
    ("/x", {**HEADERS, "Host": "other"}),      # the caller's own Host
    ("/x", {**HEADERS, "X-Bad": "a\r\nb"}),     # http.client refuses it (ValueError)
    ("/x", {**HEADERS, "X-Latin": "caf\u00e9"}),
    ("/x", {**HEADERS, "X Space": "a"}),
])
def test_a_request_http_client_writes_otherwise_is_left_to_it(target, headers):
    assert wire.request("127.0.0.1", 9090, target, headers) is None


BODY = b'{"status":"success","data":{"resultType":"matrix","result":[]}}'
ANSWERS = {
    "length": b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(BODY), BODY),
    "length, spaces": b"HTTP/1.1 200 OK\r\nContent-Length:   %d  \r\ncontent-encoding:\tgzip \r\n\r\n%s"
                      % (len(BODY), BODY),
    "no reason": b"HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nok",
    "duplicates": b"HTTP/1.1 503 Busy\r\nRetry-After: 1\r\nretry-after: 9\r\nContent-Length: 2\r\n\r\nno",
    "chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n",
    "chunked, trailer": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n3\r\nabc\r\n0\r\nX-T: 1\r\n\r\n",
    "cut short": b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this",
    "chunk cut short": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc",
    "bad chunk size": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
    "till close": b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nread until the end",
    "connection close": b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 4\r\n\r\nbyeX",
    "bad length": b"HTTP/1.1 200 OK\r\nContent-Length: nope\r\n\r\nabc",
    "negative length": b"HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\nabc",
    # odd heads: http.client's own reading
    "http/1.0": b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
    "continue": b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    "no content": b"HTTP/1.1 204 No Content\r\n\r\n",
    "folded": b"HTTP/1.1 200 OK\r\nX-A: one\r\n two\r\nContent-Length: 2\r\n\r\nok",
    "bare lf": b"HTTP/1.1 200 OK\nContent-Length: 2\n\nok",
    "garbage": b"SSH-2.0-OpenSSH_9.6\r\n",
    "short status": b"HTTP/1.1 20\r\n\r\n",
    "huge status": b"HTTP/1.1 999 What\r\nContent-Length: 2\r\n\r\nok",
    "no colon": b"HTTP/1.1 200 OK\r\nnot a header\r\nContent-Length: 2\r\n\r\nok",
    "too many": b"HTTP/1.1 200 OK\r\n" + b"X-H: 1\r\n" * 101 + b"Content-Length: 2\r\n\r\nok",
    "long line": b"HTTP/1.1 200 OK\r\nX-Long: " + b"a" * 70000 + b"\r\n\r\nok",
    "empty": b"",
}


def _outcome(answer_of, script: bytes, how: str) -> tuple:
    """What reading the answer to `script` gives: its status, some headers, will_close and body
    (read as the pool reads: read(n), or read1(n) then read()), or the error's name."""
    ours, theirs = socket.socketpair()
    writer = threading.Thread(target=lambda: (theirs.sendall(script), theirs.shutdown(socket.SHUT_WR)),
                              daemon=True)
    try:
        writer.start()
        ours.settimeout(5)
        try:
            answer = answer_of(ours)
        except (wire.HTTPException, http.client.HTTPException) as exc:
            return ("head", type(exc).__name__, str(exc))
        got = (answer.status, [answer.headers.get(h) for h in ("Content-Length", "content-encoding",
                                                                 "Retry-After", "X-A", "Missing")],
               answer.headers.get("Missing", "dflt"), answer.will_close)
        chunks = []
        try:
            while True:
                chunk = answer.read(7) if how == "read" else answer.read1(7)
                if not chunk:
                    break
                chunks.append(chunk)
            rest = answer.read()
        except (wire.HTTPException, http.client.HTTPException, ValueError) as exc:
            return (*got, b"".join(chunks), type(exc).__name__)
        return (*got, b"".join(chunks), rest, answer.isclosed())
    finally:
        ours.close()
        writer.join(5)
        theirs.close()


def _wire(sock: socket.socket):
    conn = wire.Connection("127.0.0.1", 80, 5)
    conn.sock = sock
    return conn.get(b"")   # nothing sent: the answer is already on its way


def _client(sock: socket.socket):
    answer = http.client.HTTPResponse(sock, method="GET")
    answer.begin()
    return answer


@pytest.mark.parametrize("how", ["read", "read1"])
@pytest.mark.parametrize("name", list(ANSWERS))
def test_an_answer_reads_as_http_client_reads_it(name, how):
    script = ANSWERS[name]
    assert _outcome(_wire, script, how) == _outcome(_client, script, how)


def test_a_plain_answer_is_read_without_http_client():
    conn = wire.Connection("127.0.0.1", 80, 5)
    ours, theirs = socket.socketpair()
    with ours, theirs:
        theirs.sendall(ANSWERS["length"])
        conn.sock = ours
        answer = conn.get(b"")
        assert isinstance(answer, wire.Answer)
        assert answer.read() == BODY and answer.isclosed() and not answer.will_close
        assert conn.sock is ours and conn.reusable


def test_connect_refused_reads_as_socket_says_it():
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    with pytest.raises(ConnectionRefusedError) as ours:
        wire.connect("127.0.0.1", port, 2)
    with pytest.raises(ConnectionRefusedError) as theirs:
        socket.create_connection(("127.0.0.1", port), 2)
    assert str(ours.value) == str(theirs.value)
