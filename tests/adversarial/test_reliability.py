"""No story missed and none sent twice: transient page failures, crashing workers, claims of live senders."""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import pytest

from monitor import extract, page_retry
from monitor.claims import current_owner, owner_gone, process_start
from monitor.daemon import Daemon
from monitor.errors import ConfigError
from monitor.feeds import parse_feed
from monitor.fetch import Fetcher
from monitor.match import compile_watchlists
from monitor.models import Article, Match, Page, WatchlistSpec
from monitor.page_retry import MAX_CRASHES, PageFailure
from monitor.poll import MAX_TITLE, FeedJob, Pipeline, PollLimits, capped_title
from monitor.runtime import load_config, release_stale_claims
from monitor.store import Outbox, PageRetries, Store
from monitor.workers import WorkerPool
from tests.factory import Item, article_page, json_lines, rss, run_cli, write_config
from tests.httpserver import LocalServer, http_server

__all__ = ["http_server"]

T = TypeVar("T")
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
DAY = 86400.0
HTML = {"Content-Type": "text/html; charset=utf-8"}
BODY_ONLY = ["Canadian Wescam sensors were found on the drones, the report said."] * 6


# --- the decision -------------------------------------------------------------------------------------------

TRANSIENT = PageFailure("HTTP 503 Service Unavailable", transient=True)


def plan(
    failure: PageFailure = TRANSIENT, failures: int = 1, crashes: int = 0, at: datetime = NOW
) -> datetime | None:
    return page_retry.next_attempt(
        failure, failures=failures, crashes=crashes, first_failed=NOW, now=at, max_age=3 * DAY
    )


def test_retry_backoff_is_2m_10m_1h_then_every_6h() -> None:
    assert [plan(failures=n) for n in (1, 2, 3, 4, 9)] == [
        NOW + timedelta(minutes=2),
        NOW + timedelta(minutes=10),
        NOW + timedelta(hours=1),
        NOW + timedelta(hours=6),
        NOW + timedelta(hours=6),
    ]


def test_retry_stops_at_notify_max_age_after_the_first_failure() -> None:
    last_chance = NOW + timedelta(days=3, hours=-6)
    assert plan(failures=5, at=last_chance) == NOW + timedelta(days=3)  # exactly at the limit: one more try
    assert plan(failures=5, at=last_chance + timedelta(seconds=1)) is None


def test_permanent_failures_are_never_retried() -> None:
    assert plan(PageFailure("HTTP 404 Not Found", transient=False)) is None


def test_a_crashing_page_is_retried_at_most_a_few_times() -> None:
    crash = PageFailure("extraction crashed", transient=True, crashed=True)
    assert plan(crash, failures=MAX_CRASHES - 1, crashes=MAX_CRASHES - 1) is not None
    assert plan(crash, failures=MAX_CRASHES, crashes=MAX_CRASHES) is None


def test_a_retry_is_due_at_its_time_not_before() -> None:
    assert page_retry.is_due(NOW, NOW)
    assert not page_retry.is_due(NOW + timedelta(microseconds=1), NOW)


# --- the pipeline with a flaky page -------------------------------------------------------------------------


def extract_or_die(markup: str | bytes, url: str) -> Page:
    """The real extractor, except that a page whose URL says "crash" kills the worker process running it."""
    if "crash" in url:
        os._exit(9)
    return extract.extract_page(markup, url)


def run(make: Callable[[Pipeline], Awaitable[T]], tmp_path: Path, job: FeedJob, *, workers: WorkerPool) -> T:
    """``make(pipeline)`` on a pipeline of real parts over the SQLite file in ``tmp_path``."""

    async def go() -> T:
        store = Store.open(f"sqlite:///{tmp_path / 'monitor.db'}")
        store.sync_feeds({job.name: job.url})
        matcher = compile_watchlists([WatchlistSpec("arms", terms=("Wescam",))])
        limits = PollLimits(
            max_feed_size=1_000_000,
            max_page_size=1_000_000,
            extract_timeout=60,
            notify_max_age=3 * DAY,
            max_backoff=3600,
        )
        async with Fetcher(timeout=5, user_agent="test") as fetcher:
            pipeline = Pipeline(
                fetcher,
                workers,
                store,
                matcher,
                {"arms": ("desk",)},
                limits,
                random.Random(1),
                extract_or_die,
            )
            try:
                return await make(pipeline)
            finally:
                store.close()

    return asyncio.run(go())


def serve_feed(server: LocalServer, *paths: str) -> FeedJob:
    items = [Item(f"Story {path}", server.url(path), "Ministers declined to comment.", NOW) for path in paths]
    url = server.route("/feed.xml", body=rss(items), headers={"Content-Type": "application/rss+xml"})
    return FeedJob("gazette", url, 900, True)


def open_store(tmp_path: Path) -> Store:
    return Store.open(f"sqlite:///{tmp_path / 'monitor.db'}")


def test_a_page_that_answers_503_is_fetched_again_and_its_hit_alerted(
    tmp_path: Path, http_server: LocalServer
) -> None:
    job = serve_feed(http_server, "/story")
    http_server.route("/story", status=503, body=b"busy")
    with WorkerPool(0) as inline:
        first = run(lambda p: p.poll(job, NOW), tmp_path, job, workers=inline)
        assert first.new_entries == 1 and first.hits == 0
        assert first.page_errors == (
            f"{http_server.url('/story')}: HTTP 503 Service Unavailable; fetching it again later",
        )

        store = open_store(tmp_path)
        [pending] = PageRetries(store.engine).listing()
        assert (pending.failures, pending.next_attempt) == (1, NOW + timedelta(minutes=2))
        store.close()

        early = run(lambda p: p.retry_pages(NOW + timedelta(seconds=119)), tmp_path, job, workers=inline)
        assert early.fetched == early.pending == 0
        assert len(http_server.requests_for("/story")) == 1  # not due: not asked again

        second = run(lambda p: p.retry_pages(NOW + timedelta(minutes=2)), tmp_path, job, workers=inline)
        assert (second.fetched, second.pending) == (0, 1)  # still 503: the next try waits 10 minutes

        http_server.route("/story", body=article_page("Story", BODY_ONLY), headers=HTML)
        later = NOW + timedelta(minutes=12)
        third = run(lambda p: p.retry_pages(later), tmp_path, job, workers=inline)
        assert (third.fetched, third.hits, third.pending) == (1, 1, 0)

    store = open_store(tmp_path)
    try:
        [hit] = store.hits()
        assert hit.watchlist == "arms" and hit.matched == ("Wescam",)
        [delivery] = Outbox(store.engine).due(later)
        assert delivery.hit.id == hit.id and delivery.notifier == "desk"
        assert PageRetries(store.engine).listing() == []
        assert "Wescam" in store.article_fields([hit.id])[hit.id]["body"]
    finally:
        store.close()
    # Once stored, the article is not fetched again.
    with WorkerPool(0) as inline:
        assert (
            run(lambda p: p.retry_pages(later + timedelta(days=1)), tmp_path, job, workers=inline).fetched
            == 0
        )


@pytest.mark.parametrize(
    ("status", "headers"), [(404, {}), (410, {}), (200, {"Content-Type": "application/pdf"})]
)
def test_permanent_page_failures_are_not_retried(
    tmp_path: Path, http_server: LocalServer, status: int, headers: dict[str, str]
) -> None:
    job = serve_feed(http_server, "/story")
    http_server.route("/story", status=status, body=b"%PDF-1.4", headers=headers)
    with WorkerPool(0) as inline:
        result = run(lambda p: p.poll(job, NOW), tmp_path, job, workers=inline)
    assert result.status == "ok" and len(result.page_errors) == 1
    assert "again" not in result.page_errors[0]
    store = open_store(tmp_path)
    try:
        assert PageRetries(store.engine).listing() == []
    finally:
        store.close()


def test_a_page_still_failing_after_notify_max_age_is_given_up(
    tmp_path: Path, http_server: LocalServer
) -> None:
    job = serve_feed(http_server, "/story")
    http_server.route("/story", status=503, body=b"busy")
    with WorkerPool(0) as inline:
        run(lambda p: p.poll(job, NOW), tmp_path, job, workers=inline)
        report = run(lambda p: p.retry_pages(NOW + timedelta(days=3)), tmp_path, job, workers=inline)
    assert report.given_up == (f"{http_server.url('/story')}: HTTP 503 Service Unavailable",)
    store = open_store(tmp_path)
    try:
        assert PageRetries(store.engine).listing() == []
    finally:
        store.close()


def test_a_page_that_kills_its_worker_is_that_pages_error_and_retried_a_few_times(
    tmp_path: Path, http_server: LocalServer
) -> None:
    job = serve_feed(http_server, "/crash", "/story")
    http_server.route("/crash", body=article_page("Crash", BODY_ONLY), headers=HTML)
    http_server.route("/story", body=article_page("Story", BODY_ONLY), headers=HTML)
    with WorkerPool(1) as pool:
        result = run(lambda p: p.poll(job, NOW), tmp_path, job, workers=pool)
        # The feed is fine; the other page was extracted by a fresh worker and hit.
        assert result.status == "ok" and result.new_entries == 2 and result.hits == 1
        [error] = result.page_errors
        assert error.startswith(f"{http_server.url('/crash')}: extraction crashed") and "again later" in error
        at = NOW
        reports = []
        for _ in range(MAX_CRASHES):
            at += timedelta(hours=6)
            reports.append(run(lambda p, when=at: p.retry_pages(when), tmp_path, job, workers=pool))
    assert [(r.pending, len(r.given_up)) for r in reports] == [(1, 0), (0, 1), (0, 0)]
    assert len(http_server.requests_for("/crash")) == MAX_CRASHES  # then it is left alone
    store = open_store(tmp_path)
    try:
        [state] = store.feed_states()
        assert state.last_status == "ok" and state.consecutive_failures == 0
    finally:
        store.close()


def test_status_lists_the_pending_page_fetches(tmp_path: Path, http_server: LocalServer) -> None:
    job = serve_feed(http_server, "/story")
    http_server.route("/story", status=503, body=b"busy")
    config = write_config(
        tmp_path,
        feeds=[{"name": job.name, "url": job.url}],
        watchlists=[{"name": "arms", "terms": ["Wescam"]}],
    )
    poll = run_cli(config, "poll", "--no-notify")
    assert poll.returncode == 0, poll.stderr
    assert "HTTP 503 Service Unavailable; fetching it again later" in poll.stdout
    [status] = json_lines(run_cli(config, "status", "--format", "json").stdout)
    [pending] = status["pending_pages"]
    assert (pending["url"], pending["failures"], pending["feed"]) == (http_server.url("/story"), 1, "gazette")
    assert pending["last_error"] == "HTTP 503 Service Unavailable"
    table = run_cli(config, "status").stdout
    assert "pending page fetches:" in table and http_server.url("/story") in table


# --- claims of live and stopped senders ---------------------------------------------------------------------


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_owner_gone_only_for_a_stopped_process_on_this_host() -> None:
    me = current_owner()
    host, pid, start = me.rsplit(":", 2)
    assert not owner_gone(me, host, process_start)
    assert owner_gone(f"{host}:{dead_pid()}:{start}", host, process_start)
    assert owner_gone(f"{host}:{pid}:{start}0", host, process_start)  # the pid now runs another process
    assert not owner_gone(
        f"other-host:{dead_pid()}:1", host, process_start
    )  # cannot tell: its expiry decides
    assert not owner_gone("not an owner id", host, process_start)


def test_a_starting_sender_releases_only_the_claims_of_stopped_senders(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    try:
        store.sync_feeds({"gazette": "https://example.org/feed"})
        for index in range(3):
            article = Article("gazette", f"k{index}", None, None, f"Story {index}", "", "Wescam", NOW, NOW)
            match = Match("arms", ("Wescam",))
            store.save_article(article, [match], {"arms": ["desk"]}, alert=True, now=NOW)
        host = socket.gethostname()
        stopped = f"{host}:{dead_pid()}:1"
        claims = {
            current_owner(): 1,  # a live `monitor poll` sending right now
            stopped: 2,  # a poll killed with -9 in the middle of a send
            "other-host:77:1": 3,  # a live daemon on another machine
        }
        until = NOW + timedelta(minutes=5)
        for owner, delivery_id in claims.items():
            assert Outbox(store.engine, owner=owner).claim([delivery_id], NOW, until) == {delivery_id}

        daemon_outbox = Outbox(store.engine, owner=f"{host}:{os.getpid()}:daemon")
        later = NOW + timedelta(seconds=30)
        assert release_stale_claims(daemon_outbox, later) == {stopped: 1}
        assert [d.id for d in daemon_outbox.due(later)] == [2]
        assert daemon_outbox.held(later) == {current_owner(): (1, until), "other-host:77:1": (1, until)}
        # Past their expiry, the claims of the other machine are released too.
        assert release_stale_claims(daemon_outbox, until + timedelta(seconds=1)) == {
            current_owner(): 1,
            "other-host:77:1": 1,
        }
    finally:
        store.close()


# --- live reload survives any failure -----------------------------------------------------------------------


async def wait_until(condition: Callable[[], bool], what: str) -> None:
    """File watching happens in real time: wait for its effect, with a generous deadline."""
    for _ in range(600):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_the_config_watcher_logs_any_failed_reload_and_keeps_watching(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    watchlist = {"name": "arms", "terms": ["Wescam"]}
    path = write_config(tmp_path, watchlists=[watchlist])
    nested = path.read_text() + "deep = " + "[" * 5000 + "]" * 5000 + "\n"

    async def scenario() -> None:
        daemon = Daemon(path, load_config(path))
        running = asyncio.create_task(daemon.run())
        await wait_until(lambda: daemon.scheduler is not None and daemon.scheduler.running, "the start")
        assert daemon.runtime is not None
        engine = daemon.runtime.store.engine

        path.write_text(nested)  # once a RecursionError that ended the watcher without a word
        await wait_until(lambda: "not applied" in caplog.text and str(path) in caplog.text, "the error")
        caplog.clear()

        # A reload that fails while it is applied: the database refuses the new feed.
        with engine.begin() as conn:
            conn.exec_driver_sql("ALTER TABLE feeds RENAME TO feeds_away")
        write_config(
            tmp_path, feeds=[{"name": "wire", "url": "file:///nonexistent.xml"}], watchlists=[watchlist]
        )
        await wait_until(lambda: "OperationalError" in caplog.text, "the failed apply")
        assert f"config {path} not applied" in caplog.text
        assert daemon.config.jobs == []  # still the last good config
        with engine.begin() as conn:
            conn.exec_driver_sql("ALTER TABLE feeds_away RENAME TO feeds")

        two = [watchlist, {"name": "drones", "terms": ["Baykar"]}]
        write_config(tmp_path, watchlists=two)  # a later valid edit still applies
        await wait_until(lambda: len(daemon.config.settings.watchlists) == 2, "the valid edit")
        daemon.stopping.set()
        await running

    caplog.set_level(logging.INFO, logger="monitor")
    asyncio.run(scenario())


# --- absurd and hostile configs -----------------------------------------------------------------------------


def config_problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "monitor.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    return caught.value.problems


@pytest.mark.parametrize(
    ("line", "bound"),
    [
        ('interval = "600000w"', "interval: must be at most 4w2d (got"),
        ("interval = inf", 'interval: expected a duration such as "15m", got inf'),
        ("timeout = nan", 'timeout: expected a duration such as "15m", got nan'),
        ('timeout = "2h"', "timeout: must be at most 1h (got 2h)"),
        ('extract_timeout = "1d"', "extract_timeout: must be at most 1h (got 1d)"),
        ('shutdown_timeout = "90m"', "shutdown_timeout: must be at most 1h (got 1h30m)"),
        ('notify_max_age = "400d"', "notify_max_age: must be at most 52w2d (got 57w1d)"),
        ('retry_for = "31d"', "retry_for: must be at most 4w2d (got 4w3d)"),
        ('max_backoff = "1000w"', "max_backoff: must be at most 4w2d (got 1000w)"),
        ('group_window = "2d"', "group_window: must be at most 1d (got 2d)"),
        ("workers = 100000", "workers: must be at most 64 (got 100000)"),
        ("max_connections = 1e20", "max_connections: expected a whole number, got 1e+20"),
        ("max_connections = 100000000000000000000", "max_connections: must be at most 1000 (got 1e+20)"),
        ("max_per_host = 101", "max_per_host: must be at most 100 (got 101)"),
        ('max_feed_size = "2GB"', "max_feed_size: must be at most 1 GB (got 2 GB)"),
        ('max_page_size = "1GiB"', "max_page_size: must be at most 100 MB (got 1 GiB)"),
    ],
)
def test_every_number_in_the_config_has_an_upper_bound(tmp_path: Path, line: str, bound: str) -> None:
    [problem] = config_problems(tmp_path, f"[monitor]\n{line}\n")
    assert problem.startswith(f"{tmp_path / 'monitor.toml'}:2: [monitor] ")
    assert bound in problem


def test_max_per_hour_has_an_upper_bound(tmp_path: Path) -> None:
    [problem] = config_problems(tmp_path, '[[notifier]]\nname = "chat"\nmax_per_hour = 1000000\n')
    assert problem.endswith(':3: [[notifier]] #1 "chat" max_per_hour: must be at most 100000 (got 1e+06)')


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("[monitor]\n\n" + "deep = " + "[" * 5000 + "]" * 5000 + "\n", 3),
        ("[monitor]\ndeep = " + "{a = " * 3000 + "1" + "}" * 3000 + "\n", 2),
        ("[monitor]\nx = [\n" + "[" * 40 + "]" * 40 + "\n]\n", 3),
        ("[" + ".".join(["a"] * 5000) + "]\nx = 1\n", 1),
        ("[monitor]\n" + ".".join(["b"] * 5000) + " = 1\n", 2),
    ],
)
def test_deep_nesting_in_toml_is_an_error_at_its_line(tmp_path: Path, text: str, line: int) -> None:
    [problem] = config_problems(tmp_path, text)
    assert (
        problem
        == f"{tmp_path / 'monitor.toml'}:{line}: nested more than 32 levels deep (arrays, inline tables or dotted keys)"
    )


@pytest.mark.parametrize(
    "query", ["(" * 5000 + "a" + ")" * 5000, "NOT " * 5000 + "a", "-(" * 5000 + "a" + ")" * 5000]
)
def test_deep_nesting_in_a_query_is_an_error_at_its_line(tmp_path: Path, query: str) -> None:
    text = f'[[watchlist]]\nname = "deep"\nquery = "{query}"\n'
    [problem] = config_problems(tmp_path, text)
    assert problem.startswith(
        f"{tmp_path / 'monitor.toml'}:3: [[watchlist]] watchlist 'deep': query error at"
    )
    assert "at most 32 groups and NOTs inside each other" in problem


def test_check_refuses_absurd_values_with_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "monitor.toml"
    path.write_text('[monitor]\ninterval = "600000w"\nworkers = 100000\nmax_connections = 1e20\n')
    checked = run_cli(path, "check")
    assert checked.returncode == 2, checked.stderr
    assert (
        f"{path}:2:" in checked.stderr and f"{path}:3:" in checked.stderr and f"{path}:4:" in checked.stderr
    )
    assert "Traceback" not in checked.stderr


def test_check_reports_schema_reference_and_query_errors_in_one_run(tmp_path: Path) -> None:
    path = tmp_path / "monitor.toml"
    path.write_text(
        "[monitor]\n"
        'interval = "soon"\n'  # 2: schema
        "\n[[watchlist]]\n"
        'name = "arms"\n'
        'query = "Wescam AND (Baykar"\n'  # 6: query syntax
        'notify = ["nobody"]\n'  # 7: reference
        "\n[[watchlist]]\n"
        'name = "drones"\n'
        'terms = ["ok", "!!!"]\n'  # 11: terms syntax
        'feeds = ["nowhere"]\n'  # 12: reference
    )
    checked = run_cli(path, "check")
    assert checked.returncode == 2
    lines = [line.removeprefix("monitor: ") for line in checked.stderr.splitlines()]
    lines = [line for line in lines if line.startswith(f"{path}:")]
    assert [line.split(":")[1] for line in lines] == ["2", "6", "7", "11", "12"], checked.stderr
    assert "query error at position 19: expected ')'" in lines[1]
    assert "unknown notifier 'nobody'" in lines[2] and "unknown feed 'nowhere'" in lines[4]


# --- a database that cannot be used -------------------------------------------------------------------------


@contextmanager
def read_only(path: Path) -> Iterator[None]:
    """Make a file or folder read-only, also for root (who ignores permission bits): the immutable flag."""
    if os.geteuid() == 0:
        subprocess.run(["chattr", "+i", str(path)], check=True)
    else:
        path.chmod(0o555 if path.is_dir() else 0o444)
    try:
        yield
    finally:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(path)], check=True)
        else:
            path.chmod(0o755 if path.is_dir() else 0o644)


def one_line_error(result: subprocess.CompletedProcess[str], code: int = 3) -> str:
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    warnings = ("warning: ", " WARNING ")
    lines = [line for line in result.stderr.splitlines() if not any(w in line for w in warnings)]
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert line.startswith("monitor: "), result.stderr
    return line


def test_a_read_only_database_is_one_line_with_exit_3_in_check_and_poll(tmp_path: Path) -> None:
    config = write_config(tmp_path, watchlists=[{"name": "arms", "terms": ["Wescam"]}])
    assert run_cli(config, "poll").returncode == 0  # creates the database
    with read_only(tmp_path / "monitor.db"):
        for command in ("check", "poll", "hits"):
            line = one_line_error(run_cli(config, command))
            assert "attempt to write a readonly database" in line and "read-only" in line, line


def test_an_unwritable_folder_is_one_line_with_exit_3(tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    config = write_config(
        tmp_path,
        monitor={"database": "sqlite:///locked/data/monitor.db"},
        watchlists=[{"name": "arms", "terms": ["Wescam"]}],
    )
    with read_only(folder):
        assert f"the folder {folder} is not writable" in one_line_error(run_cli(config, "check"))
        assert "locked/data" in one_line_error(run_cli(config, "poll"))
        assert "lock file" in one_line_error(run_cli(config, "run"))


def test_a_percent_sign_in_the_database_path_works(tmp_path: Path) -> None:
    folder = tmp_path / "100%done"
    folder.mkdir()
    config = write_config(folder, watchlists=[{"name": "arms", "terms": ["Wescam"]}])
    polled = run_cli(config, "poll")
    assert polled.returncode == 0, polled.stderr
    assert run_cli(config, "check").returncode == 0
    assert (folder / "monitor.db").exists()


@pytest.mark.parametrize(
    ("database", "module"),
    [("mysql://monitor@localhost/news", "MySQLdb"), ("postgresql+psycopg2://localhost/news", "psycopg2")],
)
def test_a_missing_database_driver_is_one_line_with_exit_3(
    tmp_path: Path, database: str, module: str
) -> None:
    config = write_config(tmp_path, monitor={"database": database})
    for command in ("check", "poll", "run"):
        line = one_line_error(run_cli(config, command))
        assert f"its driver is not installed (no module named '{module}')" in line, line


# --- minor hostile inputs -----------------------------------------------------------------------------------


def test_a_nul_byte_in_an_xml_title_neither_cuts_it_nor_spoils_the_feed() -> None:
    body = (
        b"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>T</title>"
        b"<item><title>Q&amp;A\x00 on Wescam\x00sensors</title><link>https://example.org/a</link>"
        b"<description>Baykar\x00drones</description></item></channel></rss>"
    )
    parsed = parse_feed(body, url="https://example.org/feed")
    [entry] = parsed.entries
    assert (entry.title, entry.summary, parsed.warning) == ("Q&A on Wescam sensors", "Baykar drones", None)
    wide = "<?xml version='1.0' encoding='utf-16'?><rss version='2.0'><channel><title>T</title><item>"
    wide += "<title>Wide</title><link>https://example.org/w</link></item></channel></rss>"
    assert [e.title for e in parse_feed(wide.encode("utf-16"), url="https://x.org/f").entries] == ["Wide"]


def test_far_future_dates_are_the_fetch_time_and_huge_titles_are_capped_keeping_their_words(
    tmp_path: Path, http_server: LocalServer
) -> None:
    huge = "Drones " * 2000 + "Wescam"
    items = [
        Item("From the future", http_server.url("/future"), "Soon.", NOW + timedelta(days=3650)),
        Item(huge, http_server.url("/huge"), "The summary.", NOW),
    ]
    url = http_server.route("/feed.xml", body=rss(items), headers={"Content-Type": "application/rss+xml"})
    job = FeedJob("gazette", url, 900, False)
    with WorkerPool(0) as inline:
        result = run(lambda p: p.poll(job, NOW), tmp_path, job, workers=inline)
    assert result.hits == 1  # the word past the cap still matches
    store = open_store(tmp_path)
    try:
        with store.engine.begin() as conn:
            rows = {
                row.url: row
                for row in conn.exec_driver_sql("SELECT url, title, summary, published_at FROM articles")
            }
    finally:
        store.close()
    assert str(rows[http_server.url("/future")].published_at).startswith("2026-11-30 09:00:00")
    capped = rows[http_server.url("/huge")]
    assert len(capped.title) <= MAX_TITLE and capped.title.endswith("Drones…")
    assert capped.summary.startswith("…Drones") and capped.summary.endswith("Wescam\n\nThe summary.")
    assert (capped.title[:-1] + " " + capped.summary[1:]).startswith(huge.strip())


def test_capped_title_boundaries() -> None:
    exact = "x" * MAX_TITLE
    assert capped_title(exact, "s") == (exact, "s")
    title, summary = capped_title(exact + "y", "")
    assert (len(title), title[-1], summary) == (MAX_TITLE, "…", "…xy")


def stored_hits(tmp_path: Path, count: int, at: datetime = NOW) -> Store:
    store = open_store(tmp_path)
    store.sync_feeds({"gazette": "https://example.org/feed"})
    for index in range(count):
        article = Article(
            "gazette", f"k{index}", f"https://e.org/{index}", None, f"Story {index}", "", "", at, at
        )
        store.save_article(article, [Match("arms", ("Wescam",))], {"arms": ["desk"]}, alert=True, now=at)
    return store


def test_limit_0_lists_every_row_and_a_negative_limit_is_refused(tmp_path: Path) -> None:
    config = write_config(tmp_path, watchlists=[{"name": "arms", "terms": ["Wescam"]}])
    run_cli(config, "check")
    stored_hits(tmp_path, 60).close()
    assert len(json_lines(run_cli(config, "hits", "--format", "json").stdout)) == 50
    assert len(json_lines(run_cli(config, "hits", "--limit", "0", "--format", "json").stdout)) == 60
    searched = run_cli(config, "hits", "--limit", "0", "--query", "Story", "--format", "json")
    assert len(json_lines(searched.stdout)) == 60
    assert len(json_lines(run_cli(config, "deliveries", "--limit", "0", "--format", "json").stdout)) == 60
    refused = run_cli(config, "hits", "--limit", "-1")
    assert refused.returncode == 2 and "0 or more" in refused.stderr


def test_hits_and_deliveries_piped_into_head_end_quietly(tmp_path: Path) -> None:
    config = write_config(tmp_path, watchlists=[{"name": "arms", "terms": ["Wescam"]}])
    stored_hits(tmp_path, 3000).close()
    for command in ("hits", "deliveries"):
        pipeline = subprocess.run(
            f"{sys.executable} -m monitor --config {config} {command} --limit 0 | head -n 1",
            shell=True,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert pipeline.stdout.count("\n") == 1
        assert "BrokenPipeError" not in pipeline.stderr and "Traceback" not in pipeline.stderr, (
            pipeline.stderr
        )


def test_poll_after_a_kill_9_mid_send_releases_and_says_so(tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        watchlists=[{"name": "arms", "terms": ["Wescam"], "notify": ["desk"]}],
        notifiers=[{"name": "desk"}],
    )
    sent_at = datetime.now(UTC) - timedelta(seconds=10)
    store = stored_hits(tmp_path, 2, at=sent_at)
    try:
        stopped = f"{socket.gethostname()}:{dead_pid()}:1"
        until = sent_at + timedelta(minutes=3)
        Outbox(store.engine, owner=stopped).claim([1], sent_at, until)
        Outbox(store.engine, owner="other-host:5:1").claim([2], sent_at, until)
    finally:
        store.close()
    polled = run_cli(config, "poll")
    assert polled.returncode == 0, polled.stderr
    assert f"1 alerts held by {stopped}, which has stopped, will be sent now" in polled.stdout
    assert "1 alerts are being sent by other-host:5:1 (claimed until" in polled.stdout
    assert "alert to desk: 1 hits sent" in polled.stdout
