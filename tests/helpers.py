"""What tests share besides fixtures (those are in conftest.py): feed and page builders, config files, the CLI
run in-process or as a subprocess, delivery set-ups (daemon subprocesses are in daemons.py). Test modules import from here, never
from each other."""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path

from monitor import cli
from monitor.models import Article, Match, Snippet
from monitor.notify.deliver import Deliverer, SendReport
from monitor.notify.policy import Policy
from monitor.poll import PollLimits
from monitor.store import Outbox, Store
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

# Limits of a poll in the pipeline's tests: generous sizes and timeouts, alerts for a week's entries.
POLL_LIMITS = PollLimits(
    max_feed_size=1_000_000,
    max_page_size=1_000_000,
    extract_timeout=30.0,
    notify_max_age=7 * 86400.0,
    max_backoff=3600.0,
)

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


def cli_inline(
    config: Path | None, *args: str, env: Mapping[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """``run_cli`` without a new process: the real ``monitor.cli.main`` with its output captured. Use it where the
    process itself is not under test (it saves the interpreter start and the imports of each call)."""
    argv = (["--config", str(config)] if config is not None else []) + list(args)
    stdout, stderr = io.StringIO(), io.StringIO()
    root = __import__("logging").getLogger()
    handlers, level = root.handlers[:], root.level
    saved_env = os.environ.copy()
    saved_stdin = sys.stdin
    os.environ.update(env or {})
    sys.stdin = io.StringIO(stdin or "")
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            try:
                code = cli.main(argv)
            except SystemExit as exit:
                code = exit.code if isinstance(exit.code, int) else 2
    finally:
        root.handlers[:], root.level = handlers, level
        os.environ.clear()
        os.environ.update(saved_env)
        sys.stdin = saved_stdin
    return subprocess.CompletedProcess(["monitor", *argv], code, stdout.getvalue(), stderr.getvalue())


def wait_for(condition: Callable[[], object], timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def feed_with(server: LocalServer, path: str, titles: list[str]) -> None:
    items = [Item(t, server.url(f"/page/{abs(hash(t))}"), f"{t}.", recent()) for t in titles]
    server.route(path, body=rss(items))


def posted_text(hook: WebhookServer) -> str:
    return "\n".join(post.body.decode() for post in hook.posts)


T0 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)  # a Monday


def add_hit(
    store: Store, title: str, at: datetime, watchlist: str = "arms", notifiers: tuple[str, ...] = ("chat",)
) -> None:
    article = Article(
        feed="wire",
        key=f"https://news.example/{title.replace(' ', '-')}",
        url=f"https://news.example/{title.replace(' ', '-')}",
        guid=None,
        title=title,
        summary="",
        text=f"{title} and more.",
        published=at,
        first_seen=at,
    )
    match = Match(watchlist, ("Wescam",), (Snippet("body", f"{title} and more.", ((0, 6),)),), ("body",))
    assert store.save_article(article, [match], {watchlist: notifiers}, alert=True, now=at)


def deliverer(
    store: Store,
    *policies: Policy,
    overrides: dict[tuple[str, str], Policy] | None = None,
    retry_for: float = 86400.0,
) -> Deliverer:
    return Deliverer(
        Outbox(store.engine),
        {p.notifier: p for p in policies},
        overrides or {},
        retry_for=retry_for,
        group_window=5.0,
        timeout=5.0,
        rng=random.Random(1),
    )


def deliver(d: Deliverer, at: datetime) -> list[SendReport]:
    return asyncio.run(d.deliver_due(at))


def titles(hook: WebhookServer) -> list[list[str]]:
    """For each message received, the article titles it mentions (in order of appearance)."""
    found = []
    for post in hook.posts:
        message = post.json["title"] + "\n" + post.json["message"]  # the lead title is in the title only
        found.append(sorted(t for t in ALL_TITLES if t in message))
    return found


ALL_TITLES = [f"Story {c}" for c in "ABCDEFGH"]


WATCHLIST = {
    "name": "arms-exports",
    "terms": ["Wescam", "Baykar", "Bayraktar", "export permit*"],
    "exclude": ["hockey"],
    "notify": ["desk-email", "chat"],
}


def serve_news(server: LocalServer) -> None:
    """A feed with a story matching only in its full text, an excluded one, an unrelated one, and one whose
    page is gone (so it must be matched on its summary)."""
    server.route(
        "/feed.xml",
        body=rss(
            [
                Item(
                    "Ottawa silent on drone parts",
                    server.url("/story"),
                    "Ministers declined to comment.",
                    recent(),
                ),
                Item("Baykar sponsors hockey final", server.url("/sport"), "A Bayraktar fly-past.", recent()),
                Item("City council meets", server.url("/council"), "Budget talks continue.", recent()),
                Item(
                    "Permits row", server.url("/gone"), "New export permits for Turkey questioned.", recent()
                ),
            ]
        ),
        headers={"Content-Type": "application/rss+xml; charset=utf-8"},
        etag='"v1"',
    )
    html = {"Content-Type": "text/html; charset=utf-8"}
    server.route(
        "/story", body=article_page("Ottawa silent on drone parts", story_paragraphs()), headers=html
    )
    server.route(
        "/sport", body=article_page("Baykar sponsors hockey", ["Hockey fans cheered."] * 6), headers=html
    )
    server.route("/council", body=article_page("Council", ["The council discussed roads."] * 6), headers=html)
    server.route("/gone", status=404, body=b"not found")


def config_for(tmp_path: Path, server: LocalServer, smtp: SmtpServer, hook: WebhookServer) -> Path:
    return write_config(
        tmp_path,
        feeds=[{"name": "gazette", "url": server.url("/feed.xml")}],
        watchlists=[WATCHLIST],
        notifiers=[
            {"name": "desk-email", "urls": [smtp.apprise_url()]},
            {"name": "chat", "urls": [hook.apprise_url()]},
        ],
    )
