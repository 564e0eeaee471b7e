"""Pending page fetches: articles stored without text because their page failed for a passing reason."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Row, delete, insert, select, update

from monitor.models import Article, Finding, PendingPage
from monitor.store.evidence import capture_row
from monitor.store.findings import StoryRules, store_hits
from monitor.store.index import SearchIndex
from monitor.store.tables import articles, captures, page_retries


class PageRetries:
    def __init__(self, engine: Engine, index: SearchIndex | None = None) -> None:
        self.index = index  # the full-text index, kept in step when a page's text arrives
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
        self,
        finding: Finding,
        notifiers: Mapping[str, Sequence[str]],
        *,
        now: datetime,
        stories: StoryRules | None = None,
    ) -> dict[str, int]:
        """The page arrived: store the article's text, place the article in a story by it (as an article stored
        with its text on its first poll is placed), store the hits it adds (a watchlist that already hit the
        article on its title or summary keeps its hit; a copy of a story alerts only when it adds something) with
        their deliveries, and drop the pending fetch. Returns the new hit ids by watchlist."""
        article = finding.article
        with self.engine.begin() as conn:
            columns = (articles.c.id, articles.c.title, articles.c.summary, articles.c.text)
            stored = conn.execute(select(*columns).where(articles.c.key == article.key)).one_or_none()
            if stored is None:
                return {}
            article_id = stored.id
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
            if self.index is not None:
                self.index.remove(conn, [(article_id, stored.title, stored.summary, stored.text)])
                self.index.add(conn, [(article_id, article.title, stored.summary, article.text)])
            if finding.matches and finding.page is not None:
                conn.execute(insert(captures), [capture_row(article_id, finding.page, article)])
            conn.execute(delete(page_retries).where(page_retries.c.article_id == article_id))
            new_hits = store_hits(
                conn,
                [finding],
                {article.key: article_id},
                notifiers,
                stories=stories,
                now=now,
                placed_before=True,
            )
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
