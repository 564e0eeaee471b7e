"""Stories end to end: two feeds carrying copies of one story, a canonical link, `monitor stories` and alerts."""

from __future__ import annotations

from pathlib import Path

from tests.factory import Item, article_page, json_lines, recent, rss, run_cli, write_config
from tests.httpserver import LocalServer, http_server
from tests.webhook import WebhookServer, webhook_server

__all__ = ["http_server", "webhook_server"]

WATCHLIST = {"name": "arms-exports", "terms": ["Wescam", "Baykar", "export permit*"], "notify": ["chat"]}
HTML = {"Content-Type": "text/html; charset=utf-8"}


def page(site: str, title: str, paragraphs: list[str]) -> bytes:
    """An article page naming its outlet, as news sites do."""
    meta = f"<head><meta property='og:site_name' content='{site}'>".encode()
    return article_page(title, paragraphs).replace(b"<head>", meta, 1)


PARAGRAPHS = [
    "Canadian-made Wescam imaging and targeting systems were found on Turkish Baykar drones shot down last month.",
    "Global Affairs Canada would not say whether new export permits had been granted since the spring review.",
    "Project Ploughshares, which tracks arms exports, said the cameras matched serial numbers it had documented.",
    "The minister told reporters in Ottawa that the department was looking into the findings with great concern.",
    "Opposition critics called for the committee to summon officials before the end of the parliamentary session.",
    "The manufacturer declined to comment on specific customers, citing commercial confidentiality agreements.",
    "Analysts said the case would test how far end-use assurances signed by allies can be relied upon in practice.",
    "A spokesperson for the Turkish embassy did not respond to several requests for comment on Tuesday evening.",
]


def serve(server: LocalServer) -> None:
    paragraphs = PARAGRAPHS
    server.route(
        "/cp.xml",
        body=rss([Item("Drone cameras: permits questioned", server.url("/cp/story?cmp=rss"), "", recent(2))]),
    )
    server.route(
        "/cbc.xml",
        body=rss(
            [
                Item("CBC: Canadian cameras on Turkish drones", server.url("/cbc/story"), "", recent(1)),
                Item("Council meets", server.url("/cbc/council"), "", recent(1)),
            ]
        ),
    )
    server.route("/cp/story", body=page("The Canadian Press", "Permits questioned", paragraphs), headers=HTML)
    copy = [
        "By The Canadian Press.",
        *paragraphs[: max(3, len(paragraphs) * 2 // 3)],
        "Sign up for our newsletter.",
    ]
    server.route("/cbc/story", body=page("CBC News", "Cameras on drones", copy), headers=HTML)
    council = [f"The council discussed road number {i} and its repairs at length today." for i in range(8)]
    server.route("/cbc/council", body=article_page("Council", council), headers=HTML)


def test_copies_are_one_story_alerted_once_with_their_outlets(
    tmp_path: Path, http_server: LocalServer, webhook_server: WebhookServer
) -> None:
    serve(http_server)
    config = write_config(
        tmp_path,
        feeds=[{"name": "cp", "url": http_server.url("/cp.xml")}],
        watchlists=[WATCHLIST],
        notifiers=[{"name": "chat", "urls": [webhook_server.apprise_url()]}],
    )
    assert run_cli(config, "poll").returncode == 0
    config = write_config(
        tmp_path,
        feeds=[
            {"name": "cp", "url": http_server.url("/cp.xml")},
            {"name": "cbc", "url": http_server.url("/cbc.xml")},
        ],
        watchlists=[WATCHLIST],
        notifiers=[{"name": "chat", "urls": [webhook_server.apprise_url()]}],
    )
    assert run_cli(config, "poll").returncode == 0
    assert len(webhook_server.posts) == 1  # the copy matched the same terms: no second alert

    stories = json_lines(run_cli(config, "stories", "--format", "json").stdout)
    [story] = [s for s in stories if len(s["articles"]) > 1]
    assert story["title"] == "Drone cameras: permits questioned"
    assert story["watchlists"] == ["arms-exports"]
    assert [a["feed"] for a in story["articles"]] == ["cp", "cbc"]
    assert story["articles"][0]["url"].endswith("/cp/story?cmp=rss")
    assert set(story) == {"id", "title", "first_seen", "watchlists", "articles"}
    assert set(story["articles"][0]) == {"url", "feed", "title", "published"}
    assert len(stories) == 2  # and the council article, a story of its own
    only = json_lines(run_cli(config, "stories", "--format", "json", "--watchlist", "arms-exports").stdout)
    assert [s["id"] for s in only] == [story["id"]]
    assert len(run_cli(config, "stories", "--since", "1h", "--limit", "1").stdout.strip().splitlines()) == 2

    hits = json_lines(run_cli(config, "hits", "--format", "json").stdout)
    assert {h["story"] for h in hits} == {story["id"]}
    by_feed = {h["feed"]: h for h in hits}
    assert by_feed["cp"]["outlets"] == ["CBC News"]
    assert by_feed["cbc"]["outlets"] == ["The Canadian Press"]
    assert by_feed["cbc"]["new_terms"] == [] and by_feed["cbc"]["new_watchlist"] is False
