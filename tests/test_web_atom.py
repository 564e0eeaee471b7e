"""A watchlist's Atom feed through the real app: access by token, 404 for unknown watchlists, a document that
feedparser reads without complaint and that keeps RFC 4287's rules, stable ids, and hostile titles as text."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

import feedparser
import pytest
from lxml import etree

from monitor.store.archive import Archive
from tests.desk_data import HOSTILE, TOKEN, Desk, open_desk

ATOM = "{http://www.w3.org/2005/Atom}"
BEARER = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    yield from open_desk(tmp_path)


def atom(desk: Desk, name: str = "police") -> bytes:
    response = desk.client.get(f"/watchlists/{name}.atom", headers=BEARER)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/atom+xml")
    return response.content


def police_hits(desk: Desk) -> list[int]:
    return [h.id for h in desk.store.hits(watchlist="police", limit=None)]


def test_feed_needs_the_token_when_one_is_configured(desk: Desk) -> None:
    client = desk.client
    assert client.get("/watchlists/police.atom").status_code == 401
    assert client.get("/watchlists/police.atom", params={"token": "nope"}).status_code == 401
    assert client.get("/watchlists/police.atom", headers=BEARER).status_code == 200
    by_query = client.get("/watchlists/police.atom", params={"token": TOKEN})
    assert by_query.status_code == 200
    assert TOKEN.encode() not in by_query.content  # the self link leaves the token out


def test_feed_is_open_without_a_token(tmp_path: Path) -> None:
    for open_one in open_desk(tmp_path, token=None):
        assert open_one.client.get("/watchlists/police.atom").status_code == 200


def test_unknown_watchlist_is_404(desk: Desk) -> None:
    response = desk.client.get("/watchlists/nothing-here.atom", headers=BEARER)
    assert response.status_code == 404
    assert "nothing-here" in response.json()["error"]


def test_feedparser_reads_every_entry_without_complaint(desk: Desk) -> None:
    parsed = feedparser.parse(BytesIO(atom(desk)))
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert parsed.feed.title == "police: hits"
    assert parsed.feed.id.startswith("urn:uuid:")
    assert any(link.rel == "self" for link in parsed.feed.links)
    stored = desk.store.hits(watchlist="police", limit=None)
    assert len(parsed.entries) == min(50, len(stored)) > 10
    for entry, hit in zip(parsed.entries, stored, strict=False):
        assert entry.link == hit.url
        assert entry.title == hit.title.replace("\x0b", "").strip()
        assert entry.updated_parsed is not None and entry.summary.startswith("matched: police")
        assert entry.id.startswith("urn:uuid:") and entry.author
    assert len({entry.id for entry in parsed.entries}) == len(parsed.entries)
    updated = [entry.updated_parsed for entry in parsed.entries]
    assert updated == sorted(updated, reverse=True)


def test_document_keeps_the_atom_rules(desk: Desk) -> None:
    root = etree.fromstring(atom(desk))
    assert root.tag == f"{ATOM}feed"
    for name in ("id", "title", "updated", "author"):
        assert len(root.findall(f"{ATOM}{name}")) == 1, name
    assert root.find(f"{ATOM}link[@rel='self']") is not None
    for entry in root.iter(f"{ATOM}entry"):
        for name in ("id", "title", "updated", "summary"):
            assert len(entry.findall(f"{ATOM}{name}")) == 1, name
        assert len(entry.findall(f"{ATOM}link[@rel='alternate']")) == 1
        stamp = entry.findtext(f"{ATOM}updated") or ""
        assert datetime.fromisoformat(stamp).tzinfo == UTC


def test_entry_ids_stay_the_same_across_fetches_and_triage(desk: Desk) -> None:
    before = [e.id for e in feedparser.parse(BytesIO(atom(desk))).entries]
    Archive(desk.store).mark(police_hits(desk)[0], "relevant", None, datetime.now(UTC))
    after = feedparser.parse(BytesIO(atom(desk)))
    assert [e.id for e in after.entries] == before
    assert "label:relevant" in [tag.term for tag in after.entries[0].tags]


def test_an_unchanged_feed_answers_304_to_its_etag(desk: Desk) -> None:
    first = desk.client.get("/watchlists/police.atom", headers=BEARER)
    again = desk.client.get(
        "/watchlists/police.atom", headers={**BEARER, "If-None-Match": first.headers["etag"]}
    )
    assert again.status_code == 304 and again.content == b""
    Archive(desk.store).mark(police_hits(desk)[0], "unsure", None, datetime.now(UTC))
    changed = desk.client.get(
        "/watchlists/police.atom", headers={**BEARER, "If-None-Match": first.headers["etag"]}
    )
    assert changed.status_code == 200


def test_hostile_title_is_text_in_the_feed(desk: Desk) -> None:
    body = atom(desk)
    assert b"<script" not in body and b"<img" not in body
    root = etree.fromstring(body)
    tags = {element.tag for element in root.iter()}
    assert tags <= {f"{ATOM}{name}" for name in ATOM_NAMES}, tags
    first = root.find(f"{ATOM}entry")
    assert first is not None
    assert first.findtext(f"{ATOM}title") == HOSTILE.replace("\x0b", "")
    assert first.find(f"{ATOM}title").get("type") == "text"  # type: ignore[union-attr]
    parsed = feedparser.parse(BytesIO(body))
    assert parsed.entries[0].title == HOSTILE.replace("\x0b", "").strip()


ATOM_NAMES = (
    "feed",
    "id",
    "title",
    "subtitle",
    "updated",
    "published",
    "author",
    "name",
    "generator",
    "link",
    "entry",
    "summary",
    "category",
)


def test_watchlist_without_hits_is_a_valid_empty_feed(desk: Desk) -> None:
    parsed = feedparser.parse(BytesIO(atom(desk, "quiet")))
    assert parsed.bozo == 0 and parsed.entries == []
    assert parsed.feed.title == "quiet: hits"
