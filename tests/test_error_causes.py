"""Errors that wrap a library's failure keep it as their cause, so a traceback shows what really went wrong."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from monitor.config import load_settings
from monitor.errors import ConfigError, FeedParseError
from monitor.feeds import parse_feed


def test_an_invalid_json_feed_keeps_the_decoder_error() -> None:
    with pytest.raises(FeedParseError, match="invalid JSON") as caught:
        parse_feed(
            b'{"items": [',
            url="https://news.example/feed.json",
            headers={"content-type": "application/feed+json"},
        )
    assert isinstance(caught.value.__cause__, json.JSONDecodeError)


def test_invalid_toml_keeps_the_parser_error(tmp_path: Path) -> None:
    path = tmp_path / "monitor.toml"
    path.write_text("[monitor]\ndatabase = \n", encoding="utf-8")
    with pytest.raises(ConfigError, match="invalid TOML") as caught:
        load_settings(path)
    assert isinstance(caught.value.__cause__, tomllib.TOMLDecodeError)
