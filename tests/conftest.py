"""Fixtures every test module may ask for by name: local HTTP, SMTP, webhook and PostgreSQL servers."""

from tests.httpserver import http_server
from tests.pgserver import pg_server, pg_url
from tests.smtpserver import smtp_server
from tests.webhook import webhook_server

__all__ = ["http_server", "pg_server", "pg_url", "smtp_server", "webhook_server"]
