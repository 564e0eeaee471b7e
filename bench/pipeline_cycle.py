"""One poll cycle through the real code, in its own process, measured: ``python -m bench.pipeline_cycle CONFIG``
(``--changed CONTROL [--forget]``: the second of two cycles, the farm changed in between).

Builds the runtime exactly as ``monitor poll`` does (``load_config`` + ``open_runtime``), runs
``pipeline.poll_many`` over every configured feed, and prints one JSON line: wall and CPU time of the cycle
(this process and its worker processes, less the CPU the benchmark's memory sampling took, reported apart),
peak resident memory of each, the database commits a feed, and the poll outcomes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def process_tree(root: int) -> list[int]:
    """``root`` and every process descended from it, from /proc."""
    parents: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        parents[int(entry.name)] = int(stat.rpartition(")")[2].split()[1])
    tree = [root]
    for pid in tree:
        tree.extend(child for child, parent in parents.items() if parent == pid)
    return tree


def process_usage(pid: int) -> tuple[float, int, int, float]:
    """(CPU seconds, resident bytes now, peak resident bytes, CPU seconds of its children that ended and were
    waited for) of one process; zeros when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0, 0, 0, 0.0
    cpu = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    reaped = (int(fields[13]) + int(fields[14])) / CLOCK_TICKS
    rss = int(fields[21]) * PAGE_SIZE
    peak = next((int(line.split()[1]) * 1024 for line in status.splitlines() if line.startswith("VmHWM")), 0)
    return cpu, rss, peak, reaped


def tree_usage(root: int) -> dict[int, tuple[float, int, int, float]]:
    return {pid: process_usage(pid) for pid in process_tree(root)}


def tree_pss(root: int) -> int:
    """Proportional set size of a process and its descendants, bytes: a page shared by n counts 1/n in each."""
    total = 0
    for pid in process_tree(root):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1]) * 1024
    return total


async def sample_pss(peak: list[int], spent: list[float], every: float = 0.5) -> None:
    """Keep the highest PSS of this process tree in ``peak[0]`` until cancelled, and the CPU seconds the sampling
    itself took in ``spent[0]``: a sample reads every process's /proc entries, some 5 ms, and one a half second
    would otherwise count about 1 ms a feed against the main process (more, the longer a loaded machine makes
    the cycle)."""
    while True:
        began = time.thread_time()
        peak[0] = max(peak[0], tree_pss(os.getpid()))
        spent[0] += time.thread_time() - began
        await asyncio.sleep(every)


async def cycle(config_path: Path, changed: str | None = None, forget: bool = False) -> dict[str, object]:
    """The cycle measured. ``changed``: the farm's control address; a first cycle is run unmeasured, the farm then
    adds a new entry to as many of its feeds as are polled (those it rewrites, in turn), and the second cycle is
    the one measured: the steady state of a daemon whose feeds change. ``forget``: the pipeline forgets, between
    the two, what its feed reads saw (``Pipeline.told``), as a daemon that has just started has not seen it."""
    # Imported here, not with the module: the worker processes import the main module again (this one, as they
    # import the `monitor` script in a real poll), and a real worker does not import the runtime.
    import httpx
    from sqlalchemy import event

    from monitor.runtime import load_config, open_runtime

    config = load_config(config_path)
    opened = time.monotonic()
    peak_pss = [0]
    sampling = [0.0]
    commits = [0]

    def count_commit(_connection: object) -> None:
        commits[0] += 1

    async with open_runtime(config) as runtime:
        if changed is not None:
            await runtime.pipeline.poll_many(config.jobs, datetime.now(UTC))
            feeds = len(config.jobs)
            httpx.post(f"{changed}/_farm/advance", params={"new": feeds, "feeds": feeds}).raise_for_status()
            if forget:
                runtime.pipeline.told.clear()
        setup = time.monotonic() - opened
        event.listen(runtime.store.engine, "commit", count_commit)
        before = tree_usage(os.getpid())
        sampler = asyncio.create_task(sample_pss(peak_pss, sampling))
        started = time.monotonic()
        results = await runtime.pipeline.poll_many(config.jobs, datetime.now(UTC))
        wall = time.monotonic() - started
        after = tree_usage(os.getpid())
        sampler.cancel()
        peak_pss[0] = max(peak_pss[0], tree_pss(os.getpid()))
    statuses = Counter(r.status for r in results)
    # The benchmark's own memory sampling is not the cycle's: taken out of both.
    # Every process of the tree, with the processes that ended during the cycle: a worker is replaced after
    # its last task (``workers.MAX_TASKS``), and its CPU is then counted in its parent's waited-for children.
    cpu = sum(u[0] + u[3] for u in after.values()) - sum(u[0] + u[3] for u in before.values())
    cpu -= sampling[0]
    main_cpu = after[os.getpid()][0] - before[os.getpid()][0] - sampling[0]
    return {
        "feeds": len(results),
        "wall_s": round(wall, 3),
        "cpu_s": round(cpu, 3),
        "cpu_main_s": round(main_cpu, 3),
        "cpu_sampling_s": round(sampling[0], 3),
        "setup_s": round(setup, 3),
        "processes": len(after),
        "peak_pss_mb": round(peak_pss[0] / 2**20, 1),
        "peak_rss_mb": round(sum(u[2] for u in after.values()) / 2**20, 1),
        "peak_rss_main_mb": round(after[os.getpid()][2] / 2**20, 1),
        "statuses": dict(statuses),
        "new_entries": sum(r.new_entries for r in results),
        "commits_per_feed": round(commits[0] / max(len(results), 1), 2),
        "hits": sum(r.hits for r in results),
        "page_errors": sum(len(r.page_errors) for r in results),
        "errors": sorted({r.error or "" for r in results if r.status == "error"})[:5],
    }


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    arguments = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    arguments.add_argument("config", type=Path)
    arguments.add_argument(
        "--changed", metavar="CONTROL", help="measure a second cycle after the farm changed"
    )
    arguments.add_argument("--forget", action="store_true", help="with --changed: forget what the reads saw")
    options = arguments.parse_args()
    print(json.dumps(asyncio.run(cycle(options.config, options.changed, options.forget))))
