"""`monitor feeds ...`: bring feeds in from an OPML file or a web address, and list them out as OPML."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

from monitor.config.edit import FeedTable, append_feeds, with_feeds
from monitor.config.loader import load_settings
from monitor.errors import MonitorError
from monitor.opml import ExportedFeed, OpmlError, export_opml, parse_opml, plan_import

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
        print(f"skip  {outline.title}: {reason} ({outline.xml_url})")
    for feed in plan.added:
        tags = f"  [{', '.join(feed.tags)}]" if feed.tags else ""
        print(f"{'would add' if dry_run else 'add'}  {feed.name}  {feed.url}{tags}")
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
