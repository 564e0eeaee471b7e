"""Canonical URLs: the identity of an article across feeds, tracking parameters and AMP variants."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

import pytest
from url_normalize import url_normalize
from url_normalize.normalize_host import normalize_host

from monitor import urls
from monitor.urls import article_key, canonical_url, same_site


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        # scheme, www., default ports, trailing slash, fragment
        ("http://www.example.org/news/story/", "https://example.org/news/story"),
        ("https://WWW.Example.org:443/news/story#comments", "https://example.org/news/story"),
        ("http://example.org:80/news/story", "https://example.org/news/story"),
        # either scheme's default port is no port, whichever scheme it is written with (one key for both)
        ("https://example.org:80/news/story", "https://example.org/news/story"),
        ("http://example.org:443/news/story", "https://example.org/news/story"),
        ("https://example.org:81/news/story", "https://example.org:81/news/story"),
        ("https://example.org:8080/news/story", "https://example.org:8080/news/story"),
        ("https://example.org/", "https://example.org/"),
        # tracking parameters: ours and courlan's list
        ("https://example.org/a?utm_source=rss&utm_campaign=x", "https://example.org/a"),
        ("https://example.org/a?cmp=rss&ocid=msn&ref=home&fbclid=1&gclid=2", "https://example.org/a"),
        ("https://example.org/a?xtor=RSS-1&at_medium=feed&mc_cid=3", "https://example.org/a"),
        # on courlan's list only
        ("https://example.org/a?campaign_id=9&mc_id=x&ns_campaign=y&partnerid=1", "https://example.org/a"),
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
        ("https://example.org/a", "https://news.example.org/b", True),
        ("file:///a", "file:///b", False),
    ],
)
def test_same_site(a: str, b: str, same: bool) -> None:
    assert same_site(a, b) is same


def test_normalises_the_path_before_keeping_it() -> None:
    assert canonical_url("https://example.org/a/./b/../c") == "https://example.org/a/c"
    assert canonical_url("https://example.org/%7euser/story") == "https://example.org/~user/story"


@pytest.mark.parametrize(
    ("link", "declared", "key"),
    [
        # the page's canonical address on the link's own site, resolved against the link
        ("https://www.example.org/a?utm_source=x", "/news/a", "https://example.org/news/a"),
        ("https://example.org/a", "https://amp.example.org/news/a&amp;b", "https://example.org/news/a&b"),
        # no link or no declared address: the feed's key
        (None, "https://example.org/news/a", "feed-key"),
        ("https://example.org/a", None, "feed-key"),
        ("https://example.org/a", "", "feed-key"),
        # another site, or not a web address on the same site: the feed's key
        ("https://example.org/a", "https://other.example.com/a", "feed-key"),
        ("https://example.org/a", "ftp://example.org/a", "feed-key"),
        ("https://example.org/a", "http://[::1/a", "feed-key"),
    ],
)
def test_article_key_is_the_declared_address_only_on_the_links_own_site(
    link: str | None, declared: str | None, key: str
) -> None:
    assert article_key("feed-key", link, declared) == key


# ---- url_normalize's host step, kept per host ------------------------------------------------------------

HOSTS = ["Example.ORG", "bücher.example", "xn--bcher-kva.example", "EXAMPLE.org.", "[::1]", "a_b.example"]


def host_step(step: Callable[[str], str], host: str) -> str:
    try:
        return step(host)
    except (ValueError, UnicodeError) as error:
        return f"raised {type(error).__name__}"


def test_the_host_step_is_kept_per_host_with_url_normalizes_answers() -> None:
    kept = sys.modules[url_normalize.__module__].normalize_host
    assert hasattr(kept, "cache_info")
    assert [host_step(kept, h) for h in HOSTS] == [host_step(normalize_host, h) for h in HOSTS]
    hits = kept.cache_info().hits
    assert canonical_url("https://Bücher.example/a") == canonical_url("https://Bücher.example/a?utm_source=x")
    assert kept.cache_info().hits > hits
    assert canonical_url("https://Bücher.example/a") == "https://xn--bcher-kva.example/a"


def test_the_host_step_is_wrapped_once() -> None:
    kept = sys.modules[url_normalize.__module__].normalize_host
    urls._keep_normalised_hosts()
    assert sys.modules[url_normalize.__module__].normalize_host is kept


def test_a_url_normalize_without_its_host_step_is_left_as_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    module = sys.modules[url_normalize.__module__]
    monkeypatch.delattr(module, "normalize_host")
    urls._keep_normalised_hosts()
    assert not hasattr(module, "normalize_host")
