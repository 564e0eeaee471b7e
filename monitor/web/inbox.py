"""The inbox: new hits grouped by story, with filters and keyboard triage."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from monitor.web.render import page


async def inbox(request: Request) -> Response:
    return page(request, "inbox.html", {"groups": []})


def routes() -> list[BaseRoute]:
    return [Route("/", inbox, methods=["GET"])]
