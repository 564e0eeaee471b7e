"""An article: its stored text with every match highlighted, its hits, its versions and what changed, and the
evidence (captures with hash and fetch time; the WARC file to download)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from monitor.store.archive import LABELS, Archive
from monitor.store.review import HitFilter, Review
from monitor.usecases.evidence import WARC_NAME, write_warc
from monitor.web import forms
from monitor.web.changes import changes
from monitor.web.highlight import field_runs, marks_count, query_matcher
from monitor.web.reading import reading_store
from monitor.web.render import page, params
from monitor.web.state import desk


def article_page(request: Request) -> Response:
    article_id: int = request.path_params["article_id"]
    state = desk(request)
    reading = reading_store(request)
    archive = Archive(reading)
    article = archive.article(article_id)
    if article is None:
        raise HTTPException(404, f"no article with id {article_id}")
    query = forms.query_text(params(request))
    fields = article.fields()
    matcher = query_matcher(query, state.config.settings.resolved_aliases) if query else state.config.matcher
    marks = matcher.highlights(fields)
    review = Review(reading)
    records = review.hits(HitFilter(article_id=article_id, limit=None))
    captures = archive.captures(article_id)
    context = {
        "article": article,
        "runs": field_runs(fields, marks),
        "marks": marks_count(marks),
        "query": query,
        "records": records,
        "labels": LABELS,
        "here": request.url.path,
        "changes": changes(review.versions(article_id), article.title, article.text),
        "captures": captures,
    }
    return page(request, "article.html", context)


def evidence_download(request: Request) -> Response:
    article_id: int = request.path_params["article_id"]
    archive = Archive(reading_store(request))
    if archive.article(article_id) is None:
        raise HTTPException(404, f"no article with id {article_id}")
    captures = archive.captures(article_id)
    if not captures:
        raise HTTPException(404, f"article {article_id} has no captured page (it was never fetched in full)")
    with tempfile.TemporaryDirectory(prefix="monitor-warc-") as folder:
        path = Path(folder) / WARC_NAME
        write_warc(path, captures)
        body = path.read_bytes()
    name = f"article-{article_id}-{WARC_NAME}"
    return Response(
        body,
        media_type="application/warc",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def routes() -> list[BaseRoute]:
    return [
        Route("/articles/{article_id:int}", article_page, methods=["GET"]),
        Route("/articles/{article_id:int}/evidence.warc.gz", evidence_download, methods=["GET"]),
    ]
