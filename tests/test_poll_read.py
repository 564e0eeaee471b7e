"""The poll's CPU work in the worker processes: the same entries as a parse in this process, each entry's
language and story fingerprint as the main process would work them out, and workers that only read feeds never
load the extractor."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor import extract, stories
from monitor.config.compiled import load_config
from monitor.errors import FeedParseError
from monitor.feeds import parse_feed
from monitor.match.language import detect_language
from monitor.models import Article, Entry, Fingerprint, ParsedFeed
from monitor.poll import article_fingerprint, entry_fingerprints, entry_languages
from monitor.poll_read import (
    MAX_TITLE,
    UNTOLD_FINGERPRINT,
    UNTOLD_LANGUAGE,
    capped_title,
    entry_digest,
    entry_language,
    entry_story_text,
    extract_reading,
    read_feed,
)
from monitor.runtime import worker_preload
from monitor.workers import WorkerPool
from tests.factory import Item, article_page, rss, story_paragraphs, write_config
from tests.feed_documents import corpus_feed_files

FEED_URL = "https://news.example.org/feed.xml"
WHEN = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
STORY = [
    "Canadian-made Wescam imaging and targeting systems were found on Turkish Baykar drones shot down last month.",
    "Global Affairs Canada would not say whether new export permits had been granted since the spring review.",
    "Project Ploughshares, which tracks arms exports, said the cameras matched serial numbers it had documented.",
    "The minister told reporters in Ottawa that the department was looking into the findings with great concern.",
]
ITEMS = [
    Item("Canadian imaging systems found on Turkish drones", "https://news.example.org/a", "Export permits"),
    Item("Le gouvernement suspend les licences d'exportation", "https://news.example.org/b", "Armes"),
    Item("Die Regierung stoppt die Ausfuhrgenehmigungen", "https://news.example.org/c", "Waffen"),
    Item("x", "https://news.example.org/d"),  # too short to tell
    Item("The government suspended the export permits of drone cameras. " * 40, "https://news.example.org/e"),
    Item("Canadian imaging systems found on Turkish drones", "https://news.example.org/a", "Again"),
    Item("Drone cameras: permits questioned", "https://news.example.org/f", " ".join(STORY)),
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
    assert bare.entries == here.entries and bare.languages is None and bare.fingerprints is None  # full text


def article_of(entry: Entry, title: str | None = None, text: str = "") -> Article:
    """The article a poll makes of ``entry`` (``title``: the page's, when the entry has none; ``text``: the
    page's), as far as its story is concerned."""
    capped, summary = capped_title(entry.title or title or "", entry.summary)
    return Article("news", entry.key, entry.url, entry.guid, capped, summary, text, WHEN, WHEN)


def unpacked(packed: bytes | None) -> Fingerprint | None:
    return None if packed is None else stories.unpack_fingerprint(packed)


def main_process_fingerprint(article: Article) -> Fingerprint | None:
    return stories.fingerprint(stories.clustering_text(article.title, article.summary, article.text))


def test_a_feed_read_in_a_worker_carries_each_entrys_story_fingerprint(feeds_only_pool: WorkerPool) -> None:
    there = asyncio.run(feeds_only_pool.run(read_feed, BODY, FEED_URL, {}, timeout=60))
    assert there.fingerprints is not None and len(there.fingerprints) == len(there.entries)
    expected = [main_process_fingerprint(article_of(entry)) for entry in there.entries]
    assert [unpacked(packed) for packed in there.fingerprints] == expected
    assert expected[0] is None and expected[-1] is not None  # a title alone is too short; a story is not


def test_the_parses_fingerprints_are_those_of_the_articles_on_every_corpus_feed() -> None:
    """Every entry of every corpus feed (titles over MAX_TITLE, empty summaries, other scripts included): the
    fingerprint the parse worked out is the one the main process would, and the poll takes it."""
    compared = fingerprinted = 0
    for path in corpus_feed_files():
        try:
            parsed = read_feed(path.read_bytes(), FEED_URL, {})
        except FeedParseError:
            continue
        assert parsed.fingerprints is not None
        known = entry_fingerprints(parsed)
        for entry, packed in zip(parsed.entries, parsed.fingerprints, strict=True):
            article = article_of(entry)
            assert unpacked(packed) == main_process_fingerprint(article), path
            assert entry_story_text(entry) in known
            assert article_fingerprint(article, known) == unpacked(packed)
            compared, fingerprinted = compared + 1, fingerprinted + (packed is not None)
    assert compared > 1_500 and fingerprinted > 500


def test_an_article_takes_the_parses_fingerprint_only_when_clustered_on_the_text_it_is_of() -> None:
    parsed = read_feed(BODY, FEED_URL, {})
    known = entry_fingerprints(parsed)
    entry, other = parsed.entries[-1], parsed.entries[1]
    # A fingerprint of another text under this entry's text: taken as given, so the poll does not work it out.
    swapped = {
        **known,
        entry_story_text(entry): stories.pack_fingerprint(stories.fingerprint(" ".join(STORY[::-1]))),
    }
    assert article_fingerprint(article_of(entry), swapped) == unpacked(swapped[entry_story_text(entry)])
    # With a page's text, or a title from the page, the article is another text: worked out here.
    page_text = " ".join(STORY[1:])
    with_page = article_of(entry, text=page_text)
    assert (
        article_fingerprint(with_page, swapped)
        == stories.fingerprint(page_text)
        != unpacked(known[entry_story_text(entry)])
    )
    untitled = Entry(entry.key, entry.url, None, "", entry.summary, WHEN)
    titled_by_page = article_of(untitled, title="Cameras on drones")
    assert entry_story_text(untitled) not in swapped
    assert article_fingerprint(titled_by_page, swapped) == main_process_fingerprint(titled_by_page)
    assert article_fingerprint(article_of(other), {}) == main_process_fingerprint(article_of(other))


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


FRENCH_TITLE = "Le gouvernement canadien suspend les licences d'exportation d'armes vers la Turquie"
ENGLISH_TITLE = "Canadian imaging systems found on Turkish drones used in the war"


@pytest.mark.parametrize(
    ("page_title", "entry_title", "language"),
    [
        ("Drones", FRENCH_TITLE, "fr"),  # the entry's title, not the page's
        (FRENCH_TITLE, ENGLISH_TITLE, "en"),
        (FRENCH_TITLE, "", "fr"),  # the page's title standing in for a missing one
    ],
)
def test_the_entrys_title_decides_over_the_pages_and_the_pages_stands_in(
    page_title: str, entry_title: str, language: str
) -> None:
    """On a page with little text of its own (its title not repeated in it), the title the article takes
    decides its language."""
    markup = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{page_title}</title></head>"
        "<body><main><article><p>Wescam sensors.</p></article></main></body></html>"
    )
    assert extract_reading(extract.extract_page, markup, "https://e.org/a", entry_title, "")[1] == language


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


def test_a_read_given_the_last_reads_digests_leaves_the_unchanged_entries_untold() -> None:
    """The entries whose title and summary the last read saw get no language or fingerprint (those stand-ins
    instead, which the poll leaves out of both maps); a changed or new one is told as in a first read."""
    first = read_feed(BODY, FEED_URL, {})
    assert len(first.digests) == 4 * len(first.entries)
    assert UNTOLD_LANGUAGE not in first.languages and UNTOLD_FINGERPRINT not in first.fingerprints
    changed = [*ITEMS[:2], Item("Die Regierung stoppt alle Ausfuhrgenehmigungen", ITEMS[2].link, "Waffen")]
    body = rss(
        [*changed, Item("Nouvelle enquête sur les exportations d'armes", "https://news.example.org/g")]
    )
    again = read_feed(body, FEED_URL, {}, True, first.digests)
    assert again.languages == (UNTOLD_LANGUAGE, UNTOLD_LANGUAGE, "de", "fr")
    assert again.fingerprints is not None and again.fingerprints[:2] == (UNTOLD_FINGERPRINT,) * 2
    assert again.fingerprints[2:] == read_feed(body, FEED_URL, {}).fingerprints[2:]
    assert list(entry_languages(again)) == [entry.key for entry in again.entries[2:]]
    assert set(entry_fingerprints(again)) == {entry_story_text(entry) for entry in again.entries[2:]}
    # the digests are of every entry, told or not: the next read is given them all
    assert again.digests == read_feed(body, FEED_URL, {}).digests
    assert entry_digest(again.entries[0]) == entry_digest(first.entries[0])
    assert entry_digest(again.entries[2]) != entry_digest(first.entries[2])
    # an untold first entry of a key does not take the language of a later one with the same key
    twice = read_feed(rss([ITEMS[0], Item("Autre titre", ITEMS[0].link)]), FEED_URL, {}, True, first.digests)
    assert (
        twice.languages is not None and twice.languages[0] == UNTOLD_LANGUAGE and entry_languages(twice) == {}
    )
    # an old entry's text under a new link is a new entry: told
    moved = Item(ITEMS[0].title, "https://news.example.org/z", ITEMS[0].summary)
    assert read_feed(rss([moved]), FEED_URL, {}, True, first.digests).languages == ("en",)
