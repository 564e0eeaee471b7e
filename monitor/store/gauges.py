"""What the database can tell about the work done and waiting, read in one transaction for a metrics scrape:
feeds' poll state, stored articles and hits, deliveries by status, pending page retries, the daemon's
heartbeat."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, Integer, func, select

from monitor.store.tables import articles, daemons, deliveries, feeds, hits, page_retries


@dataclass(frozen=True, slots=True)
class FeedGauge:
    name: str
    last_status: str | None  # ok, not-modified, error; None before the first poll
    consecutive_failures: int
    entries_seen: int  # new entries found over the feed's life
    last_polled: datetime | None
    next_poll: datetime | None
    gone: bool


@dataclass(frozen=True, slots=True)
class StoreGauges:
    feeds: tuple[FeedGauge, ...]
    articles: int
    hits: dict[str, int]  # by watchlist
    alerted_hits: dict[str, int]  # by watchlist: the hits that alerted (not silent story copies or old ones)
    deliveries: dict[tuple[str, str], int]  # by (notifier, status)
    page_retries: int
    heartbeat: datetime | None  # the latest of the running daemons' (None: no daemon registered)


def read_gauges(engine: Engine) -> StoreGauges:
    by_watchlist = select(hits.c.watchlist, func.count(), func.sum(hits.c.alerted.cast(Integer))).group_by(
        hits.c.watchlist
    )
    by_delivery = select(deliveries.c.notifier, deliveries.c.status, func.count()).group_by(
        deliveries.c.notifier, deliveries.c.status
    )
    with engine.begin() as conn:
        feed_rows = conn.execute(select(feeds).order_by(feeds.c.name)).all()
        watchlist_rows = conn.execute(by_watchlist).all()
        return StoreGauges(
            feeds=tuple(
                FeedGauge(
                    name=row.name,
                    last_status=row.last_status,
                    consecutive_failures=row.consecutive_failures,
                    entries_seen=row.entries_seen,
                    last_polled=row.last_polled_at,
                    next_poll=row.next_poll_at,
                    gone=bool(row.gone),
                )
                for row in feed_rows
            ),
            articles=conn.scalar(select(func.count()).select_from(articles)) or 0,
            hits={row[0]: row[1] for row in watchlist_rows},
            alerted_hits={row[0]: int(row[2] or 0) for row in watchlist_rows},
            deliveries={(row[0], row[1]): row[2] for row in conn.execute(by_delivery)},
            page_retries=conn.scalar(select(func.count()).select_from(page_retries)) or 0,
            heartbeat=conn.scalar(select(func.max(daemons.c.heartbeat_at))),
        )
