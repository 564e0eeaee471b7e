"""The command line: match explanations, query errors, logs, and the README's completeness. Two tests run it as a
subprocess; the others call the same `main` in-process (``cli_inline``)."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import pytest

from monitor.cli import build_parser, row_limit
from monitor.config import FeedSettings, MonitorSettings, NotifierSettings, WatchlistSettings
from monitor.config.web_settings import WebSettings
from tests.factory import Item, article_page, json_lines, recent, rss, run_cli, story_paragraphs, write_config
from tests.helpers import LocalServer, WebhookServer, cli_inline

README = Path(__file__).resolve().parents[1] / "README.md"

ARMS = {
    "name": "arms-exports",
    "terms": ["Wescam", "Baykar", "export permit*"],
    "exclude": ["hockey"],
    "notify": ["console"],
}
NEAR = {
    "name": "sensor-near-drone",
    "query": '(Wescam OR "MX-15") NEAR/20 (Baykar OR Bayraktar OR TB2) -hockey',
    "notify": ["chat"],
}


def test_match_explains_a_hit_and_a_miss_on_a_fetched_page(tmp_path: Path, http_server: LocalServer) -> None:
    http_server.route(
        "/story",
        body=article_page("Drone parts", story_paragraphs()),
        headers={"Content-Type": "text/html; charset=utf-8"},
    )
    http_server.route(
        "/sport",
        body=article_page("Hockey", ["Baykar sponsors the hockey final."] * 5),
        headers={"Content-Type": "text/html; charset=utf-8"},
    )
    config = write_config(tmp_path, watchlists=[ARMS], notifiers=[{"name": "console"}])

    hit = cli_inline(config, "match", "--watchlist", "arms-exports", "--url", http_server.url("/story"))
    assert hit.returncode == 0, hit.stderr
    assert "arms-exports: MATCH" in hit.stdout and '"Wescam" found in body' in hit.stdout

    miss = cli_inline(config, "match", "--url", http_server.url("/sport"))
    assert miss.returncode == 1
    assert "arms-exports: no match" in miss.stdout and 'excluded by "hockey"' in miss.stdout
    assert cli_inline(config, "hits", "--format", "json").stdout.strip() == ""  # nothing was stored


def test_match_a_query_on_text_from_a_file_or_stdin(tmp_path: Path) -> None:
    config = write_config(tmp_path, watchlists=[ARMS], notifiers=[{"name": "console"}])
    text = tmp_path / "article.txt"
    text.write_text("The MX-15 turret was seen on a Bayraktar TB2 over the border.", encoding="utf-8")
    near = cli_inline(config, "match", "--query", '"MX-15" NEAR/5 "Bayraktar TB2"', "--file", str(text))
    assert near.returncode == 0 and "query: MATCH" in near.stdout
    far = cli_inline(config, "match", "--query", "turret NEAR/2 border", "-", stdin=text.read_text())
    assert far.returncode == 1 and "words apart" in far.stdout


def test_a_query_that_does_not_parse_is_a_config_error_with_its_line(tmp_path: Path) -> None:
    broken = {"name": "broken", "query": "(Wescam OR Baykar", "notify": ["console"]}
    config = write_config(tmp_path, watchlists=[ARMS, broken], notifiers=[{"name": "console"}])
    result = run_cli(config, "check")
    assert result.returncode == 2
    line = next(i for i, text in enumerate(config.read_text().splitlines(), 1) if text.startswith("query ="))
    assert f"{config}:{line}:" in result.stderr
    assert "'broken'" in result.stderr and "expected ')'" in result.stderr


def test_query_hits_are_stored_with_explanations_and_alerted_with_highlights(
    tmp_path: Path, http_server: LocalServer, webhook_server: WebhookServer
) -> None:
    http_server.route("/feed.xml", body=rss([Item("Drone parts", http_server.url("/story"), "", recent())]))
    http_server.route(
        "/story",
        body=article_page("Drone parts", story_paragraphs()),
        headers={"Content-Type": "text/html; charset=utf-8"},
    )
    config = write_config(
        tmp_path,
        feeds=[{"name": "gazette", "url": http_server.url("/feed.xml")}],
        watchlists=[NEAR],
        notifiers=[{"name": "chat", "urls": [webhook_server.apprise_url()]}],
    )
    assert cli_inline(config, "poll").returncode == 0
    [hit] = json_lines(cli_inline(config, "hits", "--format", "json").stdout)
    assert hit["matched"] == ['(Wescam OR "MX-15") NEAR/20 (Baykar OR Bayraktar OR TB2)']
    assert hit["snippets"] and all(s["marks"] for s in hit["snippets"])
    first = hit["snippets"][0]
    marked = {first["text"][a:b].lower() for a, b in first["marks"]}
    assert marked & {"wescam", "baykar", "bayraktar", "tb2"}
    message = webhook_server.posts[0].json["message"]
    assert re.search(r"«(Wescam|Baykar)»", message)  # a JSON webhook gets plain text, matches marked
    table = cli_inline(config, "hits").stdout
    assert "[Wescam]" in table or "[Baykar]" in table


def test_check_warns_about_short_intervals_and_json_logs_are_json(
    tmp_path: Path, http_server: LocalServer
) -> None:
    http_server.route("/feed.xml", body=rss([Item("Nothing", http_server.url("/x"), "", recent())]))
    config = write_config(
        tmp_path,
        monitor={"fulltext": False},
        feeds=[{"name": "fast", "url": http_server.url("/feed.xml"), "interval": "5s"}],
        watchlists=[ARMS],
        notifiers=[{"name": "console"}],
    )
    check = run_cli(config, "check")
    assert check.returncode == 0 and "under a minute" in check.stderr
    polled = run_cli(None, "--config", str(config), "--log-format", "json", "--log-level", "debug", "poll")
    assert polled.returncode == 0
    records = [json.loads(line) for line in polled.stderr.splitlines() if line.strip()]
    assert records and all({"time", "level", "logger", "message"} <= r.keys() for r in records)


def test_the_readme_documents_every_command_and_config_key() -> None:
    readme = README.read_text(encoding="utf-8")
    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices
    assert commands
    for name, sub in commands.items():
        assert f"monitor {name}" in readme, f"command {name} is not in the README"
        for action in sub._actions:
            for flag in action.option_strings:
                if flag not in ("-h", "--help"):
                    assert flag in readme, f"option {flag} of {name} is not in the README"
    for model in (MonitorSettings, FeedSettings, WatchlistSettings, NotifierSettings, WebSettings):
        for key in model.model_fields:
            assert f"`{key}`" in readme, f"config key {key} ({model.__name__}) is not in the README"
    assert "make run" in readme and "make test" in readme


def test_a_row_limit_is_zero_or_more() -> None:
    assert row_limit("0") == 0  # every row
    assert row_limit("1") == 1
    for bad in ("-1", "ten", ""):
        with pytest.raises(argparse.ArgumentTypeError, match="0 or more"):
            row_limit(bad)
