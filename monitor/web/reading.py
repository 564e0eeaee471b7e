"""The store a GET request reads through: the desk's database and connection pool, with transactions that only
read (``monitor.store.engine.read_only``), so that readers never queue on SQLite's write lock, nor keep the
daemon's writes waiting."""

from __future__ import annotations

from starlette.requests import Request

from monitor.store.engine import read_only
from monitor.store.repository import Store
from monitor.web.state import desk


def reading_store(request: Request) -> Store:
    store = desk(request).store
    return Store(read_only(store.engine), store.index.words)
