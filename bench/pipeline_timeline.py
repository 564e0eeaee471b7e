"""Where a poll cycle's wall time goes: ``python -m bench.pipeline_timeline CONFIG OUT.json``.

Runs one cycle as ``bench.pipeline_cycle`` does, with the pipeline's steps timed (wrapped, not changed): per poll
its start and end, its fetch, the wait for a worker, the parse in the worker (wall and CPU), the result's way
back; each ``Store.save_poll`` call, on the store's writer thread (wall, CPU, time waiting for a core); the
event loop's lag; and the loop thread's CPU and run-queue wait from /proc/thread-self/schedstat (the rest of the
wall time it slept: idle, I/O, or waiting for the interpreter lock). Prints the cycle's line and a second-by-second table; writes the raw timeline to OUT.json.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bench import pipeline_cycle
from monitor import poll, poll_read
from monitor.fetch import Fetcher
from monitor.models import ParsedFeed
from monitor.store import Store


def timed_read(
    body: bytes, url: str, headers: Mapping[str, str], entry_details: bool = True
) -> tuple[ParsedFeed, tuple[float, ...]]:
    """``poll_read.read_feed`` in a worker, with when it ran and the CPU it took."""
    began, cpu = time.time(), time.process_time()
    parsed = poll_read.read_feed(body, url, headers, entry_details)
    return parsed, (began, time.time(), time.process_time() - cpu)


def schedstat() -> tuple[float, float]:
    """(CPU seconds, seconds runnable but waiting for a core) of the calling thread."""
    fields = Path("/proc/thread-self/schedstat").read_text().split()
    return int(fields[0]) / 1e9, int(fields[1]) / 1e9


def instrument(log: dict[str, Any]) -> None:
    polls: dict[str, dict[str, float]] = log["polls"]
    current: dict[asyncio.Task[Any], str] = {}
    poll_once, fetch_once, save_once = poll.Pipeline.poll, Fetcher.fetch, Store.save_poll
    poll_many = poll.Pipeline.poll_many

    async def timed_poll(self: poll.Pipeline, job: Any, now: Any, start: Any = None) -> Any:
        times = polls.setdefault(job.name, {"start": time.time()})
        task = asyncio.current_task()
        assert task is not None
        current[task] = job.name
        try:
            return await poll_once(self, job, now, start)
        finally:
            times["end"] = time.time()

    async def timed_fetch(self: Fetcher, url: str, **options: Any) -> Any:
        began = time.time()
        try:
            return await fetch_once(self, url, **options)
        finally:
            name = current.get(asyncio.current_task())  # type: ignore[arg-type]
            if name is not None:
                polls[name].update(fetch0=began, fetch1=time.time())

    async def timed_parse(self: poll.Pipeline, fetched: Any, entry_details: bool = True) -> ParsedFeed:
        headers = dict(fetched.headers)
        headers.pop("content-encoding", None)
        sent = time.time()
        parsed, (began, ended, cpu) = await self.workers.run(
            timed_read,
            fetched.body,
            fetched.final_url,
            headers,
            entry_details,
            timeout=self.limits.extract_timeout,
        )
        name = current[asyncio.current_task()]  # type: ignore[index]
        polls[name].update(sent=sent, worker0=began, worker1=ended, worker_cpu=cpu, back=time.time())
        return parsed

    def timed_save(self: Store, *args: Any, **kwargs: Any) -> Any:
        began, (cpu, waited) = time.time(), schedstat()
        try:
            return save_once(self, *args, **kwargs)
        finally:
            cpu1, waited1 = schedstat()
            log["saves"].append((began, time.time() - began, cpu1 - cpu, waited1 - waited))

    async def lag() -> None:
        while True:
            began = time.monotonic()
            await asyncio.sleep(0.01)
            log["lag"].append((time.time(), time.monotonic() - began - 0.01))

    async def timed_poll_many(self: poll.Pipeline, jobs: Any, now: Any) -> Any:
        log["t0"], log["sched0"] = time.time(), schedstat()
        lagging = asyncio.create_task(lag())
        try:
            return await poll_many(self, jobs, now)
        finally:
            lagging.cancel()
            log["sched1"] = schedstat()

    poll.Pipeline.poll = timed_poll  # type: ignore[method-assign]
    poll.Pipeline._parse = timed_parse  # type: ignore[method-assign]
    poll.Pipeline.poll_many = timed_poll_many  # type: ignore[method-assign]
    Fetcher.fetch = timed_fetch  # type: ignore[method-assign]
    Store.save_poll = timed_save  # type: ignore[method-assign]


def table(log: dict[str, Any]) -> str:
    """Per second of the cycle: poll-seconds spent in each step (so the polls in flight at once), the worker
    seconds (2 = both busy), the writer thread in save_poll, the loop's lag."""
    t0, polls = log["t0"], list(log["polls"].values())
    seconds = int(max(p["end"] for p in polls) - t0) + 1

    def spread(spans: list[tuple[float, float]]) -> list[float]:
        per = [0.0] * seconds
        for began, ended in spans:
            at, end = began - t0, ended - t0
            while at < end:
                step = min(end, int(at) + 1.0)
                per[min(int(at), seconds - 1)] += step - at
                at = step
        return per

    parsed = [p for p in polls if "back" in p]
    columns = {
        "in flight": spread([(p["start"], p["end"]) for p in polls]),
        "fetch": spread([(p["fetch0"], p["fetch1"]) for p in polls if "fetch1" in p]),
        "to worker": spread([(p["sent"], p["worker0"]) for p in parsed]),
        "worker": spread([(p["worker0"], p["worker1"]) for p in parsed]),
        "back": spread([(p["worker1"], p["back"]) for p in parsed]),
        "after": spread([(p["back"], p["end"]) for p in parsed]),
        "save_poll": spread([(s[0], s[0] + s[1]) for s in log["saves"]]),
        "loop lag": spread([(at - lag, at) for at, lag in log["lag"] if lag > 0]),
    }
    lines = ["second | " + " | ".join(columns)]
    lines += [f"{i} | " + " | ".join(f"{c[i]:.1f}" for c in columns.values()) for i in range(seconds)]
    lines.append("total | " + " | ".join(f"{sum(c):.1f}" for c in columns.values()))
    (cpu0, wait0), (cpu1, wait1) = log["sched0"], log["sched1"]
    wall = max(p["end"] for p in polls) - t0
    cpu, waited = cpu1 - cpu0, wait1 - wait0
    lines.append(
        f"loop thread: wall {wall:.2f} s = CPU {cpu:.2f} + waiting for a core {waited:.2f} + asleep "
        f"{wall - cpu - waited:.2f}; in save_poll: wall {sum(s[1] for s in log['saves']):.2f}, CPU "
        f"{sum(s[2] for s in log['saves']):.2f}, waiting for a core {sum(s[3] for s in log['saves']):.2f}; "
        f"workers' parse CPU {sum(p['worker_cpu'] for p in parsed):.2f}"
    )
    return "\n".join(lines)


if __name__ == "__main__":
    record: dict[str, Any] = {"polls": {}, "saves": [], "lag": []}
    instrument(record)
    print(json.dumps(asyncio.run(pipeline_cycle.cycle(Path(sys.argv[1])))))
    print(table(record))
    Path(sys.argv[2]).write_text(json.dumps(record))
