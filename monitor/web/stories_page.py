"""The stories page: stories newest first, each with its outlets' copies (as `monitor stories`)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from monitor.web import forms
from monitor.web.inbox import filter_choices
from monitor.web.reading import reading_store
from monitor.web.render import page, params
from monitor.web.state import desk


def stories_page(request: Request) -> Response:
    state = desk(request)
    given = params(request)
    choices = filter_choices(state)
    watchlist = forms.choice(given, "watchlist", choices["watchlists"])
    since = forms.since(forms.value(given, "since"), state.now())
    limit = forms.number(forms.value(given, "limit"), "limit", default=50, lowest=1, highest=forms.MAX_LIMIT)
    found = reading_store(request).stories(watchlist=watchlist, since=since, limit=limit)
    return page(request, "stories.html", {"stories": found, "chosen": given, "choices": choices})


def routes() -> list[BaseRoute]:
    return [Route("/stories", stories_page, methods=["GET"])]
