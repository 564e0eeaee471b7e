"""One alert body per kind of service, each in the markup that service reads, within its length limit.

A :class:`Dialect` says how a service writes bold, links, highlights and quotes and how untrusted text
is made inert there. :func:`render_chat` lays the items out the same way for all of them:

    <heading: the subject, bold>            only where the service shows no title of its own
    <title, linked>                          the lead item's title is left out when the subject holds it
    <outlet> · <time> · <language>           the outlet links to the article when the title is left out
    <watchlist>: <terms> · <watchlist>: <terms>
    also in: <outlets>
    > <snippet with «highlights»>

Items that do not fit the service's limit are left out and counted in a last "+N more" line; an item
alone too long for it is shown without snippets, then cut with a "…" marker.
"""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from monitor.models import Snippet
from monitor.notify import safety
from monitor.notify.items import AlertItem, format_time

ELLIPSIS = "…"
MAX_TITLE_CHARS = 300
MAX_SUBJECT_TITLE_CHARS = 100
_JOINERS = frozenset("\u200d\ufe0e\ufe0f")
MAX_LINK_CHARS = 2000  # a longer article link is left out rather than cut; a quarter of a body at most


@dataclass(frozen=True, slots=True)
class Dialect:
    escape: Callable[[str], str]  # untrusted text, one line, made inert
    strong: Callable[[str], str]
    link: Callable[[str, str], str]  # (url, escaped label)
    mark: Callable[[str], str]  # an escaped highlighted run
    quote: Callable[[str], str]  # one escaped snippet
    label: Callable[[str], str] | None = None  # link labels, when they need more than ``escape``
    newline: str = "\n"  # between an item's lines: Markdown rendered to HTML needs a hard break
    inline_links: bool = True  # False: no link markup, the URL goes on a line of its own


@dataclass(frozen=True, slots=True)
class Channel:
    """A kind of service: its dialect, its body limit in UTF-8 bytes, and what apprise is told."""

    name: str
    dialect: Dialect
    limit: int
    shows_title: bool  # the service shows the title apart from the body: it is not repeated inside
    body_format: str | None  # the format apprise is told; None: the body is sent exactly as rendered
    title_limit: int = 250


def _markdown_link(url: str, label: str) -> str:
    return f"[{label}]({url})"


def _telegram_link(url: str, label: str) -> str:
    return f'<a href="{html.escape(url, quote=True)}">{label}</a>'


def _slack_link(url: str, label: str) -> str:
    return f"<{url}|{label}>"


def _bold_markdown(text: str) -> str:
    return f"**{text}**" if text.strip() else text


def _bold_slack(text: str) -> str:
    return f"*{text}*" if text.strip() else text


def _quote_markdown(text: str) -> str:
    return f"> {text}"


PLAIN = Dialect(
    escape=safety.plain,
    strong=lambda text: text,
    link=lambda url, label: label,
    mark=lambda text: f"«{text}»",
    quote=lambda text: f"  “{text}”",
    inline_links=False,
)
SLACK = Dialect(
    escape=safety.slack,
    strong=_bold_slack,
    link=_slack_link,
    mark=_bold_slack,
    quote=lambda text: f"“{text}”",  # apprise escapes a quote's ">" when it sends the body as it is
    label=safety.slack_label,
)
TELEGRAM = Dialect(
    escape=safety.telegram,
    strong=lambda text: f"<b>{text}</b>",
    link=_telegram_link,
    mark=lambda text: f"<b>{text}</b>",
    quote=lambda text: f"<blockquote>{text}</blockquote>",
)
DISCORD = Dialect(
    escape=safety.discord,
    strong=_bold_markdown,
    link=_markdown_link,
    mark=_bold_markdown,
    quote=_quote_markdown,
)
COMMONMARK = Dialect(
    escape=safety.markdown,
    strong=_bold_markdown,
    link=_markdown_link,
    mark=_bold_markdown,
    quote=_quote_markdown,
    newline="  \n",
)
TEAMS = Dialect(
    escape=safety.teams,
    strong=_bold_markdown,
    link=_markdown_link,
    mark=_bold_markdown,
    quote=lambda text: f"“{text}”",
    label=safety.teams_label,
    newline="\n\n",  # a card's text block joins single lines
)

CHANNELS = {
    channel.name: channel
    for channel in (
        Channel("slack", SLACK, 35_000, shows_title=True, body_format=None),
        Channel("telegram", TELEGRAM, 4_096, shows_title=False, body_format=None),
        Channel("discord", DISCORD, 2_000, shows_title=False, body_format=None),
        Channel("matrix", COMMONMARK, 30_000, shows_title=False, body_format="markdown"),
        Channel("teams", TEAMS, 1_000, shows_title=True, body_format=None),
        Channel("ntfy", PLAIN, 4_000, shows_title=True, body_format=None, title_limit=200),
        Channel("json", PLAIN, 32_768, shows_title=True, body_format=None),
        Channel("text", PLAIN, 30_000, shows_title=True, body_format="text"),
    )
}


def size(text: str) -> int:
    """Length as services limit it, at its most demanding: UTF-8 bytes."""
    return len(text.encode("utf-8", "surrogatepass"))


def clip(text: str, limit: int) -> str:
    """``text`` on one line, cut to at most ``limit`` characters, marked with "…" when cut. Only the
    start of a huge text is looked at."""
    window = text[: limit * 8]
    line = " ".join(window.split())
    if len(line) <= limit and len(window) == len(text):
        return line
    # (the line may be shorter than the limit: what was looked at of a huge text collapsed to a few words)
    cut = min(limit - 1, len(line))
    while 0 < cut < len(line) and _continues(line, cut):  # never cut through a character built of several
        cut -= 1
    return line[:cut].rstrip() + ELLIPSIS


def _continues(text: str, index: int) -> bool:
    """Whether ``text[index]`` still belongs to the character before it: a combining mark, a variation
    selector, a joiner, or whatever follows a joiner (emoji sequences)."""
    return bool(unicodedata.combining(text[index])) or text[index] in _JOINERS or text[index - 1] == "\u200d"


@dataclass(frozen=True, slots=True)
class Layout:
    """What every item of one message is rendered with."""

    dialect: Dialect
    zone: ZoneInfo
    link_limit: int = MAX_LINK_CHARS
    title_limit: int = MAX_TITLE_CHARS


def render_chat(
    channel: Channel, items: Sequence[AlertItem], subject: str, *, zone: ZoneInfo, more: str, empty: str
) -> str:
    """The body for ``channel``; ``subject`` is the heading where the service shows no title.

    ``more`` is the line for left-out items ("+{count} more"), ``empty`` the body of an empty digest."""
    dialect = channel.dialect
    # At most a quarter of the body for the link and, at up to 4 bytes a character, under half for the title,
    # so that one item always fits.
    layout = Layout(
        dialect, zone, min(MAX_LINK_CHARS, channel.limit // 4), min(MAX_TITLE_CHARS, channel.limit // 10)
    )
    head = [] if channel.shows_title else [dialect.strong(dialect.escape(subject))]
    if not items:
        return "\n\n".join([*head, dialect.escape(empty)])
    lead_in_subject = title_text(items[0]) in subject
    blocks = [
        render_item(layout, item, title_shown=index == 0 and lead_in_subject)
        for index, item in enumerate(items)
    ]
    return _fit(channel, layout, head, blocks, items, more, lead_in_subject)


def render_item(layout: Layout, item: AlertItem, *, title_shown: bool = False, snippets: bool = True) -> str:
    """One item's lines. ``title_shown``: the subject already holds the title, so the outlet links."""
    dialect = layout.dialect
    link = safety.safe_link(item.url)
    if link and len(link) > layout.link_limit:
        link = None
    label = dialect.label or dialect.escape
    outlet = item.outlet
    linked = link if dialect.inline_links else None
    lines = [dialect.escape(f"Update ({item.update})")] if item.update else []
    if not title_shown:
        text = title_text(item, layout.title_limit)
        title = label(text) if linked else dialect.escape(text)
        lines.append(dialect.strong(dialect.link(linked, title) if linked else title))
    if link and not linked:
        lines.append(link)
    outlet = item.outlet
    meta = [dialect.link(linked, label(outlet)) if title_shown and linked else dialect.escape(outlet)]
    meta.append(format_time(item.published, layout.zone))
    if item.language:
        meta.append(dialect.escape(item.language))
    lines.append(" · ".join(meta))
    lines.append(" · ".join(_match_line(dialect, m.watchlist, m.terms) for m in item.matches))
    if item.also_in:
        lines.append(dialect.escape("also in: " + ", ".join(item.also_in)))
    if snippets:
        lines.extend(dialect.quote(snippet_markup(dialect, s).strip()) for s in item.snippets)
    return dialect.newline.join(lines)


def title_text(item: AlertItem, limit: int = MAX_TITLE_CHARS) -> str:
    """The title as shown: on one line, cut at ``limit`` characters with "…"; "(untitled)" when empty."""
    return clip(item.title, limit) or "(untitled)"


def _match_line(dialect: Dialect, watchlist: str, terms: Sequence[str]) -> str:
    return dialect.escape(f"{watchlist}: {', '.join(terms)}")


def snippet_markup(dialect: Dialect, snippet: Snippet) -> str:
    """The snippet on one line, escaped, its highlights marked the dialect's way."""
    pieces = []
    for text, marked in snippet_runs(snippet):
        escaped = dialect.escape(text)
        pieces.append(_around_spaces(escaped, dialect.mark) if marked else escaped)
    return "".join(pieces)


def snippet_runs(snippet: Snippet) -> list[tuple[str, bool]]:
    """Split a snippet into (text, highlighted) runs, on one line. Marks are clipped, sorted and merged."""
    text = safety.one_line(snippet.text)
    if len(text) != len(snippet.text):  # collapsing whitespace moved the offsets: mark the original text
        text = snippet.text
    length = len(text)
    spans = sorted((max(0, a), min(length, b)) for a, b in snippet.marks if min(length, b) > max(0, a))
    runs: list[tuple[str, bool]] = []
    position = 0
    for start, end in spans:
        start = max(start, position)  # overlapping marks: the earlier one already covers this part
        if end <= start:
            continue
        if start > position:
            runs.append((text[position:start], False))
        runs.append((text[start:end], True))
        position = end
    if position < length:
        runs.append((text[position:], False))
    return [(safety.one_line(piece), marked) for piece, marked in runs]


def _around_spaces(text: str, wrap: Callable[[str], str]) -> str:
    # Emphasis cannot start or end with a space: keep the spaces outside the markers.
    core = text.strip()
    if not core:
        return text
    lead = " " if text[:1].isspace() else ""
    trail = " " if text[-1:].isspace() else ""
    return f"{lead}{wrap(core)}{trail}"


def _fit(
    channel: Channel,
    layout: Layout,
    head: list[str],
    blocks: list[str],
    items: Sequence[AlertItem],
    more: str,
    lead_in_subject: bool,
) -> str:
    """Join the blocks, leaving out those past the limit and saying how many were left out."""
    dialect = channel.dialect
    shown: list[str] = []
    for index, block in enumerate(blocks):
        left = len(blocks) - index - 1
        footer = [dialect.escape(more.format(count=left))] if left else []
        candidate = "\n\n".join([*head, *shown, block, *footer])
        if size(candidate) <= channel.limit:
            shown.append(block)
            continue
        if not shown:  # the first item alone is too long: without snippets, then cut
            compact = render_item(layout, items[0], title_shown=lead_in_subject, snippets=False)
            shown.append(compact)
        footer = [dialect.escape(more.format(count=len(blocks) - len(shown)))]
        if len(shown) == len(blocks):
            footer = []
        return _cut("\n\n".join([*head, *shown, *footer]), channel.limit)
    return "\n\n".join([*head, *shown])


def _cut(text: str, limit: int) -> str:
    """The last resort: cut a body that is still too long at a line, marked with "…"."""
    if size(text) <= limit:
        return text
    budget = limit - size(ELLIPSIS)
    cut = text.encode("utf-8", "surrogatepass")[:budget].decode("utf-8", "ignore")
    if "\n" in cut:
        cut = cut[: cut.rindex("\n")]
    return cut + ELLIPSIS
