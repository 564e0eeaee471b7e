"""Each filter of the hit listings (the desk's inbox, the JSON API, the Atom feed) keeps exactly the hits it
names, on a real SQLite database: watchlist, feed, language, the article, and the hits found since an instant,
that instant included."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from monitor.models import Article, Match, Snippet
from monitor.store import Store
from monitor.store.review import HitFilter, Review

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


def save(store: Store, title: str, feed: str, language: str, at: datetime, *watchlists: str) -> None:
    key = f"https://news.example/{title.replace(' ', '-')}"
    article = Article(
        feed=feed, key=key, url=key, guid=None, title=title, summary="", text=f"{title}.", published=at,
        first_seen=at, language=language,
    )  # fmt: skip
    matches = [
        Match(w, ("Wescam",), (Snippet("body", f"{title}.", ((0, 6),)),), ("body",)) for w in watchlists
    ]
    assert store.save_article(article, matches, {w: () for w in watchlists}, alert=False, now=at)


def titles(store: Store, wanted: HitFilter) -> list[tuple[str, str]]:
    return sorted((r.hit.title, r.hit.watchlist) for r in Review(store).hits(wanted))


def test_each_filter_keeps_the_hits_it_names(store: Store) -> None:
    save(store, "Wescam in Ottawa", "wire", "en", NOW - timedelta(hours=2), "arms", "canada")
    save(store, "Wescam à Ottawa", "gazette", "fr", NOW - timedelta(hours=1), "arms")
    save(store, "Wescam sensors", "wire", "en", NOW, "canada")
    assert titles(store, HitFilter(watchlist="arms")) == [
        ("Wescam in Ottawa", "arms"),
        ("Wescam à Ottawa", "arms"),
    ]
    assert titles(store, HitFilter(feed="gazette")) == [("Wescam à Ottawa", "arms")]
    assert titles(store, HitFilter(language="en", watchlist="canada")) == [
        ("Wescam in Ottawa", "canada"),
        ("Wescam sensors", "canada"),
    ]
    since = titles(store, HitFilter(since=NOW - timedelta(hours=1)))  # found at that very instant: kept
    assert since == [("Wescam sensors", "canada"), ("Wescam à Ottawa", "arms")]
    assert titles(store, HitFilter(since=NOW - timedelta(hours=1) + timedelta(microseconds=1))) == [
        ("Wescam sensors", "canada")
    ]
    first = next(r for r in Review(store).hits(HitFilter()) if r.hit.title == "Wescam in Ottawa")
    assert titles(store, HitFilter(article_id=first.article_id, limit=None)) == [
        ("Wescam in Ottawa", "arms"),
        ("Wescam in Ottawa", "canada"),
    ]
    assert len(titles(store, HitFilter())) == 4
