"""The inbox: new hits grouped by story, newest first, with filters; marking a hit and noting it (the same
triage use cases as `monitor hits mark`). Marks come from forms, buttons or the keyboard (static/desk.js)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from monitor.store.archive import LABELS, Archive, HitRecord
from monitor.store.review import UNLABELLED, Review
from monitor.usecases import triage
from monitor.web import forms
from monitor.web.access import checked_form, safe_next
from monitor.web.reading import reading_store
from monitor.web.render import is_htmx, page, params, session_page, shared_page
from monitor.web.state import Desk, desk


def filter_choices(state: Desk) -> dict[str, list[str]]:
    settings = state.config.settings
    return {
        "watchlists": [w.name for w in settings.watchlists],
        "feeds": [job.name for job in state.config.jobs],
        "labels": list(forms.INBOX_LABELS),
    }


async def inbox(request: Request) -> Response:
    """The inbox page (or its list alone for htmx), kept between requests until the database changes: a kept
    page is answered on the event loop, a fresh one made in a worker thread."""
    state = desk(request)
    choices = filter_choices(state)
    wanted = forms.inbox_filter(
        params(request), watchlists=choices["watchlists"], feeds=choices["feeds"], now=state.now()
    )
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    name = "inbox_list.html" if is_htmx(request) else "inbox.html"

    def make() -> bytes:
        context = {
            "groups": triage.inbox(Review(reading_store(request)), wanted),
            "choices": choices,
            "chosen": params(request),
            "label": request.query_params.get("label") or UNLABELLED,
            "labels": LABELS,
            "here": here,
        }
        return shared_page(request, name, context)

    # The filter as parsed is part of the key: a relative "since" (7d) is another key at every request.
    key = ("inbox", name, here, wanted)
    body, stamp = state.cache.kept(key, state.config)
    if body is None:
        body = await run_in_threadpool(make)
        state.cache.keep(key, stamp, body)
    return session_page(request, body)


def _form_values(form: FormData) -> dict[str, str]:
    return {key: item for key, item in form.items() if isinstance(item, str)}


def _answer(request: Request, record: HitRecord | None, hit_id: int, form: dict[str, str]) -> Response:
    if record is None:
        raise HTTPException(404, f"no hit with id {hit_id}")
    if is_htmx(request):
        return page(request, "_hit.html", {"record": record, "labels": LABELS, "here": form.get("next", "/")})
    return RedirectResponse(safe_next(form.get("next")), status_code=303)


async def mark(request: Request) -> Response:
    hit_id: int = request.path_params["hit_id"]
    form = _form_values(await checked_form(request))
    label = forms.label_value(form)
    state = desk(request)
    record = await run_in_threadpool(
        triage.mark, Archive(state.store), hit_id, label, state.now(), keep_note=True
    )
    return _answer(request, record, hit_id, form)


async def note(request: Request) -> Response:
    hit_id: int = request.path_params["hit_id"]
    form = _form_values(await checked_form(request))
    text = forms.note_text(form)
    state = desk(request)
    record = await run_in_threadpool(triage.annotate, Archive(state.store), hit_id, text, state.now())
    return _answer(request, record, hit_id, form)


def routes() -> list[BaseRoute]:
    return [
        Route("/", inbox, methods=["GET"]),
        Route("/hits/{hit_id:int}/mark", mark, methods=["POST"]),
        Route("/hits/{hit_id:int}/note", note, methods=["POST"]),
    ]
