"""A small real HTTP server on 127.0.0.1 for tests, with routes that can be changed while it runs.

    def test_something(http_server: LocalServer) -> None:
        http_server.route("/feed.xml", body=b"<rss/>", headers={"Content-Type": "application/rss+xml"})
        url = http_server.url("/feed.xml")
        ...
        assert http_server.requests[0].headers["user-agent"] == "..."

Import the fixture into a test module with `from tests.httpserver import http_server`.
The server speaks HTTP/1.0 (one request per connection), which keeps it free of keep-alive stalls and lets a
body end at connection close when no Content-Length is sent. Functional tests only, not benchmarks.
"""

from __future__ import annotations

import contextlib
import gzip
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass(frozen=True)
class Route:
    """How the server answers one path."""

    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering
    drip: float | None = None  # send the body one byte at a time, this many seconds apart
    endless: bool = False  # after the body, keep sending chunks until the client goes away
    redirect: str | None = None  # answer with `status` (default 302 when redirecting) and this Location
    etag: str | None = None  # send it, and answer 304 when If-None-Match matches
    last_modified: str | None = None  # send it, and answer 304 when If-Modified-Since equals it
    gzip: bool = False  # compress the body and say Content-Encoding: gzip
    content_length: bool = True  # False: no Content-Length, the body ends when the connection closes


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str
    headers: Mapping[str, str]  # lower-case names


class LocalServer:
    """A ThreadingHTTPServer on a random port in a background thread."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[LoggedRequest] = []
        self.stopping = threading.Event()
        self.max_in_flight = 0  # the most requests handled at the same moment
        self._in_flight = 0
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.local_server = self  # type: ignore[attr-defined]
        self.port: int = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, name="test-http", daemon=True
        )

    def start(self) -> LocalServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()  # ends endless and dripping bodies
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def route(self, path: str, **options: object) -> str:
        """Set how `path` answers (see `Route` for the options); returns its full URL."""
        redirecting = options.get("redirect") is not None
        if redirecting and "status" not in options:
            options["status"] = 302
        self.routes[path] = Route(**options)  # type: ignore[arg-type]
        return self.url(path)

    def enter(self) -> None:
        with self._lock:
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)

    def leave(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def requests_for(self, path: str) -> list[LoggedRequest]:
        return [r for r in self.requests if r.path == path]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
        pass

    @property
    def _local(self) -> LocalServer:
        return self.server.local_server  # type: ignore[attr-defined,no-any-return]

    def do_GET(self) -> None:
        self._local.enter()
        try:
            self._handle_get()
        finally:
            self._local.leave()

    def _handle_get(self) -> None:
        server = self._local
        headers = {name.lower(): value for name, value in self.headers.items()}
        server.requests.append(LoggedRequest("GET", self.path, headers))
        route = server.routes.get(self.path.split("?")[0])
        if route is None:
            self._answer(404, {"Content-Type": "text/plain"}, b"no such route")
            return
        if route.delay:
            time.sleep(route.delay)
        # The client giving up mid-body is what several tests provoke.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self._serve(route, headers)

    def _serve(self, route: Route, request_headers: Mapping[str, str]) -> None:
        validators = {}
        if route.etag:
            validators["ETag"] = route.etag
        if route.last_modified:
            validators["Last-Modified"] = route.last_modified
        if _not_modified(route, request_headers):
            self._answer(304, validators, b"")
            return
        headers = {**validators, **route.headers}
        if route.redirect is not None:
            headers["Location"] = route.redirect
        body = route.body
        if route.gzip:
            body = gzip.compress(body)
            headers["Content-Encoding"] = "gzip"
        self._answer(route.status, headers, body, route)

    def _answer(
        self, status: int, headers: Mapping[str, str], body: bytes, route: Route | None = None
    ) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if (route is None or route.content_length) and not (route and route.endless):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if route is not None and route.drip is not None:
            self._drip(body, route.drip)
        else:
            self.wfile.write(body)
        if route is not None and route.endless:
            self._endless()

    def _drip(self, body: bytes, interval: float) -> None:
        for i in range(len(body)):
            if self._local.stopping.wait(interval):
                return
            self.wfile.write(body[i : i + 1])
            self.wfile.flush()

    def _endless(self) -> None:
        chunk = b"x" * 65536
        while not self._local.stopping.is_set():
            self.wfile.write(chunk)


def _not_modified(route: Route, request_headers: Mapping[str, str]) -> bool:
    if route.etag and request_headers.get("if-none-match") == route.etag:
        return True
    return bool(route.last_modified and request_headers.get("if-modified-since") == route.last_modified)


def unused_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (connecting to it is refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture
def http_server() -> Iterator[LocalServer]:
    server = LocalServer().start()
    try:
        yield server
    finally:
        server.stop()
