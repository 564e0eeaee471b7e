"""A loopback feed farm for the pipeline benchmarks: many feeds on many "hosts" (ports of 127.0.0.1).

Every file of ``$MONITOR_CORPUS/feeds`` is served, in turn (feed i replays file i mod n): every size, malformed
documents, other encodings, JSON Feeds, gzip bodies and the HTML pages and OPML files that sit among them. A file
whose entries the farm can rewrite (its item or entry elements found, their links and ids replaced by article
pages of the farm, and the result read back by our parser with every entry pointing at the farm) is served
rewritten, so that each feed's entries are its own and new ones can be added; any other file is served
byte for byte, so feeds replaying it share its entries as feeds republishing one another do. Article pages are
the real news pages of ``$MONITOR_CORPUS/articles/scrapinghub-aeb``.

Every feed answers with Last-Modified and gives 304 to a matching conditional request. The mix is by feed
index, changing from one round over the files to the next so that every file is served each way: half the
feeds send an ETag as well, and half gzip their body when the client accepts it.

The farm runs in its own process (so its CPU is not counted against the code under test), binds 127.0.0.1
only, and exits by itself after ``--lifetime`` seconds. It is steered over HTTP on its first port:

    POST /_farm/advance?new=K[&feeds=N][&title=T]  K new entries, one per rewritable feed round-robin over
                                                    feeds 0..N-1, dated now; answers JSON with the page URLs
    GET  /_farm/stats                               requests (and of them, feed requests), 200s, 304s,
                                                    bytes sent, first fetch of each marked entry

``--advance-every S --advance-new K`` makes it add K entries every S seconds by itself (for the soak).

    python -m bench.farm --feeds 1000 --ports 100 --lifetime 600 --ready-file /tmp/farm.json
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import email.utils
import gzip
import json
import os
import re
import socket
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from monitor.errors import FeedParseError
from monitor.feeds import parse_feed

ROOT = Path(__file__).resolve().parent.parent
URL_MARK = "\x00URL\x00"
DATE_MARK = "\x00DATE\x00"
TITLE_MARK = "\x00TITLE\x00"
TEXT_MARK = "\x00TEXT\x00"
_TEXT_TAGS = ("description", "content:encoded", "summary", "content")
GZIP_MAGIC = b"\x1f\x8b"


def corpus_root() -> Path:
    return Path(os.environ.get("MONITOR_CORPUS", ROOT.parent / "shared" / "corpus"))


# ---- templates ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    text: str  # the item's markup with URL_MARK, DATE_MARK and TITLE_MARK where the farm puts its own values
    date: str  # the original date text (kept for the feed's original entries)
    title: str  # the original title text
    texts: tuple[
        str, ...
    ] = ()  # the original summary and content texts, where TEXT<i> marks stand in ``text``


@dataclass
class Template:
    """One corpus file as the farm serves it. Text is the file's bytes read as Latin-1 (one character a byte),
    so that rewriting keeps the bytes of any ASCII-compatible encoding as they were."""

    name: str
    atom: bool
    content_type: str
    head: str
    items: tuple[Item, ...]
    tail: str
    static: bytes | None = None  # served byte for byte: the farm could not rewrite its entries
    _static_gzip: bytes | None = None

    @property
    def rewritable(self) -> bool:
        return self.static is None

    def static_gzip(self) -> bytes:
        assert self.static is not None
        if self._static_gzip is None:
            self._static_gzip = gzip.compress(self.static, compresslevel=6)
        return self._static_gzip


_ITEM = re.compile(r"<(item|entry)\b[^>]*>.*?</\1>", re.DOTALL)
_DATE_TAGS = ("pubDate", "dc:date", "updated", "published")
_TYPES = {".json": "application/feed+json", ".html": "text/html", ".htm": "text/html", ".opml": "text/x-opml"}


def _mark_item(block: str, atom: bool) -> Item | None:
    text = block
    if atom:
        text, links = re.subn(
            r'(<link\b(?![^>]*\brel="(?!alternate)[^"]*")[^>]*\bhref=")[^"]*(")', rf"\g<1>{URL_MARK}\2", text
        )
        text, _ids = re.subn(r"(<id>)[^<]*(</id>)", rf"\g<1>{URL_MARK}\2", text)
        if not links:
            return None
    else:
        text, links = re.subn(r"(<link>)[^<]*(</link>)", rf"\g<1>{URL_MARK}\2", text)
        text = re.sub(r"(<guid\b[^>]*>)[^<]*(</guid>)", rf"\g<1>{URL_MARK}\2", text)
        text = re.sub(r'(<item\b[^>]*\brdf:about=")[^"]*(")', rf"\g<1>{URL_MARK}\2", text)
        text = re.sub(r"<feedburner:origLink>[^<]*</feedburner:origLink>", "", text)
        if not links:
            return None
    date = ""
    for tag in _DATE_TAGS:  # every date of the item: a new entry must not keep an old <published> beside it
        found = re.search(rf"(<{tag}>)([^<]*)(</{tag}>)", text)
        if found:
            date = date or found.group(2)
            text = text[: found.start(2)] + DATE_MARK + text[found.end(2) :]
    title = ""
    found = re.search(r"(<title\b[^>]*>)(.*?)(</title>)", text, re.DOTALL)
    if found:
        title = found.group(2)
        text = text[: found.start(2)] + TITLE_MARK + text[found.end(2) :]
    texts = []
    for tag in _TEXT_TAGS:  # an entry added with its own title gets it as its summary too: its own story
        found = re.search(rf"(<{tag}\b[^>]*>)(.*?)(</{tag}>)", text, re.DOTALL)
        if found:
            text = (
                text[: found.start(2)] + TEXT_MARK.replace("TEXT", f"TEXT{len(texts)}") + text[found.end(2) :]
            )
            texts.append(found.group(2))
    return Item(text, date, title, tuple(texts))


def load_templates(root: Path | None = None) -> list[Template]:
    """Every file of the corpus's feeds folder, in path order: rewritten when the farm can, else as it is."""
    folder = (root or corpus_root()) / "feeds"
    templates = []
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            name = path.relative_to(folder).as_posix()
            templates.append(_template(name, path.read_bytes()) or _static(name, path))
    if not templates:
        raise SystemExit(f"no feeds under {folder}: set MONITOR_CORPUS")
    return templates


def _static(name: str, path: Path) -> Template:
    kind = _TYPES.get(path.suffix.lower(), "application/xml")
    return Template(name, False, kind, "", (), "", static=path.read_bytes())


def _template(name: str, raw: bytes) -> Template | None:
    """The file with its entries marked for rewriting, when every entry of it then points at the farm."""
    if raw.startswith(GZIP_MAGIC) or name.endswith((".json", ".html", ".htm", ".opml")):
        return None
    try:
        original = parse_feed(raw, url="http://127.0.0.1:1/feed")
    except FeedParseError:
        return None
    text = raw.decode("latin-1")
    blocks = list(_ITEM.finditer(text))
    if not blocks or len(original.entries) != len(blocks):
        return None
    atom = blocks[0].group(1) == "entry"
    items = [_mark_item(m.group(0), atom) for m in blocks]
    if any(item is None for item in items):
        return None
    kind = "application/atom+xml" if atom else "application/rss+xml"
    template = Template(
        name, atom, kind, text[: blocks[0].start()], tuple(i for i in items if i), text[blocks[-1].end() :]
    )
    return template if _renders_cleanly(template, len(blocks)) else None


def _renders_cleanly(template: Template, expected: int) -> bool:
    feed = Feed(0, template, "http://127.0.0.1:1", time.time())
    try:
        parsed = parse_feed(feed.render(), url="http://127.0.0.1:1/feed/0")
    except FeedParseError:
        return False
    links = [e.url or "" for e in parsed.entries]
    return (
        len(links) == expected
        and all(link.startswith("http://127.0.0.1:1/a/") for link in links)
        and len(set(links)) == len(links)
    )


# ---- feeds ----------------------------------------------------------------------------------------------


def _rfc822(when: float) -> str:
    return email.utils.formatdate(when, usegmt=True)


def _iso(when: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(when))


def serving_mix(index: int, files: int, file_index: int | None = None) -> tuple[bool, bool]:
    """(gzip when accepted, ETag) for feed ``index``: alternating along the feeds, and for each file from one
    round over the files to the next, so every file is served all four ways."""
    turn = index // files
    position = index % files if file_index is None else file_index
    return (position + turn) % 2 == 0, (position // 2 + turn // 2) % 2 == 0


@dataclass
class Feed:
    index: int
    template: Template
    base: str  # http://127.0.0.1:PORT
    changed: float
    gzip: bool = True  # gzips its body when the client accepts it
    sends_etag: bool = True  # else Last-Modified only
    added: list[tuple[float, str | None]] = field(default_factory=list)  # (when, title) of each new entry
    _cache: tuple[int, bytes] | None = None

    @property
    def version(self) -> int:
        return len(self.added)

    @property
    def etag(self) -> str | None:
        return f'"f{self.index}-{self.version}"' if self.sends_etag else None

    def page_url(self, seq: int) -> str:
        return f"{self.base}/a/{self.index}/{seq}"

    def add(self, when: float, title: str | None) -> str:
        assert self.template.rewritable
        self.added.append((when, title))
        self.changed = when
        self._cache = None
        return self.page_url(len(self.template.items) + len(self.added) - 1)

    def render(self) -> bytes:
        """The newest entries first; the document keeps its template's length as new entries push old out."""
        if self.template.static is not None:
            return self.template.static
        items = self.template.items
        total = len(items) + len(self.added)
        parts = [self.template.head]
        for seq in range(total - 1, total - 1 - len(items), -1):
            item = items[seq % len(items)]
            texts = list(item.texts)
            if seq >= len(items):
                when, title = self.added[seq - len(items)]
                date = _iso(when) if self.template.atom else _rfc822(when)
                if title:
                    texts = [_xml_text(title)] * len(texts)
                title = _xml_text(title) if title else item.title
            else:
                date, title = item.date, item.title
            markup = item.text.replace(URL_MARK, self.page_url(seq)).replace(DATE_MARK, date)
            markup = markup.replace(TITLE_MARK, title)
            for index, value in enumerate(texts):
                markup = markup.replace(TEXT_MARK.replace("TEXT", f"TEXT{index}"), value)
            parts.append(markup)
        parts.append(self.template.tail)
        return "".join(parts).encode("latin-1")

    def body(self, gz: bool) -> bytes:
        """The body as sent: gzipped when both sides agree. Only the form this feed usually sends is kept."""
        packed = gz and self.gzip
        if self.template.static is not None:
            return self.template.static_gzip() if packed else self.template.static
        if self._cache is not None and self._cache[0] == self.version and packed == self.gzip:
            return self._cache[1]
        plain = self.render()
        body = gzip.compress(plain, compresslevel=6) if packed else plain
        if packed == self.gzip:
            self._cache = (self.version, body)
        return body


def _xml_text(text: str) -> str:
    """A title as XML text in any ASCII-compatible encoding: markup escaped, other characters as references."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return escaped.encode("ascii", "xmlcharrefreplace").decode("ascii")


# ---- the server -----------------------------------------------------------------------------------------


@dataclass
class Stats:
    requests: int = 0
    feed_requests: int = 0  # of which for a feed (not an article page)
    ok: int = 0
    not_modified: int = 0
    not_found: int = 0
    bytes_sent: int = 0
    first_fetch: dict[str, float] = field(default_factory=dict)  # marked title -> first time it was served
    # marked title -> when newer entries pushed it out of its feed's document before it was ever served
    pushed_out: dict[str, float] = field(default_factory=dict)


class Farm:
    def __init__(self, feeds: int, ports: list[int], templates: list[Template]) -> None:
        self.ports = ports
        started = time.time()
        self.feeds = []
        for i in range(feeds):
            gz, etag = serving_mix(i, len(templates))
            base = f"http://127.0.0.1:{ports[i % len(ports)]}"
            self.feeds.append(Feed(i, templates[i % len(templates)], base, started, gz, etag))
        self.rewritable = [feed.index for feed in self.feeds if feed.template.rewritable]
        pages = sorted((corpus_root() / "articles" / "scrapinghub-aeb").glob("*.html.gz"))
        self.pages = [p.read_bytes() for p in pages]
        self.plain_pages: dict[int, bytes] = {}
        self.stats = Stats()
        self.cursor = 0
        self.latency = 0.0  # seconds added before each feed or page response (set through /_farm/latency)

    def feed_url(self, index: int) -> str:
        return f"{self.feeds[index].base}/feed/{index}"

    def advance(self, new: int, among: int | None, title: str | None) -> list[str]:
        among = min(among or len(self.feeds), len(self.feeds))
        candidates = [index for index in self.rewritable if index < among]
        now = time.time()
        urls = []
        for _ in range(new if candidates else 0):
            feed = self.feeds[candidates[self.cursor % len(candidates)]]
            self.cursor += 1
            urls.append(feed.add(now, title))
            dropped = len(feed.added) - 1 - len(feed.template.items)  # the entry the new one pushed out
            gone = feed.added[dropped][1] if dropped >= 0 else None
            if gone and gone not in self.stats.first_fetch:
                self.stats.pushed_out.setdefault(gone, now)
        return urls

    def handle(self, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes, str | None]:
        """(status, headers, body, marked title served) for a GET."""
        parts = path.split("?", 1)[0].strip("/").split("/")
        gz = "gzip" in headers.get("accept-encoding", "")
        if len(parts) == 2 and parts[0] == "feed" and parts[1].isdigit() and int(parts[1]) < len(self.feeds):
            return self._feed(self.feeds[int(parts[1])], headers, gz)
        if len(parts) == 3 and parts[0] == "a" and parts[1].isdigit() and parts[2].isdigit():
            number = (int(parts[1]) * 7919 + int(parts[2])) % len(self.pages)
            if gz:
                return (
                    200,
                    {"content-type": "text/html", "content-encoding": "gzip"},
                    self.pages[number],
                    None,
                )
            plain = self.plain_pages.get(number)
            if plain is None:
                plain = self.plain_pages[number] = gzip.decompress(self.pages[number])
            return 200, {"content-type": "text/html"}, plain, None
        return 404, {"content-type": "text/plain"}, b"not found", None

    def _feed(
        self, feed: Feed, headers: dict[str, str], gz: bool
    ) -> tuple[int, dict[str, str], bytes, str | None]:
        modified = _rfc822(feed.changed)
        common = {"last-modified": modified, "cache-control": "max-age=0"}
        etag = feed.etag
        if etag:
            common["etag"] = etag
        match = headers.get("if-none-match")
        since = headers.get("if-modified-since")
        if (match and match == etag) or (not match and since and _not_after(feed.changed, since)):
            return 304, common, b"", None
        marked = feed.added[-1][1] if feed.added and feed.added[-1][1] else None
        body_headers = {**common, "content-type": feed.template.content_type}
        if gz and feed.gzip:
            body_headers["content-encoding"] = "gzip"
        return 200, body_headers, feed.body(gz), marked

    def control(self, path: str) -> tuple[int, dict[str, str], bytes]:
        split = urlsplit(path)
        query = {k: v[0] for k, v in parse_qs(split.query).items()}
        if split.path == "/_farm/advance":
            among = int(query["feeds"]) if "feeds" in query else None
            urls = self.advance(int(query.get("new", "1")), among, query.get("title"))
            return 200, {"content-type": "application/json"}, json.dumps({"pages": urls}).encode()
        if split.path == "/_farm/latency":
            self.latency = float(query.get("seconds", "0"))
            return 200, {"content-type": "application/json"}, json.dumps({"latency": self.latency}).encode()
        if split.path == "/_farm/stats":
            return 200, {"content-type": "application/json"}, json.dumps(self.stats.__dict__).encode()
        return 404, {"content-type": "text/plain"}, b"not found"

    async def serve_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, path, version = ([*lines[0].split(" "), "", ""])[:3]
                headers = {}
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    if name:
                        headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length", "0") or 0)
                if length:
                    await reader.readexactly(length)
                marked = None
                if path.startswith("/_farm/"):
                    status, out, body = self.control(path)
                elif method in ("GET", "HEAD"):
                    if self.latency:  # the time a request spends on the network, which loopback does not have
                        await asyncio.sleep(self.latency)
                    status, out, body, marked = self.handle(path, headers)
                else:
                    status, out, body = 405, {"content-type": "text/plain"}, b"method not allowed"
                close = version != "HTTP/1.1" or headers.get("connection", "").lower() == "close"
                self._count(status, len(body), marked, path.startswith("/feed/"))
                reason = {200: "OK", 304: "Not Modified", 404: "Not Found", 405: "Method Not Allowed"}[status]
                lines_out = [f"HTTP/1.1 {status} {reason}", f"content-length: {len(body)}"]
                lines_out += [f"{k}: {v}" for k, v in out.items()]
                if close:
                    lines_out.append("connection: close")
                head_out = ("\r\n".join(lines_out) + "\r\n\r\n").encode("latin-1")
                # One write per response: a separate small write for the body waits on delayed ACKs.
                writer.write(head_out + body if method != "HEAD" and status != 304 else head_out)
                await writer.drain()
                if close:
                    return
        except ConnectionError:
            return
        finally:
            writer.close()

    def _count(self, status: int, size: int, marked: str | None, feed: bool) -> None:
        stats = self.stats
        stats.requests += 1
        stats.feed_requests += feed
        stats.bytes_sent += size
        if status == 200:
            stats.ok += 1
        elif status == 304:
            stats.not_modified += 1
        else:
            stats.not_found += 1
        if marked and marked not in stats.first_fetch:
            stats.first_fetch[marked] = time.time()


def _not_after(changed: float, since: str) -> bool:
    try:
        return int(changed) <= email.utils.parsedate_to_datetime(since).timestamp()
    except (TypeError, ValueError):
        return False


def _listen(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(4096)
    sock.setblocking(False)
    return sock


async def serve(args: argparse.Namespace) -> None:
    sockets = [_listen(0) for _ in range(args.ports)]
    ports = [s.getsockname()[1] for s in sockets]
    templates = load_templates()
    if args.feeds_only:  # only the files it rewrites: every feed parses, and every one can be given entries
        templates = [t for t in templates if t.rewritable]
    if args.items:  # fewer entries a feed: a cheaper first poll, for tests that start many daemons cold
        templates = [dataclasses.replace(t, items=t.items[: args.items]) for t in templates]
    farm = Farm(args.feeds, ports, templates)
    servers = [await asyncio.start_server(farm.serve_connection, sock=s, backlog=4096) for s in sockets]
    ready = {
        "pid": os.getpid(),
        "control": f"http://127.0.0.1:{ports[0]}",
        "feeds": [farm.feed_url(i) for i in range(args.feeds)],
        "templates": [f.template.name for f in farm.feeds[: len({f.template.name for f in farm.feeds})]],
        "rewritten": sorted({f.template.name for f in farm.feeds if f.template.rewritable}),
        "largest_kb": max(len(f.render()) for f in farm.feeds[: len(templates)]) // 1024,
    }
    partial = Path(args.ready_file + ".part")
    partial.write_text(json.dumps(ready))
    partial.rename(args.ready_file)  # whole, or not there at all
    loop = asyncio.get_running_loop()
    deadline = loop.time() + args.lifetime
    while loop.time() < deadline:
        await asyncio.sleep(min(args.advance_every or 1.0, max(deadline - loop.time(), 0.0)))
        if args.advance_every and args.advance_new:
            farm.advance(args.advance_new, None, None)
    for server in servers:
        server.close()
    with contextlib.suppress(Exception):
        await asyncio.wait_for(asyncio.gather(*(s.wait_closed() for s in servers)), 2)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.farm", description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--ports", type=int, default=100, help="distinct hosts (ports of 127.0.0.1)")
    parser.add_argument("--lifetime", type=float, default=900.0, help="seconds until the farm exits")
    parser.add_argument("--advance-every", type=float, default=0.0, help="add entries every S seconds")
    parser.add_argument("--advance-new", type=int, default=0, help="entries added each time")
    parser.add_argument("--items", type=int, default=0, help="keep at most N entries of each feed (0: all)")
    parser.add_argument(
        "--feeds-only",
        action="store_true",
        help="serve only the corpus feeds the farm rewrites (no HTML, no broken files)",
    )
    parser.add_argument("--ready-file", required=True, help="where to write the farm's ports and URLs")
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(serve(parse_args(sys.argv[1:])))
