"""A poll's store: one write transaction per poll (its articles, hits, deliveries, health samples and the feed's
state together), a cycle's feed states read in one query, nothing half-stored when the write fails, and a
document that failed to parse not parsed again while it comes back unchanged. Real SQLite files and a real
PostgreSQL, a local HTTP server, the real pipeline (workers inline)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import event, func, select, text

from monitor.fetch import Fetcher
from monitor.health_watch import HealthWatch
from monitor.match import compile_watchlists
from monitor.models import FeedJob, PollResult, WatchlistSpec
from monitor.poll import Pipeline
from monitor.store import Store
from monitor.store.engine import WAL_AUTOCHECKPOINT_PAGES, read_only, set_busy_timeout
from monitor.store.review import Review
from monitor.store.tables import articles, deliveries, feed_health, hits
from monitor.workers import WorkerPool
from tests.helpers import POLL_LIMITS as LIMITS
from tests.helpers import Item, LocalServer, rss

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
WATCHLIST = WatchlistSpec("arms", terms=("Wescam",))
HTML = b"<!doctype html><html><head><title>Not a feed</title></head><body><p>Hello</p></body></html>"
T = TypeVar("T")


class ParseCounting(WorkerPool):
    """The inline worker pool, noting the name of every function it runs (the feed reader among them)."""

    def __init__(self) -> None:
        super().__init__(0)
        self.ran: list[str] = []

    async def run(self, fn: Callable[..., T], *args: object, timeout: float) -> T:
        self.ran.append(fn.__name__)
        return await super().run(fn, *args, timeout=timeout)


def commits(store: Store) -> list[int]:
    """A counter of the engine's commits, updated as they happen."""
    counted = [0]

    def on_commit(_conn: Any) -> None:
        counted[0] += 1

    event.listen(store.engine, "commit", on_commit)
    return counted


def statements(store: Store) -> list[str]:
    seen: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(store.engine, "before_cursor_execute", before)
    return seen


def cycle(
    store: Store,
    jobs: list[FeedJob],
    now: datetime = NOW,
    workers: WorkerPool | None = None,
    lease_check: Callable[[str], bool] | None = None,
    watchlists: tuple[WatchlistSpec, ...] = (WATCHLIST,),
) -> list[PollResult]:
    async def run() -> list[PollResult]:
        async with Fetcher(timeout=5.0, user_agent="monitor-test") as fetcher:
            with workers or WorkerPool(0) as pool:
                pipeline = Pipeline(
                    fetcher,
                    pool,
                    store,
                    compile_watchlists(list(watchlists)),
                    {spec.name: ("chat",) for spec in watchlists},
                    LIMITS,
                    random.Random(1),
                    health=HealthWatch(silent_after=7 * 86400.0),
                    lease_check=lease_check,
                )
                return await pipeline.poll_many(jobs, now)

    store.sync_feeds({job.name: job.url for job in jobs})
    return asyncio.run(run())


def serve(server: LocalServer, path: str, *, etag: str | None = '"v1"') -> FeedJob:
    body = rss(
        [
            Item("Wescam sensors sold", server.url(f"{path}/1"), "Sensors.", NOW - timedelta(hours=1)),
            Item("Council meets", server.url(f"{path}/2"), "Budget talks.", NOW - timedelta(hours=2)),
        ]
    )
    url = server.route(path, body=body, headers={"Content-Type": "application/rss+xml"}, etag=etag)
    return FeedJob(path.strip("/"), url, 600.0, fulltext=False)


def count(store: Store, table: Any) -> int:
    with store.engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(table)) or 0)


def test_a_poll_stores_everything_in_one_commit_and_a_cycle_reads_its_feeds_once(
    store: Store, http_server: LocalServer
) -> None:
    jobs = [serve(http_server, f"/feed{i}") for i in range(3)]
    counted, seen = commits(store), statements(store)
    first = cycle(store, jobs)
    assert [(r.status, r.new_entries, r.hits) for r in first] == [("ok", 2, 1)] * 3
    # sync_feeds, then one commit a poll: its articles, hit, delivery, health samples and the feed's state
    assert counted[0] == 1 + 3
    starts = [s for s in seen if "feeds LEFT OUTER JOIN feed_health" in s]
    assert len(starts) == 1  # the cycle's feed states and health samples, one query
    assert (count(store, articles), count(store, hits), count(store, deliveries)) == (6, 3, 3)
    assert count(store, feed_health) == 3  # the new entries' times

    counted[0] = 0
    again = cycle(store, jobs, NOW + timedelta(minutes=10))
    assert [r.status for r in again] == ["not-modified"] * 3
    assert counted[0] == 1 + 3
    assert all(store.feed_state(job.name).last_polled == NOW + timedelta(minutes=10) for job in jobs)


def test_a_store_failing_mid_poll_leaves_nothing_half_stored_and_the_next_poll_stores_it_all(
    store: Store, http_server: LocalServer
) -> None:
    job = serve(http_server, "/feed")
    store.sync_feeds({job.name: job.url})
    with store.engine.begin() as conn:  # the feed's row cannot be written: the poll's last statement fails
        conn.execute(
            text(
                "CREATE TRIGGER refuse BEFORE UPDATE ON feeds BEGIN SELECT RAISE(ABORT, 'disk trouble'); END"
            )
        )
    [failed] = cycle(store, [job])
    assert failed.status == "error" and "disk trouble" in (failed.error or "")
    assert (count(store, articles), count(store, hits), count(store, deliveries)) == (0, 0, 0)
    assert count(store, feed_health) == 0
    assert store.feed_state(job.name).last_polled is None

    with store.engine.begin() as conn:
        conn.execute(text("DROP TRIGGER refuse"))
    [stored] = cycle(store, [job], NOW + timedelta(minutes=1))
    assert (stored.status, stored.new_entries, stored.hits) == ("ok", 2, 1)  # nothing was lost
    assert (count(store, articles), count(store, hits), count(store, deliveries)) == (2, 1, 1)


def test_a_poll_whose_lease_was_lost_stores_nothing(store: Store, http_server: LocalServer) -> None:
    job = serve(http_server, "/feed")
    counted = commits(store)
    [result] = cycle(store, [job], lease_check=lambda name: False)
    assert result.status == "lease-lost"
    assert counted[0] == 1  # sync_feeds only
    assert (count(store, articles), count(store, hits)) == (0, 0)
    assert store.feed_state(job.name).last_polled is None


def test_a_document_that_failed_to_parse_is_not_parsed_again_while_unchanged_and_stays_failing(
    store: Store, http_server: LocalServer
) -> None:
    url = http_server.route("/feed", body=HTML, headers={"Content-Type": "text/html"}, etag='"h1"')
    job = FeedJob("site", url, 600.0, fulltext=False)
    pool = ParseCounting()
    results = [cycle(store, [job], NOW + timedelta(hours=i), pool)[0] for i in range(3)]
    assert [r.status for r in results] == ["error"] * 3
    assert {r.error for r in results} == {
        "not a feed: looks like an HTML page (`monitor feeds add URL` finds the feed of a web page; or watch it as a [[page]])"
    }
    assert [r.consecutive_failures for r in results] == [1, 2, 3]
    assert pool.ran == ["read_feed"]  # parsed once: the next polls got a 304 to its validators
    assert [r.headers.get("if-none-match") for r in http_server.requests_for("/feed")] == [
        None,
        '"h1"',
        '"h1"',
    ]
    with store.engine.connect() as conn:  # still reported failing: three failed polls in a row
        assert conn.scalar(select(feed_health.c.told_state).where(feed_health.c.feed == "site")) == "failing"

    http_server.route("/feed", body=HTML, headers={"Content-Type": "text/html"})  # no validators: same bytes
    [same] = cycle(store, [job], NOW + timedelta(hours=4), pool)
    assert (same.status, same.error, same.consecutive_failures) == (
        "error",
        "not a feed: looks like an HTML page (`monitor feeds add URL` finds the feed of a web page; or watch it as a [[page]])",
        4,
    )
    assert pool.ran == ["read_feed"]
    assert store.feed_state("site").failed_digest is not None

    http_server.route(
        "/feed", body=HTML.replace(b"Hello", b"Hello again"), headers={"Content-Type": "text/html"}
    )
    [changed] = cycle(store, [job], NOW + timedelta(hours=5), pool)
    assert (changed.status, changed.consecutive_failures) == ("error", 5)
    assert pool.ran == ["read_feed"] * 2  # another document: parsed

    serve(http_server, "/feed")
    [fixed] = cycle(store, [job], NOW + timedelta(hours=6), pool)
    assert (fixed.status, fixed.new_entries, fixed.consecutive_failures) == ("ok", 2, 0)
    state = store.feed_state("site")
    assert (state.failed_digest, state.etag) == (None, '"v1"')


def test_a_fetch_failure_after_a_failed_document_forgets_it_so_the_next_poll_parses_again(
    store: Store, http_server: LocalServer
) -> None:
    url = http_server.route("/feed", body=HTML, headers={"Content-Type": "text/html"}, etag='"h1"')
    job = FeedJob("site", url, 600.0, fulltext=False)
    pool = ParseCounting()
    cycle(store, [job], NOW, pool)
    http_server.route("/feed", status=503, body=b"busy")
    [busy] = cycle(store, [job], NOW + timedelta(hours=1), pool)
    assert busy.status == "error" and "503" in (busy.error or "")
    state = store.feed_state("site")
    assert (state.failed_digest, state.etag, state.last_modified) == (None, None, None)

    http_server.route("/feed", body=HTML, headers={"Content-Type": "text/html"}, etag='"h1"')
    [again] = cycle(store, [job], NOW + timedelta(hours=2), pool)
    assert (
        again.error
        == "not a feed: looks like an HTML page (`monitor feeds add URL` finds the feed of a web page; or watch it as a [[page]])"
    )
    assert http_server.requests_for("/feed")[-1].headers.get("if-none-match") is None
    assert pool.ran == ["read_feed"] * 2  # the same document, parsed again: its validators were forgotten


def test_a_page_that_failed_is_read_again_once_its_selector_changes(
    store: Store, http_server: LocalServer
) -> None:
    page = b"<html><body><main><p>The council approved the budget on Monday evening.</p></main></body></html>"
    url = http_server.route("/page", body=page, headers={"Content-Type": "text/html"}, etag='"p1"')
    missing = FeedJob("page", url, 600.0, fulltext=False, page_mode="text", selector="#gone")
    [first] = cycle(store, [missing])
    assert first.status == "error" and "matches nothing" in (first.error or "")
    [second] = cycle(store, [missing], NOW + timedelta(hours=1))
    assert (second.status, second.error, second.consecutive_failures) == ("error", first.error, 2)

    fixed = FeedJob("page", url, 600.0, fulltext=False, page_mode="text", selector="main")
    [third] = cycle(store, [fixed], NOW + timedelta(hours=2))
    assert (third.status, third.consecutive_failures) == ("ok", 0)
    sent = [r.headers.get("if-none-match") for r in http_server.requests_for("/page")]
    assert sent == [None, '"p1"', None]  # read another way: fetched whole, not answered by the old 304
    assert store.feed_state("page").failed_digest is None
    assert store.health.page_text("page") == "The council approved the budget on Monday evening."


def test_postgresql_stores_a_poll_in_one_commit_and_remembers_a_failed_document(
    pg_url: str, http_server: LocalServer
) -> None:
    store = Store.open(pg_url)
    try:
        good = serve(http_server, "/feed")
        url = http_server.route("/page", body=HTML, headers={"Content-Type": "text/html"}, etag='"h1"')
        bad = FeedJob("site", url, 600.0, fulltext=False)
        counted = commits(store)
        pool = ParseCounting()
        first = cycle(store, [good, bad], NOW, pool)
        assert [(r.status, r.new_entries, r.hits) for r in first] == [("ok", 2, 1), ("error", 0, 0)]
        assert counted[0] == 1 + 2  # sync_feeds, then one per poll
        assert (count(store, articles), count(store, hits), count(store, deliveries)) == (2, 1, 1)

        counted[0] = 0
        again = cycle(store, [good, bad], NOW + timedelta(hours=1), pool)
        assert [(r.status, r.error) for r in again] == [
            ("not-modified", None),
            (
                "error",
                "not a feed: looks like an HTML page (`monitor feeds add URL` finds the feed of a web page; or watch it as a [[page]])",
            ),
        ]
        assert counted[0] == 1 + 2
        assert pool.ran == ["read_feed", "read_feed"]  # each document parsed once
        assert store.feed_state("site").consecutive_failures == 2
    finally:
        store.close()


def test_every_sqlite_connection_of_a_store_lets_the_wal_gather_many_polls_before_a_checkpoint(
    store: Store,
) -> None:
    """A poll dirties a few hundred pages spread over the hash-keyed indexes: each connection (writing, reading,
    and those opened again after the busy timeout changes) copies the WAL back every WAL_AUTOCHECKPOINT_PAGES
    pages, not SQLite's 1,000, beside the settings every connection has."""

    def pragmas(engine: Any) -> tuple[Any, ...]:
        with engine.connect() as conn:
            return tuple(
                conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("wal_autocheckpoint", "journal_mode", "synchronous", "foreign_keys")
            )

    expected = (WAL_AUTOCHECKPOINT_PAGES, "wal", 1, 1)
    assert WAL_AUTOCHECKPOINT_PAGES > 1_000
    assert pragmas(store.engine) == expected
    assert pragmas(read_only(store.engine)) == expected
    set_busy_timeout(store.engine, 0.2)
    assert pragmas(store.engine) == expected
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 200
    # The larger WAL does not stay on disk: the daemon's housekeeping folds it back and truncates it.
    wal = Path(f"{store.engine.url.database}-wal")
    with store.engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE scratch (id INTEGER PRIMARY KEY, words TEXT)")
        conn.exec_driver_sql("INSERT INTO scratch (words) VALUES (?)", [("w" * 3000,) for _ in range(200)])
    assert wal.stat().st_size > 200 * 3000
    store.housekeeping()
    assert wal.stat().st_size == 0


def test_a_key_stored_as_another_articles_alias_is_known(store: Store) -> None:
    from monitor.models import Article, Finding

    article = Article(
        feed="wire",
        key="https://news.example/story",
        aliases=("https://news.google.com/rss/articles/CBMiXYZ",),
        url="https://news.example/story",
        guid=None,
        title="Wescam sensors",
        summary="Found on drones",
        text="",
        published=NOW,
        first_seen=NOW,
    )
    store.save_articles([Finding(article, (), False)], {}, now=NOW)
    keys = [
        "https://news.google.com/rss/articles/CBMiXYZ",
        "https://news.example/story",
        "https://news.example/new",
    ]
    unseen, stored = store.known_entries(keys)
    assert unseen == {"https://news.example/new"}
    assert set(stored) == {"https://news.example/story"}
    assert stored["https://news.example/story"].title == "Wescam sensors"


def test_a_feed_whose_url_changed_forgets_its_state_and_the_others_keep_theirs(
    store: Store, http_server: LocalServer
) -> None:
    jobs = [serve(http_server, "/moved"), serve(http_server, "/stays")]
    cycle(store, jobs)
    assert [store.feed_state(job.name).etag for job in jobs] == ['"v1"', '"v1"']
    store.sync_feeds({"moved": http_server.url("/moved-elsewhere"), "stays": jobs[1].url})
    moved, stays = store.feed_state("moved"), store.feed_state("stays")
    assert (moved.url, moved.etag) == (http_server.url("/moved-elsewhere"), None)
    assert (stays.url, stays.etag) == (jobs[1].url, '"v1"')
    store.sync_feeds({"moved": http_server.url("/moved-elsewhere"), "stays": jobs[1].url})  # unchanged
    assert store.feed_state("stays").etag == '"v1"'


def test_stored_hits_since_an_instant_include_that_instant(store: Store, http_server: LocalServer) -> None:
    cycle(store, [serve(http_server, "/wire")])
    assert [hit.found_at for hit in store.hits(since=NOW)] == [NOW]
    assert store.hits(since=NOW + timedelta(microseconds=1)) == []
    assert len(store.hits(since=NOW - timedelta(days=1), watchlist="arms")) == 1
    assert store.hits(watchlist="other") == []
    assert Review(store).hits_per_day(NOW) == [("arms", NOW.date(), 1)]  # found at that instant: counted
    assert Review(store).hits_per_day(NOW + timedelta(microseconds=1)) == []


def test_each_story_and_hit_is_read_with_its_own_article_and_watchlists(
    store: Store, http_server: LocalServer
) -> None:
    body = rss(
        [
            Item(
                "Wescam sensors sold", http_server.url("/a"), "Sensors for drones.", NOW - timedelta(hours=1)
            ),
            Item(
                "Baykar drones flown",
                http_server.url("/b"),
                "Flights over the border.",
                NOW - timedelta(hours=2),
            ),
            Item("Council meets", http_server.url("/c"), "Budget talks.", NOW - timedelta(hours=3)),
        ]
    )
    url = http_server.route("/two", body=body, headers={"Content-Type": "application/rss+xml"})
    specs = (WATCHLIST, WatchlistSpec("drones", terms=("Baykar",)))
    cycle(store, [FeedJob("two", url, 600.0, fulltext=False)], watchlists=specs)
    found = {hit.watchlist: hit for hit in store.hits()}
    assert sorted(found) == ["arms", "drones"]
    fields = store.article_fields([found["arms"].id, found["drones"].id])
    assert fields[found["arms"].id]["title"] == "Wescam sensors sold"
    assert fields[found["drones"].id]["title"] == "Baykar drones flown"
    stories = {story.title: story.watchlists for story in store.stories()}
    assert stories["Wescam sensors sold"] == ("arms",)
    assert stories["Baykar drones flown"] == ("drones",)
    assert stories.get("Council meets", ()) == ()
    assert [story.title for story in store.stories(watchlist="drones")] == ["Baykar drones flown"]
    assert len(store.stories(since=NOW)) == len(stories)  # first seen at that instant: included
    assert store.stories(since=NOW + timedelta(microseconds=1)) == []
