"""Turning settings into the parts: notifier policies and a watchlist's own digest."""

from __future__ import annotations

from datetime import time
from pathlib import Path

from monitor.config.compiled import load_config, policies
from tests.factory import write_config


def test_a_watchlist_mode_overrides_its_notifiers_for_its_own_hits(tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        watchlists=[
            {"name": "breaking", "terms": ["Wescam"], "notify": ["chat"]},
            {
                "name": "weekly",
                "terms": ["permits"],
                "notify": ["chat"],
                "mode": "digest",
                "schedule": "0 8 * * 1",
            },
        ],
        notifiers=[
            {
                "name": "chat",
                "urls": ["json://127.0.0.1:9/hook"],
                "quiet_hours": "22:00-07:00",
                "max_per_hour": 5,
            }
        ],
    )
    by_name, overrides = policies(load_config(config).settings)
    chat = by_name["chat"]
    assert (
        chat.mode == "immediate" and chat.quiet_hours == (time(22, 0), time(7, 0)) and chat.max_per_hour == 5
    )
    assert set(overrides) == {("chat", "weekly")}
    weekly = overrides[("chat", "weekly")]
    assert weekly.mode == "digest" and weekly.schedule == "0 8 * * 1"
    assert weekly.urls == chat.urls and weekly.max_per_hour == 5  # everything else is the notifier's


def test_a_notifiers_time_zone_and_snippet_count_reach_its_policy(tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        watchlists=[{"name": "breaking", "terms": ["Wescam"], "notify": ["chat"]}],
        notifiers=[
            {"name": "chat", "urls": ["json://127.0.0.1:9/hook"], "timezone": "Europe/Paris", "snippets": 1},
            {"name": "mail", "urls": ["json://127.0.0.1:9/mail"]},
        ],
    )
    by_name, _ = policies(load_config(config).settings)
    assert (by_name["chat"].timezone, by_name["chat"].snippets) == ("Europe/Paris", 1)
    assert (by_name["mail"].timezone, by_name["mail"].snippets) == ("UTC", 3)
