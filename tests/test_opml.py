"""OPML: reading the exports of common feed readers, deciding what an import adds, editing the config file in
place (comments kept, atomic, re-validated), refusing bad files, and exporting OPML 2.0."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.config.compiled import load_config
from monitor.config.edit import FeedTable, append_feeds, replace_checked
from monitor.errors import ConfigError
from monitor.feed_commands import MAX_OPML_SIZE
from monitor.opml import (
    ExportedFeed,
    NewFeed,
    OpmlError,
    Outline,
    export_opml,
    parse_opml,
    plan_import,
    same_feed_url,
    tag_name,
    unique_name,
)
from tests.helpers import cli_inline

DATA = Path(__file__).parent / "data" / "opml"
NOW = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)

CONFIG = """# Our monitoring config: keep this comment.
[monitor]
database = "sqlite:///monitor.db"   # beside this file

[[feed]]
name = "daily-sabah"
url = "https://www.dailysabah.com/rss"
interval = "10m"   # busy feed

[[watchlist]]
name = "arms"
terms = ["Wescam", "Baykar"]
"""


def opml(name: str) -> list[Outline]:
    return parse_opml((DATA / name).read_bytes(), name)


def test_feedly_export_folders_become_tags() -> None:
    outlines = opml("feedly.opml")
    assert [(o.title, o.tags) for o in outlines] == [
        ("Daily Sabah", ("turkey",)),
        ("Hürriyet Daily News", ("turkey",)),
        ("CBC | Politics News", ("canada",)),
        ("Ottawa Citizen", ("canada",)),
        ("Defense News", ("defence-security",)),
    ]
    assert outlines[4].xml_url == "https://www.defensenews.com/arc/outboundfeeds/rss/?outputType=xml"
    assert outlines[0].html_url == "https://www.dailysabah.com"


def test_inoreader_export_keeps_top_level_feeds_untagged() -> None:
    outlines = opml("inoreader.xml")
    assert [o.tags for o in outlines] == [("middle-east",), ("middle-east",), ("canada",), ()]
    assert outlines[3].title == "The Globe and Mail - Politics"


def test_netnewswire_export_text_only_folders() -> None:
    outlines = opml("netnewswire.opml")
    assert [(o.title, o.xml_url, o.tags) for o in outlines] == [
        ("Daring Fireball", "https://daringfireball.net/feeds/json", ()),
        ("Project Ploughshares", "https://www.ploughshares.ca/feed", ("research",)),
        ("Arms Control", "https://www.armscontrol.org/rss.xml", ("research",)),
    ]


def test_miniflux_export_category_attribute_and_escaped_query() -> None:
    outlines = opml("miniflux.opml")
    assert outlines[0].tags == ("all", "wires")
    assert outlines[0].xml_url.endswith("?best-topics=political-general&post_type=best")
    assert [o.title for o in outlines] == ["Reuters: World", "Daily Sabah", "Daily Sabah"]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("not-xml.opml", "not an OPML file: the XML does not parse"),
        ("not-opml.xml", "not an OPML file: the root element is not <opml>"),
        ("no-outlines.opml", "no feed outlines (no <outline> with an xmlUrl)"),
        ("javascript-url.opml", "outline 'Click me' has feed URL 'javascript:alert(document.cookie)'"),
        ("file-url.opml", "outline 'Passwords' has feed URL 'file:///etc/passwd'"),
        ("entity-bomb.opml", "not an OPML file"),
    ],
)
def test_bad_opml_is_refused(name: str, message: str) -> None:
    with pytest.raises(OpmlError) as caught:
        opml(name)
    assert str(caught.value).startswith(f"{name}: ")
    assert message in str(caught.value)


def test_opml_without_body_is_refused() -> None:
    with pytest.raises(OpmlError, match="it has no <body>"):
        parse_opml(b"<opml version='2.0'><head/></opml>")


def test_plan_skips_known_urls_and_makes_unique_names() -> None:
    outlines = opml("miniflux.opml") + opml("feedly.opml")
    plan = plan_import(
        outlines, names=["daily-sabah", "reuters-world"], urls=["https://WWW.dailysabah.com/rss"]
    )
    assert [(o.title, why) for o, why in plan.skipped] == [
        ("Daily Sabah", "already configured"),  # the same URL but for the trailing slash
        ("Daily Sabah", "already configured"),  # the same again in the second file
    ]
    assert plan.added[:3] == (
        NewFeed("reuters-world-2", outlines[0].xml_url, ("all", "wires")),
        NewFeed("daily-sabah-2", "https://www.dailysabah.com/rss/business", ("turkey",)),
        NewFeed("h-rriyet-daily-news", "https://www.hurriyetdailynews.com/rss", ("turkey",)),
    )
    assert len({feed.name for feed in plan.added}) == len(plan.added) == 6


def test_name_falls_back_to_the_host() -> None:
    plan = plan_import([Outline("!!!", "https://feeds.example.org/x")], [], [])
    assert plan.added[0].name == "feeds-example-org"


def test_small_helpers() -> None:
    assert tag_name("  Middle East / Gulf ") == "middle-east-gulf"
    assert same_feed_url("HTTPS://Example.org:8080/feed/#top") == "example.org:8080/feed"
    taken = {"a", "a-2"}
    assert unique_name("a", taken) == "a-3" and "a-3" in taken
    assert unique_name("b", taken) == "b"


def test_import_appends_feeds_keeping_comments_and_layout(tmp_path: Path) -> None:
    config = tmp_path / "monitor.toml"
    config.write_text(CONFIG)
    result = cli_inline(config, "feeds", "import", str(DATA / "feedly.opml"))
    assert result.returncode == 0, result.stderr
    text = config.read_text()
    assert text.startswith(CONFIG)  # nothing before the new tables moved or lost its comment
    assert "skip  Daily Sabah: already configured" in result.stdout
    assert "4 feeds added, 1 skipped" in result.stdout
    settings = load_config(config, {}).settings
    assert [f.name for f in settings.feeds] == [
        "daily-sabah",
        "h-rriyet-daily-news",
        "cbc-politics-news",
        "ottawa-citizen",
        "defense-news",
    ]
    assert settings.feed("ottawa-citizen").tags == ("canada",)
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []

    again = cli_inline(config, "feeds", "import", str(DATA / "feedly.opml"))
    assert "0 feeds added, 5 skipped" in again.stdout
    assert config.read_text() == text


def test_imported_tags_serve_watchlists(tmp_path: Path) -> None:
    config = tmp_path / "monitor.toml"
    config.write_text(CONFIG)
    assert cli_inline(config, "feeds", "import", str(DATA / "inoreader.xml")).returncode == 0
    with config.open("a") as out:
        out.write('\n[[watchlist]]\nname = "ca"\nterms = ["Wescam"]\nfeeds = ["tag:canada"]\n')
    (_, canada) = load_config(config, {}).settings.watchlist_specs()
    assert canada.feeds == ("cbc-politics-news",)


def test_dry_run_changes_nothing(tmp_path: Path) -> None:
    config = tmp_path / "monitor.toml"
    config.write_text(CONFIG)
    result = cli_inline(config, "feeds", "import", "--dry-run", str(DATA / "netnewswire.opml"))
    assert result.returncode == 0, result.stderr
    assert "would add  project-ploughshares  https://www.ploughshares.ca/feed  [research]" in result.stdout
    assert "3 feeds would be added, 0 skipped" in result.stdout
    assert config.read_text() == CONFIG


@pytest.mark.parametrize("name", ["not-xml.opml", "javascript-url.opml", "file-url.opml", "no-outlines.opml"])
def test_bad_opml_leaves_the_config_untouched(tmp_path: Path, name: str) -> None:
    config = tmp_path / "monitor.toml"
    config.write_text(CONFIG)
    result = cli_inline(config, "feeds", "import", str(DATA / name))
    assert result.returncode == 2
    assert result.stderr.startswith(f"monitor: {DATA / name}: ")
    assert config.read_text() == CONFIG


def test_missing_opml_file(tmp_path: Path) -> None:
    config = tmp_path / "monitor.toml"
    config.write_text(CONFIG)
    result = cli_inline(config, "feeds", "import", str(tmp_path / "absent.opml"))
    assert result.returncode == 1 and "cannot read: No such file or directory" in result.stderr


def test_an_edit_that_does_not_validate_is_not_saved(tmp_path: Path) -> None:
    config = tmp_path / "monitor.toml"
    config.write_text(CONFIG)
    with pytest.raises(ConfigError) as caught:
        append_feeds(config, [FeedTable("daily-sabah", "https://other.example/feed")], {})
    assert str(caught.value).startswith(f"{config}: the edit was not saved: {config}:")
    assert "duplicate name" in str(caught.value)
    assert config.read_text() == CONFIG
    assert sorted(p.name for p in tmp_path.iterdir()) == ["monitor.toml"]


def test_replace_checked_keeps_the_file_mode(tmp_path: Path) -> None:
    config = tmp_path / "monitor.toml"
    config.write_text(CONFIG)
    config.chmod(0o600)
    replace_checked(config, CONFIG + "\n# edited\n", {})
    assert config.read_text().endswith("# edited\n")
    assert config.stat().st_mode & 0o777 == 0o600


def test_feeds_go_into_a_config_without_any(tmp_path: Path) -> None:
    config = tmp_path / "monitor.toml"
    config.write_text("# empty\n[monitor]\n")
    append_feeds(config, [FeedTable("one", "https://one.example/feed", ("x",))], {})
    assert load_config(config, {}).settings.feed("one").tags == ("x",)
    assert config.read_text().startswith("# empty\n[monitor]\n")


def test_export_is_opml_2_that_imports_back() -> None:
    feeds = [
        ExportedFeed("daily-sabah", "https://www.dailysabah.com/rss", ("turkey", "news")),
        ExportedFeed("globe", "https://www.theglobeandmail.com/feed?a=1&b=2"),
        ExportedFeed("hurriyet", "https://www.hurriyetdailynews.com/rss", ("turkey",)),
    ]
    text = export_opml(feeds, NOW)
    assert text.startswith("<?xml version='1.0' encoding='UTF-8'?>\n<opml version=\"2.0\">")
    assert "<dateCreated>Mon, 30 Nov 2026 01:00:00 +0000</dateCreated>" in text
    back = parse_opml(text.encode())
    assert [(o.title, o.xml_url, o.tags) for o in back] == [
        ("daily-sabah", "https://www.dailysabah.com/rss", ("turkey", "news")),
        ("hurriyet", "https://www.hurriyetdailynews.com/rss", ("turkey",)),
        ("globe", "https://www.theglobeandmail.com/feed?a=1&b=2", ()),
    ]


def test_export_command_prints_the_configured_feeds(tmp_path: Path) -> None:
    config = tmp_path / "monitor.toml"
    config.write_text(CONFIG)
    result = cli_inline(config, "feeds", "export")
    assert result.returncode == 0, result.stderr
    (outline,) = parse_opml(result.stdout.encode())
    assert outline == Outline("daily-sabah", "https://www.dailysabah.com/rss")


def test_a_feed_url_without_a_host_is_refused() -> None:
    body = b"<opml version='2.0'><body><outline text='Nowhere' xmlUrl='https:///feed.xml'/></body></opml>"
    with pytest.raises(OpmlError, match=r"outline 'Nowhere' has feed URL 'https:///feed\.xml'"):
        parse_opml(body, "nowhere.opml")


def test_outlines_inside_a_feed_keep_the_feeds_folders_not_its_name() -> None:
    body = (
        b"<opml version='2.0'><body><outline text='Arms'>"
        b"<outline text='Wire' xmlUrl='https://wire.example/feed'>"
        b"<outline text='Wire extra' xmlUrl='https://wire.example/extra'/></outline>"
        b"</outline></body></opml>"
    )
    found = parse_opml(body, "nested.opml")
    assert [(o.title, o.tags) for o in found] == [("Wire", ("arms",)), ("Wire extra", ("arms",))]


def test_an_opml_file_of_the_size_limit_is_read_and_one_byte_more_refused(tmp_path: Path) -> None:
    config = tmp_path / "monitor.toml"
    config.write_text(CONFIG)
    data = (DATA / "netnewswire.opml").read_bytes()
    padded = tmp_path / "padded.opml"
    padded.write_bytes(data + b" " * (MAX_OPML_SIZE - len(data)))  # trailing spaces: still the same document
    result = cli_inline(config, "feeds", "import", "--dry-run", str(padded))
    assert result.returncode == 0, result.stderr
    assert "3 feeds would be added, 0 skipped" in result.stdout
    padded.write_bytes(data + b" " * (MAX_OPML_SIZE + 1 - len(data)))
    refused = cli_inline(config, "feeds", "import", "--dry-run", str(padded))
    assert refused.returncode == 2
    assert f"{padded}: larger than 5 MB; not an OPML file" in refused.stderr
    assert config.read_text() == CONFIG
