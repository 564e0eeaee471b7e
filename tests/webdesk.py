"""A desk to test: a config with a [web] table and a real SQLite file filled through the real matcher and store
(articles, hits, a page capture, a changed version, hostile titles). Test modules import from here."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from starlette.testclient import TestClient

from monitor.config.compiled import Config, load_config
from monitor.models import Article, FetchResult, Finding
from monitor.store import Store
from monitor.web.app import create_app
from tests.factory import article_page, write_config

TOKEN = "desk-token-0123456789"
HOSTILE_TITLE = '<script>alert("owned")</script> Wescam turret <img src=x onerror=alert(1)>'
HOSTILE_SUMMARY = "<img src=x onerror=alert(2)> Baykar drones"
HOSTILE_MARKERS = ("<script>alert", "<img src=x onerror", "<b onmouseover")
WESCAM_TEXT = (
    "Canadian-made Wescam imaging systems were found on Baykar drones.\n\n"
    "Officials said Wescam sensors need export permits. A second Wescam unit was seen in October."
)
CHANGED_TEXT = WESCAM_TEXT + "\n\nUpdate: the minister suspended the export permits."


@dataclass
class Filled:
    config: Config
    store: Store
    wescam: int  # article ids
    hostile: int
    quiet: int
    hits: dict[int, int]  # article id -> its hit id (watchlist "arms")


def desk_config(folder: Path, *, token: str | None = TOKEN, listen: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = write_config(
        folder,
        monitor={"fulltext": False},
        feeds=[
            {"name": "wire", "url": "http://127.0.0.1:9/wire.xml"},
            {"name": "daily", "url": "http://127.0.0.1:9/daily.xml"},
        ],
        watchlists=[
            {"name": "arms", "terms": ["Wescam", "Baykar"]},
            {"name": "permits", "terms": ["export permit*"]},
        ],
    )
    web = ["\n[web]"]
    if listen is not None:
        web.append(f'listen = "{listen}"')
    if token is not None:
        web.append(f'token = "{token}"')
    path.write_text(path.read_text(encoding="utf-8") + "\n".join(web) + "\n", encoding="utf-8")
    return path


def _article(
    feed: str, slug: str, title: str, summary: str, text: str, at: datetime, **extra: str
) -> Article:
    url = extra.pop("url", f"https://news.example/{slug}")
    return Article(
        feed=feed,
        key=f"https://news.example/{slug}",
        url=url,
        guid=None,
        title=title,
        summary=summary,
        text=text,
        published=at,
        first_seen=at,
        language="en",
        **extra,
    )


def fill(config_path: Path, now: datetime | None = None) -> Filled:
    """Store three articles through the real matcher: a Wescam story with its page captured and a later
    changed version, a hostile one (script and img tags in title, summary and site name, a javascript: link),
    and one that matches nothing."""
    config = load_config(config_path, {})
    store = Store.open(config.settings.monitor.database)
    at = (now or datetime.now(UTC)) - timedelta(hours=3)
    wescam = _article("wire", "wescam", "Wescam sensors on Baykar drones", "Sensors found.", WESCAM_TEXT, at)
    hostile = _article(
        "daily",
        "hostile",
        HOSTILE_TITLE,
        HOSTILE_SUMMARY,
        "A body about Baykar.",
        at + timedelta(hours=1),
        url="javascript:alert(3)",
        sitename='<b onmouseover="alert(4)">Evil Daily</b>',
    )
    quiet = _article(
        "wire", "hockey", "Hockey scores", "", "The home team won on Sunday.", at - timedelta(hours=1)
    )
    page = FetchResult(
        url=wescam.url or "",
        final_url=wescam.url or "",
        status=200,
        body=article_page(wescam.title, WESCAM_TEXT.split("\n\n")),
        headers={"content-type": "text/html; charset=utf-8"},
    )
    findings = [
        Finding(a, tuple(config.matcher.match(a.fields())), True, page=page if a is wescam else None)
        for a in (wescam, hostile, quiet)
    ]
    store.save_articles(findings, {}, now=at)
    changed = _article("wire", "wescam", wescam.title, wescam.summary, CHANGED_TEXT, at)
    store.save_update(
        Finding(changed, tuple(config.matcher.match(changed.fields())), True), {}, now=at + timedelta(hours=2)
    )
    by_url = {hit.title: hit for hit in store.hits(limit=None)}
    ids = {hit.article_id or 0: hit.id for hit in store.hits(watchlist="arms", limit=None) if hit.article_id}
    articles = {title: hit.article_id or 0 for title, hit in by_url.items()}
    quiet_id = _article_id(store, "https://news.example/hockey")
    return Filled(config, store, articles[wescam.title], articles[HOSTILE_TITLE], quiet_id, ids)


def _article_id(store: Store, key: str) -> int:
    from sqlalchemy import select

    from monitor.store.tables import articles

    with store.engine.begin() as conn:
        found: int = conn.execute(select(articles.c.id).where(articles.c.key == key)).scalar_one()
    return found


def csrf_of(page: str) -> str:
    """The CSRF token a page's forms carry."""
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "the page has no form token"
    return found.group(1)


def assert_inert(page: str) -> None:
    """No hostile markup came through as markup: every marker is escaped."""
    for marker in HOSTILE_MARKERS:
        assert marker not in page, f"{marker!r} rendered as markup"
    assert 'href="javascript:' not in page


def login(client: TestClient, token: str = TOKEN) -> None:
    """Log ``client`` in through the login form, as a browser does."""
    form = client.get("/login")
    answer = client.post(
        "/login", data={"token": token, "csrf": csrf_of(form.text), "next": "/"}, follow_redirects=False
    )
    assert answer.status_code == 303, answer.text


@contextmanager
def desk_client(tmp_path: Path, *, token: str | None = TOKEN) -> Iterator[tuple[TestClient, Filled]]:
    """A filled desk served in-process, not logged in."""
    filled = fill(desk_config(tmp_path, token=token))
    try:
        with TestClient(create_app(filled.config, store=filled.store)) as client:
            yield client, filled
    finally:
        filled.store.close()
