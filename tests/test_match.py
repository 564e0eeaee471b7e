"""The watchlist matcher: folding, words, each query operator, scopes, snippets, errors, explanations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from monitor.errors import QueryError
from monitor.match import Explanation, compile_watchlists, fold_text, parse_query
from monitor.models import Match, WatchlistSpec

SAMPLE = Path("/work/shared/samples/wescam-turkey-2020.txt")


def matches(body: str, *, title: str = "", **spec: Any) -> list[Match]:
    matcher = compile_watchlists([WatchlistSpec("w", **spec)])
    return matcher.match(
        {"title": title, "body": body, "feed": "globe", "url": "https://example.ca/a/wescam-news"}
    )


def hit(body: str, **spec: Any) -> bool:
    return bool(matches(body, **spec))


# --- folding and words --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Défense nationale, ÉTÉ naïf", "defense nationale ete naif"),
        ("İSTANBUL ıspanak İzmir", "istanbul ispanak izmir"),
        ("Straße STRASSE", "strasse strasse"),
        ("ﬁnance ½", "finance 1 2"),
        ("L3Harris WESCAM’s Wescam-built", "l3harris wescam s wescam built"),
    ],
)
def test_fold_text(text: str, folded: str) -> None:
    assert fold_text(text) == folded


@pytest.mark.parametrize("text", ["Wescam’s gear", "Wescam-built turrets", "L3Harris Wescam", "WESCAM."])
def test_word_inside_punctuation_matches(text: str) -> None:
    assert hit(text, terms=("Wescam",))


def test_word_inside_a_longer_word_does_not_match() -> None:
    assert not hit("The WesCamp summer camp", terms=("Wescam",))


@pytest.mark.parametrize(
    ("term", "text"),
    [("Turquie", "la TURQUIE"), ("istanbul", "İstanbul"), ("Istanbul", "ıstanbul"), ("Strasse", "Straße")],
)
def test_folding_applies_to_terms_and_text(term: str, text: str) -> None:
    assert hit(text, terms=(term,))


def test_phrase_and_prefix_terms() -> None:
    assert hit("new export-permits were issued", terms=("export permits",))
    assert hit("export permits", terms=("export permit*",))
    assert not hit("export the permits", terms=("export permits",))
    assert not hit("an exporter", terms=("export",), stem=False)
    assert not hit("an exporter", terms=("=export",))
    assert hit("an exporter", terms=("export*",))


# --- the query language -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "text", "expected"),
    [
        ("Wescam Baykar", "Wescam sold to Baykar", True),
        ("Wescam Baykar", "Wescam alone", False),
        ("Wescam AND Baykar", "Baykar and Wescam", True),
        ("Wescam OR Baykar", "only Baykar", True),
        ("Wescam OR Baykar", "neither", False),
        ("Wescam NOT hockey", "Wescam at the hockey game", False),
        ("Wescam -hockey", "Wescam at the game", True),
        ("Wescam and Baykar", "Wescam Baykar", False),  # lower-case 'and' is a word to find
        ("Wescam and Baykar", "Wescam and Baykar", True),
        ("Wescam OR Baykar TB2", "Wescam", True),  # AND binds tighter than OR
        ("(Wescam OR Baykar) TB2", "Wescam", False),
        ('"export permits"', "export permits", True),
        ('"export permits"', "permits export", False),
        ("permit*", "the permitting office", True),
        ('"MX-15"', "an MX 15 turret", True),
        ("NOT hockey", "nothing about sport", False),  # only NOT clauses: matches nothing
        ("Wescam OR NOT hockey", "nothing about sport", True),
    ],
)
def test_operators(query: str, text: str, expected: bool) -> None:
    assert hit(text, query=query) is expected


def _gap_text(gap: int) -> str:
    return "export " + " ".join(["x"] * gap) + " permits"


@pytest.mark.parametrize(("gap", "expected"), [(0, True), (4, True), (5, False)])
def test_near_at_and_beyond_the_limit(gap: int, expected: bool) -> None:
    assert hit(_gap_text(gap), query="export NEAR/4 permits") is expected
    assert hit(_gap_text(gap).replace("export", "@").replace("permits", "export").replace("@", "permits"),
               query="export NEAR/4 permits") is expected  # fmt: skip


def test_near_defaults_to_ten_and_measures_phrases_from_their_ends() -> None:
    assert hit(_gap_text(10), query="export NEAR permits")
    assert not hit(_gap_text(11), query="export NEAR permits")
    text = "the MX-15 " + "x " * 20 + "Bayraktar TB2 drones"
    query = '(Wescam OR "MX-15") NEAR/20 (Baykar OR "Bayraktar TB2")'
    assert hit(text, query=query)
    assert not hit(text, query=query.replace("/20", "/19"))


def test_near_never_spans_fields() -> None:
    assert not matches("Baykar drones", title="Wescam", query="Wescam NEAR/20 Baykar")


def test_field_scopes() -> None:
    assert matches("nothing", title="Baykar drones", query="title:Baykar")
    assert not matches("Baykar drones", title="nothing", query="title:Baykar")
    assert matches("x", query="url:wescam")
    assert not matches("x", query="url:baykar")
    assert matches("Baykar", query="feed:globe Baykar")
    assert not matches("Baykar", query="feed:star Baykar")
    assert matches("nothing", title="Wescam", query='title:(Baykar OR "L3Harris Wescam" OR Wescam)')


def test_a_phrase_never_spans_two_fields() -> None:
    assert not matches("permits granted", title="Canada halts export", terms=("export permits",))


def test_feed_restriction_and_exclude() -> None:
    assert hit("Wescam", terms=("Wescam",), feeds=("Globe",))
    assert not hit("Wescam", terms=("Wescam",), feeds=("Star",))
    assert not hit("Wescam hockey night", terms=("Wescam",), exclude=("hockey",))


def test_matches_come_in_spec_order_with_terms_as_written() -> None:
    specs = [
        WatchlistSpec("drones", query="Baykar NEAR/5 drones"),
        WatchlistSpec("none", terms=("Ploughshares",)),
        WatchlistSpec("wescam", terms=("Wescam", "export permit*")),
    ]
    matcher = compile_watchlists(specs)
    found = matcher.match({"title": "Wescam export permits", "body": "Baykar builds drones."})
    assert [m.watchlist for m in found] == ["drones", "wescam"]
    assert found[0].matched == ("Baykar NEAR/5 drones",)
    assert found[1].matched == ("Wescam", "export permit*")
    assert found[1].fields == ("title",)
    assert matcher.names == ("drones", "none", "wescam")


def test_a_feed_clause_never_takes_the_snippets_of_another_match() -> None:
    """Matches of one article share their snippets by the identity of their evidence: a feed clause's evidence
    (no place in the text) is kept like any other, so no later evidence made at its address takes its empty
    snippets. Each article's feed-only match is read first, then the match on a word."""
    specs = [WatchlistSpec("wire", query="feed:wire"), WatchlistSpec("wescam", terms=("Wescam",))]
    matcher = compile_watchlists(specs)
    for number in range(300):
        fields = {"title": f"Report {number}", "body": f"Item {number}: a Wescam sensor.", "feed": "wire"}
        wire, wescam = matcher.match(fields)
        assert wire.matched == ("feed:wire",) and wire.snippets == ()
        assert wire.fields == ("feed",)
        assert _marked(wescam) == ["Wescam"], number
    scan = matcher._scan({"title": "Wescam", "feed": "wire"})
    feed_clause = matcher._watchlists[0].query_clauses[0]
    assert feed_clause.evidence(scan) is feed_clause.evidence(scan)


# --- snippets -----------------------------------------------------------------------------------------------


def _marked(match: Match) -> list[str]:
    return [s.text[a:b] for s in match.snippets for a, b in s.marks]


def test_snippet_marks_survive_length_changing_folds() -> None:
    body = "ﬁrst İİİ ßß Straße: the İSTANBUL ﬁrm WESCAM’s gear and Straße again"
    [match] = matches(body, terms=("Wescam", "Straße"))
    assert set(_marked(match)) == {"WESCAM", "Straße"}


def test_snippets_of_the_founding_story() -> None:
    story = SAMPLE.read_text(encoding="utf-8")
    [match] = matches(story, terms=("Wescam", "export permit*", "Project Ploughshares"))
    assert set(match.matched) >= {"Wescam", "export permit*"}
    assert 1 <= len(match.snippets) <= 3
    for snippet in match.snippets:
        assert snippet.text in story.replace("\n", " ")
        assert len(snippet.text) <= 260
        assert snippet.marks
    assert "Wescam" in _marked(match)
    assert "export permits" in _marked(match)
    [near] = matches(story, query='(Wescam OR "MX-15") NEAR/20 (Baykar OR Bayraktar OR TB2)')
    assert {"Wescam", "Baykar"} <= set(_marked(near))


def test_snippets_start_and_end_on_word_boundaries() -> None:
    body = " ".join(f"word{i}" for i in range(200)) + " Wescam " + " ".join(f"tail{i}" for i in range(200))
    [match] = matches(body, terms=("Wescam",))
    text = match.snippets[0].text
    assert text.split()[0] in body.split() and text.split()[-1] in body.split()


# --- errors and explanations --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "position", "expected"),
    [
        ("(Wescam OR Baykar", 17, "')'"),
        ("export NEAR/4", 13, "a term after NEAR/4"),
        ("titel:Baykar", 0, "unknown field 'titel' (valid: title, summary, body, url, feed, lang)"),
        ('"export permits', 15, "closing"),
        ("Wescam AND", 10, "a term"),
        ("Wescam NEAR (Baykar AND TB2)", 12, "beside NEAR"),
        # an operator where a term must stand is never read as a term or as NOT
        ("AND Wescam", 0, "a term, not 'AND'"),
        ("OR Wescam", 0, "a term, not 'OR'"),
        ("Wescam OR AND Baykar", 10, "a term, not 'AND'"),
        ("(AND Wescam)", 1, "a term, not 'AND'"),
    ],
)
def test_parse_errors_give_position_and_expectation(query: str, position: int, expected: str) -> None:
    with pytest.raises(QueryError) as caught:
        parse_query(query)
    assert caught.value.position == position
    assert expected in caught.value.expected


def test_compile_names_the_watchlist_with_the_bad_query() -> None:
    with pytest.raises(QueryError) as caught:
        compile_watchlists([WatchlistSpec("good", terms=("x",)), WatchlistSpec("bad", query="(x")])
    assert caught.value.watchlist == "bad"
    assert "bad" in str(caught.value)


def test_explanations() -> None:
    matcher = compile_watchlists(
        [
            WatchlistSpec("both", query="Wescam Baykar"),
            WatchlistSpec("near", query="export NEAR/4 permits"),
            WatchlistSpec("sport", terms=("Wescam",), exclude=("hockey",)),
        ]
    )
    body = "Wescam export a b c d e f g permits, at hockey"
    both, near, sport = matcher.explain({"body": body})
    assert isinstance(both, Explanation)
    assert both.name == "both" and not both.matched
    assert any('"Baykar" not found' in line for line in both.lines)
    assert any('"Wescam" found in body' in line for line in both.lines)
    assert not near.matched
    assert any('NEAR/4: "export" and "permits" are 7 words apart' in line for line in near.lines)
    assert not sport.matched
    assert 'excluded by "hockey" in body' in sport.lines


def test_an_explanation_quotes_the_whole_form_found() -> None:
    matcher = compile_watchlists(
        [
            WatchlistSpec("permits", terms=("export permit",), languages=("en",)),
            WatchlistSpec("licence", terms=("licence",), languages=("fr",)),
        ]
    )
    [permits, _] = matcher.explain({"body": "New export permits were granted.", "language": "en"})
    assert permits.lines == [
        'term "export permit" found in body: "export permits", en stem of "export permit"'
    ]
    [_, licence] = matcher.explain({"body": "Les licences sont suspendues.", "language": "fr"})
    assert licence.lines == ['term "licence" found in body: "licences", fr stem of "licence"']


def test_an_explanation_counts_the_words_between_whichever_side_comes_first() -> None:
    matcher = compile_watchlists([WatchlistSpec("near", query="Turkey NEAR/8 Wescam")])
    [near] = matcher.explain({"body": "Reports say Wescam sensors went to Turkey"})
    assert near.matched
    assert any('"Turkey" and "Wescam" are 3 words apart' in line for line in near.lines), near.lines


def test_an_article_with_more_distinct_words_than_are_kept_still_finds_its_word_forms() -> None:
    """The words kept between articles are bounded (scan.WORDS_LIMIT); an article that alone goes over the limit
    keeps its own words known, and the next article is matched as if nothing had been dropped."""
    from monitor.match.scan import WORDS_LIMIT

    matcher = compile_watchlists([WatchlistSpec("permits", terms=("export permit",), languages=("en",))])
    filler = " ".join(f"w{n}" for n in range(WORDS_LIMIT + 10))
    huge = {"title": "Report", "body": f"{filler} export permits", "language": "en"}
    assert [m.watchlist for m in matcher.match(huge)] == ["permits"]
    after = {"title": "Export permits granted", "body": "Nothing else.", "language": "en"}
    assert [m.watchlist for m in matcher.match(after)] == ["permits"]


def test_groups_and_nots_nest_up_to_the_limit() -> None:
    from monitor.match.query import MAX_NESTING

    parse_query("(" * MAX_NESTING + "Wescam" + ")" * MAX_NESTING)
    parse_query("NOT " * (MAX_NESTING - 1) + "(Wescam)")
    with pytest.raises(QueryError) as caught:
        parse_query("(" * (MAX_NESTING + 1) + "Wescam" + ")" * (MAX_NESTING + 1))
    assert caught.value.position == MAX_NESTING
    assert f"at most {MAX_NESTING} groups and NOTs" in caught.value.expected


def test_an_unknown_alias_names_the_defined_ones_or_none() -> None:
    with pytest.raises(QueryError) as caught:
        parse_query("@turkey")
    assert "unknown alias '@turkey' (defined: none)" in caught.value.expected
    with pytest.raises(QueryError) as caught:
        parse_query("@turkey", {"wescam": ("Wescam",), "baykar": ("Baykar",)})
    assert "unknown alias '@turkey' (defined: @wescam, @baykar)" in caught.value.expected


@pytest.mark.parametrize(
    ("query", "position", "expected"),
    [
        ("a NEAR/ b", 7, "a number after NEAR/"),
        ('""', 0, "a term with at least one letter or digit"),
        ("Wescam AND", 10, "a term"),
        ("Wescam AND )", 11, "a term, not ')'"),
    ],
)
def test_parse_errors_say_exactly_what_was_expected(query: str, position: int, expected: str) -> None:
    with pytest.raises(QueryError) as caught:
        parse_query(query)
    assert (caught.value.position, caught.value.expected) == (position, expected)


def test_groups_and_nots_one_after_another_do_not_count_as_nested() -> None:
    from monitor.match.query import MAX_NESTING

    parse_query(" ".join(["(Wescam OR Baykar)"] * (MAX_NESTING + 8)))
    parse_query(" ".join(["NOT Wescam"] * (MAX_NESTING + 8)))


def test_a_near_clause_that_holds_says_how_each_side_was_found() -> None:
    """The issue's own query: "licences d'exportation" near "Turquie" is explained side by side, the alias form
    and the word form named, with the distance in words."""
    from monitor.match.aliases import resolve_aliases

    aliases = resolve_aliases(
        {"permit": ["export permit", "licence d'exportation"], "turkey": ["Turkey", "Turquie"]}
    )
    matcher = compile_watchlists([WatchlistSpec("w", query="@permit NEAR/8 @turkey")], aliases)
    body = "Le Canada a suspendu des licences d'exportation vers la Turquie."
    (french,) = matcher.explain({"body": body, "language": "fr"})
    assert french.matched
    assert french.lines == [
        'query: NEAR/8: @permit and @turkey are 2 words apart in body: @permit via "licence d\'exportation" as '
        '"licences d exportation" (fr stem); @turkey via "Turquie"'
    ]
    (english,) = matcher.explain({"body": "Export permits to Turkey were halted.", "language": "en"})
    assert english.lines == [
        'query: NEAR/8: @permit and @turkey are 1 word apart in body: @permit via "export permit" as '
        '"export permits" (en stem); @turkey via "Turkey"'
    ]
