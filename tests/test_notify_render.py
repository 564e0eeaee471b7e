"""Rendering alerts: one item per article, subjects, headings, time zones, highlights, and templates."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.errors import ConfigError
from monitor.models import Hit, Snippet
from monitor.notify import Message, log_message, render_message

HOSTILE_TITLE = (
    "Leak <script>alert(1)</script> <img src=x onerror=alert(2)> [click](http://evil.example/x) "
    "![pixel](http://evil.example/p.png) @channel @here @everyone <!channel> <@U123> @someone "
    "visit http://evil.example now\n# heading\n- list"
)
DAY = datetime(2026, 11, 3, 14, 5, tzinfo=UTC)


def hit(
    id: int = 1,
    watchlist: str = "arms-exports",
    title: str = "France sells Rafale jets",
    published: datetime = DAY,
    url: str | None = "https://news.example.org/rafale?id=7&lang=en",
    snippets: tuple[Snippet, ...] = (),
    sitename: str | None = "Example News",
    article: int | None = None,
    matched: tuple[str, ...] = ("Rafale", "export"),
) -> Hit:
    return Hit(
        id=id,
        watchlist=watchlist,
        feed="example-feed",
        url=url,
        title=title,
        published=published,
        found_at=published,
        matched=matched,
        snippets=snippets,
        sitename=sitename,
        article_id=id if article is None else article,
    )


RAFALE_SNIPPET = Snippet("body", "Paris agreed the Rafale export to India.", ((17, 23), (24, 30)))


def test_one_article_matching_two_watchlists_is_one_article_listing_both() -> None:
    hits = [
        hit(1, "arms-exports", matched=("Rafale",), snippets=(RAFALE_SNIPPET,)),
        hit(2, "french-desk", matched=("export", "Rafale"), article=1),
    ]
    message = render_message("desk", hits)
    assert message.title == "France sells Rafale jets · arms-exports, french-desk"
    assert "1 new article · arms-exports, french-desk" in message.html
    assert message.html.count("France sells Rafale jets</a>") == 1
    assert "arms-exports: Rafale" in message.text and "french-desk: export, Rafale" in message.text
    assert message.text.count("Paris agreed the") == 1


def test_subject_is_the_lead_title_the_watchlists_and_how_many_more() -> None:
    hits = [
        hit(1, title="Older story", published=DAY.replace(hour=8)),
        hit(2, "french-desk", title="Newest story", published=DAY.replace(hour=12)),
        hit(3, title="Middle story", published=DAY.replace(hour=10)),
        hit(4, "french-desk", title="Middle story", published=DAY.replace(hour=10), article=3),
    ]
    message = render_message("desk", hits)
    assert message.title == "Newest story · french-desk, arms-exports · +2 more"
    assert "3 new articles · french-desk, arms-exports" in message.html


def test_subject_cuts_a_long_lead_title_with_a_marker() -> None:
    title = "Word " * 60
    subject = render_message("desk", [hit(title=title)]).title
    assert subject.startswith("Word Word") and "… · arms-exports" in subject
    assert len(subject) <= 200


def test_digest_subject_and_heading() -> None:
    hits = [hit(i, "arms-exports" if i % 2 else "french-desk", title=f"story {i}") for i in range(1, 13)]
    message = render_message("desk-email", hits, digest=True)
    assert message.title == "Digest: story 1 · arms-exports, french-desk · +11 more"
    assert "12 articles in this digest · arms-exports, french-desk" in message.html


def test_an_empty_digest_says_so() -> None:
    message = render_message("desk-email", [], digest=True)
    assert message.title == "Digest: no new articles for desk-email"
    assert "No new articles." in message.html and "No new articles." in message.text


def test_html_has_link_outlet_time_watchlist_terms_and_marked_snippet() -> None:
    html = render_message("desk", [hit(snippets=(RAFALE_SNIPPET,))]).html
    assert '<a href="https://news.example.org/rafale?id=7&amp;lang=en"' in html
    assert ">France sells Rafale jets</a>" in html
    assert "Example News · 2026-11-03 14:05 UTC" in html
    assert "arms-exports: Rafale, export" in html
    hidden = '<span style="display: none; mso-hide: all;">'
    assert (
        f'the <mark style="background: #fff3a3; color: #1a1a1a;">{hidden}«</span>Rafale{hidden}»</span></mark>'
        in html
    )


def test_times_are_in_the_notifiers_time_zone() -> None:
    summer = datetime(2026, 7, 3, 14, 5, tzinfo=UTC)
    assert "2026-11-03 15:05 CET" in render_message("desk", [hit()], timezone="Europe/Paris").html
    assert (
        "2026-07-03 16:05 CEST"
        in render_message("desk", [hit(published=summer)], timezone="Europe/Paris").text
    )
    naive = render_message("desk", [hit(published=datetime(2026, 11, 3, 14, 5))], timezone="America/Toronto")
    assert "2026-11-03 09:05 EST" in naive.text


def test_plain_text_marks_matches_with_guillemets() -> None:
    text = render_message("desk", [hit(snippets=(RAFALE_SNIPPET,))]).text
    assert "https://news.example.org/rafale?id=7&lang=en\nExample News · 2026-11-03 14:05 UTC\n" in text
    assert "“Paris agreed the «Rafale» «export» to India.”" in text


def test_marks_out_of_range_or_overlapping_do_not_break_the_snippet() -> None:
    snippet = Snippet("body", "abcdef", ((4, 99), (1, 3), (2, 4), (-5, 0), (3, 3)))
    assert "“a«bc»«d»«ef»”" in render_message("desk", [hit(snippets=(snippet,))]).text


def test_hostile_title_cannot_inject_html() -> None:
    html = render_message("desk", [hit(title=HOSTILE_TITLE)]).html
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert set(re.findall(r'href="([^"]*)"', html)) == {"https://news.example.org/rafale?id=7&amp;lang=en"}


def test_hostile_text_in_plain_text_cannot_mention_or_link() -> None:
    snippet = Snippet("body", HOSTILE_TITLE, ((0, 4),))
    message = render_message("desk", [hit(title=HOSTILE_TITLE, snippets=(snippet,))])
    for mention in ("@channel", "@here", "@everyone", "<!channel>", "<@U123>"):
        assert mention not in message.text
    assert "http://evil" not in message.text


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,<b>x</b>", "  "])
def test_links_other_than_http_are_dropped(url: str) -> None:
    message = render_message("desk", [hit(url=url)])
    assert "href" not in message.html
    assert "javascript" not in message.text and "data:" not in message.text


def test_outlet_is_a_name_never_a_bare_host() -> None:
    assert "example-feed · 2026" in render_message("desk", [hit(sitename="127.0.0.1:43125")]).text
    assert "example-feed · 2026" in render_message("desk", [hit(sitename="www.cbc.ca")]).text
    assert "example-feed · 2026" in render_message("desk", [hit(sitename=None)]).text
    assert "CBC News · 2026" in render_message("desk", [hit(sitename=" CBC  News ")]).text


def test_user_template_gives_the_text_body_and_no_html(tmp_path: Path) -> None:
    template = tmp_path / "mine.txt.j2"
    template.write_text(
        "{{ subject }} for {{ notifier }} ({{ count }}): {{ heading }}\n"
        "{% for hit in hits %}{{ hit.watchlist }}|{{ hit.title }}|{{ hit.url }}|{{ hit.snippets|join }}\n"
        "{% endfor %}"
        "{% for group in groups %}{{ group.name }}={{ group.hits|length }} {% endfor %}"
    )
    older = datetime(2026, 11, 2, tzinfo=UTC)
    hits = [
        hit(snippets=(RAFALE_SNIPPET,)),
        hit(3, "french-desk", article=1),
        hit(2, title="ping @everyone", published=older),
    ]
    message = render_message("desk", hits, template=template)
    lines = message.text.splitlines()
    assert lines[0] == (
        "France sells Rafale jets · arms-exports, french-desk · +1 more for desk (2): "
        "2 new articles · arms-exports, french-desk"
    )
    assert lines[1].startswith("arms-exports, french-desk|France sells Rafale jets|https://news.example.org/")
    assert lines[1].endswith("the «Rafale» «export» to India.")
    assert lines[3] == "arms-exports=2 french-desk=1 "
    assert "@everyone" not in message.text
    assert message.html == "" and message.bodies == {}
    assert message.body_for("slack").body == message.text and message.body_for("slack").format == "text"


def test_log_message_logs_subject_and_text(caplog: pytest.LogCaptureFixture) -> None:
    message = Message(title="arms-exports: 1 new article", text="body line", html="")
    with caplog.at_level(logging.INFO, logger="test.console"):
        log_message(logging.getLogger("test.console"), "console", message)
    assert caplog.records[0].getMessage() == "notifier console: arms-exports: 1 new article\nbody line"


def test_the_documented_template_example_renders(tmp_path: Path) -> None:
    docs = Path(__file__).parent.parent / "docs" / "templates.md"
    example = docs.read_text().split("```jinja\n", 1)[1].split("```", 1)[0]
    template = tmp_path / "example.j2"
    template.write_text(example)
    text = render_message("desk", [hit(snippets=(RAFALE_SNIPPET,))], template=template).text
    assert "- France sells Rafale jets (Example News, 2026-11-03 14:05 UTC)" in text
    assert "the «Rafale» «export» to India." in text


@pytest.mark.parametrize(
    ("source", "problem"),
    [("{% for %}", "example.j2:1: template syntax error"), ("{{ no_such_thing }}", "template error")],
)
def test_broken_user_template_is_a_config_error_naming_the_file(
    tmp_path: Path, source: str, problem: str
) -> None:
    template = tmp_path / "example.j2"
    template.write_text(source)
    with pytest.raises(ConfigError, match=problem):
        render_message("desk", [hit()], template=template)
    with pytest.raises(ConfigError, match="not found"):
        render_message("desk", [hit()], template=tmp_path / "missing.j2")


def test_email_gets_the_html_body_when_there_is_one_and_other_channels_the_text() -> None:
    message = Message(title="t", text="plain", html="<p>rich</p>")
    assert (message.body_for("email").body, message.body_for("email").format) == ("<p>rich</p>", "html")
    assert (message.body_for("slack").body, message.body_for("slack").format) == ("plain", "text")
    plain = Message(title="t", text="plain", html="")
    assert (plain.body_for("email").body, plain.body_for("email").format) == ("plain", "text")


def test_a_template_sees_the_time_of_rendering_it_is_given(tmp_path: Path) -> None:
    template = tmp_path / "when.txt.j2"
    template.write_text("{{ now.isoformat() }}")
    when = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    assert render_message("desk", [hit()], template=template, now=when).text == when.isoformat()
