"""Pipeline benchmark: poll cycles and the daemon against a loopback feed farm (`python -m bench pipeline`).

Scenarios, each through the real code (``bench.pipeline_cycle`` runs ``open_runtime`` + ``poll_many`` in its
own process; the soak runs ``monitor run``):

1. cold cycle, 1,000 feeds, full text off;  2. warm cycle, nothing changed (all 304);
3. full-text cycle, 1,000 new entries whose pages are fetched and extracted;
4. cold cycles at 100, 1,000 and 5,000 feeds;  5. soak: the daemon on 1,000 feeds at a short interval;
6. alert latency: a marked entry appearing in a feed until its alert reaches a local SMTP server.

Floors and the naive baseline are measured in the same run on the same bytes (``bench.pipeline_floors``).
The farm (``bench.farm``) runs in its own process. Writes bench/results/pipeline.json and the "Pipeline"
section of docs/benchmarks.md. ``BENCH_SOAK_SECONDS`` shortens or lengthens the soak (default 120).
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import json
import os
import platform
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from bench import pipeline_floors as floors
from bench.common import write_section
from bench.farm import MAX_TEMPLATE_SIZE
from bench.pipeline_cycle import process_tree, process_usage

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "pipeline.json"
DOC = ROOT / "docs" / "benchmarks.md"
PYTHON = sys.executable
SCALE = (100, 1_000, 5_000)
MAIN = 1_000
FARM_PORTS = 100  # distinct "hosts": the fetcher's per-host limit applies as it would on the web
NAIVE_SAMPLE = 250  # feeds the naive baseline is timed on; its time is scaled to 1,000 feeds
NETWORK_LATENCY = 0.1  # seconds per response in the "as on the web" variant of the cold cycle
NAIVE_NET_SAMPLE = 100
SOAK_INTERVAL = 30
SOAK_NEW_EVERY = 5.0
SOAK_NEW = 10
MARKER = "Zorbluxite"
WATCHLIST_TERMS = ["Wescam", "L3Harris", "Baykar", "Bayraktar", "export permit*", "arms embargo", "Apple"]


# ---- the farm and configs ------------------------------------------------------------------------------


class FarmProcess:
    def __init__(self, feeds: int, lifetime: float, workdir: Path) -> None:
        ready = workdir / "farm.json"
        self.process = subprocess.Popen(
            [
                PYTHON,
                "-m",
                "bench.farm",
                "--feeds",
                str(feeds),
                "--ports",
                str(FARM_PORTS),
                "--lifetime",
                str(lifetime),
                "--ready-file",
                str(ready),
            ],
            cwd=ROOT,
        )
        deadline = time.monotonic() + 60
        while not ready.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the feed farm did not start")
            time.sleep(0.1)
        info = json.loads(ready.read_text())
        self.control: str = info["control"]
        self.feeds: list[str] = info["feeds"]
        self.templates: list[str] = info["templates"]
        self.client = httpx.Client(timeout=30)

    def advance(self, new: int, among: int, title: str | None = None) -> list[str]:
        params: dict[str, str | int] = {"new": new, "feeds": among}
        if title:
            params["title"] = title
        pages: list[str] = self.client.post(f"{self.control}/_farm/advance", params=params).json()["pages"]
        return pages

    def set_latency(self, seconds: float) -> None:
        self.client.post(f"{self.control}/_farm/latency", params={"seconds": seconds})

    def stats(self) -> dict[str, Any]:
        stats: dict[str, Any] = self.client.get(f"{self.control}/_farm/stats").json()
        return stats

    def stop(self) -> None:
        self.client.close()
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


def write_config(
    path: Path, feeds: list[str], *, fulltext: bool, interval: int = 900, smtp: str | None = None
) -> Path:
    database = path.with_suffix(".db")
    lines = [
        "[monitor]",
        f'database = "sqlite:///{database}"',
        f"fulltext = {'true' if fulltext else 'false'}",
        f'interval = "{interval}s"',
        'log_level = "warning"',
        "",
    ]
    for index, url in enumerate(feeds):
        lines += ["[[feed]]", f'name = "feed-{index:05d}"', f'url = "{url}"', ""]
    lines += ["[[watchlist]]", 'name = "arms-exports"', f"terms = {json.dumps(WATCHLIST_TERMS)}"]
    lines += ['exclude = ["hockey"]', ""]
    if smtp:
        lines += ["[[watchlist]]", 'name = "marker"', f'terms = ["{MARKER}"]', 'notify = ["desk"]', ""]
        lines += ["[[notifier]]", 'name = "desk"', f'urls = ["{smtp}"]', ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def fresh(config: Path) -> Path:
    for suffix in (".db", ".db-wal", ".db-shm"):
        config.with_suffix(suffix).unlink(missing_ok=True)
    return config


def run_cycle(config: Path) -> dict[str, Any]:
    done = subprocess.run(
        [PYTHON, "-m", "bench.pipeline_cycle", str(config)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"   cycle {config.stem}: {result}")
    return result


# ---- floors ---------------------------------------------------------------------------------------------


def tuned_download(
    urls: list[str], conditional: dict[str, dict[str, str]] | None = None
) -> tuple[float, list[floors.Fetched], int]:
    """The best download of a few concurrency levels: (seconds, bodies, concurrency)."""
    best: tuple[float, list[floors.Fetched], int] | None = None
    for concurrency in (20, 100):
        floors.FLOOR_CONCURRENCY = concurrency
        elapsed, fetched = floors.download_floor(urls, conditional, runs=1)
        if best is None or elapsed < best[0]:
            best = (elapsed, fetched, concurrency)
    assert best is not None
    return best


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


# ---- SMTP and the soak ----------------------------------------------------------------------------------


class Mailbox:
    def __init__(self) -> None:
        self.arrivals: dict[str, float] = {}
        self.messages = 0

    async def handle_DATA(self, smtp: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.content if isinstance(envelope.content, bytes) else b""
        message = email.message_from_bytes(content, policy=email.policy.default)
        text = str(message.get("Subject", "")) + " " + message.as_string()
        self.messages += 1
        for marker in set(re.findall(rf"{MARKER} \d+", text)):
            self.arrivals.setdefault(marker, time.time())
        return "250 OK"


@contextlib.contextmanager
def smtp_server() -> Iterator[tuple[Mailbox, str]]:
    mailbox = Mailbox()
    with socket.socket() as probe:  # a free port, bound and released
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox, f"mailto://127.0.0.1:{port}?from=monitor@example.org&to=desk@example.org"
    finally:
        controller.stop()


def tree_memory(root: int) -> tuple[float, float, int]:
    """(resident MB summed over the tree, proportional-set MB summed, processes) of a process and its children."""
    rss = pss = 0
    pids = process_tree(root)
    for pid in pids:
        rss += process_usage(pid)[1]
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    pss += int(line.split()[1]) * 1024
    return rss / 2**20, pss / 2**20, len(pids)


def soak(farm: FarmProcess, config_dir: Path, seconds: float) -> dict[str, Any]:
    """``monitor run`` on the 1,000 feeds polled before (warm database), new entries arriving all along."""
    with smtp_server() as (mailbox, smtp_url):
        config = write_config(
            config_dir / "c1000.toml", farm.feeds[:MAIN], fulltext=True, interval=SOAK_INTERVAL, smtp=smtp_url
        )
        log = (config_dir / "soak.log").open("w")
        daemon = subprocess.Popen(
            [str(Path(PYTHON).parent / "monitor"), "--config", str(config), "run"],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        samples: list[dict[str, float]] = []
        injected: dict[str, float] = {}
        markers_at = [seconds * f for f in (0.3, 0.45, 0.6, 0.75)]
        started = time.monotonic()
        next_new = started + SOAK_NEW_EVERY
        try:
            while (elapsed := time.monotonic() - started) < seconds:
                rss, pss, processes = tree_memory(daemon.pid)
                samples.append({"t": round(elapsed, 1), "rss_mb": round(rss, 1), "pss_mb": round(pss, 1)})
                samples[-1]["processes"] = processes
                if time.monotonic() >= next_new:
                    farm.advance(SOAK_NEW, MAIN)
                    next_new += SOAK_NEW_EVERY
                if markers_at and elapsed >= markers_at[0]:
                    markers_at.pop(0)
                    title = f"{MARKER} {len(injected) + 1}"
                    injected[title] = time.time()
                    farm.advance(1, MAIN, title)
                time.sleep(1.0)
            grace = time.monotonic() + 2 * SOAK_INTERVAL  # let the last marked entries arrive
            while set(injected) - set(mailbox.arrivals) and time.monotonic() < grace:
                time.sleep(0.5)
        finally:
            daemon.send_signal(signal.SIGTERM)
            try:
                daemon.wait(30)
            except subprocess.TimeoutExpired:
                daemon.kill()
            log.close()
        fetched = farm.stats()["first_fetch"]
    return {"samples": samples, **latency(injected, fetched, mailbox.arrivals), "emails": mailbox.messages}


def latency(
    injected: dict[str, float], fetched: dict[str, float], arrived: dict[str, float]
) -> dict[str, Any]:
    rows = []
    for title, appeared in injected.items():
        rows.append(
            {
                "entry": title,
                "total_s": round(arrived[title] - appeared, 2) if title in arrived else None,
                "after_poll_s": round(arrived[title] - fetched[title], 2)
                if title in arrived and title in fetched
                else None,
                "wait_for_poll_s": round(fetched[title] - appeared, 2) if title in fetched else None,
            }
        )
    return {"latency": rows}


def memory_summary(samples: list[dict[str, float]], seconds: float) -> dict[str, Any]:
    """Peak, and growth: the median of the last fifth of the soak against the fifth after warm-up."""
    warm = [s["pss_mb"] for s in samples if seconds * 0.3 <= s["t"] < seconds * 0.5]
    last = [s["pss_mb"] for s in samples if s["t"] >= seconds * 0.8]
    early, late = statistics.median(warm or [0.0]), statistics.median(last or [0.0])
    return {
        "peak_pss_mb": max(s["pss_mb"] for s in samples),
        "peak_rss_sum_mb": max(s["rss_mb"] for s in samples),
        "after_warmup_pss_mb": early,
        "end_pss_mb": late,
        "growth_pct": round((late / early - 1) * 100, 1) if early else None,
    }


# ---- the run --------------------------------------------------------------------------------------------


def measure(workdir: Path, soak_seconds: float) -> dict[str, Any]:
    farm = FarmProcess(max(SCALE), lifetime=1800 + soak_seconds, workdir=workdir)  # stopped when done
    out: dict[str, Any] = {"load_before": load(), "templates": len(farm.templates)}
    try:
        feeds = farm.feeds[:MAIN]
        print(
            f"== farm: {len(farm.feeds)} feeds from {len(farm.templates)} corpus feeds on {FARM_PORTS} ports"
        )

        # 1. cold cycle and its floors
        config = fresh(write_config(workdir / "c1000.toml", feeds, fulltext=False))
        download_s, bodies, concurrency = tuned_download(feeds)
        parse_cpu = floors.parse_cpu(bodies)
        naive_s, naive_entries = floors.naive_baseline(feeds[:NAIVE_SAMPLE])
        cold = run_cycle(config)
        out["corpus"] = {
            "feed_mb": round(sum(len(b.body) for b in bodies) / 2**20, 1),
            "entries": cold["new_entries"],
        }
        out["cold"] = {
            **cold,
            "download_floor_s": round(download_s, 3),
            "floor_concurrency": concurrency,
            "parse_cpu_s": round(parse_cpu, 3),
            "parse_floor_s": round(parse_cpu / floors.CORES, 3),
            "naive_s": round(naive_s * MAIN / NAIVE_SAMPLE, 2),
            "naive_sample_feeds": NAIVE_SAMPLE,
            "naive_sample_s": round(naive_s, 2),
            "naive_entries": naive_entries,
        }

        # 1b. the same against the naive loop when each response takes as long as on the web
        farm.set_latency(NETWORK_LATENCY)
        naive_net_s, _ = floors.naive_baseline(feeds[:NAIVE_NET_SAMPLE])
        cold_net = run_cycle(fresh(write_config(workdir / "c1000net.toml", feeds, fulltext=False)))
        farm.set_latency(0.0)
        out["cold_network"] = {
            **cold_net,
            "latency_s": NETWORK_LATENCY,
            "naive_s": round(naive_net_s * MAIN / NAIVE_NET_SAMPLE, 2),
            "naive_sample_feeds": NAIVE_NET_SAMPLE,
        }

        # 2. warm cycle: nothing changed
        conditional = {b.url: {"if-none-match": b.headers["etag"]} for b in bodies}
        warm_floor, _, concurrency = tuned_download(feeds, conditional)
        warm = run_cycle(config)
        out["warm"] = {**warm, "download_floor_s": round(warm_floor, 3), "floor_concurrency": concurrency}

        # 3. full text: one new entry in each feed
        pages = farm.advance(MAIN, MAIN)
        config = write_config(workdir / "c1000.toml", feeds, fulltext=True)
        feed_s, feed_bodies, _ = tuned_download(feeds)
        page_s, page_bodies, _ = tuned_download(pages)
        both_s, _, _ = tuned_download(feeds + pages)
        extract_cpu = floors.extraction_cpu(page_bodies)
        parse_changed = floors.parse_cpu(feed_bodies)
        full = run_cycle(config)
        out["fulltext"] = {
            **full,
            "pages": len(pages),
            "page_mb": round(sum(len(b.body) for b in page_bodies) / 2**20, 1),
            "download_floor_s": round(both_s, 3),
            "feeds_download_s": round(feed_s, 3),
            "pages_download_s": round(page_s, 3),
            "extract_cpu_s": round(extract_cpu, 3),
            "extraction_floor_s": round(extract_cpu / floors.CORES, 3),
            "parse_floor_s": round(parse_changed / floors.CORES, 3),
        }

        # 4. scale: cold cycles on fresh databases
        out["scale"] = {}
        for size in SCALE:
            if size == MAIN:
                out["scale"][str(size)] = {"wall_s": cold["wall_s"], "cpu_s": cold["cpu_s"]}
                continue
            urls = farm.feeds[:size]
            floor_s, _, _ = tuned_download(urls)
            result = run_cycle(fresh(write_config(workdir / f"c{size}.toml", urls, fulltext=False)))
            out["scale"][str(size)] = {**result, "download_floor_s": round(floor_s, 3)}

        # 5 and 6. soak and alert latency (on the 1,000-feed database, already warm)
        print(f"   soak: {soak_seconds:.0f}s of `monitor run` on {MAIN} feeds every {SOAK_INTERVAL}s")
        soaked = soak(farm, workdir, soak_seconds)
        out["soak"] = {
            "seconds": soak_seconds,
            "interval_s": SOAK_INTERVAL,
            "new_entries_per_s": SOAK_NEW / SOAK_NEW_EVERY,
            **memory_summary(soaked["samples"], soak_seconds),
            "samples": soaked["samples"],
            "emails": soaked["emails"],
        }
        out["latency"] = soaked["latency"]
    finally:
        farm.stop()
    out["load_after"] = load()
    return out


def targets(r: dict[str, Any]) -> list[dict[str, Any]]:
    cold, warm, full = r["cold"], r["warm"], r["fulltext"]
    cold_floor = cold["download_floor_s"] + cold["parse_floor_s"]
    full_floor = full["download_floor_s"] + full["extraction_floor_s"]
    scale = r["scale"]["5000"]["wall_s"] / r["scale"]["1000"]["wall_s"]
    after_poll = [row["after_poll_s"] for row in r["latency"]]
    worst = max((x for x in after_poll if x is not None), default=None)
    soak = r["soak"]
    cold_ratio = cold["wall_s"] / cold_floor
    naive_ratio = cold["naive_s"] / cold["wall_s"]
    net = r["cold_network"]
    naive_net_ratio = net["naive_s"] / net["wall_s"]
    warm_ratio = warm["wall_s"] / warm["download_floor_s"]
    full_ratio = full["wall_s"] / full_floor
    return [
        _target("cold cycle / (download + parse floor)", cold_ratio, "<= 1.5", cold_ratio <= 1.5),
        _target("naive baseline / cold cycle", naive_ratio, ">= 5", naive_ratio >= 5),
        _target(
            f"naive baseline / cold cycle, {net['latency_s'] * 1000:.0f} ms a response",
            naive_net_ratio,
            ">= 5",
            naive_net_ratio >= 5,
        ),
        _target("warm cycle, seconds", warm["wall_s"], "<= 3", warm["wall_s"] <= 3),
        _target("warm cycle / its download floor", warm_ratio, "<= 2", warm_ratio <= 2),
        _target("full-text cycle / (download + extraction floor)", full_ratio, "<= 1.5", full_ratio <= 1.5),
        _target("5,000 feeds / 1,000 feeds, wall time", scale, "<= 5.5", scale <= 5.5),
        _target(
            "daemon peak memory, MB (PSS, all processes)",
            soak["peak_pss_mb"],
            "<= 300",
            soak["peak_pss_mb"] <= 300,
        ),
        _target(
            "daemon memory growth after warm-up, %",
            soak["growth_pct"],
            "<= 10",
            soak["growth_pct"] is not None and soak["growth_pct"] <= 10,
        ),
        _target(
            "alert latency after the poll that saw the entry, worst, s",
            worst,
            "< 10",
            worst is not None and worst < 10 and None not in after_poll,
        ),
    ]


def _target(name: str, value: float | None, goal: str, passed: bool) -> dict[str, Any]:
    return {"target": name, "value": None if value is None else round(value, 2), "goal": goal, "pass": passed}


# ---- reporting ------------------------------------------------------------------------------------------


def markdown(r: dict[str, Any]) -> str:
    cold, warm, full, soak = r["cold"], r["warm"], r["fulltext"], r["soak"]
    rows = [
        ("cold cycle, 1,000 feeds, full text off", cold, cold["download_floor_s"] + cold["parse_floor_s"],
         "download + parse floor"),
        ("cold cycle: naive baseline", None, cold["naive_s"], f"naive (timed on {cold['naive_sample_feeds']} feeds)"),
        (f"cold cycle, {r['cold_network']['latency_s'] * 1000:.0f} ms a response", r["cold_network"],
         r["cold_network"]["naive_s"], f"naive, same latency (timed on {r['cold_network']['naive_sample_feeds']} feeds)"),
        ("warm cycle, 1,000 feeds, all 304", warm, warm["download_floor_s"], "download floor"),
        ("full-text cycle, 1,000 new pages", full, full["download_floor_s"] + full["extraction_floor_s"],
         "download + extraction floor"),
    ]  # fmt: skip
    lines = [
        "## Pipeline",
        "",
        f"`python -m bench pipeline`: poll cycles through the real code (`open_runtime` + `poll_many`, one "
        f"process per cycle, default settings: 2 workers, 20 connections, 4 per host) against a loopback farm "
        f"of real corpus feeds ({r['templates']} well-formed RSS/Atom documents up to {MAX_TEMPLATE_SIZE // 1024} KB, round-robin; "
        f"1,000 feeds = {r['corpus']['feed_mb']} MB, {r['corpus']['entries']:,} entries) on {FARM_PORTS} "
        f"ports, whose links lead to the corpus news pages. Machine: {r['machine']}; run {r['date']}; load "
        f"average {r['load_before']} before, {r['load_after']} after (other work shared the machine). Floors "
        f"were measured in the same run on the same bytes; CPU is summed over the cycle's processes; memory is "
        f"the sum of each process's peak resident set.",
        "",
        "| scenario | wall (s) | CPU (s) | peak MB | floor or baseline (s) | which | ratio |",
        "|---|---:|---:|---:|---:|---|---:|",
    ]
    for name, res, floor, which in rows:
        if res is None:
            lines.append(
                f"| {name} | - | - | - | {floor:.2f} | {which} | {floor / cold['wall_s']:.2f} faster |"
            )
            continue
        ratio = (
            f"{floor / res['wall_s']:.2f} faster"
            if which.startswith("naive")
            else f"{res['wall_s'] / floor:.2f}"
        )
        lines.append(
            f"| {name} | {res['wall_s']:.2f} | {res['cpu_s']:.2f} | {res['peak_rss_mb']} | {floor:.2f} | "
            f"{which} | {ratio} |"
        )
    lines += [
        "",
        f"Floors: cold download {cold['download_floor_s']} s, parsing (fast path, feedparser where it falls back) {cold['parse_cpu_s']} s CPU "
        f"(/{floors.CORES} cores = {cold['parse_floor_s']} s); warm download {warm['download_floor_s']} s; "
        f"full text: download of the changed feeds and {full['pages']:,} pages {full['download_floor_s']} s, "
        f"trafilatura {full['extract_cpu_s']} s CPU (/{floors.CORES} = {full['extraction_floor_s']} s); parsing "
        f"the changed feeds, which the full-text cycle also does, is another {full['parse_floor_s']} s of floor "
        f"not in that target.",
        "",
        "| feeds | cold wall (s) | CPU (s) | s per 1,000 feeds | download floor (s) |",
        "|---:|---:|---:|---:|---:|",
    ]
    for size, res in r["scale"].items():
        floor = res.get("download_floor_s", cold["download_floor_s"])
        per = res["wall_s"] / int(size) * 1000
        lines.append(f"| {int(size):,} | {res['wall_s']:.2f} | {res['cpu_s']:.2f} | {per:.2f} | {floor} |")
    lines += [
        "",
        f"Soak: `monitor run` for {soak['seconds']:.0f} s on the 1,000 feeds (database from the cycles above), "
        f"interval {soak['interval_s']} s, full text on, {soak['new_entries_per_s']:g} new entries a second. "
        f"Memory of the daemon and its worker processes (proportional set, so shared pages count once): peak "
        f"{soak['peak_pss_mb']} MB (resident sum {soak['peak_rss_sum_mb']} MB), {soak['after_warmup_pss_mb']} "
        f"MB after warm-up, {soak['end_pss_mb']} MB at the end ({soak['growth_pct']} %).",
        "",
        "| marked entry | appeared -> fetched (s) | fetched -> email (s) | total (s) |",
        "|---|---:|---:|---:|",
    ]
    for row in r["latency"]:
        lines.append(
            f"| {row['entry']} | {row['wait_for_poll_s']} | {row['after_poll_s']} | {row['total_s']} |"
        )
    lines += ["", "| target | measured | goal | result |", "|---|---:|---:|---|"]
    for target in r["targets"]:
        verdict = "pass" if target["pass"] else "FAIL"
        lines.append(f"| {target['target']} | {target['value']} | {target['goal']} | {verdict} |")
    lines += ["", NOTES, ""]
    return "\n".join(lines)


NOTES = """Notes:

- The farm serves many ports of 127.0.0.1 so that, as on the web, feeds sit on many hosts; every feed of a
  cycle is one request, gzipped, with ETag and Last-Modified.
- The alert latency is measured from the moment an entry appears in a feed; the poll that sees it comes up to
  one interval later, and the rest (store, the 5 s grouping window, the 1 s delivery tick, SMTP) is the
  "fetched -> email" column, which the target bounds."""


def main() -> None:
    soak_seconds = float(os.environ.get("BENCH_SOAK_SECONDS", "120"))
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-pipeline-") as workdir:
        results = measure(Path(workdir), soak_seconds)
    results["machine"] = (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"
    )
    results["date"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    results["duration_s"] = round(time.monotonic() - started, 1)
    results["targets"] = targets(results)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    write_section(DOC, markdown(results))
    for target in results["targets"]:
        print(
            f"   {'pass' if target['pass'] else 'FAIL'}  {target['target']}: {target['value']} ({target['goal']})"
        )
    print(f"   wrote {RESULTS.relative_to(ROOT)} and {DOC.relative_to(ROOT)} in {results['duration_s']} s")


if __name__ == "__main__":
    main()
