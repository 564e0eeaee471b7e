"""What tests share besides fixtures (those are in conftest.py): feed and page builders, the CLI runner, the
local servers' types. Test modules import from here, never from each other."""

from tests.factory import (
    Item,
    article_page,
    json_lines,
    recent,
    rss,
    run_cli,
    story_paragraphs,
    toml_value,
    write_config,
)
from tests.httpserver import LocalServer, unused_port
from tests.smtpserver import SmtpServer
from tests.webhook import WebhookServer

__all__ = [
    "Item",
    "LocalServer",
    "SmtpServer",
    "WebhookServer",
    "article_page",
    "json_lines",
    "recent",
    "rss",
    "run_cli",
    "story_paragraphs",
    "toml_value",
    "unused_port",
    "write_config",
]
