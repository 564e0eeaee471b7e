"""Rendering pages: one Jinja2 environment that escapes everything (stored strings are hostile input)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from monitor.web.access import csrf_token, is_reader
from monitor.web.cache import CSRF_PLACEHOLDER
from monitor.web.highlight import runs, snippet_runs
from monitor.web.state import desk

TEMPLATES = Path(__file__).resolve().parent / "templates"
STATIC = Path(__file__).resolve().parent / "static"


def _context(request: Request) -> dict[str, Any]:
    state = request.app.state
    has_desk = hasattr(state, "desk")
    return {
        "csrf": csrf_token(request) if "session" in request.scope else "",
        "locked": has_desk and desk(request).token is not None,
        "logged_in": has_desk and is_reader(request),
        "path": request.url.path,
    }


_environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    auto_reload=False,  # the templates ship with the package: compiled once, never stat()ed again
)


def when(moment: datetime | None) -> str:
    """A time as UTC minutes ("2026-11-30 14:05"), or a dash."""
    if moment is None:
        return "–"
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


def percent(rate: float | None) -> str:
    return "–" if rate is None else f"{rate:.0%}"


def safe_url(url: str | None) -> str:
    """A stored link, only when it is http(s): a ``javascript:`` or ``data:`` link from a feed becomes nothing."""
    if not url:
        return ""
    scheme = url.split(":", 1)[0].strip().lower()
    return url if scheme in ("http", "https") else ""


_environment.filters.update(
    when=when, percent=percent, runs=runs, snippet_runs=snippet_runs, safe_url=safe_url
)
templates = Jinja2Templates(env=_environment, context_processors=[_context])


def page(request: Request, name: str, context: dict[str, Any], *, status_code: int = 200) -> HTMLResponse:
    """The template ``name`` rendered with ``context``; partial templates (htmx) render the same way."""
    return templates.TemplateResponse(request, name, context, status_code=status_code)


def shared_page(request: Request, name: str, context: dict[str, Any]) -> bytes:
    """The template ``name`` rendered as any session would see it: the CSRF token is ``CSRF_PLACEHOLDER``
    (``session_page`` puts the session's own in)."""
    values = {**_context(request), **context, "request": request, "csrf": CSRF_PLACEHOLDER}
    return _environment.get_template(name).render(values).encode("utf-8")


def session_page(request: Request, body: bytes) -> HTMLResponse:
    """A page from ``shared_page`` with this session's CSRF token."""
    return HTMLResponse(body.replace(_PLACEHOLDER, csrf_token(request).encode("ascii")))


_PLACEHOLDER = CSRF_PLACEHOLDER.encode("ascii")


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def params(request: Request) -> dict[str, str]:
    """The query string as single values (the last one wins for a repeated key)."""
    return dict(request.query_params)
