"""The store's rows of running daemons: each daemon registers, beats and leaves under its own owner only. Real
SQLite files."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from monitor.store import Store
from monitor.store.daemons import DaemonRow, Daemons

T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def row(owner: str, pid: int, at: datetime = T0) -> DaemonRow:
    return DaemonRow(owner, "host", pid, at, at, "config-a", "/etc/monitor.toml")


def test_each_daemon_registers_beats_and_leaves_under_its_own_owner(store: Store) -> None:
    registry = Daemons(store.engine)
    registry.register(row("one", 11))
    registry.register(row("two", 22, T0 + timedelta(seconds=1)))
    assert [(r.owner, r.pid, r.heartbeat_at) for r in registry.listing()] == [
        ("one", 11, T0),
        ("two", 22, T0 + timedelta(seconds=1)),
    ]
    assert registry.heartbeat("one", T0 + timedelta(minutes=1), fingerprint="config-b")
    one, two = registry.listing()
    assert (one.heartbeat_at, one.config_fingerprint) == (T0 + timedelta(minutes=1), "config-b")
    assert (two.heartbeat_at, two.config_fingerprint) == (T0 + timedelta(seconds=1), "config-a")
    assert not registry.heartbeat("gone", T0 + timedelta(minutes=2))  # no row: the daemon is told so
    registry.register(row("one", 33, T0 + timedelta(minutes=3)))  # restarted: its own row replaced
    assert [(r.owner, r.pid) for r in registry.listing()] == [("two", 22), ("one", 33)]
    registry.remove("two")
    assert [r.owner for r in registry.listing()] == ["one"]
    assert registry.now(T0) == T0  # on SQLite the daemons' clock is the caller's
