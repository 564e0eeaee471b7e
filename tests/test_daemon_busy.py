"""The daemon when it falls behind: an event loop busy at every delivery tick, and more feeds due than it can poll
at once. In-process, on the real clock, with the real parts (parsing and extraction inline, ``WorkerPool(0)``),
a local feed server and an aiosmtpd sink."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from monitor.config.compiled import load_config
from monitor.daemon import Daemon
from monitor.runtime import open_runtime
from monitor.workers import WorkerPool
from tests.factory import Item, article_page, recent, rss, story_paragraphs, write_config
from tests.httpserver import LocalServer
from tests.smtpserver import SmtpServer

STALL = 1.3  # seconds the loop is held at each turn: longer than APScheduler's default grace of 1 s


def test_alerts_go_out_while_the_loop_is_busy_past_every_delivery_tick(
    tmp_path: Path, http_server: LocalServer, smtp_server: SmtpServer
) -> None:
    """A loop that runs late by more than a second at every tick (a loaded machine, many feeds) delays the
    delivery runs; it must not skip them all and hold the alerts for as long as it stays busy."""
    body = rss([Item("Wescam sensors found on drones", http_server.url("/page/1"), "Wescam.", recent())])
    url = http_server.route("/wire.xml", body=body, headers={"Content-Type": "application/rss+xml"})
    path = write_config(
        tmp_path,
        monitor={"fulltext": False},
        feeds=[{"name": "wire", "url": url, "interval": "10m"}],
        watchlists=[{"name": "arms", "terms": ["Wescam"], "notify": ["desk"]}],
        notifiers=[{"name": "desk", "urls": [smtp_server.apprise_url()]}],
    )

    async def main() -> None:
        daemon = Daemon(path, load_config(path))
        async with open_runtime(daemon.config, workers=WorkerPool(0)) as runtime:
            scheduler = daemon.start(runtime, paused=True)
            await daemon._poll("wire")  # the alert is owed before the loop gets busy
            assert runtime.outbox.counts() == {("desk", "pending"): 1}
            scheduler.remove_job("feed:wire")  # only the delivery runs from here on
            sent = {("desk", "sent"): 1}
            scheduler.resume()
            deadline = time.monotonic() + 15
            try:
                while not daemon.inflight and time.monotonic() < deadline:  # no delivery run started yet
                    await asyncio.sleep(0)  # let one turn of the loop run, then hold it
                    time.sleep(STALL)
                assert daemon.inflight, "no delivery run started in 15 s of a busy loop"
                while runtime.outbox.counts() != sent and time.monotonic() < deadline + 30:
                    await asyncio.sleep(0.05)  # the run started: let it send at ease
            finally:
                scheduler.shutdown(wait=False)
            assert runtime.outbox.counts() == sent, runtime.outbox.listing()

    asyncio.run(main())
    assert len(smtp_server.messages) == 1
    assert "Wescam sensors found on drones" in str(smtp_server.messages[0]["Subject"]) + str(
        smtp_server.messages[0].get_body(("plain",))
    )


def test_a_poll_that_found_an_entry_fetches_its_page_before_the_feeds_due_after_it(
    tmp_path: Path, http_server: LocalServer
) -> None:
    """With more feeds due than the daemon polls at once (twice its connections), the others wait for a slot
    before they fetch: the page of an entry found by the first poll does not queue behind every later feed."""
    page = article_page("Wescam sensors found", story_paragraphs())
    http_server.route("/page/1", body=page, headers={"Content-Type": "text/html; charset=utf-8"})
    http_server.route("/page/0", body=page, headers={"Content-Type": "text/html; charset=utf-8"})
    entry = Item("Wescam sensors found on drones", http_server.url("/page/1"), "Wescam.", recent())
    earlier = Item("Sensors found on drones", http_server.url("/page/0"), "Sensors.", recent())
    feeds = {
        "warm-up": http_server.route("/warm-up.xml", body=rss([earlier])),
        "first": http_server.route("/first.xml", body=rss([entry])),
    }
    for n in range(
        12
    ):  # each answers in 0.3 s: the first feed's entry is read well before the next is polled
        feeds[f"later-{n:02d}"] = http_server.route(f"/later-{n:02d}.xml", body=rss([]), delay=0.3)
    path = write_config(
        tmp_path,
        monitor={"fulltext": True, "max_connections": 1},
        feeds=[{"name": name, "url": url, "interval": "10m"} for name, url in feeds.items()],
        watchlists=[{"name": "arms", "terms": ["Wescam"]}],
    )
    most_at_once = 0

    async def main() -> None:
        nonlocal most_at_once
        daemon = Daemon(path, load_config(path))
        async with open_runtime(daemon.config, workers=WorkerPool(0)) as runtime:
            scheduler = daemon.start(runtime, paused=True)
            try:
                await daemon._poll(
                    "warm-up"
                )  # parsing, language and extraction loaded: a poll takes its usual time
                http_server.requests.clear()
                polls = [
                    asyncio.create_task(daemon._poll(name)) for name in list(feeds)[1:]
                ]  # all due at once
                while not all(p.done() for p in polls):
                    most_at_once = max(most_at_once, len(daemon.inflight))
                    await asyncio.sleep(0)
                await asyncio.gather(*polls)
            finally:
                scheduler.shutdown(wait=False)
            assert {runtime.store.feed_state(name).last_status for name in feeds} == {"ok"}

    asyncio.run(main())
    order = [r.path for r in http_server.requests]
    assert sorted(order) == sorted([*(f"/{name}.xml" for name in list(feeds)[1:]), "/page/1"])
    assert order.index("/page/1") == 2, order  # 13 without the bound: after every later feed
    assert most_at_once == 2  # twice max_connections
