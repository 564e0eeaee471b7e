"""Sending through apprise to real local servers: an aiosmtpd SMTP server and an HTTP webhook endpoint."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage

import pytest

from monitor.models import Hit, Snippet
from monitor.notify import Message, TargetResult, render_message, send_message
from monitor.redact import mask_url
from tests.smtpserver import SmtpServer, free_port, smtp_server  # noqa: F401
from tests.webhook import WebhookServer, webhook_server  # noqa: F401

HIT = Hit(
    id=1,
    watchlist="arms-exports",
    feed="example-feed",
    url="https://news.example.org/rafale",
    title="Rafale deal <b>signed</b> @channel",
    published=datetime(2026, 11, 3, 14, 5, tzinfo=UTC),
    found_at=datetime(2026, 11, 3, 14, 10, tzinfo=UTC),
    matched=("Rafale",),
    snippets=(Snippet("body", "Paris signed the Rafale deal.", ((17, 23),)),),
    sitename="Example News",
)


@pytest.fixture
def message() -> Message:
    return render_message("desk", [HIT])


def send(urls: list[str], message: Message, **options: object) -> list[TargetResult]:
    return asyncio.run(send_message(urls, message, **options))  # type: ignore[arg-type]


def test_email_arrives_with_html_and_text_parts(smtp_server: SmtpServer, message: Message) -> None:  # noqa: F811
    [result] = send([smtp_server.apprise_url()], message)
    assert result.ok and result.error is None
    [mail] = smtp_server.messages
    assert mail["Subject"] == "Rafale deal <b>signed</b> @channel · arms-exports"
    assert mail["To"].addresses[0].addr_spec == "desk@example.org"
    html, text = _body(mail, "html"), _body(mail, "plain")
    assert '«</span>Rafale<span style="display: none; mso-hide: all;">»</span></mark> deal.' in html
    assert "&lt;b&gt;signed&lt;/b&gt;" in html and "<b>signed" not in html
    assert "Paris signed the «Rafale» deal." in text  # the plain-text part shows what matched
    assert "https://news.example.org/rafale" in text  # the plain-text reader can still open the article


def test_webhook_receives_the_plain_text(webhook_server: WebhookServer, message: Message) -> None:  # noqa: F811
    [result] = send([webhook_server.apprise_url("/alerts")], message)
    assert result.ok
    [post] = webhook_server.posts
    assert post.path == "/alerts"
    assert post.json["title"] == "Rafale deal <b>signed</b> @\u200bchannel · arms-exports"
    assert post.json["message"] == message.body_for("json").body
    assert "Paris signed the «Rafale» deal." in post.json["message"]


def test_a_target_answering_at_once_is_sent_to_with_a_timeout_shorter_than_the_grace(
    webhook_server: WebhookServer,  # noqa: F811
    message: Message,
) -> None:
    """The wait for a target is its timeout plus a grace second (for the plugin's own timeout to answer first),
    never less: a short timeout still leaves a target that answers at once its time."""
    [result] = send([webhook_server.apprise_url("/alerts")], message, timeout=0.5)
    assert result.ok, result.error
    assert len(webhook_server.posts) == 1


def test_one_target_down_one_up_gives_one_result_each(
    smtp_server: SmtpServer,  # noqa: F811
    webhook_server: WebhookServer,  # noqa: F811
    message: Message,
) -> None:
    smtp_server.stop()
    results = send([smtp_server.apprise_url(), webhook_server.apprise_url()], message)
    assert [(r.index, r.ok) for r in results] == [(0, False), (1, True)]
    assert results[0].error and "Connection refused" in results[0].error
    assert len(webhook_server.posts) == 1


def test_server_back_on_the_same_port_takes_the_retry(smtp_server: SmtpServer, message: Message) -> None:  # noqa: F811
    url = smtp_server.apprise_url()
    smtp_server.stop()
    assert not send([url], message)[0].ok
    smtp_server.start()
    assert send([url], message)[0].ok
    assert len(smtp_server.messages) == 1


def test_refused_mail_and_failing_webhook_are_failures_with_reasons(
    smtp_server: SmtpServer,  # noqa: F811
    webhook_server: WebhookServer,  # noqa: F811
    message: Message,
) -> None:
    smtp_server.refuse_with = "554 5.7.1 rejected"
    webhook_server.fail_with = 500
    mail, hook = send([smtp_server.apprise_url(), webhook_server.apprise_url()], message)
    assert not mail.ok and mail.error and "desk@example.org" in mail.error
    assert not hook.ok and hook.error and "500" in hook.error
    assert smtp_server.messages == [] and webhook_server.posts == []


def test_skip_sends_only_to_the_other_targets(webhook_server: WebhookServer, message: Message) -> None:  # noqa: F811
    urls = [
        webhook_server.apprise_url("/a"),
        webhook_server.apprise_url("/b"),
        webhook_server.apprise_url("/c"),
    ]
    results = send(urls, message, skip={0, 2})
    assert [(r.index, r.ok) for r in results] == [(1, True)]
    assert [post.path for post in webhook_server.posts] == ["/b"]


def test_malformed_url_is_a_failed_result_not_an_exception(message: Message) -> None:
    results = send(["not a url", "unknownscheme://host/x"], message)
    assert [(r.index, r.ok) for r in results] == [(0, False), (1, False)]
    assert all(r.error for r in results)


def _body(mail: EmailMessage, subtype: str) -> str:
    part = mail.get_body((subtype,))
    assert part is not None, f"no text/{subtype} part"
    content: str = part.get_content()
    return content


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener.getsockname()[1]


def test_a_hanging_target_is_given_up_after_the_timeout(silent_port: int, message: Message) -> None:
    [result] = send([f"json://127.0.0.1:{silent_port}/hook"], message, timeout=0.5)
    assert not result.ok
    assert result.error


def test_secrets_never_appear_in_results(message: Message) -> None:
    port = free_port()  # nothing listens: the failure message quotes the URL
    url = (
        f"json://user:hunter2pass@127.0.0.1:{port}/tok3nAbcdef1234567890?+X-Token=s3cr3tvalue&-key=k3yvalue99"
    )
    [result] = send([url], message)
    assert not result.ok
    shown = f"{result.target} {result.error}"
    for secret in ("hunter2pass", "tok3nAbcdef1234567890", "s3cr3tvalue", "k3yvalue99"):
        assert secret not in shown
    assert result.target.startswith(f"json://user:****@127.0.0.1:{port}/")


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        (
            "mailtos://me:app-pass@example.org?from=a@example.org&to=b@example.org",
            "mailtos://me:****@example.org?from=a@example.org&to=b@example.org",
        ),
        ("json://host/path?+X-Token=abc&format=markdown", "json://host/path?+X-Token=****&format=markdown"),
        ("discord://4174216298/JHMHI8qBe7bk2ZwO5U711o3dcYLvq4btFc", "discord://****/****"),
        ("tgram://123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/-100123", "tgram://****/****"),
        ("json://127.0.0.1:8080/path", "json://127.0.0.1:8080/path"),
    ],
)
def test_mask_url_on_apprise_targets(url: str, masked: str) -> None:
    assert mask_url(url) == masked


def test_a_failure_reason_is_kept_whole_up_to_its_limit_and_cut_after() -> None:
    from monitor.notify.send import _MAX_ERROR_CHARS, _clean

    url = "json://127.0.0.1:9/hook"
    longest = "x" * _MAX_ERROR_CHARS
    assert _clean(longest, url) == longest
    cut = _clean("y" * (_MAX_ERROR_CHARS + 1), url)
    assert len(cut) == _MAX_ERROR_CHARS and cut.endswith("y…")
    assert _clean("refused:\n  try   later", url) == "refused: try later"  # one line, single spaces
