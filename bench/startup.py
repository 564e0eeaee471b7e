"""How fast each command starts: whole-process wall and CPU time over 10 runs, and what it imports.

`python -m bench startup` runs each command as a subprocess against a copy of config/monitor.toml with a
current database, next to two yardsticks measured in the same run: the bare interpreter (`python -c pass`)
and `import sqlalchemy` alone. Medians and 90th percentiles go to docs/benchmarks.md with a pass/FAIL per
target, and the heaviest imports of each command from `python -X importtime`. The commands run with their
bytecode cached, as an installed package has it (a warm-up run writes it; PYTHONDONTWRITEBYTECODE is dropped).
"""

from __future__ import annotations

import math
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.common import write_section

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks.md"
RUNS = 10
PYTHON = sys.executable

# Targets are for this machine when idle, where `import sqlalchemy` alone takes 0.24 s; on a busy machine
# they are scaled by the ratio of that yardstick measured in the same run.
SQLALCHEMY_IDLE = 0.24
YARDSTICKS = [
    ("python -c pass (interpreter floor)", ["-c", "pass"]),
    ("python -c 'import sqlalchemy'", ["-c", "import sqlalchemy"]),
]
COMMANDS = [
    ("monitor --help", ["--help"], 0.150),
    ("monitor check", ["check"], 0.300),
    ("monitor match --file", ["match", "--file", "{article}"], 0.300),
    ("monitor hits", ["hits"], 0.400),
    ("monitor status", ["status"], 0.400),
]


def run_once(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one whole process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(
        [PYTHON, *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def heaviest_imports(args: list[str], env: dict[str, str], count: int = 4) -> str:
    """The packages whose modules take longest to import (their own time, summed; ours module by module), from
    -X importtime. Its times are wall times: on a loaded machine they include waiting for a core."""
    done = subprocess.run(
        [PYTHON, "-X", "importtime", *args], env=env, capture_output=True, text=True, check=False
    )
    totals: dict[str, int] = {}
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or line.count("|") != 2:
            continue
        own, _, name = line.removeprefix("import time:").split("|")
        if own.strip().isdigit():
            package = name.strip().split(".")[0]
            if package == "monitor":  # our own modules one by one: which of them to look at
                package = name.strip()
            totals[package] = totals.get(package, 0) + int(own)
    top = sorted(totals.items(), key=lambda item: -item[1])[:count]
    return ", ".join(f"{name} {micros / 1000:.0f}" for name, micros in top)


@dataclass(frozen=True)
class Timing:
    """Medians and 90th percentiles (nearest rank) of RUNS runs, in seconds."""

    wall: float
    wall_p90: float
    cpu: float
    cpu_p90: float


def p90(values: list[float]) -> float:
    return sorted(values)[math.ceil(0.9 * len(values)) - 1]


def measure(args: list[str], env: dict[str, str]) -> Timing:
    run_once(args, env)  # warm the page cache and write the bytecode; not counted
    walls, cpus = (list(values) for values in zip(*(run_once(args, env) for _ in range(RUNS)), strict=True))
    return Timing(statistics.median(walls), p90(walls), statistics.median(cpus), p90(cpus))


def prepare(workdir: Path) -> tuple[Path, Path]:
    config = workdir / "monitor.toml"
    shutil.copy(ROOT / "config" / "monitor.toml", config)
    article = workdir / "article.txt"
    article.write_text("Parliament debated export permits for drones and armoured vehicles. " * 200)
    return config, article


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f}"


def main() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    rows: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        config, article = prepare(Path(tmp))
        subprocess.run(
            [PYTHON, "-m", "monitor", "--config", str(config), "db", "upgrade"], env=env, check=True
        )
        floor_cpu = measure(YARDSTICKS[0][1], env).cpu
        scale = 1.0
        for label, args in YARDSTICKS:
            timing = measure(args, env)
            scale = max(1.0, timing.cpu / SQLALCHEMY_IDLE)  # the last yardstick is import sqlalchemy
            rows.append(
                f"| {label} | {ms(timing.wall)} / {ms(timing.wall_p90)} | {ms(timing.cpu)} / "
                f"{ms(timing.cpu_p90)} | {timing.cpu / floor_cpu:.1f} | | |"
            )
            print(rows[-1], flush=True)
        for label, command, target in COMMANDS:
            args = ["-m", "monitor", "--config", str(config), *(a.format(article=article) for a in command)]
            timing = measure(args, env)
            verdict = "pass" if timing.cpu <= target * scale else "FAIL"
            imports = heaviest_imports(args, env)
            rows.append(
                f"| {label} | {ms(timing.wall)} / {ms(timing.wall_p90)} | {ms(timing.cpu)} / {ms(timing.cpu_p90)} "
                f"| {timing.cpu / floor_cpu:.1f} | < {ms(target)} (x {scale:.1f} = {ms(target * scale)}): "
                f"**{verdict}** | {imports} |"
            )
            print(rows[-1], flush=True)
    load = os.getloadavg()[0]
    section = "\n".join(
        [
            "## Start-up",
            "",
            f"`python -m bench startup`: each command started {RUNS} times as a whole process, after one warm-up run",
            "that also writes its bytecode (as installing the package does); median / 90th percentile. On a copy of",
            "config/monitor.toml (17 feeds, 2 pages, 2 watchlists) with a current SQLite database. CPU is user +",
            "system seconds of the process; the target is judged on the CPU median because wall time on this shared",
            f"machine moves with the other work on it (load average {load:.1f} on {os.cpu_count()} cores at the end",
            "of this run). The targets hold for the idle machine, where `import sqlalchemy` takes 0.24 s; they are",
            "scaled by how much slower that yardstick ran in this run. The heaviest imports are each package's own",
            "import time, summed, from one `python -X importtime` run. Which packages each command may not load is",
            "pinned by tests/test_startup.py, independently of time.",
            "",
            "| command | wall ms | CPU ms | CPU / interpreter floor | target ms (CPU median) | heaviest imports, ms |",
            "|---|---|---|---|---|---|",
            *rows,
            "",
        ]
    )
    write_section(DOC, section)
