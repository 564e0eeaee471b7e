"""The daemon's main process stays lean: a real `monitor run` that extracted a page and sent an alert has not
loaded, in its main process, what its worker processes do (extraction, the language model, the feed parsers)
nor migrations; and its allocator is tuned and handed free memory back."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from monitor import memory
from monitor.store import Store
from tests.factory import Item, article_page, recent, rss, story_paragraphs, write_config
from tests.helpers import LocalServer, WebhookServer, posted_text, wait_for

pytestmark = pytest.mark.timeout(120)

# The daemon's main process itself, with the names of every module it loaded written at exit (the worker
# processes are started afresh by the fork server, so they do not run this).
RUN = """
import atexit, json, sys
out = sys.argv.pop(1)
atexit.register(lambda: open(out, "w").write(json.dumps(sorted(sys.modules))))
from monitor.cli import main
sys.exit(main(sys.argv[1:]))
"""

# Loaded by the worker processes (extraction and its language model, the feed parsers and lxml), or by
# `monitor db upgrade` only.
NOT_IN_MAIN = {
    "trafilatura",
    "justext",
    "htmldate",
    "numpy",
    "py3langid",
    "alembic",
    "feedparser",
    "fastfeedparser",
    "lxml",
}


def test_a_full_text_daemon_loads_no_extraction_language_model_or_migrations_in_its_main_process(
    tmp_path: Path, http_server: LocalServer, webhook_server: WebhookServer
) -> None:
    page = http_server.route("/story", body=article_page("Sensors found", story_paragraphs()))
    http_server.route("/wire.xml", body=rss([Item("Sensors found", page, "A short summary.", recent())]))
    config = write_config(
        tmp_path,
        monitor={"fulltext": True},
        feeds=[{"name": "wire", "url": http_server.url("/wire.xml"), "interval": "2s"}],
        watchlists=[{"name": "arms", "terms": ["Wescam"], "notify": ["chat"]}],
        notifiers=[{"name": "chat", "urls": [webhook_server.apprise_url()]}],
    )
    Store.open(f"sqlite:///{tmp_path / 'monitor.db'}").close()  # at the newest schema already
    modules = tmp_path / "modules.json"
    with (tmp_path / "daemon.log").open("w", encoding="utf-8") as log:
        daemon = subprocess.Popen(
            [sys.executable, "-c", RUN, str(modules), "--config", str(config), "run"],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            # "Wescam" is only in the page's text: the alert proves the page was extracted (in a worker).
            wait_for(lambda: "Sensors found" in posted_text(webhook_server), timeout=90, what="the alert")
            # Two workers allowed (the default), one page to extract: one worker process ran it.
            assert len(worker_processes(daemon.pid)) == 1
        finally:
            daemon.send_signal(signal.SIGTERM)
            code = daemon.wait(60)
    assert code == 0, (tmp_path / "daemon.log").read_text(encoding="utf-8")[-3000:]
    loaded = set(json.loads(modules.read_text(encoding="utf-8")))
    assert {"monitor.daemon", "monitor.poll", "apprise"} <= loaded  # the reading works: it polled and sent
    assert not {name.split(".")[0] for name in loaded} & NOT_IN_MAIN
    # The webhook's plugin was read by its scheme alone: apprise did not import every plugin it has to find it.
    assert "apprise.plugins.custom_json" in loaded
    assert "apprise.plugins.gotify" not in loaded


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rpartition(")")[2].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def worker_processes(daemon: int) -> list[int]:
    """The workers: children of the fork server, itself the daemon's child that is not the resource tracker."""
    servers = [p for p in children(daemon) if b"forkserver" in Path(f"/proc/{p}/cmdline").read_bytes()]
    return [worker for server in servers for worker in children(server)]


def test_the_allocator_is_tuned_and_gives_back_on_glibc() -> None:
    """This machine runs glibc: both calls take. A second tuning is harmless."""
    assert memory.tune_allocator()
    assert memory.tune_allocator()
    blocks = [bytearray(64 * 1024) for _ in range(2000)]  # about 128 MB on the heap (under the threshold)
    del blocks[:-1]  # the last one keeps the heap's top: the rest can only go back by trimming
    assert memory.give_back()
