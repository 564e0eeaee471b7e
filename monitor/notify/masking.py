"""Hiding the secrets in apprise URLs before they reach a log, an error message or the database.

apprise's own ``url(privacy=True)`` hides passwords but not tokens passed as headers or query values
(``json://host/?+X-Token=...``), and it needs a URL it can parse. This works on any string.
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote, urlsplit

MASK = "***"

# Query keys whose values say where a message goes, not how to get in: kept so targets stay recognisable.
_PUBLIC_KEYS = frozenset(
    {"from", "to", "cc", "bcc", "name", "format", "mode", "smtp", "method", "overflow", "verify", "lang"}
)
# Path segments and hosts this long with letters and digits mixed are API keys, webhook ids, bot tokens.
_TOKEN_LIKE = re.compile(r"^(?=.*\d)(?=.*[A-Za-z])[\w\-:=+~]{16,}$|^[\w\-:=+~]{32,}$")


def mask_secrets(url: str) -> str:
    """``url`` with its password, query values (except address-like ones) and token-like parts replaced
    by ``***``. Never raises; a URL it cannot parse comes back as ``scheme://***``."""
    try:
        parts = urlsplit(url.strip())
        netloc = _mask_netloc(parts.netloc)
    except ValueError:
        scheme = url.partition("://")[0] if "://" in url else ""
        return f"{scheme}://{MASK}" if scheme.isalnum() else MASK
    path = "/".join(_mask_token(segment) for segment in parts.path.split("/"))
    query = "&".join(_mask_pair(key, value) for key, value in _query_pairs(parts.query))
    masked = f"{parts.scheme}://{netloc}{path}" if parts.scheme else f"{netloc}{path}"
    return f"{masked}?{query}" if query else masked


def secret_fragments(url: str) -> list[str]:
    """The pieces :func:`mask_secrets` hides, longest first, as written and unquoted, so they can also be
    removed from error messages that quote them."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return [url]
    userinfo, _, host = parts.netloc.rpartition("@")
    found = [userinfo.partition(":")[2]] if ":" in userinfo else []
    found += [segment for segment in [host, *parts.path.split("/")] if _TOKEN_LIKE.match(segment)]
    found += [value for key, value in _query_pairs(parts.query) if _is_secret_key(key)]
    with_unquoted = {f for piece in found if piece for f in (piece, unquote(piece), quote(piece, safe=""))}
    return sorted(with_unquoted, key=len, reverse=True)


def redact(text: str, url: str) -> str:
    """``text`` with every secret of ``url`` replaced by ``***``."""
    for fragment in secret_fragments(url):
        if len(fragment) >= 3:  # a one-letter "password" would shred the whole message
            text = text.replace(fragment, MASK)
    return text


def _mask_netloc(netloc: str) -> str:
    userinfo, at, host = netloc.rpartition("@")
    if ":" in userinfo:
        userinfo = userinfo.partition(":")[0] + ":" + MASK
    return f"{userinfo}{at}{_mask_token(host)}"


def _mask_token(segment: str) -> str:
    return MASK if _TOKEN_LIKE.match(segment) else segment


def _query_pairs(query: str) -> list[tuple[str, str]]:
    """Query pairs as written: apprise gives '+' (header) and '-' (parameter) prefixes a meaning that
    form-decoding would lose."""
    pairs = [pair.partition("=") for pair in query.split("&") if pair]
    return [(key, value) for key, _, value in pairs]


def _mask_pair(key: str, value: str) -> str:
    return f"{key}={MASK}" if _is_secret_key(key) and value else f"{key}={value}"


def _is_secret_key(key: str) -> bool:
    return unquote(key).lower() not in _PUBLIC_KEYS
