"""What commands print: aligned tables whose long cells are cut to their column's width, and each feed's row
of `monitor status`."""

from __future__ import annotations

from monitor.models import FeedState
from monitor.output import table
from monitor.usecases.status import feed_row


def test_a_cell_as_wide_as_its_column_is_kept_and_one_character_more_is_cut() -> None:
    rows = [{"title": "Wescam sensors"}, {"title": "Wescam sensors!"}, {"title": "Baykar  drones\nfound"}]
    assert table(rows, ["title"], {"title": 14}).splitlines() == [
        "TITLE",
        "Wescam sensors",
        "Wescam sensor…",
        "Baykar drones…",  # spaces and lines run together first, then cut
    ]


def test_without_a_width_cells_are_whole_and_columns_aligned() -> None:
    rows = [{"name": "globe", "hits": 3}, {"name": "ottawa-citizen", "hits": None}]
    assert table(rows, ["name", "hits"]).splitlines() == [
        "NAME            HITS",
        "globe           3",
        "ottawa-citizen  -",  # nothing to show: a dash
    ]


def test_a_feed_is_in_backoff_from_its_first_failure() -> None:
    assert feed_row(FeedState("globe", "https://example.org/rss"))["backoff"] is False
    assert feed_row(FeedState("globe", "https://example.org/rss", consecutive_failures=1))["backoff"] is True
