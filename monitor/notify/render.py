"""Rendering alert items into one message: a subject for the lock screen, and a body for each kind of
service (see :mod:`monitor.notify.channels`): the email's HTML, plain text, and each chat dialect.

The email HTML comes from ``templates/alert.html`` with Jinja2's autoescaping; its highlights carry
hidden « » so the plain-text part that mail clients fall back to still shows what matched.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2

from monitor.errors import ConfigError
from monitor.models import Hit
from monitor.notify import safety
from monitor.notify.channels import CHANNELS, clip, render_chat, snippet_runs, title_text
from monitor.notify.items import MAX_SNIPPETS, AlertItem, alert_items, format_time

MAX_SUBJECT_TITLE_CHARS = 100
MAX_SUBJECT_CHARS = 200
MORE = "+{count} more not shown"


@dataclass(frozen=True, slots=True)
class Body:
    """What one kind of service is sent: the title apprise gets (empty: none), the body, and the format
    apprise is told (None: the body is sent exactly as it is)."""

    title: str
    body: str
    format: str | None


@dataclass(frozen=True, slots=True)
class Message:
    """One alert. ``text`` is the plain body, ``html`` the email's; ``bodies`` has one body per kind of
    service (the names of ``channels.CHANNELS``). A user template's message has only ``text``."""

    title: str  # the subject line
    text: str
    html: str
    bodies: Mapping[str, Body] = field(default_factory=dict)

    def body_for(self, channel: str) -> Body:
        """The body for a kind of service; else the HTML for email, or the plain text, which apprise then
        escapes for the service."""
        if channel in self.bodies:
            return self.bodies[channel]
        if channel == "email" and self.html:
            return Body(self.title, self.html, "html")
        return Body(self.title, self.text, "text")


def render_message(
    notifier: str,
    hits: Sequence[Hit],
    *,
    digest: bool = False,
    template: Path | None = None,
    now: datetime | None = None,
    timezone: str = "UTC",
    max_snippets: int = MAX_SNIPPETS,
) -> Message:
    """Render ``hits`` for ``notifier``: one item per article, newest first, times in ``timezone``.

    With ``template`` (a user's Jinja2 file) the body is that template's output, sent as plain text to
    every target. See :func:`render_user_template` for its variables.
    """
    items = alert_items(hits, max_snippets=max_snippets)
    return render_items(notifier, items, digest=digest, template=template, now=now, timezone=timezone)


def render_items(
    notifier: str,
    items: Sequence[AlertItem],
    *,
    digest: bool = False,
    template: Path | None = None,
    now: datetime | None = None,
    timezone: str = "UTC",
) -> Message:
    """Render already grouped items (one per article or story) in the given order."""
    now = now or datetime.now(UTC)
    zone = ZoneInfo(timezone)
    subject = make_subject(notifier, items, digest=digest)
    if template is not None:
        text = render_user_template(
            template, notifier, items, subject=subject, digest=digest, now=now, zone=zone
        )
        return Message(title=subject, text=text, html="")
    empty = "No new articles."
    bodies = {
        name: Body(
            clip(channel.dialect.escape(subject), channel.title_limit) if channel.shows_title else "",
            render_chat(channel, items, subject, zone=zone, more=MORE, empty=empty),
            channel.body_format,
        )
        for name, channel in CHANNELS.items()
    }
    html = _render_html(items, subject=subject, heading=heading(items, digest=digest), zone=zone, now=now)
    bodies["email"] = Body(subject, html, None)
    return Message(title=subject, text=bodies["text"].body, html=html, bodies=bodies)


# --- subjects ----------------------------------------------------------------------------------------


def make_subject(notifier: str, items: Sequence[AlertItem], *, digest: bool = False) -> str:
    """What a lock screen shows: the lead item's title, the watchlists, then how many more.

    'France sells Rafale jets · arms-exports, french-desk · +2 more'; a digest starts with 'Digest: '.
    """
    prefix = "Digest: " if digest else ""
    if not items:
        return f"{prefix}no new articles for {notifier}"
    lead = clip(title_text(items[0]), MAX_SUBJECT_TITLE_CHARS)
    parts = [lead, ", ".join(watchlist_names(items))]
    if len(items) > 1:
        parts.append(f"+{len(items) - 1} more")
    return clip(prefix + " · ".join(parts), MAX_SUBJECT_CHARS)


def heading(items: Sequence[AlertItem], *, digest: bool = False) -> str:
    """'3 new articles · arms-exports, french-desk': counts articles (or stories), not hits."""
    count = len(items)
    noun = "article" if count == 1 else "articles"
    kind = "in this digest" if digest else "new"
    text = f"{count} {noun} {kind}" if digest else f"{count} {kind} {noun}"
    names = ", ".join(watchlist_names(items))
    return f"{text} · {names}" if names else text


def watchlist_names(items: Sequence[AlertItem]) -> list[str]:
    """Watchlist names in order of first appearance; names come from our config, not from feeds."""
    return list(dict.fromkeys(name for item in items for name in item.watchlists))


# --- the email's HTML --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ItemView:
    """What the HTML template sees of one item; it autoescapes every string. Mentions and bare URLs in
    feed text are defused too: the plain-text part made from this HTML must not link or ping."""

    title: str
    url: str | None  # http(s) only; None when the article has no usable link
    outlet: str
    published: str  # in the notifier's time zone, e.g. "2026-11-03 15:05 CET"
    language: str | None
    also_in: tuple[str, ...]
    matches: tuple[tuple[str, str], ...]  # (watchlist, "term, term")
    snippets: tuple[tuple[tuple[str, bool], ...], ...]  # per snippet: (text, highlighted) runs


def _item_view(item: AlertItem, zone: ZoneInfo) -> ItemView:
    return ItemView(
        title=safety.plain(title_text(item)),
        url=safety.safe_link(item.url),
        outlet=safety.plain(item.outlet),
        published=format_time(item.published, zone),
        language=item.language,
        also_in=tuple(safety.plain(outlet) for outlet in item.also_in),
        matches=tuple((m.watchlist, ", ".join(m.terms)) for m in item.matches),
        snippets=tuple(tuple((safety.plain(t), m) for t, m in snippet_runs(s)) for s in item.snippets),
    )


_ENVIRONMENT = jinja2.Environment(
    loader=jinja2.PackageLoader("monitor.notify", "templates"),
    autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


def _render_html(items: Sequence[AlertItem], *, zone: ZoneInfo, **context: Any) -> str:
    views = [_item_view(item, zone) for item in items]
    return _ENVIRONMENT.get_template("alert.html").render(items=views, **context).rstrip()


# --- a user's template -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TemplateItem:
    title: str
    url: str | None
    outlet: str
    published: str
    published_at: datetime
    watchlist: str  # every watchlist it matched, "arms-exports, french-desk"
    watchlists: tuple[str, ...]
    matched: tuple[str, ...]
    snippets: tuple[str, ...]
    runs: tuple[tuple[tuple[str, bool], ...], ...]
    language: str | None
    also_in: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TemplateGroup:
    name: str
    hits: tuple[TemplateItem, ...]


def _template_item(item: AlertItem, zone: ZoneInfo) -> TemplateItem:
    return TemplateItem(
        title=safety.plain(title_text(item)),
        url=safety.safe_link(item.url),
        outlet=safety.plain(item.outlet),
        published=format_time(item.published, zone),
        published_at=item.published,
        watchlist=", ".join(item.watchlists),
        watchlists=item.watchlists,
        matched=tuple(dict.fromkeys(term for m in item.matches for term in m.terms)),
        snippets=tuple(_plain_snippet(s) for s in item.snippets),
        runs=tuple(tuple((safety.plain(t), m) for t, m in snippet_runs(s)) for s in item.snippets),
        language=item.language,
        also_in=tuple(safety.plain(outlet) for outlet in item.also_in),
    )


def _plain_snippet(snippet: Any) -> str:
    runs = snippet_runs(snippet)
    return "".join(f"«{safety.plain(t)}»" if marked else safety.plain(t) for t, marked in runs)


def render_user_template(
    path: Path,
    notifier: str,
    items: Sequence[AlertItem],
    *,
    subject: str,
    digest: bool,
    now: datetime,
    zone: ZoneInfo,
) -> str:
    """Render a user's Jinja2 template (no autoescaping; its output is sent as plain text).

    Variables:

    - ``subject`` (str): the subject line. ``heading`` (str): "3 new articles · arms-exports".
    - ``notifier`` (str): the notifier's name. ``digest`` (bool): whether this is a digest.
    - ``now`` (datetime, UTC): the time of rendering. ``count`` (int): the number of articles.
    - ``hits``: one per article, newest first. Each has ``title``, ``url`` (http(s) or None), ``outlet``,
      ``published`` (str, in the notifier's time zone), ``published_at`` (datetime), ``watchlist`` (the
      names joined), ``watchlists``, ``matched`` (the terms of every watchlist), ``snippets`` (highlights
      as ``«term»``), ``runs``, ``language`` (or None) and ``also_in`` (other outlets of the story).
    - ``groups``: one per watchlist, in order of first appearance, each with ``name`` and ``hits``.

    Text from feeds arrives with '@' mentions and bare URLs defused, on one line each.
    A missing file, a syntax error or an unknown variable raises ConfigError naming the file.
    """
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(path.parent),
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    try:
        template = environment.get_template(path.name)
    except jinja2.TemplateNotFound:
        raise ConfigError([f"{path}: template file not found"]) from None
    except jinja2.TemplateSyntaxError as error:
        raise ConfigError([f"{path}:{error.lineno}: template syntax error: {error.message}"]) from error
    views = [_template_item(item, zone) for item in items]
    groups = [
        TemplateGroup(name, tuple(v for v in views if name in v.watchlists))
        for name in watchlist_names(items)
    ]
    try:
        return template.render(
            subject=subject,
            heading=heading(items, digest=digest),
            notifier=notifier,
            digest=digest,
            now=now,
            count=len(items),
            hits=views,
            groups=groups,
        )
    except jinja2.TemplateError as error:  # e.g. an unknown variable: name the file, not a stack trace
        raise ConfigError([f"{path}: template error: {error}"]) from error
