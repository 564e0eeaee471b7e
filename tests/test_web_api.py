"""The JSON API through the real app over a real SQLite database: access, filters, the same rows as the CLI's
JSON, errors with their reasons, and an OpenAPI document that describes every route."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate
from sqlalchemy import text
from starlette.routing import Route

from monitor.redact import forget_all, remember
from monitor.store import Store
from monitor.store.archive import Archive
from monitor.store.schema import head_revision
from monitor.store.tables import articles
from monitor.web.app import SCHEMA_RECHECK, DeskGuard, _routes, create_app
from monitor.web.schemas import HitList, hit_out
from tests.archive_corpus import T0
from tests.desk_data import HOSTILE, TOKEN, Desk, open_desk
from tests.factory import json_lines, run_cli

BEARER = {"Authorization": f"Bearer {TOKEN}"}
API = [("/api/hits", {}), ("/api/stories", {}), ("/api/search", {"q": "police"}), ("/api/openapi.json", {})]


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    yield from open_desk(tmp_path)


def get(desk: Desk, path: str, **params: Any) -> Any:
    response = desk.client.get(path, params=params, headers=BEARER)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    return response.json()


def every_hit(desk: Desk, **params: Any) -> list[dict[str, Any]]:
    return list(get(desk, "/api/hits", limit=500, **params)["hits"])


# --- access -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "params"), API)
def test_api_needs_the_token_as_bearer_or_query(desk: Desk, path: str, params: dict[str, str]) -> None:
    client = desk.client
    assert client.get(path, params=params).status_code == 401
    assert client.get(path, params=params, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get(path, params={**params, "token": "wrong"}).status_code == 401
    assert client.get(path, params=params, headers=BEARER).status_code == 200
    assert client.get(path, params={**params, "token": TOKEN}).status_code == 200
    refused = client.get(path, params=params)
    assert refused.headers["content-type"].startswith("application/json")
    assert "error" in refused.json()


def test_api_is_open_without_a_configured_token(tmp_path: Path) -> None:
    for open_one in open_desk(tmp_path, token=None):
        assert open_one.client.get("/api/hits").status_code == 200


# --- the same rows as the CLI -------------------------------------------------------------------------------


def test_hits_are_the_rows_monitor_hits_prints(desk: Desk) -> None:
    config = Path(desk.config.settings.monitor.database.removeprefix("sqlite:///")).parent / "monitor.toml"
    cli = run_cli(config, "hits", "--format", "json", "--limit", "30")
    assert cli.returncode == 0, cli.stderr
    assert get(desk, "/api/hits", limit=30)["hits"] == json_lines(cli.stdout)


def test_stories_and_search_are_what_the_cli_prints(desk: Desk) -> None:
    config = Path(desk.config.settings.monitor.database.removeprefix("sqlite:///")).parent / "monitor.toml"
    stories = run_cli(config, "stories", "--format", "json", "--limit", "10")
    assert stories.returncode == 0, stories.stderr
    assert get(desk, "/api/stories", limit=10)["stories"] == json_lines(stories.stdout)
    query = 'police OR "court*"'
    found = run_cli(config, "search", query, "--format", "json", "--limit", "25", "--since", "2026-10-01")
    assert found.returncode == 0, found.stderr
    result = get(desk, "/api/search", q=query, limit=25, since="2026-10-01")
    assert result["articles"] == json_lines(found.stdout)
    assert result["articles"] and result["query"] == query


# --- filters ------------------------------------------------------------------------------------------------


def test_filters_narrow_the_hits(desk: Desk) -> None:
    everything = every_hit(desk)
    assert len(everything) == len(desk.store.hits(limit=None)) > 40
    police = every_hit(desk, watchlist="police")
    assert police == [h for h in everything if h["watchlist"] == "police"]
    assert every_hit(desk, feed="wire") == [h for h in everything if h["feed"] == "wire"]
    french = every_hit(desk, language="fr")
    assert [h["title"] for h in french] == [HOSTILE]
    recent = every_hit(desk, since="2026-10-31T12:00:00")
    cutoff = datetime(2026, 10, 31, 12, tzinfo=UTC)
    assert recent == [h for h in everything if datetime.fromisoformat(h["found_at"]) >= cutoff]
    assert 0 < len(recent) < len(everything)


def test_label_filter_follows_triage(desk: Desk) -> None:
    first, second = every_hit(desk, watchlist="court")[:2]
    archive = Archive(desk.store)
    archive.mark(first["id"], "relevant", "on topic", datetime.now(UTC))
    archive.mark(second["id"], "irrelevant", None, datetime.now(UTC))
    relevant = every_hit(desk, label="relevant")
    assert [(h["id"], h["label"], h["note"]) for h in relevant] == [(first["id"], "relevant", "on topic")]
    assert [h["id"] for h in every_hit(desk, label="irrelevant")] == [second["id"]]
    untriaged = every_hit(desk, label="new")
    assert len(untriaged) == len(every_hit(desk)) - 2
    assert {first["id"], second["id"]}.isdisjoint(h["id"] for h in untriaged)


def test_pages_follow_one_another(desk: Desk) -> None:
    everything = every_hit(desk)
    first = get(desk, "/api/hits", limit=10)
    second = get(desk, "/api/hits", limit=10, offset=10)
    assert (first["limit"], first["next_offset"], second["offset"]) == (10, 10, 10)
    assert first["hits"] + second["hits"] == everything[:20]
    last = get(desk, "/api/hits", limit=10, offset=len(everything) - 3)
    assert len(last["hits"]) == 3 and last["next_offset"] is None
    exactly = get(
        desk, "/api/hits", limit=10, offset=len(everything) - 10
    )  # a full page, and nothing after it
    assert len(exactly["hits"]) == 10 and exactly["next_offset"] is None
    one_more = get(desk, "/api/hits", limit=10, offset=len(everything) - 11)
    assert len(one_more["hits"]) == 10 and one_more["next_offset"] == len(everything) - 1
    assert get(desk, "/api/hits", offset=len(everything))["hits"] == []


BAD = [
    ("/api/hits", {"label": "great"}, "label 'great' is not known"),
    ("/api/hits", {"watchlist": "nope"}, "watchlist 'nope' is not known"),
    ("/api/hits", {"feed": "elsewhere"}, "feed 'elsewhere' is not known"),
    ("/api/hits", {"language": "english"}, "language 'english'"),
    ("/api/hits", {"since": "yesterday"}, "since 'yesterday'"),
    ("/api/hits", {"limit": "0"}, "limit '0'"),
    ("/api/hits", {"limit": "501"}, "limit '501'"),
    ("/api/hits", {"limit": "ten"}, "limit 'ten'"),
    ("/api/hits", {"offset": "-1"}, "offset '-1'"),
    ("/api/stories", {"watchlist": "nope"}, "watchlist 'nope'"),
    ("/api/stories", {"offset": "5"}, "offset"),
    ("/api/search", {}, "q: give a query"),
    ("/api/search", {"q": "police AND ("}, "q:13: expected"),
    ("/api/search", {"q": '"unclosed'}, "q:"),
    ("/api/search", {"q": "police", "since": "2026-13-45"}, "since '2026-13-45'"),
    ("/api/search", {"q": "x" * 2001}, "longer than 2000 characters"),
]


@pytest.mark.parametrize(("path", "params", "reason"), BAD)
def test_bad_values_are_400_with_the_reason(
    desk: Desk, path: str, params: dict[str, str], reason: str
) -> None:
    response = desk.client.get(path, params=params, headers=BEARER)
    assert response.status_code == 400
    assert reason in response.json()["error"]


def test_search_looks_back_30_days_unless_told(desk: Desk) -> None:
    # The corpus articles are dated back from T0, an hour apart: 60 days on, none is within 30 days.
    desk.client.app.state.desk.now = lambda: T0 + timedelta(days=60)  # type: ignore[attr-defined]
    assert get(desk, "/api/search", q="police")["articles"] == []
    assert get(desk, "/api/search", q="police", since="65d")["articles"]
    desk.client.app.state.desk.now = lambda: T0 + timedelta(days=1)  # type: ignore[attr-defined]
    assert get(desk, "/api/search", q="police")["articles"]


def test_remembered_secrets_are_masked_in_the_json(desk: Desk) -> None:
    secret = 'pass"word-7f3'  # JSON escapes its quote: the mask must find it all the same
    first = every_hit(desk, watchlist="police")[-1]
    with desk.store.engine.begin() as conn:
        conn.execute(
            articles.update().where(articles.c.url == first["url"]).values(title=f"leak {secret} here")
        )
    remember(secret)
    try:
        response = desk.client.get("/api/hits", params={"watchlist": "police", "limit": 500}, headers=BEARER)
    finally:
        forget_all()
    assert "word-7f3" not in response.text
    assert response.json()["hits"][-1]["title"] == "leak **** here"


def test_hostile_title_comes_back_as_json_text(desk: Desk) -> None:
    response = desk.client.get("/api/hits", params={"language": "fr"}, headers=BEARER)
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.json()["hits"][0]["title"] == HOSTILE


# --- OpenAPI ------------------------------------------------------------------------------------------------


def test_openapi_document_is_valid_and_describes_every_route(desk: Desk) -> None:
    document = get(desk, "/api/openapi.json")
    validate(document)
    assert document["openapi"].startswith("3.1")
    app = create_app(desk.config, store=desk.store)
    served = {r.path for r in app.routes if isinstance(r, Route)}
    machine = {p for p in served if p.startswith("/api/") or p.endswith(".atom") or p == "/metrics"}
    assert machine == set(document["paths"])
    for path, item in document["paths"].items():
        assert set(item) == {"get"}, path
        assert {"200", "401"} <= set(item["get"]["responses"]), path


def test_openapi_schemas_list_the_keys_the_api_answers_with(desk: Desk) -> None:
    schemas = get(desk, "/api/openapi.json")["components"]["schemas"]
    hit = get(desk, "/api/hits", limit=1)["hits"][0]
    assert set(schemas["HitOut"]["properties"]) == set(hit)
    assert set(schemas["HitList"]["required"]) == {"hits", "limit", "offset", "next_offset"}
    story = get(desk, "/api/stories", limit=1)["stories"][0]
    assert set(schemas["StoryOut"]["properties"]) == set(story)
    found = get(desk, "/api/search", q="police", limit=1, since="2026-10-01")["articles"][0]
    assert set(schemas["FoundOut"]["properties"]) == set(found)


def test_reads_go_on_while_another_process_holds_the_write_lock(desk: Desk) -> None:
    path = desk.config.settings.monitor.database.removeprefix("sqlite:///")
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # as a poll storing its articles does
    try:
        for url, params in [*API, ("/watchlists/police.atom", {}), ("/metrics", {})]:
            response = desk.client.get(url, params=params, headers=BEARER)
            assert response.status_code == 200, (url, response.text)
    finally:
        writer.execute("ROLLBACK")
        writer.close()


def test_hits_are_encoded_as_their_documented_model_would_be(desk: Desk) -> None:
    answer = get(desk, "/api/hits", limit=500)
    assert answer["hits"]
    HitList.model_validate(answer)  # every key the schema documents, no other, of its type
    ids = [hit["id"] for hit in answer["hits"]]
    records = Archive(desk.store).hit_records(ids)
    assert [hit_out(records[i]).model_dump(mode="json") for i in ids] == answer["hits"]


def test_an_optional_route_module_may_be_absent_but_not_broken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A route module left out of the install is skipped; one that is there but cannot import what it needs is
    an error, named, not a desk missing its routes in silence."""
    (tmp_path / "desk_routes_broken.py").write_text("import desk_dependency_not_installed\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert _routes(("desk_routes_absent",), optional=True) == []
    with pytest.raises(ModuleNotFoundError, match="desk_dependency_not_installed"):
        _routes(("desk_routes_broken",), optional=True)
    with pytest.raises(ModuleNotFoundError, match="desk_routes_absent"):
        _routes(("desk_routes_absent",), optional=False)


def test_the_schema_is_checked_again_once_five_seconds_have_passed(store: Store) -> None:
    now = [100.0]
    guard = DeskGuard(None, store, clock=lambda: now[0])  # type: ignore[arg-type]  # (no app: never called)
    assert guard.schema_ready()  # checked: current
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM alembic_version"))  # as if a migration were pending
    now[0] = 100.0 + SCHEMA_RECHECK - 0.001
    assert guard.schema_ready()  # taken from the last check
    now[0] = 100.0 + SCHEMA_RECHECK
    assert not guard.schema_ready()  # checked again
    with store.engine.begin() as conn:
        conn.execute(text("INSERT INTO alembic_version VALUES (:head)"), {"head": head_revision()})
    now[0] += 0.001
    assert guard.schema_ready()  # not ready is never kept: checked at once
