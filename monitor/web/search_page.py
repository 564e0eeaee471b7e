"""Search and backtest forms: the same use cases as `monitor search` and `monitor backtest`."""

from __future__ import annotations

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


def _query_problem(error: QueryError) -> str:
    return f"query: position {error.position + 1}: expected {error.expected}"


def search_page(request: Request) -> Response:
    state = desk(request)
    choices = filter_choices(state)
    given = params(request)
    context: dict[str, Any] = {"chosen": given, "choices": choices, "found": None, "problem": None}
    wanted = forms.search_form(given, feeds=choices["feeds"], now=state.now())
    if wanted is None:
        return page(request, "search.html", context)
    try:
        context["found"] = search(
            Archive(reading_store(request)),
            wanted.query,
            since=wanted.since,
            feed=wanted.feed,
            language=wanted.language,
            limit=wanted.limit,
            aliases=state.config.settings.resolved_aliases,
        )
    except QueryError as error:
        context["problem"] = _query_problem(error)
        return page(request, "search.html", context, status_code=400)
    context["query"] = wanted.query
    return page(request, "search.html", context)


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
    try:
        context["result"] = backtest(
            Archive(reading_store(request)),
            spec,
            since=wanted.since,
            aliases=state.config.settings.resolved_aliases,
        )
    except QueryError as error:
        context["problem"] = _query_problem(error)
        return page(request, "backtest.html", context, status_code=400)
    return page(request, "backtest.html", context)


def routes() -> list[BaseRoute]:
    return [
        Route("/search", search_page, methods=["GET"]),
        Route("/backtest", backtest_page, methods=["GET"]),
    ]
