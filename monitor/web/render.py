"""Rendering pages: one Jinja2 environment that escapes everything (stored strings are hostile input)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from monitor.web.access import csrf_token, is_reader
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
)
templates = Jinja2Templates(env=_environment, context_processors=[_context])


def page(request: Request, name: str, context: dict[str, Any], *, status_code: int = 200) -> HTMLResponse:
    """The template ``name`` rendered with ``context``; partial templates (htmx) render the same way."""
    return templates.TemplateResponse(request, name, context, status_code=status_code)
