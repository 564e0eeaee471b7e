"""The same parts on PostgreSQL: migrations, a `monitor poll` end to end, the outbox, times.

A fresh database per test on the PostgreSQL server of tests/pgserver.py (the shared one, or a throw-away one).
Several daemons on one database: tests/test_scaleout*.py.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.dialects import postgresql

from monitor.models import Article, FeedUpdate, Match, Snippet
from monitor.notify.policy import Policy
from monitor.store import DeliveryOutcome, Outbox, Store
from monitor.store.engine import head_revision
from monitor.store.findings import insert_ignore
from monitor.store.tables import articles, notifier_state
from tests.factory import json_lines, run_cli, write_config
from tests.helpers import (
    T0,
    WATCHLIST,
    LocalServer,
    WebhookServer,
    add_hit,
    cli_inline,
    deliver,
    deliverer,
    serve_news,
    titles,
)

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def store(pg_url: str) -> Store:
    return Store.open(pg_url)


def pg_config(tmp_path: Path, pg_url: str, **options: object) -> Path:
    return write_config(tmp_path, monitor={"database": pg_url}, **options)  # type: ignore[arg-type]


def article(title: str, at: datetime) -> Article:
    url = f"https://news.example/{title.replace(' ', '-')}"
    return Article(
        feed="wire",
        key=url,
        url=url,
        guid=None,
        title=title,
        summary="",
        text=title,
        published=at,
        first_seen=at,
    )


def test_check_opens_a_postgresql_database_and_names_its_schema_state(tmp_path: Path, pg_url: str) -> None:
    config = pg_config(tmp_path, pg_url)
    empty = run_cli(config, "check")
    assert empty.returncode == 0, empty.stderr
    assert "(opened and writable; no tables yet, the first poll creates them)" in empty.stdout
    Store.open(pg_url).close()
    current = run_cli(config, "check")
    assert current.returncode == 0 and current.stdout.rstrip().endswith("(opened and writable)")


def test_migrations_apply_with_the_cli(tmp_path: Path, pg_url: str) -> None:
    config = pg_config(tmp_path, pg_url)
    first = run_cli(config, "db", "upgrade")
    assert first.returncode == 0, first.stderr
    store = Store.open(pg_url, migrate=False)
    try:
        tables = set(inspect(store.engine).get_table_names())
        assert {
            "feeds",
            "articles",
            "hits",
            "deliveries",
            "notifier_state",
            "daemons",
            "alembic_version",
        } <= tables
        assert "daemon" not in tables  # the one-daemon table, dropped by 0013
        with store.engine.connect() as conn:
            version = conn.scalar(text("SELECT version_num FROM alembic_version"))
        assert version == head_revision()  # the chain's head, which need not be the highest number
    finally:
        store.close()
    again = run_cli(config, "db", "upgrade")
    assert again.returncode == 0, again.stderr


def test_poll_end_to_end_stores_once_and_alerts_once(
    tmp_path: Path, pg_url: str, http_server: LocalServer, webhook_server: WebhookServer
) -> None:
    serve_news(http_server)
    config = pg_config(
        tmp_path,
        pg_url,
        feeds=[{"name": "gazette", "url": http_server.url("/feed.xml")}],
        watchlists=[{**WATCHLIST, "notify": ["chat"]}],
        notifiers=[{"name": "chat", "urls": [webhook_server.apprise_url()]}],
    )
    first = cli_inline(config, "poll")
    assert first.returncode == 0, first.stderr
    assert "status=ok" in first.stdout
    hits = json_lines(cli_inline(config, "hits", "--format", "json").stdout)
    assert sorted(h["url"] for h in hits) == [http_server.url("/gone"), http_server.url("/story")]
    assert all(h["found_at"].endswith("+00:00") for h in hits)
    assert len(webhook_server.posts) == 1
    assert "Ottawa silent on drone parts" in webhook_server.posts[0].body.decode()

    # The feed changes its validators: everything is fetched and parsed again, nothing is stored twice.
    serve_news(http_server)
    http_server.route("/feed.xml", body=http_server.routes["/feed.xml"].body, etag='"v2"')
    second = cli_inline(config, "poll")
    assert second.returncode == 0, second.stderr
    assert "status=ok" in second.stdout
    status = json_lines(cli_inline(config, "status", "--format", "json").stdout)[0]
    assert status["articles"] == 4 and status["hits"] == 2
    assert status["deliveries"] == [{"notifier": "chat", "status": "sent", "count": 2}]
    assert len(webhook_server.posts) == 1


def test_insert_ignore_is_postgresql_on_conflict_and_returns_only_new_rows(store: Store) -> None:
    statement = insert_ignore(articles, store.engine.dialect.name).on_conflict_do_nothing(
        index_elements=["key"]
    )
    assert isinstance(statement, postgresql.Insert)
    assert "ON CONFLICT (key) DO NOTHING" in str(statement.compile(dialect=store.engine.dialect))
    story = article("Story A", T0)
    match = Match("arms", ("Wescam",), (Snippet("body", "Story A", ((0, 5),)),), ("body",))
    first = store.save_article(story, [match], {"arms": ("chat",)}, alert=True, now=T0)
    assert first and len(first) == 1
    assert store.save_article(story, [match], {"arms": ("chat",)}, alert=True, now=T0) is None
    assert store.counts() == {"articles": 1, "hits": 1}
    assert len(Outbox(store.engine).listing()) == 1


def test_times_come_back_utc_aware(store: Store) -> None:
    toronto = timezone(timedelta(hours=-5))
    at = datetime(2026, 3, 2, 1, 30, tzinfo=toronto)  # 06:30 UTC
    store.save_article(article("Story A", at), [], {}, alert=False, now=at)
    store.sync_feeds({"wire": "https://news.example/feed.xml"})
    store.record_poll(FeedUpdate("wire", at, "ok", at + timedelta(minutes=15), 0, 0))
    with store.engine.connect() as conn:
        published = conn.scalar(select(articles.c.published_at))
    state = store.feed_state("wire")
    for value in (published, state.last_polled, state.next_poll):
        assert value is not None and value.tzinfo is UTC
    assert published == at and published.hour == 6
    assert state.next_poll == datetime(2026, 3, 2, 6, 45, tzinfo=UTC)
    with pytest.raises(Exception, match="naive"):
        naive = datetime(2026, 3, 2, 6, 30)
        store.record_poll(FeedUpdate("wire", naive, "ok", naive, 0, 0))


def test_two_outboxes_never_claim_the_same_delivery(store: Store, pg_url: str) -> None:
    for i in range(40):
        add_hit(store, f"Story {i}", T0)
    other = Store.open(pg_url, migrate=False)  # a second process: its own engine and connections
    try:
        outboxes = [Outbox(store.engine), Outbox(other.engine)]
        ids = [d.id for d in outboxes[0].due(T0 + timedelta(seconds=10))]
        assert len(ids) == 40
        got: list[set[int]] = [set(), set()]
        start = threading.Barrier(2)

        def claim(index: int) -> None:
            start.wait()
            for chunk in range(0, len(ids), 5):
                got[index] |= outboxes[index].claim(
                    ids[chunk : chunk + 10], T0 + timedelta(seconds=10), T0 + timedelta(minutes=5)
                )

        threads = [threading.Thread(target=claim, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not got[0] & got[1] and got[0] | got[1] == set(ids)
        assert outboxes[1].due(T0 + timedelta(seconds=11)) == []  # held by their claims
        assert outboxes[1].due(T0 + timedelta(minutes=6))  # claims expire
        released = outboxes[0].release_stale(T0 + timedelta(minutes=6), lambda owner: False)
        assert sum(released.values()) == 40  # expired claims are released whoever holds them
    finally:
        other.close()


def test_outbox_retry_dead_and_counts(store: Store) -> None:
    add_hit(store, "Story A", T0)
    add_hit(store, "Story B", T0)
    outbox = Outbox(store.engine)
    a, b = outbox.due(T0 + timedelta(seconds=1))
    assert outbox.claim([a.id, b.id], T0, T0 + timedelta(minutes=1)) == {a.id, b.id}
    later = T0 + timedelta(minutes=2)
    outbox.record(
        [
            DeliveryOutcome(a.id, sent=False, error="HTTP 500", next_attempt=later),
            DeliveryOutcome(b.id, sent=False, error="HTTP 410", dead=True),
        ],
        T0,
    )
    assert outbox.counts() == {("chat", "dead"): 1, ("chat", "failed"): 1}
    assert outbox.due(T0 + timedelta(minutes=1)) == []
    [failed] = outbox.due(later)
    assert failed.id == a.id and failed.attempts == 1 and failed.next_attempt == later
    assert failed.next_attempt.tzinfo is UTC and failed.last_error == "HTTP 500"
    outbox.record([DeliveryOutcome(a.id, sent=True, sent_targets=(0,))], later)
    assert outbox.messages_sent_since("chat", T0) == 1
    assert outbox.retry(later, statuses=("dead",)) == 1
    assert outbox.counts() == {("chat", "pending"): 1, ("chat", "sent"): 1}
    assert outbox.retry(later, notifier="nobody") == 0


def test_digest_state_and_retries_with_an_injected_clock(store: Store, webhook_server: WebhookServer) -> None:
    outbox = Outbox(store.engine)
    assert outbox.last_digest("chat/arms") is None
    outbox.set_last_digest("chat/arms", T0)  # insert
    outbox.set_last_digest("chat/arms", T0 + timedelta(hours=1))  # update
    assert outbox.last_digest("chat/arms") == T0 + timedelta(hours=1)
    with store.engine.connect() as conn:
        assert conn.scalar(select(notifier_state.c.notifier)) == "chat/arms"

    d = deliverer(store, Policy("chat", (webhook_server.apprise_url(),), mode="digest", schedule="0 8 * * *"))
    add_hit(store, "Story A", T0 + timedelta(hours=1))  # 07:00
    add_hit(store, "Story B", T0 + timedelta(hours=1, minutes=30))
    assert deliver(d, T0 + timedelta(hours=1, minutes=45)) == []  # before 08:00
    webhook_server.fail_with = 500
    [failed] = deliver(d, T0 + timedelta(hours=2, seconds=1))
    assert not failed.ok and failed.digest
    webhook_server.fail_with = None
    assert outbox.retry(T0 + timedelta(hours=3), statuses=("failed",)) == 2
    [report] = deliver(d, T0 + timedelta(days=1, hours=2, seconds=1))  # the next morning
    assert report.ok and report.hits == 2
    assert titles(webhook_server) == [["Story A", "Story B"]]
    assert outbox.last_digest("chat") == T0 + timedelta(days=1, hours=2, seconds=1)


def test_text_postgresql_would_refuse_is_stored(store: Store) -> None:
    # A JSON Feed may carry NUL characters, which PostgreSQL text refuses; names have no length limit.
    story = article("Story\x00 A", T0)
    assert store.save_article(story, [], {}, alert=False, now=T0) == []
    with store.engine.connect() as conn:
        assert conn.scalar(select(articles.c.title)) == "Story A"
    long_name = "desk-" + "x" * 300
    store.sync_feeds({long_name: "https://news.example/feed.xml"})
    assert store.feed_state(long_name).name == long_name
    Outbox(store.engine).set_last_digest(f"{long_name}/{long_name}", T0)


def test_processes_starting_together_on_an_empty_database_migrate_once(pg_url: str) -> None:
    errors: list[BaseException] = []
    start = threading.Barrier(3)

    def open_store() -> None:
        start.wait()
        try:
            Store.open(pg_url).close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_store) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
