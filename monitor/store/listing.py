"""Stored hits by filter, a page at a time, with their labels: what the web desk lists. Newest first, as
``monitor hits`` lists them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Engine

from monitor.store.archive import HitRecord, Label
from monitor.store.queries import hit_from_row, hit_query, with_outlets
from monitor.store.tables import articles, hit_labels, hits

UNLABELLED = "none"  # the label filter's value for hits nobody has triaged yet


@dataclass(frozen=True, slots=True)
class HitFilter:
    """Which hits to list; None means any. ``label`` is a triage label or ``UNLABELLED``."""

    watchlist: str | None = None
    label: str | None = None
    feed: str | None = None
    language: str | None = None
    since: datetime | None = None


class HitListing:
    """Reads hits by filter from one database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def page(self, wanted: HitFilter, *, limit: int, offset: int = 0) -> list[HitRecord]:
        """Up to ``limit`` hits after the first ``offset``, newest first, with outlets and labels."""
        query = (
            _filtered(
                hit_query().add_columns(hit_labels.c.label, hit_labels.c.note, hit_labels.c.labelled_at),
                wanted,
            )
            .order_by(hits.c.found_at.desc(), hits.c.id.desc())
            .limit(limit)
            .offset(offset)
        )
        with self.engine.begin() as conn:
            rows = conn.execute(query).all()
            found = with_outlets(conn, [hit_from_row(row) for row in rows])
        return [
            HitRecord(hit, row.article_id, Label(row.label, row.note, row.labelled_at) if row.label else None)
            for hit, row in zip(found, rows, strict=True)
        ]


def _label_of_hit() -> ColumnElement[bool]:
    return (hit_labels.c.article_id == hits.c.article_id) & (hit_labels.c.watchlist == hits.c.watchlist)


def _filtered(query: Any, wanted: HitFilter) -> Any:
    query = query.outerjoin(hit_labels, _label_of_hit())
    if wanted.watchlist is not None:
        query = query.where(hits.c.watchlist == wanted.watchlist)
    if wanted.label == UNLABELLED:
        query = query.where(hit_labels.c.label.is_(None))
    elif wanted.label is not None:
        query = query.where(hit_labels.c.label == wanted.label)
    if wanted.feed is not None:
        query = query.where(articles.c.feed == wanted.feed)
    if wanted.language is not None:
        query = query.where(articles.c.language == wanted.language)
    if wanted.since is not None:
        query = query.where(hits.c.found_at >= wanted.since)
    return query
