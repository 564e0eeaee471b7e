"""What apprise really sends to each service, captured at a local HTTP endpoint (or a local SMTP server)
and compared with golden files in tests/golden/ that were read and checked by hand.

Run with ``UPDATE_GOLDEN=1`` to rewrite the golden files after a deliberate change, then read the diff.
"""

from __future__ import annotations

import asyncio
import html.parser
import json
import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import apprise
import pytest

from monitor.models import Hit, Snippet
from monitor.notify import Message, render_message, send_message
from monitor.notify.channels import CHANNELS, size
from monitor.notify.send import channel_of, plugin_for
from tests.capture import Captured, CaptureServer, capture_server  # noqa: F401
from tests.smtpserver import SmtpServer, smtp_server  # noqa: F401

GOLDEN = Path(__file__).parent / "golden"
DAY = datetime(2026, 11, 3, 14, 5, tzinfo=UTC)
ARTICLE = "https://news.example.org/rafale?id=7&lang=en"
HOSTILE = (
    "Leak <script>alert(1)</script> <img src=x onerror=alert(2)> @everyone @here <!channel> <@U123> "
    "[x](javascript:alert(3)) *bold* _it_ \\& `code` <https://evil.example|click> "
    "see http://evil.example/p ![p](http://evil.example/p.png)"
)
URLS = {
    "slack": "slack://T1ABCDEFG/B1ABCDEFG/abcdefghijklmnopqrstuvwx/#desk",
    "telegram": "tgram://123456789:abcdefg_hijklmnopqrstuvwxyz1234567/-100123/",
    "discord": "discord://1234567890/abcdefghijklmnopqrstuvwxyzABCDEFG/",
    "matrix": "matrix://token@{address}/!room:example.org",
    "teams": "workflow://{address}/workflowid/signature",
    "ntfy": "ntfy://{address}/alerts",
    "json": "json://{address}/hook",
}


def hit(id: int, watchlist: str, title: str, article: int, *snippets: Snippet, **changes: Any) -> Hit:
    values: dict[str, Any] = {
        "id": id,
        "watchlist": watchlist,
        "feed": "example-feed",
        "url": ARTICLE,
        "title": title,
        "published": DAY,
        "found_at": DAY,
        "matched": ("Rafale",),
        "snippets": snippets,
        "sitename": "Example News",
        "article_id": article,
    }
    return Hit(**(values | changes))


def sample_hits() -> list[Hit]:
    """Two articles: the newest matched two watchlists; the other has a hostile title and snippet."""
    body = Snippet("body", "Paris agreed the Rafale export to India & Qatar.", ((17, 23), (24, 30)))
    title_snippet = Snippet("title", "France sells Rafale jets", ((13, 19),))
    hostile = Snippet("body", "Quoted: " + HOSTILE, ((14, 20),))  # "script" is marked
    return [
        hit(
            1,
            "arms-exports",
            "France sells Rafale jets",
            1,
            title_snippet,
            body,
            matched=("Rafale", "export"),
        ),
        hit(2, "french-desk", "France sells Rafale jets", 1, body, matched=("export",)),
        hit(
            3, "arms-exports", HOSTILE, 2, hostile, published=DAY.replace(hour=9), url="https://cbc.example/x"
        ),
    ]


def sample_message() -> Message:
    return render_message("desk", sample_hits(), timezone="America/Toronto")


def send(server: CaptureServer, channel: str, message: Message) -> list[Captured]:
    url = URLS[channel].format(address=server.address)
    [result] = asyncio.run(send_message([url], message))
    assert result.ok, result.error
    return [r for r in server.requests if r.method in ("POST", "PUT")]


def payload(channel: str, server: CaptureServer, message: Message) -> dict[str, Any]:
    [request] = [
        r for r in send(server, channel, message) if not r.path.startswith("/_matrix/client/v3/join")
    ]
    data: dict[str, Any] = request.json
    if channel == "slack":
        data["attachments"][0]["ts"] = "<time>"
    return {"method": request.method, "host": _host(request, server), "path": _path(request), "json": data}


def _host(request: Captured, server: CaptureServer) -> str:
    return "<local>" if request.host == server.address else request.host


def _path(request: Captured) -> str:
    return re.sub(r"/m\.room\.message/[^/?]+", "/m.room.message/<transaction>", request.path)


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{name} differs from its golden file"


@pytest.mark.parametrize("channel", list(URLS))
def test_each_service_gets_its_golden_request(capture_server: CaptureServer, channel: str) -> None:  # noqa: F811
    captured = payload(channel, capture_server, sample_message())
    check_golden(f"{channel}.json", json.dumps(captured, ensure_ascii=False, indent=2, sort_keys=True) + "\n")


def test_email_gets_its_golden_html_and_text_parts(smtp_server: SmtpServer) -> None:  # noqa: F811
    [result] = asyncio.run(send_message([smtp_server.apprise_url()], sample_message()))
    assert result.ok, result.error
    [mail] = smtp_server.messages
    plain, rich = mail.get_body(("plain",)), mail.get_body(("html",))
    assert plain is not None and rich is not None
    check_golden("email.subject.txt", str(mail["Subject"]) + "\n")
    check_golden("email.txt", plain.get_content().replace("\r\n", "\n"))
    check_golden("email.html", rich.get_content().replace("\r\n", "\n"))


# --- hostile text stays inert ------------------------------------------------------------------------


class _Tags(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.links: set[str] = set()
        self.attributes: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attributes |= {name for name, _ in attrs}
        self.links |= {value or "" for name, value in attrs if name in ("href", "src")}


def _tags(markup: str) -> _Tags:
    parser = _Tags()
    parser.feed(markup)
    return parser


def _no_live_mentions_or_bare_links(text: str) -> None:
    for mention in ("@everyone", "@here", "<!channel>", "<@U123>"):
        assert mention not in text
    assert "http://evil" not in text and "https://evil" not in text


def test_hostile_text_is_inert_on_slack(capture_server: CaptureServer) -> None:  # noqa: F811
    attachment = payload("slack", capture_server, sample_message())["json"]["attachments"][0]
    text = attachment["text"]
    _no_live_mentions_or_bare_links(text)
    assert re.findall(r"<([^|>]+)\|", text) == [ARTICLE, "https://cbc.example/x"]  # the only links
    assert "<script" not in text and "&lt;script" in text  # Slack would show "&lt;" as "<"
    assert "∗bold∗" in text and "ˍitˍ" in text and "*bold*" not in text  # mrkdwn has no escape character
    assert "!" not in text and "@" not in text  # apprise would make "<!channel>" and "<@U123>" of them


def test_hostile_text_is_inert_on_telegram(capture_server: CaptureServer) -> None:  # noqa: F811
    text = payload("telegram", capture_server, sample_message())["json"]["text"]
    tags = _tags(text)
    assert tags.tags <= {"b", "a", "blockquote"}
    assert tags.links == {ARTICLE.replace("&", "&"), "https://cbc.example/x"}
    assert tags.attributes == {"href"}
    assert "&lt;script&gt;" in text and "[x](javascript:alert(3)) *bold*" in text  # HTML mode: shown as is
    _no_live_mentions_or_bare_links(text)


def test_hostile_text_is_inert_on_discord(capture_server: CaptureServer) -> None:  # noqa: F811
    content = payload("discord", capture_server, sample_message())["json"]["content"]
    _no_live_mentions_or_bare_links(content)
    assert re.findall(r"(?<!\\)\]\(([^)]*)\)", content) == [ARTICLE, "https://cbc.example/x"]
    assert "\\*bold\\*" in content and "\\_it\\_" in content and "\\[x\\]\\(javascript" in content
    assert "\\&" not in content.replace("\\\\&", "")  # Discord would show a backslash before "&"


def test_hostile_text_is_inert_on_matrix(capture_server: CaptureServer) -> None:  # noqa: F811
    event = payload("matrix", capture_server, sample_message())["json"]
    tags = _tags(event["formatted_body"])
    assert tags.tags <= {"p", "strong", "a", "blockquote", "br"}
    assert tags.links == {ARTICLE, "https://cbc.example/x"}
    assert "&lt;script&gt;" in event["formatted_body"]
    _no_live_mentions_or_bare_links(event["formatted_body"])
    _no_live_mentions_or_bare_links(event["body"])


def test_hostile_text_is_inert_on_teams(capture_server: CaptureServer) -> None:  # noqa: F811
    card = payload("teams", capture_server, sample_message())["json"]["attachments"][0]["content"]
    title, body = (block["text"] for block in card["body"] if block["type"] == "TextBlock")
    for text in (title, body):
        _no_live_mentions_or_bare_links(text)
        assert "](javascript" not in text and "*bold*" not in text
    assert re.findall(r"\]\(([^)]*)\)", body) == [ARTICLE, "https://cbc.example/x"]


@pytest.mark.parametrize("channel", ["ntfy", "json"])
def test_hostile_text_is_inert_in_plain_webhooks(capture_server: CaptureServer, channel: str) -> None:  # noqa: F811
    data = payload(channel, capture_server, sample_message())["json"]
    for text in (data["title"], data["message"]):
        _no_live_mentions_or_bare_links(text)


def test_hostile_text_is_inert_in_email(smtp_server: SmtpServer) -> None:  # noqa: F811
    asyncio.run(send_message([smtp_server.apprise_url()], sample_message()))
    [mail] = smtp_server.messages
    rich = mail.get_body(("html",))
    assert rich is not None
    tags = _tags(rich.get_content())
    assert not {"script", "img", "iframe"} & tags.tags
    assert tags.links == {ARTICLE, "https://cbc.example/x"}
    assert not {a for a in tags.attributes if a.startswith("on")}
    plain = mail.get_body(("plain",))
    assert plain is not None
    _no_live_mentions_or_bare_links(plain.get_content())


# --- the title once -----------------------------------------------------------------------------------


@pytest.mark.parametrize("channel", list(URLS))
def test_the_lead_title_is_sent_once(capture_server: CaptureServer, channel: str) -> None:  # noqa: F811
    data = payload(channel, capture_server, sample_message())["json"]
    # Matrix carries the message twice by design: as plain text and as HTML.
    for part in [data["body"], data["formatted_body"]] if channel == "matrix" else [data]:
        assert json.dumps(part, ensure_ascii=False).count("France sells Rafale jets") == 1


def test_every_service_has_its_body_and_limits_within_apprises() -> None:
    message = sample_message()
    for channel, url in URLS.items():
        plugin = apprise.Apprise.instantiate(url.format(address="127.0.0.1:9"))
        assert plugin is not None and channel_of(plugin) == channel
        assert CHANNELS[channel].limit <= plugin.body_maxlen
        if CHANNELS[channel].shows_title:
            assert CHANNELS[channel].title_limit <= plugin.title_maxlen
        assert message.body_for(channel) is message.bodies[channel]
    unknown = apprise.Apprise.instantiate("gotify://127.0.0.1:9/token1234567890")
    assert unknown is not None and channel_of(unknown) == "text"


@pytest.mark.parametrize(
    "url",
    [
        *(url.format(address="127.0.0.1:9") for url in URLS.values()),
        "mailto://127.0.0.1:9?from=monitor@example.org&to=desk@example.org",
        "mailtos://user:secret@mail.example.org:9?to=desk@example.org&from=me@example.org",
        "JSONS://127.0.0.1:9/hook?+X-Token=abc",
        "gotify://127.0.0.1:9/token1234567890",  # not one of ours: apprise's own lookup
    ],
)
def test_a_plugin_read_by_its_scheme_alone_is_the_one_apprise_finds(url: str) -> None:
    ours, apprises = plugin_for(url), apprise.Apprise.instantiate(url)
    assert ours is not None and apprises is not None
    assert type(ours) is type(apprises)
    assert ours.url(privacy=False) == apprises.url(privacy=False)
    assert ours.tags == apprises.tags == set()


@pytest.mark.parametrize("url", ["slack://", "tgram://not-a-token/", "json://", "mailto://", "nosuch://x"])
def test_a_url_no_plugin_can_use_is_none_as_with_apprise(url: str) -> None:
    assert plugin_for(url) is None
    assert apprise.Apprise.instantiate(url) is None


def test_sizes_are_utf8_bytes() -> None:
    assert size("é😀") == 6
