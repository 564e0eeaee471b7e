"""Every daemon running on the database: who (host, pid), since when, its last heartbeat, and the fingerprint of
the config it runs with. On PostgreSQL several daemons share a database; `monitor status` lists them all."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, Engine, delete, insert, literal, select, update

from monitor.store.tables import UTCDateTime, daemons


@dataclass(frozen=True, slots=True)
class DaemonRow:
    owner: str
    hostname: str
    pid: int
    started_at: datetime
    heartbeat_at: datetime
    config_fingerprint: str
    config_path: str


class Daemons:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _clock(self, now: datetime) -> ColumnElement[datetime]:
        """The database's clock on PostgreSQL (shared by every daemon); the caller's on SQLite (one host)."""
        if self.engine.dialect.name == "postgresql":
            from monitor.store.leases import db_now

            return db_now()
        return literal(now, UTCDateTime())

    def register(self, row: DaemonRow) -> None:
        clock = self._clock(row.started_at)
        with self.engine.begin() as conn:
            conn.execute(delete(daemons).where(daemons.c.owner == row.owner))
            conn.execute(
                insert(daemons).values(
                    owner=row.owner,
                    hostname=row.hostname,
                    pid=row.pid,
                    started_at=clock,
                    heartbeat_at=clock,
                    config_fingerprint=row.config_fingerprint,
                    config_path=row.config_path,
                )
            )

    def heartbeat(self, owner: str, now: datetime, fingerprint: str | None = None) -> bool:
        """Say this daemon still runs (and, after a reload, with which config); False when its row is gone."""
        values: dict[str, object] = {"heartbeat_at": self._clock(now)}
        if fingerprint is not None:
            values["config_fingerprint"] = fingerprint
        with self.engine.begin() as conn:
            return bool(
                conn.execute(update(daemons).where(daemons.c.owner == owner).values(**values)).rowcount
            )

    def remove(self, owner: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(daemons).where(daemons.c.owner == owner))

    def listing(self) -> list[DaemonRow]:
        with self.engine.begin() as conn:
            rows = conn.execute(select(daemons).order_by(daemons.c.started_at, daemons.c.owner)).all()
        return [
            DaemonRow(
                r.owner,
                r.hostname,
                r.pid,
                r.started_at.replace(tzinfo=UTC) if r.started_at.tzinfo is None else r.started_at,
                r.heartbeat_at.replace(tzinfo=UTC) if r.heartbeat_at.tzinfo is None else r.heartbeat_at,
                r.config_fingerprint,
                r.config_path,
            )
            for r in rows
        ]

    def now(self, fallback: datetime) -> datetime:
        """The clock heartbeats are written with."""
        if self.engine.dialect.name != "postgresql":
            return fallback
        with self.engine.begin() as conn:
            value = conn.scalar(select(self._clock(fallback)))
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC)
