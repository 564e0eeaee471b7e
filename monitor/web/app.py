"""The desk's ASGI app: page routes, the API/Atom/metrics routes, access control, security headers and the
error pages (404, 400 with the reason, 503 while the database is locked or migrating, never a traceback)."""

from __future__ import annotations

import html
import importlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from sqlalchemy.exc import OperationalError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from monitor.config.compiled import Config
from monitor.errors import QueryError, StoreError
from monitor.store import engine as engine_setup
from monitor.store.repository import Store
from monitor.usecases.triage import TriageError
from monitor.web import access
from monitor.web.cache import ResponseCache, marker_for
from monitor.web.forms import FilterError
from monitor.web.state import Desk, session_secret

log = logging.getLogger(__name__)

# Routes served by modules of their own (JSON API, Atom feeds, Prometheus metrics); each exposes routes().
EXTRA_ROUTE_MODULES = ("monitor.web.api", "monitor.web.atom", "monitor.web.metrics")
PAGE_ROUTE_MODULES = (
    "monitor.web.inbox",
    "monitor.web.article",
    "monitor.web.stories_page",
    "monitor.web.search_page",
    "monitor.web.feeds_page",
    "monitor.web.chart",
)
PUBLIC_PREFIXES = ("/login", "/static/")
RETRY_AFTER = "5"
BUSY_TIMEOUT = 5.0  # seconds a request waits for a database lock
SCHEMA_RECHECK = 5.0  # seconds between checks that the schema is current

SECURITY_HEADERS = (
    (
        b"content-security-policy",
        b"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        b"form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
)


def wants_json(request: Request) -> bool:
    path = request.url.path
    return path.startswith("/api/") or path == "/metrics" or path.endswith(".atom")


def error_response(
    request: Request, status: int, reason: str, headers: dict[str, str] | None = None
) -> Response:
    """An error as a short page (or JSON for the API): the status and the reason, nothing else."""
    if wants_json(request):
        return JSONResponse({"error": reason, "status": status}, status_code=status, headers=headers)
    login = "/login?next=" + _quote(_here(request) if request.method == "GET" else "/")
    if request.headers.get("hx-request") == "true":
        if status == 401:  # the session ended: the whole page goes to the login form
            return HTMLResponse("", status_code=401, headers={"HX-Redirect": login})
        # htmx swaps this into the part of the page it asked for: the reason alone, not a whole page.
        fragment = f'<p class="error" role="alert">{status}: {html.escape(reason)}</p>'
        return HTMLResponse(fragment, status_code=status, headers=headers)
    if status == 401 and request.method == "GET":
        return RedirectResponse(login, status_code=303)
    try:
        from monitor.web.render import page

        response: Response = page(
            request, "error.html", {"status": status, "reason": reason}, status_code=status
        )
    except Exception:  # the error page itself failed: plain text, still no traceback
        log.exception("error page failed")
        response = PlainTextResponse(f"{status}: {reason}", status_code=status)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _here(request: Request) -> str:
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


def _quote(target: str) -> str:
    from urllib.parse import quote

    return quote(target, safe="/")


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return error_response(request, exc.status_code, exc.detail, dict(exc.headers or {}))


async def _bad_value(request: Request, exc: Exception) -> Response:
    return error_response(request, 400, str(exc))


async def _bad_query(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, QueryError)
    return error_response(request, 400, f"query: position {exc.position + 1}: expected {exc.expected}")


async def _database_error(request: Request, exc: Exception) -> Response:
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        return error_response(
            request, 503, "the database is busy; try again shortly", {"Retry-After": RETRY_AFTER}
        )
    log.error("database error on %s: %s", request.url.path, exc)
    return error_response(request, 500, "the database could not answer; see the log")


async def _server_error(request: Request, exc: Exception) -> Response:
    log.error("error on %s", request.url.path, exc_info=exc)
    return error_response(request, 500, "something went wrong; see the log")


class DeskGuard:
    """Security headers on every response; the reader check on every non-public path; 503 while the schema is
    not current (a migration running or pending)."""

    def __init__(self, app: ASGIApp, store: Store, clock: Callable[[], float] = time.monotonic) -> None:
        self.app = app
        self.store = store
        self.clock = clock
        self.checked_at: float | None = None

    def schema_ready(self) -> bool:
        now = self.clock()
        if self.checked_at is not None and now - self.checked_at < SCHEMA_RECHECK:
            return True
        try:
            ready = engine_setup.is_current(self.store.engine)
        except Exception:  # a locked or unreachable database reads as not ready
            ready = False
        self.checked_at = now if ready else None
        return ready

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in SECURITY_HEADERS if h[0] not in present)
                message["headers"] = headers
            await send(message)

        request = Request(scope, receive)
        path = request.url.path
        if not path.startswith("/static/"):
            if not self.schema_ready():
                reason = "the database is being migrated; try again shortly"
                response = error_response(request, 503, reason, {"Retry-After": RETRY_AFTER})
                await response(scope, receive, send_secured)
                return
            if not path.startswith(PUBLIC_PREFIXES) and not access.is_reader(request):
                response = error_response(request, 401, "log in first")
                await response(scope, receive, send_secured)
                return
        await self.app(scope, receive, send_secured)


def _routes(modules: tuple[str, ...], *, optional: bool) -> list[BaseRoute]:
    found: list[BaseRoute] = []
    for name in modules:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if optional and exc.name == name:
                continue
            raise
        found.extend(module.routes())
    return found


def create_app(
    config: Config, *, store: Store | None = None, busy_timeout: float = BUSY_TIMEOUT
) -> Starlette:
    """The desk over ``store``, or over connections of its own to the configured database (opened without
    migrating: the daemon or ``monitor db upgrade`` does that), which wait ``busy_timeout`` seconds at most
    for a lock before the request gets a 503."""
    owned = store is None
    if store is None:
        the_store = Store.open(config.settings.monitor.database, migrate=False)
        engine_setup.set_busy_timeout(the_store.engine, busy_timeout)
    else:
        the_store = store
    token = config.settings.web.token
    cache = ResponseCache(marker_for(the_store.engine))
    state = Desk(config=config, store=the_store, token=token, secret=session_secret(token), cache=cache)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        cache.close()
        if owned:
            the_store.close()

    from monitor.web.render import STATIC

    routes: list[BaseRoute] = [
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
        *access.routes(),
        *_routes(PAGE_ROUTE_MODULES, optional=False),
        *_routes(EXTRA_ROUTE_MODULES, optional=True),
    ]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(
                SessionMiddleware, secret_key=state.secret.hex(), session_cookie=access.SESSION_COOKIE
            ),
            Middleware(DeskGuard, store=the_store),
        ],
        exception_handlers={
            HTTPException: _http_error,
            FilterError: _bad_value,
            TriageError: _bad_value,
            QueryError: _bad_query,
            OperationalError: _database_error,
            StoreError: _database_error,
            Exception: _server_error,
        },
        lifespan=lifespan,
    )
    app.state.desk = state
    return app
