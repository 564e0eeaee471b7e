"""The web benchmark's load generator, run as a process of its own: CONCURRENCY clients, each on one keep-alive
HTTP/1.1 connection (asyncio streams and h11, the HTTP parser httpx itself uses, without httpx's layers: the
generator shares the machine's cores with the server, so it must cost little per request), asking for PATH
again and again for SECONDS; prints the latencies and counts as JSON. Cookies the server sets (the session)
are sent back, as a browser would.

    python -m bench.web_load URL TOKEN SECONDS CONCURRENCY
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlsplit

import h11

WARM_UP = 2.0  # seconds of requests not counted: the server's caches and the connections get going
READ = 65536


class Connection:
    """One keep-alive connection to the server."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.state = h11.Connection(h11.CLIENT)
        self.cookies: dict[str, str] = {}

    async def get(self, target: str, headers: list[tuple[str, str]]) -> int:
        """One GET: the status, after the whole body was read."""
        if self.writer is None or self.reader is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            self.state = h11.Connection(h11.CLIENT)
        sent = [("host", f"{self.host}:{self.port}"), *headers]
        if self.cookies:
            sent.append(("cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items())))
        self.writer.write(self.state.send(h11.Request(method="GET", target=target, headers=sent)))
        self.writer.write(self.state.send(h11.EndOfMessage()))
        status = 0
        while True:
            event = self.state.next_event()
            if event is h11.NEED_DATA:
                self.state.receive_data(await self.reader.read(READ))
            elif isinstance(event, h11.Response):
                status = event.status_code
                for name, value in event.headers:
                    if name == b"set-cookie":
                        for key, morsel in SimpleCookie(value.decode("latin-1")).items():
                            self.cookies[key] = morsel.value
            elif isinstance(event, (h11.EndOfMessage, h11.ConnectionClosed)):
                break
        if self.state.our_state is h11.DONE and self.state.their_state is h11.DONE:
            self.state.start_next_cycle()
        else:
            self.writer.close()
            self.reader = self.writer = None
        return status


async def _client(url: str, token: str, until: float, counted_from: float, out: dict[str, Any]) -> None:
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    connection = Connection(parts.hostname or "127.0.0.1", parts.port or 80)
    headers = [("authorization", f"Bearer {token}")]
    while True:
        started = time.perf_counter()
        if started >= until:
            return
        try:
            status: int | str = await connection.get(target, headers)
        except (OSError, h11.ProtocolError) as exc:
            status = type(exc).__name__
            connection = Connection(connection.host, connection.port)
        elapsed = time.perf_counter() - started
        if started >= counted_from:
            out["latencies"].append(elapsed)
            if status != 200:
                out["errors"][str(status)] = out["errors"].get(str(status), 0) + 1


async def run(url: str, token: str, seconds: float, concurrency: int) -> dict[str, Any]:
    out: dict[str, Any] = {"latencies": [], "errors": {}}
    counted_from = time.perf_counter() + WARM_UP
    until = counted_from + seconds
    await asyncio.gather(*(_client(url, token, until, counted_from, out) for _ in range(concurrency)))
    out["seconds"] = seconds
    out["concurrency"] = concurrency
    return out


def main(argv: list[str]) -> int:
    url, token, seconds, concurrency = argv[0], argv[1], float(argv[2]), int(argv[3])
    print(json.dumps(asyncio.run(run(url, token, seconds, concurrency))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
