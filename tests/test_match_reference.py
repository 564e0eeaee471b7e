"""The compiled matcher agrees with the plain reference evaluator on random texts and queries."""

from __future__ import annotations

from itertools import accumulate

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.match import compile_watchlists
from monitor.match.aliases import resolve_aliases
from monitor.match.fold import FoldedField, fold_words_slowly, word_spans
from monitor.match.reference import explain_spec
from monitor.models import WatchlistSpec

# A small vocabulary so that matches, near misses and folding variants happen often.
WORDS = ["wescam", "Wescam", "WESCAM’s", "baykar", "Baykar-built", "export", "permits", "permit", "İzmir",
         "izmir", "Straße", "strasse", "été", "ete", "tb2", "x"]  # fmt: skip
SEPARATORS = [" ", " ", " ", ", ", "-", "\n", " (", ") ", "’"]
TERMS = [
    "wescam",
    "Baykar",
    "export permits",
    "export permit*",
    "perm*",
    "Izmir",
    "strasse",
    "ete",
    "tb2",
    "x*",
]
FIELDS = ["", "title:", "body:", "summary:"]


# Runs that fold into several words or none, change length when folded or lower-cased, or are not ASCII.
ODD_WORDS = ["½", "ﬁnance", "ΣΑΣ", "e\u0301te", "İİ", "日本", "ß", "\u0301", "a\x01b", "l·l"]


@st.composite
def texts(draw: st.DrawFn, words: list[str] = WORDS) -> str:
    words = draw(st.lists(st.sampled_from(words), max_size=14))
    seps = draw(st.lists(st.sampled_from(SEPARATORS), min_size=len(words), max_size=len(words)))
    return "".join(w + s for w, s in zip(words, seps, strict=True))


@st.composite
def leaves(draw: st.DrawFn) -> str:
    term = draw(st.sampled_from(TERMS))
    written = f'"{term}"' if " " in term else term
    kind = draw(st.integers(0, 3))
    if kind == 0:
        other = draw(st.sampled_from(TERMS))
        other = f'"{other}"' if " " in other else other
        distance = draw(st.sampled_from(["NEAR", "NEAR/0", "NEAR/1", "NEAR/3"]))
        return f"{written} {distance} ({other} OR x)"
    return draw(st.sampled_from(FIELDS)) + written


def queries() -> st.SearchStrategy[str]:
    def combine(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(
            st.tuples(children, st.sampled_from([" ", " AND ", " OR "]), children).map(
                lambda t: f"({''.join(t)})"
            ),
            children.map(lambda c: f"NOT {c}"),
        )

    return st.recursive(leaves(), combine, max_leaves=5)


@settings(max_examples=300, deadline=None)
@given(
    title=texts(),
    body=texts(),
    query=st.one_of(st.none(), queries()),
    terms=st.lists(st.sampled_from(TERMS), max_size=2),
    exclude=st.lists(st.sampled_from(TERMS), max_size=1),
)
def test_compiled_matcher_agrees_with_reference(
    title: str, body: str, query: str | None, terms: list[str], exclude: list[str]
) -> None:
    spec = WatchlistSpec("w", terms=tuple(terms), exclude=tuple(exclude), query=query)
    fields = {"title": title, "body": body, "summary": "", "url": "", "feed": "f"}
    compiled = bool(compile_watchlists([spec]).match(fields))
    assert compiled == explain_spec(spec, fields).matched


@settings(max_examples=100, deadline=None)
@given(body=texts(), term=st.sampled_from(TERMS))
def test_snippet_marks_point_at_the_matched_words(body: str, term: str) -> None:
    found = compile_watchlists([WatchlistSpec("w", terms=(term,))]).match({"body": body})
    for match in found:
        for snippet in match.snippets:
            for start, end in snippet.marks:
                marked = snippet.text[start:end]
                assert marked.strip() == marked and marked


@settings(max_examples=300, deadline=None)
@given(text=texts(WORDS + ODD_WORDS), data=st.data())
def test_folded_offsets_agree_with_plain_word_spans(text: str, data: st.DataObject) -> None:
    folded = FoldedField(text)
    words = folded.padded.split()
    assert words == fold_words_slowly(text)
    spans = word_spans(text)
    starts = list(accumulate((len(word) + 1 for word in words), initial=1))  # in " w1 w2 ... "
    for _ in range(min(len(words), 5)):
        first = data.draw(st.integers(0, len(words) - 1))
        last = data.draw(st.integers(first, min(first + 3, len(words) - 1)))
        span = folded.char_span(starts[first], starts[last] + len(words[last]))
        assert span == (spans[first][0], spans[last][1])


# --- aliases, word forms and languages ----------------------------------------------------------------------

FORM_WORDS = ["permit", "permits", "permitted", "permission", "licence", "licences", "licencié", "export",
              "exports", "exporter", "Ausfuhrgenehmigungen", "Ausfuhrgenehmigung", "Turkey", "Turkeys",
              "Türkiye", "Türkei", "Wescam", "WesCamp", "Baykar", "Baykara", "izinleri", "x"]  # fmt: skip
FORM_TERMS = ["permit", "export permit", "licence", "Ausfuhrgenehmigung", "=export", "@turkey", "@wescam",
              "@permit", "export*", "Turkey", "izin*"]  # fmt: skip
FORM_ALIASES = resolve_aliases(
    {
        "turkey": ["Turkey", "Türkiye", "Türkei"],
        "wescam": ["=Wescam", "@baykar"],
        "baykar": ["Baykar"],
        "permit": ["export permit", "licence"],
    }
)


def _written(term: str) -> str:
    return f'"{term}"' if " " in term else term


@st.composite
def form_leaves(draw: st.DrawFn) -> str:
    term = _written(draw(st.sampled_from(FORM_TERMS)))
    kind = draw(st.integers(0, 4))
    if kind == 0:
        other = _written(draw(st.sampled_from(FORM_TERMS)))
        return f"{term} {draw(st.sampled_from(['NEAR/0', 'NEAR/2']))} {other}"
    if kind == 1:
        return f"{term} lang:{draw(st.sampled_from(['fr', 'en', 'de']))}"
    return draw(st.sampled_from(FIELDS)) + term


@settings(max_examples=300, deadline=None)
@given(
    title=texts(FORM_WORDS),
    body=texts(FORM_WORDS),
    query=st.one_of(
        st.none(),
        st.recursive(
            form_leaves(),
            lambda c: st.tuples(c, st.sampled_from([" ", " OR "]), c).map(lambda t: f"({''.join(t)})"),
            max_leaves=3,
        ),
    ),
    terms=st.lists(st.sampled_from(FORM_TERMS), max_size=2),
    exclude=st.lists(st.sampled_from(FORM_TERMS), max_size=1),
    language=st.sampled_from(["", "en", "fr", "de", "es", "tr", "it"]),
    stem=st.booleans(),
    languages=st.sampled_from([None, ("en",), ("fr", "de"), ("tr",)]),
)
def test_compiled_matcher_agrees_with_reference_on_aliases_and_word_forms(
    title: str,
    body: str,
    query: str | None,
    terms: list[str],
    exclude: list[str],
    language: str,
    stem: bool,
    languages: tuple[str, ...] | None,
) -> None:
    spec = WatchlistSpec(
        "w", terms=tuple(terms), exclude=tuple(exclude), query=query, stem=stem, languages=languages
    )
    fields = {"title": title, "body": body, "summary": "", "url": "", "feed": "f", "language": language}
    compiled = compile_watchlists([spec], FORM_ALIASES).match(fields)
    assert bool(compiled) == explain_spec(spec, fields, FORM_ALIASES).matched
