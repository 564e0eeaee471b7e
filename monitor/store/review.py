"""Reading hits for review: the filtered hit list with labels (the desk's inbox, `monitor hits`), the hits and
earlier versions of one article, and the hits found per watchlist and day. Which hits: ``hit_filter.HitFilter``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, func, select

from monitor.store.archive import HitRecord
from monitor.store.hit_filter import (
    UNLABELLED,
    HitFilter,
    hit_conditions,
    labelled_hit_query,
    labelled_records,
)
from monitor.store.queries import label_of_hit
from monitor.store.repository import Store
from monitor.store.tables import article_versions, articles, hit_labels, hits

__all__ = ["UNLABELLED", "HitFilter", "Review", "Version"]


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
        query = labelled_hit_query()
        with self.engine.begin() as conn:
            if wanted.limit:
                query = query.where(hits.c.id.in_(self._newest_ids(conn, wanted, wanted.limit)))
            else:
                query = query.where(*hit_conditions(wanted))
            return labelled_records(conn, conn.execute(query).all())

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
                .outerjoin(hit_labels, label_of_hit())
                .where(hits.c.watchlist == name, *hit_conditions(wanted))
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
