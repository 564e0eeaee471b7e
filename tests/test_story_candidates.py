"""Which stored articles a new one is compared with: each band's newest MAX_CANDIDATES, read in SQL, on SQLite
and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.store import Store
from monitor.store.findings import MAX_CANDIDATES, _stored_candidates
from monitor.store.tables import articles, story_bands

WHEN = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
CROWDED, QUIET = 7, 8  # one band shared by more articles than are compared, one by a few


def _fill(store: Store, count: int) -> list[int]:
    ids: list[int] = []
    with store.engine.begin() as conn:
        for n in range(count):
            row = {
                "key": f"k{n}",
                "feed": "f",
                "published_at": WHEN,
                "first_seen_at": WHEN,
                "signature": b"\x00" * 8,
                "shingles": 1,
            }
            ids.append(conn.execute(articles.insert().values(**row)).inserted_primary_key[0])
        conn.execute(story_bands.insert(), [{"band": CROWDED, "article_id": i} for i in ids])
        conn.execute(story_bands.insert(), [{"band": QUIET, "article_id": i} for i in ids[:3]])
    return ids


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_each_band_gives_its_newest_members_up_to_the_limit(
    engine: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}" if engine == "sqlite" else request.getfixturevalue("pg_url")
    store = Store.open(url)
    try:
        ids = _fill(store, MAX_CANDIDATES + 5)
        with store.engine.connect() as conn:
            by_band, candidates = _stored_candidates(conn, [CROWDED, QUIET, 99])
        assert sorted(by_band[CROWDED]) == sorted(ids)[-MAX_CANDIDATES:]  # exactly the limit, the newest
        assert sorted(by_band[QUIET]) == sorted(ids[:3])  # a band under the limit gives every member
        assert 99 not in by_band
        assert set(candidates) == set(ids[-MAX_CANDIDATES:]) | set(ids[:3])
    finally:
        store.close()
