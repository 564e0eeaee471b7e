"""Hiding the secrets in URLs (apprise targets, database URLs) before they reach a log, a message or a screen.

apprise's own ``url(privacy=True)`` hides passwords but not tokens passed as headers, query values or path
parts (``json://host/?+X-Token=...``, ``tgram://bottoken/chatid``). This works on any string and never raises.
Like ``models`` and ``errors``, it imports nothing else of the project, so every part may use it.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote, quote_plus, unquote

MASK = "****"
# Schemes whose host is a real host and whose path is not a credential. Any other scheme is token-style
# (tgram://bottoken/chatid, slack://A/B/C): its user, non-hostname host and path segments are all masked.
_WEB_SCHEMES = ("http", "https", "json", "jsons", "xml", "xmls", "form", "forms", "file")
_MAIL_CHAT_SCHEMES = ("mailto", "mailtos", "matrix", "matrixs")
_DATABASE_SCHEMES = ("sqlite", "postgresql", "postgres", "mysql", "mariadb", "mssql", "oracle")
_HOST_SCHEMES = frozenset((*_WEB_SCHEMES, *_MAIL_CHAT_SCHEMES, *_DATABASE_SCHEMES))
_SECRET_NAME = re.compile(
    r"token|key|secret|pass|pwd|auth|sig|cred|session|cookie|bearer|hash|hmac|otp|private|code", re.I
)
# A long run of letters and digits mixed is very likely a token whatever its parameter is called.
_RANDOM_LOOKING = re.compile(r"(?=.*\d)(?=.*[A-Za-z])[A-Za-z0-9_\-.:~+/=]{20,}")
# A path part of a web URL that is one long unbroken run of letters and digits is a webhook key, not a slug
# (slugs have dashes between their words).
_TOKEN_SEGMENT = re.compile(
    r"(?=.*\d)(?=.*[A-Za-z])[A-Za-z0-9_]{16,}|(?=.*[a-z])(?=.*[A-Z])[A-Za-z0-9_]{20,}"
)
_HOSTNAME = re.compile(r"localhost|\[[0-9a-fA-F:.]+\]|[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")


def mask_url(url: str) -> str:
    """``url`` with its secrets replaced by ``****``: the password, token-looking query and header values,
    and the user, host and path of token-style notification schemes. Safe to log or show."""
    scheme, sep, rest = url.partition("://")
    if not sep or not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", scheme):
        return MASK
    rest, qmark, query = rest.partition("?")
    netloc, slash, path = rest.partition("/")
    base_scheme = scheme.lower().split("+")[0]
    host_style = base_scheme in _HOST_SCHEMES
    masked = f"{scheme}://{_mask_netloc(netloc, host_style)}{slash}"
    mask_segment = _mask_token_segment if host_style else _mask_path_segment
    masked += "/".join(mask_segment(part) for part in path.split("/"))
    return masked + qmark + "&".join(_mask_query_item(item) for item in query.split("&")) if qmark else masked


def _mask_netloc(netloc: str, host_style: bool) -> str:
    userinfo, at, hostport = netloc.rpartition("@")
    user, colon, _password = userinfo.partition(":")
    if not host_style:
        user = MASK if user else ""
        host, port_colon, port = hostport.rpartition(":") if _has_port(hostport) else (hostport, "", "")
        hostport = (host if _HOSTNAME.fullmatch(host) else MASK if host else "") + port_colon + port
    return f"{user}{colon and ':' + MASK}{at}{hostport}"


def _has_port(hostport: str) -> bool:
    return re.fullmatch(r".+:\d{1,5}", hostport) is not None


def _mask_token_segment(segment: str) -> str:
    return MASK if _TOKEN_SEGMENT.fullmatch(segment) else segment


def _mask_path_segment(segment: str) -> str:
    # Slack-style "#channel" and "@user" targets name places, not credentials.
    return segment if not segment or segment[0] in "#@" else MASK


def _mask_query_item(item: str) -> str:
    name, eq, value = item.partition("=")
    if eq and value and (_SECRET_NAME.search(name) or _RANDOM_LOOKING.fullmatch(value)):
        return f"{name}={MASK}"
    return item


def secret_fragments(url: str) -> list[str]:
    """The pieces :func:`mask_url` hides, longest first, as written and (un)quoted, so that they can also be
    removed from error messages that quote them."""
    masked = mask_url(url)
    if masked == MASK:
        return [url]
    # The masked form is the URL with some pieces swapped for MASK: matching it back against the URL, with
    # each MASK as a group, recovers exactly those pieces.
    pattern = "(.+?)".join(re.escape(part) for part in masked.split(MASK))
    found = re.fullmatch(pattern, url)
    pieces = [piece for piece in (found.groups() if found else (url,)) if piece]
    pieces += [part for piece in pieces for part in piece.split(":") if len(part) >= 6 and part != piece]
    variants = {v for piece in pieces for v in (piece, unquote(piece), quote(piece, safe=""))}
    return sorted(variants, key=len, reverse=True)


def redact(text: str, url: str) -> str:
    """``text`` with every secret of ``url`` replaced by ``****``."""
    for fragment in secret_fragments(url):
        if len(fragment) >= 3:  # a one-letter "password" would shred the whole message
            text = text.replace(fragment, MASK)
    return text


# --- masking by provenance ----------------------------------------------------------------------------------
# Every value that came from a ${VAR} in the config (and every secret piece of a configured URL) is remembered
# here for the life of the process, and masked in everything printed or logged, whatever it looks like.

_MIN_SECRET = 3  # shorter values would shred every message they happen to occur in
_known: set[str] = set()
_pattern: re.Pattern[str] | None = None


def remember(*values: str) -> None:
    """Mask ``values`` (as written, percent-encoded and JSON-escaped) in everything :func:`mask_known` sees
    from now on."""
    global _pattern
    variants = {
        form
        for value in values
        if len(value) >= _MIN_SECRET
        for form in (
            value,
            quote(value, safe=""),
            quote(value, safe="/"),
            quote_plus(value),
            json.dumps(value, ensure_ascii=False)[1:-1],
        )
    }
    if variants - _known:
        _known.update(variants)
        ordered = sorted(_known, key=len, reverse=True)  # the longest first, so no piece is left behind
        _pattern = re.compile("|".join(re.escape(value) for value in ordered))


def remember_url(url: str) -> None:
    """Remember the secret pieces of a configured notification URL (its password, tokens)."""
    remember(*secret_fragments(url))


def remember_password(url: str) -> None:
    """Remember the password of a URL (a database URL, whose path is a plain file name)."""
    userinfo = url.partition("://")[2].split("/", 1)[0].rpartition("@")[0]
    _user, colon, password = userinfo.partition(":")
    if colon and password:
        remember(password, unquote(password))


def forget_all() -> None:
    """Forget every remembered value (tests)."""
    global _pattern
    _known.clear()
    _pattern = None


def mask_known(text: str) -> str:
    """``text`` with every remembered secret replaced by ``****``."""
    return text if _pattern is None else _pattern.sub(MASK, text)


def mask_data(value: Any) -> Any:
    """A copy of a JSON-like value with :func:`mask_known` applied to every string in it."""
    if isinstance(value, str):
        return mask_known(value)
    if isinstance(value, dict):
        return {key: mask_data(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [mask_data(item) for item in value]
    return value
