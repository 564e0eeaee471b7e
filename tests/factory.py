"""Builders for test feeds, article pages and config files, and a runner for the CLI as a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape
from pathlib import Path
from typing import Any

SAMPLE_STORY = Path(__file__).resolve().parents[2] / "shared" / "samples" / "wescam-turkey-2020.txt"


@dataclass(frozen=True)
class Item:
    title: str
    link: str
    summary: str = ""
    published: datetime | None = None
    guid: str | None = None


def rss(items: list[Item], title: str = "Test feed") -> bytes:
    parts = [
        f"<?xml version='1.0' encoding='utf-8'?>\n<rss version='2.0'><channel><title>{escape(title)}</title>"
    ]
    for item in items:
        parts.append("<item>")
        parts.append(f"<title>{escape(item.title)}</title><link>{escape(item.link)}</link>")
        parts.append(f"<description>{escape(item.summary)}</description>")
        if item.guid:
            parts.append(f"<guid>{escape(item.guid)}</guid>")
        if item.published:
            parts.append(f"<pubDate>{format_datetime(item.published)}</pubDate>")
        parts.append("</item>")
    parts.append("</channel></rss>")
    return "".join(parts).encode("utf-8")


def article_page(title: str, paragraphs: list[str]) -> bytes:
    """A news page with boilerplate around the story, as outlets serve them."""
    body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    nav = "".join(f"<li><a href='/section/{i}'>Section {i} hockey scores</a></li>" for i in range(8))
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title><style>.TB2 {{ color: red }}</style></head><body>"
        f"<header><nav><ul>{nav}</ul></nav></header>"
        f"<main><article><h1>{escape(title)}</h1>{body}</article></main>"
        "<footer><p>Copyright The Test Gazette. All rights reserved.</p></footer></body></html>"
    ).encode()


def story_paragraphs() -> list[str]:
    """The founding story's paragraphs (Wescam, Baykar, export permits), or a stand-in when it is absent."""
    if SAMPLE_STORY.exists():
        text = SAMPLE_STORY.read_text(encoding="utf-8")
        return [p.strip() for p in text.split("\n") if p.strip()]
    return [
        "Canadian-made Wescam imaging and targeting systems were found on Turkish Baykar drones.",
        "Global Affairs would not say whether export permits were granted, Project Ploughshares said.",
    ] * 5


def recent(hours: float = 1) -> datetime:
    return datetime.now(UTC) - timedelta(hours=hours)


def toml_value(value: Any) -> str:
    return json.dumps(value) if not isinstance(value, bool) else str(value).lower()


def write_config(
    folder: Path,
    *,
    monitor: dict[str, Any] | None = None,
    feeds: Sequence[Mapping[str, Any]] = (),
    watchlists: Sequence[Mapping[str, Any]] = (),
    notifiers: Sequence[Mapping[str, Any]] = (),
) -> Path:
    """A config file from plain dicts; the database goes beside it."""
    lines = ["[monitor]"]
    settings = {"database": "sqlite:///monitor.db", "timeout": "5s", "group_window": "0s", **(monitor or {})}
    lines += [f"{k} = {toml_value(v)}" for k, v in settings.items()]
    for table, rows in (("feed", feeds), ("watchlist", watchlists), ("notifier", notifiers)):
        for row in rows:
            lines.append(f"\n[[{table}]]")
            lines += [f"{k} = {toml_value(v)}" for k, v in row.items()]
    path = folder / "monitor.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run_cli(
    config: Path | None,
    *args: str,
    env: dict[str, str] | None = None,
    timeout: float = 120,
    stdin: str | None = None,
) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "monitor"]
    if config is not None:
        command += ["--config", str(config)]
    return subprocess.run(
        [*command, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        input=stdin,
        check=False,
    )


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]
