"""Stored hits a page at a time: the labelled hit query (``monitor.store.hit_filter``: the filters of the inbox
and of `monitor hits`) with an offset, for the JSON API. Newest first, walking ix_hits_found."""

from __future__ import annotations

from sqlalchemy import Engine

from monitor.store.archive import HitRecord
from monitor.store.hit_filter import HitFilter, hit_conditions, labelled_hit_query, labelled_records


class HitListing:
    """Reads hits by filter from one database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def page(self, wanted: HitFilter, *, limit: int, offset: int = 0) -> list[HitRecord]:
        """Up to ``limit`` hits ``wanted`` selects after the first ``offset``, newest first, with their labels
        and their stories' other outlets (``wanted.limit`` is not used)."""
        query = labelled_hit_query().where(*hit_conditions(wanted)).limit(limit).offset(offset)
        with self.engine.begin() as conn:
            return labelled_records(conn, conn.execute(query).all())
