"""Fixtures every test module may ask for by name: local HTTP, SMTP, webhook and PostgreSQL servers, and
daemons run as subprocesses."""

from __future__ import annotations

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
