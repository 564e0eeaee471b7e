"""The poll's CPU work in the worker processes: the same entries as a parse in this process, each entry's
language as the main process would tell it, and workers that only read feeds never load the extractor."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor import extract
from monitor.config.compiled import load_config
from monitor.feeds import parse_feed
from monitor.match.language import detect_language
from monitor.models import Entry, ParsedFeed
from monitor.poll import entry_languages
from monitor.poll_read import MAX_TITLE, capped_title, entry_language, extract_reading, read_feed
from monitor.runtime import worker_preload
from monitor.workers import WorkerPool
from tests.factory import Item, article_page, rss, story_paragraphs, write_config

FEED_URL = "https://news.example.org/feed.xml"
WHEN = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
ITEMS = [
    Item("Canadian imaging systems found on Turkish drones", "https://news.example.org/a", "Export permits"),
    Item("Le gouvernement suspend les licences d'exportation", "https://news.example.org/b", "Armes"),
    Item("Die Regierung stoppt die Ausfuhrgenehmigungen", "https://news.example.org/c", "Waffen"),
    Item("x", "https://news.example.org/d"),  # too short to tell
    Item("The government suspended the export permits of drone cameras. " * 40, "https://news.example.org/e"),
    Item("Canadian imaging systems found on Turkish drones", "https://news.example.org/a", "Again"),
]
BODY = rss(ITEMS)


# Run in worker processes, so at module level where a worker can import them.
def loaded(module: str) -> bool:
    return module in sys.modules


def model_loaded() -> bool:
    from monitor.match import language

    return language._identifier.cache_info().currsize == 1


@pytest.fixture(scope="module")
def preloads(tmp_path_factory: pytest.TempPathFactory) -> dict[bool, tuple[str, ...]]:
    """The fork server's preload list for a config without and with full text."""
    found = {}
    for fulltext in (False, True):
        folder = tmp_path_factory.mktemp(f"fulltext-{fulltext}")
        feed = {"name": "news", "url": FEED_URL, "fulltext": fulltext}
        config = write_config(folder, feeds=[feed], watchlists=[{"name": "w", "terms": ["Wescam"]}])
        found[fulltext] = worker_preload(load_config(config))
    return found


@pytest.fixture(scope="module")
def feeds_only_pool(preloads: dict[bool, tuple[str, ...]]) -> Iterator[WorkerPool]:
    with WorkerPool(1, preload=preloads[False]) as pool:
        yield pool


def test_a_feed_read_in_a_worker_is_the_feed_parsed_here_with_each_entrys_language(
    feeds_only_pool: WorkerPool,
) -> None:
    headers = {"content-type": "application/rss+xml"}
    there = asyncio.run(feeds_only_pool.run(read_feed, BODY, FEED_URL, headers, timeout=60))
    here = parse_feed(BODY, url=FEED_URL, headers=headers)
    assert there.entries == here.entries and there.title == here.title and there.parser == here.parser
    assert there.languages is not None and len(there.languages) == len(here.entries)
    expected = [detect_language(*capped_title(e.title, e.summary)) for e in here.entries]
    assert list(there.languages) == expected
    assert expected[:4] == ["en", "fr", "de", None]
    bare = asyncio.run(feeds_only_pool.run(read_feed, BODY, FEED_URL, headers, False, timeout=60))
    assert bare.entries == here.entries and bare.languages is None  # a full-text feed's read


def test_the_language_of_an_entry_is_that_of_its_capped_title_and_summary() -> None:
    entry = parse_feed(BODY, url=FEED_URL).entries[4]
    title, summary = capped_title(entry.title, entry.summary)
    assert len(title) <= MAX_TITLE and summary.startswith("…")
    assert entry_language(entry) == detect_language(title, summary) == "en"


def test_languages_are_keyed_by_entry_the_first_of_a_key_winning() -> None:
    first = Entry("k", "https://e.org/k", None, "Le gouvernement suspend les licences", "", WHEN)
    again = Entry("k", "https://e.org/k", None, "The government suspends the licences", "", WHEN)
    parsed = ParsedFeed("t", (first, again), languages=("fr", "en"))
    assert entry_languages(parsed) == {"k": "fr"}
    assert entry_languages(ParsedFeed("t", (first,))) == {}


def test_a_page_extracted_with_its_entry_gives_the_articles_language() -> None:
    markup = article_page("Drones", story_paragraphs()).decode()
    page, language = extract_reading(extract.extract_page, markup, "https://e.org/a", "", "Summary")
    assert page == extract.extract_page(markup, "https://e.org/a")
    title, summary = capped_title(page.title or "", "Summary")
    assert language == detect_language(title, summary, page.text) == "en"


# The fork server is started once per process, with the preload list of the first pool: the check runs in a
# fresh interpreter, so that no pool an earlier test started decides what the workers hold.
FEEDS_ONLY_WORKER = """
import asyncio, json, sys
from monitor.workers import WorkerPool
from tests.test_poll_read import loaded, model_loaded
preload = json.loads(sys.argv[1])
with WorkerPool(1, preload=preload) as pool:
    print(json.dumps([asyncio.run(pool.run(loaded, "trafilatura", timeout=60)),
                      asyncio.run(pool.run(model_loaded, timeout=60))]))
"""


def test_workers_that_only_read_feeds_never_import_the_extractor(
    preloads: dict[bool, tuple[str, ...]],
) -> None:
    assert "trafilatura" not in preloads[False] and "trafilatura" in preloads[True]
    assert preloads[True][-1] == preloads[False][-1] == "monitor.worker_start"  # last: it freezes the rest
    found = {}
    for fulltext in (False, True):
        run = subprocess.run(
            [sys.executable, "-c", FEEDS_ONLY_WORKER, json.dumps(preloads[fulltext])],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=Path(__file__).resolve().parent.parent,
            check=False,
        )
        assert run.returncode == 0, run.stderr
        found[fulltext] = json.loads(run.stdout.splitlines()[-1])
    # [trafilatura in the worker, language model loaded by the fork server before any task]
    assert found == {False: [False, True], True: [True, True]}


def test_a_title_is_capped_only_over_the_limit_at_its_last_space_or_else_one_short_of_it() -> None:
    exact = "x" * MAX_TITLE
    assert capped_title(exact, "s") == (exact, "s")
    words = "word " * 600  # 3,000 characters: cut at the last space before the limit (index 1,999)
    title, summary = capped_title(words, "")
    assert title == words[: MAX_TITLE - 1] + "…"
    assert summary == "…" + words[MAX_TITLE - 1 :].strip()
    title, summary = capped_title("y" * 3000, "the summary")
    assert title == "y" * (MAX_TITLE - 1) + "…"
    assert summary == "…" + "y" * (3000 - MAX_TITLE + 1) + "\n\nthe summary"
