"""The Prometheus source over the standard library (triage.sources.plainhttp, issue 17): used only
when requests would add nothing (plain http, no proxy, no netrc, no credentials in the URL);
otherwise requests, with what it gives users (HTTP_PROXY, netrc, redirects, https) kept."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from testing.servers.fake_prometheus import FakePrometheus, Reply, ok_matrix
from triage.config import BackendSettings
from triage.errors import SourceError
from triage.secrets import Secret
from triage.sources import plainhttp
from triage.sources.prometheus import PrometheusSource

REPO = Path(__file__).resolve().parent.parent
SERIES = [{"metric": {"service": "checkout"}, "values": [[1000, "1.5"]]}]
MATRIX = {"status": "success", "data": {"resultType": "matrix", "result": SERIES}}


def _source(url: str, **kw) -> PrometheusSource:
    return PrometheusSource(BackendSettings(url=url, timeout=kw.pop("timeout", 3.0), **kw), sleep=lambda s: None)


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for key in list(os.environ):
        if key.lower() in ("http_proxy", "https_proxy", "all_proxy", "no_proxy", "netrc"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("HOME", str(tmp_path))   # no ~/.netrc
    return tmp_path


def test_when_the_standard_library_is_used(clean_env):
    env = {"HOME": str(clean_env)}
    assert plainhttp.usable("http://127.0.0.1:9090", None, env)
    assert plainhttp.usable("http://prom.internal/prometheus", None, env)
    assert not plainhttp.usable("https://127.0.0.1:9090", None, env)
    assert not plainhttp.usable("http://user:pw@127.0.0.1:9090", None, env)
    assert not plainhttp.usable("http://127.0.0.1:9090?x=1", None, env)
    assert not plainhttp.usable("http://127.0.0.1:9090", None, {**env, "HTTP_PROXY": "http://127.0.0.1:1"})
    assert not plainhttp.usable("http://127.0.0.1:9090", None, {**env, "all_proxy": "http://127.0.0.1:1"})
    netrc = clean_env / "netrc"
    netrc.write_text("machine 127.0.0.1 login a password b\n")
    assert not plainhttp.usable("http://127.0.0.1:9090", None, {**env, "NETRC": str(netrc)})
    assert plainhttp.usable("http://127.0.0.1:9090", ("a", "b"), {**env, "NETRC": str(netrc)})


def test_a_plain_http_source_does_not_import_requests():
    code = ("import sys\nfrom testing.servers.fake_prometheus import FakePrometheus, ok_matrix\n"
            "from triage.config import BackendSettings\nfrom triage.sources.prometheus import PrometheusSource\n"
            f"with FakePrometheus({{'/api/v1/query_range': [ok_matrix({SERIES!r})]}}) as fake:\n"
            "    src = PrometheusSource(BackendSettings(url=fake.url, timeout=5.0))\n"
            "    [s] = src.query_range('up', 1000, 1030, 15)\n"
            "print(s.points[0][1], 'requests' in sys.modules, 'urllib3' in sys.modules)\n")
    env = {k: v for k, v in os.environ.items() if k.lower() not in ("http_proxy", "all_proxy", "netrc")}
    env.update(PYTHONPATH=str(REPO), HOME=str(REPO / "nonexistent-home"))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO, timeout=60)
    assert out.stdout.split() == ["1.5", "False", "False"], out.stderr


def test_basic_auth_headers_and_query_params_are_sent_as_requests_sent_them(clean_env):
    with FakePrometheus({"/api/v1/query_range": [ok_matrix(SERIES)]}) as fake:
        src = _source(fake.url, username="ops", password=Secret("pä:ss"), headers=(("X-Scope-OrgID", "team-a"),),
                      query_params=(("dedup", "true"),))
        assert src._transport.pool is not None
        src.query_range("up{a=\"b c\"}", 1000, 1030, 15)
    sent = fake.requests[0]
    assert sent["headers"]["Authorization"] == "Basic b3BzOnDkOnNz"   # latin-1, as requests encodes it
    assert sent["headers"]["X-Scope-OrgID"] == "team-a"
    assert "dedup=true" in sent["path"] and "query=up%7Ba%3D%22b+c%22%7D" in sent["path"]


def test_a_gzip_answer_is_decoded_and_a_gzip_bomb_is_capped(clean_env):
    packed = gzip.compress(json.dumps(MATRIX).encode())
    bomb = gzip.compress(b'{"status":"success","data":{"resultType":"matrix","result":[' + b" " * (8 << 20) + b"]}}")
    with FakePrometheus({"/api/v1/query_range": [Reply(200, packed, {"Content-Encoding": "gzip"}),
                                                 Reply(200, bomb, {"Content-Encoding": "gzip"})]}) as fake:
        src = _source(fake.url, max_response_bytes=1 << 20)
        [series] = src.query_range("up", 1000, 1030, 15)
        assert series.points == [(1000.0, 1.5)]
        with pytest.raises(SourceError, match="larger than the 1 MiB cap"):
            src.query_range("up2", 1000, 1030, 15)


def test_every_member_of_a_multi_member_gzip_answer_is_read(clean_env):
    """A proxy that gzips an answer in pieces sends several members; every one is decoded (as urllib3
    decodes them), and what does not decode after a member is trailing data, not an error."""
    series = [{"metric": {"service": f"s{i}"}, "values": [[1000, str(i)]]} for i in range(400)]
    text = json.dumps({"status": "success", "data": {"resultType": "matrix", "result": series}}).encode()
    cut = len(text) // 3
    members = gzip.compress(text[:cut]) + gzip.compress(text[cut:2 * cut]) + gzip.compress(text[2 * cut:])
    with FakePrometheus({"/api/v1/query_range": [Reply(200, members, {"Content-Encoding": "gzip"}),
                                                 Reply(200, members + b"\0\0junk", {"Content-Encoding": "gzip"}),
                                                 Reply(200, b"junk" + members, {"Content-Encoding": "gzip"})]}) as fake:
        src = _source(fake.url)
        assert [s.points for s in src.query_range("up", 1000, 1030, 15)] == [[(1000.0, float(i))] for i in range(400)]
        assert len(src.query_range("up2", 1000, 1030, 15)) == 400
        with pytest.raises(SourceError, match="failed to decode"):
            src.query_range("up3", 1000, 1030, 15)


def test_refused_and_unresolvable_read_as_before(clean_env):
    with pytest.raises(SourceError, match=r"is unreachable: connection refused$"):
        _source("http://127.0.0.1:9").query_range("up", 1000, 1030, 15)


class _Proxy(BaseHTTPRequestHandler):
    """A Prometheus answering every query_range (keep-alive, HTTP/1.1), or an HTTP proxy doing so;
    a path under /old/ is redirected."""

    protocol_version = "HTTP/1.1"
    seen: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        type(self).seen.append(self.path)
        if "/old/" in self.path:
            self.send_response(302)
            self.send_header("Location", self.path.replace("/old/", "/"))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = json.dumps(MATRIX).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def proxy():
    _Proxy.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Proxy)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", _Proxy.seen
    finally:
        server.shutdown()
        server.server_close()


def test_http_proxy_from_the_environment_is_honoured(clean_env, monkeypatch, proxy):
    url, seen = proxy
    monkeypatch.setenv("HTTP_PROXY", url)
    src = _source("http://127.0.0.1:9")   # nothing listens there: only the proxy can answer
    assert src._transport.pool is None
    [series] = src.query_range("up", 1000, 1030, 15)
    assert series.points == [(1000.0, 1.5)]
    assert seen and seen[0].startswith("http://127.0.0.1:9/api/v1/query_range?")


def test_a_redirect_is_followed(clean_env, proxy):
    url, seen = proxy
    src = _source(url + "/old")
    assert src._transport.pool is not None
    [series] = src.query_range("up", 1000, 1030, 15)
    assert series.points == [(1000.0, 1.5)]
    # asked over http.client, then again through requests, which follows the redirect
    assert [p.split("?")[0] for p in seen] == ["/old/api/v1/query_range"] * 2 + ["/api/v1/query_range"]


def test_connections_are_kept_alive_and_a_closed_one_is_replaced(clean_env, proxy):
    url, seen = proxy
    src = _source(url)
    for i in range(3):
        src.query_range(f"up{i}", 1000, 1030, 15)
    assert src._transport.pool is not None and len(src._transport.pool._idle) == 1
    src._transport.pool._idle[0].sock.close()   # the server's idle timeout, as the client sees it
    src.query_range("again", 1000, 1030, 15)
    assert len(seen) == 4
    src.close()
    assert not src._transport.pool._idle


def test_requests_errors_wait_for_an_import_of_requests_under_way(tmp_path):
    # A request's thread importing requests (the first https call) while another asks which
    # exceptions are requests': the partial module in sys.modules is waited for, not read.
    pkg = tmp_path / "requests"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("import time\ntime.sleep(0.5)\nfrom . import exceptions\n")
    (pkg / "exceptions.py").write_text("".join(f"class {n}(Exception): pass\n" for n in
                                               ("Timeout", "SSLError", "ConnectionError", "RequestException")))
    code = ("import sys, threading, time\nfrom triage.sources import plainhttp\n"
            "t = threading.Thread(target=lambda: __import__('requests'))\nt.start()\n"
            "while 'requests' not in sys.modules:\n    time.sleep(0.001)\n"
            "print([e[0].__name__ for e in plainhttp.requests_errors()])\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(REPO)])}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert out.stdout.split() == ["['Timeout',", "'SSLError',", "'ConnectionError',", "'RequestException']"], out.stderr
