"""Which stored articles a new one is compared with: the newest MAX_CANDIDATES sharing any of its bands, each
band read only as far as its newest MAX_CANDIDATES, in SQL, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.store import Store
from monitor.store.findings import MAX_CANDIDATES, _candidates, _stored_sharing
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
def test_an_article_is_given_the_newest_sharing_any_band_up_to_the_limit(
    engine: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}" if engine == "sqlite" else request.getfixturevalue("pg_url")
    store = Store.open(url)
    try:
        ids = _fill(store, MAX_CANDIDATES + 5)
        newest_first = sorted(ids, reverse=True)
        with store.engine.connect() as conn:
            sharing = _stored_sharing(
                conn, {1: [CROWDED], 2: [QUIET], 3: [99], 4: [99, QUIET], 5: [QUIET, CROWDED, 99]}
            )
            found = _candidates(conn, [*ids, 10**6])
        assert sharing[1] == newest_first[:MAX_CANDIDATES]  # exactly the limit, the newest, newest first
        assert sharing[2] == newest_first[-3:]  # a band under the limit gives every member
        assert sharing[3] == []  # a band nobody has
        assert sharing[4] == newest_first[-3:]
        # the union is cut at the limit too: the quiet band's members are the oldest, so none is left
        assert sharing[5] == newest_first[:MAX_CANDIDATES]
        assert set(found) == set(ids)  # an id that is not stored has no fingerprint to compare
        assert found[ids[0]].signature == (0, 0) and found[ids[0]].shingles == 1
    finally:
        store.close()


def test_no_article_to_place_reads_nothing(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'm.db'}")
    try:
        with store.engine.connect() as conn:
            assert _stored_sharing(conn, {}) == {}
            assert _candidates(conn, []) == {}
    finally:
        store.close()
