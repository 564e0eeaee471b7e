"""The queries the repository and the outbox share: a hit with its article, read back as a ``Hit``."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Row, select

from monitor.models import Hit, Snippet
from monitor.store.tables import articles, hits


def hit_query() -> Any:
    return select(
        hits.c.id,
        hits.c.watchlist,
        hits.c.matched,
        hits.c.snippets,
        hits.c.found_at,
        articles.c.feed,
        articles.c.url,
        articles.c.title,
        articles.c.published_at,
        articles.c.sitename,
        hits.c.article_id,
        articles.c.language,
        hits.c.found_as,
        hits.c.on_update,
    ).join(articles, articles.c.id == hits.c.article_id)


def hit_from_row(row: Row[Any]) -> Hit:
    return Hit(
        id=row.id,
        watchlist=row.watchlist,
        feed=row.feed,
        url=row.url,
        title=row.title,
        published=row.published_at,
        found_at=row.found_at,
        matched=tuple(json.loads(row.matched)),
        snippets=tuple(Snippet.from_dict(s) for s in json.loads(row.snippets)),
        sitename=row.sitename,
        article_id=row.article_id,
        language=row.language,
        found_as=tuple(json.loads(row.found_as or "[]")),
        on_update=bool(row.on_update),
    )
