"""Recall: aliases, word forms (Snowball stems), languages; and their configuration errors at path:line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from monitor.errors import ConfigError, QueryError
from monitor.match import compile_watchlists
from monitor.match.aliases import AliasError, resolve_aliases
from monitor.match.language import (
    DETECTED_LANGUAGES,
    MIN_CONFIDENCE,
    detect_language,
    detector_languages,
    has_letters,
    sure_language,
)
from monitor.match.stems import word_forms
from monitor.models import Match, WatchlistSpec
from monitor.runtime import load_config

ALIASES = resolve_aliases(
    {
        "turkey": ["Turkey", "Türkiye", "Turquie", "Türkei", "@ankara"],
        "ankara": ["Ankara government"],
        "permit": ["export permit", "licence d'exportation", "Ausfuhrgenehmigung", "ihracat izin*"],
        "wescam": ["=Wescam", "MX-15"],
    }
)


def matches(body: str, language: str = "", **spec: Any) -> list[Match]:
    matcher = compile_watchlists([WatchlistSpec("w", **spec)], ALIASES)
    fields = {"title": "", "summary": "", "body": body, "url": "", "feed": "f", "language": language}
    found = matcher.match(fields)
    explained = matcher.explain(fields)[0]
    assert explained.matched == bool(found), explained.lines  # the reference agrees
    return found


def hit(body: str, language: str = "", **spec: Any) -> bool:
    return bool(matches(body, language, **spec))


# --- aliases ------------------------------------------------------------------------------------------------


def test_an_alias_stands_for_each_of_its_forms_in_terms_queries_and_scopes() -> None:
    assert hit("Ankara says Türkiye will buy", terms=("@turkey",))
    assert hit("the Ankara government said", terms=("@turkey",))  # nested alias
    assert hit("licence d'exportation vers la Turquie", query="@permit NEAR/8 @turkey")
    assert not hit("Turquie. " + "mot " * 9 + "licence d'exportation", query="@permit NEAR/8 @turkey")
    assert hit("x", query="title:@turkey") is False
    matcher = compile_watchlists([WatchlistSpec("w", query="title:@turkey")], ALIASES)
    assert matcher.match({"title": "Türkei", "body": ""})
    assert not matcher.match({"title": "", "body": "Türkei"})
    assert not hit("Wescam over Türkiye", terms=("@wescam",), exclude=("@turkey",))
    assert hit("Wescam over Iraq", query="@wescam -@turkey")


def test_alias_evidence_says_which_form_was_found() -> None:
    found = matches("Ankara and Türkiye", terms=("@turkey",))
    assert found[0].matched == ("@turkey",)
    assert found[0].found_as == ('@turkey via "Türkiye"',)


def test_unknown_alias_in_a_query_or_term_is_a_query_error() -> None:
    with pytest.raises(QueryError, match="unknown alias '@nowhere'"):
        compile_watchlists([WatchlistSpec("w", query="x OR @nowhere")], ALIASES)
    with pytest.raises(QueryError, match="unknown alias '@nowhere'"):
        compile_watchlists([WatchlistSpec("w", terms=("@nowhere",))], ALIASES)


def test_alias_definitions_are_checked() -> None:
    with pytest.raises(AliasError, match=r"alias cycle: @a -> @b -> @a"):
        resolve_aliases({"a": ["x", "@b"], "b": ["@a"]})
    with pytest.raises(AliasError, match="unknown alias '@c'"):
        resolve_aliases({"a": ["@c"]})
    with pytest.raises(AliasError, match="has no forms"):
        resolve_aliases({"a": []})
    with pytest.raises(AliasError, match="no letter or digit"):
        resolve_aliases({"a": ["--"]})
    assert resolve_aliases({"a": ["x", "@b"], "b": ["y", "x"]})["a"] == ("x", "y")


# --- word forms ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("term", "text", "language"),
    [
        ("export permit", "new export permits were issued", "en"),
        ("licence d'exportation", "des licences d'exportation vers la Turquie", "fr"),
        ("Ausfuhrgenehmigung", "Ausfuhrgenehmigungen für die Türkei", "de"),
        ("licencia de exportación", "las licencias de exportación", "es"),
        ("export permit", "export permits", ""),  # language unknown: every watchlist language's stems
    ],
)
def test_words_match_their_inflected_forms(term: str, text: str, language: str) -> None:
    assert hit(text, language, terms=(term,))
    assert not hit(text, language, terms=(term,), stem=False)


def test_word_forms_keep_word_bounds_and_precision() -> None:
    assert not hit("the WesCamp summit", "en", terms=("Wescam",))
    assert not hit("un cadre licencié par une société d'exportation", "fr", terms=("licence d'exportation",))
    assert not hit("a permission to export", "en", terms=("permit",))
    assert not hit("exports permitted", "en", terms=("=export",))


def test_equals_keeps_one_word_exact_and_is_refused_on_a_phrase() -> None:
    assert hit("Turkey", "en", terms=("=Turkey",)) and not hit("Turkeys", "en", terms=("=Turkey",))
    assert hit("Turkeys", "en", query='="Turkey"') is False
    with pytest.raises(QueryError, match="cannot apply to a phrase"):
        compile_watchlists([WatchlistSpec("w", terms=("=export permit",))])
    with pytest.raises(QueryError, match="cannot apply to a phrase"):
        compile_watchlists([WatchlistSpec("w", query='="export permit"')])


def test_stems_are_taken_in_the_article_language() -> None:
    # German stems "Ausfuhrgenehmigungen" to the term's stem; the English stemmer does not.
    assert hit("Ausfuhrgenehmigungen", "de", terms=("Ausfuhrgenehmigung",))
    assert not hit("Ausfuhrgenehmigungen", "en", terms=("Ausfuhrgenehmigung",), languages=("en", "de"))


def test_word_forms_explain_the_stem_and_language() -> None:
    found = matches("des licences d'exportation", "fr", terms=("licence",))
    assert found[0].found_as == ('"licences", fr stem of "licence"',)
    assert matches("Wescam", "en", terms=("Wescam",))[0].found_as == ('"Wescam" exact',)


def test_short_words_and_codes_are_exact() -> None:
    assert word_forms("tb2", ("en",)) is None
    assert word_forms("mx15d", ("en",)) is None  # letters and digits: a code, however long
    assert word_forms("news", ("en",)) is not None  # letters only: stemmed
    assert word_forms("izin", ("tr",)) is None  # Turkish stems "izin" to "iz": too short to be safe
    assert not hit("TB22", "en", terms=("TB2",))


# --- languages ----------------------------------------------------------------------------------------------


def test_languages_restrict_a_watchlist_but_never_drop_an_unknown_language() -> None:
    assert hit("Wescam", "fr", terms=("Wescam",), languages=("fr",))
    assert not hit("Wescam", "en", terms=("Wescam",), languages=("fr",))
    assert hit("Wescam", "", terms=("Wescam",), languages=("fr",))


def test_lang_scope() -> None:
    assert hit("Wescam", "fr", query="Wescam lang:fr")
    assert not hit("Wescam", "de", query="Wescam lang:fr")
    assert hit("Wescam", "", query="Wescam lang:fr")  # unknown language: matched in every language
    assert hit("Wescam", "de", query="Wescam lang:(fr OR de)")
    with pytest.raises(QueryError, match="unknown language 'xx'"):
        compile_watchlists([WatchlistSpec("w", query="Wescam lang:xx")])


def test_detection_of_clear_and_too_short_texts() -> None:
    assert (
        detect_language("Ausfuhrgenehmigungen für die Türkei", "Die Bundesregierung hat genehmigt.") == "de"
    )
    assert detect_language("Wescam") is None
    assert detect_language("") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("abcdefghijk", False),  # 11 letters: one short
        ("abcdefghijkl", True),  # exactly enough
        ("12345 abc-def 6789 ghi jkl", True),  # digits and signs are not letters
        ("12345 abc-def 6789 ghi jk", False),
        (" " * 500 + "abcdefghijkl", True),  # every letter after the counted start
        (" " * 500 + "abcdefghijk", False),
        ("ab" * 4 + " " * 500 + "abcd", True),  # letters on both sides of the start
        ("Türkiye Ausfuhr", True),  # letters of any script
    ],
)
def test_has_letters_counts_letters_anywhere_in_the_text(text: str, expected: bool) -> None:
    assert has_letters(text, 12) is expected


def test_the_detectors_answer_is_taken_from_its_least_confidence_on() -> None:
    assert MIN_CONFIDENCE == 0.5
    assert sure_language("fr", 0.5) == "fr"
    assert sure_language("fr", 0.4999) is None
    assert sure_language("de", 1.0) == "de"


def test_a_text_under_twelve_letters_is_not_handed_to_the_detector() -> None:
    assert detect_language("1 2 3 4 5 6 7 8 9 0 Bundesregie") is None  # 11 letters
    assert detect_language("Bundesregierung") == "de"


def test_the_list_of_detected_languages_is_the_models() -> None:
    assert detector_languages() == DETECTED_LANGUAGES


# --- configuration ------------------------------------------------------------------------------------------

CONFIG = """\
[[alias]]
name = "a"
forms = ["x", "@b"]

[[alias]]
name = "b"
forms = ["@a"]

[[watchlist]]
name = "w"
terms = ["x"]
languages = ["en", "zz"]
"""


def problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "monitor.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path, {})
    return [problem.replace(str(path), "CONFIG") for problem in caught.value.problems]


def test_alias_cycle_and_unknown_language_are_reported_at_their_lines(tmp_path: Path) -> None:
    assert problems(tmp_path, CONFIG) == [
        'CONFIG:3: [[alias]] "a": alias cycle: @a -> @b -> @a',
        "CONFIG:12: [[watchlist]] \"w\": unknown language code 'zz' (use ISO 639-1 codes such as en, fr, tr)",
    ]


def test_a_wrong_alias_is_reported_once_not_again_at_each_watchlist_naming_it(tmp_path: Path) -> None:
    """A watchlist naming a defined alias that is wrong (a cycle, no forms) is not also said to name an unknown
    one; an alias that is really unknown still is, in the same run."""
    cycle = '[[alias]]\nname = "a"\nforms = ["@b"]\n\n[[alias]]\nname = "b"\nforms = ["@a"]\n\n'
    watchlist = '[[watchlist]]\nname = "w"\nterms = ["@a", "@b"]\n'
    assert problems(tmp_path, cycle + watchlist) == ['CONFIG:3: [[alias]] "a": alias cycle: @a -> @b -> @a']
    found = problems(tmp_path, cycle + watchlist.replace('"@b"', '"@nope"'))
    assert len(found) == 2 and found[0].startswith("CONFIG:3: [[alias]]")
    assert (
        found[1].startswith("CONFIG:11: [[watchlist]]")
        and "unknown alias '@nope' (defined: @a, @b)" in found[1]
    )


def test_unknown_alias_and_empty_forms_are_reported_at_their_lines(tmp_path: Path) -> None:
    text = '[[alias]]\nname = "a"\nforms = []\n\n[[watchlist]]\nname = "w"\nterms = ["x"]\nquery = "@nope"\n'
    found = problems(tmp_path, text)  # every error in one run: the empty alias and the unknown one
    assert found[0] == "CONFIG:3: [[alias]] \"a\": alias '@a' has no forms: give at least one word or phrase"
    assert (
        len(found) == 2
        and found[1].startswith("CONFIG:8: [[watchlist]]")
        and "unknown alias '@nope'" in found[1]
    )
    text = '[[alias]]\nname = "a"\nforms = ["x"]\n\n[[watchlist]]\nname = "w"\nquery = "y OR @nope"\n'
    found = problems(tmp_path, text)
    assert (
        len(found) == 1
        and found[0].startswith("CONFIG:7: [[watchlist]]")
        and "unknown alias '@nope'" in found[0]
    )
    text = '[[watchlist]]\nname = "w"\nterms = ["=export permit"]\n'
    assert problems(tmp_path, text)[0].startswith("CONFIG:3: [[watchlist]]")


def test_the_shipped_config_finds_the_story_in_five_languages() -> None:
    config = load_config(Path(__file__).resolve().parent.parent / "config" / "monitor.toml", {})

    def arms(body: str, language: str) -> bool:
        fields = {"title": "", "summary": "", "body": body, "url": "", "feed": "x", "language": language}
        return any(m.watchlist == "arms-exports" for m in config.matcher.match(fields))

    assert arms("Canada suspended export permits for Turkey after the drone strikes", "en")
    assert arms("Ottawa a suspendu les licences d'exportation vers la Turquie", "fr")
    assert arms("Kanada hat die Ausfuhrgenehmigungen für die Türkei ausgesetzt", "de")
    assert arms("Kanada, Türkiye'ye ihracat izinlerini askıya aldı", "tr")
    assert arms("Canadá suspendió las licencias de exportación a Turquía", "es")
    assert not arms("Roast the turkey; a permit is not needed for the export of pies", "en")
