"""The desk's kept answers (monitor.web.cache): the inbox and /api/hits are answered from the cache until the
database changes, and every change (a mark, a note, a new hit, a write by another connection) shows on the
very next request; the CSRF token stays each session's own; the cache stays within its bounds."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from monitor.config.compiled import load_config
from monitor.models import Finding
from monitor.web.cache import CSRF_PLACEHOLDER, ChangeMarker, ResponseCache, marker_for
from tests.webdesk import TOKEN, Filled, _article, csrf_of, desk_client, login

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")
BEARER = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[tuple[TestClient, Filled]]:
    with desk_client(tmp_path) as (client, filled):
        login(client)
        yield client, filled


def _kept(client: TestClient) -> int:
    return len(client.app.state.desk.cache)  # type: ignore[attr-defined]


@contextmanager
def marked_cache(folder: Path, *, max_entries: int, max_bytes: int) -> Iterator[ResponseCache]:
    """A cache on the change marker of a fresh SQLite file, closed after."""
    database = folder / "marker.db"
    sqlite3.connect(database).close()
    cache = ResponseCache(ChangeMarker(database), max_entries=max_entries, max_bytes=max_bytes)
    try:
        yield cache
    finally:
        cache.close()


def test_the_inbox_is_kept_and_a_mark_shows_on_the_next_request(desk: tuple[TestClient, Filled]) -> None:
    client, filled = desk
    hit = filled.hits[filled.wescam]
    first = client.get("/?label=all")
    assert _kept(client) == 1
    assert client.get("/?label=all").text == first.text  # answered from the cache
    assert f'id="hit-{hit}"' in client.get("/").text
    assert 'class="hit labelled label-relevant"' not in first.text
    csrf = csrf_of(first.text)
    marked = client.post(
        f"/hits/{hit}/mark", data={"label": "relevant", "csrf": csrf}, follow_redirects=False
    )
    assert marked.status_code == 303
    assert f'class="hit labelled label-relevant" id="hit-{hit}"' in client.get("/?label=all").text
    assert f'id="hit-{hit}"' not in client.get("/").text  # no longer new


def test_a_note_shows_on_the_next_request(desk: tuple[TestClient, Filled]) -> None:
    client, filled = desk
    hit = filled.hits[filled.hostile]
    page = client.get("/?label=all").text
    assert "note: seen before" not in page
    client.post(
        f"/hits/{hit}/note", data={"note": "seen before", "csrf": csrf_of(page)}, follow_redirects=False
    )
    assert "note: seen before" in client.get("/?label=all").text
    api = client.get("/api/hits", headers=BEARER).json()
    assert [h["label"] for h in api["hits"] if h["id"] == hit] != [None]


def test_a_new_hit_shows_on_the_next_request_of_the_inbox_and_the_api(
    desk: tuple[TestClient, Filled],
) -> None:
    client, filled = desk
    assert "Baykar sold more drones" not in client.get("/").text
    before = client.get("/api/hits", headers=BEARER).json()["hits"]
    assert _kept(client) == 2
    at = datetime.now(UTC) - timedelta(minutes=5)
    fresh = _article("wire", "fresh", "Baykar sold more drones", "", "Baykar said so on Monday.", at)
    filled.store.save_articles(
        [Finding(fresh, tuple(filled.config.matcher.match(fresh.fields())), True)], {}, now=at
    )
    assert "Baykar sold more drones" in client.get("/").text
    after = client.get("/api/hits", headers=BEARER).json()["hits"]
    assert len(after) == len(before) + 1 and after[0]["title"] == "Baykar sold more drones"


def test_a_write_by_another_connection_drops_what_was_kept(desk: tuple[TestClient, Filled]) -> None:
    client, filled = desk
    hit = filled.hits[filled.wescam]
    assert f'id="hit-{hit}"' in client.get("/").text
    database = filled.config.settings.monitor.database.removeprefix("sqlite:///")
    other = sqlite3.connect(database, isolation_level=None)  # as another process would write
    try:
        other.execute(
            "INSERT INTO hit_labels (article_id, watchlist, label, note, labelled_at) "
            "VALUES (?, 'arms', 'irrelevant', NULL, '2026-11-30 00:00:00')",
            (filled.wescam,),
        )
    finally:
        other.close()
    assert f'id="hit-{hit}"' not in client.get("/").text


def test_each_session_gets_its_own_csrf_token_from_a_kept_page(tmp_path: Path) -> None:
    with desk_client(tmp_path) as (first, filled):
        login(first)
        # Another client of the same app: its own session, the page kept for the first.
        second = TestClient(first.app)
        login(second)
        one = first.get("/").text
        two = second.get("/").text
        assert _kept(first) == 1
        assert CSRF_PLACEHOLDER not in one and CSRF_PLACEHOLDER not in two
        assert csrf_of(one) != csrf_of(two)
        assert one.replace(csrf_of(one), "T") == two.replace(csrf_of(two), "T")
        hit = filled.hits[filled.wescam]
        crossed = second.post(f"/hits/{hit}/mark", data={"label": "unsure", "csrf": csrf_of(one)})
        assert crossed.status_code == 403
        own = second.post(f"/hits/{hit}/mark", data={"label": "unsure", "csrf": csrf_of(two)})
        assert own.status_code == 200


def test_a_reloaded_config_drops_what_was_kept(desk: tuple[TestClient, Filled]) -> None:
    client, filled = desk
    assert 'value="evening"' not in client.get("/").text
    path = filled.config.settings.path
    assert path is not None
    added = '\n[[feed]]\nname = "evening"\nurl = "http://127.0.0.1:9/evening.xml"\n'
    path.write_text(path.read_text(encoding="utf-8") + added, encoding="utf-8")
    client.app.state.desk.config = load_config(path, {})  # type: ignore[attr-defined]  # as a reload does
    assert 'value="evening"' in client.get("/").text


def test_the_cache_is_bounded_in_entries_and_bytes(tmp_path: Path) -> None:
    config = object()
    with marked_cache(tmp_path, max_entries=3, max_bytes=4000) as cache:
        for number in range(10):
            body = b"x" * 500 + bytes([number])
            assert cache.answer(number, config, lambda body=body: body) == body  # type: ignore[misc]
        assert len(cache) == 3 and cache.size <= 4000
        cache.answer("big", config, lambda: b"y" * 1500)  # over a quarter of the bytes: answered, not kept
        assert len(cache) == 3 and cache.size <= 4000
        assert cache.answer(9, config, lambda: b"made again") != b"made again"  # the newest is still kept
        assert cache.answer(0, config, lambda: b"made again") == b"made again"  # the oldest was dropped


def test_without_a_marker_nothing_is_kept() -> None:
    cache = ResponseCache(None)
    calls: list[int] = []
    for _ in range(3):
        cache.answer("same", object(), lambda: calls.append(1) or b"made")
    assert len(calls) == 3 and len(cache) == 0
    cache.close()  # nothing to close


def test_the_cache_keeps_up_to_its_limits_exactly(tmp_path: Path) -> None:
    config = object()
    with marked_cache(tmp_path, max_entries=2, max_bytes=400) as cache:
        cache.answer("quarter", config, lambda: b"q" * 100)  # exactly a quarter of the bytes: kept
        assert len(cache) == 1 and cache.size == 100
        cache.answer("second", config, lambda: b"s" * 100)  # exactly max_entries: both kept
        assert len(cache) == 2 and cache.size == 200
        _, stamp = cache.kept("second", config)
        cache.keep("second", stamp, b"other")  # a key already kept is not replaced
        assert cache.answer("second", config, lambda: b"made") == b"s" * 100 and cache.size == 200
        _, stale = cache.kept("third", config)
        reloaded = object()
        cache.kept("other", reloaded)  # the config was reloaded after the stamp was taken
        cache.keep("third", stale, b"t")  # made under the old config: not kept
        assert cache.kept("third", reloaded)[0] is None and len(cache) == 0
        _, fresh = cache.kept("third", reloaded)
        cache.keep("third", fresh, b"t")
        assert cache.kept("third", reloaded)[0] == b"t"


def test_the_cache_keeps_bodies_up_to_its_bytes_exactly(tmp_path: Path) -> None:
    config = object()
    with marked_cache(tmp_path, max_entries=10, max_bytes=400) as cache:
        for number in range(4):
            cache.answer(number, config, lambda: b"b" * 100)
        assert len(cache) == 4 and cache.size == 400  # exactly the bytes allowed: all kept
        cache.answer(4, config, lambda: b"b" * 100)
        assert len(cache) == 4 and cache.size == 400  # one more: the oldest dropped
        assert cache.answer(0, config, lambda: b"made again") == b"made again"


def test_a_file_database_has_a_change_marker_and_others_have_none(tmp_path: Path) -> None:
    from sqlalchemy import create_engine

    for url in ("sqlite://", "sqlite:///:memory:", "sqlite:///file:kept?mode=memory&uri=true"):
        assert marker_for(create_engine(url)) is None
    marker = marker_for(create_engine(f"sqlite:///{tmp_path / 'desk.db'}"))
    assert marker is not None
    marker.close()


def test_a_marker_that_cannot_tell_keeps_nothing(tmp_path: Path) -> None:
    database = tmp_path / "marker.db"
    sqlite3.connect(database).close()
    marker = ChangeMarker(database)
    cache = ResponseCache(marker)
    assert cache.answer("same", None, lambda: b"first") == b"first"
    marker.close()  # any sqlite3 error from the marker: answered afresh
    assert cache.answer("same", None, lambda: b"second") == b"second"
    assert cache.answer("same", None, lambda: b"third") == b"third"
