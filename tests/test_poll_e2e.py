"""`monitor poll` end to end, as a user runs it: a local feed server, real SMTP and webhook targets, SQLite. Two
tests run the CLI as a subprocess; the others call the same `main` in-process (``cli_inline``)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.factory import Item, json_lines, recent, rss, run_cli, write_config
from tests.helpers import (
    WATCHLIST,
    LocalServer,
    SmtpServer,
    WebhookServer,
    cli_inline,
    config_for,
    serve_news,
)


def test_poll_stores_hits_and_alerts_once_by_email_and_chat(
    tmp_path: Path, http_server: LocalServer, smtp_server: SmtpServer, webhook_server: WebhookServer
) -> None:
    serve_news(http_server)
    config = config_for(tmp_path, http_server, smtp_server, webhook_server)

    first = run_cli(config, "poll")
    assert first.returncode == 0, first.stderr
    assert "gazette" in first.stdout and "status=ok" in first.stdout
    assert "/gone: HTTP 404" in first.stdout  # the page that could not be had is reported

    hits = json_lines(run_cli(config, "hits", "--format", "json").stdout)
    assert sorted(h["url"] for h in hits) == [http_server.url("/gone"), http_server.url("/story")]
    story = next(h for h in hits if h["url"].endswith("/story"))
    assert story["watchlist"] == "arms-exports" and story["feed"] == "gazette"
    assert "Wescam" in story["matched"] and "Baykar" in story["matched"]
    assert "Wescam" in story["snippet"] or "Baykar" in story["snippet"]
    assert {"title", "published", "found_at"} <= story.keys()

    assert len(smtp_server.messages) == 1  # hits found together go out as one message per notifier
    mail = smtp_server.messages[0]
    assert mail["Subject"].endswith(" · arms-exports · +1 more")  # the lead title, the watchlist, one more
    html_part = mail.get_body(("html",))
    assert html_part is not None and "<mark " in html_part.get_content()
    # The outlet is the feed's title, since the page names no site: never the bare host of the page.
    assert (
        "Test feed · " in html_part.get_content()
        and "127.0.0.1:" not in html_part.get_content().split("·")[1]
    )
    assert len(webhook_server.posts) == 1
    assert "Ottawa silent on drone parts" in webhook_server.posts[0].body.decode()

    second = run_cli(config, "poll")
    assert second.returncode == 0, second.stderr
    assert "status=not-modified" in second.stdout
    assert http_server.requests_for("/feed.xml")[-1].headers.get("if-none-match") == '"v1"'
    assert len(smtp_server.messages) == 1 and len(webhook_server.posts) == 1  # nothing is alerted twice


def test_entries_too_old_are_stored_but_not_alerted(
    tmp_path: Path, http_server: LocalServer, smtp_server: SmtpServer, webhook_server: WebhookServer
) -> None:
    http_server.route(
        "/feed.xml",
        body=rss([Item("Wescam archive piece", http_server.url("/old"), "Wescam in 2019.", recent(24 * 10))]),
    )
    http_server.route("/old", status=404)
    config = config_for(tmp_path, http_server, smtp_server, webhook_server)
    assert cli_inline(config, "poll").returncode == 0
    assert len(json_lines(cli_inline(config, "hits", "--format", "json").stdout)) == 1
    assert smtp_server.messages == [] and webhook_server.posts == []


def test_bad_feeds_are_recorded_and_the_others_go_on(tmp_path: Path, http_server: LocalServer) -> None:
    http_server.route(
        "/good.xml", body=rss([Item("Wescam news", http_server.url("/p"), "Wescam.", recent())])
    )
    http_server.route("/p", status=404)
    http_server.route("/missing.xml", status=404)
    http_server.route(
        "/page.xml",
        body=b"<!doctype html><html><body><p>Welcome</p></body></html>",
        headers={"Content-Type": "text/html"},
    )
    http_server.route("/empty.xml", body=b"")
    http_server.route("/broken.xml", body=b"<rss><channel><item><title>unclosed")
    http_server.route("/slow.xml", body=rss([]), delay=8)
    http_server.route("/huge.xml", body=b"<rss>" + b" " * 2_000_000 + b"</rss>")
    http_server.route("/loop.xml", redirect="/loop.xml", status=302)
    names = ["good", "missing", "page", "empty", "broken", "slow", "huge", "loop"]
    config = write_config(
        tmp_path,
        monitor={"timeout": "2s", "max_feed_size": "1MB"},
        feeds=[{"name": n, "url": http_server.url(f"/{n}.xml")} for n in names],
        watchlists=[{"name": "w", "terms": ["Wescam"], "notify": ["console"]}],
        notifiers=[{"name": "console"}],
    )
    result = cli_inline(config, "poll")
    assert result.returncode == 0, result.stderr
    assert "8 feeds polled, 7 failed, 1 hits" in result.stdout

    status = json_lines(cli_inline(config, "status", "--format", "json").stdout)[0]
    feeds = {f["name"]: f for f in status["feeds"]}
    assert feeds["good"]["last_status"] == "ok" and feeds["good"]["entries_seen"] == 1
    expected = {
        "missing": "404",
        "page": "HTML",
        "empty": "empty",
        "slow": "timed out",
        "huge": "larger than",
        "loop": "redirect",
    }
    for name, words in expected.items():
        assert feeds[name]["last_status"] == "error"
        assert words in feeds[name]["last_error"], (name, feeds[name]["last_error"])
        assert feeds[name]["consecutive_failures"] == 1
    assert feeds["broken"]["last_status"] == "error"
    assert "alert to console: 1 hits sent" in result.stdout


def test_notifier_down_during_poll_gets_everything_after_it_returns(
    tmp_path: Path, http_server: LocalServer, smtp_server: SmtpServer, webhook_server: WebhookServer
) -> None:
    serve_news(http_server)
    config = config_for(tmp_path, http_server, smtp_server, webhook_server)
    smtp_server.refuse_with = "451 4.3.0 try again later"
    assert cli_inline(config, "poll").returncode == 0
    assert len(webhook_server.posts) == 1 and smtp_server.messages == []

    failed = json_lines(cli_inline(config, "deliveries", "--status", "failed", "--format", "json").stdout)
    assert len(failed) == 2 and {d["notifier"] for d in failed} == {"desk-email"}
    assert all(d["attempts"] == 1 and d["last_error"] for d in failed)

    smtp_server.refuse_with = None
    assert cli_inline(config, "deliveries", "retry").returncode == 0
    assert cli_inline(config, "poll").returncode == 0
    assert len(smtp_server.messages) == 1 and smtp_server.messages[0]["Subject"].endswith(
        " · arms-exports · +1 more"
    )
    assert len(webhook_server.posts) == 1  # the chat target that worked is not sent again
    sent = json_lines(cli_inline(config, "deliveries", "--status", "sent", "--format", "json").stdout)
    assert len(sent) == 4


def test_check_names_file_and_line_of_a_typo(tmp_path: Path) -> None:
    config = tmp_path / "monitor.toml"
    config.write_text('[monitor]\nintervall = "15m"\n', encoding="utf-8")
    result = cli_inline(config, "check")
    assert result.returncode == 2
    assert f"{config}:2:" in result.stderr and "intervall" in result.stderr and "interval" in result.stderr


def test_hits_since_filters_and_csv(
    tmp_path: Path, http_server: LocalServer, smtp_server: SmtpServer, webhook_server: WebhookServer
) -> None:
    serve_news(http_server)
    config = config_for(tmp_path, http_server, smtp_server, webhook_server)
    assert cli_inline(config, "poll", "--no-notify").returncode == 0
    assert smtp_server.messages == []
    csv_out = cli_inline(config, "hits", "--format", "csv", "--since", "1h").stdout.splitlines()
    assert csv_out[0].startswith("found_at,watchlist,feed,title") and len(csv_out) == 3
    searched = json_lines(
        cli_inline(config, "hits", "--format", "json", "--query", "body:Ploughshares OR title:row").stdout
    )
    assert sorted(h["url"].rsplit("/", 1)[1] for h in searched) == ["gone", "story"]
    narrowed = json_lines(cli_inline(config, "hits", "--format", "json", "--query", "title:permits").stdout)
    assert [h["title"] for h in narrowed] == ["Permits row"]
    bad = cli_inline(config, "hits", "--query", "(Wescam")
    assert bad.returncode == 2 and "expected ')'" in bad.stderr
    future = cli_inline(config, "hits", "--since", (recent(-48) + timedelta(0)).date().isoformat())
    assert "no hits" in future.stdout


def test_permanent_redirects_move_the_feed_and_gone_feeds_are_recorded(
    tmp_path: Path, http_server: LocalServer
) -> None:
    http_server.route("/old.xml", status=301, redirect="/new.xml")
    http_server.route("/new.xml", body=rss([Item("Wescam", http_server.url("/p"), "Wescam.", recent())]))
    http_server.route("/dead.xml", status=410, body=b"gone")
    config = write_config(
        tmp_path,
        monitor={"fulltext": False},
        feeds=[
            {"name": "moved", "url": http_server.url("/old.xml")},
            {"name": "dead", "url": http_server.url("/dead.xml")},
        ],
        watchlists=[{"name": "w", "terms": ["Wescam"]}],
    )
    assert cli_inline(config, "poll").returncode == 0
    assert cli_inline(config, "poll").returncode == 0
    # The second poll went straight to the new address.
    assert len(http_server.requests_for("/old.xml")) == 1 and len(http_server.requests_for("/new.xml")) == 2
    status = json_lines(cli_inline(config, "status", "--format", "json").stdout)[0]
    feeds = {f["name"]: f for f in status["feeds"]}
    assert feeds["moved"]["moved_to"] == http_server.url("/new.xml") and feeds["moved"]["last_status"] == "ok"
    assert feeds["dead"]["gone"] is True and "410" in feeds["dead"]["last_error"]
    table = cli_inline(config, "status").stdout
    assert f"moved permanently: {http_server.url('/old.xml')} -> {http_server.url('/new.xml')}" in table


def test_secrets_never_appear_in_output_or_logs(
    tmp_path: Path, http_server: LocalServer, smtp_server: SmtpServer
) -> None:
    serve_news(http_server)
    smtp_server.refuse_with = "554 5.7.1 rejected"
    secret = "hunter2-very-secret"
    config = write_config(
        tmp_path,
        feeds=[{"name": "gazette", "url": http_server.url("/feed.xml")}],
        watchlists=[{**WATCHLIST, "notify": ["desk-email"]}],
        notifiers=[
            {
                "name": "desk-email",
                "urls": [
                    f"mailto://alerts:${{SMTP_PASSWORD}}@127.0.0.1:{smtp_server.port}?from=a@example.org&to=b@example.org"
                ],
            }
        ],
    )
    env = {"SMTP_PASSWORD": secret}
    outputs = [
        run_cli(config, "check", env=env),
        run_cli(config, "--log-level", "debug", "poll", env=env),
        run_cli(config, "deliveries", "--format", "json", env=env),
        run_cli(config, "status", env=env),
        run_cli(config, "notify-test", env=env),
    ]
    assert json_lines(outputs[2].stdout)[0]["status"] == "failed"
    for result in outputs:
        assert secret not in result.stdout and secret not in result.stderr


def test_notify_test_sends_to_the_named_notifier_only(tmp_path: Path, smtp_server: SmtpServer) -> None:
    config = write_config(
        tmp_path,
        feeds=[],
        watchlists=[{**WATCHLIST, "notify": ["desk"]}],
        notifiers=[
            {"name": "desk", "urls": [smtp_server.apprise_url(to="desk@example.org")]},
            {"name": "editor", "urls": [smtp_server.apprise_url(to="editor@example.org")]},
        ],
    )
    assert run_cli(config, "notify-test", "editor").returncode == 0
    assert [rcpt for _, rcpt in smtp_server.envelopes] == [["editor@example.org"]]
    refused = run_cli(config, "notify-test", "night-desk")
    assert refused.returncode != 0
    assert "no notifier named 'night-desk' (notifiers: desk, editor)" in refused.stderr
    assert len(smtp_server.envelopes) == 1
