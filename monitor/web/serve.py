"""Serving the desk on uvicorn: on its own (`monitor web`) or inside the daemon's loop (`monitor run` with
``[web] listen``). The socket is bound here, so that a port in use is one clear error, not a server that
exits the process."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn
from starlette.applications import Starlette

from monitor.config.compiled import Config
from monitor.config.web_settings import DEFAULT_LISTEN, Listen, exposure_problem, parse_listen
from monitor.errors import MonitorError
from monitor.web.app import create_app

log = logging.getLogger("monitor.web")
STOP_TIMEOUT = 10.0


class ListenError(MonitorError):
    """The desk cannot listen where it was asked to (a bad address, a port in use, no token off loopback)."""

    exit_code = 2


def resolve_listen(config: Config, override: str | None) -> Listen:
    """``--listen`` when given, else ``[web] listen``, else loopback port 8765; never a non-loopback address
    without a token."""
    web = config.settings.web
    if override is not None:
        try:
            listen = parse_listen(override)
        except ValueError as error:
            raise ListenError(f"--listen: {error}") from None
    else:
        listen = web.listen or parse_listen(DEFAULT_LISTEN)
    problem = exposure_problem(listen, web.token)
    if problem:
        raise ListenError(f"{config.settings.path}: {problem}")
    return listen


def bind(listen: Listen) -> socket.socket:
    family = socket.AF_INET6 if ":" in listen.host else socket.AF_INET
    try:
        return socket.create_server((listen.host, listen.port), family=family)
    except OSError as error:
        raise ListenError(f"cannot listen on {listen}: {error.strerror or error}") from None


def _server(app: Starlette) -> uvicorn.Config:
    return uvicorn.Config(app, log_config=None, access_log=False, lifespan="on", server_header=False)


def serve_forever(config: Config, listen: Listen) -> int:
    """`monitor web`: serve until SIGINT/SIGTERM (uvicorn's own signal handling)."""
    sock = bind(listen)
    app = create_app(config)
    print(f"monitor web desk on http://{listen}/", flush=True)
    uvicorn.Server(_server(app)).run(sockets=[sock])
    return 0


class _InsideDaemon(uvicorn.Server):
    """A server that leaves the signals to the daemon, which stops it through ``should_exit``."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@dataclass
class RunningDesk:
    app: Starlette
    server: uvicorn.Server
    task: asyncio.Task[None]
    listen: Listen

    def apply(self, config: Config) -> None:
        """A reloaded config: its watchlists and feeds show from the next request (listen and token need a
        restart)."""
        self.app.state.desk.config = config

    async def stop(self) -> None:
        self.server.should_exit = True
        try:
            await asyncio.wait_for(self.task, STOP_TIMEOUT)
        except TimeoutError:
            log.warning("web desk did not stop within %gs", STOP_TIMEOUT)


async def start_in_loop(config: Config, listen: Listen) -> RunningDesk:
    """Start the desk as a task of the running loop; returns once it accepts connections."""
    sock = bind(listen)
    app = create_app(config)
    server = _InsideDaemon(_server(app))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started and not task.done():
        await asyncio.sleep(0.02)
    if task.done():
        task.result()  # re-raises what stopped it
        raise ListenError(f"the web desk on {listen} stopped at start")
    log.info("web desk on http://%s/", listen)
    return RunningDesk(app, server, task, listen)
