"""A scripted HTTP server for tests: stdlib only, loopback, ephemeral port, bounded lifetime.

    mock = HttpMock().start()
    mock.reply("/api/chat", json={"message": {"content": "hi"}})
    mock.reply("/v1/chat/completions", status=429, json={...}, headers={"Retry-After": "7"})
    mock.reply("/slow", json={}, delay=5)   # answers after 5 s (or at once when stopped)
    ... point the client at mock.url ...
    mock.requests          # every request seen: method, path, headers, json body
    mock.stop()

Replies are scripted per path (the query string is ignored); several replies for one path are
served in order and the last one repeats. An unscripted path answers 404 with an
`{"error": ...}` body. The server runs in a daemon thread and stops itself after `lifetime`
seconds even if a test forgets; the `http_mock` fixture stops it at teardown.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass(frozen=True)
class Reply:
    status: int = 200
    json: object = None
    body: str | None = None
    """Raw body text, sent instead of `json` when set."""
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0

    def payload(self) -> bytes:
        text = self.body if self.body is not None else json.dumps(self.json)
        return text.encode("utf-8")


@dataclass(frozen=True)
class Seen:
    """One request the mock received."""

    method: str
    path: str
    headers: dict[str, str]
    body: str
    json: object

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == name), None)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    mock: HttpMock

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients that time out and hang up are part of the tests


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._answer()

    do_POST = do_PUT = do_DELETE = do_GET

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        path = self.path.split("?", 1)[0]
        reply = self.server.mock._record(
            Seen(self.command, path, dict(self.headers.items()), body, _json_or_none(body))
        )
        if reply.delay and self.server.mock._stopping.wait(reply.delay):
            return  # stopped while waiting: hang up without an answer
        payload = reply.payload()
        self.send_response(reply.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for key, value in reply.headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(payload)


def _json_or_none(text: str) -> object:
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


class HttpMock:
    """The server; `url` is `http://127.0.0.1:<port>` once started."""

    def __init__(self, lifetime: float = 60.0) -> None:
        self.lifetime = lifetime
        self.requests: list[Seen] = []
        self._script: dict[str, list[Reply]] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._timer: threading.Timer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the mock first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> HttpMock:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.mock = self
        threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            daemon=True,
            name="httpmock",
        ).start()
        self._timer = threading.Timer(self.lifetime, self.stop)
        self._timer.daemon = True
        self._timer.start()
        return self

    def stop(self) -> None:
        """Stop serving and wake delayed replies; idempotent, callable from any thread."""
        with self._lock:
            server = self._server
            if server is None or self._stopping.is_set():
                return
            self._stopping.set()
        if self._timer is not None:
            self._timer.cancel()
        server.shutdown()
        server.server_close()

    def reply(
        self,
        path: str,
        status: int = 200,
        json: object = None,
        *,
        body: str | None = None,
        headers: Mapping[str, str] | None = None,
        delay: float = 0.0,
    ) -> HttpMock:
        """Add a scripted reply for `path` (served after the ones already scripted)."""
        with self._lock:
            self._script.setdefault(path, []).append(
                Reply(status, json, body, dict(headers or {}), delay)
            )
        return self

    def seen(self, path: str | None = None) -> list[Seen]:
        with self._lock:
            return [r for r in self.requests if path is None or r.path == path]

    def _record(self, seen: Seen) -> Reply:
        with self._lock:
            self.requests.append(seen)
            queue = self._script.get(seen.path)
            if not queue:
                return Reply(404, {"error": f"httpmock: no scripted reply for {seen.path}"})
            return queue.pop(0) if len(queue) > 1 else queue[0]

    def __enter__(self) -> HttpMock:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def closed_port_url() -> str:
    """A loopback URL on which nothing listens (a port just bound and released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def http_mock() -> Iterator[HttpMock]:
    """A started HttpMock, stopped at teardown (and by itself after 60 s at most)."""
    with HttpMock() as mock:
        yield mock
