"""Pending page fetches: articles stored without text because their page failed for a passing reason."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Row, delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from monitor.models import Article, Finding, PendingPage
from monitor.store.repository import _delivery_row, _hit_row
from monitor.store.tables import articles, deliveries, hits, page_retries


class PageRetries:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def claim_due(
        self, now: datetime, until: datetime, limit: int = 200
    ) -> list[tuple[PendingPage, Article]]:
        """The pending pages due now, with their stored articles; each is moved to ``until`` so that another
        process polling beside this one does not fetch it at the same time (a crash lets it come due again)."""
        query = (
            _pending_query()
            .where(page_retries.c.next_attempt_at <= now)
            .order_by(page_retries.c.next_attempt_at, page_retries.c.id)
            .limit(limit)
        )
        with self.engine.begin() as conn:
            rows = conn.execute(query).all()
            if not rows:
                return []
            claimed = set(
                conn.scalars(
                    update(page_retries)
                    .where(
                        page_retries.c.id.in_([row.retry_id for row in rows]),
                        page_retries.c.next_attempt_at <= now,
                    )
                    .values(next_attempt_at=until)
                    .returning(page_retries.c.id)
                )
            )
        return [(_pending(row), _article(row)) for row in rows if row.retry_id in claimed]

    def reschedule(self, pending: PendingPage) -> None:
        """Record another failed fetch and when to try next."""
        with self.engine.begin() as conn:
            conn.execute(
                update(page_retries)
                .where(page_retries.c.article_id == _article_id(pending.article_key))
                .values(
                    failures=pending.failures,
                    crashes=pending.crashes,
                    next_attempt_at=pending.next_attempt,
                    last_error=pending.last_error,
                )
            )

    def give_up(self, article_key: str, reason: str) -> None:
        """Stop trying: the article keeps no text, and says why."""
        with self.engine.begin() as conn:
            conn.execute(delete(page_retries).where(page_retries.c.article_id == _article_id(article_key)))
            conn.execute(update(articles).where(articles.c.key == article_key).values(fetch_error=reason))

    def complete(
        self, finding: Finding, notifiers: Mapping[str, Sequence[str]], *, now: datetime
    ) -> dict[str, int]:
        """The page arrived: store the article's text, the hits it adds (a watchlist that already hit the
        article on its title or summary keeps its hit) with their deliveries, and drop the pending fetch.
        Returns the new hit ids by watchlist."""
        article = finding.article
        with self.engine.begin() as conn:
            article_id = conn.scalar(select(articles.c.id).where(articles.c.key == article.key))
            if article_id is None:
                return {}
            conn.execute(
                update(articles)
                .where(articles.c.id == article_id)
                .values(
                    title=article.title,
                    text=article.text,
                    author=article.author,
                    sitename=article.sitename,
                    fetch_error=None,
                )
            )
            conn.execute(delete(page_retries).where(page_retries.c.article_id == article_id))
            rows = [_hit_row(article_id, match, finding.alert, now) for match in finding.matches]
            if not rows:
                return {}
            dialect = self.engine.dialect.name
            insert_hits = postgresql_insert(hits) if dialect == "postgresql" else sqlite_insert(hits)
            new_hits = conn.execute(
                insert_hits.on_conflict_do_nothing(index_elements=["article_id", "watchlist"]).returning(
                    hits.c.id, hits.c.watchlist, hits.c.alerted
                ),
                rows,
            ).all()
            delivery_rows = [
                _delivery_row(row.id, notifier, now)
                for row in new_hits
                if row.alerted
                for notifier in notifiers.get(row.watchlist, ())
            ]
            if delivery_rows:
                conn.execute(insert(deliveries), delivery_rows)
            return {row.watchlist: row.id for row in new_hits}

    def listing(self, limit: int | None = None) -> list[PendingPage]:
        query = _pending_query().order_by(page_retries.c.next_attempt_at, page_retries.c.id)
        if limit:
            query = query.limit(limit)
        with self.engine.begin() as conn:
            return [_pending(row) for row in conn.execute(query)]


def _article_id(article_key: str) -> Any:
    return select(articles.c.id).where(articles.c.key == article_key).scalar_subquery()


def _pending_query() -> Any:
    return select(
        page_retries.c.id.label("retry_id"),
        page_retries.c.url.label("retry_url"),
        page_retries.c.linked_from,
        page_retries.c.failures,
        page_retries.c.crashes,
        page_retries.c.first_failed_at,
        page_retries.c.next_attempt_at,
        page_retries.c.last_error,
        articles,
    ).join(articles, articles.c.id == page_retries.c.article_id)


def _pending(row: Row[Any]) -> PendingPage:
    return PendingPage(
        article_key=row.key,
        feed=row.feed,
        url=row.retry_url,
        linked_from=row.linked_from,
        failures=row.failures,
        crashes=row.crashes,
        first_failed=row.first_failed_at,
        next_attempt=row.next_attempt_at,
        last_error=row.last_error or "",
    )


def _article(row: Row[Any]) -> Article:
    return Article(
        feed=row.feed,
        key=row.key,
        url=row.url,
        guid=row.guid,
        title=row.title,
        summary=row.summary,
        text=row.text,
        published=row.published_at,
        first_seen=row.first_seen_at,
        author=row.author,
        sitename=row.sitename,
        fetch_error=row.fetch_error,
    )
