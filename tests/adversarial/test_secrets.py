"""Secrets by provenance: a value that came from a ${VAR} is masked in every output and log line, whatever it
looks like; a database password leaks through no error, traceback or migration; a ${VAR} inside a URL is
percent-encoded, so a password with '@', '/', ':', '#' or '?' reaches the server intact."""

from __future__ import annotations

import base64
import io
import json
import logging
import traceback
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor import redact
from monitor.config import load_settings
from monitor.errors import StoreError
from monitor.logs import setup_logging
from monitor.output import csv_text, json_lines, table
from monitor.store import Store
from tests.factory import Item, recent, rss, run_cli, write_config
from tests.httpserver import LocalServer, http_server
from tests.pgserver import pg_server, pg_url
from tests.webhook import WebhookServer, webhook_server

__all__ = ["http_server", "pg_server", "pg_url", "webhook_server"]

PASSWORD = "p@ss/w:rd#?x"  # every character that could split a URL
PATH_SECRET = "desk-alerts"  # looks like nothing: only its provenance says it is secret
QUERY_SECRET = "plainword"


@pytest.fixture(autouse=True)
def fresh_registry() -> Iterator[None]:
    redact.forget_all()
    yield
    redact.forget_all()


def leaks(text: str) -> list[str]:
    forms = (PASSWORD, "p%40ss%2Fw%3Ard%23%3Fx", PATH_SECRET, QUERY_SECRET)
    return [form for form in forms if form in text]


def test_var_values_are_masked_in_every_command_and_debug_log(
    tmp_path: Path, http_server: LocalServer, webhook_server: WebhookServer
) -> None:
    http_server.route(
        "/feed.xml",
        body=rss([Item("Wescam turret sold", http_server.url("/story"), "Wescam again.", recent())]),
        headers={"Content-Type": "application/rss+xml"},
    )
    hook = f"json://hookuser:${{HOOK_PASSWORD}}@127.0.0.1:{webhook_server.port}/hooks/${{HOOK_PATH}}"
    config = write_config(
        tmp_path,
        feeds=[
            {"name": "gazette", "url": http_server.url("/feed.xml?edition=${EDITION}"), "fulltext": False}
        ],
        watchlists=[{"name": "arms", "terms": ["Wescam"], "notify": ["chat"]}],
        notifiers=[{"name": "chat", "urls": [hook]}],
    )
    env = {"HOOK_PASSWORD": PASSWORD, "HOOK_PATH": PATH_SECRET, "EDITION": QUERY_SECRET}
    webhook_server.fail_with = 500
    results = [
        run_cli(config, "check", env=env),
        run_cli(config, "--log-level", "debug", "poll", env=env),
        run_cli(config, "--log-level", "debug", "--log-format", "json", "poll", env=env),
        run_cli(config, "deliveries", "--format", "json", env=env),
        run_cli(config, "deliveries", env=env),
        run_cli(config, "status", "--format", "json", env=env),
        run_cli(config, "status", env=env),
        run_cli(config, "hits", "--format", "csv", env=env),
        run_cli(config, "--log-level", "debug", "notify-test", env=env),
    ]
    assert json.loads(results[3].stdout.splitlines()[0])["status"] == "failed"
    for result in results:
        assert leaks(result.stdout + result.stderr) == [], result.args
    assert "edition=****" in results[5].stdout

    webhook_server.fail_with = None
    assert run_cli(config, "notify-test", env=env).returncode == 0
    post = webhook_server.posts[-1]
    assert post.path == f"/hooks/{PATH_SECRET}"  # substituted where it stands, not mangled
    assert base64.b64decode(post.headers["authorization"].split()[1]).decode() == f"hookuser:{PASSWORD}"
    assert any(r.path == f"/feed.xml?edition={QUERY_SECRET}" for r in http_server.requests)


def test_a_var_is_encoded_for_where_it_stands_in_a_url(tmp_path: Path) -> None:
    text = (
        '[monitor]\ndatabase = "postgresql+psycopg://bob:${PW}@${DBHOST}/monitor"\n'
        '[[feed]]\nname = "f"\nurl = "${BASE}/feed.xml?q=${Q}"\n'
        '[[feed]]\nname = "g"\nurl = "https://news.example/${SECTION}/rss"\n'
        '[[watchlist]]\nname = "w"\nterms = ["${TERM}"]\nnotify = ["console"]\n'
        '[[notifier]]\nname = "console"\n'
    )
    path = tmp_path / "monitor.toml"
    path.write_text(text, encoding="utf-8")
    env = {
        "PW": "a@b/c:d#e?f%",
        "DBHOST": "db.internal:5433",
        "BASE": "https://news.example",
        "Q": "a&b=c",
        "SECTION": "world/europe news",
        "TERM": "C&A",
    }
    settings = load_settings(path, env)
    assert (
        settings.monitor.database
        == "postgresql+psycopg://bob:a%40b%2Fc%3Ad%23e%3Ff%25@db.internal:5433/monitor"
    )
    assert [f.url for f in settings.feeds] == [
        "https://news.example/feed.xml?q=a%26b%3Dc",
        "https://news.example/world/europe%20news/rss",
    ]
    assert settings.watchlists[0].terms == ("C&A",)  # not a URL: as written


def test_the_redaction_filter_covers_every_logger_and_tracebacks(capsys: pytest.CaptureFixture[str]) -> None:
    redact.remember("plain-value")
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        for fmt in ("text", "json"):
            setup_logging("debug", fmt)
            logging.getLogger("urllib3.connectionpool").warning(
                '"POST /hooks/%s HTTP/1.1" 200', "plain-value"
            )
            try:
                raise RuntimeError("failed with plain-value")
            except RuntimeError:
                logging.getLogger("apprise.x").error("boom", exc_info=True)
                logging.getLogger("monitor").error(
                    "again", exc_info=True
                )  # the cached traceback is masked too
        err = capsys.readouterr().err
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])
    assert "plain-value" not in err
    assert err.count("/hooks/****") == 2 and err.count("failed with ****") == 4


def test_tables_csv_and_json_mask_remembered_values_even_when_json_escapes_them() -> None:
    secret = 'quote"and\\slash'
    redact.remember(secret)
    rows = [{"title": f"x {secret} y", "tags": [secret]}]
    for text in (table(rows, ["title", "tags"]), csv_text(rows, ["title", "tags"]), json_lines(rows)):
        assert "quote" not in text and "****" in text


@pytest.mark.parametrize(
    "url",
    [
        "foo://bob:hunter2pw@db.example/x",  # no such dialect
        "mysql://bob:hunter2pw@db.example/x",  # no driver installed
        "postgresql+psycopg2://bob:hunter2pw@127.0.0.1:1/x",
        "not a url hunter2pw",
        "postgresql+psycopg://bob:hunter2pw@[::1/x",
        "postgresql+psycopg://bob:hunter2pw@127.0.0.1:1/x",  # nothing listens there
    ],
)
def test_a_database_that_cannot_be_opened_never_shows_its_password(url: str) -> None:
    with pytest.raises(StoreError) as caught:
        Store.open(url)
    assert "hunter2pw" not in "".join(traceback.format_exception(caught.value))
    assert "database" in str(caught.value) and "****" in str(caught.value)


def test_a_percent_in_the_database_password_migrates_without_interpolation(pg_url: str) -> None:
    with_password = pg_url.replace("postgres@", "postgres:50%25off%40x@")  # trust auth ignores it
    store = Store.open(with_password)
    try:
        assert store.counts()["hits"] == 0
    finally:
        store.close()


def test_log_output_through_a_stream_is_masked() -> None:
    from monitor.logs import MaskingWriter

    redact.remember("hunter2pw")
    sink = io.StringIO()
    MaskingWriter(sink).write("monitor: cannot reach postgresql://u:hunter2pw@h/d\n")
    assert sink.getvalue() == "monitor: cannot reach postgresql://u:****@h/d\n"


@pytest.mark.parametrize("url", ["no scheme at all", "1bad://user:secret@example.org/", "://x"])
def test_a_url_without_a_scheme_is_masked_whole(url: str) -> None:
    assert redact.mask_url(url) == redact.MASK


def test_a_three_letter_secret_is_masked_and_shorter_ones_are_not() -> None:
    assert redact.redact("login as user with xyz failed", "mailto://user:xyz@example.org") == (
        "login as user with **** failed"
    )
    assert redact.redact("a b", "mailto://user:ab@example.org") == "a b"
    redact.remember("abc", "de")
    assert redact.mask_known("abc de") == "**** de"


def test_the_parts_of_a_token_split_at_colons_are_secrets_from_six_characters() -> None:
    assert "123456" in redact.secret_fragments("tgram://123456:ABCDEFabcdef1234567890/chat")
    fragments = redact.secret_fragments("tgram://12345:ABCDEFabcdef1234567890/chat")
    assert "ABCDEFabcdef1234567890" in fragments
    assert "12345" not in fragments


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        # token-style schemes: every path segment is masked but empty ones and #channel / @user targets
        ("slack://T1ABC/B2DEF/C3xyz/#general/@ops", "slack://****/****/****/#general/@ops"),
        ("discord://1234/abcd/", "discord://****/****/"),
        # query values: by a secret-looking name, or a random-looking value; empty values and bare names stay
        ("json://example.org/x?token=short&page=2", "json://example.org/x?token=****&page=2"),
        ("json://example.org/x?sig=Ab3dEf9hIjKlMn0pQr&page=2", "json://example.org/x?sig=****&page=2"),
        ("json://example.org/x?token=&flag", "json://example.org/x?token=&flag"),
    ],
)
def test_masked_pieces_of_notification_urls(url: str, masked: str) -> None:
    assert redact.mask_url(url) == masked
