"""Web desk benchmark: the desk served by uvicorn in a process of its own over a SQLite database of 100,000
articles and 10,000 hits (bench/web_data.py), loaded by 20 concurrent clients for 30 s per page from another
process (bench/web_load.py): the inbox page (`/`) and `/api/hits`, as a reader with the token would ask.

Measures: latency p50/p95/p99 and requests per second per page (target: p95 < 100 ms), the server's CPU per
request, and errors. Writes bench/results/web.json and the "Web desk" section of docs/benchmarks.md.
BENCH_WEB_SECONDS and BENCH_WEB_CLIENTS change the load; BENCH_WEB_ARTICLES and BENCH_WEB_HITS the database;
BENCH_WEB_DATABASE=PATH keeps the database at PATH and uses it again when it is there (for profiling runs).
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench import web_data
from bench.common import ROOT, conditions, load_average, publish

RESULTS = ROOT / "bench" / "results" / "web.json"
DOC = ROOT / "docs" / "benchmarks.md"
SECONDS = float(os.environ.get("BENCH_WEB_SECONDS", "30"))
CLIENTS = int(os.environ.get("BENCH_WEB_CLIENTS", "20"))
TOKEN = "bench-web-token"
TARGET_P95_MS = 100.0
# A relative "since" is never kept by the desk's cache (its cutoff moves with every request): the "fresh" rows
# measure the same hits made afresh at every request, the others what repeated readers of one page see.
PAGES = {
    "inbox": "/",
    "api": "/api/hits",
    "inbox, fresh": "/?since=400d",
    "api, fresh": "/api/hits?since=400d",
}
TICKS = os.sysconf("SC_CLK_TCK")


def serve(config_path: str, port: int) -> None:
    """The server process: the desk over the benchmark's database, as `monitor web` would serve it."""
    import uvicorn

    from monitor.config.compiled import load_config
    from monitor.web.app import create_app

    app = create_app(load_config(Path(config_path), os.environ))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def cpu_seconds(pid: int) -> float:
    """User and system CPU a process has used so far (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def wait_until_up(base: str, deadline: float = 60.0) -> None:
    until = time.monotonic() + deadline
    while time.monotonic() < until:
        try:
            if httpx.get(f"{base}/api/hits", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the desk did not answer at {base} within {deadline:.0f} s")


def percentile(ordered: list[float], share: float) -> float:
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def load(base: str, path: str, server_pid: int) -> dict[str, Any]:
    cpu_before = cpu_seconds(server_pid)
    finished = subprocess.run(
        [sys.executable, "-m", "bench.web_load", base + path, TOKEN, str(SECONDS), str(CLIENTS)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    cpu = cpu_seconds(server_pid) - cpu_before
    raw = json.loads(finished.stdout)
    latencies = sorted(raw["latencies"])
    count = len(latencies)
    return {
        "path": path,
        "requests": count,
        "errors": raw["errors"],
        "per_second": count / SECONDS,
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p95_ms": percentile(latencies, 0.95) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "mean_ms": statistics.fmean(latencies) * 1000,
        "server_cpu_ms_per_request": cpu / count * 1000 if count else None,
    }


def prepared_database(folder: Path) -> tuple[Path, dict[str, Any]]:
    kept = os.environ.get("BENCH_WEB_DATABASE")
    database = Path(kept) if kept else folder / "desk.db"
    facts = database.with_suffix(".json")
    if kept and database.exists() and facts.exists():
        built: dict[str, Any] = json.loads(facts.read_text(encoding="utf-8"))
        return database, built
    for stale in database.parent.glob(database.name + "*"):
        stale.unlink()  # a half-made database from an interrupted run
    build_started = time.perf_counter()
    built = web_data.build(database)
    built["seconds"] = time.perf_counter() - build_started
    facts.write_text(json.dumps(built), encoding="utf-8")
    return database, built


def main() -> None:
    load_before = load_average()
    started_at = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="bench-web-") as folder:
        database, built = prepared_database(Path(folder))
        config = Path(folder) / "monitor.toml"
        config.write_text(web_data.config_text(database, TOKEN), encoding="utf-8")
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        code = "import sys, bench.web as w; w.serve(sys.argv[1], int(sys.argv[2]))"
        server = subprocess.Popen([sys.executable, "-c", code, str(config), str(port)], cwd=ROOT, env=env)
        try:
            wait_until_up(base)
            pages = {name: load(base, path, server.pid) for name, path in PAGES.items()}
        finally:
            server.terminate()
            server.wait(timeout=30)
    result = {
        "run_at": started_at.isoformat(timespec="minutes"),
        **conditions(load_before),
        "database": built,
        "clients": CLIENTS,
        "seconds": SECONDS,
        "pages": pages,
    }
    publish(RESULTS, DOC, result, render(result))


def render(r: dict[str, Any]) -> str:
    db = r["database"]
    lines = [
        "## Web desk",
        "",
        f"`python -m bench web`: the desk served by uvicorn (one process, the app as `monitor web` builds it) "
        f"over a SQLite database of {db['articles']:,} articles made from the real corpus news texts and "
        f"{db['hits']:,} hits over five watchlists ({db['labelled']:,} triaged), {db['bytes'] / 1e6:.0f} MB, "
        f"built in {db['seconds']:.0f} s with bulk inserts; {r['clients']} concurrent clients (one keep-alive "
        f"connection each, h11 over asyncio streams, in another process) ask for one page again and again for "
        f"{r['seconds']:.0f} s after a 2 s warm-up, with the token as a bearer header. Machine: {r['machine']}; "
        f"run {r['run_at']} UTC; load average {r['load_before']} before, {r['load_after']} after (the "
        "machine's 2 cores were shared with the load generator and with other work). The desk keeps the "
        "inbox and `/api/hits` answers until the database changes; the rows marked fresh ask with "
        "`since=400d` (all the same hits), which is never kept: every request is made afresh.",
        "",
        "| page | requests/s | p50 (ms) | p95 (ms) | p99 (ms) | server CPU per request (ms) | errors | "
        f"target p95 < {TARGET_P95_MS:.0f} ms |",
        "|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for name, page in r["pages"].items():
        errors = ", ".join(f"{k}: {v}" for k, v in page["errors"].items()) or "none"
        verdict = "pass" if page["p95_ms"] < TARGET_P95_MS else "FAIL"
        cpu = page["server_cpu_ms_per_request"]
        lines.append(
            f"| {name} `{page['path']}` | {page['per_second']:.0f} | {page['p50_ms']:.1f} | "
            f"{page['p95_ms']:.1f} | {page['p99_ms']:.1f} | {cpu:.2f} | {errors} | {verdict} |"
        )
    lines += ["", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
