"""Who gets in, and what a page may carry: the token, the login form and its signed session cookie, CSRF on
every POST, escaping of hostile stored strings on every page, security headers, and the 503 and 500 answers
(never a traceback)."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from starlette.testclient import TestClient

from monitor.web.access import safe_next
from monitor.web.app import create_app
from tests.webdesk import TOKEN, Filled, assert_inert, csrf_of, desk_client, desk_config, fill, login

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[tuple[TestClient, Filled]]:
    with desk_client(tmp_path) as (client, filled):
        yield client, filled


def pages(filled: Filled) -> list[str]:
    return [
        "/",
        "/?label=all",
        f"/articles/{filled.hostile}",
        f"/articles/{filled.wescam}",
        "/stories",
        "/search?q=Baykar",
        "/backtest?watchlist=arms",
        "/feeds",
        "/chart",
        "/articles/999999",
        "/?since=bogus",
    ]


def test_without_a_session_pages_go_to_login_and_machine_paths_answer_401(
    desk: tuple[TestClient, Filled],
) -> None:
    client, _ = desk
    answer = client.get("/stories?watchlist=arms", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=/stories%3Fwatchlist%3Darms"
    for path in ("/api/hits", "/api/stories", "/watchlists/arms.atom", "/metrics"):
        refused = client.get(path)
        assert refused.status_code == 401, path
        assert refused.json()["status"] == 401
    assert client.post("/hits/1/mark", data={"label": "relevant"}).status_code == 401
    assert client.get("/static/desk.js").status_code == 200  # the assets of the login page are public


def test_the_token_opens_the_desk_as_a_bearer_header_or_query_parameter(
    desk: tuple[TestClient, Filled],
) -> None:
    client, _ = desk
    # (not followed to the login page, which answers 200 too)
    assert (
        client.get("/", headers={"Authorization": f"Bearer {TOKEN}"}, follow_redirects=False).status_code
        == 200
    )
    assert client.get("/", params={"token": TOKEN}, follow_redirects=False).status_code == 200
    assert client.get("/api/hits", headers={"Authorization": f"bearer  {TOKEN} "}).status_code == 200
    assert client.get("/api/hits", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/api/hits", headers={"Authorization": f"Basic {TOKEN}"}).status_code == 401
    assert client.get("/api/hits", headers={"Authorization": "Bearer  "}).status_code == 401
    assert client.get("/api/hits", params={"token": TOKEN + "x"}).status_code == 401


def test_login_sets_a_signed_http_only_same_site_cookie(desk: tuple[TestClient, Filled]) -> None:
    client, _ = desk
    form = client.get("/login?next=/feeds")
    csrf = csrf_of(form.text)
    wrong = client.post("/login", data={"token": "guess", "csrf": csrf, "next": "/feeds"})
    assert wrong.status_code == 401 and "not the desk" in wrong.text
    right = client.post(
        "/login", data={"token": TOKEN, "csrf": csrf, "next": "/feeds"}, follow_redirects=False
    )
    assert right.status_code == 303 and right.headers["location"] == "/feeds"
    cookie = right.headers["set-cookie"].lower()
    assert cookie.startswith("monitor_session=") and "httponly" in cookie and "samesite=lax" in cookie
    assert client.get("/feeds").status_code == 200
    # A tampered cookie is no session.
    value = client.cookies["monitor_session"]
    client.cookies.set("monitor_session", value[:-2] + ("AA" if not value.endswith("AA") else "BB"))
    assert client.get("/feeds", follow_redirects=False).status_code == 303


def test_a_session_made_for_another_token_does_not_open_the_desk(tmp_path: Path) -> None:
    with desk_client(tmp_path / "a", token="first-token-abcdef") as (first, _):
        login(first, "first-token-abcdef")
        cookie = first.cookies["monitor_session"]
    with desk_client(tmp_path / "b", token="second-token-abcdef") as (second, _):
        second.cookies.set("monitor_session", cookie)
        assert second.get("/", follow_redirects=False).status_code == 303


def test_every_post_needs_the_session_csrf_token(desk: tuple[TestClient, Filled]) -> None:
    client, filled = desk
    assert client.post("/login", data={"token": TOKEN}).status_code == 403
    login(client)
    hit = filled.hits[filled.wescam]
    csrf = csrf_of(client.get("/").text)
    for path, data in (
        (f"/hits/{hit}/mark", {"label": "relevant"}),
        (f"/hits/{hit}/note", {"note": "x"}),
        ("/logout", {}),
    ):
        assert client.post(path, data=data).status_code == 403, path
        assert client.post(path, data={**data, "csrf": csrf + "x"}).status_code == 403, path
    assert (
        client.post(
            f"/hits/{hit}/mark", data={"label": "relevant"}, headers={"X-CSRF-Token": csrf}
        ).status_code
        == 200
    )
    with desk_client(Path(str(filled.config.settings.path.parent) + "-other")) as (other, _):
        login(other)
        foreign = csrf_of(other.get("/").text)
    assert client.post(f"/hits/{hit}/mark", data={"label": "unsure", "csrf": foreign}).status_code == 403
    assert client.post("/logout", data={"csrf": csrf}, follow_redirects=False).status_code == 303
    assert client.get("/", follow_redirects=False).status_code == 303  # logged out


def test_after_login_only_a_path_on_this_site_is_followed() -> None:
    assert safe_next("/articles/3?q=x") == "/articles/3?q=x"
    for target in ("//evil.example/", "https://evil.example/", "javascript:alert(1)", "", None, "feeds"):
        assert safe_next(target) == "/"


def test_hostile_stored_strings_render_inert_on_every_page(desk: tuple[TestClient, Filled]) -> None:
    client, filled = desk
    login(client)
    for path in pages(filled):
        page = client.get(path)
        assert page.status_code in (200, 400, 404), path
        assert_inert(page.text)
        assert "&lt;script&gt;" in page.text or path not in ("/", f"/articles/{filled.hostile}")
    hostile = client.get(f"/articles/{filled.hostile}").text
    assert "&lt;img src=x onerror=alert(2)&gt;" in hostile
    assert "&lt;b onmouseover=&#34;alert(4)&#34;&gt;Evil Daily&lt;/b&gt;" in client.get("/").text


def test_pages_carry_no_inline_script_and_the_security_headers(desk: tuple[TestClient, Filled]) -> None:
    client, filled = desk
    login(client)
    inline_script = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
    handler = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)
    for path in [*pages(filled), "/login"]:
        answer = client.get(path)
        csp = answer.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert not inline_script.search(answer.text), path
        assert not handler.search(answer.text), path
        assert " style=" not in answer.text, path


def test_a_database_being_migrated_answers_503_with_retry_after(desk: tuple[TestClient, Filled]) -> None:
    client, filled = desk
    with filled.store.engine.begin() as conn:  # the schema is one revision behind the code
        conn.execute(text("UPDATE alembic_version SET version_num = '0008'"))
    for path in ("/", "/login", "/api/hits"):
        answer = client.get(path)
        assert answer.status_code == 503, path
        assert answer.headers["retry-after"] == "5"
        assert "Traceback" not in answer.text


def test_a_locked_database_answers_503_with_retry_after(tmp_path: Path) -> None:
    filled = fill(desk_config(tmp_path, token=None))
    database = filled.config.settings.monitor.database.removeprefix("sqlite:///")
    holder = sqlite3.connect(database, isolation_level=None)
    try:
        with TestClient(create_app(filled.config, busy_timeout=0.2)) as client:
            assert client.get("/feeds").status_code == 200
            holder.execute("BEGIN IMMEDIATE")
            # The inbox only reads (a deferred transaction): another process's write lock does not stop it.
            assert client.get("/?label=all").status_code == 200
            answer = client.get("/feeds")  # the feeds page syncs the configured feeds first: a write
            assert answer.status_code == 503
            assert answer.headers["retry-after"] == "5"
            assert "busy" in answer.text
            holder.execute("ROLLBACK")
            assert client.get("/feeds").status_code == 200
    finally:
        holder.close()
        filled.store.close()


def test_a_failing_query_is_a_500_page_without_a_traceback(desk: tuple[TestClient, Filled]) -> None:
    client, filled = desk
    login(client)
    with filled.store.engine.begin() as conn:
        conn.execute(text("DROP TABLE hit_labels"))
    answer = client.get("/")
    assert answer.status_code == 500
    assert "Traceback" not in answer.text and "hit_labels" not in answer.text
    assert "see the log" in answer.text


def test_without_a_token_the_desk_is_open(tmp_path: Path) -> None:
    with desk_client(tmp_path, token=None) as (client, _):
        assert client.get("/").status_code == 200
        assert client.get("/api/hits").status_code != 401
        assert client.get("/login?next=/feeds", follow_redirects=False).headers["location"] == "/feeds"
