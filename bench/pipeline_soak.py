"""The daemon soak of the pipeline benchmark: ``monitor run`` against the farm, its memory per process, and the
time from a marked entry appearing in a feed to its alert reaching a local SMTP server."""

from __future__ import annotations

import contextlib
import email
import email.policy
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
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


def memory_summary(samples: list[dict[str, Any]], seconds: float) -> dict[str, Any]:
    """Peak (with each process's share at that moment, and each role's own peak), and growth: the median of
    the last fifth of the soak against the fifth after warm-up."""
    warm = [s["pss_mb"] for s in samples if seconds * 0.3 <= s["t"] < seconds * 0.5]
    last = [s["pss_mb"] for s in samples if s["t"] >= seconds * 0.8]
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
        "after_warmup_pss_mb": early,
        "end_pss_mb": late,
        "growth_pct": round((late / early - 1) * 100, 1) if early else None,
    }
