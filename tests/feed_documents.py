"""Feed documents for the parsing tests: RSS written inline around hand-made items, and the files of the
real-world corpus (``$MONITOR_CORPUS/feeds``)."""

from __future__ import annotations

from pathlib import Path

from tests.corpus import corpus

FEED_URL = "https://news.example.org/feeds/main.xml"


def corpus_feed(name: str) -> bytes:
    return corpus("feeds", name).read_bytes()


def corpus_feed_files() -> list[Path]:
    return sorted(p for p in corpus("feeds").rglob("*") if p.is_file())


def rss(items: str, *, prolog: str = '<?xml version="1.0" encoding="utf-8"?>') -> bytes:
    """An RSS document around ``items``, XML written by hand."""
    return f'{prolog}<rss version="2.0"><channel><title>News</title>{items}</channel></rss>'.encode()
