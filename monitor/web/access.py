"""Who may read the desk, and the guard on every form.

A reader is let in when no token is configured, when the request carries a signed session cookie made at login
for the current token, or when it carries the token itself (``Authorization: Bearer TOKEN`` or ``?token=TOKEN``,
for feed readers and scripts). Every POST carries a CSRF token tied to the session (403 without it)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from monitor.web.state import Desk, desk

SESSION_COOKIE = "monitor_session"
CSRF_FIELD = "csrf"
CSRF_HEADER = "X-CSRF-Token"
_READER = "reader"
_CSRF = "csrf"


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def reader_mark(state: Desk) -> str:
    """What a logged-in session holds: a digest of the current token, so that changing the token ends every
    session made with the old one."""
    token = state.token or ""
    return hmac.new(state.secret, b"reader\0" + token.encode("utf-8"), hashlib.sha256).hexdigest()


def presented_token(request: Request) -> str | None:
    """The token a request carries itself: a bearer header, else the ``token`` query parameter."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.query_params.get("token")


def _session(request: Request) -> dict[str, object]:
    if "session" not in request.scope:
        return {}
    return request.session


def is_reader(request: Request) -> bool:
    state = desk(request)
    if state.token is None:
        return True
    mark = _session(request).get(_READER)
    if isinstance(mark, str) and _same(mark, reader_mark(state)):
        return True
    given = presented_token(request)
    return given is not None and _same(given, state.token)


def require_reader(request: Request) -> None:
    """Raise HTTPException(401) unless the request may read the desk."""
    if not is_reader(request):
        raise HTTPException(401, "log in, or give the token as a bearer header or ?token=")


def csrf_token(request: Request) -> str:
    """The session's CSRF token, made on first use (the session cookie then carries it)."""
    session = request.session
    token = session.get(_CSRF)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(24)
        session[_CSRF] = token
    return token


def check_csrf(request: Request, form: FormData) -> None:
    """Raise HTTPException(403) unless the form field or the X-CSRF-Token header matches the session's token."""
    expected = _session(request).get(_CSRF)
    given = form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER)
    if (
        not isinstance(expected, str)
        or not expected
        or not isinstance(given, str)
        or not _same(given, expected)
    ):
        raise HTTPException(403, "missing or stale form token: reload the page and try again")


async def checked_form(request: Request) -> FormData:
    """The POST's form, after the CSRF check."""
    form = await request.form()
    check_csrf(request, form)
    return form


def safe_next(target: str | None) -> str:
    """Where to go after login: a path on this site only (never another host)."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


async def login_page(request: Request) -> Response:
    from monitor.web.render import page

    target = safe_next(request.query_params.get("next"))
    if desk(request).token is None:  # an open desk has nothing to log in to
        return RedirectResponse(target, status_code=303)
    return page(request, "login.html", {"next": target, "failed": False})


async def login(request: Request) -> Response:
    from monitor.web.render import page

    form = await checked_form(request)
    state = desk(request)
    given = form.get("token")
    target = safe_next(str(form.get("next") or "/"))
    if state.token is not None and not (isinstance(given, str) and _same(given, state.token)):
        return page(request, "login.html", {"next": target, "failed": True}, status_code=401)
    request.session.clear()
    request.session[_READER] = reader_mark(state)
    csrf_token(request)  # a fresh CSRF token for the new session
    return RedirectResponse(target, status_code=303)


async def logout(request: Request) -> Response:
    await checked_form(request)
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


def routes() -> list[BaseRoute]:
    return [
        Route("/login", login_page, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
    ]
