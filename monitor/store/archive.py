"""Reading the archive: candidate articles for a search, stored hits and their labels, captures; writing
triage labels and pruning old text. Short transactions only: a long search never holds the write lock."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Integer, delete, func, insert, select, text, update

from monitor.models import Hit, match_fields
from monitor.store.evidence import Capture, read_captures
from monitor.store.index import IndexQuery, fts5_query, tsquery
from monitor.store.queries import hit_from_row, hit_query, label_of_hit
from monitor.store.repository import Store
from monitor.store.tables import articles, captures, hit_labels, hits

BATCH = 500
FIRST_BATCH = 50
LABELS = ("relevant", "irrelevant", "unsure")


@dataclass(frozen=True, slots=True)
class StoredArticle:
    """An article as the archive gives it back for searching."""

    id: int
    feed: str
    url: str | None
    title: str
    summary: str
    text: str
    published: datetime
    language: str | None = None
    story: int | None = None  # the id of its story (the story's first article)

    def fields(self) -> dict[str, str]:
        return match_fields(self.title, self.summary, self.text, self.url, self.feed, self.language)


@dataclass(frozen=True, slots=True)
class RecheckTarget:
    """A page behind a hit, as a recheck needs it."""

    article_id: int
    url: str
    title: str
    first_fetched: datetime
    rechecks: int  # captures after the first
    last_text: str
    watchlists: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Label:
    label: str
    note: str | None
    labelled_at: datetime


@dataclass(frozen=True, slots=True)
class HitRecord:
    """A stored hit with the article it is about and its triage label."""

    hit: Hit
    article_id: int
    label: Label | None


class Archive:
    """The stored articles, hits, labels and captures of one database."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.engine = store.engine

    # searching ------------------------------------------------------------------------------------------

    def candidate_ids(
        self,
        narrowing: IndexQuery | None,
        *,
        since: datetime | None = None,
        feed: str | None = None,
        language: str | None = None,
    ) -> list[int]:
        """Ids of the articles in the period that the index cannot rule out, newest first. Without
        ``narrowing`` every article in the period is a candidate."""
        query = select(articles.c.id).where(*self._filters(since, feed, language))
        if narrowing is not None:
            query = query.where(articles.c.id.in_(self._index_ids(narrowing)))
        query = query.order_by(articles.c.published_at.desc(), articles.c.id.desc())
        with self.engine.begin() as conn:
            return list(conn.scalars(query))

    def count(self, *, since: datetime | None = None, feed: str | None = None) -> int:
        query = select(func.count()).select_from(articles).where(*self._filters(since, feed, None))
        with self.engine.begin() as conn:
            return conn.scalar(query) or 0

    def articles(self, ids: Sequence[int]) -> Iterator[StoredArticle]:
        """The articles with these ids, in the order given, read a batch at a time: small batches first, so a
        search that stops after a few results reads few articles."""
        start, size = 0, FIRST_BATCH
        while start < len(ids):
            batch = list(ids[start : start + size])
            start, size = start + size, min(size * 2, BATCH)
            with self.engine.begin() as conn:
                rows = {row.id: row for row in conn.execute(select(articles).where(articles.c.id.in_(batch)))}
            for article_id in batch:
                row = rows.get(article_id)
                if row is not None:
                    yield _stored_article(row)

    def _filters(
        self, since: datetime | None, feed: str | None, language: str | None
    ) -> list[ColumnElement[bool]]:
        filters: list[ColumnElement[bool]] = []
        if since is not None:
            filters.append(articles.c.published_at >= since)
        if feed is not None:
            filters.append(articles.c.feed == feed)
        if language is not None:
            filters.append(articles.c.language == language.strip().lower())
        return filters

    def _index_ids(self, narrowing: IndexQuery) -> Any:
        if self.engine.dialect.name == "postgresql":
            statement = text(
                "SELECT article_id AS id FROM article_index "
                "WHERE words IS NULL OR words @@ CAST(:q AS tsquery)"
            ).bindparams(q=tsquery(narrowing))
        else:
            statement = text("SELECT rowid AS id FROM article_index WHERE article_index MATCH :q").bindparams(
                q=fts5_query(narrowing)
            )
        return select(statement.columns(id=Integer).subquery().c.id)

    # hits and labels ------------------------------------------------------------------------------------

    def hit_records(self, hit_ids: Sequence[int]) -> dict[int, HitRecord]:
        """The hits with these ids, with their article ids and labels."""
        found: dict[int, HitRecord] = {}
        for start in range(0, len(hit_ids), BATCH):
            batch = list(hit_ids[start : start + BATCH])
            query = (
                hit_query()
                .add_columns(
                    hits.c.article_id, hit_labels.c.label, hit_labels.c.note, hit_labels.c.labelled_at
                )
                .outerjoin(hit_labels, label_of_hit())
                .where(hits.c.id.in_(batch))
            )
            with self.engine.begin() as conn:
                for row in conn.execute(query):
                    label = Label(row.label, row.note, row.labelled_at) if row.label else None
                    found[row.id] = HitRecord(hit_from_row(row), row.article_id, label)
        return found

    def hit_ids_labelled(self, label: str, watchlist: str | None = None) -> list[int]:
        query = select(hits.c.id).join(hit_labels, label_of_hit()).where(hit_labels.c.label == label)
        if watchlist:
            query = query.where(hits.c.watchlist == watchlist)
        with self.engine.begin() as conn:
            return list(conn.scalars(query))

    def mark(self, hit_id: int, label: str, note: str | None, now: datetime) -> HitRecord | None:
        """Label a hit (by its article and watchlist, so the label outlives a re-match); None: no such hit."""
        with self.engine.begin() as conn:
            row = conn.execute(
                select(hits.c.article_id, hits.c.watchlist).where(hits.c.id == hit_id)
            ).one_or_none()
            if row is None:
                return None
            where = (hit_labels.c.article_id == row.article_id) & (hit_labels.c.watchlist == row.watchlist)
            values = {"label": label, "note": note, "labelled_at": now}
            if conn.execute(update(hit_labels).where(where).values(**values)).rowcount == 0:
                conn.execute(
                    insert(hit_labels).values(article_id=row.article_id, watchlist=row.watchlist, **values)
                )
        return self.hit_records([hit_id]).get(hit_id)

    def stored_hits(self, watchlist: str, *, since: datetime | None = None) -> dict[int, str | None]:
        """Article id -> label of every stored hit of ``watchlist`` on an article published since ``since``."""
        query = (
            select(hits.c.article_id, hit_labels.c.label)
            .join(articles, articles.c.id == hits.c.article_id)
            .outerjoin(hit_labels, label_of_hit())
            .where(hits.c.watchlist == watchlist)
        )
        if since is not None:
            query = query.where(articles.c.published_at >= since)
        with self.engine.begin() as conn:
            return {row.article_id: row.label for row in conn.execute(query)}

    def labels(self, watchlist: str) -> dict[int, str]:
        """Article id -> label, for every labelled hit of ``watchlist``."""
        query = select(hit_labels.c.article_id, hit_labels.c.label).where(hit_labels.c.watchlist == watchlist)
        with self.engine.begin() as conn:
            return {row.article_id: row.label for row in conn.execute(query)}

    # evidence -------------------------------------------------------------------------------------------

    def captures(self, article_id: int) -> list[Capture]:
        with self.engine.begin() as conn:
            return read_captures(conn, article_id)

    def article(self, article_id: int) -> StoredArticle | None:
        return next(self.articles([article_id]), None)

    # rechecks -------------------------------------------------------------------------------------------

    def recheck_targets(self, since: datetime) -> list[RecheckTarget]:
        """The pages behind hits first captured since ``since``, with their rechecks so far and last text."""
        first = (
            select(
                captures.c.article_id,
                func.min(captures.c.fetched_at).label("first"),
                func.count().label("captured"),
                func.max(captures.c.id).label("last_id"),
            )
            .where(captures.c.article_id.in_(select(hits.c.article_id)))
            .group_by(captures.c.article_id)
            .subquery()
        )
        text_of = (
            select(captures.c.text)
            .where(
                (captures.c.article_id == first.c.article_id)
                & captures.c.text.is_not(None)
                & captures.c.kind.in_(("page", "changed"))
            )
            .order_by(captures.c.id.desc())
            .limit(1)
            .scalar_subquery()
        )
        query = (
            select(first, articles.c.url, articles.c.title, text_of.label("text"))
            .join(articles, articles.c.id == first.c.article_id)
            .where(first.c.first >= since)
        )
        with self.engine.begin() as conn:
            rows = conn.execute(query).all()
            watchlists: dict[int, list[str]] = {}
            ids = [row.article_id for row in rows]
            for start in range(0, len(ids), BATCH):
                found = conn.execute(
                    select(hits.c.article_id, hits.c.watchlist).where(
                        hits.c.article_id.in_(ids[start : start + BATCH])
                    )
                )
                for hit in found:
                    watchlists.setdefault(hit.article_id, []).append(hit.watchlist)
        return [
            RecheckTarget(
                article_id=row.article_id,
                url=row.url,
                title=row.title,
                first_fetched=row.first,
                rechecks=row.captured - 1,
                last_text=row.text or "",
                watchlists=tuple(sorted(watchlists.get(row.article_id, []))),
            )
            for row in rows
            if row.url
        ]

    def add_recheck(self, row: dict[str, Any]) -> None:
        with self.engine.begin() as conn:
            conn.execute(insert(captures).values(**row))

    # retention ------------------------------------------------------------------------------------------

    def prunable(self, before: datetime) -> list[int]:
        """Articles first seen before ``before``, without hits, that still hold text or raw bodies."""
        with_hits = select(hits.c.article_id)
        with_bodies = select(captures.c.article_id).where(captures.c.body.is_not(None))
        query = (
            select(articles.c.id)
            .where(articles.c.first_seen_at < before)
            .where(articles.c.id.not_in(with_hits))
            .where((articles.c.text != "") | articles.c.id.in_(with_bodies))
            .order_by(articles.c.id)
        )
        with self.engine.begin() as conn:
            return list(conn.scalars(query))

    def prune(self, ids: Sequence[int]) -> int:
        """Drop the text (and its index entry) and the raw bodies of these articles; titles and summaries stay
        searchable. Returns the articles pruned."""
        index = self.store.index
        pruned = 0
        for start in range(0, len(ids), BATCH):
            batch = list(ids[start : start + BATCH])
            with self.engine.begin() as conn:
                rows = conn.execute(
                    select(articles.c.id, articles.c.title, articles.c.summary, articles.c.text).where(
                        articles.c.id.in_(batch) & articles.c.id.not_in(select(hits.c.article_id))
                    )
                ).all()
                kept = [row.id for row in rows]
                index.remove(conn, [(row.id, row.title, row.summary, row.text) for row in rows])
                index.add(conn, [(row.id, row.title, row.summary, "") for row in rows])
                conn.execute(update(articles).where(articles.c.id.in_(kept)).values(text=""))
                conn.execute(delete(captures).where(captures.c.article_id.in_(kept)))
                pruned += len(kept)
        return pruned


def _stored_article(row: Any) -> StoredArticle:
    mapping = row._mapping
    return StoredArticle(
        id=row.id,
        feed=row.feed,
        url=row.url,
        title=row.title,
        summary=row.summary,
        text=row.text,
        published=row.published_at,
        language=row.language,
        story=mapping.get("story_id"),
    )
