"""Reading hits for review: the filtered hit list with labels (the desk's inbox, `monitor hits`), the hits and
earlier versions of one article, and the hits found per watchlist and day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, func, select

from monitor.store.archive import HitRecord, Label
from monitor.store.queries import hit_from_row, hit_query, with_outlets
from monitor.store.repository import Store
from monitor.store.tables import article_versions, articles, hit_labels, hits

UNLABELLED = "new"  # the label filter that keeps the hits nobody has triaged yet


@dataclass(frozen=True, slots=True)
class HitFilter:
    """Which hits to list. ``label``: a triage label, ``"new"`` for unlabelled hits, None for all."""

    watchlist: str | None = None
    label: str | None = None
    feed: str | None = None
    language: str | None = None
    since: datetime | None = None
    article_id: int | None = None
    limit: int | None = 100


@dataclass(frozen=True, slots=True)
class Version:
    """What an article said before it changed."""

    title: str
    summary: str
    text: str
    replaced_at: datetime


class Review:
    """The hits of one database as reviewers read them."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.engine = store.engine

    def hits(self, wanted: HitFilter) -> list[HitRecord]:
        """The hits ``wanted`` selects, newest first, with their labels and their stories' other outlets."""
        query = (
            hit_query()
            .add_columns(hit_labels.c.label, hit_labels.c.note, hit_labels.c.labelled_at)
            .outerjoin(hit_labels, _label_of_hit())
            .order_by(hits.c.found_at.desc(), hits.c.id.desc())
        )
        with self.engine.begin() as conn:
            if wanted.limit:
                query = query.where(hits.c.id.in_(self._newest_ids(conn, wanted, wanted.limit)))
            else:
                query = query.where(*_conditions(wanted))
            rows = conn.execute(query).all()
            found = with_outlets(conn, [hit_from_row(row) for row in rows])
        return [
            HitRecord(hit, row.article_id, Label(row.label, row.note, row.labelled_at) if row.label else None)
            for hit, row in zip(found, rows, strict=True)
        ]

    def _newest_ids(self, conn: Connection, wanted: HitFilter, limit: int) -> list[int]:
        """The ids of the newest ``limit`` hits ``wanted`` selects, one watchlist at a time: each walks the
        (watchlist, found_at) index from its newest hit and stops at ``limit``, where one query over every
        watchlist would sort all the hits first."""
        if wanted.watchlist is not None:
            names = [wanted.watchlist]
        else:
            names = list(conn.scalars(select(hits.c.watchlist).distinct()))
        newest: list[tuple[datetime, int]] = []
        for name in names:
            query = (
                select(hits.c.found_at, hits.c.id)
                .outerjoin(hit_labels, _label_of_hit())
                .where(hits.c.watchlist == name, *_conditions(wanted))
                .order_by(hits.c.watchlist.desc(), hits.c.found_at.desc(), hits.c.id.desc())
                .limit(limit)
            )
            if wanted.feed is not None or wanted.language is not None:
                query = query.join(articles, articles.c.id == hits.c.article_id)
            newest += [(row.found_at, row.id) for row in conn.execute(query)]
        newest.sort(reverse=True)
        return [hit_id for _, hit_id in newest[:limit]]

    def versions(self, article_id: int) -> list[Version]:
        """The earlier versions of an article, oldest first."""
        query = (
            select(article_versions)
            .where(article_versions.c.article_id == article_id)
            .order_by(article_versions.c.id)
        )
        with self.engine.begin() as conn:
            return [Version(row.title, row.summary, row.text, row.replaced_at) for row in conn.execute(query)]

    def hits_per_day(self, since: datetime) -> list[tuple[str, date, int]]:
        """(watchlist, UTC day, hits found) for every day since ``since`` that has hits."""
        day = func.date(hits.c.found_at)  # found_at is naive UTC in every database
        query = (
            select(hits.c.watchlist, day.label("day"), func.count().label("count"))
            .where(hits.c.found_at >= since)
            .group_by(hits.c.watchlist, day)
        )
        with self.engine.begin() as conn:
            return [
                (row.watchlist, date.fromisoformat(str(row.day)[:10]), int(row[2]))
                for row in conn.execute(query)
            ]


def _conditions(wanted: HitFilter) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if wanted.watchlist is not None:
        found.append(hits.c.watchlist == wanted.watchlist)
    if wanted.label == UNLABELLED:
        found.append(hit_labels.c.label.is_(None))
    elif wanted.label is not None:
        found.append(hit_labels.c.label == wanted.label)
    if wanted.feed is not None:
        found.append(articles.c.feed == wanted.feed)
    if wanted.language is not None:
        found.append(articles.c.language == wanted.language)
    if wanted.since is not None:
        found.append(hits.c.found_at >= wanted.since)
    if wanted.article_id is not None:
        found.append(hits.c.article_id == wanted.article_id)
    return found


def _label_of_hit() -> Any:
    return (hit_labels.c.article_id == hits.c.article_id) & (hit_labels.c.watchlist == hits.c.watchlist)
