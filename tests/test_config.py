"""The config reader: values, defaults, ${VAR} expansion, and every kind of mistake reported at its line."""

from __future__ import annotations

import re
from pathlib import Path

import pydantic
import pytest

from monitor.config import (
    AliasSettings,
    FeedSettings,
    LineLocator,
    MonitorSettings,
    NotifierSettings,
    Settings,
    WatchlistSettings,
    default_config_path,
    format_duration,
    load_settings,
    mask_url,
    parse_duration,
    parse_size,
)
from monitor.config.compiled import load_config, policies
from monitor.errors import ConfigError
from monitor.models import WatchlistSpec

ROOT = Path(__file__).resolve().parent.parent

MINIMAL = """\
[[feed]]
name = "globe"
url = "https://example.org/rss"

[[watchlist]]
name = "arms"
terms = ["Wescam"]
"""


def write(folder: Path, text: str, name: str = "monitor.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path: Path, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env or {})
    return caught.value.problems


def line_with(text: str, fragment: str, occurrence: int = 1) -> int:
    """The 1-based number of the line holding ``fragment`` (its ``occurrence``-th time)."""
    found = [number for number, line in enumerate(text.splitlines(), 1) if fragment in line]
    return found[occurrence - 1]


# --- durations and sizes ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30s", 30),
        ("15m", 900),
        ("1h30m", 5400),
        ("3d", 259200),
        ("1w", 604800),
        ("90", 90),
        ("1.5", 1.5),
        ("250ms", 0.25),
        ("1h 30m", 5400),
        ("2h", 7200),
    ],
)
def test_parse_duration_reads_units_and_plain_seconds(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["15 minutes", "", "m", "5x", "-5s", "1h30", "s30"])
def test_parse_duration_rejects_what_it_cannot_read(text: str) -> None:
    with pytest.raises(ValueError, match=r"bad duration .* \(use e\.g\. 30s, 15m, 2h, 1d\)"):
        parse_duration(text)


@pytest.mark.parametrize("seconds", [5, 60, 90, 5400, 86400 + 1, 604800, 0.25])
def test_format_duration_reads_back(seconds: float) -> None:
    assert parse_duration(format_duration(seconds)) == seconds


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(90, "1m30s"), (1, "1s"), (0, "0s"), (0.25, "0.25s"), (90.5, "90.5s"), (86401, "1d1s"), (1209600, "2w")],
)
def test_format_duration_is_the_shortest_form(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("10MB", 10_000_000),
        ("512KB", 512_000),
        ("5MiB", 5 * 2**20),
        ("1024", 1024),
        ("2 GB", 2 * 10**9),
        ("800b", 800),
        ("1.5MB", 1_500_000),
        ("512KiB", 512 * 2**10),
        ("1GiB", 2**30),
        ("3 gb", 3 * 10**9),
    ],
)
def test_parse_size_reads_decimal_and_binary_units(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["10 megs", "", "MB", "-1MB", "10TB"])
def test_parse_size_rejects_what_it_cannot_read(text: str) -> None:
    with pytest.raises(ValueError, match=r"bad size"):
        parse_size(text)


# --- masking ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("json://host/?+X-Token=abc", "json://host/?+X-Token=****"),
        ("tgram://123456:AAHbottoken/987654", "tgram://****/****"),
        ("slack://TokenA/TokenB/TokenC", "slack://****/****/****"),
        ("slack://TokenA/TokenB/TokenC/#arms", "slack://****/****/****/#arms"),
        (
            "mailtos://user:hunter2@smtp.example.org?to=desk@example.org",
            "mailtos://user:****@smtp.example.org?to=desk@example.org",
        ),
        (
            "postgresql+psycopg://app:s3cret@db.example.org:5432/monitor",
            "postgresql+psycopg://app:****@db.example.org:5432/monitor",
        ),
        ("https://example.org/rss?apikey=123&q=wescam", "https://example.org/rss?apikey=****&q=wescam"),
        ("gotify://gotify.example.org/AbCdEf", "gotify://gotify.example.org/****"),
        ("pover://userkey@apptoken", "pover://****@****"),
        ("https://example.org/feed?id=a1b2c3d4e5f6a7b8c9d0e1f2", "https://example.org/feed?id=****"),
        ("not a url with hunter2", "****"),
    ],
)
def test_mask_url_hides_passwords_and_tokens(url: str, masked: str) -> None:
    assert mask_url(url) == masked


def test_mask_url_leaves_plain_urls_readable() -> None:
    for url in [
        "https://news.google.com/rss/search?q=Wescam&hl=en-CA&gl=CA&ceid=CA:en",
        "mailto://127.0.0.1:2525?from=monitor@example.org&to=desk@example.org",
        "json://127.0.0.1:8080/hook",
        "sqlite:////var/lib/monitor.db",
    ]:
        assert mask_url(url) == url


# --- values and defaults ------------------------------------------------------------------------------------


def test_defaults_fill_everything_left_out(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, MINIMAL), {})
    monitor = settings.monitor
    assert monitor.database == f"sqlite:///{tmp_path.resolve() / 'monitor.db'}"
    assert (monitor.interval, monitor.timeout, monitor.notify_max_age) == (900.0, 30.0, 259200.0)
    assert (monitor.max_feed_size, monitor.max_page_size) == (10_000_000, 5_000_000)
    assert (monitor.max_connections, monitor.max_per_host, monitor.workers) == (20, 4, 2)
    assert (monitor.extract_timeout, monitor.shutdown_timeout, monitor.group_window) == (20.0, 20.0, 5.0)
    assert (monitor.retry_for, monitor.max_backoff, monitor.log_level) == (86400.0, 21600.0, "info")
    assert monitor.fulltext is True
    assert monitor.silent_after == 7 * 86400.0  # README: `7d`
    assert monitor.user_agent.startswith("monitor/") and "monitor-alerts/monitor" in monitor.user_agent
    assert settings.feed("globe").interval == 900.0 and settings.feed("globe").fulltext is True
    assert settings.watchlists[0].notify == () and settings.watchlists[0].feeds is None
    assert settings.notifiers == () and settings.warnings == ()


def test_values_are_converted_and_feeds_inherit_monitor_defaults(tmp_path: Path) -> None:
    text = """\
[monitor]
interval = "1h30m"
fulltext = false
max_page_size = "5MiB"
log_level = "DEBUG"

[[feed]]
name = "a"
url = "https://example.org/a"

[[feed]]
name = "b"
url = "https://example.org/b"
interval = 600
fulltext = true

[[watchlist]]
name = "arms"
query = 'Wescam AND Turkey'
feeds = ["b"]
notify = ["desk"]
mode = "digest"
schedule = "0 8 * * *"

[[notifier]]
name = "desk"
urls = ["json://127.0.0.1:9/hook"]
timezone = "Europe/Paris"
quiet_hours = "22:00-07:00"
max_per_hour = 20

[[notifier]]
name = "chat"
urls = ["json://127.0.0.1:9/chat"]
snippets = 1
"""
    settings = load_settings(write(tmp_path, text), {})
    assert settings.monitor.max_page_size == 5 * 2**20 and settings.monitor.log_level == "debug"
    assert (settings.feed("a").interval, settings.feed("a").fulltext) == (5400.0, False)
    assert (settings.feed("b").interval, settings.feed("b").fulltext) == (600.0, True)
    desk = settings.notifier("desk")
    assert desk.mode == "immediate" and desk.max_per_hour == 20 and not desk.logs_only
    assert desk.quiet_hours is not None and str(desk.quiet_hours.start) == "22:00:00"
    sending, _ = policies(settings)  # three snippets an article unless the notifier says (README)
    assert (sending["desk"].snippets, sending["chat"].snippets) == (3, 1)
    assert sending["desk"].max_per_hour == 20 and sending["chat"].max_per_hour is None
    assert settings.watchlist_specs() == [WatchlistSpec("arms", (), (), "Wescam AND Turkey", ("b",))]
    assert settings.watchlist("arms").mode == "digest"


def test_quiet_hours_wrap_past_midnight(tmp_path: Path) -> None:
    text = MINIMAL + '[[notifier]]\nname = "n"\nquiet_hours = "22:00-07:00"\n'
    quiet = load_settings(write(tmp_path, text), {}).notifier("n").quiet_hours
    assert quiet is not None
    from datetime import time

    assert (quiet.start, quiet.end) == (time(22, 0), time(7, 0))


@pytest.mark.parametrize(
    ("span", "start", "end"),
    [
        ("23:59-00:00", (23, 59), (0, 0)),
        ("0:00-23:59", (0, 0), (23, 59)),
        (" 7:05 - 22:30 ", (7, 5), (22, 30)),
    ],
)
def test_quiet_hours_take_every_time_of_day(
    tmp_path: Path, span: str, start: tuple[int, int], end: tuple[int, int]
) -> None:
    from datetime import time

    text = MINIMAL + f'[[notifier]]\nname = "n"\nquiet_hours = "{span}"\n'
    quiet = load_settings(write(tmp_path, text), {}).notifier("n").quiet_hours
    assert quiet is not None and (quiet.start, quiet.end) == (time(*start), time(*end))


@pytest.mark.parametrize(
    ("span", "reason"),
    [
        ("24:00-07:00", "bad quiet hours"),
        ("22:00-24:00", "bad quiet hours"),
        ("22:60-07:00", "bad quiet hours"),
        ("22:00-07:60", "bad quiet hours"),
        ("22:00", "bad quiet hours"),
        ("07:00-07:00", "start and end at the same time"),
    ],
)
def test_quiet_hours_out_of_the_day_are_refused(tmp_path: Path, span: str, reason: str) -> None:
    text = MINIMAL + f'[[notifier]]\nname = "n"\nquiet_hours = "{span}"\n'
    problems = problems_of(write(tmp_path, text))
    assert len(problems) == 1 and reason in problems[0] and f"'{span}'" in problems[0], problems


def test_a_page_is_read_in_full_only_where_it_is_followed_for_links(tmp_path: Path) -> None:
    pages = "".join(
        f'[[page]]\nname = "{name}"\nurl = "https://example.org/{name}"\nmode = "{mode}"\nfulltext = true\n'
        for name, mode in (("listing", "links"), ("notice", "text"))
    )
    jobs = {job.name: job for job in load_config(write(tmp_path, MINIMAL + pages), {}).jobs}
    assert jobs["listing"].fulltext and jobs["listing"].page_mode == "links"
    assert not jobs["notice"].fulltext and jobs["notice"].page_mode == "text"
    assert jobs["globe"].fulltext and jobs["globe"].page_mode is None  # a feed keeps its own (the default)


def test_console_or_urlless_notifier_logs(tmp_path: Path) -> None:
    text = (
        MINIMAL + '[[notifier]]\nname = "console"\nurls = ["json://x.example/"]\n[[notifier]]\nname = "q"\n'
    )
    settings = load_settings(write(tmp_path, text), {})
    assert settings.notifier("console").logs_only and settings.notifier("q").logs_only


def test_lookups_of_missing_names_raise_key_error(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, MINIMAL), {})
    with pytest.raises(KeyError):
        settings.feed("nope")
    with pytest.raises(KeyError):
        settings.notifier("nope")


def test_settings_are_frozen(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, MINIMAL), {})
    with pytest.raises(pydantic.ValidationError):
        settings.monitor.interval = 5  # type: ignore[misc]


@pytest.mark.parametrize(
    ("interval", "warnings"),
    [
        ("5s", ("globe: interval 5s is under a minute; that is impolite to real sites",)),
        ("59s", ("globe: interval 59s is under a minute; that is impolite to real sites",)),
        ("60s", ()),
    ],
)
def test_intervals_under_a_minute_warn(tmp_path: Path, interval: str, warnings: tuple[str, ...]) -> None:
    text = MINIMAL.replace(
        'url = "https://example.org/rss"', f'url = "https://example.org/rss"\ninterval = "{interval}"'
    )
    settings = load_settings(write(tmp_path, text), {})
    assert settings.warnings == warnings


def test_default_config_path_honours_the_environment() -> None:
    assert default_config_path({}) == Path("config/monitor.toml")
    assert default_config_path({"MONITOR_CONFIG": "/etc/monitor.toml"}) == Path("/etc/monitor.toml")


# --- relative paths -----------------------------------------------------------------------------------------


def test_relative_paths_resolve_against_the_config_folder(tmp_path: Path) -> None:
    folder = tmp_path / "conf"
    (folder / "templates").mkdir(parents=True)
    (folder / "templates" / "desk.j2").write_text("{{ hits }}")
    text = """\
[monitor]
database = "sqlite:///data/monitor.db"

[[feed]]
name = "local"
url = "file://feeds/sample.xml"

[[feed]]
name = "absolute"
url = "file:///srv/feeds/x.xml"

[[watchlist]]
name = "arms"
terms = ["Wescam"]

[[notifier]]
name = "desk"
template = "templates/desk.j2"
"""
    settings = load_settings(write(folder, text), {})
    base = folder.resolve()
    assert settings.monitor.database == f"sqlite:///{base / 'data' / 'monitor.db'}"
    assert settings.feed("local").url == (base / "feeds" / "sample.xml").as_uri()
    assert settings.feed("absolute").url == "file:///srv/feeds/x.xml"
    assert settings.notifier("desk").template == base / "templates" / "desk.j2"


@pytest.mark.parametrize(
    "url", ["sqlite:////var/lib/monitor.db", "sqlite://", "sqlite:///:memory:", "postgresql+psycopg://u@db/m"]
)
def test_absolute_and_server_database_urls_stay_as_written(tmp_path: Path, url: str) -> None:
    settings = load_settings(write(tmp_path, f'[monitor]\ndatabase = "{url}"\n' + MINIMAL), {})
    assert settings.monitor.database == url


# --- ${VAR} expansion ---------------------------------------------------------------------------------------


def test_env_references_expand_in_every_string(tmp_path: Path) -> None:
    text = (
        MINIMAL
        + """\
[[notifier]]
name = "desk"
urls = ["mailtos://user:${SMTP_PASSWORD}@smtp.example.org?to=${DESK}"]
timezone = "${TZ_NAME}"
"""
    )
    env = {"SMTP_PASSWORD": "hunter2", "DESK": "desk@example.org", "TZ_NAME": "America/Toronto"}
    desk = load_settings(write(tmp_path, text), env).notifier("desk")
    assert desk.urls == ("mailtos://user:hunter2@smtp.example.org?to=desk%40example.org",)  # encoded in a URL
    assert desk.timezone == "America/Toronto"


def test_double_dollar_escapes_a_literal_reference(tmp_path: Path) -> None:
    text = MINIMAL.replace('terms = ["Wescam"]', 'terms = ["$${HOME}", "price $5"]')
    settings = load_settings(write(tmp_path, text), {"HOME": "/root"})
    assert settings.watchlists[0].terms == ("${HOME}", "price $5")


def test_unset_variable_is_reported_at_its_line(tmp_path: Path) -> None:
    text = MINIMAL + '[[notifier]]\nname = "desk"\nurls = ["mailtos://u:${SMTP_PASSWORD}@smtp.example.org"]\n'
    path = write(tmp_path, text)
    assert problems_of(path) == [f"{path}:10: ${{SMTP_PASSWORD}} is not set in the environment"]


def test_unfinished_reference_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL.replace('["Wescam"]', '["${ oops"]'))
    assert problems_of(path) == [f"{path}:7: unfinished ${{ (write ${{NAME}}, or $${{ for a literal ${{)"]


# --- mistakes, each at its line -----------------------------------------------------------------------------


def test_example_messages_from_the_documentation(tmp_path: Path) -> None:
    text = """\
[monitor]
interval = "15 minutes"

[[feed]]
name = "cbc"
url = "https://example.org/cbc"

[[feed]]
name = "globe"
url = "https://example.org/globe"
intervall = "10m"

[[watchlist]]
name = "arms"
terms = ["Wescam"]
notify = ["chatt"]

[[notifier]]
name = "desk-email"

[[notifier]]
name = "console"
"""
    (tmp_path / "config").mkdir()
    write(tmp_path / "config", text)
    path = Path("config/monitor.toml")  # as given, relative
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tmp_path)
        problems = problems_of(path)
    assert problems == [
        "config/monitor.toml:2: [monitor] interval: bad duration '15 minutes' (use e.g. 30s, 15m, 2h, 1d)",
        "config/monitor.toml:11: [[feed]] #2 \"globe\": unknown key 'intervall' "
        "(valid keys: name, url, interval, fulltext, user_agent, headers, tags)",
        "config/monitor.toml:16: [[watchlist]] \"arms\": notify names unknown notifier 'chatt' "
        "(defined: desk-email, console)",
    ]


BROKEN = """\
[monitor]
timeout = "soon"
max_feed_size = "10 megs"
workers = "two"
fulltext = "yes"
log_level = "loud"

[[feed]]
url = "https://example.org/no-name"

[[feed]]
name = "dup"
url = "ftp://user:hunter2@example.org/feed"
interval = 0

[[feed]]
name = "dup"
url = "https://example.org/dup"

[[watchlist]]
name = "empty"
feeds = ["dup", "missing-feed"]
schedule = "0 8 * * *"

[[watchlist]]
name = "bad-terms"
terms = ["ok", 3]

[[notifier]]
name = "desk"
urls = ["mailtos://user:hunter2@smtp.example.org"]
mode = "digest"
schedule = "every morning"
timezone = "Mars/Olympus"
quiet_hours = "25:00-07:00"
max_per_hour = 0
template = "templates/missing.j2"

[[notifier]]
name = "chat"
mode = "digest"
"""


def test_every_problem_is_reported_together_in_file_order(tmp_path: Path) -> None:
    path = write(tmp_path, BROKEN)
    problems = problems_of(path)
    missing_template = (tmp_path / "templates" / "missing.j2").resolve()
    expected = [
        (2, "[monitor] timeout: bad duration 'soon' (use e.g. 30s, 15m, 2h, 1d)"),
        (3, "[monitor] max_feed_size: bad size '10 megs' (use e.g. 512KB, 10MB, 5MiB)"),
        (4, "[monitor] workers: expected a whole number, got a string"),
        (5, "[monitor] fulltext: expected true or false, got a string"),
        (6, "[monitor] log_level: expected 'debug', 'info', 'warning' or 'error', got 'loud'"),
        (8, "[[feed]] #1: missing required key 'name'"),
        (
            13,
            '[[feed]] #2 "dup" url: must be an http://, https:// or file:// URL '
            "(got 'ftp://****:****@example.org/****')",
        ),
        (14, '[[feed]] #2 "dup" interval: must be at least 1s (got 0s)'),
        (17, '[[feed]] #3 "dup": duplicate name (also [[feed]] #2 at line 11)'),
        (20, '[[watchlist]] "empty": needs terms or a query (or both)'),
        (22, "[[watchlist]] \"empty\": feeds names unknown feed 'missing-feed' (defined: dup)"),
        (23, '[[watchlist]] "empty": schedule only applies with mode = "digest"'),
        (27, '[[watchlist]] #2 "bad-terms" terms item 2: expected a string, got 3'),
        (
            33,
            "[[notifier]] #1 \"desk\" schedule: bad cron schedule 'every morning' "
            '(use e.g. "0 8 * * *" for 08:00 every day)',
        ),
        (
            34,
            "[[notifier]] #1 \"desk\" timezone: unknown time zone 'Mars/Olympus' "
            "(use a name such as UTC or Europe/Paris)",
        ),
        (35, '[[notifier]] #1 "desk" quiet_hours: bad quiet hours \'25:00-07:00\' (use e.g. "22:00-07:00")'),
        (36, '[[notifier]] #1 "desk" max_per_hour: must be at least 1 (got 0)'),
        (37, f'[[notifier]] #1 "desk" template: template file not found: {missing_template}'),
        (41, '[[notifier]] "chat": mode = "digest" needs a schedule, e.g. "0 8 * * *"'),
    ]
    assert problems == [f"{path}:{line}: {message}" for line, message in expected]
    assert not any("hunter2" in problem for problem in problems)


@pytest.mark.parametrize("value", ['["https://example.org/feed.xml"]', "5", '"https://example.org/feed.xml"'])
def test_a_feed_key_that_is_not_tables_is_one_error_at_its_line(tmp_path: Path, value: str) -> None:
    path = write(tmp_path, f'feed = {value}\n\n[monitor]\ndatabase = "sqlite:///m.db"\n')
    assert problems_of(path) == [
        f"{path}:1: feed must be written as [[feed]] tables (double brackets), one each"
    ]


def test_structural_mistakes_at_the_top_level(tmp_path: Path) -> None:
    text = """\
monitor = 3
colour = "blue"

[feeds]
name = "x"

[feed]
name = "single"
"""
    path = write(tmp_path, text)
    assert problems_of(path) == [
        f"{path}:1: [monitor] must be a table: write [monitor] on a line of its own",
        f"{path}:2: unknown top-level key 'colour' (valid tables: [monitor], [web], [[feed]], [[page]], [[watchlist]], [[notifier]], [[alias]])",
        f"{path}:4: unknown table [feeds] (valid tables: [monitor], [web], [[feed]], [[page]], [[watchlist]], [[notifier]], [[alias]])",
        f"{path}:7: feed must be written as [[feed]] tables (double brackets), one each",
    ]


def test_digest_watchlist_needs_a_schedule_somewhere(tmp_path: Path) -> None:
    text = MINIMAL + 'notify = ["now"]\nmode = "digest"\n[[notifier]]\nname = "now"\n'
    path = write(tmp_path, text)
    assert problems_of(path) == [
        f'{path}:9: [[watchlist]] "arms": mode = "digest" needs a schedule, here or on notifier \'now\''
    ]


def test_watchlist_with_empty_feeds_list_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + "feeds = []\n")
    assert problems_of(path) == [
        f'{path}:8: [[watchlist]] "arms": feeds is empty; leave it out to watch every feed'
    ]


def test_broken_toml_names_tomllib_line(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + "\n[[watchlist]]\nname = \n")
    [problem] = problems_of(path)
    assert problem.startswith(f"{path}:10: invalid TOML: Invalid value")


def test_toml_broken_at_end_of_document_points_at_last_line(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + 'exclude = ["a",\n')
    [problem] = problems_of(path)
    assert problem.startswith(f"{path}:8: invalid TOML:")


def test_missing_file_is_one_clear_problem(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.toml"
    assert problems_of(path) == [f"{path}: cannot read the config file: No such file or directory"]


def test_a_bad_notifier_url_is_shown_masked(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + '[[notifier]]\nname = "n"\nurls = ["user:hunter2@example.org"]\n')
    assert problems_of(path) == [
        f"{path}:10: [[notifier]] #1 \"n\" urls: not an apprise URL: '****' (expected scheme://...)"
    ]


def test_a_key_of_the_wrong_type_in_a_table_with_a_secret_never_echoes_it(tmp_path: Path) -> None:
    text = MINIMAL + '[[notifier]]\nname = "n"\nurls = "json://x.example/?token=${T}"\n'
    problems = problems_of(write(tmp_path, text), {"T": "hunter2"})
    assert len(problems) == 1 and "urls: expected a list" in problems[0] and "hunter2" not in problems[0]


# --- the line locator ---------------------------------------------------------------------------------------


def test_locator_skips_multiline_values_and_counts_array_tables() -> None:
    text = '''\
# comment with name = "x"
[monitor]
user_agent = """
interval = "1s"
[[feed]]
"""

[[feed]]
name = "a"
url = "x" # a comment [with brackets]

[[feed]]  # second
name = "b"

[[watchlist]]
terms = [
  "name = y",
  "[[feed]]",
]
"query" = 'q'
notify = ["n"]
'''
    locator = LineLocator(text)
    assert locator.line_of("monitor") == 2
    assert locator.line_of("monitor", "user_agent") == 3
    assert locator.line_of("monitor", "interval") == 2  # inside the string: falls back to the header
    assert locator.line_of("feed", 0) == 8 and locator.line_of("feed", 0, "url") == 10
    assert locator.line_of("feed", 1) == 12 and locator.line_of("feed", 1, "name") == 13
    assert locator.line_of("feed", 2) is None
    assert locator.line_of("watchlist", 0, "terms", 1) == 16
    assert locator.line_of("watchlist", 0, "query") == 20 and locator.line_of("watchlist", 0, "notify") == 21


def test_settings_line_of_points_into_the_file(tmp_path: Path) -> None:
    text = MINIMAL + '\n[[watchlist]]\nname = "second"\nquery = "Baykar"\n'
    settings = load_settings(write(tmp_path, text), {})
    assert settings.line_of("watchlist", 1, "query") == line_with(text, 'query = "Baykar"')
    assert settings.line_of("watchlist", 1) == line_with(text, "[[watchlist]]", occurrence=2)


# --- the starting config and its documentation --------------------------------------------------------------


def test_the_starting_config_loads_with_an_empty_environment() -> None:
    settings = load_settings(ROOT / "config" / "monitor.toml", {})
    assert [notifier.name for notifier in settings.notifiers] == ["console"]
    assert settings.notifier("console").logs_only
    assert settings.watchlist("arms-exports").terms[:2] == ("@wescam", "@bayraktar")
    assert {"turkey", "permit", "wescam", "bayraktar", "gac"} <= set(settings.resolved_aliases)
    assert len(settings.feeds) >= 10 and settings.warnings == ()
    assert all(feed.url.startswith("https://") for feed in settings.feeds)
    assert any("news.google.com/rss/search?q=Wescam" in feed.url for feed in settings.feeds)


def test_every_key_is_documented() -> None:
    documented = set(re.findall(r"`([a-z_]+)`", (ROOT / "docs" / "configuration.md").read_text()))
    models: list[type[pydantic.BaseModel]] = [
        MonitorSettings,
        FeedSettings,
        WatchlistSettings,
        NotifierSettings,
        AliasSettings,
    ]
    missing = [
        f"{model.__name__}.{name}"
        for model in models
        for name in model.model_fields
        if name not in documented
    ]
    assert missing == []
    assert {"path", "warnings"} <= set(Settings.model_fields)


@pytest.mark.parametrize("line", [1, 3])
def test_bytes_that_are_not_utf8_are_named_at_their_line(tmp_path: Path, line: int) -> None:
    lines = [b"[monitor]", b'database = "sqlite:///monitor.db"', b"# notes", b'[[feed]]\nname = "a"']
    lines[line - 1] += b" \xff\xfe"
    path = tmp_path / "monitor.toml"
    path.write_bytes(b"\n".join(lines) + b"\n")
    assert problems_of(path) == [f"{path}:{line}: the config file is not UTF-8 text"]


def test_a_digest_watchlist_may_take_its_schedule_from_its_notifier(tmp_path: Path) -> None:
    text = MINIMAL.replace('terms = ["Wescam"]', 'terms = ["Wescam"]\nnotify = ["desk"]\nmode = "digest"') + (
        '\n[[notifier]]\nname = "desk"\nurls = ["json://127.0.0.1:9/hook"]\nmode = "digest"\n'
        'schedule = "0 8 * * *"\n'
    )
    settings = load_settings(write(tmp_path, text), {})
    assert settings.watchlists[0].mode == "digest" and settings.watchlists[0].schedule is None


def test_a_bad_term_beside_a_good_query_is_named_at_the_terms_line(tmp_path: Path) -> None:
    text = MINIMAL.replace(
        'terms = ["Wescam"]', "terms = ['=\"export permit\"']\nquery = 'Wescam AND Turkey'"
    )
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path, {})
    [problem] = caught.value.problems
    assert problem.startswith(f"{path}:{line_with(text, 'terms =')}: [[watchlist]]"), problem
