"""The automaton that finds every written pattern in a folded field (``scan.PatternScanner``): each occurrence as
(end, pattern), ``end`` the offset of its last character in the Python string, overlapping ones included, in the
order of their ends; checked against a search of each pattern with ``str.find``."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.match import compile_watchlists
from monitor.match.scan import PatternScanner
from monitor.models import WatchlistSpec


def found_by_find(patterns: dict[str, int], text: str) -> list[tuple[int, int]]:
    """Every occurrence of every pattern, overlapping ones included, by a plain search."""
    found = []
    for pattern_text, number in patterns.items():
        at = text.find(pattern_text)
        while at != -1:
            found.append((at + len(pattern_text) - 1, number))
            at = text.find(pattern_text, at + 1)
    return sorted(found)


def test_each_occurrence_is_given_by_the_offset_of_its_last_character() -> None:
    scanner = PatternScanner({" export permit ": 7, " permit": 3})
    text = " new export permits and an export permit "
    assert scanner.hits(text) == [(17, 3), (39, 3), (40, 7)]
    assert text[17 - len(" permit") + 1 : 18] == " permit"
    assert text[40 - len(" export permit ") + 1 : 41] == " export permit "


def test_overlapping_occurrences_of_several_patterns_and_of_one_are_all_given() -> None:
    scanner = PatternScanner({" a b ": 0, " b c ": 1, " b": 2, " a a": 3})
    assert scanner.hits(" a b c ") == [(3, 2), (4, 0), (6, 1)]
    assert scanner.hits(" a a a ") == [(3, 3), (5, 3)]


def test_offsets_count_characters_not_bytes_in_text_that_is_not_ascii() -> None:
    scanner = PatternScanner({" türkiye ": 0, " байрактар ": 1, " ß": 2})
    text = " 터키 türkiye байрактар ßx "
    hits = scanner.hits(text)
    assert hits == found_by_find({" türkiye ": 0, " байрактар ": 1, " ß": 2}, text)
    assert [text[end] for end, _ in hits] == [" ", " ", "ß"]


def test_the_pattern_numbers_given_are_the_callers_not_the_order_written() -> None:
    scanner = PatternScanner({" zeta ": 41, " alpha ": 5})
    assert scanner.hits(" alpha zeta ") == [(6, 5), (11, 41)]


def test_no_patterns_and_no_text_find_nothing() -> None:
    assert PatternScanner({}).hits(" anything at all ") == []
    assert PatternScanner({" a ": 0}).hits("") == []
    assert PatternScanner({" a ": 0}).hits(" b ") == []


def test_a_scanner_keeps_no_state_between_texts() -> None:
    scanner = PatternScanner({" wescam ": 0})
    assert scanner.hits(" wescam ") == scanner.hits(" wescam ") == [(7, 0)]
    assert scanner.hits(" wescamp ") == []


def test_a_matcher_of_feed_clauses_only_scans_no_pattern_and_still_matches() -> None:
    matcher = compile_watchlists([WatchlistSpec("from-the-wire", query="feed:Wire")])
    assert [m.watchlist for m in matcher.match({"title": "Anything", "feed": "Wire"})] == ["from-the-wire"]
    assert matcher.match({"title": "Anything", "feed": "Other"}) == []


WORDS = st.text(alphabet="abß ıİçö", min_size=1, max_size=4)


@settings(max_examples=300, deadline=None)
@given(
    patterns=st.lists(WORDS.map(lambda word: " " + word), min_size=1, max_size=8, unique=True),
    text=st.text(alphabet="abß ıİçö", max_size=40),
)
def test_every_occurrence_is_found_as_a_plain_search_finds_it(patterns: list[str], text: str) -> None:
    numbered = {pattern: 100 - index for index, pattern in enumerate(patterns)}
    hits = PatternScanner(numbered).hits(text)
    assert sorted(hits) == found_by_find(numbered, text)
    ends = [end for end, _ in hits]
    assert ends == sorted(ends)
