"""The functions the pipeline and the CLI call to read and write the database. Short transactions only."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from sqlalchemy import (
    CompoundSelect,
    Connection,
    Engine,
    Integer,
    Row,
    bindparam,
    func,
    insert,
    literal_column,
    null,
    select,
    union_all,
    update,
)
from sqlalchemy.exc import SQLAlchemyError

from monitor.errors import StoreError
from monitor.models import (
    Article,
    FeedState,
    FeedUpdate,
    Finding,
    Hit,
    Match,
    PendingPage,
    StoredEntry,
    Story,
    StoryArticle,
)
from monitor.redact import mask_url, redact
from monitor.store import engine as engine_setup
from monitor.store.driver import driver_in_statement, driver_statement
from monitor.store.evidence import capture_row
from monitor.store.findings import StoryRules, hit_row, insert_hits, insert_ignore, store_hits
from monitor.store.health import HealthRecords, write_health, write_page_text
from monitor.store.index import SearchIndex, Words
from monitor.store.outbox import Outbox
from monitor.store.polls import (
    PollSaved,
    PollStart,
    PollWrite,
    feed_state,
    poll_start,
    poll_starts,
    write_feed_update,
)
from monitor.store.queries import hit_from_row, hit_query, latest_story_ids, with_outlets
from monitor.store.tables import (
    CleanText,
    article_aliases,
    article_versions,
    articles,
    captures,
    feeds,
    hits,
    page_retries,
)

SEEN_CHECK_BATCH = 500
_ENTRY_COLUMNS = (articles.c.key, articles.c.title, articles.c.summary, articles.c.updated_at)


def _known(size: int) -> tuple[CompoundSelect[Any], tuple[str, ...]]:
    """The stored articles among ``size`` keys, and the keys stored as another article's alias (``stored`` 0:
    no text), in one statement: one round through the driver a poll instead of two. Its parameters are the
    keys, used by both halves."""
    names = tuple(f"key_{index}" for index in range(size))
    keys = [bindparam(name, type_=articles.c.key.type) for name in names]
    statement = union_all(
        select(*_ENTRY_COLUMNS, articles.c.published_at, literal_column("1", Integer).label("stored")).where(
            articles.c.key.in_(keys)
        ),
        select(article_aliases.c.key, null(), null(), null(), null(), literal_column("0", Integer)).where(
            article_aliases.c.key.in_(keys)
        ),
    )
    return statement, names


class Store:
    """The project's database: feeds' poll state, articles, hits and the delivery outbox."""

    def __init__(self, engine: Engine, words: Words | None = None) -> None:
        self.engine = engine
        self.outbox = Outbox(engine)
        self.index = SearchIndex(engine.dialect.name, words)
        self.health = HealthRecords(engine)
        self._writer: ThreadPoolExecutor | None = None  # started by the first poll written apart

    @classmethod
    def open(cls, url: str, *, migrate: bool = True, words: Words | None = None) -> Store:
        """Connect, check that the database can be written, and (unless told not to) bring its schema up to
        date. Every failure is a StoreError of one line naming the cause (exit 3)."""
        try:
            engine = engine_setup.create_store_engine(url)
            engine_setup.check_writable(engine)
            if migrate:
                engine_setup.upgrade(engine)
        except StoreError:
            raise
        except (SQLAlchemyError, OSError, ImportError, ValueError) as exc:
            # The URL and the error (which may quote it) lose its password; the chain, which would print
            # the original in a traceback, is dropped.
            reason = engine_setup.describe_failure(exc)
            raise StoreError(redact(f"cannot open database {mask_url(url)}: {reason}", url)) from None
        return cls(engine, words)

    def close(self) -> None:
        """Wait for the polls being written apart, then close the connections."""
        if self._writer is not None:
            self._writer.shutdown(wait=True)
            self._writer = None
        self.engine.dispose()

    @property
    def address(self) -> str:
        """The database URL with any password hidden, for messages."""
        return self.engine.url.render_as_string(hide_password=True)

    def upgrade(self) -> list[str]:
        """Apply the schema migrations not applied yet; returns their ids."""
        return engine_setup.upgrade(self.engine)

    # feeds -------------------------------------------------------------------------------------------

    def sync_feeds(self, configured: Mapping[str, str]) -> None:
        """Make a row for every configured feed; a feed whose configured URL changed forgets its old state."""
        with self.engine.begin() as conn:
            known = {row.name: row.url for row in conn.execute(select(feeds.c.name, feeds.c.url))}
            for name, url in configured.items():
                if name not in known:
                    conn.execute(  # ignored when another daemon starting beside this one made it first
                        insert_ignore(feeds, self.engine.dialect.name)
                        .values(name=name, url=url, consecutive_failures=0, entries_seen=0, gone=False)
                        .on_conflict_do_nothing()
                    )
                elif known[name] != url:
                    conn.execute(
                        update(feeds)
                        .where(feeds.c.name == name)
                        .values(
                            url=url,
                            current_url=None,
                            etag=None,
                            last_modified=None,
                            gone=False,
                            failed_digest=None,
                        )
                    )

    def feed_state(self, name: str) -> FeedState:
        return self.poll_start(name).state

    def poll_start(self, name: str) -> PollStart:
        """The feed's state and health samples, read together (one query) before its poll."""
        start = poll_start(self.engine, name)
        if start is None:
            raise StoreError(
                f"feed {name!r} is not in the database; run `monitor poll` with a config naming it"
            )
        return start

    def poll_starts(self, names: Iterable[str]) -> dict[str, PollStart]:
        """``poll_start`` of every named feed that is stored, in one query: read once at a cycle's start."""
        return poll_starts(self.engine, names)

    def feed_states(self) -> list[FeedState]:
        with self.engine.begin() as conn:
            return [feed_state(row) for row in conn.execute(select(feeds).order_by(feeds.c.name))]

    def record_poll(self, change: FeedUpdate) -> None:
        """Apply what a poll decided (``poll_plan.plan``) to the feed's row."""
        with self.engine.begin() as conn:
            write_feed_update(conn, change)

    def save_poll(
        self,
        write: PollWrite,
        notifiers: Mapping[str, Sequence[str]],
        *,
        now: datetime,
        stories: StoryRules | None = None,
    ) -> PollSaved:
        """Everything a poll stores, in one transaction: its new articles with their stories, hits and
        deliveries (``save_articles``), its changed articles (``save_update``), the feed's page text, health
        samples and new state. A failure anywhere stores none of it."""
        with self.engine.begin() as conn:
            saved = self._save_articles(conn, write.findings, notifiers, now=now, stories=stories)
            updated = [self._save_update(conn, finding, notifiers, now=now) for finding in write.updates]
            if write.page_text is not None:
                write_page_text(conn, write.change.feed, write.page_text)
            if write.health is not None:
                health = write.health
                write_health(conn, write.change.feed, health.entry_times, health.pages, health.told_state)
            write_feed_update(conn, write.change)
        return PollSaved(saved, updated)

    async def save_poll_apart(
        self,
        write: PollWrite,
        notifiers: Mapping[str, Sequence[str]],
        *,
        now: datetime,
        stories: StoryRules | None = None,
        still_held: Callable[[], bool] | None = None,
    ) -> PollSaved | None:
        """``save_poll`` on the store's one writer thread, while the event loop goes on with other polls: the
        database driver does its work (about half of a poll's store time on SQLite) without holding the
        interpreter lock. Polls are written one at a time, in the order given, each in its one transaction.

        ``still_held``: asked on the writer thread right before the transaction; when it says no (this daemon
        lost the feed's lease while the write waited), nothing is written and None comes back. A poll cancelled
        while its write runs waits for that write to end, so that nothing is written after the poll is over."""

        def save() -> PollSaved | None:
            if still_held is not None and not still_held():
                return None
            return self.save_poll(write, notifiers, now=now, stories=stories)

        if self._writer is None:
            self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="monitor-store-writer")
        saving = asyncio.get_running_loop().run_in_executor(self._writer, save)
        try:
            return await asyncio.shield(saving)
        except asyncio.CancelledError:
            await asyncio.wait([saving])
            raise

    # articles and hits -------------------------------------------------------------------------------

    def known_entries(self, keys: Iterable[str]) -> tuple[set[str], dict[str, StoredEntry]]:
        """``unseen`` and ``stored_entries`` of the keys, read together without taking the write lock."""
        wanted = list(dict.fromkeys(keys))
        seen: set[str] = set()
        found: dict[str, StoredEntry] = {}
        if not wanted:
            return set(), found
        with engine_setup.read_only(self.engine).connect() as conn:
            conn.begin()  # one snapshot for every batch (the driver's cursor would not begin); closing rolls it back
            for start in range(0, len(wanted), SEEN_CHECK_BATCH):
                batch = wanted[start : start + SEEN_CHECK_BATCH]
                known, keys_in = driver_in_statement("known entries", conn.dialect, batch, _known)
                for key, title, summary, updated_at, published_at, stored in known.rows(conn, keys_in):
                    if stored:
                        found[key] = StoredEntry(title, summary, updated_at, published_at)
                    else:
                        seen.add(key)
        return set(wanted) - seen - found.keys(), found

    def unseen(self, keys: Iterable[str]) -> set[str]:
        """The keys (canonical URLs or guids) not stored yet, as an article's key or as one of its aliases."""
        wanted = list(dict.fromkeys(keys))
        seen: set[str] = set()
        with self.engine.begin() as conn:
            for start in range(0, len(wanted), SEEN_CHECK_BATCH):
                batch = wanted[start : start + SEEN_CHECK_BATCH]
                seen.update(conn.scalars(select(articles.c.key).where(articles.c.key.in_(batch))))
                aliases = select(article_aliases.c.key).where(article_aliases.c.key.in_(batch))
                seen.update(conn.scalars(aliases))
        return set(wanted) - seen

    def stored_entries(self, keys: Iterable[str]) -> dict[str, StoredEntry]:
        """What is stored of the entries among ``keys`` already seen, to tell whether they changed."""
        wanted = list(dict.fromkeys(keys))
        found: dict[str, StoredEntry] = {}
        columns = (articles.c.key, articles.c.title, articles.c.summary, articles.c.updated_at)
        with self.engine.begin() as conn:
            for start in range(0, len(wanted), SEEN_CHECK_BATCH):
                batch = wanted[start : start + SEEN_CHECK_BATCH]
                query = select(*columns, articles.c.published_at).where(articles.c.key.in_(batch))
                for row in conn.execute(query):
                    found[row.key] = StoredEntry(row.title, row.summary, row.updated_at, row.published_at)
        return found

    def save_update(
        self, finding: Finding, notifiers: Mapping[str, Sequence[str]], *, now: datetime
    ) -> list[int]:
        """Store a changed version of a stored article: the earlier text goes to ``article_versions``, the
        article takes the new one, and each watchlist that matches now and had no hit on it gets one (marked
        as found on an update) with its deliveries. Returns the new hit ids."""
        with self.engine.begin() as conn:
            return self._save_update(conn, finding, notifiers, now=now)

    def _save_update(
        self, conn: Connection, finding: Finding, notifiers: Mapping[str, Sequence[str]], *, now: datetime
    ) -> list[int]:
        article = finding.article
        old = conn.execute(select(articles).where(articles.c.key == article.key)).one_or_none()
        if old is None:
            return []
        if article.fetch_error and not article.text:
            article = dataclasses.replace(article, text=old.text)  # the page failed: keep the text we had
        if old.fingerprint != article.fingerprint:
            conn.execute(
                insert(article_versions).values(
                    article_id=old.id,
                    title=old.title,
                    summary=old.summary,
                    text=old.text,
                    fingerprint=old.fingerprint,
                    replaced_at=now,
                )
            )
        conn.execute(
            update(articles)
            .where(articles.c.id == old.id)
            .values(
                title=article.title,
                summary=article.summary,
                text=article.text,
                language=article.language,
                fingerprint=article.fingerprint,
                updated_at=article.updated,
            )
        )
        self.index.remove(conn, [(old.id, old.title, old.summary, old.text)])
        self.index.add(conn, [(old.id, article.title, article.summary, article.text)])
        if not finding.matches:
            return []
        rows = [{**hit_row(old.id, m, finding.alert, now), "on_update": True} for m in finding.matches]
        new_hits = insert_hits(conn, rows, notifiers, now)
        if new_hits and finding.page is not None:  # the page behind the new hits, as evidence
            conn.execute(insert(captures), [capture_row(old.id, finding.page, article)])
        return [row.id for row in new_hits]

    def article_versions(self, hit_id: int) -> list[dict[str, Any]]:
        """The earlier versions of a hit's article, oldest first: what it said before it changed."""
        query = (
            select(article_versions)
            .join(hits, hits.c.article_id == article_versions.c.article_id)
            .where(hits.c.id == hit_id)
            .order_by(article_versions.c.id)
        )
        with self.engine.begin() as conn:
            return [
                {"title": row.title, "summary": row.summary, "text": row.text, "replaced_at": row.replaced_at}
                for row in conn.execute(query)
            ]

    def save_article(
        self,
        article: Article,
        matches: Sequence[Match],
        notifiers: Mapping[str, Sequence[str]],
        *,
        alert: bool,
        now: datetime,
    ) -> list[int] | None:
        """``save_articles`` for one article: its new hit ids, or None when it was already stored."""
        saved = self.save_articles([Finding(article, tuple(matches), alert)], notifiers, now=now)
        return saved.get(article.key)

    def save_articles(
        self,
        findings: Sequence[Finding],
        notifiers: Mapping[str, Sequence[str]],
        *,
        now: datetime,
        stories: StoryRules | None = None,
    ) -> dict[str, list[int]]:
        """Store articles, their stories, their hits and the hits' pending deliveries (one per notifier of the
        watchlist) in one transaction. Returns the new hit ids by article key; an article another poll stored
        first is left out. Without ``stories`` every article is a story of its own and every hit alerts.
        """
        if not findings:
            return {}
        with self.engine.begin() as conn:
            return self._save_articles(conn, findings, notifiers, now=now, stories=stories)

    def _save_articles(
        self,
        conn: Connection,
        findings: Sequence[Finding],
        notifiers: Mapping[str, Sequence[str]],
        *,
        now: datetime,
        stories: StoryRules | None,
    ) -> dict[str, list[int]]:
        if not findings:
            return {}
        dialect = self.engine.dialect.name
        new_articles = driver_statement("insert articles", conn.dialect, lambda: _insert_articles(dialect))
        inserted = new_articles.execute_each(conn, [_article_values(f.article) for f in findings])
        # Keys come back as stored: a column type may have cleaned them (NULs on PostgreSQL).
        clean = CleanText().process_bind_param
        by_stored = {clean(f.article.key, self.engine.dialect): f.article.key for f in findings}
        article_ids = {by_stored[key]: article_id for article_id, key in inserted}
        _save_aliases(conn, findings, article_ids, dialect)
        fresh = [f for f in findings if f.article.key in article_ids]
        self.index.add_folded(conn, [_index_row(article_ids[f.article.key], f) for f in fresh])
        evidence = [
            capture_row(article_ids[f.article.key], f.page, f.article)
            for f in fresh
            if f.matches and f.page is not None
        ]
        if evidence:
            conn.execute(insert(captures), evidence)
        saved: dict[str, list[int]] = {key: [] for key in article_ids}
        retry_rows = [
            _retry_row(article_ids[f.article.key], f.retry)
            for f in findings
            if f.retry is not None and f.article.key in article_ids
        ]
        if retry_rows:
            conn.execute(insert(page_retries), retry_rows)
        keys = {article_id: key for key, article_id in article_ids.items()}
        for row in store_hits(conn, fresh, article_ids, notifiers, stories=stories, now=now):
            saved[keys[row.article_id]].append(row.id)
        return saved

    def hits(
        self,
        *,
        watchlist: str | None = None,
        since: datetime | None = None,
        limit: int | None = 100,
        ids: Sequence[int] | None = None,
    ) -> list[Hit]:
        """Stored hits, newest first."""
        query = hit_query()
        if watchlist:
            query = query.where(hits.c.watchlist == watchlist)
        if since:
            query = query.where(hits.c.found_at >= since)
        if ids is not None:
            query = query.where(hits.c.id.in_(list(ids)))
        query = query.order_by(hits.c.found_at.desc(), hits.c.id.desc())
        if limit:
            query = query.limit(limit)
        with self.engine.begin() as conn:
            return with_outlets(conn, [hit_from_row(row) for row in conn.execute(query)])

    def stories(
        self, *, watchlist: str | None = None, since: datetime | None = None, limit: int | None = 50
    ) -> list[Story]:
        """Stories newest first (by their latest article), with their articles in order of arrival."""
        with self.engine.begin() as conn:
            story_ids = latest_story_ids(conn, watchlist=watchlist, since=since, limit=limit)
            members: dict[int, list[Row[Any]]] = {}
            watchlists: dict[int, set[str]] = {}
            for start in range(0, len(story_ids), SEEN_CHECK_BATCH):
                batch = story_ids[start : start + SEEN_CHECK_BATCH]
                member_rows: Any = conn.execute(
                    select(*_STORY_COLUMNS).where(articles.c.story_id.in_(batch)).order_by(articles.c.id)
                )
                for row in member_rows:
                    members.setdefault(row.story_id, []).append(row)
                matched_rows = conn.execute(
                    select(articles.c.story_id, hits.c.watchlist)
                    .join(hits, hits.c.article_id == articles.c.id)
                    .where(articles.c.story_id.in_(batch))
                )
                for row in matched_rows:
                    watchlists.setdefault(row.story_id, set()).add(row.watchlist)
        return [
            _story(story_id, members[story_id], watchlists.get(story_id, set())) for story_id in story_ids
        ]

    def article_fields(self, hit_ids: Sequence[int]) -> dict[int, dict[str, str]]:
        """For each hit, the text fields of its article, as the matcher reads them."""
        fields: dict[int, dict[str, str]] = {}
        with self.engine.begin() as conn:
            for start in range(0, len(hit_ids), SEEN_CHECK_BATCH):
                batch = list(hit_ids[start : start + SEEN_CHECK_BATCH])
                query = (
                    select(hits.c.id, articles)
                    .join(articles, articles.c.id == hits.c.article_id)
                    .where(hits.c.id.in_(batch))
                )
                for row in conn.execute(query):
                    fields[row[0]] = {
                        "title": row.title,
                        "summary": row.summary,
                        "body": row.text,
                        "url": row.url or "",
                        "feed": row.feed,
                        "language": row.language or "",
                    }
        return fields

    def housekeeping(self) -> None:
        """Periodic upkeep: fold the WAL back into the database file and refresh the query planner's statistics.

        On the driver's connection outside any transaction: SQLite refuses a checkpoint inside one ("database
        table is locked"), and every transaction of this engine begins with BEGIN."""
        if self.engine.dialect.name != "sqlite":
            return
        connection = self.engine.raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            cursor.execute("PRAGMA optimize")
            cursor.close()
        finally:
            connection.close()

    def counts(self) -> dict[str, int]:
        with self.engine.begin() as conn:
            return {
                "articles": conn.scalar(select(func.count()).select_from(articles)) or 0,
                "hits": conn.scalar(select(func.count()).select_from(hits)) or 0,
            }


# What a story listing shows of each article (not its text).
_STORY_COLUMNS = (
    articles.c.id,
    articles.c.story_id,
    articles.c.url,
    articles.c.feed,
    articles.c.title,
    articles.c.published_at,
    articles.c.first_seen_at,
)


def _story(story_id: int, rows: Sequence[Row[Any]], watchlists: set[str]) -> Story:
    first = rows[0]
    return Story(
        id=story_id,
        title=first.title,
        first_seen=first.first_seen_at,
        watchlists=tuple(sorted(watchlists)),
        articles=tuple(
            StoryArticle(
                url=row.url,
                feed=row.feed,
                title=row.title,
                published=row.published_at,
                first_seen=row.first_seen_at,
            )
            for row in rows
        ),
    )


def _save_aliases(
    conn: Connection, findings: Sequence[Finding], article_ids: Mapping[str, int], dialect: str
) -> None:
    """Record the other keys of each article (new, or stored earlier under its canonical key), so the next poll
    knows the feed's link without fetching the page again."""
    wanted = [
        (alias, f.article.key) for f in findings for alias in f.article.aliases if alias != f.article.key
    ]
    if not wanted:
        return
    ids = dict(article_ids)
    missing = [key for _, key in wanted if key not in ids]
    if missing:
        found = conn.execute(select(articles.c.key, articles.c.id).where(articles.c.key.in_(missing)))
        ids.update({row.key: row.id for row in found})
    rows = [{"key": alias, "article_id": ids[key]} for alias, key in wanted if key in ids]
    if rows:
        conn.execute(insert_ignore(article_aliases, dialect).on_conflict_do_nothing(), rows)


_ARTICLE_COLUMNS = (
    "key",
    "feed",
    "url",
    "guid",
    "title",
    "summary",
    "text",
    "author",
    "sitename",
    "published_at",
    "first_seen_at",
    "fetch_error",
    "language",
    "fingerprint",
    "updated_at",
    "via",
    "via_error",
)


def _insert_articles(dialect: str) -> tuple[Any, tuple[str, ...]]:
    """INSERT of a new article (one whose key is stored already is left out), returning its id and key; its
    parameters are the values of _ARTICLE_COLUMNS."""
    statement = (
        insert_ignore(articles, dialect)
        .values({name: bindparam(name) for name in _ARTICLE_COLUMNS})
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(articles.c.id, articles.c.key)
    )
    return statement, _ARTICLE_COLUMNS


def _article_values(article: Article) -> tuple[Any, ...]:
    """The values of an article's new row, in _ARTICLE_COLUMNS order."""
    return (
        article.key,
        article.feed,
        article.url,
        article.guid,
        article.title,
        article.summary,
        article.text,
        article.author,
        article.sitename,
        article.published,
        article.first_seen,
        article.fetch_error,
        article.language,
        article.fingerprint,
        article.updated,
        article.via,
        article.via_error,
    )


def _index_row(article_id: int, finding: Finding) -> tuple[int, str, str, str, Mapping[str, str] | None]:
    article = finding.article
    return article_id, article.title, article.summary, article.text, finding.folded


def _retry_row(article_id: int, pending: PendingPage) -> dict[str, Any]:
    return {
        "article_id": article_id,
        "feed": pending.feed,
        "url": pending.url,
        "linked_from": pending.linked_from,
        "failures": pending.failures,
        "crashes": pending.crashes,
        "first_failed_at": pending.first_failed,
        "next_attempt_at": pending.next_attempt,
        "last_error": pending.last_error,
    }
