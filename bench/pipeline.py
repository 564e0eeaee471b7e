"""Pipeline benchmark: poll cycles and the daemon against a loopback feed farm (`python -m bench pipeline`).

Scenarios, each through the real code (``bench.pipeline_cycle`` runs ``open_runtime`` + ``poll_many`` in its
own process; the soak runs ``monitor run``):

1. cold cycle, 1,000 feeds, full text off;  2. warm cycle, nothing changed (all 304);
3. full-text cycle, 1,000 new entries whose pages are fetched and extracted;
4. cold cycles at 100, 1,000, 5,000 and 10,000 feeds;  5. soak: the daemon on 1,000 feeds at a short interval;
6. alert latency: a marked entry appearing in a feed until its alert reaches a local SMTP server.

Floors and the naive baseline are measured in the same run on the same bytes (``bench.pipeline_floors``).
The farm (``bench.farm``) runs in its own process; the soak is ``bench.pipeline_soak``, the targets and the
report ``bench.pipeline_report``. Writes bench/results/pipeline.json and the "Pipeline" section of
docs/benchmarks.md. ``BENCH_SOAK_SECONDS`` shortens or lengthens the soak (default 120).
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench import pipeline_floors as floors
from bench.common import write_section
from bench.pipeline_report import markdown, targets, verdict
from bench.pipeline_soak import SOAK_INTERVAL, SOAK_NEW, SOAK_NEW_EVERY, memory_summary, soak

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "pipeline.json"
DOC = ROOT / "docs" / "benchmarks.md"
PYTHON = sys.executable
# BENCH_PIPELINE_SMOKE=1: every scenario on a few feeds, to check the benchmark itself (docs are not written).
SMOKE = os.environ.get("BENCH_PIPELINE_SMOKE") == "1"
MAIN = 40 if SMOKE else 1_000
SCALE = (20, 40, 80, 160) if SMOKE else (100, 1_000, 5_000, 10_000)
FARM_PORTS = 100  # distinct "hosts": the fetcher's per-host limit applies as it would on the web
NAIVE_SAMPLE = 20 if SMOKE else 250  # feeds the naive baseline is timed on; its time is scaled to 1,000 feeds
NETWORK_LATENCY = 0.1  # seconds per response in the "as on the web" variant of the cold cycle
NAIVE_NET_SAMPLE = 10 if SMOKE else 100
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
        self.rewritten: list[str] = info["rewritten"]
        self.largest_kb: int = info["largest_kb"]
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


def run_cycle(config: Path, *options: str) -> dict[str, Any]:
    done = subprocess.run(
        [PYTHON, "-m", "bench.pipeline_cycle", str(config), *options],
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
) -> tuple[float, float, list[floors.Fetched], int]:
    """The best download of a few concurrency levels: (seconds, CPU seconds, bodies, concurrency)."""
    best: tuple[float, float, list[floors.Fetched], int] | None = None
    for concurrency in (20, 100):
        floors.FLOOR_CONCURRENCY = concurrency
        elapsed, cpu, fetched = floors.download_floor(urls, conditional, runs=1)
        if best is None or elapsed < best[0]:
            best = (elapsed, cpu, fetched, concurrency)
    assert best is not None
    return best


def validators(fetched: floors.Fetched) -> dict[str, str]:
    """The conditional request headers a poller sends back: If-None-Match when there was an ETag."""
    if "etag" in fetched.headers:
        return {"if-none-match": fetched.headers["etag"]}
    return {"if-modified-since": fetched.headers.get("last-modified", "")}


def feed_of(page: str) -> str:
    """The farm feed an article page belongs to: .../a/INDEX/SEQ is an entry of .../feed/INDEX."""
    base, _, path = page.rpartition("/a/")
    return f"{base}/feed/{path.split('/')[0]}"


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


# ---- the run --------------------------------------------------------------------------------------------


def network_cycle(out: dict[str, Any], farm: FarmProcess, feeds: list[str], workdir: Path) -> None:
    """The cold cycle against the naive loop when each response takes as long as on the web."""
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


def past_deadline(what: str) -> bool:
    """Whether the time set by BENCH_PIPELINE_UNTIL (HH:MM, UTC) has passed: the scenarios left are then
    skipped, and reported as not measured."""
    until = os.environ.get("BENCH_PIPELINE_UNTIL")
    if not until:
        return False
    hour, minute = (int(x) for x in until.split(":"))
    now = datetime.now(UTC)
    passed = (now.hour, now.minute) >= (hour, minute)
    if passed:
        print(f"   skipped: {what} (past {until} UTC)")
    return passed


def save_partial(out: dict[str, Any]) -> None:
    """What was measured so far, so that a run cut short still leaves its figures."""
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.with_suffix(".partial.json").write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")


def measure(workdir: Path, soak_seconds: float) -> dict[str, Any]:
    farm = FarmProcess(max(SCALE), lifetime=3600 + soak_seconds, workdir=workdir)  # stopped when done
    out: dict[str, Any] = {
        "main": MAIN,
        "scale_sizes": list(SCALE),
        "load_before": load(),
        "cores": floors.CORES,
        "ports": FARM_PORTS,
        "farm": {
            "files": len(farm.templates),
            "rewritten": len(farm.rewritten),
            "largest_kb": farm.largest_kb,
        },
    }
    try:
        feeds = farm.feeds[:MAIN]
        print(
            f"== farm: {len(farm.feeds)} feeds from {len(farm.templates)} corpus files "
            f"({len(farm.rewritten)} rewritten) on {FARM_PORTS} ports"
        )

        # 1. cold cycle and its floors
        config = fresh(write_config(workdir / "c1000.toml", feeds, fulltext=False))
        download_s, download_cpu, bodies, concurrency = tuned_download(feeds)
        parse_cpu = floors.parse_cpu(bodies)
        feedparser_cpu = floors.feedparser_cpu(bodies)
        naive_s, naive_entries = floors.naive_baseline(feeds[:NAIVE_SAMPLE])
        cold = run_cycle(config)
        out["corpus"] = {
            "feed_mb": round(sum(len(b.body) for b in bodies) / 2**20, 1),
            "entries": cold["new_entries"],
        }
        out["cold"] = {
            **cold,
            "download_floor_s": round(download_s, 3),
            "download_cpu_s": round(download_cpu, 3),
            "floor_concurrency": concurrency,
            "parse_cpu_s": round(parse_cpu, 3),
            "parse_floor_s": round(parse_cpu / floors.CORES, 3),
            "feedparser_cpu_s": round(feedparser_cpu, 3),
            "naive_s": round(naive_s * MAIN / NAIVE_SAMPLE, 2),
            "naive_sample_feeds": NAIVE_SAMPLE,
            "naive_sample_s": round(naive_s, 2),
            "naive_entries": naive_entries,
        }
        save_partial(out)

        # 2. warm cycle: nothing changed
        conditional = {b.url: validators(b) for b in bodies}
        warm_floor, _, _, concurrency = tuned_download(feeds, conditional)
        warm = run_cycle(config)
        out["warm"] = {**warm, "download_floor_s": round(warm_floor, 3), "floor_concurrency": concurrency}
        save_partial(out)

        # 3. full text: new entries in the feeds the farm rewrites, one per feed round-robin
        pages = farm.advance(MAIN, MAIN)
        config = write_config(workdir / "c1000.toml", feeds, fulltext=True)
        changed = sorted({feed_of(page) for page in pages})
        feed_s, _, feed_bodies, _ = tuned_download(changed)
        page_s, _, page_bodies, _ = tuned_download(pages)
        both_s, _, _, _ = tuned_download(changed + pages)
        extract_cpu = floors.extraction_cpu(page_bodies)
        parse_changed = floors.parse_cpu(feed_bodies)
        full = run_cycle(config)
        out["fulltext"] = {
            **full,
            "pages": len(pages),
            "changed_feeds": len(changed),
            "page_mb": round(sum(len(b.body) for b in page_bodies) / 2**20, 1),
            "download_floor_s": round(both_s, 3),
            "feeds_download_s": round(feed_s, 3),
            "pages_download_s": round(page_s, 3),
            "extract_cpu_s": round(extract_cpu, 3),
            "extraction_floor_s": round(extract_cpu / floors.CORES, 3),
            "parse_cpu_s": round(parse_changed, 3),
            "parse_floor_s": round(parse_changed / floors.CORES, 3),
        }
        save_partial(out)

        # 5 and 6. soak and alert latency (on the 1,000-feed database, already warm)
        print(f"   soak: {soak_seconds:.0f}s of `monitor run` on {MAIN} feeds every {SOAK_INTERVAL}s")
        soaked = soak(farm, workdir / "c1000.toml", soak_seconds, MAIN)
        out["soak"] = {
            "seconds": soak_seconds,
            "interval_s": SOAK_INTERVAL,
            "new_entries_per_s": SOAK_NEW / SOAK_NEW_EVERY,
            **memory_summary(soaked["samples"], soak_seconds),
            "samples": soaked["samples"],
            "emails": soaked["emails"],
            "polls_made_pct": soaked["polls_made_pct"],
            "load_average": soaked["load_average"],
            "log_warnings": soaked["log_warnings"],
        }
        out["latency"] = soaked["latency"]
        save_partial(out)

        # 4. scale: cold cycles on fresh databases, the largest first; then the same at 100 ms a response
        out["scale"] = {str(MAIN): cold}
        for size in sorted(SCALE, reverse=True):
            if size == MAIN or past_deadline(f"{size} feeds"):
                continue
            urls = farm.feeds[:size]
            floor_s, _, _, _ = tuned_download(urls)
            result = run_cycle(fresh(write_config(workdir / f"c{size}.toml", urls, fulltext=False)))
            out["scale"][str(size)] = {**result, "download_floor_s": round(floor_s, 3)}
            save_partial(out)
            if size == max(SCALE) and not past_deadline("the cycle at 100 ms a response"):
                network_cycle(out, farm, feeds, workdir)
                save_partial(out)

        # 7. changed feeds, the steady state: each read told only the entries it had not seen, against the same
        # cycle in a pipeline that forgot what its reads saw (a daemon just started); alternated, fresh databases
        if not past_deadline("the changed cycle"):
            out["changed"] = changed_cycles(farm, workdir, feeds)
            save_partial(out)
    finally:
        farm.stop()
    out["load_after"] = load()
    return out


def changed_cycles(farm: FarmProcess, workdir: Path, feeds: list[str], pairs: int = 2) -> dict[str, Any]:
    """The second of two cycles, the farm changed in between, with and without what the first cycle's reads saw:
    the run of each with the least CPU."""
    runs: dict[str, list[dict[str, Any]]] = {"told": [], "forgotten": []}
    for _ in range(pairs):
        for kind, options in (("told", ()), ("forgotten", ("--forget",))):
            config = fresh(write_config(workdir / "changed.toml", feeds, fulltext=False))
            runs[kind].append(run_cycle(config, "--changed", farm.control, *options))
    return {kind: min(found, key=lambda res: res["cpu_s"]) for kind, found in runs.items()}


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
    if SMOKE:
        print(markdown(results))
    else:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        write_section(DOC, markdown(results))
    for target in results["targets"]:
        print(f"   {verdict(target)}  {target['target']}: {target['value']} ({target['goal']})")
    if not SMOKE:
        print(
            f"   wrote {RESULTS.relative_to(ROOT)} and {DOC.relative_to(ROOT)} in {results['duration_s']} s"
        )


if __name__ == "__main__":
    main()
