"""Reads and RETURNING run through the driver's own cursor (monitor.store.driver) give what SQLAlchemy gives, on
SQLite and on PostgreSQL: the entries a poll already knows, the matches earlier in a story, the hits just
stored; and transactions begun on the driver's cursor keep their locking (reads never take the write lock)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import bindparam, insert, select
from sqlalchemy.exc import OperationalError

from monitor.models import Article, Finding, Match
from monitor.store import Store
from monitor.store.driver import DriverStatement, in_list
from monitor.store.engine import set_busy_timeout
from monitor.store.findings import BATCH, NewHit, _earlier_matches, hit_row, insert_hits
from monitor.store.repository import SEEN_CHECK_BATCH
from monitor.store.tables import articles, deliveries, hits

NOW = datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    url = f"sqlite:///{tmp_path}/store.db" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    opened = Store.open(url)
    yield opened
    opened.close()


def article(key: str, *, aliases: tuple[str, ...] = (), updated: datetime | None = None) -> Article:
    return Article(
        feed="wire",
        key=key,
        url=key,
        guid=None,
        title=f"Title of {key}",
        summary=f"Summary of {key}",
        text="",
        published=NOW - timedelta(hours=1),
        first_seen=NOW,
        updated=updated,
        aliases=aliases,
    )


def test_an_in_list_is_made_up_to_the_next_power_of_two_with_its_last_value() -> None:
    assert in_list(["a"]) == ["a"]
    assert in_list(["a", "b"]) == ["a", "b"]
    assert in_list(["a", "b", "c"]) == ["a", "b", "c", "c"]
    assert in_list(list(range(4))) == [0, 1, 2, 3]
    assert in_list(list(range(5))) == [0, 1, 2, 3, 4, 4, 4, 4]
    assert len(in_list(list(range(SEEN_CHECK_BATCH)))) == 512


def test_known_entries_read_what_unseen_and_stored_entries_read_over_several_batches(store: Store) -> None:
    # 700 stored articles (every third changed once), 300 keys stored only as another article's alias, 250
    # keys never stored: more than two batches, given in a mixed order with repeats.
    stored = [f"https://news.example/{i}" for i in range(700)]
    aliases = [f"https://news.google.com/rss/articles/{i}" for i in range(300)]
    new = [f"https://news.example/new/{i}" for i in range(250)]
    findings = [
        Finding(
            article(
                key,
                aliases=(aliases[i],) if i < len(aliases) else (),
                updated=NOW - timedelta(minutes=i) if i % 3 == 0 else None,
            ),
            (),
            False,
        )
        for i, key in enumerate(stored)
    ]
    store.save_articles(findings, {}, now=NOW)
    keys = [*new[:100], *aliases, *stored, *new[100:], *stored[:50], *aliases[:10]]
    assert len(set(keys)) > 2 * SEEN_CHECK_BATCH

    unseen, found = store.known_entries(keys)

    assert (unseen, found) == (store.unseen(keys), store.stored_entries(keys))
    assert unseen == set(new)  # a key stored only as an alias is not new, nor an entry to compare
    assert found.keys() == set(stored)
    assert found[stored[3]].updated == NOW - timedelta(minutes=3)
    assert found[stored[1]].updated is None
    assert found[stored[0]].published == NOW - timedelta(hours=1)
    assert found[stored[0]].title == f"Title of {stored[0]}"


def test_known_entries_of_every_short_list_length(store: Store) -> None:
    # Lists of 1 to 9 keys (statements for 1, 2, 4, 8 and 16 markers), one stored, one an alias, the rest new.
    store.save_articles([Finding(article("k0", aliases=("a0",)), (), False)], {}, now=NOW)
    pool = ["k0", "a0", *[f"n{i}" for i in range(7)]]
    for size in range(1, len(pool) + 1):
        keys = pool[:size]
        unseen, found = store.known_entries(keys)
        assert unseen == set(keys) - {"k0", "a0"}
        assert found.keys() == {"k0"}


def test_known_entries_of_no_keys_reads_nothing(store: Store) -> None:
    assert store.known_entries([]) == (set(), {})
    assert store.known_entries(iter(())) == (set(), {})


def test_known_entries_read_beside_a_writer_and_writes_still_wait_for_the_write_lock(tmp_path: Path) -> None:
    # Another process holds SQLite's write lock: the read goes on (BEGIN DEFERRED on the driver's cursor), a
    # write gives up after the busy timeout (BEGIN IMMEDIATE).
    store = Store.open(f"sqlite:///{tmp_path}/store.db")
    try:
        store.save_articles([Finding(article("k0"), (), False)], {}, now=NOW)
        set_busy_timeout(store.engine, 0.2)
        other = sqlite3.connect(tmp_path / "store.db", isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            unseen, found = store.known_entries(["k0", "k1"])
            assert unseen == {"k1"} and found.keys() == {"k0"}
            with pytest.raises(OperationalError, match="database is locked"):
                store.save_articles([Finding(article("k1"), (), False)], {}, now=NOW)
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert store.save_articles([Finding(article("k1"), (), False)], {}, now=NOW).keys() == {"k1"}
    finally:
        store.close()


def test_rows_read_through_the_driver_are_those_sqlalchemy_reads(store: Store) -> None:
    # Times come back aware (UTC), as the column type gives them; a read of no rows gives none.
    store.save_articles(
        [Finding(article(key, updated=NOW if key == "b" else None), (), False) for key in ("a", "b", "c")],
        {},
        now=NOW,
    )
    columns = (articles.c.key, articles.c.published_at, articles.c.updated_at, articles.c.id)
    query = select(*columns).where(articles.c.feed == bindparam("feed")).order_by(articles.c.key)
    statement = DriverStatement(query, ("feed",), store.engine.dialect)
    by_id = DriverStatement(
        select(articles.c.id).where(articles.c.feed == bindparam("feed")), ("feed",), store.engine.dialect
    )
    with store.engine.connect() as conn:
        expected = [tuple(row) for row in conn.execute(query, {"feed": "wire"})]
        assert statement.rows(conn, ("wire",)) == expected
        assert [row[2] for row in expected] == [None, NOW, None]
        assert statement.rows(conn, ("elsewhere",)) == []
        assert sorted(by_id.rows(conn, ("wire",))) == sorted((row[3],) for row in expected)


def stored_hits(store: Store) -> list[tuple[Any, ...]]:
    columns = (hits.c.article_id, hits.c.watchlist, hits.c.alerted, hits.c.on_update, hits.c.story_update)
    with store.engine.connect() as conn:
        return [tuple(row) for row in conn.execute(select(*columns).order_by(hits.c.id))]


def test_new_hits_come_back_from_the_driver_typed_and_a_second_hit_of_a_watchlist_is_left_out(
    store: Store,
) -> None:
    store.save_articles([Finding(article("k0"), (), False)], {}, now=NOW)
    with store.engine.connect() as conn:
        article_id = conn.execute(select(articles.c.id)).scalar_one()

    def row(watchlist: str, alert: bool, **extra: Any) -> dict[str, Any]:
        return {**hit_row(article_id, Match(watchlist, ("term",)), alert, NOW), **extra}

    rows = [
        row("arms", True),
        row("drones", False, story_update='{"new_terms": ["term"], "new_watchlist": false}'),
        row("arms", True),  # the same watchlist again: left out
        row("ships", True, on_update=True),
    ]
    with store.engine.begin() as conn:
        new = insert_hits(conn, rows, {"arms": ["mail", "chat"], "drones": ["mail"], "ships": []}, NOW)
    assert [(hit.article_id, hit.watchlist, hit.alerted) for hit in new] == [
        (article_id, "arms", True),
        (article_id, "drones", False),
        (article_id, "ships", True),
    ]
    assert all(isinstance(hit, NewHit) and type(hit.alerted) is bool for hit in new)
    assert stored_hits(store) == [
        (article_id, "arms", True, False, None),
        (article_id, "drones", False, False, '{"new_terms": ["term"], "new_watchlist": false}'),
        (article_id, "ships", True, True, None),
    ]
    with store.engine.connect() as conn:
        sent = conn.execute(select(deliveries.c.hit_id, deliveries.c.notifier).order_by(deliveries.c.id))
        assert [tuple(d) for d in sent] == [(new[0].id, "mail"), (new[0].id, "chat")]  # alerting hits only
    with store.engine.begin() as conn:
        assert insert_hits(conn, [], {}, NOW) == []


def test_earlier_matches_of_stories_over_more_than_one_batch(store: Store) -> None:
    # Stories 1..BATCH+100, each one article; every other one has hits of two watchlists.
    count = BATCH + 100
    with store.engine.begin() as conn:
        conn.execute(
            insert(articles),
            [
                {
                    "id": i,
                    "key": f"k{i}",
                    "feed": "wire",
                    "title": "",
                    "summary": "",
                    "text": "",
                    "published_at": NOW,
                    "first_seen_at": NOW,
                    "story_id": i,
                }
                for i in range(1, count + 1)
            ],
        )
        conn.execute(
            insert(hits),
            [
                {
                    "article_id": i,
                    "watchlist": watchlist,
                    "matched": f'["{watchlist}-{i}", "shared"]',
                    "snippets": "[]",
                    "found_at": NOW,
                    "alerted": True,
                }
                for i in range(2, count + 1, 2)
                for watchlist in ("arms", "ships")
            ],
        )
    with store.engine.begin() as conn:
        earlier = _earlier_matches(conn, set(range(1, count + 1)) | {count + 5})
        assert _earlier_matches(conn, set()) == {}
    assert earlier == {
        i: {"arms": {f"arms-{i}", "shared"}, "ships": {f"ships-{i}", "shared"}}
        for i in range(2, count + 1, 2)
    }
