"""`monitor feeds ...`: bring feeds in from an OPML file or a web address, and list them out as OPML."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path

from monitor.config.edit import FeedTable, append_feeds, with_feeds
from monitor.config.loader import load_settings
from monitor.discover import Discovery, discover
from monitor.errors import MonitorError
from monitor.fetch import Fetcher
from monitor.opml import (
    ExportedFeed,
    OpmlError,
    Outline,
    export_opml,
    parse_opml,
    plan_import,
    same_feed_url,
)
from monitor.untrusted import printable

MAX_OPML_SIZE = 5_000_000


def import_opml(config_path: Path, opml_path: Path, *, dry_run: bool) -> int:
    """Add the OPML file's feeds to the config file (or, with ``dry_run``, only say what would be added)."""
    settings = load_settings(config_path)
    try:
        with opml_path.open("rb") as handle:
            data = handle.read(MAX_OPML_SIZE + 1)
    except OSError as exc:
        raise MonitorError(f"{opml_path}: cannot read: {exc.strerror}") from None
    if len(data) > MAX_OPML_SIZE:
        raise OpmlError(f"{opml_path}: larger than {MAX_OPML_SIZE // 1_000_000} MB; not an OPML file")
    outlines = parse_opml(data, str(opml_path))
    plan = plan_import(outlines, [f.name for f in settings.feeds], [f.url for f in settings.feeds])
    for outline, reason in plan.skipped:
        print(printable(f"skip  {outline.title}: {reason} ({outline.xml_url})"))
    for feed in plan.added:
        tags = f"  [{', '.join(feed.tags)}]" if feed.tags else ""
        print(printable(f"{'would add' if dry_run else 'add'}  {feed.name}  {feed.url}{tags}"))
    tables = [FeedTable(feed.name, feed.url, feed.tags) for feed in plan.added]
    verb = "would be added" if dry_run else "added"
    if dry_run:
        with_feeds(config_path.read_text(encoding="utf-8"), tables, config_path)  # the edit must be possible
    elif tables:
        append_feeds(config_path, tables)
    print(f"{len(plan.added)} feeds {verb}, {len(plan.skipped)} skipped ({config_path})")
    return 0


def export(config_path: Path, now: datetime | None = None) -> int:
    """Print the configured feeds as OPML 2.0."""
    settings = load_settings(config_path)
    feeds = [ExportedFeed(feed.name, feed.url, feed.tags) for feed in settings.feeds]
    sys.stdout.write(export_opml(feeds, now or datetime.now(UTC)))
    return 0


def add(config_path: Path, url: str, *, name: str | None, pick: int) -> int:
    """Find the feeds of ``url`` (a feed, or a page linking to feeds) and add the ``pick``-th to the config file.
    Exit 1 when there is none."""
    settings = load_settings(config_path)
    if not url.startswith(("http://", "https://")):
        raise MonitorError(f"{url}: give an http:// or https:// address")
    monitor = settings.monitor

    async def find() -> Discovery:
        async with Fetcher(timeout=monitor.timeout, user_agent=monitor.user_agent) as fetcher:
            return await discover(fetcher, url, max_size=monitor.max_feed_size)

    found = asyncio.run(find())
    if not found.feeds:
        print(f"no feed found at {url} (neither linked from the page nor at the usual paths)")
        if found.is_page:
            print("follow the page itself with a [[page]] source:")
            print(f'\n[[page]]\nname = "{name or "page"}"\nurl = "{url}"\nmode = "links"')
        return 1
    for number, feed in enumerate(found.feeds, start=1):
        print(printable(f"{number}. {feed.title}  {feed.url}  ({feed.how})"))
    if not 1 <= pick <= len(found.feeds):
        raise MonitorError(f"--pick {pick}: choose a number from 1 to {len(found.feeds)}")
    chosen = found.feeds[pick - 1]
    known = {same_feed_url(f.url): f.name for f in settings.feeds}
    if same_feed_url(chosen.url) in known:
        print(f"already configured as {known[same_feed_url(chosen.url)]}: {chosen.url}")
        return 0
    if name is not None and name in {f.name for f in settings.feeds}:
        raise MonitorError(f"--name {name}: a feed of that name is already configured")
    names = [f.name for f in settings.feeds]
    (new,) = plan_import([Outline(name or chosen.title, chosen.url)], names, []).added
    append_feeds(config_path, [FeedTable(name or new.name, chosen.url)])
    print(f"added feed {name or new.name}: {chosen.url} ({config_path})")
    return 0
