"""Errors that wrap a library's failure keep it as their cause, so a traceback shows what really went wrong."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from monitor.config import load_settings
from monitor.errors import ConfigError, FeedParseError, transient_status
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


@pytest.mark.parametrize(
    ("status", "transient"),
    [
        (None, True),
        (500, True),
        (503, True),
        (499, False),
        (404, False),
        (408, True),
        (429, True),
        (425, True),
    ],
)
def test_no_answer_a_server_error_and_the_waiting_statuses_are_worth_trying_again(
    status: int | None, transient: bool
) -> None:
    assert transient_status(status) is transient
