"""[[page]] sources: links and text modes read from HTML, the config table, and polls of a page that changes
between polls (local HTTP server, real store and matcher)."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from monitor.config.compiled import load_config
from monitor.errors import ConfigError, FeedParseError
from monitor.fetch import Fetcher
from monitor.match import compile_watchlists
from monitor.models import FeedJob, PollResult, WatchlistSpec
from monitor.page_source import added_sentences, page_links, page_text
from monitor.poll import Pipeline, PollLimits
from monitor.store import Store
from monitor.workers import WorkerPool
from tests.helpers import LocalServer, cli_inline

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
URL = "https://www.international.gc.ca/controls-controles/report-rapports/mil-1.aspx?lang=eng"
HTML = {"Content-Type": "text/html; charset=utf-8"}


def reports_page(years: list[int], extra: str = "") -> bytes:
    rows = "".join(
        f"<li><a href='mil-{y}.aspx?lang=eng'>Report on exports of military goods {y}</a></li>" for y in years
    )
    return (
        "<html><head><title>Reports on exports of military goods</title></head><body>"
        "<header><a href='/home'>Home</a></header><nav><a href='/menu'>Menu</a></nav>"
        f"<main><h1>Reports</h1><p>Canada publishes these reports every year.{extra}</p><ul>{rows}</ul>"
        "<a href='#top'>Top</a><a href='javascript:print()'>Print</a><a href='mil-1.aspx?lang=eng'>This page</a>"
        "</main><footer><a href='/terms'>Terms</a></footer></body></html>"
    ).encode()


def test_links_of_the_main_content() -> None:
    parsed = page_links(reports_page([2024, 2023, 2024]), URL)
    assert parsed.title == "Reports on exports of military goods"
    assert [(e.title, e.url) for e in parsed.entries] == [
        ("Report on exports of military goods 2024", URL.replace("mil-1", "mil-2024")),
        ("Report on exports of military goods 2023", URL.replace("mil-1", "mil-2023")),
    ]


def test_selector_picks_the_links_and_must_match() -> None:
    page = reports_page([2024]).replace(b"<ul>", b"<ul class='reports'>")
    assert len(page_links(page, URL, "ul.reports").entries) == 1
    assert page_links(page, URL, "h1").entries == ()
    with pytest.raises(FeedParseError, match=r"selector 'table.reports' matches nothing on the page"):
        page_links(page, URL, "table.reports")


def test_text_mode_sentences() -> None:
    before = page_text(reports_page([]), URL)
    after = page_text(reports_page([], " Permits to Turkey were suspended. Wescam sensors were named."), URL)
    assert "Menu" not in before and "Canada publishes these reports every year." in before
    assert added_sentences(before, after) == [
        "Permits to Turkey were suspended.",
        "Wescam sensors were named.",
    ]
    assert added_sentences(after, after) == []
    assert added_sentences(None, "One. Two.") == ["One.", "Two."]


CONFIG = """
[[page]]
name = "mil-exports"
url = "https://www.international.gc.ca/controls-controles/report-rapports/mil-1.aspx?lang=eng"
interval = "1d"
selector = "main ul"
tags = ["canada"]

[[page]]
name = "statements"
url = "https://example.org/statements"
mode = "text"

[[watchlist]]
name = "arms"
terms = ["Wescam"]
feeds = ["mil-exports", "tag:canada", "statements"]
"""


def test_page_tables_load_and_become_jobs(tmp_path: Path) -> None:
    path = tmp_path / "monitor.toml"
    path.write_text(CONFIG)
    config = load_config(path, {})
    first, second = config.jobs
    assert (first.name, first.page_mode, first.selector, first.interval, first.fulltext) == (
        "mil-exports",
        "links",
        "main ul",
        86400,
        True,
    )
    assert (second.page_mode, second.fulltext) == ("text", False)  # the added sentences are the text
    assert config.settings.watchlist_specs()[0].feeds == ("mil-exports", "statements")
    checked = cli_inline(path, "check")
    assert checked.returncode == 0 and "0 feeds, 2 pages, 1 watchlists" in checked.stdout


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('selector = "ul[["', "selector: not a valid CSS selector 'ul[['"),
        ('mode = "diff"', "mode: expected 'links' or 'text', got 'diff'"),
    ],
)
def test_bad_page_tables(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "monitor.toml"
    path.write_text(f'[[page]]\nname = "p"\nurl = "https://example.org/"\n{line}\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path, {})
    assert f'{path}:4: [[page]] #1 "p" {message}' in str(caught.value)


def test_a_page_may_not_share_a_feeds_name(tmp_path: Path) -> None:
    path = tmp_path / "monitor.toml"
    path.write_text(
        '[[feed]]\nname = "p"\nurl = "https://example.org/rss"\n\n[[page]]\nname = "p"\nurl = "https://example.org/"\n'
    )
    with pytest.raises(
        ConfigError,
        match=r"monitor.toml:6: \[\[page\]\] #1 \"p\": a \[\[feed\]\] at line 1 has the same name",
    ):
        load_config(path, {})


def poll(store: Store, job: FeedJob, now: datetime) -> PollResult:
    async def run() -> PollResult:
        store.sync_feeds({job.name: job.url})
        async with Fetcher(timeout=5.0, user_agent="monitor-test") as fetcher:
            with WorkerPool(0) as workers:
                matcher = compile_watchlists([WatchlistSpec("arms", terms=("Wescam", "military goods 2025"))])
                limits = PollLimits(1_000_000, 1_000_000, 30.0, 7 * 86400.0, 3600.0)
                pipeline = Pipeline(fetcher, workers, store, matcher, {"arms": ()}, limits, random.Random(1))
                return await pipeline.poll_safely(job, now)

    return asyncio.run(run())


def stored_titles(store: Store) -> list[str]:
    with store.engine.begin() as conn:
        return list(conn.scalars(text("SELECT title FROM articles ORDER BY id")))


def test_a_link_list_that_grows_between_polls(http_server: LocalServer, store: Store) -> None:
    url = http_server.route("/mil-1.aspx", body=reports_page([2024, 2023]), headers=HTML)
    job = FeedJob("mil-exports", url, 86400, False, page_mode="links", selector="main ul")
    assert poll(store, job, NOW).new_entries == 2
    http_server.route("/mil-1.aspx", body=reports_page([2025, 2024, 2023]), headers=HTML)
    grown = poll(store, job, NOW + timedelta(days=1))
    assert (grown.status, grown.new_entries, grown.hits) == ("ok", 1, 1)
    assert stored_titles(store)[-1] == "Report on exports of military goods 2025"
    assert poll(store, job, NOW + timedelta(days=2)).new_entries == 0


def test_text_mode_alerts_on_added_sentences(http_server: LocalServer, store: Store) -> None:
    url = http_server.route("/statements", body=reports_page([]), headers=HTML)
    job = FeedJob("statements", url, 3600, False, page_mode="text")
    assert poll(store, job, NOW).new_entries == 0  # the first look is the baseline
    http_server.route("/statements", body=reports_page([], " Wescam sensors were named."), headers=HTML)
    changed = poll(store, job, NOW + timedelta(hours=1))
    assert (changed.new_entries, changed.hits) == (1, 1)
    with store.engine.begin() as conn:
        summary = conn.scalar(text("SELECT summary FROM articles"))
    assert summary == "Wescam sensors were named."
    assert poll(store, job, NOW + timedelta(hours=2)).new_entries == 0


def test_a_selector_matching_nothing_is_a_recorded_error(http_server: LocalServer, store: Store) -> None:
    url = http_server.route("/page", body=reports_page([2024]), headers=HTML)
    job = FeedJob("p", url, 3600, False, page_mode="links", selector="table.reports")
    result = poll(store, job, NOW)
    assert result.status == "error"
    assert result.error == "selector 'table.reports' matches nothing on the page"
    assert store.feed_state("p").last_error == result.error
