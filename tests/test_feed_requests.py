"""A feed's own requests: ``user_agent`` and ``headers`` from the config reach the feed's server (and its pages
on the same host), never another host, and their secret values are never shown."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.config.compiled import load_config
from monitor.errors import ConfigError
from monitor.fetch import Fetcher
from monitor.match import compile_watchlists
from monitor.models import FeedJob, PollResult, WatchlistSpec
from monitor.poll import Pipeline, PollLimits
from monitor.store import Store
from monitor.workers import WorkerPool
from tests.helpers import Item, LocalServer, article_page, cli_inline, rss, story_paragraphs

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
COOKIE = "session=s3cr3t-c00kie-value-1234"
LIMITS = PollLimits(1_000_000, 1_000_000, 30.0, 7 * 86400.0, 3600.0)


def config_text(url: str, extra: str = "") -> str:
    return (
        '[monitor]\ndatabase = "sqlite:///monitor.db"\n\n'
        f'[[feed]]\nname = "paywalled"\nurl = "{url}"\nuser_agent = "NewsReader/2.0"\n'
        'headers = { "Cookie" = "${SITE_COOKIE}", "X-Api-Key" = "k" }\n'
        f"{extra}\n"
        '[[watchlist]]\nname = "arms"\nterms = ["Wescam"]\n'
    )


def poll(store: Store, job: FeedJob) -> PollResult:
    async def run() -> PollResult:
        store.sync_feeds({job.name: job.url})
        async with Fetcher(timeout=5.0, user_agent="monitor-test") as fetcher:
            with WorkerPool(0) as workers:
                matcher = compile_watchlists([WatchlistSpec("arms", terms=("Wescam",))])
                pipeline = Pipeline(fetcher, workers, store, matcher, {"arms": ()}, LIMITS, random.Random(1))
                return await pipeline.poll_safely(job, NOW)

    return asyncio.run(run())


def test_config_headers_expand_secrets_and_reach_the_job(tmp_path: Path) -> None:
    path = tmp_path / "monitor.toml"
    path.write_text(config_text("https://news.example/feed.xml"))
    config = load_config(path, {"SITE_COOKIE": COOKIE})
    feed = config.settings.feed("paywalled")
    assert feed.headers == {"Cookie": COOKIE, "X-Api-Key": "k"}
    assert COOKIE not in repr(feed)
    (job,) = config.jobs
    assert job.user_agent == "NewsReader/2.0"
    assert dict(job.headers) == {"Cookie": COOKIE, "X-Api-Key": "k"}
    assert COOKIE not in repr(job)
    assert job.headers_for("https://news.example/2026/story") == {"Cookie": COOKIE, "X-Api-Key": "k"}
    assert job.headers_for("https://other.example/story") == {}


def test_feed_without_own_requests_keeps_the_defaults(tmp_path: Path) -> None:
    path = tmp_path / "monitor.toml"
    path.write_text('[[feed]]\nname = "plain"\nurl = "https://news.example/feed.xml"\n')
    (job,) = load_config(path, {}).jobs
    assert job.user_agent is None and job.headers == ()


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ('{ "Bad Name" = "x" }', "'Bad Name' is not a valid HTTP header name"),
        ('{ "If-None-Match" = "x" }', "header 'If-None-Match' is set by monitor itself"),
        ('{ "Cookie" = "a\\r\\nX-Evil: 1" }', "the value of header 'Cookie' holds a line break"),
        ('"Cookie: x"', "headers"),
    ],
)
def test_bad_headers_are_config_errors_with_their_line(tmp_path: Path, headers: str, message: str) -> None:
    path = tmp_path / "monitor.toml"
    path.write_text(f'[[feed]]\nname = "f"\nurl = "https://news.example/feed.xml"\nheaders = {headers}\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path, {})
    text = str(caught.value)
    assert f"{path}:4:" in text and message in text


def test_unset_secret_is_reported_without_a_value(tmp_path: Path) -> None:
    path = tmp_path / "monitor.toml"
    path.write_text(config_text("https://news.example/feed.xml"))
    with pytest.raises(ConfigError, match=r"monitor.toml:8: \$\{SITE_COOKIE\} is not set"):
        load_config(path, {})


def test_poll_sends_the_feeds_headers_to_its_host_only(http_server: LocalServer, store: Store) -> None:
    same_host = http_server.url("/story")
    other_host = f"http://localhost:{http_server.port}/elsewhere"
    page = article_page("Story", story_paragraphs())
    http_server.route("/story", body=page, headers={"Content-Type": "text/html"})
    http_server.route("/elsewhere", body=page, headers={"Content-Type": "text/html"})
    feed = rss([Item("Drones", same_host), Item("Other site", other_host)])
    url = http_server.route("/feed.xml", body=feed, headers={"Content-Type": "application/rss+xml"})
    job = FeedJob("paywalled", url, 900, True, "NewsReader/2.0", (("Cookie", COOKIE), ("X-Api-Key", "k")))

    result = poll(store, job)

    assert result.status == "ok" and result.new_entries == 2
    (feed_request,) = http_server.requests_for("/feed.xml")
    (page_request,) = http_server.requests_for("/story")
    (other_request,) = http_server.requests_for("/elsewhere")
    for request in (feed_request, page_request):
        assert request.headers["cookie"] == COOKIE
        assert request.headers["x-api-key"] == "k"
        assert request.headers["user-agent"] == "NewsReader/2.0"
    assert "cookie" not in other_request.headers and "x-api-key" not in other_request.headers
    assert other_request.headers["user-agent"] == "NewsReader/2.0"
    assert feed_request.headers["accept"].startswith("application/rss+xml")


def test_redirect_to_another_host_drops_the_headers(http_server: LocalServer) -> None:
    target = f"http://localhost:{http_server.port}/landing"
    http_server.route("/landing", body=b"<rss/>", headers={"Content-Type": "application/rss+xml"})
    url = http_server.route("/moved", redirect=target)

    async def fetch() -> None:
        async with Fetcher(timeout=5.0, user_agent="default-agent") as fetcher:
            await fetcher.fetch(url, max_size=10_000, user_agent="Mine/1", headers={"Cookie": COOKIE})

    asyncio.run(fetch())
    (first,) = http_server.requests_for("/moved")
    (landing,) = http_server.requests_for("/landing")
    assert first.headers["cookie"] == COOKIE
    assert "cookie" not in landing.headers
    assert landing.headers["user-agent"] == "Mine/1"


def test_default_user_agent_without_a_feed_one(http_server: LocalServer) -> None:
    url = http_server.route("/feed.xml", body=b"<rss/>")

    async def fetch() -> None:
        async with Fetcher(timeout=5.0, user_agent="default-agent") as fetcher:
            await fetcher.fetch(url, max_size=10_000)

    asyncio.run(fetch())
    assert http_server.requests[0].headers["user-agent"] == "default-agent"


def test_check_never_shows_the_secret(tmp_path: Path) -> None:
    path = tmp_path / "monitor.toml"
    path.write_text(config_text("https://news.example/feed.xml"))
    shown = cli_inline(path, "check", env={"SITE_COOKIE": COOKIE})
    assert shown.returncode == 0, shown.stderr
    assert COOKIE not in shown.stdout + shown.stderr


TAGGED = """
[[feed]]
name = "daily-sabah"
url = "https://www.dailysabah.com/rss"
tags = ["turkey", "news"]

[[feed]]
name = "ottawa-citizen"
url = "https://ottawacitizen.com/feed"
tags = ["canada"]

[[feed]]
name = "hurriyet"
url = "https://www.hurriyetdailynews.com/rss"
tags = ["turkey"]
"""


def test_watchlist_feeds_name_a_tag(tmp_path: Path) -> None:
    path = tmp_path / "monitor.toml"
    path.write_text(TAGGED + '\n[[watchlist]]\nname = "tr"\nterms = ["Baykar"]\nfeeds = ["tag:turkey"]\n')
    settings = load_config(path, {}).settings
    (spec,) = settings.watchlist_specs()
    assert spec.feeds == ("daily-sabah", "hurriyet")
    assert settings.feed_names(["ottawa-citizen", "tag:turkey", "hurriyet"]) == (
        "ottawa-citizen",
        "daily-sabah",
        "hurriyet",
    )


def test_unknown_tag_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "monitor.toml"
    path.write_text(TAGGED + '\n[[watchlist]]\nname = "tr"\nterms = ["Baykar"]\nfeeds = ["tag:greece"]\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path, {})
    assert str(caught.value) == (
        f"{path}:20: [[watchlist]] \"tr\": feeds names 'tag:greece' but no feed has that tag "
        "(tags: canada, news, turkey)"
    )
