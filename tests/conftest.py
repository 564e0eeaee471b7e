"""Fixtures every test module may ask for by name: local HTTP, SMTP, webhook and PostgreSQL servers, daemons run
as subprocesses, and a store on a SQLite file of the test's own (a module may define its own ``store``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.store import Store
from tests.daemons import start_daemon
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
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(f"sqlite:///{tmp_path / 'monitor.db'}")
    try:
        yield opened
    finally:
        opened.close()
