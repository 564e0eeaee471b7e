"""Three `monitor run` daemons on one PostgreSQL database against the loopback feed farm (300 feeds, every 10 s),
then `kill -9` of one of them: every feed is polled at least once in every interval + lease, no entry is stored
twice, every marked entry is alerted exactly once (the SMTP sink counts), and the dead daemon's feeds are taken
over within one lease. The daemons are real processes; poll times come from their own logs."""

from __future__ import annotations

import itertools
import os
import re
import signal
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select

from monitor.store.tables import articles, daemons, deliveries, feed_leases, feeds, hits
from tests.daemons import Daemon
from tests.factory import write_config
from tests.farm import FarmProcess
from tests.helpers import SmtpServer, wait_for

pytestmark = pytest.mark.timeout(600)

FEEDS = 300
INTERVAL = 10.0
LEASE = 30.0
TIMEOUT = 10.0
RUN = 60.0  # seconds the three daemons run together once every feed was polled (the cold first polls)
AFTER_KILL = INTERVAL + LEASE  # seconds the two others run on after the kill
# The lease loop's one-second tick, its queue of due feeds and a poll's own time on a loaded machine.
SLACK = 10.0
MARK = "Zephyrquill"
POLL_LINE = re.compile(
    r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) \w+ monitor\.daemon: poll feed=(\S+) status=(\S+) .*time=([\d.]+)s"
)


@dataclass(frozen=True)
class Poll:
    feed: str
    daemon: int
    started: datetime


def cluster_config(folder: Path, pg_url: str, feeds: list[str], smtp: SmtpServer) -> Path:
    folder.mkdir()
    return write_config(
        folder,
        monitor={
            "database": pg_url,
            "fulltext": False,
            "group_window": "2s",
            "lease": f"{LEASE:g}s",
            "timeout": f"{TIMEOUT:g}s",
            "workers": 1,
            "shutdown_timeout": "10s",
        },
        feeds=[
            {"name": f"f{i:03d}", "url": url, "interval": f"{INTERVAL:g}s"} for i, url in enumerate(feeds)
        ],
        watchlists=[{"name": "marked", "terms": [MARK], "notify": ["desk"]}],
        notifiers=[{"name": "desk", "urls": [smtp.apprise_url()]}],
    )


def polls_in(log: str, daemon: int) -> list[Poll]:
    found = []
    for line in log.splitlines():
        match = POLL_LINE.match(line)
        if match and match.group(3) in ("ok", "not-modified"):
            ended = datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S,%f").astimezone(UTC)  # local time
            found.append(Poll(match.group(2), daemon, ended - timedelta(seconds=float(match.group(4)))))
    return found


def message_text(message: EmailMessage) -> str:
    """The subject and every text part, decoded (quoted-printable may break a title across lines)."""
    parts = [str(message["Subject"] or "")]
    for part in message.walk():
        if part.get_content_maintype() == "text":
            parts.append(part.get_content())
    return "\n".join(parts)


def messages_naming(smtp: SmtpServer, url: str) -> int:
    link = re.compile(re.escape(url) + r"(?![\w/])")
    return sum(1 for message in smtp.messages if link.search(message_text(message)))


def test_three_daemons_share_the_feeds_and_take_over_from_one_killed(
    tmp_path: Path, pg_url: str, smtp_server: SmtpServer, start_daemon: Callable[[Path], Daemon]
) -> None:
    farm = FarmProcess(FEEDS, ports=10, lifetime=900, workdir=tmp_path, items=5)
    engine = create_engine(pg_url)
    marked: list[str] = []

    def add_marked() -> None:
        [url] = farm.advance(1, title=f"{MARK} report {len(marked):03d}")
        marked.append(url)  # an alert names the entry's link (some feeds' entries have no title)

    try:
        configs = [cluster_config(tmp_path / f"d{i}", pg_url, farm.feeds, smtp_server) for i in range(3)]
        running = [start_daemon(config) for config in configs]
        for daemon in running:
            daemon.wait_started(timeout=120, what="three daemons")

        def all_polled() -> bool:
            with engine.begin() as conn:
                return (
                    conn.scalar(select(func.count()).where(feeds.c.last_status.in_(["ok", "not-modified"])))
                    == FEEDS
                )

        wait_for(all_polled, timeout=300, what="a first poll of every feed")
        started = datetime.now(UTC)
        end = time.monotonic() + RUN
        while time.monotonic() < end:
            add_marked()
            time.sleep(3)

        victim = running[1]
        with engine.begin() as conn:
            owner = conn.scalar(select(daemons.c.owner).where(daemons.c.pid == victim.process.pid))
        # Killed while it holds feeds (between batches it may hold none): the feeds it is polling, each lease
        # taken or last renewed LEASE before its expiry.
        leased: list[Any] = []
        holding = time.monotonic() + 60
        while not leased and time.monotonic() < holding:
            with engine.begin() as conn:
                leased = list(
                    conn.execute(
                        select(feed_leases.c.feed, feed_leases.c.lease_expires).where(
                            feed_leases.c.leased_by == owner
                        )
                    )
                )
            if not leased:
                time.sleep(0.05)
        held = {row.feed for row in leased}
        os.kill(victim.process.pid, signal.SIGKILL)
        killed = datetime.now(UTC)
        victim.process.wait()
        end = time.monotonic() + AFTER_KILL
        while time.monotonic() < end:
            add_marked()
            time.sleep(3)
        stopped = datetime.now(UTC)
        try:
            wait_for(lambda: all(messages_naming(smtp_server, t) for t in marked), timeout=180)
        except AssertionError:
            (tmp_path / "mail.txt").write_text("\n\n=====\n\n".join(map(message_text, smtp_server.messages)))
            missing = [t for t in marked if not messages_naming(smtp_server, t)]
            raise AssertionError(f"not alerted: {missing} (the mail is in {tmp_path / 'mail.txt'})") from None
        survivors = [running[0], running[2]]
        for daemon in survivors:
            assert daemon.stop() == 0
    finally:
        farm.stop()

    polls = [p for i, d in enumerate(running) for p in polls_in(d.output(), i)]
    # The killed daemon never logged the polls it had in flight: they count from their claim (or renewal).
    in_flight = [Poll(row.feed, 1, row.lease_expires - timedelta(seconds=LEASE)) for row in leased]
    by_feed: dict[str, list[Poll]] = defaultdict(list)
    for poll in sorted(polls + in_flight, key=lambda p: p.started):
        by_feed[poll.feed].append(poll)
    names = {f"f{i:03d}" for i in range(FEEDS)}
    assert set(by_feed) == names
    assert {p.daemon for p in polls if p.started < killed} == {0, 1, 2}  # all three took a share

    # Every feed polled at least once in every interval + lease, the kill included.
    window = timedelta(seconds=INTERVAL + LEASE + SLACK)
    for name, feed_polls in by_feed.items():
        before = [p.started for p in feed_polls if p.started <= started]
        times = before[-1:] + [p.started for p in feed_polls if started < p.started <= stopped]
        assert times, f"{name} never polled"
        gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
        assert max(gaps, default=timedelta(0)) <= window, f"{name} went {max(gaps)} without a poll"
        assert stopped - times[-1] <= window, f"{name} not polled in the last {window}"

    # The dead daemon's feeds were taken over within one lease.
    assert held, "the killed daemon held no feed at the moment of the kill"
    for name in held:
        after_kill = [p for p in by_feed[name] if p.started > killed and p.daemon != 1]
        assert after_kill, f"{name} was never polled again after the kill"
        assert after_kill[0].started - killed <= timedelta(seconds=LEASE + SLACK), name
    assert not [p for p in polls if p.daemon == 1 and p.started > killed]

    # No entry stored twice; every marked entry stored, hit and alerted exactly once.
    with engine.begin() as conn:
        doubles = conn.execute(select(articles.c.key).group_by(articles.c.key).having(func.count() > 1)).all()
        stored = list(conn.scalars(select(articles.c.url).where(articles.c.url.in_(marked))))
        sent = conn.scalar(
            select(func.count())
            .select_from(deliveries.join(hits, deliveries.c.hit_id == hits.c.id))
            .where(deliveries.c.status == "sent")
        )
    engine.dispose()
    assert doubles == []
    assert sorted(stored) == sorted(marked)
    assert sent == len(marked)
    assert {url: messages_naming(smtp_server, url) for url in marked} == dict.fromkeys(marked, 1)
