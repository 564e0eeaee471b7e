"""The queries the repository, the outbox, the archive and the review share: a hit with its article, read back
as a ``Hit``, the other outlets of its story, and the join of a hit to its triage label."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, select

from monitor.models import Hit, Snippet
from monitor.store.tables import articles, hit_labels, hits

STORY_BATCH = 500  # story ids per IN (...) query
STORY_WALK = 500  # article rows read at a time while collecting the newest stories


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
        articles.c.story_id,
        articles.c.via,
        hits.c.story_update,
    ).join(articles, articles.c.id == hits.c.article_id)


def label_of_hit() -> ColumnElement[bool]:
    """Joins a hit to its label: a label is kept per article and watchlist."""
    return (hit_labels.c.article_id == hits.c.article_id) & (hit_labels.c.watchlist == hits.c.watchlist)


def hit_from_row(row: Row[Any]) -> Hit:
    update_of_story = json.loads(row.story_update) if row.story_update else {}
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
        story=row.story_id if row.story_id is not None else row.article_id,
        new_terms=tuple(update_of_story.get("new_terms", ())),
        new_watchlist=bool(update_of_story.get("new_watchlist", False)),
        via=row.via,
    )


def with_outlets(conn: Connection, found: Sequence[Hit]) -> list[Hit]:
    """The hits with the other outlets (site name, else feed) their stories are in, in order of arrival."""
    story_ids = list({hit.story for hit in found if hit.story is not None})
    members: dict[int, list[tuple[int, str]]] = {}
    for start in range(0, len(story_ids), STORY_BATCH):
        query = (
            select(articles.c.story_id, articles.c.id, articles.c.sitename, articles.c.feed)
            .where(articles.c.story_id.in_(story_ids[start : start + STORY_BATCH]))
            .order_by(articles.c.id)
        )
        for row in conn.execute(query):
            members.setdefault(row.story_id, []).append((row.id, row.sitename or row.feed))
    result = []
    for hit in found:
        own = hit.sitename or hit.feed
        outlets = [
            name for article_id, name in members.get(hit.story or -1, []) if article_id != hit.article_id
        ]
        result.append(replace(hit, outlets=tuple(n for n in dict.fromkeys(outlets) if n != own)))
    return result


def latest_story_ids(
    conn: Connection, *, watchlist: str | None, since: datetime | None, limit: int | None
) -> list[int]:
    """Story ids, newest first by their latest article (ties: the higher id first). The articles are walked
    newest first (ix_articles_seen_story) and each story taken where it first appears, until ``limit``: no
    grouping of the whole archive. ``watchlist``: only stories it matched; ``since``: only stories with an
    article first seen since then."""
    query = select(articles.c.story_id).where(articles.c.story_id.is_not(None))
    if watchlist:
        matched = (
            select(articles.c.story_id)
            .join(hits, hits.c.article_id == articles.c.id)
            .where(hits.c.watchlist == watchlist)
        )
        query = query.where(articles.c.story_id.in_(matched))
    if since:
        query = query.where(articles.c.first_seen_at >= since)
    query = query.order_by(articles.c.first_seen_at.desc(), articles.c.story_id.desc())
    found: dict[int, None] = {}
    result = conn.execute(query.execution_options(yield_per=STORY_WALK))
    try:
        for story_id in result.scalars():
            found.setdefault(story_id)
            if limit and len(found) >= limit:
                break
    finally:
        result.close()
    return list(found)
