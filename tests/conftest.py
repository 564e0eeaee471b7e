"""Fixtures every test module may ask for by name: local HTTP, SMTP, webhook and PostgreSQL servers, and
daemons run as subprocesses."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.helpers import Daemon
from tests.httpserver import http_server
from tests.pgserver import own_pg_url, pg_server, pg_url
from tests.smtpserver import smtp_server
from tests.webhook import webhook_server

__all__ = [
    "http_server",
    "own_pg_url",
    "pg_server",
    "pg_url",
    "smtp_server",
    "start_daemon",
    "webhook_server",
]


@pytest.fixture
def start_daemon() -> Iterator[Callable[[Path], Daemon]]:
    started: list[Daemon] = []

    def start(config: Path) -> Daemon:
        daemon = Daemon(config)
        started.append(daemon)
        return daemon

    yield start
    for daemon in started:
        if daemon.process.poll() is None:
            daemon.process.kill()
            daemon.process.wait()
        daemon.log.close()
