"""`monitor run` as a subprocess: the daemon, the fixture that starts it (and kills what a test left running),
the configs it is started on, and the check that a second daemon is refused."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pytest

from tests.factory import run_cli, write_config
from tests.helpers import wait_for
from tests.httpserver import LocalServer
from tests.webhook import WebhookServer


class Daemon:
    def __init__(self, config: Path) -> None:
        self.config = config
        self.log_path = config.parent / "daemon.log"
        self.log = self.log_path.open("w", encoding="utf-8")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "monitor", "--config", str(config), "run"],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def output(self) -> str:
        return self.log_path.read_text(encoding="utf-8")

    def wait_started(self, timeout: float = 30.0, what: str = "the daemon to start") -> Daemon:
        wait_for(lambda: "daemon started" in self.output(), timeout=timeout, what=what)
        return self

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=60)
        self.log.close()
        return code


@pytest.fixture
def start_daemon() -> Iterator[Callable[[Path], Daemon]]:
    started: list[Daemon] = []

    def start(config: Path) -> Daemon:
        daemon = Daemon(config)
        started.append(daemon)
        return daemon

    yield start
    for daemon in started:
        if daemon.process.poll() is None:
            daemon.process.kill()
            daemon.process.wait()
        daemon.log.close()


def daemon_config(
    folder: Path,
    server: LocalServer,
    hook: WebhookServer,
    feeds: Iterable[str] = ("wire",),
    interval: str = "1s",
    terms: Iterable[str] = ("Wescam", "Baykar"),
    **monitor: str,
) -> Path:
    """A config in ``folder`` (made if need be) with each feed at ``/<name>.xml`` of ``server``, the watchlist
    "arms" on ``terms`` and its alerts posted to ``hook``; ``monitor`` adds to the [monitor] settings."""
    folder.mkdir(parents=True, exist_ok=True)
    return write_config(
        folder,
        monitor={"fulltext": False, "group_window": "1s", **monitor},
        feeds=[{"name": name, "url": server.url(f"/{name}.xml"), "interval": interval} for name in feeds],
        watchlists=[{"name": "arms", "terms": list(terms), "notify": ["chat"]}],
        notifiers=[{"name": "chat", "urls": [hook.apprise_url()]}],
    )


def base_config(tmp_path: Path, server: LocalServer, hook: WebhookServer) -> Path:
    """One feed, "wire", polled every second on SQLite, with a 20 s graceful stop."""
    return daemon_config(tmp_path, server, hook, shutdown_timeout="20s")


def second_is_refused(first: Daemon) -> str:
    """Start a second daemon on ``first``'s config once ``first`` runs: it must exit 4 naming ``first``'s pid.
    Returns what it said."""
    first.wait_started(what="the first daemon")
    second = run_cli(first.config, "run", timeout=60)
    assert second.returncode == 4
    assert f"pid {first.process.pid}" in second.stderr
    return second.stderr
