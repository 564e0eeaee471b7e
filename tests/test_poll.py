"""One feed's poll in-process: the real pipeline, fetcher, store and matcher against a local HTTP server, with
workers run inline (``WorkerPool(0)``) and the time passed in."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from sqlalchemy import text

from monitor.fetch import Fetcher
from monitor.match import compile_watchlists
from monitor.match.language import detect_language
from monitor.models import FeedJob, ParsedFeed, PollResult, WatchlistSpec
from monitor.poll import Pipeline
from monitor.poll_read import UNTOLD_LANGUAGE, entry_details_wanted, read_feed
from monitor.store import Outbox, Store
from monitor.workers import WorkerPool
from tests.helpers import POLL_LIMITS as LIMITS
from tests.helpers import Item, LocalServer, article_page, rss, story_paragraphs

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
WATCHLIST = WatchlistSpec("arms", terms=("Wescam", "export permit*"))
T = TypeVar("T")


def poll(store: Store, job: FeedJob, now: datetime = NOW, rng: random.Random | None = None) -> PollResult:
    async def run() -> PollResult:
        store.sync_feeds({job.name: job.url})
        async with Fetcher(timeout=5.0, user_agent="monitor-test") as fetcher:
            with WorkerPool(0) as workers:
                pipeline = Pipeline(
                    fetcher,
                    workers,
                    store,
                    compile_watchlists([WATCHLIST]),
                    {"arms": ("chat",)},
                    LIMITS,
                    rng or random.Random(1),
                )
                return await pipeline.poll_safely(job, now)

    return asyncio.run(run())


def serve_feed(server: LocalServer) -> FeedJob:
    server.route(
        "/story", body=article_page("Drone parts", story_paragraphs()), headers={"Content-Type": "text/html"}
    )
    server.route("/gone", status=404, body=b"not found")
    url = server.route(
        "/feed.xml",
        body=rss(
            [
                Item(
                    "Ottawa silent on drone parts",
                    server.url("/story"),
                    "No comment.",
                    NOW - timedelta(hours=1),
                ),
                Item(
                    "Permits row",
                    server.url("/gone"),
                    "New export permits questioned.",
                    NOW - timedelta(hours=2),
                ),
                Item("Council meets", server.url("/gone"), "Budget talks.", NOW - timedelta(hours=3)),
            ]
        ),
        headers={"Content-Type": "application/rss+xml; charset=utf-8"},
        etag='"v1"',
    )
    return FeedJob("gazette", url, 600.0, fulltext=True)


def test_a_poll_stores_hits_queues_alerts_and_schedules_the_next_poll(
    store: Store, http_server: LocalServer
) -> None:
    job = serve_feed(http_server)
    result = poll(store, job)
    assert (result.status, result.new_entries, result.hits) == ("ok", 2, 2)
    assert result.next_poll == NOW + timedelta(seconds=600)
    assert result.page_errors and all("HTTP 404" in e for e in result.page_errors)
    assert sorted(h.title for h in store.hits()) == ["Ottawa silent on drone parts", "Permits row"]
    assert len(Outbox(store.engine).due(NOW)) == 2
    state = store.feed_state("gazette")
    assert (state.last_status, state.etag, state.entries_seen, state.next_poll) == (
        "ok",
        '"v1"',
        2,
        NOW + timedelta(seconds=600),
    )

    again = poll(store, job, NOW + timedelta(minutes=10))
    assert (again.status, again.new_entries, again.hits) == ("not-modified", 0, 0)
    assert http_server.requests_for("/feed.xml")[-1].headers.get("if-none-match") == '"v1"'
    assert store.feed_state("gazette").entries_seen == 2


def test_a_failing_feed_backs_off_and_the_result_says_when_it_is_due(
    store: Store, http_server: LocalServer
) -> None:
    url = http_server.route("/feed.xml", status=503, body=b"busy")
    job = FeedJob("wire", url, 600.0, fulltext=False)
    first = poll(store, job, NOW, random.Random(3))
    second = poll(store, job, NOW, random.Random(3))
    assert (first.status, first.consecutive_failures, second.consecutive_failures) == ("error", 1, 2)
    assert first.error and "503" in first.error
    assert first.next_poll is not None and second.next_poll is not None
    assert NOW + timedelta(seconds=600) <= first.next_poll < NOW + timedelta(seconds=661)
    assert NOW + timedelta(seconds=1200) <= second.next_poll < NOW + timedelta(seconds=1321)
    state = store.feed_state("wire")
    assert (state.consecutive_failures, state.next_poll, state.last_status) == (2, second.next_poll, "error")


def test_a_permanent_redirect_moves_the_feed(store: Store, http_server: LocalServer) -> None:
    new = http_server.route("/new.xml", body=rss([]), headers={"Content-Type": "application/rss+xml"})
    old = http_server.route("/old.xml", status=301, redirect=new)
    poll(store, FeedJob("wire", old, 600.0, fulltext=False))
    assert store.feed_state("wire").current_url == new
    poll(store, FeedJob("wire", old, 600.0, fulltext=False), NOW + timedelta(minutes=10))
    assert http_server.requests_for("/old.xml") and len(http_server.requests_for("/old.xml")) == 1


def test_an_internal_error_in_one_poll_is_recorded_with_backoff(
    store: Store, http_server: LocalServer
) -> None:
    job = serve_feed(http_server)
    store.sync_feeds({job.name: job.url})
    with store.engine.begin() as conn:  # a database the poll cannot read its articles from
        conn.execute(text("ALTER TABLE articles RENAME TO articles_elsewhere"))
    result = poll(store, job, NOW, random.Random(5))
    assert result.status == "error"
    assert result.error and result.error.startswith("internal error: OperationalError")
    assert result.consecutive_failures == 1
    assert result.next_poll is not None and result.next_poll >= NOW + timedelta(seconds=600)
    state = store.feed_state("gazette")
    assert (state.last_status, state.consecutive_failures, state.next_poll) == ("error", 1, result.next_poll)
    assert state.last_error == result.error


def test_an_internal_error_that_cannot_be_recorded_is_still_returned(
    store: Store, http_server: LocalServer
) -> None:
    job = serve_feed(http_server)
    store.sync_feeds({job.name: job.url})
    with store.engine.begin() as conn:
        conn.execute(text("ALTER TABLE feeds RENAME TO feeds_elsewhere"))
    result = poll_without_sync(store, job)
    assert result.status == "error" and result.error and result.error.startswith("internal error")
    assert result.next_poll is None


def poll_without_sync(store: Store, job: FeedJob) -> PollResult:
    async def run() -> PollResult:
        async with Fetcher(timeout=5.0, user_agent="monitor-test") as fetcher:
            with WorkerPool(0) as workers:
                pipeline = Pipeline(fetcher, workers, store, compile_watchlists([WATCHLIST]), {}, LIMITS)
                return await pipeline.poll_safely(job, NOW)

    return asyncio.run(run())


class Recording(WorkerPool):
    """The inline worker pool, noting each function it runs and, for the feed reader, whether it was asked
    for the entries' languages."""

    def __init__(self) -> None:
        super().__init__(0)
        self.ran: list[str] = []

    async def run(self, fn: Callable[..., T], *args: object, timeout: float) -> T:
        self.ran.append(f"{fn.__name__}{args[3:4]}" if fn is read_feed else fn.__name__)
        return await super().run(fn, *args, timeout=timeout)


def poll_with(store: Store, job: FeedJob, workers: WorkerPool) -> PollResult:
    return polls(store, job, workers, {}, NOW)[1][0]


def polls(
    store: Store, job: FeedJob, workers: WorkerPool, told: dict[str, bytes], *times: datetime
) -> tuple[Pipeline, list[PollResult]]:
    """A pipeline given the digests ``told`` (``Pipeline.told``) polling ``job`` at each of ``times``, the
    server's feed as it is then; the pipeline and each poll's result."""

    async def run() -> tuple[Pipeline, list[PollResult]]:
        store.sync_feeds({job.name: job.url})
        async with Fetcher(timeout=5.0, user_agent="monitor-test") as fetcher:
            with workers:
                matcher = compile_watchlists([WATCHLIST])
                pipeline = Pipeline(fetcher, workers, store, matcher, {"arms": ()}, LIMITS, random.Random(1))
                pipeline.told.update(told)
                return pipeline, [await pipeline.poll_safely(job, when) for when in times]

    return asyncio.run(run())


def stored_languages(store: Store) -> dict[str, str | None]:
    with store.engine.connect() as conn:
        return {
            title: language for title, language in conn.execute(text("SELECT title, language FROM articles"))
        }


FRENCH = (
    "Le gouvernement suspend les licences d'exportation",
    "Les permis d'armes sont gelés jusqu'à nouvel ordre.",
)


def serve_mixed(server: LocalServer, fulltext: bool) -> FeedJob:
    """A feed of an article page in English and of a French entry whose page is gone."""
    server.route(
        "/story", body=article_page("Drone parts", story_paragraphs()), headers={"Content-Type": "text/html"}
    )
    server.route("/gone", status=404, body=b"not found")
    items = [
        Item("Ottawa silent on drone parts", server.url("/story"), "No comment.", NOW - timedelta(hours=1)),
        Item(FRENCH[0], server.url("/gone"), FRENCH[1], NOW - timedelta(hours=2)),
    ]
    url = server.route("/feed.xml", body=rss(items), headers={"Content-Type": "application/rss+xml"})
    return FeedJob("gazette", url, 600.0, fulltext=fulltext)


def test_a_full_text_feed_tells_the_language_only_of_entries_whose_page_it_could_not_read(
    store: Store, http_server: LocalServer
) -> None:
    pool = Recording()
    assert poll_with(store, serve_mixed(http_server, fulltext=True), pool).new_entries == 2
    # the feed read without languages; the page read tells its article's; the 404, its entry's
    assert sorted(pool.ran) == ["entry_language", "extract_reading", "read_feed(False,)"]
    assert stored_languages(store) == {"Ottawa silent on drone parts": "en", FRENCH[0]: "fr"}
    assert detect_language(*FRENCH) == "fr"


def test_a_feed_without_full_text_has_every_entrys_language_told_as_it_is_read(
    store: Store, http_server: LocalServer
) -> None:
    pool = Recording()
    assert poll_with(store, serve_mixed(http_server, fulltext=False), pool).new_entries == 2
    assert pool.ran == ["read_feed(True,)"]
    assert stored_languages(store)[FRENCH[0]] == "fr"


def test_only_a_feed_without_full_text_has_its_entries_languages_told_as_it_is_read() -> None:
    assert entry_details_wanted(False) and not entry_details_wanted(True)


class Reading(WorkerPool):
    """The inline worker pool, noting each function it runs and keeping what each feed read told."""

    def __init__(self) -> None:
        super().__init__(0)
        self.ran: list[str] = []
        self.reads: list[ParsedFeed] = []

    async def run(self, fn: Callable[..., T], *args: object, timeout: float) -> T:
        result = await super().run(fn, *args, timeout=timeout)
        self.ran.append(fn.__name__)
        if isinstance(result, ParsedFeed):
            self.reads.append(result)
        return result


def stored_articles(store: Store) -> dict[str, tuple[str | None, bytes | None]]:
    with store.engine.connect() as conn:
        rows = conn.execute(text("SELECT title, language, signature FROM articles"))
        return {title: (language, signature) for title, language, signature in rows}


ENGLISH = (
    "Ottawa silent on drone parts",
    "Canadian-made imaging and targeting systems were found on drones shot down last month. Global Affairs "
    "Canada would not say whether new export permits had been granted since the spring review. A group that "
    "tracks arms exports said the cameras matched serial numbers it had documented over the past year.",
)
GERMAN = (
    "Die Regierung stoppt die Ausfuhrgenehmigungen",
    "Waffen für die Türkei werden nicht mehr geliefert.",
)


def serve_items(server: LocalServer, *texts: tuple[str, str]) -> str:
    """A feed of ``texts`` (title, summary), each with its own link and date whatever its place."""
    items = [
        Item(title, server.url(f"/{len(title)}"), summary, NOW - timedelta(minutes=len(summary)))
        for title, summary in texts
    ]
    return server.route("/feed.xml", body=rss(items), headers={"Content-Type": "application/rss+xml"})


def test_a_feed_read_again_tells_only_the_entries_it_had_not_seen(
    store: Store, http_server: LocalServer, tmp_path: Path
) -> None:
    """A changed feed comes back with its old entries: the worker tells the language and fingerprint of the new
    one only, and every article is stored as a first read would store it. A digest said to be seen whose entry
    is not stored (a poll whose write failed, another database) costs only time: the poll works them out."""
    job = FeedJob("gazette", serve_items(http_server, ENGLISH, FRENCH), 600.0, fulltext=False)
    pool = Reading()
    pipeline, results = polls(store, job, pool, {}, NOW)
    assert [r.status for r in results] == ["ok"]
    assert pool.reads[0].languages == ("en", "fr") and pool.ran == ["read_feed"]
    serve_items(http_server, GERMAN, ENGLISH, FRENCH)
    pipeline, results = polls(store, job, pool, dict(pipeline.told), NOW + timedelta(minutes=10))
    assert [(r.status, r.new_entries) for r in results] == [("ok", 1)]
    assert pool.reads[1].languages == ("de", UNTOLD_LANGUAGE, UNTOLD_LANGUAGE)
    assert pool.ran == ["read_feed", "read_feed"]
    assert pipeline.told[job.name] == pool.reads[1].digests
    stored = stored_articles(store)
    assert {title: language for title, (language, _) in stored.items()} == {
        ENGLISH[0]: "en",
        FRENCH[0]: "fr",
        GERMAN[0]: "de",
    }
    assert stored[ENGLISH[0]][1] is not None  # fingerprinted at the first read

    # The same digests, a database that stores none of the entries: every article as a first read makes it.
    other = Store.open(f"sqlite:///{tmp_path / 'other.db'}")
    try:
        again = Reading()
        _, results = polls(other, job, again, dict(pipeline.told), NOW + timedelta(minutes=20))
        assert [(r.status, r.new_entries) for r in results] == [("ok", 3)]
        assert again.reads[0].languages == (UNTOLD_LANGUAGE,) * 3
        assert sorted(again.ran) == ["entry_language"] * 3 + ["read_feed"]
        assert stored_articles(other) == stored
    finally:
        other.close()
