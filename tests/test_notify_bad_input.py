"""Bad input reaches every service within its limits: cut or split with a marker, never refused.

Each case goes through real apprise to a local endpoint (see tests/capture.py) or a local SMTP server.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from monitor.models import Hit, Snippet
from monitor.notify import Message, render_message, send_message
from monitor.notify.channels import CHANNELS, clip, size
from tests.capture import CaptureServer, capture_server  # noqa: F401
from tests.smtpserver import SmtpServer, smtp_server  # noqa: F401
from tests.test_notify_channels import URLS

DAY = datetime(2026, 11, 3, 14, 5, tzinfo=UTC)
FIVE_MB = 5 * 1024 * 1024
TITLES = {
    "huge": ("Rafale <b>deal</b> & co " * (FIVE_MB // 24 + 1))[:FIVE_MB],
    "empty": "",
    "only-a-url": "https://example.org/only-a-link?utm_source=x&id=1",
    "right-to-left": "\u200fصفقة رافال مع الهند \u2067שלום עולם\u2069 Rafale",
    "emoji": "🚀🇫🇷 Rafale 👩‍👩‍👧‍👦 deal 😀 " * 40,
    "combining": "Ra\u0301fa\u0300le Z\u0334\u0327\u0322\u031ba\u0335l\u0338g\u0337o\u0336 " * 60,
}
# What each service takes at most: the field that carries the body, its limit, and its unit.
SERVICE_LIMITS: dict[str, tuple[Any, int]] = {
    "slack": (lambda data: data["attachments"][0]["text"], 35_000),
    "telegram": (lambda data: data["text"], 4_096),
    "discord": (lambda data: data["content"], 2_000),
    "matrix": (lambda data: data["formatted_body"], 65_000),
    "teams": (lambda data: data["attachments"][0]["content"]["body"][2]["text"], 1_000),
    "ntfy": (lambda data: data["message"], 4_096),
    "json": (lambda data: data["message"], 32_768),
}


def hit(id: int, title: str, *, article: int | None = None, snippets: tuple[Snippet, ...] = ()) -> Hit:
    return Hit(
        id=id,
        watchlist="arms-exports",
        feed="example-feed",
        url=f"https://news.example.org/a/{id}",
        title=title,
        published=DAY - timedelta(minutes=id),
        found_at=DAY,
        matched=("Rafale",),
        snippets=snippets,
        sitename="Example News",
        article_id=id if article is None else article,
    )


def message_with(title: str) -> Message:
    """The bad title first, behind an ordinary lead story, so that it is rendered inside the body too."""
    snippet = Snippet("body", "Paris agreed the Rafale export to India.", ((17, 23),))
    return render_message(
        "desk", [hit(1, "Lead story", snippets=(snippet,)), hit(2, title, snippets=(snippet,))]
    )


def many_articles() -> Message:
    snippets = tuple(
        Snippet(
            "body", f"Paragraph {n} about the Rafale export, with enough words to fill a line.", ((24, 30),)
        )
        for n in range(3)
    )
    return render_message(
        "desk", [hit(i, f"Story number {i} about Rafale", snippets=snippets) for i in range(1, 121)]
    )


def sent_body(server: CaptureServer, channel: str, message: Message) -> str:
    server.requests.clear()
    [result] = asyncio.run(send_message([URLS[channel].format(address=server.address)], message))
    assert result.ok, result.error  # accepted: nothing was refused
    [request] = [r for r in server.requests if r.method in ("POST", "PUT") and "/join/" not in r.path]
    field, limit = SERVICE_LIMITS[channel]
    body: str = field(request.json)
    assert size(body) <= limit, f"{channel}: {size(body)} bytes"
    assert "\ufffd" not in body and json.dumps(request.json)  # whole characters, valid JSON
    return body


@pytest.mark.parametrize("channel", list(URLS))
@pytest.mark.parametrize("case", list(TITLES))
def test_bad_titles_arrive_within_each_services_limit(
    capture_server: CaptureServer,  # noqa: F811
    channel: str,
    case: str,
) -> None:
    body = sent_body(capture_server, channel, message_with(TITLES[case]))
    assert body.count("Lead story") <= 1  # the lead title is in the title or the heading, once
    if case == "huge":
        assert "Rafale" in body and "…" in body  # cut, with a marker
    if case == "empty":
        assert "untitled" in body  # "(untitled)", escaped the way of the service
    if case == "only-a-url":
        assert "example.org/only-a-link" in body.replace("\u200b", "") and "https://example.org" not in body
    if case == "right-to-left":
        assert "صفقة رافال" in body and "שלום" in body
    if case in ("emoji", "combining"):
        assert "Rafale" in body or "Ra\u0301fa\u0300le" in body


@pytest.mark.parametrize("channel", list(URLS))
def test_many_articles_fit_with_a_count_of_those_left_out(
    capture_server: CaptureServer,  # noqa: F811
    channel: str,
) -> None:
    body = sent_body(capture_server, channel, many_articles())
    assert "Story number 2 " in body  # the second article always fits
    if size("\n".join(["Story number 100 about Rafale"] * 120 * 3)) > CHANNELS[channel].limit:
        assert "more not shown" in body


@pytest.mark.parametrize("case", list(TITLES))
def test_bad_titles_arrive_by_email(smtp_server: SmtpServer, case: str) -> None:  # noqa: F811
    message = render_message("desk", [hit(1, TITLES[case])])
    [result] = asyncio.run(send_message([smtp_server.apprise_url()], message))
    assert result.ok, result.error
    [mail] = smtp_server.messages
    assert len(str(mail["Subject"])) <= 200
    rich = mail.get_body(("html",))
    assert rich is not None and len(rich.get_content()) < 20_000
    if case == "huge":
        assert str(mail["Subject"]).endswith("… · arms-exports")


def test_clip_keeps_whole_characters() -> None:
    assert clip("abcde\u0301\u0301fgh", 6) == "abcd…"
    assert clip("ab👩‍👩‍👧‍👦cd", 6) == "ab…"
    assert clip("x" * FIVE_MB, 10) == "x" * 9 + "…"
    assert clip(" a \n b ", 10) == "a b"


def test_an_article_too_long_for_the_service_is_shown_without_snippets() -> None:
    snippets = tuple(Snippet("body", f"{n} " + "Rafale export deal " * 20, ((2, 8),)) for n in range(3))
    message = render_message("desk", [hit(1, "Lead story", snippets=snippets), hit(2, "Second story")])
    body = message.bodies["teams"].body
    assert size(body) <= CHANNELS["teams"].limit
    assert "“" not in body and "Lead story" not in body  # no snippets; the title is the card's heading
    assert body.startswith("[Example News](https://news.example.org/a/1)")
    assert body.endswith("+1 more not shown")
    assert "> 0 **Rafale** export" in message.bodies["discord"].body  # a larger service shows them
