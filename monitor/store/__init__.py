"""Storage: SQLAlchemy tables, engine set-up and the repository the pipeline calls.

The names below are loaded on first use: a module of this package that needs no database connection
(``schema``, which `monitor check` reads a SQLite file with) does not load SQLAlchemy with the rest.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from monitor.lazy import lazy_names

if TYPE_CHECKING:
    from monitor.models import DeliveryOutcome
    from monitor.store.outbox import Outbox
    from monitor.store.page_retries import PageRetries
    from monitor.store.repository import Store

__all__ = ["DeliveryOutcome", "Outbox", "PageRetries", "Store"]

__getattr__ = lazy_names(
    __name__,
    {
        "DeliveryOutcome": "monitor.models",
        "Outbox": "monitor.store.outbox",
        "PageRetries": "monitor.store.page_retries",
        "Store": "monitor.store.repository",
    },
)
