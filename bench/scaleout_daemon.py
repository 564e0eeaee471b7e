"""`monitor run` with its database statements counted, for the scale-out benchmark (``bench.scaleout``).

    python -m bench.scaleout_daemon CONFIG COUNTS_FILE

An SQLAlchemy event listener counts every statement sent, every transaction committed and every connection
checked out of the pool (each checkout pings the server first); the counts are written to COUNTS_FILE as JSON
every second, so they can be read while the daemon runs and after it is killed.
"""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import Pool

COUNTS = {"statements": 0, "commits": 0, "checkouts": 0}


def _count(key: str) -> None:
    COUNTS[key] += 1


def main(config: Path, counts: Path) -> int:
    event.listen(Engine, "before_cursor_execute", lambda *_a, **_k: _count("statements"))
    event.listen(Engine, "commit", lambda *_a: _count("commits"))
    event.listen(Pool, "checkout", lambda *_a: _count("checkouts"))

    def write_counts() -> None:
        while True:
            counts.write_text(json.dumps(COUNTS))
            threading.Event().wait(1.0)

    threading.Thread(target=write_counts, daemon=True).start()
    from monitor.daemon import run_daemon

    code = run_daemon(config, log_level="warning")
    counts.write_text(json.dumps(COUNTS))
    return code


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
