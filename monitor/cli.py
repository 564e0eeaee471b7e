"""The command line: parse arguments, build the real parts, print. Errors become one line and an exit code."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Coroutine, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from monitor import __version__
from monitor.errors import MonitorError
from monitor.logs import mask_standard_streams, setup_logging

# Nothing heavy at module level: `monitor --help` loads argparse and little else, and each command imports
# what it uses (see dispatch), so that none pays for the database, HTTP, alerting or extraction code it does
# not touch. tests/test_cli.py checks this for --help.


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="monitor", description="Media-monitoring alert daemon.")
    parser.add_argument(
        "--config", type=Path, help="config file (default: $MONITOR_CONFIG or config/monitor.toml)"
    )
    parser.add_argument(
        "--log-level", choices=["debug", "info", "warning", "error"], help="default: from config"
    )
    parser.add_argument("--log-format", choices=["text", "json"], default="text")
    parser.add_argument("--version", action="version", version=f"monitor {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sub.add_parser("check", help="validate the config file and print a summary")

    poll = sub.add_parser("poll", help="poll every feed once, store hits, send alerts, exit")
    poll.add_argument(
        "--feed", action="append", default=[], metavar="NAME", help="only this feed (repeatable)"
    )
    poll.add_argument("--no-notify", action="store_true", help="store hits but send nothing now")

    sub.add_parser("run", help="run as a service: poll on schedule, deliver alerts, follow config edits")

    hits = sub.add_parser("hits", help="list stored hits, newest first; `hits mark ID LABEL` labels one")
    hits.add_argument("action", nargs="*", metavar="mark HIT_ID relevant|irrelevant|unsure")
    hits.add_argument("--note", metavar="TEXT", help="with mark: why")
    hits.add_argument(
        "--label", choices=["relevant", "irrelevant", "unsure"], help="only hits with this label"
    )
    hits.add_argument("--watchlist", metavar="NAME")
    hits.add_argument("--since", metavar="2d|DATE", help="a duration back from now, or an ISO date")
    hits.add_argument("--query", metavar="Q", help="only hits whose article matches this query")
    hits.add_argument("--limit", type=row_limit, default=50, help="0: every row")
    hits.add_argument("--format", choices=["table", "json", "csv"], default="table")

    stories = sub.add_parser("stories", help="list stored stories (an article and its copies), newest first")
    stories.add_argument("--watchlist", metavar="NAME", help="only stories this watchlist matched")
    stories.add_argument("--since", metavar="2d|DATE", help="only stories with an article seen since then")
    stories.add_argument("--limit", type=row_limit, default=50, help="0: every row")
    stories.add_argument("--format", choices=["table", "json"], default="table")

    status = sub.add_parser("status", help="daemon, feeds and delivery state")
    status.add_argument("--format", choices=["table", "json"], default="table")

    deliveries = sub.add_parser("deliveries", help="list alert deliveries, or retry dead ones")
    deliveries.add_argument("action", nargs="?", choices=["list", "retry"], default="list")
    deliveries.add_argument("--status", choices=["pending", "failed", "dead", "sent"])
    deliveries.add_argument("--notifier", metavar="NAME")
    deliveries.add_argument("--limit", type=row_limit, default=100, help="0: every row")
    deliveries.add_argument("--format", choices=["table", "json"], default="table")

    test = sub.add_parser("notify-test", help="send a test message to one notifier or all")
    test.add_argument("notifier", nargs="?", metavar="NOTIFIER")

    match = sub.add_parser("match", help="try watchlists on one article; nothing is stored or sent")
    which = match.add_mutually_exclusive_group()
    which.add_argument("--watchlist", metavar="NAME")
    which.add_argument("--query", metavar="Q")
    source = match.add_mutually_exclusive_group(required=True)
    source.add_argument("--url")
    source.add_argument("--file", type=Path)
    source.add_argument("-", dest="stdin", action="store_true", help="read the text from standard input")

    search = sub.add_parser("search", help="search every stored article with the query language")
    search.add_argument("query", metavar="QUERY")
    search.add_argument("--since", default="30d", metavar="30d|DATE", help="published since (default 30d)")
    search.add_argument("--feed", metavar="NAME")
    search.add_argument("--lang", metavar="xx", help="only articles in this language")
    search.add_argument("--limit", type=row_limit, default=50, help="0: every article")
    search.add_argument("--format", choices=["table", "json", "csv"], default="table")

    backtest = sub.add_parser("backtest", help="run a watchlist over the archive; nothing is stored or sent")
    tested = backtest.add_mutually_exclusive_group(required=True)
    tested.add_argument("--watchlist", metavar="NAME")
    tested.add_argument("--query", metavar="Q")
    backtest.add_argument("--since", default="90d", metavar="90d|DATE", help="published since (default 90d)")
    backtest.add_argument("--format", choices=["table", "json"], default="table")

    evidence = sub.add_parser(
        "evidence", help="write a hit's captures (WARC), texts and manifest to a folder"
    )
    evidence.add_argument("hit_id", type=int, metavar="HIT_ID")
    evidence.add_argument("--out", type=Path, required=True, metavar="DIR")
    evidence.add_argument("--force", action="store_true", help="write into a folder that is not empty")

    feeds = sub.add_parser("feeds", help="add feeds from OPML or a web address; export them as OPML")
    feeds_sub = feeds.add_subparsers(dest="feeds_action", required=True, metavar="ACTION")
    opml_import = feeds_sub.add_parser("import", help="add the feeds of an OPML file to the config file")
    opml_import.add_argument("file", type=Path, metavar="FILE.opml")
    opml_import.add_argument(
        "--dry-run", action="store_true", help="show what would be added, change nothing"
    )
    feeds_sub.add_parser("export", help="print the configured feeds as OPML 2.0")
    feeds_add = feeds_sub.add_parser("add", help="find the feeds of a web address and add one")
    feeds_add.add_argument("url", metavar="URL")
    feeds_add.add_argument("--name", metavar="NAME", help="the new feed's name (default: from its title)")
    feeds_add.add_argument("--pick", type=int, default=1, metavar="N", help="add the N-th feed found")

    web = sub.add_parser("web", help="serve the web desk (inbox, triage, search, feeds) until stopped")
    web.add_argument(
        "--listen", metavar="HOST:PORT", help="default: [web] listen, else 127.0.0.1:8765 (loopback)"
    )

    db = sub.add_parser("db", help="database maintenance")
    db.add_argument("action", choices=["upgrade", "prune"])
    db.add_argument("--dry-run", action="store_true", help="with prune: only count what would be pruned")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    mask_standard_streams()
    setup_logging(args.log_level or "info", args.log_format)
    from monitor.config import default_config_path

    config_path: Path = args.config or default_config_path()
    try:
        return dispatch(args, config_path)
    except MonitorError as exc:
        print(f"monitor: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`monitor hits | head`): stop quietly, as other command-line tools do. Standard
        # output now leads nowhere, so that flushing it at exit does not complain either.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def row_limit(text: str) -> int:
    """--limit: a number of rows, 0 for every row."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of rows (0 or more; 0 lists every row)")
    return value


def dispatch(args: argparse.Namespace, config_path: Path) -> int:
    from monitor import commands

    command: str = args.command
    if command == "check":
        return commands.check(config_path)
    if command == "run":
        from monitor.memory import tune_allocator

        tune_allocator()  # before the daemon's imports and allocations
        from monitor.daemon import run_daemon

        return run_daemon(config_path, log_level=args.log_level, log_format=args.log_format)
    if command == "feeds":
        return dispatch_feeds(args, config_path)
    if command in ("hits", "stories", "deliveries") and not (
        command == "hits" and (args.action or args.query)
    ):
        return _database_command(args, commands.load_database(config_path, args.log_level).database)
    if command == "status":
        return commands.status(commands.load_status(config_path, args.log_level), args.format)
    config = commands.load(config_path, args.log_level)
    if command == "poll":
        return _run(commands.poll(config, args.feed, notify=not args.no_notify))
    if command in ("search", "backtest", "evidence") or (command == "db" and args.action == "prune"):
        return _archive_command(args, config)
    if command == "hits":
        if args.action:
            from monitor import archive_commands

            return archive_commands.mark_command(config, args.action, args.note)
        settings = config.settings
        return commands.hits(
            settings.monitor.database,
            args.watchlist,
            parse_since(args.since),
            args.limit,
            args.format,
            args.query,
            args.label,
            settings.resolved_aliases,
        )
    return _other_command(args, config)


def _database_command(args: argparse.Namespace, database: str) -> int:
    """The commands that use only the database: they read nothing else of the config file."""
    from monitor import commands

    command: str = args.command
    if command == "hits":
        since = parse_since(args.since)
        return commands.hits(database, args.watchlist, since, args.limit, args.format, label=args.label)
    if command == "stories":
        return commands.stories(database, args.watchlist, parse_since(args.since), args.limit, args.format)
    return commands.deliveries(database, args.action, args.status, args.notifier, args.limit, args.format)


def _archive_command(args: argparse.Namespace, config: Any) -> int:
    from monitor import archive_commands

    command: str = args.command
    if command == "search":
        return archive_commands.search_command(
            config, args.query, parse_since(args.since), args.feed, args.lang, args.limit, args.format
        )
    if command == "backtest":
        return archive_commands.backtest_command(
            config, args.watchlist, args.query, parse_since(args.since), args.format
        )
    if command == "evidence":
        return archive_commands.evidence_command(config, args.hit_id, args.out, args.force)
    return archive_commands.prune_command(config, args.dry_run)


def _other_command(args: argparse.Namespace, config: Any) -> int:
    from monitor import commands

    command: str = args.command
    if command == "notify-test":
        return _run(commands.notify_test(config, args.notifier))
    if command == "match":
        source: Any = args.url or args.file or "-"
        return commands.match(config, args.watchlist, args.query, source)
    if command == "db":
        return commands.db_upgrade(config)
    if command == "web":
        return commands.web(config, args.listen)
    raise AssertionError(command)


def dispatch_feeds(args: argparse.Namespace, config_path: Path) -> int:
    from monitor import feed_commands

    if args.feeds_action == "import":
        return feed_commands.import_opml(config_path, args.file, dry_run=args.dry_run)
    if args.feeds_action == "add":
        return feed_commands.add(config_path, args.url, name=args.name, pick=args.pick)
    if args.feeds_action == "export":
        return feed_commands.export(config_path)
    raise AssertionError(args.feeds_action)


def _run(coroutine: Coroutine[Any, Any, int]) -> int:
    import asyncio

    return asyncio.run(coroutine)


def parse_since(text: str | None) -> datetime | None:
    """ "2d" means two days back from now; "2026-11-01" (or any ISO date-time) is read as UTC."""
    if not text:
        return None
    from monitor.config import parse_duration

    try:
        return datetime.now(UTC) - timedelta(seconds=parse_duration(text))
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise MonitorError(
            f"--since {text!r}: use a duration such as 2d or 6h, or a date such as 2026-11-01"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
