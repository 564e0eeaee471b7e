"""The recheck decisions: when a page behind a hit is due again, and whether it changed or was removed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from monitor.usecases.recheck import DEFAULT_SCHEDULE, compare, next_recheck, recheck_due

T0 = datetime(2026, 11, 30, 12, tzinfo=UTC)
STORY = (
    "Canadian-made Wescam sensors were found on Turkish Baykar drones in Nagorno-Karabakh. "
    "Global Affairs Canada suspended the export permits after the report was published. "
    "Updated 12:04 on 30 November 2026.\nAdvertisement"
)


def test_rechecks_follow_the_schedule_and_stop_when_it_is_spent() -> None:
    assert next_recheck(T0, 0, DEFAULT_SCHEDULE) == T0 + timedelta(hours=1)
    assert next_recheck(T0, 2, DEFAULT_SCHEDULE) == T0 + timedelta(days=7)
    assert next_recheck(T0, 3, DEFAULT_SCHEDULE) is None
    assert next_recheck(T0, 0, ()) is None  # rechecks off
    assert not recheck_due(T0, 0, DEFAULT_SCHEDULE, T0 + timedelta(minutes=59, seconds=59))
    assert recheck_due(T0, 0, DEFAULT_SCHEDULE, T0 + timedelta(hours=1))
    assert not recheck_due(T0, 1, DEFAULT_SCHEDULE, T0 + timedelta(hours=23))
    assert not recheck_due(T0, 3, DEFAULT_SCHEDULE, T0 + timedelta(days=365))


def test_a_new_date_line_counter_or_ad_is_not_a_material_change() -> None:
    edited = STORY.replace("12:04 on 30 November", "17:45 on 1 December").replace(
        "Advertisement", "Sponsored"
    )
    assert (
        compare(STORY, 200, "https://n.example/a", edited, asked_url="https://n.example/a").kind
        == "unchanged"
    )
    recounted = STORY.replace("after the report", "after the 2 reports")
    assert (
        compare(STORY, 200, "u", STORY.replace("the report", "the 3 report"), asked_url="u").kind
        == "unchanged"
    )
    assert (
        compare(STORY, 200, "https://n.example/a", STORY, asked_url="https://n.example/a").kind == "unchanged"
    )
    assert (
        compare(STORY, 200, "https://n.example/a", recounted, asked_url="https://n.example/a").kind
        == "changed"
    )


def test_a_changed_sentence_is_reported_added_and_dropped() -> None:
    edited = STORY.replace("suspended the export permits", "has not said whether it suspended the permits")
    change = compare(STORY, 200, "https://n.example/a", edited, asked_url="https://n.example/a")
    assert change.kind == "changed"
    assert change.added == (
        "Global Affairs Canada has not said whether it suspended the permits after the report was published.",
    )
    assert change.dropped == (
        "Global Affairs Canada suspended the export permits after the report was published.",
    )


def test_removals_are_404_410_and_redirects_to_the_home_page() -> None:
    url = "https://n.example/news/a?id=3"
    assert compare(STORY, 404, url, None, asked_url=url).kind == "removed"
    assert compare(STORY, 410, url, None, asked_url=url).kind == "removed"
    assert compare(STORY, 200, "https://n.example/", "Home", asked_url=url).kind == "removed"
    assert compare(STORY, 200, "https://n.example", "Home", asked_url=url).kind == "removed"
    # A move to another article page is not a removal, and an unreadable page says nothing.
    assert compare(STORY, 200, "https://n.example/news/b", STORY, asked_url=url).kind == "unchanged"
    assert compare(STORY, 200, "https://n.example/?page=a", STORY, asked_url=url).kind == "unchanged"
    assert compare(STORY, 500, url, None, asked_url=url).kind == "unchanged"
    assert compare(STORY, 200, "https://n.example/", "Home", asked_url="https://n.example/").kind == "changed"


def test_a_sentence_of_six_words_is_material_and_one_of_five_is_not() -> None:
    from monitor.usecases.recheck import MIN_SENTENCE_WORDS

    assert MIN_SENTENCE_WORDS == 6
    old = "The ministry reviewed every permit."
    six = old + " Drone cameras were found abroad again."  # six words
    five = old + " Drone cameras were found abroad."  # five
    url = "https://news.example.org/a"
    assert compare(old, 200, url, six, asked_url=url).added == ("Drone cameras were found abroad again.",)
    assert compare(old, 200, url, five, asked_url=url).kind == "unchanged"


def test_a_recheck_alert_says_the_page_is_gone_only_when_it_is() -> None:
    from monitor.notify.channels import PLAIN, Channel, size
    from monitor.store.archive import RecheckTarget
    from monitor.usecases.recheck import PageChange, RecheckAlert, _body

    target = RecheckTarget(
        1, "https://news.example.org/a", "Drones", datetime(2026, 1, 1, tzinfo=UTC), 1, "", ("arms",)
    )
    changed = RecheckAlert(target, PageChange("changed", ("New line here.",), ("Old line there.",)))
    assert changed.lines() == ["+ New line here.", "- Old line there."]
    removed = RecheckAlert(target, PageChange("removed"))
    assert removed.lines() == ["The page is gone (removed, or it now leads to the site's home page)."]
    # a body exactly at the service's limit goes whole; one byte less and it is cut, marked "…"
    whole = _body(Channel("t", PLAIN, 10_000, shows_title=True, body_format=None), "subject", changed).body
    exact = _body(Channel("t", PLAIN, size(whole), shows_title=True, body_format=None), "subject", changed)
    assert exact.body == whole
    short = _body(
        Channel("t", PLAIN, size(whole) - 1, shows_title=True, body_format=None), "subject", changed
    )
    assert short.body.endswith("\n…") and size(short.body) <= size(whole) - 1
