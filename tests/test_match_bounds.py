"""The matcher's small bounds and helpers, each at its edge: the caches of stems, folded words and explanations
stay within their limits; word forms whose stem is not the start of the word; snippets whose marks touch the
edges of their window; one snippet per window in each field; evidence equal by what it holds; triggers."""

from __future__ import annotations

from typing import Any

import pytest

from monitor.match import clauses, compile_watchlists, fold, scan, stems
from monitor.match.clauses import ALWAYS, union
from monitor.match.reference import explain_spec
from monitor.match.scan import FormChecks
from monitor.match.snippets import Evidence, _window
from monitor.models import Match, WatchlistSpec


def matches(fields: dict[str, str], **spec: Any) -> list[Match]:
    return compile_watchlists([WatchlistSpec("w", **spec)]).match(fields)


# --- caches -------------------------------------------------------------------------------------------------


def test_the_stem_cache_holds_at_most_its_limit_then_starts_afresh(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stems, "STEM_CACHE_LIMIT", 3)
    monkeypatch.setattr(stems, "_stems", {})
    for word in ("alpha", "bravo", "charlie"):
        stems.stem("en", word)
    assert len(stems._stems["en"]) == 3  # full
    assert stems.stem("en", "delta") == "delta"
    assert list(stems._stems["en"]) == ["delta"]  # a new word into a full cache: started afresh


def test_priming_stems_ahead_stays_under_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stems, "STEM_CACHE_LIMIT", 5)
    monkeypatch.setattr(stems, "_stems", {})
    stems.prime(["alpha", "bravo", "charlie", "delta"], ("en",))
    assert len(stems._stems["en"]) == 4  # one under the limit: primed
    monkeypatch.setattr(stems, "_stems", {})
    stems.prime(["alpha", "bravo", "charlie", "delta", "echos"], ("en", "xx"))
    assert stems._stems["en"] == {}  # as many as the limit: left to ``stem``, one word at a time
    assert "xx" not in stems._stems  # no stemmer: nothing kept


def test_words_of_four_letters_are_stemmed_and_of_three_kept_exact() -> None:
    assert stems.stemmable("cats")
    assert not stems.stemmable("cat")
    assert not stems.stemmable("b2b2")


def test_the_folded_word_cache_holds_at_most_its_limit_then_starts_afresh(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(fold, "_WORD_CACHE_LIMIT", 3)
    monkeypatch.setattr(fold, "_word_cache", {})
    for word in ("Alpha", "Bravo", "Charlie"):
        fold.fold_word(word)
    assert len(fold._word_cache) == 3
    assert fold.fold_word("Délta") == "delta"
    assert fold._word_cache == {"Délta": "delta"}


def test_the_explanations_kept_per_phrase_stay_within_their_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clauses, "DESCRIBED_LIMIT", 2)
    matcher = compile_watchlists([WatchlistSpec("w", terms=("export*",), stem=False)])
    phrase = next(iter(matcher._watchlists[0].terms))
    explained = []
    for word in ("exports", "exported", "exporter"):
        (match,) = matcher.match({"title": f"The {word} story", "language": "en"})
        explained.append(match.found_as)
        assert len(phrase.described) <= 2
    assert explained == [(f'"export*" as "{word}" (prefix)',) for word in ("exports", "exported", "exporter")]
    assert list(phrase.described) == [("exporter", "en")]  # the third into a full cache: started afresh


# --- word forms whose stem is not the start of the word -----------------------------------------------------


def test_a_stem_that_is_not_the_start_of_the_word_shares_their_common_letters() -> None:
    # French stems "application" to "appliqu": the forms share "appli", the letters both begin with.
    forms = stems.word_forms("application", ("fr",))
    assert forms is not None
    assert forms.prefix == "appli"
    assert forms.stems == (("fr", "appliqu"),)
    found = matches({"body": "Les applications mobiles", "language": "fr"}, terms=("application",))
    assert [m.found_as for m in found] == [('"applications", fr stem of "application"',)]


# --- snippets -----------------------------------------------------------------------------------------------


def test_a_mark_at_the_very_start_and_end_of_its_window_is_kept() -> None:
    (match,) = matches({"title": "Wescam"}, terms=("Wescam",), stem=False)
    assert [(s.field, s.text, s.marks) for s in match.snippets] == [("title", "Wescam", ((0, 6),))]


def test_one_snippet_per_window_and_field_even_where_fields_share_offsets() -> None:
    body = "Wescam sensor, " + "c" * 100 + " and a Wescam"
    (match,) = matches({"title": "Wescam sensor", "body": body}, terms=("Wescam",), stem=False)
    assert [(s.field, s.text, s.marks) for s in match.snippets] == [
        ("title", "Wescam sensor", ((0, 6),)),
        # The body's first mark has the title's offsets but not its field: the body's window is its own, and
        # the second mark, ending where that window ends, is in it rather than in a second snippet.
        ("body", body, ((0, 6), (122, 128))),
    ]


def test_a_mark_starting_where_an_earlier_window_starts_is_in_that_window() -> None:
    # Wescam's window starts 60 characters before it, after the first space there: where Baykar starts.
    body = "a" * 40 + " Baykar " + "b" * 51 + " Wescam"
    (match,) = matches({"body": body}, terms=("Wescam", "Baykar"), stem=False)
    assert [(s.text, s.marks) for s in match.snippets] == [(body[41:], ((0, 6), (59, 65)))]


@pytest.mark.parametrize(
    "query", ["Wescam", "Wescam AND lang:en", "Wescam AND feed:Gazette"], ids=["one", "language", "feed"]
)
def test_each_snippet_marks_only_what_lies_inside_it(query: str) -> None:
    """Two occurrences too far apart for one window make two snippets, each marking its own, also when another
    clause that holds has no place to mark (the article's language, its feed)."""
    body = "Wescam sensors. " + "x " * 150 + "Wescam again"
    (match,) = matches({"body": body, "language": "en", "feed": "Gazette"}, query=query, stem=False)
    snippets = [(s.text, s.marks) for s in match.snippets]
    assert [marks for _, marks in snippets] == [((0, 6),), ((58, 64),)]
    assert [text[a:b] for text, marks in snippets for a, b in marks] == ["Wescam", "Wescam"]


@pytest.mark.parametrize(
    ("text", "mark", "window"),
    [
        ("Ab cd efg Wescam and more", (10, 16), (0, 25)),  # within the lead: from the text's start
        ("x" * 50 + " " + "x" * 49 + " Wescam", (101, 107), (51, 107)),  # from the first space 60 back
        ("x" * 100 + "\nWescam", (101, 107), (101, 107)),  # no space there: from the mark itself
        (
            "Ab " + "x" * 57 + " Wescam",
            (61, 67),
            (3, 67),
        ),  # the lead reaches one letter in: from the next word
        (" Wescam here", (1, 7), (1, 12)),  # a space before the first word is left out, the word kept
        ("Wescam is here", (0, 6), (0, 14)),  # the whole text fits: not cut at its last space
        ("Wescam " + "y" * 300, (0, 6), (0, 6)),  # cut at the last space of the window
        ("Wescam\n" + "y" * 300, (0, 6), (0, 200)),  # no space to cut at: cut at the size
        ("Wescam  " + "z  " * 70, (0, 6), (0, 198)),  # cut at a space, the spaces before it trimmed
        (
            "Wescam " + "a" * 182 + " " + "b" * 10 + " " + "c" * 50,
            (0, 6),
            (0, 200),
        ),  # a space right at the size
    ],
)
def test_a_snippet_window_starts_and_ends_on_word_bounds(
    text: str, mark: tuple[int, int], window: tuple[int, int]
) -> None:
    assert _window(text, *mark) == window


def test_an_article_gets_three_snippets_at_most() -> None:
    body = " ".join(f"Wescam sensor number {n} " + "filler text " * 30 for n in range(5))
    [match] = compile_watchlists([WatchlistSpec("w", terms=("Wescam",))]).match({"title": "", "body": body})
    assert len(match.snippets) == 3
    assert [f"Wescam sensor number {n} " in snippet.text for n, snippet in enumerate(match.snippets)] == [
        True
    ] * 3


def test_evidence_is_equal_by_what_it_holds() -> None:
    evidence = Evidence("wescam", "body", [(1, 7)])
    assert evidence == Evidence("wescam", "body", [(1, 7)])
    assert evidence != Evidence("wescam", "title", [(1, 7)])
    assert evidence != Evidence("wescam", "body", [(1, 8)])
    assert evidence != Evidence("baykar", "body", [(1, 7)])
    assert evidence.__eq__("wescam") is NotImplemented


# --- triggers -----------------------------------------------------------------------------------------------


def test_a_union_of_triggers_is_always_when_one_of_them_is() -> None:
    assert union([frozenset({1}), frozenset({2, 3})]) == frozenset({1, 2, 3})
    assert union([frozenset({1}), ALWAYS]) is ALWAYS
    assert union([]) == frozenset()


def test_the_kept_word_form_verdicts_hold_at_most_their_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scan, "KEPT_LIMIT", 2)
    forms = stems.word_forms("export", ("en",))
    assert forms is not None
    checks = FormChecks()
    for word, expected in (("exports", (-1,)), ("exporter", (-1,)), ("exposure", ())):
        assert checks.keep((1, word, "en"), [(-1, len(forms.prefix), forms)]) == expected
        assert len(checks.kept) <= 2
    assert list(checks.kept) == [(1, "exposure", "en")]  # the third into a full store: started afresh


def test_the_words_known_per_language_are_dropped_only_when_new_ones_would_pass_the_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(scan, "WORDS_LIMIT", 4)
    lexicon = compile_watchlists([WatchlistSpec("w", terms=("export",), languages=("en",))])._lexicon
    lexicon.learn({"exports", "imports"}, "en")
    lexicon.learn({"exported", "banana"}, "en")  # four words: at the limit, all kept
    assert lexicon.word_patterns("en").keys() == {"exports", "imports", "exported", "banana"}
    assert lexicon.word_patterns("en")["exports"] != ()
    assert lexicon.word_patterns("en")["banana"] == ()
    lexicon.learn({"exporting", "apple"}, "en")  # six: the known ones dropped, the new ones kept
    assert lexicon.word_patterns("en").keys() == {"exporting", "apple"}
    assert lexicon.word_patterns("fr") == {}  # each language on its own


# --- the reference evaluator's explanations (``monitor match``) -------------------------------------------


def explained(query: str, body: str) -> tuple[bool, list[str]]:
    """The reference evaluator's verdict and reasons, checked against the compiled matcher's verdict."""
    spec = WatchlistSpec("w", query=query, stem=False)
    explanation = explain_spec(spec, {"body": body})
    assert bool(compile_watchlists([spec]).match({"body": body})) is explanation.matched
    return explanation.matched, explanation.lines


@pytest.mark.parametrize(
    ("query", "body", "verdict"),
    [
        ('"export permit" NEAR/3 permit', "an export permit was granted", False),  # one word is not two sides
        ('permit NEAR/3 "export permit"', "an export permit was granted", False),
        ('"export permit" NEAR/3 permit', "an export permit and a permit", True),
        ('permit NEAR/3 "export permit"', "a permit and an export permit", True),
    ],
)
def test_near_sides_that_overlap_are_not_close(query: str, body: str, verdict: bool) -> None:
    assert explained(query, body)[0] is verdict


def test_near_holds_at_its_distance_exactly_and_not_one_word_further() -> None:
    matched, lines = explained("Wescam NEAR/2 Baykar", "Wescam sensors on Baykar drones")
    assert matched
    assert (
        lines[0]
        == 'query: NEAR/2: "Wescam" and "Baykar" are 2 words apart in body: "Wescam" exact; "Baykar" exact'
    )
    matched, lines = explained("Wescam NEAR/2 Baykar", "Wescam sensors found on Baykar drones")
    assert not matched
    assert lines[0] == 'query: NEAR/2: "Wescam" and "Baykar" are 3 words apart (in body)'


def test_a_phrase_not_found_names_its_scope_only_when_it_has_one() -> None:
    assert explained("title:Wescam", "Wescam sensors")[1] == ['query: "Wescam" not found in title']
    assert explained("Baykar", "Wescam sensors")[1] == ['query: "Baykar" not found']
