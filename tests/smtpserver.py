"""A real SMTP server for tests: aiosmtpd on 127.0.0.1, collecting parsed messages, refusing on demand.

Use the ``smtp_server`` fixture (import it into a test module or a conftest)::

    def test_mail(smtp_server: SmtpServer) -> None:
        send_to(smtp_server.apprise_url())
        assert smtp_server.messages[0]["Subject"] == "..."

``refuse_with = "451 4.3.0 try again later"`` makes the server answer DATA with that reply;
``stop()`` / ``start()`` take it down and bring it back on the same port.
"""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

HOST = "127.0.0.1"


def free_port() -> int:
    """A TCP port nobody listens on right now (bound and released at once)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


class _CollectingHandler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_DATA(self, smtp: SMTP, session: Session, envelope: Envelope) -> str:
        if self.server.refuse_with:
            return self.server.refuse_with
        content = envelope.content if isinstance(envelope.content, bytes) else b""
        message = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.server.messages.append(message)
        self.server.envelopes.append((envelope.mail_from or "", list(envelope.rcpt_tos)))
        return "250 OK"


class SmtpServer:
    """An SMTP server on a fixed local port that can be stopped, restarted and told to refuse mail."""

    def __init__(self, port: int | None = None) -> None:
        self.host = HOST
        self.port = port or free_port()
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.refuse_with: str | None = None  # an SMTP reply such as "554 5.7.1 rejected"
        self._controller: Controller | None = None

    def start(self) -> None:
        if self._controller is None:
            self._controller = Controller(_CollectingHandler(self), hostname=self.host, port=self.port)
            self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    def apprise_url(self, to: str = "desk@example.org", sender: str = "monitor@example.org") -> str:
        """A plain-SMTP (no TLS, no login) apprise URL for this server."""
        return f"mailto://{self.host}:{self.port}?from={sender}&to={to}"

    def __enter__(self) -> SmtpServer:
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server
