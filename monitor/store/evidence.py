"""Captures: the responses behind hits as served (compressed body, SHA-256, headers, final URL, time) and the
text extracted from each, read back as values for the evidence export."""

from __future__ import annotations

import hashlib
import json
import zlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from monitor.models import Article, FetchResult
from monitor.store.tables import captures

COMPRESSION_LEVEL = 6


@dataclass(frozen=True, slots=True)
class Capture:
    """One stored fetch of an article page."""

    id: int
    article_id: int
    url: str
    final_url: str
    status: int
    headers: dict[str, str]
    body: bytes | None  # uncompressed; None once pruned
    sha256: str
    size: int
    fetched_at: datetime
    text: str | None
    kind: str = "page"


def capture_row(article_id: int, page: FetchResult, article: Article) -> dict[str, Any]:
    """The ``captures`` row of the response ``page`` that ``article``'s text was extracted from."""
    return {
        "article_id": article_id,
        "url": page.url,
        "final_url": page.final_url,
        "status": page.status,
        "headers": json.dumps(dict(page.headers)),
        "body": zlib.compress(page.body, COMPRESSION_LEVEL),
        "sha256": hashlib.sha256(page.body).hexdigest(),
        "size": len(page.body),
        "fetched_at": article.first_seen,
        "text": article.text,
        "kind": "page",
    }


def recheck_row(
    article_id: int,
    url: str,
    page: FetchResult | None,
    status: int,
    text: str | None,
    kind: str,
    now: datetime,
) -> dict[str, Any]:
    """A recheck's ``captures`` row: the body is kept only when the page changed or went."""
    body = page.body if page is not None else b""
    return {
        "article_id": article_id,
        "url": url,
        "final_url": page.final_url if page is not None else url,
        "status": status,
        "headers": json.dumps(dict(page.headers) if page is not None else {}),
        "body": zlib.compress(body, COMPRESSION_LEVEL) if kind in ("changed", "removed") else None,
        "sha256": hashlib.sha256(body).hexdigest(),
        "size": len(body),
        "fetched_at": now,
        "text": text if kind == "changed" else None,
        "kind": kind,
    }


def read_captures(conn: Connection, article_id: int) -> list[Capture]:
    """The captures of one article, oldest first."""
    query = (
        select(captures)
        .where(captures.c.article_id == article_id)
        .order_by(captures.c.fetched_at, captures.c.id)
    )
    return [
        Capture(
            id=row.id,
            article_id=row.article_id,
            url=row.url,
            final_url=row.final_url,
            status=row.status,
            headers=json.loads(row.headers),
            body=zlib.decompress(row.body) if row.body is not None else None,
            sha256=row.sha256,
            size=row.size,
            fetched_at=row.fetched_at,
            text=row.text,
            kind=row.kind,
        )
        for row in conn.execute(query)
    ]
