"""The OpenAPI 3.1 description of the desk's machine-facing routes (JSON API, Atom feeds, metrics). The
response schemas come from the pydantic models the handlers answer with, so they cannot drift apart; a test
checks that every route of the API is described here."""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from monitor.store.archive import LABELS
from monitor.store.review import UNLABELLED
from monitor.web.filters import DEFAULT_LIMIT
from monitor.web.forms import MAX_LIMIT
from monitor.web.schemas import HitList, Problem, SearchResult, StoryList

REF = "#/components/schemas/{model}"
MODELS: tuple[type[BaseModel], ...] = (HitList, StoryList, SearchResult, Problem)


def _parameter(
    name: str, description: str, schema: dict[str, Any], *, where: str = "query"
) -> dict[str, Any]:
    return {
        "name": name,
        "in": where,
        "required": where == "path",
        "description": description,
        "schema": schema,
    }


PARAMETERS: dict[str, dict[str, Any]] = {
    "watchlist": _parameter("watchlist", "only this watchlist (a name from the config)", {"type": "string"}),
    "label": _parameter(
        "label",
        f"only hits with this triage label ({UNLABELLED}: not triaged yet; all: any, as when absent)",
        {"type": "string", "enum": [*LABELS, UNLABELLED, "all"]},
    ),
    "feed": _parameter("feed", "only articles of this feed (a name from the config)", {"type": "string"}),
    "language": _parameter(
        "language",
        "only articles in this language (ISO 639 code)",
        {"type": "string", "pattern": "^[a-z]{2,3}$"},
    ),
    "since": _parameter(
        "since",
        "a duration back from now (2d, 6h) or an ISO date or date-time (UTC when no offset is given)",
        {"type": "string"},
    ),
    "search_since": _parameter(
        "since",
        "published since: a duration back from now (default 30d) or an ISO date or date-time",
        {"type": "string", "default": "30d"},
    ),
    "limit": _parameter(
        "limit",
        "rows to return",
        {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
    ),
    "offset": _parameter("offset", "rows to skip", {"type": "integer", "minimum": 0, "default": 0}),
    "q": {
        **_parameter(
            "q", "a query in the watchlist query language (as `monitor search`)", {"type": "string"}
        ),
        "required": True,
    },
    "name": _parameter("name", "a watchlist's name from the config", {"type": "string"}, where="path"),
}


def _response(description: str, media: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {media: {"schema": schema}}}


def _problem(description: str) -> dict[str, Any]:
    return _response(description, "application/json", {"$ref": REF.format(model="Problem")})


def _get(
    summary: str,
    parameters: list[str],
    ok: dict[str, Any],
    *,
    bad_request: bool = True,
    more: dict[str, Any] | None = None,
) -> dict[str, Any]:
    responses: dict[str, Any] = {"200": ok, "401": _problem("no valid token or session")}
    if bad_request:
        responses["400"] = _problem("a parameter that cannot be used; the error says which and why")
    responses |= more or {}
    return {
        "get": {"summary": summary, "parameters": [PARAMETERS[p] for p in parameters], "responses": responses}
    }


def _json_ok(model: str) -> dict[str, Any]:
    return _response("the result", "application/json", {"$ref": REF.format(model=model)})


PATHS: dict[str, dict[str, Any]] = {
    "/api/hits": _get(
        "Stored hits, newest first",
        ["watchlist", "label", "feed", "language", "since", "limit", "offset"],
        _json_ok("HitList"),
    ),
    "/api/stories": _get(
        "Stored stories, newest first", ["watchlist", "since", "limit"], _json_ok("StoryList")
    ),
    "/api/search": _get(
        "Stored articles a query matches, newest first",
        ["q", "feed", "language", "search_since", "limit"],
        _json_ok("SearchResult"),
    ),
    "/api/openapi.json": _get(
        "This description",
        [],
        _response("an OpenAPI 3.1 document", "application/json", {"type": "object"}),
        bad_request=False,
    ),
    "/watchlists/{name}.atom": _get(
        "A watchlist's latest hits as an Atom feed",
        ["name"],
        _response("an Atom 1.0 feed", "application/atom+xml", {"type": "string"}),
        bad_request=False,
        more={"404": _problem("no watchlist of that name in the config")},
    ),
    "/metrics": _get(
        "Counters and gauges in the Prometheus text format",
        [],
        _response("the Prometheus text exposition format", "text/plain", {"type": "string"}),
        bad_request=False,
    ),
}


@cache
def document() -> dict[str, Any]:
    """The OpenAPI document (built once; it depends on nothing but the code)."""
    _, schemas = models_json_schema([(model, "serialization") for model in MODELS], ref_template=REF)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "monitor web desk",
            "version": "1",
            "description": "Read-only access to stored hits, stories and archive search, for scripts and feed readers.",
        },
        "paths": PATHS,
        "components": {
            "schemas": schemas.get("$defs", {}),
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "the [web] token of the config",
                },
                "query": {"type": "apiKey", "in": "query", "name": "token", "description": "the [web] token"},
                "session": {"type": "apiKey", "in": "cookie", "name": "monitor_session"},
            },
        },
        "security": [{"bearer": []}, {"query": []}, {"session": []}],
    }
