"""`make demo`: the whole pipeline offline. Serves sample feeds and article pages on a local port, polls them
with a throw-away config and database, then shows the hits and the alerts the console notifier would send."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import threading
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from functools import partial
from html import escape
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HERE = Path(__file__).resolve().parent
SAMPLE_STORY = HERE.parent.parent / "shared" / "samples" / "wescam-turkey-2020.txt"

STORIES = {
    "gazette": [
        ("wescam-exports", "Ottawa silent on exemptions for drone sensors", None),
        (
            "hockey",
            "Bayraktar fly-past opens the hockey final",
            "The crowd cheered a Bayraktar fly-past before the hockey final.",
        ),
        (
            "budget",
            "City council passes budget",
            "The council approved the budget after a long debate on roads.",
        ),
    ],
    "le-quotidien": [
        (
            "exportations",
            "Des capteurs canadiens sur des drones turcs",
            "Des capteurs Wescam fabriqués au Canada équipent des drones Bayraktar TB2 de Baykar. "
            "Ottawa a suspendu les licences d'exportation vers la Türkiye.",
        ),
    ],
}


def story_text() -> str:
    if SAMPLE_STORY.exists():
        return SAMPLE_STORY.read_text(encoding="utf-8")
    return (HERE / "wescam-story.txt").read_text(encoding="utf-8")


def build_site(root: Path, base: str) -> None:
    now = datetime.now(UTC)
    for feed, stories in STORIES.items():
        items = []
        for age, (slug, title, text) in enumerate(stories):
            paragraphs = (text or story_text()).split("\n")
            page = "".join(f"<p>{escape(p)}</p>" for p in paragraphs if p.strip())
            (root / f"{slug}.html").write_text(
                f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title></head><body>"
                f"<nav><a href='/'>Home</a> <a href='/sport'>Sport</a></nav><article><h1>{escape(title)}</h1>"
                f"{page}</article><footer>Demo Gazette</footer></body></html>",
                encoding="utf-8",
            )
            published = format_datetime(now - timedelta(hours=age + 1))
            items.append(
                f"<item><title>{escape(title)}</title><link>{base}/{slug}.html</link>"
                f"<description>{escape(paragraphs[0][:200])}</description><pubDate>{published}</pubDate></item>"
            )
        (root / f"{feed}.xml").write_text(
            f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>{feed}</title>"
            + "".join(items)
            + "</channel></rss>",
            encoding="utf-8",
        )


CONFIG = """\
[monitor]
database = "sqlite:///demo.db"
timeout = "10s"

[[feed]]
name = "gazette"
url = "{base}/gazette.xml"

[[feed]]
name = "le-quotidien"
url = "{base}/le-quotidien.xml"

[[watchlist]]
name = "arms-exports"
terms = ["Wescam", "Baykar", "Bayraktar", "export permit*"]
exclude = ["hockey"]
notify = ["console"]

[[watchlist]]
name = "sensors-near-drones"
query = '(Wescam OR "MX-15") NEAR/20 (Baykar OR Bayraktar OR TB2) -hockey'
notify = ["console"]

[[watchlist]]
name = "exportations"
terms = ["licences d'exportation", "exportations d'armes"]
notify = ["console"]

[[notifier]]
name = "console"
"""


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def monitor(config: Path, *args: str) -> None:
    print(f"\n$ monitor {' '.join(args)}", flush=True)
    subprocess.run([sys.executable, "-m", "monitor", "--config", str(config), *args], check=True)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="monitor-demo-") as folder:
        root = Path(folder)
        site = root / "site"
        site.mkdir()
        handler = partial(QuietHandler, directory=str(site))
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_address[1]}"
        build_site(site, base)
        config = root / "monitor.toml"
        config.write_text(CONFIG.format(base=base), encoding="utf-8")
        print(f"Serving sample feeds at {base}; throw-away config and database in {root}")
        try:
            monitor(config, "check")
            monitor(config, "poll")
            monitor(config, "hits")
            monitor(config, "match", "--watchlist", "arms-exports", "--url", f"{base}/hockey.html")
        except subprocess.CalledProcessError as exc:
            if exc.cmd[-2:] != ["--url", f"{base}/hockey.html"]:
                raise
        finally:
            server.shutdown()


if __name__ == "__main__":
    main()
