"""The plain values every stage passes on: a response's charset, and matches compared by what they hold."""

from __future__ import annotations

import pytest

from monitor.models import FetchResult, Match, Snippet


def response(content_type: str | None) -> FetchResult:
    headers = {} if content_type is None else {"content-type": content_type}
    return FetchResult("https://example.org/", "https://example.org/", 200, b"", headers)


@pytest.mark.parametrize(
    ("content_type", "charset"),
    [
        ("text/html; charset=ISO-8859-9", "ISO-8859-9"),
        ('text/html; boundary=x; Charset = "windows-1254"', "windows-1254"),
        ("text/html;charset='utf-8'", "utf-8"),
        ("text/html; charset=", None),  # named, but empty
        ("text/html; format=flowed", None),
        ("charset=utf-8", None),  # the media type's place, not a parameter
        ("text/html", None),
        (None, None),
    ],
)
def test_the_charset_is_the_content_types_charset_parameter(
    content_type: str | None, charset: str | None
) -> None:
    assert response(content_type).text_charset == charset


def test_matches_are_equal_by_watchlist_and_details_whether_built_now_or_later() -> None:
    snippet = (Snippet("body", "Wescam sensors", ((0, 6),)),)
    match = Match("arms", ("Wescam",), snippet, ("body",), ('"Wescam" exact',))
    later = Match("arms", later=lambda: (("Wescam",), snippet, ("body",), ('"Wescam" exact',)))
    assert match == later and hash(match) == hash(later)
    assert match != Match("drones", ("Wescam",), snippet, ("body",), ('"Wescam" exact',))
    assert match != Match("arms", ("Wescam",), (), ("body",), ('"Wescam" exact',))
    assert match.__eq__("arms") is NotImplemented
