"""The plain evaluator: tokenise each field, walk the query tree, say why.

It is slow and obvious on purpose. Tests check the compiled matcher against it, and ``Matcher.explain`` uses it
to tell a user why a watchlist did or did not match an article.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from monitor.models import TEXT_FIELDS, WatchlistSpec

from .fold import fold_words_slowly
from .query import (
    NO_ALIASES,
    Aliases,
    And,
    FeedIs,
    LangIs,
    Near,
    Node,
    Not,
    Or,
    Phrase,
    Word,
    parse_watchlist,
)
from .stems import WordForms, forms_of, stem_languages
from .walk import fold_query, positive_leaves

Occurrence = tuple[int, int]  # first and last word index
Placed = tuple[Phrase, Occurrence]  # a phrase and one of its occurrences


@dataclass(frozen=True, slots=True)
class Explanation:
    """Whether one watchlist matches one article, and why, one reason a line."""

    name: str
    matched: bool
    lines: list[str] = field(default_factory=list)


class Article:
    """The words of each field of one article, folded the plain way, and what the watchlist looked at asks
    of word forms: the languages its words are stemmed in (None: exact words)."""

    def __init__(self, fields: Mapping[str, str], stemmed_in: tuple[str, ...] | None = None) -> None:
        self.words = {name: fold_words_slowly(fields.get(name, "")) for name in (*TEXT_FIELDS, "url")}
        self.feed = " ".join(fold_words_slowly(fields.get("feed", "")))
        self.raw_feed = fields.get("feed", "")
        self.language = fields.get("language") or None
        self.stemmed_in = stemmed_in


def phrase_forms(phrase: Phrase, stemmed_in: tuple[str, ...] | None) -> list[WordForms | None]:
    return [forms_of(w.text, prefix=w.prefix, exact=w.exact, languages=stemmed_in) for w in phrase.words]


def _word_matches(pattern: Word, forms: WordForms | None, word: str, language: str | None) -> bool:
    if pattern.prefix:
        return word.startswith(pattern.text)
    if forms is not None:
        return forms.matches(word, language)
    return word == pattern.text


def occurrences(phrase: Phrase, article: Article, name: str) -> list[Occurrence]:
    words = article.words[name]
    size = len(phrase.words)
    wanted = list(zip(phrase.words, phrase_forms(phrase, article.stemmed_in), strict=True))
    # Each distinct word of the field is tried once per word of the phrase, not once per place it occurs.
    distinct = set(words)
    fits = [{w for w in distinct if _word_matches(p, f, w, article.language)} for p, f in wanted]
    if not all(fits):
        return []
    return [
        (start, start + size - 1)
        for start in range(len(words) - size + 1)
        if all(word in fit for word, fit in zip(words[start : start + size], fits, strict=True))
    ]


def found_in(phrase: Phrase, article: Article) -> list[str]:
    return [name for name in phrase.fields if occurrences(phrase, article, name)]


def describe_found(
    phrase: Phrase, found: list[str], forms: list[WordForms | None], language: str | None
) -> str:
    """How ``phrase`` was found as the folded words ``found``: exact, through an alias, or as word forms."""
    written = [word.text for word in phrase.words]
    head = f'@{phrase.alias} via "{phrase.form}"' if phrase.alias else f'"{phrase.source.strip(chr(34))}"'
    if found == written:
        return head if phrase.alias else f"{head} exact"
    stemmed = [
        code
        for word, form in zip(found, forms, strict=False)
        if form is not None and (code := form.language_of(word, language)) is not None
    ]
    text = " ".join(found)
    if not stemmed:
        return f'{head} as "{text}" (prefix)'
    codes = "/".join(dict.fromkeys(stemmed))
    if phrase.alias:
        return f'{head} as "{text}" ({codes} stem)'
    return f'"{text}", {codes} stem of {head}'


def _label(source: str) -> str:
    return f'"{source.strip(chr(34))}"'


def _side_label(side: tuple[Phrase, ...]) -> str:
    return " or ".join(dict.fromkeys(p.source if p.alias else _label(p.source) for p in side))


def _gap(left: Occurrence, right: Occurrence) -> int | None:
    """Words between two occurrences, or None when they overlap."""
    if left[1] < right[0]:
        return right[0] - left[1] - 1
    if right[1] < left[0]:
        return left[0] - right[1] - 1
    return None


def _closest_pairs(near: Near, article: Article) -> dict[str, tuple[int, Placed, Placed]]:
    """For each field holding both sides, the fewest words between them and the two occurrences that close."""
    closest: dict[str, tuple[int, Placed, Placed]] = {}
    for name in (*TEXT_FIELDS, "url"):
        lefts = [(p, o) for p in near.left if name in p.fields for o in occurrences(p, article, name)]
        rights = [(p, o) for p in near.right if name in p.fields for o in occurrences(p, article, name)]
        pairs = [(g, a, b) for a in lefts for b in rights if (g := _gap(a[1], b[1])) is not None]
        if pairs:
            closest[name] = min(pairs, key=lambda pair: pair[0])
    return closest


def near_gaps(near: Near, article: Article) -> dict[str, int]:
    """For each field holding both sides, the fewest words between them."""
    return {name: pair[0] for name, pair in _closest_pairs(near, article).items()}


def _describe_placed(placed: Placed, article: Article, name: str) -> str:
    phrase, (start, end) = placed
    found = article.words[name][start : end + 1]
    return describe_found(phrase, found, phrase_forms(phrase, article.stemmed_in), article.language)


def _explain_phrase(phrase: Phrase, article: Article) -> tuple[bool, list[str]]:
    names = found_in(phrase, article)
    scope = "" if phrase.fields == TEXT_FIELDS else f" in {', '.join(phrase.fields)}"
    label = f'@{phrase.alias} "{phrase.form}"' if phrase.alias else _label(phrase.source)
    if names:
        start, end = occurrences(phrase, article, names[0])[0]
        found = article.words[names[0]][start : end + 1]
        how = describe_found(phrase, found, phrase_forms(phrase, article.stemmed_in), article.language)
        return True, [f"{label} found in {', '.join(names)}: {how}"]
    return False, [f"{label} not found{scope}"]


def _words(count: int) -> str:
    return "1 word" if count == 1 else f"{count} words"


def _explain_near(near: Near, article: Article) -> tuple[bool, list[str]]:
    head = f"NEAR/{near.distance}: {_side_label(near.left)} and {_side_label(near.right)}"
    closest = _closest_pairs(near, article)
    gaps = {name: pair[0] for name, pair in closest.items()}
    close = {name: gap for name, gap in gaps.items() if gap <= near.distance}
    if close:
        name, gap = min(close.items(), key=lambda item: item[1])
        _, left, right = closest[name]
        how = f"{_describe_placed(left, article, name)}; {_describe_placed(right, article, name)}"
        return True, [f"{head} are {_words(gap)} apart in {name}: {how}"]
    if gaps:
        name, gap = min(gaps.items(), key=lambda item: item[1])
        return False, [f"{head} are {_words(gap)} apart (in {name})"]
    missing = [
        _side_label(side) for side in (near.left, near.right) if not any(found_in(p, article) for p in side)
    ]
    if missing:
        return False, [f"NEAR/{near.distance}: {' and '.join(missing)} not found"]
    return False, [f"{head} never occur in the same field"]


class _Explaining:
    """Each clause evaluated on one article: the result and one line per clause."""

    def __init__(self, article: Article) -> None:
        self.article = article

    def phrase(self, node: Phrase) -> tuple[bool, list[str]]:
        return _explain_phrase(node, self.article)

    def feed(self, node: FeedIs) -> tuple[bool, list[str]]:
        ok = self.article.feed == node.name
        verb = "matches" if ok else "does not match"
        return ok, [f"feed:{node.source} {verb} feed {self.article.raw_feed!r}"]

    def lang(self, node: LangIs) -> tuple[bool, list[str]]:
        language = self.article.language
        ok = language is None or language == node.code
        return ok, [
            f"lang:{node.source} {'matches' if ok else 'does not match'} language {language or 'unknown'}"
        ]

    def near(self, node: Near) -> tuple[bool, list[str]]:
        return _explain_near(node, self.article)

    def negate(self, node: Not, child: tuple[bool, list[str]]) -> tuple[bool, list[str]]:
        ok, lines = child
        return not ok, [f"NOT ({line})" for line in lines]

    def all_of(self, node: And, children: list[tuple[bool, list[str]]]) -> tuple[bool, list[str]]:
        return all(ok for ok, _ in children), [line for _, lines in children for line in lines]

    def any_of(self, node: Or, children: list[tuple[bool, list[str]]]) -> tuple[bool, list[str]]:
        return any(ok for ok, _ in children), [line for _, lines in children for line in lines]


def explain_node(node: Node, article: Article) -> tuple[bool, list[str]]:
    """Evaluate ``node`` on ``article``: the result and one line per clause."""
    return fold_query(node, _Explaining(article))


def explain_spec(
    spec: WatchlistSpec, fields: Mapping[str, str], aliases: Aliases = NO_ALIASES
) -> Explanation:
    """Whether ``spec`` matches the article given by ``fields``, with the reasons."""
    article = Article(fields, stem_languages(spec.stem, spec.languages))
    if spec.feeds is not None:
        allowed = {" ".join(fold_words_slowly(name)) for name in spec.feeds}
        if article.feed not in allowed:
            line = f"feed {article.raw_feed!r} is not one of: {', '.join(spec.feeds)}"
            return Explanation(spec.name, False, [line])
    if spec.languages is not None and article.language is not None and article.language not in spec.languages:
        line = f"language {article.language} is not one of: {', '.join(spec.languages)}"
        return Explanation(spec.name, False, [line])
    parsed = parse_watchlist(spec, aliases)
    lines: list[str] = []
    wanted = False
    for phrase in parsed.term_phrases():
        ok, term_lines = _explain_phrase(phrase, article)
        wanted = wanted or ok
        lines.extend(f"term {line}" for line in term_lines)
    if parsed.query is not None:
        query = parsed.query
        ok, query_lines = explain_node(query, article)
        if not positive_leaves(query):
            ok = False
            query_lines.append("a query made only of NOT clauses matches nothing")
        wanted = wanted or ok
        lines.extend(f"query: {line}" for line in query_lines)
    if wanted:
        for term, phrases in zip(spec.exclude, parsed.exclude, strict=True):
            names = [name for p in phrases for name in found_in(p, article)]
            if names:
                wanted = False
                lines.append(f"excluded by {_label(term)} in {', '.join(dict.fromkeys(names))}")
    return Explanation(spec.name, wanted, lines)
