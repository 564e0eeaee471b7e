"""What every request handler of the desk reaches: the config, the store and the access secrets."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from starlette.requests import Request

from monitor.config.compiled import Config
from monitor.store.repository import Store
from monitor.web.cache import ResponseCache


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Desk:
    """The desk's state, one per app (``app.state.desk``).

    ``token``: the reader token, or None when the desk is open (loopback without a token).
    ``secret``: the key that signs session cookies; derived from the token so that sessions survive a restart,
    random when there is no token.
    ``cache``: answers kept until the database or the config changes (``monitor.web.cache``)."""

    config: Config
    store: Store
    token: str | None
    secret: bytes
    now: Callable[[], datetime] = field(default=utc_now)
    cache: ResponseCache = field(default_factory=lambda: ResponseCache(None))


def session_secret(token: str | None) -> bytes:
    """The signing key for session cookies: a hash of the token, or fresh random bytes without one."""
    if token is None:
        return secrets.token_bytes(32)
    return hashlib.sha256(b"monitor-web-session\0" + token.encode("utf-8")).digest()


def desk(request: Request) -> Desk:
    """The desk of the app serving ``request``."""
    state: Desk = request.app.state.desk
    return state
