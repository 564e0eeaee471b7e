"""An article URL reduced to its identity: the key that says two links are the same article.

Pure functions of strings, like ``models``: any stage may use them. The tracking parameters are courlan's
maintained list (``TRACKERS_RE``, the one trafilatura uses) plus the names outlets use that it misses.
"""

from __future__ import annotations

import html
import logging
import re
import sys
from functools import lru_cache
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

from courlan.clean import TRACKERS_RE
from url_normalize import url_normalize

log = logging.getLogger("monitor.urls")

# Query parameters that only say where a click came from, beyond courlan's list.
TRACKING_PARAMS = frozenset(
    {"fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "mc_cid", "mc_eid", "igshid"}
    | {"_ga", "_gl", "ref", "ref_src", "ref_url", "cmp", "cmpid", "ncid", "ocid", "sr_share", "spm"}
    | {"at_medium", "at_campaign", "xtor", "__twitter_impression", "_hsenc", "_hsmi", "mkt_tok", "vero_id"}
    | {"oly_enc_id", "taid", "smid", "s_cid", "icid", "intcmp"}
)
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hsa_", "at_")
# Parameters that ask for the AMP rendering of the same article.
AMP_PARAMS = frozenset({"amp", "outputtype", "amp_js_v", "usqp"})
_AMP_PATH = re.compile(r"(?:/amp|\.amp)(?=/|\.html?$|$)", re.IGNORECASE)
DEFAULT_PORTS = {"http": ":80", "https": ":443"}
HOSTS_KEPT = 4096  # hosts whose normalised form is kept (``_keep_normalised_hosts``)


def _keep_normalised_hosts() -> None:
    """Have url_normalize keep the normalised form of the hosts it has seen. It runs every label of a URL's
    host through idna's UTS 46 mapping and checks, in Python: about 40 % of canonical_url's CPU, for the few
    hosts a feed's links are on. Its host step (``normalize_host``) is a pure function of the host string,
    looked up in its module at each call: wrapped in a cache there, it gives the same answers (and raises
    the same errors, which are not kept). A url_normalize without that step is left as it is."""
    module: Any = sys.modules[url_normalize.__module__]
    step = getattr(module, "normalize_host", None)
    if callable(step) and not hasattr(step, "cache_info"):
        module.normalize_host = lru_cache(maxsize=HOSTS_KEPT)(step)


_keep_normalised_hosts()


def canonical_url(url: str, base: str | None = None) -> str:
    """The identity of an article URL.

    https for http, host lower-cased without ``www.``/``amp.``/``m.`` and default port, no fragment, no
    trailing slash, no tracking parameters, no AMP variant, the remaining query parameters sorted. Non-http
    URLs (tag:, urn:) come back resolved but otherwise untouched; a URL that does not parse comes back as
    it was given, with a warning, so the entry is never lost.
    """
    url = url.strip()
    if base:
        try:
            url = urljoin(base, url)
        except ValueError:
            log.warning("url %r cannot be resolved against %s; kept as it is", url, base)
            return url
    try:
        given = urlsplit(url)
    except ValueError:
        log.warning("url %r does not parse; kept as it is", url)
        return url
    if given.scheme.lower() not in ("http", "https"):
        return url
    if not given.netloc.strip():
        log.warning("url %r has no host; kept as it is", url)
        return url
    try:
        parts = urlsplit(url_normalize(url) or url)
        host = _bare_host(parts.hostname or "")
        port = parts.port
    except (ValueError, UnicodeError):
        log.warning("url %r does not parse; kept as it is", url)
        return url
    if not host:
        log.warning("url %r has no host; kept as it is", url)
        return url
    netloc = host if port in (None, 80, 443) else f"{host}:{port}"
    path = _without_amp(parts.path).rstrip("/") or "/"
    return urlunsplit(("https", netloc, path, _clean_query(parts.query), ""))


def same_site(a: str, b: str) -> bool:
    """Whether two URLs are on one site: the same host once ``www.``/``amp.``/``m.`` are set aside, or one a
    subdomain of the other's registered part (news.example.org and example.org)."""
    try:
        host_a = _bare_host(urlsplit(a).hostname or "")
        host_b = _bare_host(urlsplit(b).hostname or "")
    except ValueError:
        return False
    if not host_a or not host_b:
        return False
    return host_a == host_b or host_a.endswith("." + host_b) or host_b.endswith("." + host_a)


def _bare_host(host: str) -> str:
    host = host.lower().rstrip(".")
    for prefix in ("www.", "amp.", "m."):
        if host.startswith(prefix) and host.count(".") >= 2:
            return host[len(prefix) :]
    return host


def _without_amp(path: str) -> str:
    """/news/story/amp, /amp/news/story, /news/story.amp.html -> /news/story (and .html when it was there)."""
    return _AMP_PATH.sub("", path)


def _clean_query(query: str) -> str:
    kept = [p for p in query.split("&") if p and not _is_dropped(p.partition("=")[0])]
    return "&".join(sorted(kept))


def _is_dropped(name: str) -> bool:
    name = name.lower()
    return (
        name in TRACKING_PARAMS
        or name in AMP_PARAMS
        or name.startswith(TRACKING_PREFIXES)
        or TRACKERS_RE.search(name) is not None
    )


def article_key(entry_key: str, link: str | None, declared: str | None) -> str:
    """An article's key once its page is read: the page's declared canonical URL (``<link rel="canonical">``
    or og:url, resolved against the link) when it is on the link's own site, else the feed's key. A page
    may not claim another site's address: that would let it pose as another outlet's article."""
    if not link or not declared:
        return entry_key
    try:
        resolved = urljoin(link, html.unescape(declared.strip()))
    except ValueError:
        return entry_key
    if urlsplit(resolved).scheme.lower() not in ("http", "https") or not same_site(link, resolved):
        return entry_key
    return canonical_url(resolved)
