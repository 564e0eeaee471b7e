"""Feed discovery: `<link rel="alternate">` feeds of a page, common paths, a feed given directly, and
`monitor feeds add` editing the config file, against the local HTTP server."""

from __future__ import annotations

from pathlib import Path

from monitor.config.compiled import load_config
from monitor.discover import FoundFeed, linked_feeds
from tests.helpers import Item, LocalServer, cli_inline, rss

HTML = {"Content-Type": "text/html; charset=utf-8"}
RSS = {"Content-Type": "application/rss+xml"}
CONFIG = '# keep me\n[monitor]\ndatabase = "sqlite:///monitor.db"\ntimeout = "5s"\n'

PAGE = b"""<!doctype html><html><head><title>Ministry statements</title>
<link rel="stylesheet" href="/style.css">
<link rel="alternate" type="application/rss+xml" title="Statements (RSS)" href="/statements/rss.xml">
<link rel="alternate" type="application/atom+xml" href="https://feeds.example.org/atom">
<link rel="alternate" type="application/rss+xml" href="javascript:alert(1)">
<link rel="alternate" hreflang="fr" href="/fr/">
<link rel="Alternate Feed" type="application/feed+json; charset=utf-8" title="JSON" href="feed.json">
<link rel="alternate" type="application/rss+xml" title="again" href="/statements/rss.xml">
</head><body><p>Statements</p></body></html>"""


def test_linked_feeds_in_page_order() -> None:
    assert linked_feeds(PAGE, "https://gov.example/en/statements/") == [
        FoundFeed("https://gov.example/statements/rss.xml", "Statements (RSS)", "linked from the page"),
        FoundFeed("https://feeds.example.org/atom", "Atom", "linked from the page"),
        FoundFeed("https://gov.example/en/statements/feed.json", "JSON", "linked from the page"),
    ]


def test_no_links_in_a_page_without_feeds() -> None:
    assert (
        linked_feeds(b"<html><head><title>x</title></head><body>no feeds</body></html>", "https://a/") == []
    )
    assert linked_feeds(b"", "https://a/") == []


def config(tmp_path: Path) -> Path:
    path = tmp_path / "monitor.toml"
    path.write_text(CONFIG)
    return path


def serve_site(server: LocalServer) -> None:
    page = PAGE.replace(b"https://feeds.example.org/atom", server.url("/atom").encode())
    server.route("/statements", body=page, headers=HTML)
    server.route(
        "/statements/rss.xml", body=rss([Item("One", "https://e.org/1")], "Ministry statements"), headers=RSS
    )
    server.route("/atom", body=rss([Item("Two", "https://e.org/2")], "Ministry (Atom)"), headers=RSS)


def test_add_from_a_page_takes_the_first_linked_feed(tmp_path: Path, http_server: LocalServer) -> None:
    serve_site(http_server)
    path = config(tmp_path)
    result = cli_inline(path, "feeds", "add", http_server.url("/statements"))
    assert result.returncode == 0, result.stderr
    assert (
        f"1. Statements (RSS)  {http_server.url('/statements/rss.xml')}  (linked from the page)"
        in result.stdout
    )
    assert f"2. Atom  {http_server.url('/atom')}" in result.stdout
    (feed,) = load_config(path, {}).settings.feeds
    assert (feed.name, feed.url) == ("statements-rss", http_server.url("/statements/rss.xml"))
    assert path.read_text().startswith(CONFIG)

    again = cli_inline(path, "feeds", "add", http_server.url("/statements"))
    assert again.returncode == 0 and "already configured as statements-rss" in again.stdout


def test_add_picks_and_names(tmp_path: Path, http_server: LocalServer) -> None:
    serve_site(http_server)
    path = config(tmp_path)
    result = cli_inline(
        path, "feeds", "add", http_server.url("/statements"), "--pick", "2", "--name", "ministry"
    )
    assert result.returncode == 0, result.stderr
    assert load_config(path, {}).settings.feed("ministry").url == http_server.url("/atom")
    bad = cli_inline(path, "feeds", "add", http_server.url("/statements"), "--pick", "9")
    assert bad.returncode == 1 and "--pick 9: choose a number from 1 to 3" in bad.stderr


def test_add_a_feed_address_directly(tmp_path: Path, http_server: LocalServer) -> None:
    url = http_server.route(
        "/news.xml", body=rss([Item("A", "https://e.org/a")], "Ottawa Citizen"), headers=RSS
    )
    path = config(tmp_path)
    result = cli_inline(path, "feeds", "add", url)
    assert result.returncode == 0, result.stderr
    assert "(the address itself)" in result.stdout
    assert load_config(path, {}).settings.feed("ottawa-citizen").url == url


def test_add_finds_a_common_path(tmp_path: Path, http_server: LocalServer) -> None:
    http_server.route("/", body=b"<html><body><p>Welcome</p></body></html>", headers=HTML)
    http_server.route("/rss.xml", body=rss([Item("A", "https://e.org/a")], "Site news"), headers=RSS)
    http_server.route("/feed", body=b"<html><body>not a feed</body></html>", headers=HTML)
    path = config(tmp_path)
    result = cli_inline(path, "feeds", "add", http_server.url("/"))
    assert result.returncode == 0, result.stderr
    assert f"1. Site news  {http_server.url('/rss.xml')}  (common path)" in result.stdout
    assert load_config(path, {}).settings.feed("site-news").url == http_server.url("/rss.xml")


def test_a_page_without_feeds_is_offered_as_a_page_source(tmp_path: Path, http_server: LocalServer) -> None:
    url = http_server.route(
        "/reports", body=b"<html><body><a href='/r1'>Report 2025</a></body></html>", headers=HTML
    )
    path = config(tmp_path)
    result = cli_inline(path, "feeds", "add", url, "--name", "reports")
    assert result.returncode == 1
    assert "no feed found at" in result.stdout
    assert f'[[page]]\nname = "reports"\nurl = "{url}"' in result.stdout
    assert path.read_text() == CONFIG


def test_an_unreachable_address_is_an_error(tmp_path: Path, http_server: LocalServer) -> None:
    url = http_server.route("/gone", status=404)
    path = config(tmp_path)
    result = cli_inline(path, "feeds", "add", url)
    assert result.returncode == 1 and "HTTP 404" in result.stderr
    assert path.read_text() == CONFIG
    assert "give an http:// or https:// address" in cli_inline(path, "feeds", "add", "ftp://x/").stderr
