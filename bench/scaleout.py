"""Scale-out benchmark (`python -m bench scaleout`): one, two and three `monitor run` daemons sharing one PostgreSQL
database poll the latency farm (3,000 feeds, 100 ms before every response), with the database statements, commits
and pool checkouts counted in each daemon (``bench.scaleout_daemon``).

The farm (``bench.farm``) runs in its own process. A database is first prepared once (every feed known with the
ETag the farm serves it under) and copied for each run, so that every run measures the same steady state:
each feed always overdue (interval 10 s), answered 304 after 100 ms (its ETag preset to the farm's). Each daemon may have ``CONNECTIONS`` fetches
in flight, so that the farm's latency, not the CPU, bounds one daemon. Needs PostgreSQL at MONITOR_BENCH_PG_URL
(default postgresql+psycopg://postgres@127.0.0.1:5432/test) and the corpus at MONITOR_CORPUS.
Writes bench/results/scaleout.json and the "Scale-out" section of docs/benchmarks.md.
"""

from __future__ import annotations

import json
import os
import platform
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg
from sqlalchemy import bindparam, create_engine, func, select, text, update
from sqlalchemy.engine import make_url

from bench.common import write_section
from monitor.store.tables import daemons, feeds

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "scaleout.json"
DOC = ROOT / "docs" / "benchmarks.md"
FEEDS = 3000
PORTS = 100
LATENCY = 0.1
CONNECTIONS = 2  # fetches in flight per daemon: 2 / 100 ms bounds one daemon at 20 feeds/s
MEASURE = 40.0  # seconds measured per run, after the daemons started and RAMP passed
RAMP = 5.0
PG_URL = os.environ.get("MONITOR_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _admin(*statements: str) -> None:
    libpq = make_url(PG_URL).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(libpq, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def _db_url(name: str) -> str:
    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


class Farm:
    def __init__(self, workdir: Path) -> None:
        ready = workdir / "farm.json"
        command = [sys.executable, "-m", "bench.farm", "--feeds", str(FEEDS), "--ports", str(PORTS)]
        command += ["--items", "2", "--feeds-only", "--lifetime", "3600", "--ready-file", str(ready)]
        self.process = subprocess.Popen(command, cwd=ROOT)
        deadline = time.monotonic() + 120
        while not ready.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the feed farm did not start")
            time.sleep(0.2)
        time.sleep(0.5)
        info = json.loads(ready.read_text())
        self.control: str = info["control"]
        self.feeds: list[str] = info["feeds"]
        self.client = httpx.Client(timeout=30)

    def latency(self, seconds: float) -> None:
        self.client.post(f"{self.control}/_farm/latency", params={"seconds": seconds})

    def requests(self) -> int:
        return int(self.client.get(f"{self.control}/_farm/stats").json()["requests"])

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def write_config(folder: Path, database: str, farm: Farm, connections: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lines = [
        "[monitor]",
        f"database = {json.dumps(database)}",
        "fulltext = false",
        'timeout = "10s"',
        'lease = "30s"',
        f"max_connections = {connections}",
        "workers = 1",
        'log_level = "warning"',
    ]
    for i, url in enumerate(farm.feeds):
        lines += ["", "[[feed]]", f'name = "f{i:04d}"', f'url = "{url}"', 'interval = "10s"']
    lines += ["", "[[watchlist]]", 'name = "w"', 'terms = ["Zephyrquill"]', 'notify = ["log"]']
    lines += ["", "[[notifier]]", 'name = "log"', "urls = []"]
    path = folder / "monitor.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def start_daemons(config: Path, count: int, workdir: Path) -> list[tuple[subprocess.Popen[bytes], Path]]:
    started = []
    for i in range(count):
        counts = workdir / f"counts{i}.json"
        log = (workdir / f"daemon{i}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "bench.scaleout_daemon", str(config), str(counts)],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        started.append((process, counts))
    return started


def stop_daemons(running: list[tuple[subprocess.Popen[bytes], Path]]) -> None:
    for process, _ in running:
        process.send_signal(signal.SIGTERM)
    for process, _ in running:
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def counts(running: list[tuple[subprocess.Popen[bytes], Path]]) -> dict[str, int]:
    total = {"statements": 0, "commits": 0, "checkouts": 0}
    for _, path in running:
        if path.exists():
            for key, value in json.loads(path.read_text()).items():
                total[key] += value
    return total


def warm(farm: Farm) -> str:
    """A database in the steady state: every feed known with the ETag the farm serves it under, so that every
    poll is answered 304 (no entry changes during the benchmark)."""
    from monitor.store import Store

    name = f"monitor_bench_{secrets.token_hex(4)}"
    _admin(f"CREATE DATABASE {name}")
    store = Store.open(_db_url(name))
    try:
        store.sync_feeds({f"f{i:04d}": url for i, url in enumerate(farm.feeds)})
        with store.engine.begin() as conn:
            conn.execute(
                update(feeds).where(feeds.c.name == bindparam("feed")).values(etag=bindparam("tag")),
                [{"feed": f"f{i:04d}", "tag": f'"f{i}-0"'} for i in range(len(farm.feeds))],
            )
    finally:
        store.close()
    return name


def run(farm: Farm, template: str, count: int, workdir: Path) -> dict[str, Any]:
    name = f"monitor_bench_{secrets.token_hex(4)}"
    _admin(f"CREATE DATABASE {name} TEMPLATE {template}")
    engine = create_engine(_db_url(name))
    with engine.begin() as conn:  # every feed due now, nobody holding one, no daemon recorded
        conn.execute(daemons.delete())
    config = write_config(workdir / f"run{count}", _db_url(name), farm, CONNECTIONS)
    running = start_daemons(config, count, workdir / f"run{count}")
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            with engine.begin() as conn:
                if conn.scalar(select(func.count()).select_from(daemons)) == count:
                    break
            time.sleep(0.5)
        time.sleep(RAMP)
        requests0, counts0, t0 = farm.requests(), counts(running), time.monotonic()
        load0 = os.getloadavg()[0]
        time.sleep(MEASURE)
        requests1, counts1, t1 = farm.requests(), counts(running), time.monotonic()
        load1 = os.getloadavg()[0]
    finally:
        stop_daemons(running)
        engine.dispose()
        _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    polls = requests1 - requests0
    per_feed = {key: round((counts1[key] - counts0[key]) / max(polls, 1), 2) for key in counts0}
    return {
        "daemons": count,
        "feeds_per_s": round(polls / (t1 - t0), 1),
        "polls": polls,
        "seconds": round(t1 - t0, 1),
        "per_feed": per_feed,
        "load": [round(load0, 2), round(load1, 2)],
    }


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="monitor-bench-scaleout-"))
    farm = Farm(workdir)
    template = None
    try:
        print(f"== warming a database: {FEEDS} feeds on {PORTS} ports", flush=True)
        template = warm(farm)
        farm.latency(LATENCY)
        results = []
        for count in (1, 2, 3):
            result = run(farm, template, count, workdir)
            print(f"   {count} daemon(s): {result}", flush=True)
            results.append(result)
    finally:
        farm.stop()
        if template:
            _admin(f"DROP DATABASE IF EXISTS {template} WITH (FORCE)")
    one = results[0]["feeds_per_s"]
    out = {
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "postgresql": _server_version(),
        "feeds": FEEDS,
        "latency_s": LATENCY,
        "connections_per_daemon": CONNECTIONS,
        "measure_s": MEASURE,
        "runs": results,
        "speedup": {str(r["daemons"]): round(r["feeds_per_s"] / one, 2) if one else None for r in results},
    }
    RESULTS.write_text(json.dumps(out, indent=2) + "\n")
    write_section(DOC, _section(out))
    print(json.dumps(out["speedup"]))


def _server_version() -> str:
    engine = create_engine(PG_URL)
    try:
        with engine.begin() as conn:
            return str(conn.scalar(text("SHOW server_version")))
    finally:
        engine.dispose()


def _bound(out: dict[str, Any], run: dict[str, Any]) -> str:
    """What bounded a run: the farm when it reached 90 % of what the fetches in flight allow, else the CPU."""
    farm = run["daemons"] * out["connections_per_daemon"] / out["latency_s"]
    return f"farm ({farm:g}/s)" if run["feeds_per_s"] >= 0.9 * farm else f"CPU (farm allows {farm:g}/s)"


def _section(out: dict[str, Any]) -> str:
    rows = "\n".join(
        f"| {r['daemons']} | {r['feeds_per_s']} | {out['speedup'][str(r['daemons'])]}× | "
        f"{r['per_feed']['statements']} | {r['per_feed']['commits']} | {r['per_feed']['checkouts']} | "
        f"{r['load'][0]}–{r['load'][1]} | {_bound(out, r)} |"
        for r in out["runs"]
    )
    return f"""## Scale-out

`python -m bench scaleout` ({out["when"]}; {out["machine"]}; PostgreSQL {out["postgresql"]} on the same
machine). One, two and three `monitor run` daemons share one PostgreSQL database and poll the latency farm:
{out["feeds"]} feeds on 100 ports of 127.0.0.1, {out["latency_s"] * 1000:g} ms before every response, every feed
overdue (interval 10 s) and answered 304 (each feed's ETag preset to the farm's in a database copied for each
run). Each daemon has {out["connections_per_daemon"]} fetches in flight (`max_connections`), so that the farm
allows one daemon {out["connections_per_daemon"] / out["latency_s"]:g} feeds/s. Measured over {out["measure_s"]:g} s
per run after the daemons started. Round trips are counted in each daemon by SQLAlchemy event listeners:
statements sent, transactions committed and pool checkouts (each checkout pings the server: one more round
trip; psycopg's BEGIN is one more per transaction).

| daemons | feeds/s | vs one | statements/feed | commits/feed | checkouts/feed | load average | bound by |
|---|---|---|---|---|---|---|---|
{rows}

A run reaching 90 % of what its fetches in flight allow is bound by the farm; below that the CPU bounded it.
The load average (the machine's 2 cores are shared with other work) is given for each run: well above 2, each
daemon gets a fraction of a core, and adding daemons adds CPU share as much as fetch slots. Per feed, a 304
poll costs about 4 transactions of its own (read the feed's state and health, record the poll, release the
lease); claims and renewals are amortised over a batch, and the check that a lease is still held before
storing costs no round trip (a local deadline no later than the database's expiry).
"""
