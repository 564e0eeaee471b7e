"""Logging set-up: one line per event on stderr, as text or JSON for log collectors, secrets masked."""

from __future__ import annotations

import io
import json
import logging
import sys
import traceback
from datetime import UTC, datetime
from typing import Any, TextIO

from monitor.redact import mask_known
from monitor.untrusted import printable


class RedactingFilter(logging.Filter):
    """Masks every remembered secret (``${VAR}`` values, URL passwords and tokens) in a record's message,
    traceback and stack, whichever library logged it, and drops the control characters and escape sequences
    that feed text may bring. Installed on the handlers, so it sees every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = mask_known(printable(record.getMessage()))
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        if record.exc_text:
            record.exc_text = mask_known(printable(record.exc_text))
        if record.stack_info:
            record.stack_info = mask_known(record.stack_info)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


def setup_logging(level: str = "info", fmt: str = "text") -> None:
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in (
        "httpx",
        "httpcore",
        "apscheduler",
        "alembic",
        "trafilatura",
        "htmldate",
        "courlan",
    ):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    # apprise logs target URLs with their tokens; each target's failure reason is captured and masked instead.
    logging.getLogger("apprise").setLevel(logging.CRITICAL + 1)


class MaskingWriter(io.TextIOBase):
    """A text stream that masks remembered secrets in whatever is written to it, then passes it on: what the
    commands print (tables, summaries, errors) gets the same mask as the log."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def __getattr__(self, name: str) -> Any:  # buffer, errors, reconfigure...: the real stream's
        return getattr(self.stream, name)

    def write(self, text: str) -> int:
        self.stream.write(mask_known(text))
        return len(text)

    def flush(self) -> None:
        self.stream.flush()

    def isatty(self) -> bool:
        return self.stream.isatty()

    def fileno(self) -> int:
        return self.stream.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self.stream.encoding


def mask_standard_streams() -> None:
    """Route sys.stdout and sys.stderr through a :class:`MaskingWriter` (once)."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is not None and not isinstance(stream, MaskingWriter):
            setattr(sys, name, MaskingWriter(stream))
