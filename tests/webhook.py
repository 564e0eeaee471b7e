"""A real HTTP endpoint for tests: a threaded server on 127.0.0.1 collecting JSON posts, failing on demand.

Use the ``webhook_server`` fixture::

    def test_hook(webhook_server: WebhookServer) -> None:
        send_to(webhook_server.apprise_url("/alerts"))
        assert webhook_server.posts[0].json["title"] == "..."

``fail_with = 500`` makes every request answer with that status (and record nothing).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.endpoint import Endpoint, Handler, JsonBody, OwnedServer


@dataclass(frozen=True)
class Post(JsonBody):
    path: str
    headers: dict[str, str]
    body: bytes


class _Handler(Handler):
    server: OwnedServer[WebhookServer]

    def do_POST(self) -> None:
        body = self.body()
        owner = self.server.owner
        status = owner.fail_with or 200
        if status < 300:
            with owner.lock:
                owner.posts.append(Post(self.path, self.lowered_headers(), body))
        self.reply(status, b"{}" if status < 300 else b'{"error": "failing on purpose"}')


class WebhookServer(Endpoint):
    """Collects POSTed JSON bodies in ``posts``; answers ``fail_with`` instead of 200 when it is set."""

    def __init__(self) -> None:
        self.posts: list[Post] = []
        self.fail_with: int | None = None
        super().__init__(_Handler)

    def apprise_url(self, path: str = "/hook") -> str:
        return f"json://{self.host}:{self.port}{path}"


@pytest.fixture
def webhook_server() -> Iterator[WebhookServer]:
    with WebhookServer() as server:
        yield server
