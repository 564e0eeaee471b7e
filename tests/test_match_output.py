"""The compiled matcher gives, on real articles, the whole matches the plain reference reading gives: the same
watchlists, terms, fields, snippets and explanations of how each term was found, with word forms (in known,
unknown and other languages), aliases, prefixes, exact words, NEAR, scopes and excludes."""

from __future__ import annotations

import gc
import json
import pickle
import random
from collections import Counter
from pathlib import Path

import pytest

from monitor.match import compile_watchlists, scan
from monitor.match.aliases import resolve_aliases
from monitor.match.fold import fold_words
from monitor.match.scan import ArticleScan
from monitor.models import Match, WatchlistSpec
from tests.archive_corpus import NEWS
from tests.match_plain import plain_match

ARTICLES = 30
BODY_CHARS = 1_500
LANGUAGES = ("en", "", "fr", "en", "de", "tr", "it")  # known, unknown, and languages the text is not in


def load_articles() -> list[dict[str, str]]:
    articles = []
    with Path(NEWS).open(encoding="utf-8") as lines:
        for number, line in enumerate(lines):
            if number == ARTICLES:
                break
            item = json.loads(line)
            body = item.get("body") or ""
            body = body[: body.rfind(" ", 0, BODY_CHARS)] if len(body) > BODY_CHARS else body
            fields = {"title": item.get("title") or "", "summary": item.get("summary") or "", "body": body}
            language = LANGUAGES[number % len(LANGUAGES)]
            articles.append(
                {**fields, "url": f"https://news.example/{number}", "feed": "wire", "language": language}
            )
    return articles


class Draws:
    """Terms drawn from the articles' own words, so that watchlists match often and in many ways."""

    def __init__(self, articles: list[dict[str, str]], rng: random.Random) -> None:
        self.rng = rng
        texts = [a["title"] + " " + a["summary"] + " " + a["body"] for a in articles]
        counts = Counter(w for text in texts for w in fold_words(text))
        common = {w for w, _ in counts.most_common(60)}
        self.words = sorted(w for w in counts if w.isalpha() and len(w) >= 4 and w not in common)
        self.texts = texts

    def phrase(self) -> str:
        words = self.rng.choice(self.texts).split()
        at = self.rng.randrange(max(1, len(words) - 1))
        return " ".join(words[at : at + 2])

    def term(self, aliases: list[str]) -> str:
        roll = self.rng.random()
        word = self.rng.choice(self.words)
        if roll < 0.25:
            return self.phrase()
        if roll < 0.35 and len(word) >= 6:
            return word[:-2] + "*"
        if roll < 0.45:
            return "=" + word
        if roll < 0.6 and aliases:
            return "@" + self.rng.choice(aliases)
        return word.capitalize()

    def quoted(self, aliases: list[str]) -> str:
        term = self.term(aliases)
        return f'"{term}"' if " " in term and not term.startswith("@") else term


def watchlists(draws: Draws, count: int) -> tuple[list[WatchlistSpec], dict[str, list[str]]]:
    rng = draws.rng
    defined: dict[str, list[str]] = {}
    for index in range(12):
        forms = [draws.term([]) for _ in range(rng.randint(2, 4))]
        if index and rng.random() < 0.3:
            forms.append(f"@a{rng.randrange(index)}")
        defined[f"a{index}"] = forms
    names = list(defined)
    specs = []
    for index in range(count):
        q = lambda: draws.quoted(names)  # noqa: E731
        shape = rng.random()
        stem = rng.random() < 0.8
        languages = rng.choice([None, None, ("en",), ("en", "fr"), ("de", "tr")])
        common = {"name": f"w{index}", "stem": stem, "languages": languages}
        if shape < 0.3:
            terms = tuple(draws.term(names) for _ in range(rng.randint(1, 3)))
            exclude = (draws.term(names),) if rng.random() < 0.2 else ()
            specs.append(WatchlistSpec(terms=terms, exclude=exclude, **common))  # type: ignore[arg-type]
        elif shape < 0.55:
            query = f"({q()} OR {q()}) {q()}" if rng.random() < 0.5 else f"{q()} OR {q()} NOT {q()}"
            specs.append(WatchlistSpec(query=query, **common))  # type: ignore[arg-type]
        elif shape < 0.8:
            query = f"{q()} NEAR/{rng.choice((0, 3, 10))} ({q()} OR {q()})"
            specs.append(WatchlistSpec(query=query, **common))  # type: ignore[arg-type]
        else:
            query = f"title:{q()} OR (body:{q()} lang:en) OR feed:wire {q()} -{q()}"
            specs.append(WatchlistSpec(query=query, **common))  # type: ignore[arg-type]
    return specs, defined


@pytest.mark.parametrize("seed", [1, 2])
def test_whole_matches_agree_with_the_plain_reading(seed: int) -> None:
    articles = load_articles()
    specs, defined = watchlists(Draws(articles, random.Random(seed)), 80)
    aliases = resolve_aliases(defined)
    matcher = compile_watchlists(specs, aliases)
    how: Counter[str] = Counter()
    for article in articles:
        expected = [m for spec in specs if (m := plain_match(spec, article, aliases)) is not None]
        assert matcher.match(article) == expected, article["title"]
        how.update(
            "stem" if "stem" in line else "alias" if " via " in line else "other"
            for m in expected
            for line in m.found_as
        )
    assert min(how["stem"], how["alias"], how["other"]) >= 5, how  # every way of finding, often


def test_details_read_after_later_articles_are_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    """A Match builds its details when first read: read after every other article was matched, with the kept
    word verdicts started afresh at each article (tiny limits), they are still those of the plain reading."""
    monkeypatch.setattr(scan, "WORDS_LIMIT", 20)
    monkeypatch.setattr(scan, "KEPT_LIMIT", 5)
    articles = load_articles()
    specs, defined = watchlists(Draws(articles, random.Random(3)), 80)
    aliases = resolve_aliases(defined)
    matcher = compile_watchlists(specs, aliases)
    unread = [matcher.match(article) for article in articles]
    assert sum(map(len, unread)) > 50
    for article, matches in reversed(list(zip(articles, unread, strict=True))):
        expected = [m for spec in specs if (m := plain_match(spec, article, aliases)) is not None]
        assert [m.found_as for m in matches] == [m.found_as for m in expected]  # found_as read first
        assert matches == expected, article["title"]


def test_a_match_is_a_value() -> None:
    articles = load_articles()
    specs, defined = watchlists(Draws(articles, random.Random(4)), 40)
    matcher = compile_watchlists(specs, resolve_aliases(defined))
    found = next(m for article in articles for m in matcher.match(article) if m.snippets)
    given = Match(found.watchlist, found.matched, found.snippets, found.fields, found.found_as)
    assert found == given and hash(found) == hash(given) and repr(found) == repr(given)
    assert pickle.loads(pickle.dumps(matcher.match(articles[0])[0])) == matcher.match(articles[0])[0]
    assert found != Match(found.watchlist, found.matched, (), found.fields, found.found_as)
    assert found != Match("other", found.matched, found.snippets, found.fields, found.found_as)
    with pytest.raises(AttributeError):
        found.snippets = ()  # type: ignore[misc]
    with pytest.raises(AttributeError):
        found.watchlist = "other"  # type: ignore[misc]


def _reaches(start: object, kind: type, depth: int) -> bool:
    seen = [start]
    for _ in range(depth):
        seen = [ref for item in seen for ref in gc.get_referents(item)]
        if any(isinstance(item, kind) for item in seen):
            return True
    return False


def test_an_unread_match_keeps_its_scanned_article_until_built() -> None:
    articles = load_articles()
    specs, defined = watchlists(Draws(articles, random.Random(5)), 40)
    aliases = resolve_aliases(defined)
    matcher = compile_watchlists(specs, aliases)
    article = next(a for a in articles if matcher.match(a))
    match = matcher.match(article)[0]
    assert _reaches(match, ArticleScan, 4)
    assert match.built() is match
    assert not _reaches(match, ArticleScan, 4)
    expected = [m for spec in specs if (m := plain_match(spec, article, aliases)) is not None]
    assert match == expected[0]


@pytest.mark.parametrize(
    "term",
    [
        "sentenced to",  # a word form, then an exact word met far more often
        "sentence to prison",  # a word form, then an exact word and a word form in one segment
        "export permit* to",  # a word form, a prefix, an exact word
        "export permits",  # two word forms
    ],
)
def test_phrases_of_several_segments_are_found_whole_and_only_whole(term: str) -> None:
    """A phrase cut into segments (a word form or prefix ends each) is followed from each occurrence of its first
    segment through the others: the occurrences that chain, every one of them, and no other."""
    body = (
        "He was sentenced to prison. To sentence them to death, to sentences, sentencing to. "
        "The export permits to Turkey, export permit to, exported permitted to and exports to. "
        "TB2 exports, tb2 export; tb2 and export. Sentenced, to. Export to permit to."
    )
    article = {"title": "To sentence", "summary": "sentenced to", "body": body, "url": "", "feed": "f"}
    spec = WatchlistSpec("w", terms=(term,), languages=("en",))
    found = compile_watchlists([spec]).match(article)
    expected = plain_match(spec, article)
    assert expected is not None and len(expected.snippets) >= 1
    assert found == [expected]
