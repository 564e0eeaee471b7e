"""Feed documents for the parsing tests: RSS written inline around hand-made items, and the files of the
real-world corpus (``$MONITOR_CORPUS/feeds``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

FEED_URL = "https://news.example.org/feeds/main.xml"
CORPUS = os.environ.get("MONITOR_CORPUS")
needs_corpus = pytest.mark.skipif(not CORPUS, reason="MONITOR_CORPUS is not set (path to the shared corpus)")


def corpus_feed(name: str) -> bytes:
    assert CORPUS
    return (Path(CORPUS) / "feeds" / name).read_bytes()


def corpus_feed_files() -> list[Path]:
    if not CORPUS:
        return []
    return sorted(p for p in (Path(CORPUS) / "feeds").rglob("*") if p.is_file())


def rss(items: str, *, prolog: str = '<?xml version="1.0" encoding="utf-8"?>') -> bytes:
    """An RSS document around ``items``, XML written by hand."""
    return f'{prolog}<rss version="2.0"><channel><title>News</title>{items}</channel></rss>'.encode()
