"""The JSON the API answers with, as pydantic models: the same keys as the CLI's ``--format json`` rows
(``monitor hits``, ``monitor stories``, ``monitor search``), and the source of the OpenAPI schemas."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, PlainSerializer, WithJsonSchema

from monitor.commands import hit_row
from monitor.models import Hit, Story
from monitor.redact import mask_data, mask_known
from monitor.store.archive import HitRecord
from monitor.usecases.search import Found

# ISO 8601 with the UTC offset written out, as the CLI's JSON writes it.
Moment = Annotated[
    datetime,
    PlainSerializer(lambda value: value.isoformat(), return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


class Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SnippetOut(Model):
    field: str
    text: str
    marks: list[tuple[int, int]]  # (start, end) offsets into text of each match


class HitOut(Model):
    id: int
    label: str | None
    note: str | None
    watchlist: str
    found_at: Moment
    published: Moment
    feed: str
    title: str
    url: str | None
    matched: list[str]
    language: str | None
    found_as: list[str]
    update: bool
    snippet: str
    snippets: list[SnippetOut]
    story: int | None
    outlets: list[str]
    new_terms: list[str]
    new_watchlist: bool
    via: str | None


class HitList(Model):
    hits: list[HitOut]
    limit: int
    offset: int
    next_offset: int | None  # the offset of the next page; None on the last one


class StoryArticleOut(Model):
    url: str | None
    feed: str
    title: str
    published: Moment


class StoryOut(Model):
    id: int
    title: str
    first_seen: Moment
    watchlists: list[str]
    articles: list[StoryArticleOut]


class StoryList(Model):
    stories: list[StoryOut]
    limit: int


class FoundOut(Model):
    url: str | None
    title: str
    feed: str
    published: Moment
    language: str | None
    story: int | None
    matched: list[str]
    snippet: str


class SearchResult(Model):
    query: str
    articles: list[FoundOut]
    limit: int


class Problem(Model):
    error: str  # what was wrong and what is accepted


def hit_out(record: HitRecord) -> HitOut:
    hit: Hit = record.hit
    label = record.label
    return HitOut(
        id=hit.id,
        label=label.label if label else None,
        note=label.note if label else None,
        watchlist=hit.watchlist,
        found_at=hit.found_at,
        published=hit.published,
        feed=hit.feed,
        title=hit.title,
        url=hit.url,
        matched=list(hit.matched),
        language=hit.language,
        found_as=list(hit.found_as),
        update=hit.on_update,
        snippet=hit.snippets[0].text if hit.snippets else "",
        snippets=[SnippetOut(field=s.field, text=s.text, marks=list(s.marks)) for s in hit.snippets],
        story=hit.story,
        outlets=list(hit.outlets),
        new_terms=list(hit.new_terms),
        new_watchlist=hit.new_watchlist,
        via=hit.via,
    )


def hit_data(record: HitRecord) -> dict[str, Any]:
    """One hit as ``HitOut`` describes it, as plain data: what ``/api/hits`` encodes (``json_data``), without
    building and validating a model per hit. The CLI's JSON row, with its times as ISO text."""
    data = hit_row(record.hit, record)
    data["found_at"] = record.hit.found_at.isoformat()
    data["published"] = record.hit.published.isoformat()
    return data


def story_out(story: Story) -> StoryOut:
    return StoryOut(
        id=story.id,
        title=story.title,
        first_seen=story.first_seen,
        watchlists=list(story.watchlists),
        articles=[
            StoryArticleOut(url=a.url, feed=a.feed, title=a.title, published=a.published)
            for a in story.articles
        ],
    )


def found_out(item: Found) -> FoundOut:
    article = item.article
    snippets = item.match.snippets
    return FoundOut(
        url=article.url,
        title=article.title,
        feed=article.feed,
        published=article.published,
        language=article.language,
        story=article.story,
        matched=list(item.match.matched),
        snippet=snippets[0].text if snippets else "",
    )


def json_data(data: dict[str, Any]) -> bytes:
    """Plain data shaped as one of the models above, as ``json_body`` encodes a model: compact UTF-8 JSON with
    remembered secrets masked."""
    return _masked(_compact(data), lambda: data)


def json_body(model: BaseModel) -> bytes:
    """The model as UTF-8 JSON with remembered secrets masked, as the CLI's JSON has them."""
    return _masked(
        model.__pydantic_serializer__.to_json(model).decode(), lambda: model.model_dump(mode="json")
    )


def _masked(text: str, data: Callable[[], Any]) -> bytes:
    """The JSON ``text`` with remembered secrets masked (they are remembered JSON-escaped too), encoded; should
    a mask ever cut through the JSON's syntax, the values of ``data()`` are masked one by one before encoding
    instead."""
    masked = mask_known(text)
    if masked == text:
        return text.encode()
    try:
        json.loads(masked)
    except ValueError:
        return _compact(mask_data(data())).encode()
    return masked.encode()


def _compact(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))
