"""The feeds page: each feed's poll state and health, as `monitor status` reports them."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from monitor.usecases.status import feed_rows
from monitor.web.render import page
from monitor.web.state import desk


def feeds_page(request: Request) -> Response:
    state = desk(request)
    config = state.config
    rows = feed_rows(config.sources, config.settings.monitor.silent_after, state.store, state.now())
    return page(request, "feeds.html", {"feeds": rows})


def routes() -> list[BaseRoute]:
    return [Route("/feeds", feeds_page, methods=["GET"])]
