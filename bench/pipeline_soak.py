"""The daemon soak of the pipeline benchmark: ``monitor run`` against the farm, its memory per process, and the
time from a marked entry appearing in a feed to its alert reaching a local SMTP server.

An alert that has not reached the server when the soak ends is not necessarily lost: after the daemon stops, its
database tells where each marked entry got to (stored, its hit alerting or not, its delivery pending, failed or
sent), and the farm how many of the polls due in the soak the daemon made (below 100 % it fell behind).

On its own, on a fresh database warmed by one cold cycle (``bench.pipeline`` runs it after its own cycles):

    python -m bench.pipeline_soak [--feeds 1000] [--seconds 120] [--keep DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import email
import email.policy
import json
import os
import re
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from bench.pipeline_cycle import process_tree, process_usage

if TYPE_CHECKING:
    from bench.pipeline import FarmProcess

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
SOAK_INTERVAL = 30
SOAK_NEW_EVERY = 5.0
SOAK_NEW = 10
MARKER = "Zorbluxite"


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


def _pss(pid: int) -> int:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    return 0


def _parent(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[1])
    except (OSError, ValueError, IndexError):
        return 0


def _role(pid: int, root: int) -> str:
    """What a process of the daemon's tree is: the daemon, the workers' fork server, a worker (forked from the
    fork server, so its command line is the fork server's), or the resource tracker."""
    if pid == root:
        return "daemon"
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "gone"
    if "resource_tracker" in command:
        return "resource tracker"
    if "forkserver" in command and _parent(pid) == root:
        return "fork server"
    return "worker"


def tree_memory(root: int) -> tuple[float, float, list[tuple[str, float]]]:
    """(resident MB summed over the tree, proportional-set MB summed, (role, PSS MB) of each process) of a
    process and its descendants. PSS counts a page shared by n processes as 1/n in each."""
    rss = pss = 0
    each = []
    for pid in process_tree(root):
        rss += process_usage(pid)[1]
        own = _pss(pid)
        pss += own
        each.append((_role(pid, root), round(own / 2**20, 1)))
    return rss / 2**20, pss / 2**20, sorted(each)


def soak(farm: FarmProcess, config: Path, seconds: float, feeds: int) -> dict[str, Any]:
    """``monitor run`` on the feeds polled before (warm database), new entries arriving all along."""
    with smtp_server() as (mailbox, smtp_url):
        from bench.pipeline import write_config

        write_config(config, farm.feeds[:feeds], fulltext=True, interval=SOAK_INTERVAL, smtp=smtp_url)
        log = config.with_suffix(".soak.log").open("w")
        daemon = subprocess.Popen(
            [str(Path(PYTHON).parent / "monitor"), "--config", str(config), "run"],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        samples: list[dict[str, Any]] = []
        injected: dict[str, float] = {}
        markers_at = [seconds * f for f in (0.3, 0.45, 0.6, 0.75)]
        feed_requests = farm.stats()["feed_requests"]
        load_before = os.getloadavg()
        started = time.monotonic()
        next_new = started + SOAK_NEW_EVERY
        try:
            while (elapsed := time.monotonic() - started) < seconds:
                rss, pss, each = tree_memory(daemon.pid)
                samples.append(
                    {"t": round(elapsed, 1), "rss_mb": round(rss, 1), "pss_mb": round(pss, 1), "each": each}
                )
                if time.monotonic() >= next_new:
                    farm.advance(SOAK_NEW, feeds)
                    next_new += SOAK_NEW_EVERY
                if markers_at and elapsed >= markers_at[0]:
                    markers_at.pop(0)
                    title = f"{MARKER} {len(injected) + 1}"
                    injected[title] = time.time()
                    farm.advance(1, feeds, title)
                time.sleep(1.0)
            polled = farm.stats()["feed_requests"] - feed_requests
            load_during = os.getloadavg()
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
        stats = farm.stats()
    rows = latency(injected, stats["first_fetch"], mailbox.arrivals)["latency"]
    where = outcomes(config.with_suffix(".db"), injected)
    for row in rows:
        row.update(where[row["entry"]])
        if row["entry"] in stats["pushed_out"]:  # a busy feed with few entries: no poll could see it
            pushed = stats["pushed_out"][row["entry"]] - injected[row["entry"]]
            row["delivery"] = f"pushed out of its feed unseen after {pushed:.0f} s"
    return {
        "samples": samples,
        "latency": rows,
        "emails": mailbox.messages,
        "polls_made_pct": round(polled / (feeds * seconds / SOAK_INTERVAL) * 100, 1),
        "load_average": [round(x, 2) for x in (*load_before, *load_during)],
        "log_warnings": log_warnings(config.with_suffix(".soak.log")),
    }


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


def outcomes(database: Path, injected: dict[str, float]) -> dict[str, dict[str, Any]]:
    """Where each marked entry got to in the daemon's database once it stopped: stored (seconds after it
    appeared: the start of the poll that stored it), and its alert's delivery (sent, pending: not sent yet,
    failed, dead; or no hit, or a hit that does not alert)."""
    found: dict[str, dict[str, Any]] = {t: {"stored_s": None, "delivery": "not stored"} for t in injected}
    with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
        rows = db.execute(
            "SELECT a.title, a.first_seen_at, h.alerted, d.status, d.last_error FROM articles a "
            "LEFT JOIN hits h ON h.article_id = a.id AND h.watchlist = 'marker' "
            "LEFT JOIN deliveries d ON d.hit_id = h.id WHERE a.title LIKE ?",
            (f"{MARKER} %",),
        ).fetchall()
    for title, seen, alerted, status, error in rows:
        if title not in found:
            continue
        stored = datetime.fromisoformat(seen).replace(tzinfo=UTC).timestamp()
        delivery = status or ("no hit" if alerted is None else "no delivery (hit does not alert)")
        found[title] = {
            "stored_s": round(stored - injected[title], 2),
            "delivery": f"{delivery}: {error}" if error else delivery,
        }
    return found


def log_warnings(path: Path) -> dict[str, int]:
    """The daemon's warnings by kind (a feed's own complaint counted once per kind)."""
    kinds: Counter[str] = Counter()
    with contextlib.suppress(OSError):
        for line in path.read_text(errors="replace").splitlines():
            if " WARNING " not in line and " ERROR " not in line:
                continue
            text = line.split(": ", 1)[-1]
            text = re.sub(r'"[^"]*"|\S*\d\S*', "…", text)  # job names, feeds, times, counts
            kinds[text[:100]] += 1
    return dict(kinds.most_common(8))


def memory_summary(
    samples: list[dict[str, Any]], seconds: float, interval: float = SOAK_INTERVAL
) -> dict[str, Any]:
    """Peak (with each process's share at that moment, and each role's own peak), and growth: the median of
    the last fifth of the soak against the poll interval after warm-up.

    Warm-up is the daemon's first two polls: the first finds nothing new (the database was warmed by a cycle),
    the second is the first to read pages, when the worker loads what extraction needs for good (trafilatura's
    stop lists, lxml's parser state: its resting size goes from about 36 to 67 MB). Growth measured from before
    that point would count a one-time load as a leak."""
    warm = [s["pss_mb"] for s in samples if 2 * interval <= s["t"] < 3 * interval]
    last = [s["pss_mb"] for s in samples if s["t"] >= max(seconds * 0.8, 3 * interval)]
    early, late = statistics.median(warm or [0.0]), statistics.median(last or [0.0])
    peak = max(samples, key=lambda s: s["pss_mb"])
    role_peaks: dict[str, float] = {}
    for sample in samples:
        for role, mb in sample["each"]:
            role_peaks[role] = max(role_peaks.get(role, 0.0), mb)
    return {
        "peak_pss_mb": peak["pss_mb"],
        "peak_each": peak["each"],
        "role_peak_pss_mb": role_peaks,
        "peak_rss_sum_mb": max(s["rss_mb"] for s in samples),
        "after_warmup_pss_mb": round(early, 1),
        "end_pss_mb": round(late, 1),
        "growth_pct": round((late / early - 1) * 100, 1) if early else None,
    }


def main(argv: list[str] | None = None) -> None:
    """The soak alone: a farm, one cold cycle to warm a fresh database, then the soak; prints what it found."""
    from bench.pipeline import FarmProcess, fresh, run_cycle, write_config

    parser = argparse.ArgumentParser(prog="python -m bench.pipeline_soak", description=main.__doc__)
    parser.add_argument("--feeds", type=int, default=1_000)
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument(
        "--keep", type=Path, help="an empty folder to keep the database and the daemon's log in"
    )
    args = parser.parse_args(argv)
    with contextlib.ExitStack() as stack:
        workdir = args.keep or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-soak-")))
        workdir.mkdir(parents=True, exist_ok=True)
        farm = FarmProcess(args.feeds, lifetime=3600 + args.seconds, workdir=workdir)
        stack.callback(farm.stop)
        config = fresh(write_config(workdir / "soak.toml", farm.feeds[: args.feeds], fulltext=False))
        run_cycle(config)
        soaked = soak(farm, config, args.seconds, args.feeds)
    summary = {k: v for k, v in soaked.items() if k != "samples"}
    print(json.dumps({**summary, **memory_summary(soaked["samples"], args.seconds)}, indent=2))


if __name__ == "__main__":
    main(sys.argv[1:])
