"""An archive of real news articles (the shared corpus) stored through the real store, for archive tests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from monitor.models import Article, Finding
from monitor.store import Store
from tests.corpus import ROOT

NEWS = ROOT / "news-text" / "finescoop-2020.jsonl"
FEEDS = ("wire", "daily", "gazette")
T0 = datetime(2026, 11, 1, tzinfo=UTC)


def corpus_articles(count: int, start: datetime = T0) -> Iterator[Article]:
    """The first ``count`` corpus articles, one an hour back from ``start``, over three feeds."""
    with NEWS.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines):
            if number >= count:
                return
            item = json.loads(line)
            url = f"https://news.example/{number}"
            at = start - timedelta(hours=number)
            yield Article(
                feed=FEEDS[number % len(FEEDS)],
                key=url,
                url=url,
                guid=None,
                title=item.get("title") or "",
                summary=item.get("summary") or "",
                text=item.get("body") or "",
                published=at,
                first_seen=at,
            )


def sentence_articles(
    languages: tuple[str, ...], per_language: int, start: datetime = T0
) -> Iterator[Article]:
    """Real news sentences in other scripts and accents (Russian, Armenian, Turkish, German...), ten to an
    article, dated before the corpus articles."""
    number = 0
    for language in languages:
        sentences = (ROOT / "lang-sentences" / f"{language}.txt").read_text(encoding="utf-8").splitlines()
        for first in range(0, per_language * 10, 10):
            url = f"https://{language}.news.example/{first}"
            at = start - timedelta(days=400, hours=number)
            number += 1
            yield Article(
                feed=language,
                key=url,
                url=url,
                guid=None,
                title=sentences[first],
                summary="",
                text=" ".join(sentences[first + 1 : first + 10]),
                published=at,
                first_seen=at,
            )


def fill(store: Store, articles: list[Article], now: datetime = T0) -> None:
    for start in range(0, len(articles), 200):
        batch = articles[start : start + 200]
        store.save_articles([Finding(a, (), False) for a in batch], {}, now=now)
