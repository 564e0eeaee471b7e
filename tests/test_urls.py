"""Canonical URLs: the identity of an article across feeds, tracking parameters and AMP variants."""

from __future__ import annotations

import logging

import pytest

from monitor.urls import canonical_url, same_site


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        # scheme, www., default ports, trailing slash, fragment
        ("http://www.example.org/news/story/", "https://example.org/news/story"),
        ("https://WWW.Example.org:443/news/story#comments", "https://example.org/news/story"),
        ("http://example.org:80/news/story", "https://example.org/news/story"),
        ("https://example.org:8080/news/story", "https://example.org:8080/news/story"),
        ("https://example.org/", "https://example.org/"),
        # tracking parameters: ours and courlan's list
        ("https://example.org/a?utm_source=rss&utm_campaign=x", "https://example.org/a"),
        ("https://example.org/a?cmp=rss&ocid=msn&ref=home&fbclid=1&gclid=2", "https://example.org/a"),
        ("https://example.org/a?xtor=RSS-1&at_medium=feed&mc_cid=3", "https://example.org/a"),
        ("https://example.org/a?page=2&id=7&utm_medium=x", "https://example.org/a?id=7&page=2"),
        # AMP variants
        ("https://example.org/news/story/amp", "https://example.org/news/story"),
        ("https://example.org/news/story/amp/", "https://example.org/news/story"),
        ("https://example.org/amp/news/story", "https://example.org/news/story"),
        ("https://example.org/news/story?amp=1", "https://example.org/news/story"),
        ("https://example.org/news/story?outputType=amp", "https://example.org/news/story"),
        ("https://amp.example.org/news/story", "https://example.org/news/story"),
        ("https://example.org/news/story.amp.html", "https://example.org/news/story.html"),
        ("https://example.org/ampersand/amplify", "https://example.org/ampersand/amplify"),
        # mobile host
        ("https://m.example.org/news/story", "https://example.org/news/story"),
        # a two-label host keeps its first label
        ("https://www.org/a", "https://www.org/a"),
    ],
)
def test_reduces_to_identity(url: str, canonical: str) -> None:
    assert canonical_url(url) == canonical


def test_two_feeds_links_to_one_article_reduce_to_one_key() -> None:
    links = [
        "https://www.cbc.ca/news/canada/story-1.7000?cmp=rss",
        "http://cbc.ca/news/canada/story-1.7000/",
        "https://amp.cbc.ca/news/canada/story-1.7000#top",
        "https://www.cbc.ca/news/canada/story-1.7000/amp?utm_source=twitter",
    ]
    assert len({canonical_url(link) for link in links}) == 1


def test_non_http_urls_are_left_alone() -> None:
    assert canonical_url("tag:example.org,2026:1") == "tag:example.org,2026:1"
    assert canonical_url("urn:uuid:1234") == "urn:uuid:1234"


@pytest.mark.parametrize("url", ["http://[::1:80/x", "https://example.org:99999/x", "https:///nohost"])
def test_a_url_that_does_not_parse_is_kept_with_a_warning(url: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="monitor.urls"):
        assert canonical_url(url) == url
    assert "kept as it is" in caplog.text


def test_resolves_against_a_base() -> None:
    assert canonical_url("../b/?x=1", "https://Example.org/feeds/a.xml") == "https://example.org/b?x=1"


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("https://www.example.org/a", "https://example.org/b", True),
        ("https://amp.example.org/a", "https://news.example.org/b", True),
        ("https://news.example.org/a", "https://sport.example.org/b", False),
        ("https://news.example.org/a", "https://example.org/b", True),
        ("https://example.org/a", "https://example.com/a", False),
        ("https://example.org/a", "tag:x", False),
        ("https://badexample.org/a", "https://example.org/a", False),
    ],
)
def test_same_site(a: str, b: str, same: bool) -> None:
    assert same_site(a, b) is same
