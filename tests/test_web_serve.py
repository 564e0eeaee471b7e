"""Serving the desk: `monitor web` as a process (its address checks and a port in use), and `monitor run`
serving it inside the daemon when [web] listen is set."""

from __future__ import annotations

import asyncio
import logging
import socket
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from monitor.config.compiled import load_config
from monitor.config.web_settings import parse_listen
from monitor.web.serve import start_in_loop
from tests.browser import desk_server, free_port
from tests.daemons import Daemon
from tests.helpers import run_cli, wait_for
from tests.webdesk import TOKEN, desk_config, fill


def fetch(url: str, token: str | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=10) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def test_monitor_web_serves_the_desk_and_stops_on_sigterm(tmp_path: Path) -> None:
    filled = fill(desk_config(tmp_path))
    filled.store.close()
    port = free_port()
    with desk_server(filled.config.settings.path, port) as base:
        status, page = fetch(base + "/", TOKEN)
        assert status == 200 and "Wescam sensors on Baykar drones" in page
        assert fetch(base + "/")[0] == 303  # to the login form
        assert fetch(base + "/static/htmx.min.js")[0] == 200
    assert not listening(port)


def test_monitor_web_refuses_a_public_address_without_a_token(tmp_path: Path) -> None:
    config = desk_config(tmp_path, token=None)
    done = run_cli(config, "web", "--listen", "0.0.0.0:8765")
    assert done.returncode == 2
    assert "listening on 0.0.0.0:8765 (not a loopback address) needs a token" in done.stderr
    bad = run_cli(config, "web", "--listen", "localhost")
    assert bad.returncode == 2 and "--listen: bad listen address 'localhost'" in bad.stderr


def test_monitor_web_says_when_its_port_is_taken(tmp_path: Path) -> None:
    config = desk_config(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run_cli(config, "web", "--listen", f"127.0.0.1:{port}")
    assert done.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "Traceback" not in done.stderr


def test_monitor_run_serves_the_desk_when_web_listen_is_set(
    tmp_path: Path, start_daemon: Callable[[Path], Daemon]
) -> None:
    port = free_port()
    config = desk_config(tmp_path, listen=f"127.0.0.1:{port}")
    fill(config).store.close()
    daemon = start_daemon(config)
    wait_for(lambda: listening(port), timeout=60, what="the desk inside the daemon")
    status, page = fetch(f"http://127.0.0.1:{port}/feeds", TOKEN)
    assert status == 200 and "<h1>Feeds</h1>" in page
    assert fetch(f"http://127.0.0.1:{port}/api/hits")[0] == 401
    assert daemon.stop() == 0
    assert "web desk on http://127.0.0.1:" in daemon.output()
    assert not listening(port)


def test_the_desk_in_a_running_loop_follows_config_reloads(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()
    config = load_config(desk_config(tmp_path, listen=f"127.0.0.1:{port}"), {})
    fill(config.settings.path).store.close()
    renamed = load_config(desk_config(tmp_path / "next", token="another-token-123456"), {})

    async def scenario() -> tuple[int, int]:
        desk = await start_in_loop(config, parse_listen(f"127.0.0.1:{port}"))
        try:
            before = await asyncio.to_thread(fetch, f"http://127.0.0.1:{port}/feeds", TOKEN)
            desk.apply(renamed)
            after = await asyncio.to_thread(fetch, f"http://127.0.0.1:{port}/feeds", TOKEN)
        finally:
            await desk.stop()
        return before[0], after[0]

    with caplog.at_level(logging.WARNING, logger="monitor.web"):
        assert asyncio.run(scenario()) == (200, 200)  # the token stays the one it started with
    assert "the desk keeps its address and token until the daemon restarts" in caplog.text
    assert not listening(port)
