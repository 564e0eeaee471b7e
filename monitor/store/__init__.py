"""Storage: SQLAlchemy tables, engine set-up and the repository the pipeline calls.

The names below are loaded on first use: a module of this package that needs no database connection
(``schema``, which `monitor check` reads a SQLite file with) does not load SQLAlchemy with the rest.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from monitor.models import DeliveryOutcome
    from monitor.store.outbox import Outbox
    from monitor.store.page_retries import PageRetries
    from monitor.store.repository import DaemonRecord, Store

__all__ = ["DaemonRecord", "DeliveryOutcome", "Outbox", "PageRetries", "Store"]

_HOMES = {
    "DaemonRecord": "monitor.store.repository",
    "DeliveryOutcome": "monitor.models",
    "Outbox": "monitor.store.outbox",
    "PageRetries": "monitor.store.page_retries",
    "Store": "monitor.store.repository",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
