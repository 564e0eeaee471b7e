"""A labelled multilingual corpus (tests/data/recall_corpus.json): the mission's aliases, as shipped in
config/monitor.toml, with word forms and detected languages, find every labelled hit and nothing else."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from monitor.match import compile_watchlists
from monitor.match.language import detect_language
from monitor.models import WatchlistSpec
from monitor.runtime import load_config

ROOT = Path(__file__).resolve().parent.parent
CORPUS = json.loads((Path(__file__).parent / "data" / "recall_corpus.json").read_text(encoding="utf-8"))
ARTICLES: list[dict[str, Any]] = CORPUS["articles"]


def spec(raw: dict[str, Any]) -> WatchlistSpec:
    languages = raw.get("languages")
    return WatchlistSpec(
        raw["name"],
        terms=tuple(raw.get("terms", ())),
        query=raw.get("query"),
        languages=tuple(languages) if languages else None,
    )


@pytest.fixture(scope="module")
def found() -> dict[int, set[str]]:
    aliases = load_config(ROOT / "config" / "monitor.toml", {}).settings.resolved_aliases
    matcher = compile_watchlists([spec(raw) for raw in CORPUS["watchlists"]], aliases)
    results = {}
    for article in ARTICLES:
        language = detect_language(article["title"], article["body"]) or ""
        fields = {"title": article["title"], "summary": "", "body": article["body"], "url": "", "feed": "x"}
        results[article["id"]] = {m.watchlist for m in matcher.match({**fields, "language": language})}
    return results


def test_the_corpus_covers_five_languages_and_near_misses() -> None:
    languages = {article["language"] for article in ARTICLES}
    assert len(ARTICLES) >= 40 and languages == {"en", "fr", "de", "es", "tr"}
    bodies = " ".join(article["body"] for article in ARTICLES)
    for near_miss in ("WesCamp", "Baykara", "licencié", "permission", "turkey overnight"):
        assert near_miss in bodies


def test_every_labelled_hit_is_found_and_nothing_else(found: dict[int, set[str]]) -> None:
    missed = {a["id"]: sorted(set(a["expected"]) - found[a["id"]]) for a in ARTICLES}
    false = {a["id"]: sorted(found[a["id"]] - set(a["expected"])) for a in ARTICLES}
    assert {k: v for k, v in missed.items() if v} == {}  # 100 % recall
    assert {k: v for k, v in false.items() if v} == {}  # no false hits


def test_every_watchlist_has_labelled_hits() -> None:
    labelled = {name for article in ARTICLES for name in article["expected"]}
    assert labelled == {raw["name"] for raw in CORPUS["watchlists"]}


def test_most_corpus_articles_get_their_language() -> None:
    detected = [detect_language(a["title"], a["body"]) == a["language"] for a in ARTICLES]
    assert sum(detected) >= 0.8 * len(ARTICLES)
