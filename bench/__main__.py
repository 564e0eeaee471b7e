"""Run benchmark scenarios by name: `python -m bench match`; with no name, every scenario in this package."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path

_NOT_SCENARIOS = {
    "__main__",
    "common",
    "farm",
    "pipeline_cycle",
    "pipeline_floors",
    "pipeline_report",
    "pipeline_soak",
    "web_data",
    "web_load",
}


def scenarios() -> list[str]:
    """Every module of this package with a ``main()``, by name."""
    names = [info.name for info in pkgutil.iter_modules([str(Path(__file__).parent)]) if not info.ispkg]
    return sorted(name for name in names if name not in _NOT_SCENARIOS and not name.startswith("_"))


def main(argv: list[str]) -> int:
    available = scenarios()
    chosen = argv or available
    unknown = [name for name in chosen if name not in available]
    if unknown:
        print(
            f"unknown scenario(s): {', '.join(unknown)} (available: {', '.join(available)})", file=sys.stderr
        )
        return 2
    for name in chosen:
        module = importlib.import_module(f"bench.{name}")
        if not hasattr(module, "main"):
            continue
        print(f"== {name}")
        module.main()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
