"""Storage: SQLAlchemy tables, engine set-up and the repository the pipeline calls."""

from monitor.store.outbox import Outbox
from monitor.store.repository import Store

__all__ = ["Outbox", "Store"]
