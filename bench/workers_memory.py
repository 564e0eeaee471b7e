"""Memory of the daemon's worker processes: the fork server and two workers, as the daemon starts them (the
feed-reading preload, then ``monitor.worker_start``), after each worker has detected the language of 2,000 real
news articles of the corpus (news-text/finescoop-2020.jsonl). PSS per process, read from /proc/PID/smaps_rollup:
a page shared by n processes counts 1/n in each, so the sum is what the processes take together.

`python -m bench workers_memory` writes its section of docs/benchmarks.md; `python bench/workers_memory.py` with
PYTHONPATH pointing at another tree prints the same line for that tree (to compare two versions side by side).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("MONITOR_CORPUS", ROOT.parent / "shared" / "corpus"))
ARTICLES = 2_000


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


def _pss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _role(pid: int, direct: bool) -> str:
    """The fork server and the resource tracker are children of the main process; workers, of the fork server."""
    command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    if "resource_tracker" in command:
        return "resource tracker"
    return "fork server" if direct and "forkserver" in command else "worker"


def _texts() -> list[str]:
    lines = (CORPUS / "news-text" / "finescoop-2020.jsonl").read_text(encoding="utf-8").splitlines()
    articles = [json.loads(line) for line in lines[:ARTICLES]]
    return [f"{a.get('title', '')} {a.get('summary', '')} {a.get('body', '')}" for a in articles]


async def measure() -> dict[str, float]:
    from monitor.match.language import detect_language
    from monitor.runtime import FEED_PRELOAD
    from monitor.workers import WorkerPool

    texts = _texts()
    pool = WorkerPool(2, preload=(*FEED_PRELOAD, "monitor.worker_start"))
    try:
        await pool.start()
        # each worker detects about half of them; the fork server loaded the model before forking them
        await asyncio.gather(*(pool.run(detect_language, text, timeout=60) for text in texts))
        roles: dict[str, float] = {}
        direct = _children(os.getpid())
        for pid, is_direct in [(pid, True) for pid in direct] + [
            (c, False) for p in direct for c in _children(p)
        ]:
            role = _role(pid, is_direct)
            roles[role] = roles.get(role, 0.0) + _pss_mb(pid)
        roles["main process"] = _pss_mb(os.getpid())
        return roles
    finally:
        pool.close()


def line() -> str:
    """The measurement, with the model's cache file in a folder of its own, so that no other process mapping the
    same file (a test run, another daemon) takes a share of its pages."""
    if "BENCH_CACHE_DIR" not in os.environ:
        os.environ["BENCH_CACHE_DIR"] = tempfile.mkdtemp(prefix="bench-langid-")
    os.environ["MONITOR_CACHE_DIR"] = os.environ["BENCH_CACHE_DIR"]  # inherited by the fork server
    roles = asyncio.run(measure())
    workers = roles.get("fork server", 0) + roles.get("worker", 0)
    parts = ", ".join(f"{role} {mb:.1f}" for role, mb in sorted(roles.items()))
    return f"fork server + 2 workers: {workers:.1f} MB PSS ({parts})"


def main() -> None:
    from bench.common import write_section

    print(line(), flush=True)  # a first pass writes the model's cache file
    measured = line()
    print(measured, flush=True)
    load = os.getloadavg()[0]
    write_section(
        ROOT / "docs" / "benchmarks.md",
        "\n".join(
            [
                "## Worker memory",
                "",
                "`python -m bench workers_memory`: the daemon's worker processes started as the daemon starts them (the",
                f"feed-reading preload, then the language model), each worker then detecting the language of about"
                f" {ARTICLES // 2:,} real news",
                "articles of the corpus; PSS per role, MB, read from /proc (shared pages counted 1/n in each of the n",
                "processes that map them; the model's cache file in a folder of its own, so that no other process",
                f"shares its pages). Load average {load:.1f} on {os.cpu_count()} cores.",
                "",
                f"- {measured}",
                "",
            ]
        ),
    )


if __name__ == "__main__":
    line()  # the first pass writes the model's cache file (a tree without one ignores it)
    print(line())
    sys.exit(0)
