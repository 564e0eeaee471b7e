"""The desk's pure parts: filter and form values, highlight runs, version diffs, the per-day counts and their
chart, the [web] settings."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from monitor.config.compiled import load_config
from monitor.config.web_settings import Listen, exposure_problem, is_loopback, parse_listen
from monitor.errors import ConfigError
from monitor.models import Snippet
from monitor.store.review import UNLABELLED, Version
from monitor.usecases.activity import hits_per_day, since_for
from monitor.web import forms
from monitor.web.changes import changes, word_diff
from monitor.web.chart import HEIGHT, plot
from monitor.web.forms import FilterError
from monitor.web.highlight import runs, snippet_runs
from monitor.web.render import safe_url, when

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
LISTS = ("arms", "permits")
FEEDS = ("wire", "daily")


def inbox(**given: str) -> forms.HitFilter:
    return forms.inbox_filter(given, watchlists=LISTS, feeds=FEEDS, now=NOW)


def test_inbox_filter_defaults_to_new_hits_and_reads_each_value() -> None:
    assert inbox() == forms.HitFilter(label=UNLABELLED, limit=50)
    assert inbox(label="all").label is None
    assert inbox(label="relevant").label == "relevant"
    wanted = inbox(watchlist="arms", feed="daily", language=" FR ", since="2d", limit="500")
    assert (wanted.watchlist, wanted.feed, wanted.language, wanted.limit) == ("arms", "daily", "fr", 500)
    assert wanted.since == NOW - timedelta(days=2)
    assert inbox(limit="1").limit == 1  # both bounds are allowed
    assert inbox(watchlist="", feed="  ", language="", since="").watchlist is None  # blank is not given


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        ({"watchlist": "Arms"}, "watchlist 'Arms' is not known (choose one of: arms, permits)"),
        ({"label": "spam"}, "label 'spam' is not known"),
        ({"feed": "other"}, "feed 'other' is not known"),
        ({"language": "english"}, "language 'english'"),
        ({"since": "yesterday"}, "since 'yesterday': use a duration"),
        ({"limit": "0"}, "from 1 to 500"),
        ({"limit": "501"}, "from 1 to 500"),
        ({"limit": "-3"}, "from 1 to 500"),
        ({"limit": "ten"}, "from 1 to 500"),
    ],
)
def test_inbox_filter_refuses_bad_values_with_the_reason(given: dict[str, str], reason: str) -> None:
    with pytest.raises(FilterError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        inbox(**given)


def test_since_reads_durations_dates_and_times_with_their_zone() -> None:
    assert forms.since(None, NOW) is None
    assert forms.since("6h", NOW) == NOW - timedelta(hours=6)
    assert forms.since("2026-11-01", NOW) == datetime(2026, 11, 1, tzinfo=UTC)
    assert forms.since("2026-11-01T10:00+02:00", NOW) == datetime(2026, 11, 1, 8, tzinfo=UTC)
    with pytest.raises(FilterError):
        forms.since("9" * 400 + "d", NOW)  # too far back to be a date: an error, not an overflow


def test_search_and_backtest_forms() -> None:
    assert forms.search_form({}, feeds=FEEDS, now=NOW) is None
    found = forms.search_form({"q": " Wescam "}, feeds=FEEDS, now=NOW)
    assert found is not None and (found.query, found.since, found.limit) == (
        "Wescam",
        NOW - timedelta(days=30),
        50,
    )
    with pytest.raises(FilterError, match="longer than 2000"):
        forms.search_form({"q": "a" * 2001}, feeds=FEEDS, now=NOW)
    longest = forms.search_form({"q": "a" * 2000}, feeds=FEEDS, now=NOW)
    assert longest is not None and longest.query == "a" * 2000
    assert forms.backtest_form({}, watchlists=LISTS, now=NOW) is None
    chosen = forms.backtest_form({"watchlist": "arms"}, watchlists=LISTS, now=NOW)
    assert chosen == forms.BacktestForm("arms", None, NOW - timedelta(days=90))
    by_query = forms.backtest_form({"q": "Baykar", "since": "7d"}, watchlists=LISTS, now=NOW)
    assert by_query == forms.BacktestForm(None, "Baykar", NOW - timedelta(days=7))
    with pytest.raises(FilterError, match="not both"):
        forms.backtest_form({"watchlist": "arms", "q": "x"}, watchlists=LISTS, now=NOW)


def test_label_note_and_days_values() -> None:
    assert forms.label_value({"label": "unsure"}) == "unsure"
    for bad in ({}, {"label": ""}, {"label": "new"}):
        with pytest.raises(FilterError):
            forms.label_value(bad)
    assert forms.note_text({"note": "  why  "}) == "why"
    assert forms.note_text({}) == ""
    with pytest.raises(FilterError):
        forms.note_text({"note": "x" * 2001})
    assert forms.note_text({"note": "x" * 2000}) == "x" * 2000
    assert forms.days({}) == 30
    assert forms.days({"days": "366"}) == 366
    with pytest.raises(FilterError):
        forms.days({"days": "367"})


def test_runs_clip_sort_and_merge_marks() -> None:
    assert runs("", []) == [("", False)]
    assert runs("abc", []) == [("abc", False)]
    assert runs("Wescam and Baykar", [(11, 17), (0, 6)]) == [
        ("Wescam", True),
        (" and ", False),
        ("Baykar", True),
    ]
    assert runs("abcdef", [(1, 4), (2, 5)]) == [("a", False), ("bcd", True), ("e", True), ("f", False)]
    assert runs("abc", [(-5, 1), (2, 99), (3, 3)]) == [("a", True), ("b", False), ("c", True)]
    # A span ending where the one before ended adds nothing, not an empty highlighted run.
    assert runs("abcdef", [(1, 4), (2, 4)]) == [("a", False), ("bcd", True), ("ef", False)]
    assert runs("abc", [(2, 1), (1, 1)]) == [("abc", False)]
    assert snippet_runs(Snippet("body", "x <b>y</b>", ((2, 10),))) == [("x ", False), ("<b>y</b>", True)]


def test_word_diff_and_changes_between_versions() -> None:
    assert word_diff("a b c", "a x c") == (("same", "a"), ("removed", " b"), ("added", " x"), ("same", " c"))
    assert word_diff("a\n\nb ", "a\nb ") == (
        ("same", "a"),
        ("removed", "\n\nb"),
        ("added", "\nb"),
        ("same", " "),
    )
    assert word_diff("same", "same") == (("same", "same"),)
    old = Version("Old title", "", "one two", datetime(2026, 11, 1, tzinfo=UTC))
    mid = Version("New title", "", "one two three", datetime(2026, 11, 2, tzinfo=UTC))
    found = changes([old, mid], "New title", "one three")
    assert [c.title_changed for c in found] == [True, False]
    assert found[0].runs == (("same", "one two"), ("added", " three"))
    assert found[1].runs == (("same", "one"), ("removed", " two"), ("same", " three"))
    huge = changes([Version("t", "", "w " * 15_000, NOW)], "t", "v " * 15_000)
    assert huge[0].too_long and huge[0].runs == ()


def test_a_diff_is_made_up_to_the_word_limit_exactly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("monitor.web.changes.MAX_WORDS", 5)
    longest = changes([Version("t", "", "a b c", NOW)], "t", "a x")  # 5 words in both: diffed
    assert not longest[0].too_long and longest[0].runs[0] == ("same", "a")
    over = changes([Version("t", "", "a b c", NOW)], "t", "a x y")
    assert over[0].too_long and over[0].runs == ()


def test_hits_per_day_counts_the_last_days_in_utc_and_plots_them() -> None:
    times = [
        ("arms", date(2026, 11, 30), 2),
        ("arms", date(2026, 11, 29), 1),
        ("permits", date(2026, 11, 28), 1),
        ("permits", date(2026, 11, 27), 5),  # one day too old for three days
        ("old", date(2026, 11, 1), 4),
    ]
    activity = hits_per_day(times, 3, NOW)
    assert activity.days == (date(2026, 11, 28), date(2026, 11, 29), date(2026, 11, 30))
    assert activity.counts == {"arms": (0, 1, 2), "permits": (1, 0, 0)}
    assert activity.peak == 2
    assert since_for(3, NOW) == datetime(2026, 11, 28, tzinfo=UTC)
    drawn = plot(activity)
    arms = drawn.lines[0]
    assert (arms.name, arms.total) == ("arms", 3)
    assert arms.points.split()[-1] == "750.0,10.0"  # the peak at the top right
    assert arms.points.split()[0].endswith(f",{HEIGHT - 30:.1f}")  # zero on the baseline
    assert [label for _, label in drawn.ticks] == ["0", "1", "2"]
    assert [label for _, label in drawn.labels] == ["11-28", "11-29", "11-30"]  # each of three days
    month = plot(hits_per_day(times, 30, NOW))
    assert [label for _, label in month.labels] == ["11-01", "11-06", "11-11", "11-16", "11-21", "11-26"]
    empty = plot(hits_per_day([], 1, NOW))
    assert empty.lines == () and [label for _, label in empty.ticks] == ["0", "1"]


def test_template_filters() -> None:
    assert safe_url("https://news.example/a") == "https://news.example/a"
    for bad in ("javascript:alert(1)", " JavaScript:x", "data:text/html,x", "", None):
        assert safe_url(bad) == ""
    assert when(None) == "–"
    assert when(datetime(2026, 11, 30, 14, 5, tzinfo=UTC)) == "2026-11-30 14:05"


def test_listen_addresses_and_exposure() -> None:
    assert parse_listen("127.0.0.1:8765") == Listen("127.0.0.1", 8765)
    assert parse_listen("[::1]:80") == Listen("::1", 80)
    assert str(parse_listen("[::1]:80")) == "[::1]:80"
    for bad in ("8765", ":80", "host:", "host:0", "host:65536", "::1:80", "host:x"):
        with pytest.raises(ValueError):
            parse_listen(bad)
    assert is_loopback("localhost") and is_loopback("127.0.0.2") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("desk.example")
    assert exposure_problem(Listen("127.0.0.1", 1), None) is None
    assert exposure_problem(Listen("0.0.0.0", 1), "t") is None
    assert "needs a token" in (exposure_problem(Listen("0.0.0.0", 1), None) or "")


def test_web_config_errors_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "monitor.toml"
    path.write_text(
        '[monitor]\ndatabase = "sqlite:///m.db"\n\n[web]\nlisten = "0.0.0.0:8765"\n', encoding="utf-8"
    )
    with pytest.raises(ConfigError) as error:
        load_config(path, {})
    assert error.value.problems == [
        f"{path}:5: [web] listen: listening on 0.0.0.0:8765 (not a loopback address) needs a token: "
        'set token = "${MONITOR_WEB_TOKEN}" in [web]'
    ]
    path.write_text('[web]\nlisten = "0.0.0.0:8765"\ntoken = "${MONITOR_WEB_TOKEN}"\n', encoding="utf-8")
    web = load_config(path, {"MONITOR_WEB_TOKEN": "s3cret-token"}).settings.web
    assert (web.listen, web.token) == (Listen("0.0.0.0", 8765), "s3cret-token")
    path.write_text('[web]\nlisten = "nowhere"\nport = 1\n', encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_config(path, {})
    assert error.value.problems[0].startswith(f"{path}:2: [web] listen: bad listen address 'nowhere'")
    assert error.value.problems[1].startswith(f"{path}:3: [web]: unknown key 'port'")
    path.write_text("web = 3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r":1: \[web\] must be a table"):
        load_config(path, {})
