"""Making untrusted feed text (titles, snippets, outlet names, URLs) harmless in each output format.

Feeds are written by strangers. Nothing they write may become a link, an image, markup or a mention that
pings a whole channel: HTML is handled by Jinja2's autoescaping; this module covers the rest.
"""

from __future__ import annotations

import html
import re
from urllib.parse import quote, urlsplit

from monitor.untrusted import printable

ZERO_WIDTH_SPACE = "\u200b"

# CommonMark lets a backslash escape any ASCII punctuation; these are the ones that can start or end
# inline markup anywhere: emphasis, links, images, tables, code, strike-through, HTML and entities.
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()!|~<>&])")
# These only make a block (heading, list, quote) at the start of a line.
_MARKDOWN_LINE_START = re.compile(r"^(\s*)([-+#>=]|\d+(?=[.)]))")

# '@channel', '@here', '@everyone', '@user' (Slack, Discord, Telegram, Matrix) and Slack's '<!channel>',
# '<@U123>', '<#C123>': a zero-width space after '@' or after '<' stops the service from resolving them.
_MENTION = re.compile(r"([@＠])")
_SLACK_SPECIAL = re.compile(r"<(?=[!@#])")

# Chat services turn bare URLs into links; only the article link we put there may be one.
_BARE_LINK = re.compile(r"(?i)(://|\bwww\.)")

_SAFE_SCHEMES = ("http", "https")
_WHITESPACE = re.compile(r"\s+")


def neutralise_mentions(text: str) -> str:
    """Stop '@everyone'-style mentions and Slack control sequences from notifying anybody."""
    text = _SLACK_SPECIAL.sub("<" + ZERO_WIDTH_SPACE, text)
    return _MENTION.sub(r"\1" + ZERO_WIDTH_SPACE, text)


def break_bare_links(text: str) -> str:
    """Stop chat clients from auto-linking URLs written in untrusted text."""
    return _BARE_LINK.sub(lambda m: m.group(1)[:-1] + ZERO_WIDTH_SPACE + m.group(1)[-1], text)


def plain(text: str) -> str:
    """Untrusted text made safe for plain-text bodies that a chat service may still interpret."""
    return break_bare_links(neutralise_mentions(one_line(text)))


def markdown(text: str) -> str:
    """Untrusted text made inert for Markdown: every special character escaped, mentions and URLs broken."""
    escaped = _MARKDOWN_SPECIALS.sub(r"\\\1", plain(text))
    return _MARKDOWN_LINE_START.sub(_escape_line_start, escaped)


# Discord's Markdown: backslash escapes work, but only for the characters it gives a meaning to; others
# ('\\&', '\\.') would be shown with their backslash.
_DISCORD_SPECIALS = re.compile(r"([\\`*_~|\[\]()<>])")
_DISCORD_LINE_START = re.compile(r"^(\s*)([-+#>]|\d+(?=[.)]))")

# Slack's mrkdwn and Teams' card Markdown have no escape character: formatting characters become
# look-alikes that format nothing, and a link's "](" is split so it is no link.
_LOOKALIKES = str.maketrans({"*": "\u2217", "_": "\u02cd", "~": "\u223c", "`": "\u02cb"})
# apprise turns "!word>" and "@word>" anywhere in a Slack body into Slack's "<!word>" and "<@word>" (which
# can ping), so '!' and '@' become look-alikes there too.
_SLACK_LOOKALIKES = str.maketrans(
    {"*": "\u2217", "_": "\u02cd", "~": "\u223c", "`": "\u02cb", "!": "\u01c3", "@": "\uff20"}
)
_LINK_JOIN = re.compile(r"\](?=\s*\()")


def discord(text: str) -> str:
    """Untrusted text made inert for Discord: only the characters its Markdown reads are escaped."""
    escaped = _DISCORD_SPECIALS.sub(r"\\\1", plain(text))
    return _DISCORD_LINE_START.sub(_escape_line_start, escaped)


def slack(text: str) -> str:
    """Untrusted text made inert for Slack mrkdwn. ``&``, ``<`` and ``>`` are escaped by apprise when it
    sends a body as it is; a ``>`` would end a link's label there, so inside labels see :func:`slack_label`."""
    return _LINK_JOIN.sub("]" + ZERO_WIDTH_SPACE, plain(text).translate(_SLACK_LOOKALIKES))


def slack_label(text: str) -> str:
    """A link label for Slack's ``<url|label>``: ``>`` and ``|`` would end it early."""
    return slack(text).replace(">", "\u203a").replace("|", "\u2223")


def teams(text: str) -> str:
    """Untrusted text made inert for the Markdown of a Teams (Adaptive Card) text block."""
    return _LINK_JOIN.sub("]" + ZERO_WIDTH_SPACE, plain(text).translate(_LOOKALIKES))


def teams_label(text: str) -> str:
    """A link label for Teams: brackets inside a label would confuse where the link ends."""
    return teams(text).replace("[", "\uff3b").replace("]", "\uff3d")


def telegram(text: str) -> str:
    """Untrusted text for Telegram's HTML mode, which wants exactly ``&``, ``<`` and ``>`` escaped."""
    return html.escape(plain(text), quote=False)


def _escape_line_start(match: re.Match[str]) -> str:
    space, marker = match.group(1), match.group(2)
    if marker[0].isdigit():  # "1986. A year" would start an ordered list: escape the dot after it
        return f"{space}{marker}\\"
    return f"{space}\\{marker}"


def one_line(text: str) -> str:
    """Collapse whitespace runs (newlines included) to one space, so untrusted text cannot start a new
    Markdown block (heading, list, quote). Edge spaces stay, as one space, so pieces still join up.
    Control characters, terminal escape sequences and bidi overrides go first."""
    return _WHITESPACE.sub(" ", printable(text))


def safe_link(url: str | None) -> str | None:
    """The article URL when it is http(s), with characters that could end a Markdown link percent-encoded.

    ``javascript:``, ``data:`` and other schemes give None: the hit is shown without a link.
    """
    if not url:
        return None
    url = url.strip()
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return None
    if scheme not in _SAFE_SCHEMES:
        return None
    # Keep URL syntax, encode everything that could close "(...)" or "<...>" or break a line.
    return quote(url, safe="/:?#[]@!$&'*+,;=%-._~")
