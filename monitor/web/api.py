"""The JSON API: stored hits, stories and an archive search, through the same store queries and use cases as
the CLI, with an OpenAPI description. Bad parameters are 400 with the reason; every route needs a reader."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from monitor.config.compiled import Config
from monitor.errors import QueryError
from monitor.store.archive import Archive
from monitor.store.listing import HitListing
from monitor.usecases.search import search
from monitor.web import filters, forms
from monitor.web.access import require_reader
from monitor.web.filters import SEARCH_SINCE, FilterError
from monitor.web.openapi import document
from monitor.web.reading import reading_store
from monitor.web.schemas import (
    SearchResult,
    StoryList,
    found_out,
    hit_data,
    json_body,
    json_data,
    story_out,
)
from monitor.web.state import desk


def watchlist_names(config: Config) -> set[str]:
    return {watchlist.name for watchlist in config.settings.watchlists}


def feed_names(config: Config) -> set[str]:
    return {job.name for job in config.jobs}


def _json(model: StoryList | SearchResult) -> Response:
    return Response(json_body(model), media_type="application/json")


async def hits_endpoint(request: Request) -> Response:
    """Stored hits, newest first, filtered by watchlist, label, feed, language and since, a page at a time.
    A kept answer is given on the event loop, a fresh one made in a worker thread."""
    require_reader(request)
    state = desk(request)
    params = request.query_params
    try:
        wanted = filters.hit_filter(
            params,
            watchlists=watchlist_names(state.config),
            feeds=feed_names(state.config),
            now=state.now(),
        )
        page = filters.page(params)
    except FilterError as exc:
        raise HTTPException(400, str(exc)) from None

    def make() -> bytes:
        # One row past the page tells whether another follows, without counting every match.
        found = HitListing(reading_store(request).engine).page(
            wanted, limit=page.limit + 1, offset=page.offset
        )
        following = page.offset + page.limit if len(found) > page.limit else None
        # Plain data in the shape of HitList (its schema documents it): no model validated per hit.
        listed = {
            "hits": [hit_data(r) for r in found[: page.limit]],
            "limit": page.limit,
            "offset": page.offset,
            "next_offset": following,
        }
        return json_data(listed)

    key = ("api-hits", wanted, page)
    body, stamp = state.cache.kept(key, state.config)
    if body is None:
        body = await run_in_threadpool(make)
        state.cache.keep(key, stamp, body)
    return Response(body, media_type="application/json")


def stories_endpoint(request: Request) -> Response:
    """Stored stories, newest first (by their latest article), filtered by watchlist and since."""
    require_reader(request)
    state = desk(request)
    params = request.query_params
    try:
        watchlist = filters.choice(params, "watchlist", watchlist_names(state.config))
        since = filters.since(params, state.now())
        page = filters.page(params)
    except FilterError as exc:
        raise HTTPException(400, str(exc)) from None
    if page.offset:
        raise HTTPException(400, "offset: stories are listed from the newest; narrow with since instead")
    found = reading_store(request).stories(watchlist=watchlist, since=since, limit=page.limit)
    return _json(StoryList(stories=[story_out(s) for s in found], limit=page.limit))


def search_endpoint(request: Request) -> Response:
    """The stored articles a query matches, newest first: the CLI's `monitor search` engine."""
    require_reader(request)
    state = desk(request)
    params = request.query_params
    try:
        query = forms.query_text(params)
        if query is None:
            raise FilterError('q: give a query, such as Wescam OR "export permit*"')
        feed = filters.choice(params, "feed", feed_names(state.config))
        language = filters.language(params)
        since = filters.since(params, state.now(), SEARCH_SINCE)
        page = filters.page(params)
    except FilterError as exc:
        raise HTTPException(400, str(exc)) from None
    if page.offset:
        raise HTTPException(
            400, "offset: search results are listed from the newest; narrow with since instead"
        )
    try:
        found = search(
            Archive(reading_store(request)),
            query,
            since=since,
            feed=feed,
            language=language,
            limit=page.limit,
            aliases=state.config.settings.resolved_aliases,
        )
    except QueryError as exc:
        raise HTTPException(400, f"q:{exc.position + 1}: expected {exc.expected}") from None
    return _json(SearchResult(query=query, articles=[found_out(f) for f in found], limit=page.limit))


def openapi_endpoint(request: Request) -> Response:
    """This API's OpenAPI 3.1 description."""
    require_reader(request)
    return JSONResponse(document())


def routes() -> list[BaseRoute]:
    return [
        Route("/api/hits", hits_endpoint, methods=["GET"]),
        Route("/api/stories", stories_endpoint, methods=["GET"]),
        Route("/api/search", search_endpoint, methods=["GET"]),
        Route("/api/openapi.json", openapi_endpoint, methods=["GET"]),
    ]
