"""httpcall.fetch against a local stdlib server: each test names one promise of the HTTP
half of the runner's contract and breaks when that promise does."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from multi_model import httpcall
from multi_model.models import HttpCall
from multi_model.runner import MiB


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    stop: threading.Event

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that gave up is expected here


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:  # keep the test output clean
        pass

    def _send(self, status: int, body: bytes, **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        for key, value in headers.items():
            self.send_header(key.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        stop = self.server.stop  # type: ignore[attr-defined]
        if self.path == "/ok":
            self._send(200, "hello ✓\n".encode(), X_Test="yes")
        elif self.path == "/big":
            self._send(200, b"z" * (3 * MiB))
        elif self.path == "/slow":
            stop.wait(5)  # bounded: the fixture sets `stop` on teardown
            self._send(200, b"too late")
        elif self.path == "/trickle":
            self.send_response(200)
            self.end_headers()
            for _ in range(20):
                self.wfile.write(b"drip ")
                self.wfile.flush()
                if stop.wait(0.2):
                    return
        else:
            self._send(404, b'{"error": "model not found"}', Content_Type="application/json")

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self._send(200, self.headers["X-Key"].encode() + b"|" + body)  # echo what arrived


@pytest.fixture
def server() -> Iterator[str]:
    srv = _Server(("127.0.0.1", 0), _Handler)
    srv.stop = threading.Event()
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}"
    finally:
        srv.stop.set()
        srv.shutdown()
        srv.server_close()
        thread.join(5)


def test_fetch_200(server: str) -> None:
    reply = httpcall.fetch(HttpCall("GET", f"{server}/ok"), 5)
    assert (reply.status, reply.body, reply.timed_out, reply.error) == (
        200,
        "hello ✓\n",
        False,
        None,
    )
    assert reply.headers.get("X-Test") == "yes"


def test_fetch_post_sends_body_and_headers(server: str) -> None:
    call = HttpCall("POST", f"{server}/echo", {"X-Key": "k1"}, b'{"q": 1}')
    assert httpcall.fetch(call, 5).body == 'k1|{"q": 1}'


def test_fetch_404_keeps_the_body(server: str) -> None:
    reply = httpcall.fetch(HttpCall("GET", f"{server}/nope"), 5)
    assert (reply.status, reply.body, reply.timed_out) == (
        404,
        '{"error": "model not found"}',
        False,
    )


def test_fetch_connection_refused_is_a_value() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    reply = httpcall.fetch(HttpCall("GET", f"http://127.0.0.1:{port}/"), 5)
    assert reply.status == 0 and not reply.timed_out
    assert reply.error and "refused" in reply.error.lower()


def test_fetch_slow_reply_times_out(server: str) -> None:
    start = time.monotonic()
    reply = httpcall.fetch(HttpCall("GET", f"{server}/slow"), 0.5)
    assert reply.timed_out and reply.status == 0
    assert time.monotonic() - start < 3


def test_fetch_trickling_body_times_out_at_the_deadline(server: str) -> None:
    start = time.monotonic()
    reply = httpcall.fetch(HttpCall("GET", f"{server}/trickle"), 1.0)
    assert reply.timed_out and reply.status == 200
    assert reply.body.startswith("drip ")
    assert time.monotonic() - start < 3


def test_fetch_connect_timeout_is_a_timeout() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    filler = socket.create_connection(("127.0.0.1", port), timeout=2)  # accept queue now full
    try:
        start = time.monotonic()
        reply = httpcall.fetch(HttpCall("GET", f"http://127.0.0.1:{port}/"), 0.5)
        assert reply.timed_out and reply.status == 0
        assert time.monotonic() - start < 3
    finally:
        filler.close()
        listener.close()


def test_fetch_body_over_the_cap_is_cut(server: str) -> None:
    reply = httpcall.fetch(HttpCall("GET", f"{server}/big"), 5, output_cap=1 * MiB)
    assert reply.status == 200 and reply.truncated
    assert reply.body == "z" * MiB


def test_fetch_from_something_that_is_not_http_never_raises() -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]

    def banner() -> None:
        conn, _ = server.accept()
        conn.sendall(b"SSH-2.0-OpenSSH_9.6\r\n")
        conn.close()

    threading.Thread(target=banner, daemon=True).start()
    try:
        reply = httpcall.fetch(HttpCall("GET", f"http://127.0.0.1:{port}/api/tags"), 5)
    finally:
        server.close()
    assert reply.status == 0 and "not a valid HTTP reply" in (reply.error or "")
