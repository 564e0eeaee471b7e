"""Rendering alerts: subjects, grouping, highlights, and hostile feed text in every format."""

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


def hit(
    id: int = 1,
    watchlist: str = "arms-exports",
    title: str = "France sells Rafale jets",
    published: datetime = datetime(2026, 11, 3, 14, 5, tzinfo=UTC),
    url: str | None = "https://news.example.org/rafale?id=7&lang=en",
    snippets: tuple[Snippet, ...] = (),
    sitename: str | None = "Example News",
) -> Hit:
    return Hit(
        id=id,
        watchlist=watchlist,
        feed="example-feed",
        url=url,
        title=title,
        published=published,
        found_at=published,
        matched=("Rafale", "export"),
        snippets=snippets,
        sitename=sitename,
    )


RAFALE_SNIPPET = Snippet("body", "Paris agreed the Rafale export to India.", ((17, 23), (24, 30)))


def test_subject_for_one_watchlist_counts_articles() -> None:
    assert render_message("desk", [hit()]).title == "arms-exports: 1 new article"
    assert render_message("desk", [hit(1), hit(2), hit(3)]).title == "arms-exports: 3 new articles"


def test_subject_for_several_watchlists_names_them_in_order() -> None:
    hits = [hit(1), hit(2, "french-desk"), hit(3), hit(4, "french-desk"), hit(5)]
    assert render_message("desk", hits).title == "arms-exports, french-desk: 5 new articles"


def test_digest_subject_names_notifier_count_and_watchlists() -> None:
    hits = [hit(i, "arms-exports" if i % 2 else "french-desk") for i in range(1, 13)]
    message = render_message("desk-email", hits, digest=True)
    assert message.title == "Digest for desk-email: 12 articles (arms-exports, french-desk)"


def test_html_has_link_outlet_time_watchlist_terms_and_marked_snippet() -> None:
    html = render_message("desk", [hit(snippets=(RAFALE_SNIPPET,))]).html
    assert '<a href="https://news.example.org/rafale?id=7&amp;lang=en">France sells Rafale jets</a>' in html
    assert "Example News" in html
    assert "2026-11-03 14:05 UTC" in html
    assert "arms-exports matched: Rafale, export" in html
    assert "the <mark>Rafale</mark> <mark>export</mark> to India." in html


def test_markdown_bolds_marks_and_links_the_title() -> None:
    markdown = render_message("desk", [hit(snippets=(RAFALE_SNIPPET,))]).markdown
    assert "[France sells Rafale jets](https://news.example.org/rafale?id=7&lang=en)" in markdown
    assert "the **Rafale** **export** to India." in markdown


def test_plain_text_has_title_url_and_highlights() -> None:
    text = render_message("desk", [hit(snippets=(RAFALE_SNIPPET,))]).text
    assert "* France sells Rafale jets\n  https://news.example.org/rafale?id=7&lang=en\n" in text
    assert "the *Rafale* *export* to India." in text


def test_marks_out_of_range_or_overlapping_do_not_break_the_snippet() -> None:
    snippet = Snippet("body", "abcdef", ((4, 99), (1, 3), (2, 4), (-5, 0), (3, 3)))
    html = render_message("desk", [hit(snippets=(snippet,))]).html
    assert "a<mark>bc</mark><mark>d</mark><mark>ef</mark>" in html


def test_hostile_title_cannot_inject_html() -> None:
    html = render_message("desk", [hit(title=HOSTILE_TITLE)]).html
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert set(re.findall(r'href="([^"]*)"', html)) == {"https://news.example.org/rafale?id=7&amp;lang=en"}


def test_hostile_title_and_snippet_cannot_inject_markdown_links_images_or_mentions() -> None:
    snippet = Snippet("body", HOSTILE_TITLE, ((0, 4),))
    markdown = render_message("desk", [hit(title=HOSTILE_TITLE, snippets=(snippet,))]).markdown
    assert _links(markdown) == ["https://news.example.org/rafale?id=7&lang=en"]
    assert "![" not in markdown and "\\!\\[pixel\\]\\(" in markdown
    for mention in ("@channel", "@here", "@everyone", "<!channel>", "<@U123>", "@someone"):
        assert mention not in markdown
    assert "http://evil" not in markdown  # bare URLs would be auto-linked by chat clients
    assert "\n#" not in markdown and "\n- list" not in markdown  # no new blocks from a title


def test_hostile_text_in_plain_text_cannot_mention_or_link() -> None:
    text = render_message("desk", [hit(title=HOSTILE_TITLE)]).text
    for mention in ("@channel", "@here", "@everyone", "<!channel>", "<@U123>"):
        assert mention not in text
    assert "http://evil" not in text


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,<b>x</b>", "  "])
def test_links_other_than_http_are_dropped(url: str) -> None:
    message = render_message("desk", [hit(url=url)])
    assert "href" not in message.html
    assert _links(message.markdown) == []


def test_link_cannot_break_out_of_markdown() -> None:
    markdown = render_message("desk", [hit(url="https://x.example/a) [evil](http://evil.example")]).markdown
    assert _links(markdown) == ["https://x.example/a%29%20[evil]%28http://evil.example"]


def test_digest_groups_by_watchlist_newest_first() -> None:
    day = datetime(2026, 11, 3, tzinfo=UTC)
    hits = [
        hit(1, "arms-exports", "old arms", day.replace(hour=8)),
        hit(2, "french-desk", "french news", day.replace(hour=9)),
        hit(3, "arms-exports", "new arms", day.replace(hour=10)),
    ]
    message = render_message("desk", hits, digest=True)
    for body in (message.text, message.html):
        assert _order(body, "arms-exports", "new arms", "old arms", "french-desk", "french news")
    assert _order(
        message.markdown, "**arms-exports**", "new arms", "old arms", "**french-desk**", "french news"
    )


def test_outlet_falls_back_to_feed_name() -> None:
    assert "example-feed" in render_message("desk", [hit(sitename=None)]).html


def test_user_template_gives_the_text_body_and_no_html_or_markdown(tmp_path: Path) -> None:
    template = tmp_path / "mine.txt.j2"
    template.write_text(
        "{{ subject }} for {{ notifier }} ({{ count }})\n"
        "{% for hit in hits %}{{ hit.watchlist }}|{{ hit.title }}|{{ hit.url }}|{{ hit.snippets|join }}\n"
        "{% endfor %}"
    )
    older = datetime(2026, 11, 2, tzinfo=UTC)
    hits = [hit(snippets=(RAFALE_SNIPPET,)), hit(2, title="ping @everyone", published=older)]
    message = render_message("desk", hits, template=template)
    lines = message.text.splitlines()
    assert lines[0] == "arms-exports: 2 new articles for desk (2)"
    assert lines[1].startswith("arms-exports|France sells Rafale jets|https://news.example.org/rafale")
    assert lines[1].endswith("the *Rafale* *export* to India.")
    assert "@everyone" not in message.text
    assert message.html == "" and message.markdown == ""


def test_log_message_logs_subject_and_text(caplog: pytest.LogCaptureFixture) -> None:
    message = Message(title="arms-exports: 1 new article", text="body line", html="", markdown="")
    with caplog.at_level(logging.INFO, logger="test.console"):
        log_message(logging.getLogger("test.console"), "console", message)
    assert caplog.records[0].getMessage() == "notifier console: arms-exports: 1 new article\nbody line"


def _links(markdown: str) -> list[str]:
    """Destinations of unescaped Markdown links and images."""
    return re.findall(r"(?<!\\)\]\((?!\\)([^)\s]*)\)", markdown)


def _order(body: str, *needles: str) -> bool:
    """Whether the needles occur in this order (each found after the previous one)."""
    position = 0
    for needle in needles:
        position = body.find(needle, position)
        if position == -1:
            return False
        position += len(needle)
    return True


def test_the_documented_template_example_renders(tmp_path: Path) -> None:
    docs = Path(__file__).parent.parent / "docs" / "templates.md"
    example = docs.read_text().split("```jinja\n", 1)[1].split("```", 1)[0]
    template = tmp_path / "example.j2"
    template.write_text(example)
    text = render_message("desk", [hit(snippets=(RAFALE_SNIPPET,))], template=template).text
    assert "- France sells Rafale jets (Example News, 2026-11-03 14:05 UTC)" in text
    assert "the *Rafale* *export* to India." in text


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
