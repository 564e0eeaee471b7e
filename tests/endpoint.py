"""A threaded HTTP server on 127.0.0.1 and a port of its own, served from a background thread while it is open:
what the test endpoints that record requests (webhook.py, capture.py) are built on."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Generic, Self, TypeVar

HOST = "127.0.0.1"

Owner = TypeVar("Owner")


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
