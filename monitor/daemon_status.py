"""What `monitor status` says about the daemons on the database: each one's state, heartbeat, feeds leased and
config fingerprint, and a warning when they run with different configs. Pure: rows and ``now`` in, values out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from monitor import output
from monitor.lock import process_alive
from monitor.store.daemons import DaemonRow

STALE_AFTER = timedelta(minutes=2)  # a heartbeat older than this (they come every 10 s): the daemon is gone


def daemon_rows(
    rows: Sequence[DaemonRow], leased: Mapping[str, int], fingerprint: str, now: datetime
) -> list[dict[str, Any]]:
    return [
        {
            "state": _state(row, now),
            "hostname": row.hostname,
            "pid": row.pid,
            "started": row.started_at,
            "heartbeat": row.heartbeat_at,
            "feeds_leased": leased.get(row.owner, 0),
            "config_fingerprint": row.config_fingerprint,
            "same_config": row.config_fingerprint == fingerprint,
            "config_path": row.config_path,
            "owner": row.owner,
        }
        for row in rows
    ]


def _state(row: DaemonRow, now: datetime) -> str:
    if not process_alive(row.pid, row.hostname):
        return "not running (stale record)"
    if now - row.heartbeat_at > STALE_AFTER:
        return "not responding (no heartbeat)"
    return "running"


def config_warnings(daemons: Sequence[Mapping[str, Any]], fingerprint: str) -> list[str]:
    """A warning when the running daemons use different configs: each sends by its own watchlists and
    notifiers, so the same hit may be routed differently depending on which daemon polled its feed."""
    running = [d for d in daemons if d["state"] == "running"]
    prints = sorted({d["config_fingerprint"] for d in running})
    warnings = []
    if len(prints) > 1:
        who = "; ".join(
            f"{fp}: "
            + ", ".join(
                f"pid {d['pid']} on {d['hostname']}" for d in running if d["config_fingerprint"] == fp
            )
            for fp in prints
        )
        warnings.append(
            f"the {len(running)} running daemons use {len(prints)} different configs ({who}); each polls and "
            "sends by its own feeds, watchlists and notifiers: give them the same config file"
        )
    elif prints and prints[0] != fingerprint:
        warnings.append(
            f"the running daemons use a config (fingerprint {prints[0]}) that differs from this one ({fingerprint})"
        )
    return warnings


def daemons_text(daemons: Sequence[Mapping[str, Any]]) -> str:
    running = [d for d in daemons if d["state"] == "running"]
    if not daemons:
        return "daemon: not running"
    lines = [f"daemon: {d['state']} (pid {d['pid']} on {d['hostname']})" for d in daemons]
    if len(daemons) > 1:
        lines.insert(0, f"daemons: {len(running)} running of {len(daemons)} recorded")
    columns = ["hostname", "pid", "state", "started", "heartbeat", "feeds_leased", "config_fingerprint"]
    lines.append(output.table([dict(d) for d in daemons], columns))
    return "\n".join(lines)
