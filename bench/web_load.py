"""The web benchmark's load generator, run as a process of its own: CONCURRENCY clients (httpx AsyncClient,
keep-alive) each asking for PATH again and again for SECONDS; prints the latencies and counts as JSON.

    python -m bench.web_load URL TOKEN SECONDS CONCURRENCY
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

import httpx

WARM_UP = 2.0  # seconds of requests not counted: the server's caches and the connections get going


async def _client(
    client: httpx.AsyncClient, url: str, until: float, counted_from: float, out: dict[str, Any]
) -> None:
    while True:
        started = time.perf_counter()
        if started >= until:
            return
        try:
            response = await client.get(url)
            await response.aread()
            status = response.status_code
        except httpx.HTTPError as exc:
            status = type(exc).__name__
        elapsed = time.perf_counter() - started
        if started >= counted_from:
            out["latencies"].append(elapsed)
            if status != 200:
                out["errors"][str(status)] = out["errors"].get(str(status), 0) + 1


async def run(url: str, token: str, seconds: float, concurrency: int) -> dict[str, Any]:
    out: dict[str, Any] = {"latencies": [], "errors": {}}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(headers=headers, limits=limits, timeout=30.0) as client:
        counted_from = time.perf_counter() + WARM_UP
        until = counted_from + seconds
        await asyncio.gather(*(_client(client, url, until, counted_from, out) for _ in range(concurrency)))
    out["seconds"] = seconds
    out["concurrency"] = concurrency
    return out


def main(argv: list[str]) -> int:
    url, token, seconds, concurrency = argv[0], argv[1], float(argv[2]), int(argv[3])
    print(json.dumps(asyncio.run(run(url, token, seconds, concurrency))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
