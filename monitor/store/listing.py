"""Stored hits a page at a time: the review query (``monitor.store.review``: the filters of the inbox and of
`monitor hits`) with an offset, for the JSON API. Newest first, walking ix_hits_found."""

from __future__ import annotations

from sqlalchemy import Engine

from monitor.store.archive import HitRecord, Label
from monitor.store.queries import hit_from_row, hit_query, with_outlets
from monitor.store.review import HitFilter, _conditions, _label_of_hit
from monitor.store.tables import hit_labels, hits


class HitListing:
    """Reads hits by filter from one database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def page(self, wanted: HitFilter, *, limit: int, offset: int = 0) -> list[HitRecord]:
        """Up to ``limit`` hits ``wanted`` selects after the first ``offset``, newest first, with their labels
        and their stories' other outlets (``wanted.limit`` is not used)."""
        query = (
            hit_query()
            .add_columns(hit_labels.c.label, hit_labels.c.note, hit_labels.c.labelled_at)
            .outerjoin(hit_labels, _label_of_hit())
            .where(*_conditions(wanted))
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
