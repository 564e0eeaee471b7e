"""The shared corpus the tests read: ``$MONITOR_CORPUS``, else ``../shared/corpus`` beside the checkout.

A test that needs it never skips: without it the test fails and says where to point ``MONITOR_CORPUS``."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(os.environ.get("MONITOR_CORPUS") or Path(__file__).resolve().parents[2] / "shared" / "corpus")


def corpus(*parts: str) -> Path:
    """A file or folder of the corpus; the test fails when it is not there."""
    path = ROOT.joinpath(*parts)
    if not path.exists():
        pytest.fail(
            f"the shared corpus has no {path}: set MONITOR_CORPUS to the corpus folder (../shared/corpus)",
            pytrace=False,
        )
    return path
