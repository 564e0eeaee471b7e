"""A watchlist's latest hits as an Atom 1.0 feed (RFC 4287), for feed readers.

The document is built with lxml, so every stored string (feed titles are hostile input) is text in the XML,
never markup; characters XML cannot carry are dropped. Ids are stable: a feed's from its watchlist's name, an
entry's from the watchlist and the article, so a reader never sees an entry twice. The self link never carries
the token a reader gave."""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Sequence
from datetime import datetime
from urllib.parse import urlencode

from lxml import etree
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from monitor.models import Hit
from monitor.redact import mask_known
from monitor.store.archive import HitRecord
from monitor.store.listing import HitListing
from monitor.store.review import HitFilter
from monitor.web.access import require_reader
from monitor.web.reading import reading_store
from monitor.web.state import desk

ATOM = "http://www.w3.org/2005/Atom"
MEDIA_TYPE = "application/atom+xml; charset=utf-8"
ENTRIES = 50  # the newest hits a feed carries
ID_SPACE = uuid.UUID("7b4c1f0e-3f55-5b8e-9a51-8d3f0f6a2c11")  # fixed: ids must not change between versions
# What XML 1.0 cannot carry at all: C0 controls but tab, newline and carriage return; surrogates; U+FFFE/FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(value: str) -> str:
    """``value`` as XML character data can hold it, with remembered secrets masked."""
    return mask_known(_NOT_XML.sub("", value))


def feed_id(watchlist: str) -> str:
    return f"urn:uuid:{uuid.uuid5(ID_SPACE, 'watchlist/' + watchlist)}"


def entry_id(hit: Hit) -> str:
    """One id per article and watchlist: it outlives a re-match that gives the hit a new number."""
    return f"urn:uuid:{uuid.uuid5(ID_SPACE, f'hit/{hit.watchlist}/{hit.article_id}')}"


def stamp(moment: datetime) -> str:
    """An RFC 3339 date-time in UTC, as Atom wants it."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _add(parent: etree._Element, tag: str, text: str | None = None, **attributes: str) -> etree._Element:
    element = etree.SubElement(parent, f"{{{ATOM}}}{tag}", {k: xml_text(v) for k, v in attributes.items()})
    if text is not None:
        element.text = xml_text(text)
    return element


def summary(hit: Hit) -> str:
    """What matched and where: the terms, then each snippet."""
    lines = [f"matched: {', '.join(hit.matched)}"]
    if hit.outlets:
        lines.append(f"also in: {', '.join(hit.outlets)}")
    lines += [f"{snippet.field}: …{' '.join(snippet.text.split())}…" for snippet in hit.snippets]
    return "\n".join(lines)


def feed_document(
    watchlist: str, records: Sequence[HitRecord], *, self_url: str, desk_url: str, now: datetime
) -> bytes:
    """The Atom document of ``records`` (newest first), as UTF-8 bytes with an XML declaration."""
    root = etree.Element(f"{{{ATOM}}}feed", nsmap={None: ATOM})
    _add(root, "id", feed_id(watchlist))
    _add(root, "title", f"{watchlist}: hits")
    _add(root, "subtitle", f"The latest {ENTRIES} articles the watchlist {watchlist} matched")
    updated = max((r.hit.found_at for r in records), default=now)
    _add(root, "updated", stamp(updated))
    _add(_add(root, "author"), "name", "monitor")
    _add(root, "generator", "monitor")
    _add(root, "link", rel="self", type="application/atom+xml", href=self_url)
    _add(root, "link", rel="alternate", type="text/html", href=desk_url)
    for record in records:
        hit = record.hit
        entry = _add(root, "entry")
        _add(entry, "id", entry_id(hit))
        _add(entry, "title", hit.title or hit.url or "(untitled)", type="text")
        _add(entry, "link", rel="alternate", href=hit.url or desk_url)
        _add(entry, "updated", stamp(hit.found_at))
        _add(entry, "published", stamp(hit.published))
        _add(_add(entry, "author"), "name", hit.sitename or hit.feed)
        _add(entry, "summary", summary(hit), type="text")
        _add(entry, "category", term=hit.watchlist)
        if record.label is not None:
            _add(entry, "category", term=f"label:{record.label.label}")
    return bytes(etree.tostring(root, xml_declaration=True, encoding="utf-8"))


def watchlist_feed(request: Request) -> Response:
    """``/watchlists/NAME.atom``: 404 for a watchlist the config does not name."""
    require_reader(request)
    state = desk(request)
    name = request.path_params["name"]
    if name not in {watchlist.name for watchlist in state.config.settings.watchlists}:
        raise HTTPException(404, f"no watchlist named {name!r} in the config")
    records = HitListing(reading_store(request).engine).page(HitFilter(watchlist=name), limit=ENTRIES)
    desk_url = str(request.url.replace(path="/", query=urlencode({"watchlist": name})))
    body = feed_document(
        name,
        records,
        self_url=str(request.url.remove_query_params("token")),
        desk_url=desk_url,
        now=state.now(),
    )
    tag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {"ETag": tag, "Cache-Control": "private, max-age=60"}
    if tag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=MEDIA_TYPE, headers=headers)


def routes() -> list[BaseRoute]:
    return [Route("/watchlists/{name}.atom", watchlist_feed, methods=["GET"])]
