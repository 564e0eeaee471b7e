"""Which stored hits a reader asks for (``HitFilter``: the filters of the desk's inbox, of `monitor hits` and of
the JSON API), and the labelled hit query the review and the paged listing both run."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row

from monitor.store.archive import HitRecord, Label
from monitor.store.queries import hit_from_row, hit_query, label_of_hit, with_outlets
from monitor.store.tables import articles, hit_labels, hits

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


def hit_conditions(wanted: HitFilter) -> list[ColumnElement[bool]]:
    """The WHERE conditions of ``wanted`` (``limit`` aside), over hits, their labels and their articles."""
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


def labelled_hit_query() -> Any:
    """Every hit with its article and its label (if any), newest first: ``labelled_records`` reads its rows."""
    return (
        hit_query()
        .add_columns(hit_labels.c.label, hit_labels.c.note, hit_labels.c.labelled_at)
        .outerjoin(hit_labels, label_of_hit())
        .order_by(hits.c.found_at.desc(), hits.c.id.desc())
    )


def labelled_records(conn: Connection, rows: Sequence[Row[Any]]) -> list[HitRecord]:
    """The rows of ``labelled_hit_query`` as records, with their stories' other outlets."""
    found = with_outlets(conn, [hit_from_row(row) for row in rows])
    return [
        HitRecord(hit, row.article_id, Label(row.label, row.note, row.labelled_at) if row.label else None)
        for hit, row in zip(found, rows, strict=True)
    ]
