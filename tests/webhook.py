"""A real HTTP endpoint for tests: a threaded server on 127.0.0.1 collecting JSON posts, failing on demand.

Use the ``webhook_server`` fixture::

    def test_hook(webhook_server: WebhookServer) -> None:
        send_to(webhook_server.apprise_url("/alerts"))
        assert webhook_server.posts[0].json["title"] == "..."

``fail_with = 500`` makes every request answer with that status (and record nothing).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Post:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        owner = self.server.owner
        status = owner.fail_with or 200
        if status < 300:
            with owner.lock:
                owner.posts.append(Post(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
        payload = b"{}" if status < 300 else b'{"error": "failing on purpose"}'
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, owner: WebhookServer) -> None:
        super().__init__((HOST, 0), _Handler)
        self.owner = owner


class WebhookServer:
    """Collects POSTed JSON bodies in ``posts``; answers ``fail_with`` instead of 200 when it is set."""

    def __init__(self) -> None:
        self.posts: list[Post] = []
        self.fail_with: int | None = None
        self.lock = threading.Lock()
        self._server = _Server(self)
        self.host = HOST
        self.port: int = self._server.server_address[1]
        # A short poll interval makes shutdown() (each test's teardown) quick.
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def apprise_url(self, path: str = "/hook") -> str:
        return f"json://{self.host}:{self.port}{path}"

    def __enter__(self) -> WebhookServer:
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


@pytest.fixture
def webhook_server() -> Iterator[WebhookServer]:
    with WebhookServer() as server:
        yield server
