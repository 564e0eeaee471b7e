"""Rendering hits into one alert message: subject, plain text, HTML (email) and Markdown (chat).

Templates live in ``monitor/notify/templates/``. The built-in ones get *views* of the hits whose untrusted
strings are already made safe for the format (HTML is escaped by Jinja2's autoescaping), so a template
cannot forget to escape.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2

from monitor.errors import ConfigError
from monitor.models import Hit, Snippet
from monitor.notify import safety


@dataclass(frozen=True, slots=True)
class Message:
    """One alert, in every format a target may want. An empty ``html`` or ``markdown`` means "use text"."""

    title: str  # the subject line
    text: str
    html: str
    markdown: str


@dataclass(frozen=True, slots=True)
class HitView:
    """What a template sees of one hit. Strings are safe for the template's format, except in HTML
    templates, where autoescaping does it."""

    title: str
    url: str | None  # http(s) only; None when the article has no usable link
    outlet: str  # the site name, or the feed name when the site gave none
    published: str  # e.g. "2026-11-03 14:05 UTC"
    published_at: datetime
    watchlist: str
    matched: tuple[str, ...]
    snippets: tuple[str, ...]  # highlights already marked up for the format (HTML: empty, use runs)
    runs: tuple[tuple[tuple[str, bool], ...], ...]  # per snippet: (text, highlighted) pieces
    story: int | None = None  # the story's id: copies of one story are listed once
    also_in: tuple[str, ...] = ()  # the story's other outlets
    update: str = ""  # for a later copy that adds to a story: what is new, e.g. "new terms: Baykar"


@dataclass(frozen=True, slots=True)
class WatchlistGroup:
    name: str
    hits: tuple[HitView, ...]


def render_message(
    notifier: str,
    hits: Sequence[Hit],
    *,
    digest: bool = False,
    template: Path | None = None,
    now: datetime | None = None,
) -> Message:
    """Render ``hits`` for ``notifier``. Hits are shown newest first, grouped by watchlist.

    With ``template`` (a user's Jinja2 file) the body is that template's output, used as plain text for
    every target (``html`` and ``markdown`` stay empty). See :func:`render_user_template` for its variables.
    """
    now = now or datetime.now(UTC)
    subject = make_subject(notifier, hits, digest=digest)
    if template is not None:
        text = render_user_template(template, notifier, hits, subject=subject, digest=digest, now=now)
        return Message(title=subject, text=text, html="", markdown="")
    context: dict[str, Any] = {"notifier": notifier, "digest": digest, "now": now}
    return Message(
        title=subject,
        text=_render("alert.txt", _views(hits, plain_snippet, safety.plain), subject=subject, **context),
        html=_render("alert.html", _views(hits, _no_snippet, str), subject=subject, **context),
        markdown=_render(
            "alert.md",
            _views(hits, markdown_snippet, safety.markdown),
            subject=safety.markdown(subject),
            **context,
        ),
    )


def make_subject(notifier: str, hits: Sequence[Hit], *, digest: bool = False) -> str:
    """'arms-exports: 3 new articles', 'a, b: 5 new articles', 'Digest for desk: 12 articles (a, b)'."""
    watchlists = ", ".join(watchlist_names(hits))
    if digest:
        return f"Digest for {notifier}: {_articles(len(hits))} ({watchlists})"
    return f"{watchlists}: {len(hits)} new {_articles(len(hits)).split(' ', 1)[1]}"


def watchlist_names(hits: Sequence[Hit]) -> list[str]:
    """Watchlist names in order of first appearance; names come from our config, not from feeds."""
    return list(dict.fromkeys(hit.watchlist for hit in hits))


def _articles(count: int) -> str:
    return f"{count} article" if count == 1 else f"{count} articles"


def format_time(moment: datetime) -> str:
    """A readable UTC time; naive datetimes are taken to be UTC already (the store's convention)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


# --- snippets ----------------------------------------------------------------------------------------


def snippet_parts(snippet: Snippet) -> list[tuple[str, bool]]:
    """Split a snippet into (text, highlighted) runs. Marks are clipped, sorted and merged first."""
    length = len(snippet.text)
    spans = sorted((max(0, a), min(length, b)) for a, b in snippet.marks if min(length, b) > max(0, a))
    parts: list[tuple[str, bool]] = []
    position = 0
    for start, end in spans:
        start = max(start, position)  # overlapping marks: the earlier one already covers this part
        if end <= start:
            continue
        if start > position:
            parts.append((snippet.text[position:start], False))
        parts.append((snippet.text[start:end], True))
        position = end
    if position < length:
        parts.append((snippet.text[position:], False))
    return parts


def _no_snippet(snippet: Snippet) -> str:
    return ""


def markdown_snippet(snippet: Snippet) -> str:
    return "".join(
        _emphasise(safety.markdown(t), "**") if m else safety.markdown(t) for t, m in _parts(snippet)
    )


def plain_snippet(snippet: Snippet) -> str:
    return "".join(_emphasise(safety.plain(t), "*") if m else safety.plain(t) for t, m in _parts(snippet))


def _parts(snippet: Snippet) -> list[tuple[str, bool]]:
    return [(safety.one_line(text), marked) for text, marked in snippet_parts(snippet)]


def _emphasise(text: str, marker: str) -> str:
    # Markdown emphasis cannot start or end with a space: keep the spaces outside the markers.
    core = text.strip()
    if not core:
        return text
    lead = " " if text[:1].isspace() else ""
    trail = " " if text[-1:].isspace() else ""
    return f"{lead}{marker}{core}{marker}{trail}"


# --- views and templates -----------------------------------------------------------------------------


def _views(
    hits: Sequence[Hit], snippet: Callable[[Snippet], str], clean: Callable[[str], str]
) -> list[WatchlistGroup]:
    """Hits grouped by watchlist (groups in order of their newest hit), each group newest first."""
    ordered = sorted(hits, key=lambda hit: (_utc(hit.published), hit.id), reverse=True)
    groups: dict[str, list[HitView]] = {}
    listed: set[tuple[str, int]] = set()
    for hit in ordered:
        if hit.story is not None:
            if (hit.watchlist, hit.story) in listed:
                continue  # each story once per watchlist; its newest copy stands for it
            listed.add((hit.watchlist, hit.story))
        groups.setdefault(hit.watchlist, []).append(_view(hit, snippet, clean))
    return [WatchlistGroup(clean(name), tuple(views)) for name, views in groups.items()]


def _view(hit: Hit, snippet: Callable[[Snippet], str], clean: Callable[[str], str]) -> HitView:
    return HitView(
        title=clean(hit.title.strip() or "(untitled)").strip(),
        url=safety.safe_link(hit.url),
        outlet=clean(hit.sitename or hit.feed).strip(),
        published=format_time(hit.published),
        published_at=hit.published,
        watchlist=clean(hit.watchlist),
        matched=tuple(clean(term) for term in hit.matched),
        snippets=tuple(snippet(s) for s in hit.snippets),
        runs=tuple(tuple((clean(t), m) for t, m in _parts(s)) for s in hit.snippets),
        story=hit.story,
        also_in=tuple(clean(outlet).strip() for outlet in hit.outlets),
        update=clean(story_update(hit)),
    )


def story_update(hit: Hit) -> str:
    """What a later copy adds to a story that already alerted, in words; empty for a story's first alert."""
    if hit.new_watchlist:
        return f"the story now matches {hit.watchlist}"
    if hit.new_terms:
        return "new: " + ", ".join(hit.new_terms)
    return ""


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


_ENVIRONMENT = jinja2.Environment(
    loader=jinja2.PackageLoader("monitor.notify", "templates"),
    autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


def _render(name: str, groups: list[WatchlistGroup], **context: Any) -> str:
    count = sum(len(group.hits) for group in groups)
    # Services strip trailing whitespace anyway; without it the body sent is exactly the one rendered.
    return _ENVIRONMENT.get_template(name).render(groups=groups, count=count, **context).rstrip()


def render_user_template(
    path: Path, notifier: str, hits: Sequence[Hit], *, subject: str, digest: bool, now: datetime
) -> str:
    """Render a user's Jinja2 template (no autoescaping; its output is sent as plain text).

    Variables:

    - ``subject`` (str): the subject line, e.g. "arms-exports: 3 new articles".
    - ``notifier`` (str): the notifier's name. ``digest`` (bool): whether this is a digest.
    - ``now`` (datetime, UTC): the time of rendering. ``count`` (int): the number of hits.
    - ``groups``: one per watchlist, in order of their newest hit, each with ``name`` and ``hits``.
    - ``hits``: all hits, newest first. Each hit has ``title``, ``url`` (http(s) or None), ``outlet``,
      ``published`` (str, "2026-11-03 14:05 UTC"), ``published_at`` (datetime), ``watchlist``,
      ``matched`` (tuple of terms) and ``snippets`` (tuple of str, highlights as ``*term*``).

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
    groups = _views(hits, plain_snippet, safety.plain)
    flat = sorted((h for g in groups for h in g.hits), key=lambda h: _utc(h.published_at), reverse=True)
    try:
        template = environment.get_template(path.name)
    except jinja2.TemplateNotFound:
        raise ConfigError([f"{path}: template file not found"]) from None
    except jinja2.TemplateSyntaxError as error:
        raise ConfigError([f"{path}:{error.lineno}: template syntax error: {error.message}"]) from None
    try:
        return template.render(
            subject=subject,
            notifier=notifier,
            digest=digest,
            now=now,
            count=len(flat),
            groups=groups,
            hits=flat,
        )
    except jinja2.TemplateError as error:  # e.g. an unknown variable: name the file, not a stack trace
        raise ConfigError([f"{path}: template error: {error}"]) from None
