"""A threaded HTTP server on 127.0.0.1 and a port of its own, served from a background thread while it is open:
what the test endpoints that record requests (webhook.py, capture.py) are built on."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Generic, Self, TypeVar

HOST = "127.0.0.1"

Owner = TypeVar("Owner")


class Handler(BaseHTTPRequestHandler):
    """Reads a request's body and headers, answers in one call, and keeps test output quiet."""

    def body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def lowered_headers(self) -> dict[str, str]:
        return {k.lower(): v for k, v in self.headers.items()}

    def reply(self, status: int, payload: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class JsonBody:
    """A recorded request's body read as JSON (for a dataclass with a ``body`` field)."""

    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


class OwnedServer(ThreadingHTTPServer, Generic[Owner]):
    """Its handlers reach the endpoint they serve as ``self.server.owner``."""

    daemon_threads = True

    def __init__(self, owner: Owner, handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__((HOST, 0), handler)
        self.owner = owner


class Endpoint:
    """Serves ``handler`` from ``start`` (or entering a with block) to ``stop``; ``lock`` guards what it records."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.lock = threading.Lock()
        self._server = OwnedServer(self, handler)
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

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()
