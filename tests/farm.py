"""The loopback feed farm of the benchmarks (``bench.farm``) as a test fixture: many real corpus feeds on many
ports of 127.0.0.1, with ETags and 304s, in its own process, steered over HTTP (new entries, marked titles)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent


class FarmProcess:
    def __init__(self, feeds: int, ports: int, lifetime: float, workdir: Path, items: int = 0) -> None:
        ready = workdir / "farm.json"
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.farm",
                "--feeds",
                str(feeds),
                "--ports",
                str(ports),
                "--lifetime",
                str(lifetime),
                "--items",
                str(items),
                "--ready-file",
                str(ready),
                "--feeds-only",
            ],
            cwd=ROOT,
        )
        deadline = time.monotonic() + 60
        while not ready.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError("the feed farm (python -m bench.farm) did not start")
            time.sleep(0.1)
        time.sleep(0.2)  # the file is written in one go, but give the writer time to close it
        info = json.loads(ready.read_text())
        self.control: str = info["control"]
        self.feeds: list[str] = info["feeds"]
        self.client = httpx.Client(timeout=30)

    def advance(self, new: int, among: int | None = None, title: str | None = None) -> list[str]:
        params: dict[str, str | int] = {"new": new}
        if among:
            params["feeds"] = among
        if title:
            params["title"] = title
        pages: list[str] = self.client.post(f"{self.control}/_farm/advance", params=params).json()["pages"]
        return pages

    def stats(self) -> dict[str, Any]:
        stats: dict[str, Any] = self.client.get(f"{self.control}/_farm/stats").json()
        return stats

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if hasattr(self, "client"):
            self.client.close()
