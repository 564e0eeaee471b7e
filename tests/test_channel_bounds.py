"""Where the chat layouts draw their lines, exactly: a title cut at its limit, a link at its limit, a body at
the service's limit, and the highlighted runs of a snippet (pure functions of values)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from monitor.models import Snippet
from monitor.notify.channels import PLAIN, Channel, Layout, clip, render_chat, render_item, size, snippet_runs
from monitor.notify.items import AlertItem, WatchlistMatch

UTC_ZONE = ZoneInfo("UTC")
WHEN = datetime(2026, 11, 3, 14, 5, tzinfo=UTC)
URL = "https://news.example.org/drones?id=7"


def item(title: str = "Wescam sensors on drones", url: str | None = URL, *snippets: Snippet) -> AlertItem:
    return AlertItem(
        key=title, title=title, url=url, outlet="Example News", published=WHEN,
        matches=(WatchlistMatch("arms", ("Wescam",)),), snippets=snippets,
    )  # fmt: skip


def test_a_title_at_its_limit_is_kept_whole_and_one_character_over_is_cut() -> None:
    assert clip("abcde", 5) == "abcde"
    assert clip("abcdef", 5) == "abcd…"
    assert clip("  abc   de ", 6) == "abc de"  # on one line first, then measured


def test_only_the_start_of_a_huge_text_is_looked_at_and_what_is_left_out_is_marked() -> None:
    # the first 8 x limit characters collapse to one word: the rest was not looked at, so it is cut
    assert clip("a" + " " * 50 + "b", 5) == "a…"
    assert clip("a" + " " * 30 + "b", 5) == "a b"


def test_a_cut_never_splits_a_character_built_of_several_down_to_nothing() -> None:
    assert clip("e\u0301" * 10, 4) == "e\u0301…"  # not between a letter and its accent
    assert clip("\u0301" * 10, 3) == "…"  # only marks: nothing is left before the cut, and nothing after it


def test_a_link_at_its_limit_is_shown_and_a_longer_one_is_left_out() -> None:
    shown = render_item(Layout(PLAIN, UTC_ZONE, link_limit=len(URL)), item())
    assert URL in shown
    hidden = render_item(Layout(PLAIN, UTC_ZONE, link_limit=len(URL) - 1), item())
    assert URL not in hidden and "Wescam sensors on drones" in hidden


def test_a_body_exactly_at_the_services_limit_is_sent_whole() -> None:
    text = "Canadian Wescam sensors were found on the drones. " + "The export permits were questioned. " * 6
    snippet = Snippet("body", text.strip(), ((9, 15),))
    items = [item("Wescam sensors on drones", URL, snippet)]
    roomy = Channel("t", PLAIN, 10_000, shows_title=True, body_format=None)
    body = render_chat(roomy, items, "subject", zone=UTC_ZONE, more="+{count} more", empty="none")
    exact = Channel("t", PLAIN, size(body), shows_title=True, body_format=None)
    assert render_chat(exact, items, "subject", zone=UTC_ZONE, more="+{count} more", empty="none") == body
    short = Channel("t", PLAIN, size(body) - 1, shows_title=True, body_format=None)
    cut = render_chat(short, items, "subject", zone=UTC_ZONE, more="+{count} more", empty="none")
    assert size(cut) <= size(body) - 1 and "Canadian Wescam" not in cut  # the item without its snippet


def test_the_last_item_fitting_exactly_is_shown_with_no_count_of_items_left_out() -> None:
    """Each item is tried with a count of those after it; the last has none after it, so a body that holds every
    item exactly at the limit is sent whole, and one byte less leaves the last out and says so."""
    text = "Canadian Wescam sensors were found on the drones. " + "The export permits were questioned. " * 6
    snippet = Snippet("body", text.strip(), ((9, 15),))  # long enough that titles are not cut (limit / 10)
    items = [
        item("Wescam sensors on drones", URL, snippet),
        item("Export permits questioned", "https://news.example.org/p", snippet),
    ]
    kwargs = {"zone": UTC_ZONE, "more": "+{count} more", "empty": "none"}
    roomy = Channel("t", PLAIN, 10_000, shows_title=True, body_format=None)
    whole = render_chat(roomy, items, "subject", **kwargs)  # type: ignore[arg-type]
    exact = Channel("t", PLAIN, size(whole), shows_title=True, body_format=None)
    assert render_chat(exact, items, "subject", **kwargs) == whole  # type: ignore[arg-type]
    short = Channel("t", PLAIN, size(whole) - 1, shows_title=True, body_format=None)
    less = render_chat(short, items, "subject", **kwargs)  # type: ignore[arg-type]
    assert "Export permits questioned" not in less and less.endswith("+1 more")


def test_an_item_found_in_other_outlets_names_them() -> None:
    also = dataclasses.replace(item(), also_in=("Gazette", "Courier"))
    assert "also in: Gazette, Courier" in render_item(Layout(PLAIN, UTC_ZONE), also)


def test_a_snippets_runs_have_no_empty_piece_at_either_end_or_between_overlapping_marks() -> None:
    text = "hello wide world"
    assert snippet_runs(Snippet("body", text, ((0, 5),))) == [("hello", True), (" wide world", False)]
    assert snippet_runs(Snippet("body", text, ((11, 16),))) == [("hello wide ", False), ("world", True)]
    overlapping = snippet_runs(Snippet("body", text, ((0, 5), (2, 5), (3, 10))))
    assert overlapping == [("hello", True), (" wide", True), (" world", False)]
    assert snippet_runs(Snippet("body", text, ((4, 4), (20, 30)))) == [(text, False)]  # empty, outside


def test_a_snippet_whose_whitespace_collapses_is_marked_on_its_own_text() -> None:
    # one line of it would shift the marks: the marks are applied to the text as it came, then each run is
    # put on one line
    runs = snippet_runs(Snippet("body", "drone  parts\n\nfound", ((7, 12),)))
    assert runs == [("drone ", False), ("parts", True), (" found", False)]
    same_length = snippet_runs(Snippet("body", "drone\nparts", ((6, 11),)))
    assert same_length == [("drone ", False), ("parts", True)]


def test_a_title_of_a_few_words_then_pages_of_whitespace_renders_in_every_channel() -> None:
    """Feed text is untrusted: a title whose first thousands of characters are blank once collapsed is cut
    after its first words, in every layout, and never breaks the message."""
    from monitor.notify.channels import CHANNELS

    hostile = "Drones " + "\n \t" * 3000 + "and the rest"
    for channel in CHANNELS.values():
        body = render_chat(
            channel, [item(hostile)], "subject", zone=UTC_ZONE, more="+{count} more", empty="-"
        )
        assert "Drones…" in body and "and the rest" not in body, channel.name
        assert size(body) <= channel.limit


def test_the_last_resort_cut_leaves_a_body_at_the_limit_and_cuts_a_longer_one_at_a_line() -> None:
    from monitor.notify.channels import _cut

    body = "first line\nsecond line"
    assert _cut(body, size(body)) == body
    assert _cut(body, size(body) - 1) == "first line…"
    assert _cut("één woord", 8) == "één…"  # the budget counts bytes (the "…" takes three)
    assert _cut("één woord", 6) == "é…"  # and never keeps half a character
