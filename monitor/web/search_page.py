"""Search and backtest forms: the same use cases as `monitor search` and `monitor backtest`."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from monitor.errors import QueryError
from monitor.models import WatchlistSpec
from monitor.store.archive import Archive
from monitor.usecases.search import backtest, search
from monitor.web import forms
from monitor.web.inbox import filter_choices
from monitor.web.reading import reading_store
from monitor.web.render import page, params
from monitor.web.state import desk


def _answer(
    request: Request, template: str, context: dict[str, Any], run: Callable[[], dict[str, Any]]
) -> Response:
    """The page with what ``run`` found added to ``context``; a query that does not parse: the page with the
    problem, status 400."""
    try:
        context.update(run())
    except QueryError as error:
        context["problem"] = f"query: position {error.position + 1}: expected {error.expected}"
        return page(request, template, context, status_code=400)
    return page(request, template, context)


def search_page(request: Request) -> Response:
    state = desk(request)
    choices = filter_choices(state)
    given = params(request)
    context: dict[str, Any] = {"chosen": given, "choices": choices, "found": None, "problem": None}
    wanted = forms.search_form(given, feeds=choices["feeds"], now=state.now())
    if wanted is None:
        return page(request, "search.html", context)
    found = partial(
        search,
        Archive(reading_store(request)),
        wanted.query,
        since=wanted.since,
        feed=wanted.feed,
        language=wanted.language,
        limit=wanted.limit,
        aliases=state.config.settings.resolved_aliases,
    )
    return _answer(request, "search.html", context, lambda: {"found": found(), "query": wanted.query})


def backtest_page(request: Request) -> Response:
    state = desk(request)
    choices = filter_choices(state)
    given = params(request)
    context: dict[str, Any] = {"chosen": given, "choices": choices, "result": None, "problem": None}
    wanted = forms.backtest_form(given, watchlists=choices["watchlists"], now=state.now())
    if wanted is None:
        return page(request, "backtest.html", context)
    specs = {spec.name: spec for spec in state.config.settings.watchlist_specs()}
    spec = specs[wanted.watchlist] if wanted.watchlist else WatchlistSpec("query", query=wanted.query)
    result = partial(
        backtest,
        Archive(reading_store(request)),
        spec,
        since=wanted.since,
        aliases=state.config.settings.resolved_aliases,
    )
    return _answer(request, "backtest.html", context, lambda: {"result": result()})


def routes() -> list[BaseRoute]:
    return [
        Route("/search", search_page, methods=["GET"]),
        Route("/backtest", backtest_page, methods=["GET"]),
    ]
