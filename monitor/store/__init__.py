"""Storage: SQLAlchemy tables, engine set-up and the repository the pipeline calls."""

from monitor.models import DeliveryOutcome
from monitor.store.outbox import Outbox
from monitor.store.page_retries import PageRetries
from monitor.store.repository import DaemonRecord, Store

__all__ = ["DaemonRecord", "DeliveryOutcome", "Outbox", "PageRetries", "Store"]
