"""Capturing the HTTP requests apprise really sends, at a real local endpoint.

Services with a host in their URL (``json://``, ``ntfy://``, ``matrix://``, ``workflows://``) are pointed at
the local server directly. Services whose host is fixed inside apprise (Slack, Discord, Telegram) are sent
there by a redirecting ``requests`` transport: apprise's own tests patch ``requests`` the same way. Each
request keeps the host it was meant for.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests

from tests.endpoint import HOST, Endpoint, Handler, JsonBody, OwnedServer


@dataclass(frozen=True)
class Captured(JsonBody):
    method: str
    host: str  # the host apprise addressed
    path: str
    headers: dict[str, str]
    body: bytes


class _Handler(Handler):
    server: OwnedServer[CaptureServer]

    def _capture(self) -> None:
        body = self.body()
        headers = self.lowered_headers()
        host = headers.pop("x-captured-host", f"{HOST}:{self.server.server_address[1]}")
        owner = self.server.owner
        with owner.lock:
            owner.requests.append(Captured(self.command, host, self.path, headers, body))
        payload = owner.answer(host, self.path)
        self.reply(200, payload, "text/plain" if payload == b"ok" else "application/json")

    do_POST = do_PUT = do_GET = _capture


class CaptureServer(Endpoint):
    """Records every request; answers what each service's client expects to read back."""

    def __init__(self) -> None:
        self.requests: list[Captured] = []
        super().__init__(_Handler)

    @property
    def address(self) -> str:
        return f"{HOST}:{self.port}"

    def answer(self, host: str, path: str) -> bytes:
        if host == "hooks.slack.com":
            return b"ok"  # what a Slack webhook answers
        if host == "api.telegram.org":
            return json.dumps({"ok": True, "result": {"message_id": 1}}).encode()
        return b'{"ok": true}'


def _redirecting_send(server: CaptureServer, original: Any) -> Any:
    def send(session: requests.Session, request: requests.PreparedRequest, **kwargs: Any) -> Any:
        parts = urlsplit(request.url or "")
        if parts.hostname != HOST or parts.scheme == "https":
            request.headers["X-Captured-Host"] = parts.netloc
            request.url = urlunsplit(("http", server.address, parts.path, parts.query, ""))
            kwargs["verify"] = False
        return original(session, request, **kwargs)

    return send


@pytest.fixture
def capture_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[CaptureServer]:
    with CaptureServer() as server:
        monkeypatch.setattr(requests.Session, "send", _redirecting_send(server, requests.Session.send))
        yield server
