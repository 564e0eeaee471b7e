"""The functions the pipeline and the CLI call to read and write the database. Short transactions only."""

from __future__ import annotations

import dataclasses
import json
import struct
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, Row, bindparam, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError

from monitor.errors import StoreError
from monitor.models import (
    Article,
    Candidate,
    FeedState,
    FeedUpdate,
    Finding,
    Fingerprint,
    Hit,
    Match,
    PendingPage,
    Placement,
    StoredEntry,
    Story,
    StoryAlert,
    StoryArticle,
)
from monitor.redact import mask_url, redact
from monitor.store import engine as engine_setup
from monitor.store.evidence import capture_row
from monitor.store.health import HealthRecords
from monitor.store.index import SearchIndex, Words, default_words
from monitor.store.outbox import Outbox
from monitor.store.queries import hit_from_row, hit_query, with_outlets
from monitor.store.tables import (
    CleanText,
    article_aliases,
    article_versions,
    articles,
    captures,
    daemon,
    deliveries,
    feeds,
    hits,
    page_retries,
)

SEEN_CHECK_BATCH = 500


class Store:
    """The project's database: feeds' poll state, articles, hits and the delivery outbox."""

    def __init__(self, engine: Engine, words: Words | None = None) -> None:
        self.engine = engine
        self.outbox = Outbox(engine)
        self.daemon = DaemonRecord(engine)
        self.index = SearchIndex(engine.dialect.name, words or default_words())
        self.health = HealthRecords(engine)

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
                        _insert_ignore(feeds, self.engine.dialect.name)
                        .values(name=name, url=url, consecutive_failures=0, entries_seen=0, gone=False)
                        .on_conflict_do_nothing()
                    )
                elif known[name] != url:
                    conn.execute(
                        update(feeds)
                        .where(feeds.c.name == name)
                        .values(url=url, current_url=None, etag=None, last_modified=None, gone=False)
                    )

    def feed_state(self, name: str) -> FeedState:
        with self.engine.begin() as conn:
            row = conn.execute(select(feeds).where(feeds.c.name == name)).one_or_none()
        if row is None:
            raise StoreError(
                f"feed {name!r} is not in the database; run `monitor poll` with a config naming it"
            )
        return _feed_state(row)

    def feed_states(self) -> list[FeedState]:
        with self.engine.begin() as conn:
            return [_feed_state(row) for row in conn.execute(select(feeds).order_by(feeds.c.name))]

    def record_poll(self, change: FeedUpdate) -> None:
        """Apply what a poll decided (``poll_plan.plan``) to the feed's row."""
        values: dict[str, Any] = {
            "last_polled_at": change.polled_at,
            "last_status": change.status,
            "last_error": change.error,
            "consecutive_failures": change.consecutive_failures,
            "next_poll_at": change.next_poll,
            "gone": change.gone,
        }
        if change.entries_seen is not None:
            values["entries_seen"] = change.entries_seen
        if change.validators is not None:
            values["etag"], values["last_modified"] = change.validators
        if change.moved_to is not None:
            values["current_url"] = change.moved_to
        with self.engine.begin() as conn:
            conn.execute(update(feeds).where(feeds.c.name == change.feed).values(**values))

    # articles and hits -------------------------------------------------------------------------------

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
        article = finding.article
        with self.engine.begin() as conn:
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
            rows = [{**_hit_row(old.id, m, finding.alert, now), "on_update": True} for m in finding.matches]
            new_hits = conn.execute(
                _insert_ignore(hits, self.engine.dialect.name)
                .on_conflict_do_nothing(index_elements=["article_id", "watchlist"])
                .returning(hits.c.id, hits.c.watchlist, hits.c.alerted),
                rows,
            ).all()
            if new_hits and finding.page is not None:  # the page behind the new hits, as evidence
                conn.execute(insert(captures), [capture_row(old.id, finding.page, article)])
            delivery_rows = [
                _delivery_row(row.id, notifier, now)
                for row in new_hits
                if row.alerted
                for notifier in notifiers.get(row.watchlist, ())
            ]
            if delivery_rows:
                conn.execute(insert(deliveries), delivery_rows)
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
        dialect = self.engine.dialect.name
        with self.engine.begin() as conn:
            new_articles = conn.execute(
                _insert_ignore(articles, dialect)
                .on_conflict_do_nothing(index_elements=["key"])
                .returning(articles.c.id, articles.c.key),
                [_article_row(f.article) for f in findings],
            )
            # Keys come back as stored: a column type may have cleaned them (NULs on PostgreSQL).
            clean = CleanText().process_bind_param
            by_stored = {clean(f.article.key, self.engine.dialect): f.article.key for f in findings}
            article_ids = {by_stored[row.key]: row.id for row in new_articles}
            _save_aliases(conn, findings, article_ids, dialect)
            fresh = [f for f in findings if f.article.key in article_ids]
            self.index.add(conn, [_index_row(article_ids[f.article.key], f.article) for f in fresh])
            evidence = [
                capture_row(article_ids[f.article.key], f.page, f.article)
                for f in fresh
                if f.matches and f.page is not None
            ]
            if evidence:
                conn.execute(insert(captures), evidence)
            story_ids = _place_in_stories(conn, fresh, article_ids, stories)
            hit_rows = _story_hit_rows(conn, fresh, article_ids, story_ids, stories, now)
            saved: dict[str, list[int]] = {key: [] for key in article_ids}
            retry_rows = [
                _retry_row(article_ids[f.article.key], f.retry)
                for f in findings
                if f.retry is not None and f.article.key in article_ids
            ]
            if retry_rows:
                conn.execute(insert(page_retries), retry_rows)
            if not hit_rows:
                return saved
            new_hits = conn.execute(
                insert(hits).returning(hits.c.id, hits.c.article_id, hits.c.watchlist, hits.c.alerted),
                hit_rows,
            ).all()
            keys = {article_id: key for key, article_id in article_ids.items()}
            for row in new_hits:
                saved[keys[row.article_id]].append(row.id)
            delivery_rows = [
                _delivery_row(row.id, notifier, now)
                for row in new_hits
                if row.alerted
                for notifier in notifiers.get(row.watchlist, ())
            ]
            if delivery_rows:
                conn.execute(insert(deliveries), delivery_rows)
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
        last_seen = func.max(articles.c.first_seen_at)
        query = (
            select(articles.c.story_id).where(articles.c.story_id.is_not(None)).group_by(articles.c.story_id)
        )
        if watchlist:
            matched = (
                select(articles.c.story_id)
                .join(hits, hits.c.article_id == articles.c.id)
                .where(hits.c.watchlist == watchlist)
            )
            query = query.where(articles.c.story_id.in_(matched))
        if since:
            query = query.having(last_seen >= since)
        query = query.order_by(last_seen.desc(), articles.c.story_id.desc())
        if limit:
            query = query.limit(limit)
        with self.engine.begin() as conn:
            story_ids = list(conn.scalars(query))
            members: dict[int, list[Row[Any]]] = {}
            watchlists: dict[int, set[str]] = {}
            for start in range(0, len(story_ids), SEEN_CHECK_BATCH):
                batch = story_ids[start : start + SEEN_CHECK_BATCH]
                rows = conn.execute(
                    select(articles).where(articles.c.story_id.in_(batch)).order_by(articles.c.id)
                )
                for row in rows:
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
        """Periodic upkeep: fold the WAL back into the database file and refresh the query planner's statistics."""
        if self.engine.dialect.name != "sqlite":
            return
        with self.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.exec_driver_sql("PRAGMA optimize")

    def counts(self) -> dict[str, int]:
        with self.engine.begin() as conn:
            return {
                "articles": conn.scalar(select(func.count()).select_from(articles)) or 0,
                "hits": conn.scalar(select(func.count()).select_from(hits)) or 0,
            }


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


class StoryRules(Protocol):
    """The pure decisions the store applies while saving (monitor.stories implements them)."""

    def place(self, new: Fingerprint | None, candidates: Sequence[Candidate]) -> Placement: ...

    def story_alert(
        self, watchlist: str, matched: Sequence[str], earlier: Mapping[str, frozenset[str]]
    ) -> StoryAlert: ...


MAX_CANDIDATES = 200  # band rows read per new article: a band common to many (boilerplate) cannot flood it


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
        conn.execute(_insert_ignore(article_aliases, dialect).on_conflict_do_nothing(), rows)


def _place_in_stories(
    conn: Connection, fresh: Sequence[Finding], article_ids: Mapping[str, int], stories: StoryRules | None
) -> dict[str, int]:
    """Each new article's story id. The stored articles sharing a band with any of the batch are read in one
    go; the articles are then placed one at a time, in order, so copies within the batch find each other.
    Fingerprints, bands and story ids are written with one statement each."""
    fingerprinted = [f for f in fresh if f.fingerprint is not None]
    bands = [band for f in fingerprinted if f.fingerprint for band in f.fingerprint.bands]
    by_band, candidates = _stored_candidates(conn, bands)
    story_ids: dict[str, int] = {}
    updates: list[dict[str, Any]] = []
    band_rows: list[dict[str, Any]] = []
    for finding in fresh:
        article_id = article_ids[finding.article.key]
        fingerprint = finding.fingerprint
        story = article_id
        row: dict[str, Any] = {"b_id": article_id, "b_signature": None, "b_shingles": None}
        if fingerprint is not None:
            if stories is not None:
                sharing = {i for band in fingerprint.bands for i in by_band.get(band, ())}
                newest = sorted(sharing, reverse=True)[:MAX_CANDIDATES]
                placement = stories.place(fingerprint, [candidates[i] for i in newest])
                story = placement.story if placement.story is not None else article_id
            candidates[article_id] = Candidate(story, article_id, fingerprint.signature, fingerprint.shingles)
            for band in fingerprint.bands:
                by_band.setdefault(band, []).append(article_id)
                band_rows.append({"band": band, "article_id": article_id})
            row |= {"b_signature": _pack(fingerprint.signature), "b_shingles": fingerprint.shingles}
        updates.append(row | {"b_story": story})
        story_ids[finding.article.key] = story
    if band_rows:
        # Through the driver: 40 rows an article, where SQLAlchemy's per-row parameter handling would cost
        # more than the insert itself.
        mark = _placeholder(conn)
        conn.exec_driver_sql(
            f"INSERT INTO story_bands (band, article_id) VALUES ({mark}, {mark})",
            [(row["band"], row["article_id"]) for row in band_rows],
        )
    if updates:
        conn.execute(
            update(articles)
            .where(articles.c.id == bindparam("b_id"))
            .values(
                story_id=bindparam("b_story"),
                signature=bindparam("b_signature"),
                shingles=bindparam("b_shingles"),
            ),
            updates,
        )
    return story_ids


def _stored_candidates(
    conn: Connection, bands: Sequence[int]
) -> tuple[dict[int, list[int]], dict[int, Candidate]]:
    """The stored articles sharing any of ``bands``: article ids by band, and each article as a Candidate."""
    by_band: dict[int, list[int]] = {}
    wanted = list(set(bands))
    mark = _placeholder(conn)
    for start in range(0, len(wanted), SEEN_CHECK_BATCH):
        batch = tuple(wanted[start : start + SEEN_CHECK_BATCH])
        sql = f"SELECT band, article_id FROM story_bands WHERE band IN ({', '.join([mark] * len(batch))})"
        for band, article_id in conn.exec_driver_sql(sql, batch):
            by_band.setdefault(band, []).append(article_id)
    ids = list({i for members in by_band.values() for i in members})
    candidates: dict[int, Candidate] = {}
    for start in range(0, len(ids), SEEN_CHECK_BATCH):
        query = select(articles.c.id, articles.c.story_id, articles.c.signature, articles.c.shingles).where(
            articles.c.id.in_(ids[start : start + SEEN_CHECK_BATCH]), articles.c.signature.is_not(None)
        )
        for row in conn.execute(query):
            candidates[row.id] = Candidate(row.story_id, row.id, _unpack(row.signature), row.shingles)
    by_band = {band: [i for i in members if i in candidates] for band, members in by_band.items()}
    return by_band, candidates


def _story_hit_rows(
    conn: Connection,
    fresh: Sequence[Finding],
    article_ids: Mapping[str, int],
    story_ids: Mapping[str, int],
    stories: StoryRules | None,
    now: datetime,
) -> list[dict[str, Any]]:
    """The hit rows of the new articles: a copy of a story alerts only when it adds something (story_alert)."""
    earlier = _earlier_matches(conn, {story_ids[f.article.key] for f in fresh})
    rows = []
    for finding in fresh:
        story = story_ids[finding.article.key]
        seen = {name: frozenset(terms) for name, terms in earlier.get(story, {}).items()}
        for match in finding.matches:
            verdict = (
                stories.story_alert(match.watchlist, match.matched, seen)
                if stories is not None
                else StoryAlert(alert=True)
            )
            row = _hit_row(article_ids[finding.article.key], match, finding.alert and verdict.alert, now)
            if verdict.is_update:
                row["story_update"] = json.dumps(
                    {"new_terms": list(verdict.new_terms), "new_watchlist": verdict.new_watchlist}
                )
            rows.append(row)
        for match in finding.matches:
            earlier.setdefault(story, {}).setdefault(match.watchlist, set()).update(match.matched)
    return rows


def _earlier_matches(conn: Connection, story_ids: set[int]) -> dict[int, dict[str, set[str]]]:
    """For each story, the terms each watchlist matched in its stored articles."""
    found: dict[int, dict[str, set[str]]] = {}
    wanted = list(story_ids)
    for start in range(0, len(wanted), SEEN_CHECK_BATCH):
        query = (
            select(articles.c.story_id, hits.c.watchlist, hits.c.matched)
            .join(hits, hits.c.article_id == articles.c.id)
            .where(articles.c.story_id.in_(wanted[start : start + SEEN_CHECK_BATCH]))
        )
        for row in conn.execute(query):
            found.setdefault(row.story_id, {}).setdefault(row.watchlist, set()).update(
                json.loads(row.matched)
            )
    return found


def _placeholder(conn: Connection) -> str:
    """The driver's parameter marker: ? for sqlite3, %s for psycopg."""
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"


def _pack(signature: Sequence[int]) -> bytes:
    return struct.pack(f"<{len(signature)}I", *signature)


def _unpack(data: bytes) -> tuple[int, ...]:
    return struct.unpack(f"<{len(data) // 4}I", data)


def _insert_ignore(table: Any, dialect: str) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING, which SQLite and PostgreSQL both speak; RETURNING gives only new rows."""
    return postgresql_insert(table) if dialect == "postgresql" else sqlite_insert(table)


def _article_row(article: Article) -> dict[str, Any]:
    return {
        "key": article.key,
        "feed": article.feed,
        "url": article.url,
        "guid": article.guid,
        "title": article.title,
        "summary": article.summary,
        "text": article.text,
        "author": article.author,
        "sitename": article.sitename,
        "published_at": article.published,
        "first_seen_at": article.first_seen,
        "fetch_error": article.fetch_error,
        "language": article.language,
        "fingerprint": article.fingerprint,
        "updated_at": article.updated,
        "via": article.via,
        "via_error": article.via_error,
    }


def _index_row(article_id: int, article: Article) -> tuple[int, str, str, str]:
    return article_id, article.title, article.summary, article.text


def _hit_row(article_id: int, match: Match, alert: bool, now: datetime) -> dict[str, Any]:
    return {
        "article_id": article_id,
        "watchlist": match.watchlist,
        "matched": json.dumps(list(match.matched)),
        "fields": json.dumps(list(match.fields)),
        "snippets": json.dumps([s.to_dict() for s in match.snippets]),
        "found_at": now,
        "alerted": alert,
        "found_as": json.dumps(list(match.found_as)),
    }


def _delivery_row(hit_id: int, notifier: str, now: datetime) -> dict[str, Any]:
    return {
        "hit_id": hit_id,
        "notifier": notifier,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "sent_targets": "[]",
        "created_at": now,
    }


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


def _feed_state(row: Row[Any]) -> FeedState:
    return FeedState(
        name=row.name,
        url=row.url,
        current_url=row.current_url,
        etag=row.etag,
        last_modified=row.last_modified,
        last_polled=row.last_polled_at,
        last_status=row.last_status,
        last_error=row.last_error,
        consecutive_failures=row.consecutive_failures,
        entries_seen=row.entries_seen,
        next_poll=row.next_poll_at,
        gone=row.gone,
    )


class DaemonRecord:
    """Which daemon (if any) said it runs on this database, read from the ``daemon`` table."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def read(self) -> Row[Any] | None:
        with self.engine.begin() as conn:
            return conn.execute(select(daemon).where(daemon.c.id == 1)).one_or_none()

    def claim(self, pid: int, hostname: str, now: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(daemon.delete().where(daemon.c.id == 1))
            conn.execute(
                insert(daemon).values(id=1, pid=pid, hostname=hostname, started_at=now, heartbeat_at=now)
            )

    def heartbeat(self, pid: int, now: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(daemon).where(daemon.c.pid == pid).values(heartbeat_at=now))

    def release(self, pid: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(daemon.delete().where(daemon.c.pid == pid))
