"""Updated articles: an entry that comes back changed is fetched and matched again, once, and a watchlist that
matches only the new version alerts, marked as an update; the earlier text is kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitor.models import Entry, StoredEntry
from monitor.poll import entry_changed, update_due
from monitor.store import Store
from monitor.store.archive import Archive
from monitor.usecases.search import search
from tests.factory import Item, article_page, json_lines, recent, rss, run_cli, write_config
from tests.httpserver import LocalServer, http_server

__all__ = ["http_server"]

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
STORED = StoredEntry("Drone parts", "Ministers declined.", None, NOW - timedelta(hours=1))


def entry(**changes: object) -> Entry:
    values: dict[str, object] = {
        "key": "k", "url": None, "guid": None, "title": "Drone parts", "summary": "Ministers declined.",
        "published": NOW - timedelta(hours=1),
    }  # fmt: skip
    values.update(changes)
    return Entry(**values)  # type: ignore[arg-type]


def test_an_entry_changed_by_title_summary_or_updated_date() -> None:
    assert not entry_changed(entry(), STORED)
    assert entry_changed(entry(title="Drone parts: Wescam named"), STORED)
    assert entry_changed(entry(summary="Wescam named."), STORED)
    assert entry_changed(entry(updated=NOW), STORED)
    assert not entry_changed(entry(updated=NOW), StoredEntry(STORED.title, STORED.summary, NOW, NOW))
    assert not entry_changed(entry(title=""), STORED)  # the stored title came from the page


def test_old_changed_entries_are_not_fetched_again() -> None:
    oldest = NOW - timedelta(days=3)
    assert update_due(entry(summary="new"), STORED, oldest)
    assert not update_due(entry(summary="new", published=NOW - timedelta(days=4)), STORED, oldest)
    assert update_due(entry(summary="new", published=oldest), STORED, oldest)  # the bound itself is in
    assert not update_due(entry(), STORED, oldest)


def serve(server: LocalServer, title: str, paragraphs: list[str]) -> None:
    server.route(
        "/feed.xml",
        body=rss([Item(title, server.url("/story"), "Ministers declined to comment.", recent())]),
        headers={"Content-Type": "application/rss+xml; charset=utf-8"},
    )
    html = {"Content-Type": "text/html; charset=utf-8"}
    server.route("/story", body=article_page(title, paragraphs), headers=html)


FIRST = ["The government declined to say which companies supplied parts for the drones."] * 4
SECOND = [*FIRST, "Documents show that Wescam sensors were fitted to the drones sold abroad."]


def test_an_updated_entry_is_matched_again_and_alerts_once_as_an_update(
    tmp_path: Path, http_server: LocalServer
) -> None:
    config = write_config(
        tmp_path,
        feeds=[{"name": "gazette", "url": http_server.url("/feed.xml")}],
        watchlists=[{"name": "wescam", "terms": ["Wescam"]}],
    )
    serve(http_server, "Drone parts", FIRST)
    assert run_cli(config, "poll").returncode == 0
    assert json_lines(run_cli(config, "hits", "--format", "json").stdout) == []

    serve(http_server, "Drone parts: Wescam sensors named", SECOND)
    polled = run_cli(config, "poll")
    assert polled.returncode == 0 and "updated=1" in polled.stderr + polled.stdout
    found = json_lines(run_cli(config, "hits", "--format", "json").stdout)
    assert len(found) == 1
    assert found[0]["update"] is True and found[0]["language"] == "en"
    assert found[0]["title"] == "Drone parts: Wescam sensors named"
    assert found[0]["found_as"] == ['"Wescam" exact']

    store = Store.open(f"sqlite:///{tmp_path / 'monitor.db'}")
    try:
        hit = store.hits()[0]
        versions = store.article_versions(hit.id)
        # The full-text index follows the new text, and the page behind the new hit is kept as evidence.
        searched = search(Archive(store), '"Wescam sensors were fitted"', aliases={})
        assert [f.article.title for f in searched] == ["Drone parts: Wescam sensors named"]
        record = Archive(store).hit_records([hit.id])[hit.id]
        captured = Archive(store).captures(record.article_id)
    finally:
        store.close()
    assert [v["title"] for v in versions] == ["Drone parts"]
    assert [c.status for c in captured] == [200]
    assert "Wescam" not in versions[0]["text"] and "companies supplied parts" in versions[0]["text"]

    again = run_cli(config, "poll")  # unchanged now: no re-fetch, no second hit
    assert "updated=" not in again.stderr + again.stdout
    assert len(json_lines(run_cli(config, "hits", "--format", "json").stdout)) == 1
