"""Triage labels, backtests, evidence exports and retention, on real SQLite files; the page captures come from
a real `monitor poll` against a local HTTP server."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, insert, select
from warcio.archiveiterator import ArchiveIterator

from monitor.errors import MonitorError
from monitor.match import compile_watchlists
from monitor.models import Article, Finding, Match, WatchlistSpec
from monitor.store import Store
from monitor.store.archive import Archive
from monitor.store.tables import articles, captures, hits
from monitor.usecases.evidence import export_evidence
from monitor.usecases.retention import prune_cutoff, prune_due
from monitor.usecases.search import backtest, precision_recall, search
from tests.archive_corpus import T0, corpus_articles, fill
from tests.factory import json_lines, run_cli, write_config
from tests.httpserver import LocalServer, http_server
from tests.test_poll_e2e import serve_news

__all__ = ["http_server"]

WATCH = {"name": "arms", "terms": ["Wescam", "Baykar", "Bayraktar", "export permit*"], "exclude": ["hockey"]}


def open_store(tmp_path: Path) -> Store:
    return Store.open(f"sqlite:///{tmp_path / 'monitor.db'}")


def stored_with_hits(
    tmp_path: Path, watchlist: str, query: str, count: int = 300
) -> tuple[Store, list[Article]]:
    """A corpus archive whose hits of ``watchlist`` are what ``query`` matches."""
    store = open_store(tmp_path)
    corpus = list(corpus_articles(count))
    matcher = compile_watchlists([WatchlistSpec(watchlist, query=query)])
    findings = [Finding(a, tuple(matcher.match(a.fields())), False) for a in corpus]
    store.save_articles(findings, {}, now=T0)
    return store, corpus


def hit_ids(store: Store, watchlist: str) -> dict[str, int]:
    return {h.url or "": h.id for h in store.hits(watchlist=watchlist, limit=None)}


# --- triage -------------------------------------------------------------------------------------------------


def test_labels_are_kept_by_article_and_watchlist_and_survive_rematching(tmp_path: Path) -> None:
    store, _ = stored_with_hits(tmp_path, "pol", "police")
    archive = Archive(store)
    ids = sorted(hit_ids(store, "pol").values())
    assert archive.mark(ids[0], "relevant", "the one we want", T0) is not None
    marked = archive.mark(ids[1], "irrelevant", None, T0)
    assert marked is not None and marked.label is not None and marked.label.label == "irrelevant"
    relabelled = archive.mark(ids[1], "unsure", "maybe", T0)  # a second mark replaces the first
    assert relabelled is not None and relabelled.label is not None
    assert (relabelled.label.label, relabelled.label.note) == ("unsure", "maybe")
    assert archive.mark(999_999, "relevant", None, T0) is None
    # Re-matching drops the hit and stores it again under a new id: the label is still there.
    with store.engine.begin() as conn:
        row = conn.execute(select(hits).where(hits.c.id == ids[0])).one()
        conn.execute(delete(hits).where(hits.c.id == ids[0]))
        new_id = conn.execute(
            insert(hits).values({**row._asdict(), "id": None}).returning(hits.c.id)
        ).scalar_one()
    record = archive.hit_records([new_id])[new_id]
    assert record.label is not None and (record.label.label, record.label.note) == (
        "relevant",
        "the one we want",
    )
    assert archive.hit_ids_labelled("relevant") == [new_id]
    assert archive.hit_ids_labelled("unsure", "other-watchlist") == []


def test_cli_marks_lists_and_filters_by_label(tmp_path: Path) -> None:
    config = write_config(tmp_path, watchlists=[{"name": "pol", "query": "police"}])
    store, _ = stored_with_hits(tmp_path, "pol", "police", count=80)
    first, second = sorted(hit_ids(store, "pol").values())[:2]
    store.close()
    marked = run_cli(config, "hits", "mark", str(first), "relevant", "--note", "on topic")
    assert marked.returncode == 0, marked.stderr
    assert f"hit {first}" in marked.stdout and "relevant" in marked.stdout
    rows = json_lines(run_cli(config, "hits", "--format", "json", "--limit", "500").stdout)
    by_id = {row["id"]: row for row in rows}
    assert by_id[first]["label"] == "relevant" and by_id[first]["note"] == "on topic"
    assert by_id[second]["label"] is None and by_id[second]["note"] is None
    only = json_lines(run_cli(config, "hits", "--label", "relevant", "--format", "json").stdout)
    assert [row["id"] for row in only] == [first]
    unknown = run_cli(config, "hits", "mark", "424242", "relevant")
    assert unknown.returncode == 1 and "no hit with id 424242" in unknown.stderr
    bad_label = run_cli(config, "hits", "mark", str(first), "great")
    assert bad_label.returncode == 1 and "relevant, irrelevant, unsure" in bad_label.stderr


# --- backtest -----------------------------------------------------------------------------------------------


def test_backtest_reports_gained_lost_and_precision_recall(tmp_path: Path) -> None:
    store, corpus = stored_with_hits(tmp_path, "w", "police")
    archive = Archive(store)
    edited = WatchlistSpec("w", query="police -arrested OR court")
    result = backtest(archive, edited)
    old = compile_watchlists([WatchlistSpec("w", query="police")])
    new = compile_watchlists([edited])
    old_hits = {a.url for a in corpus if old.match(a.fields())}
    new_hits = {a.url for a in corpus if new.match(a.fields())}
    assert result.scanned == len(corpus)
    assert result.would_hit == len(new_hits)
    assert {i.article.url for i in result.items if i.change == "gained"} == new_hits - old_hits
    assert {i.article.url for i in result.items if i.change == "lost"} == old_hits - new_hits
    assert {i.article.url for i in result.items if i.change == "kept"} == new_hits & old_hits
    assert result.gained and result.lost
    assert result.precision is None and result.recall is None  # no labels yet
    ids = hit_ids(store, "w")
    lost_url = next(i.article.url for i in result.items if i.change == "lost")
    kept_url = next(i.article.url for i in result.items if i.change == "kept")
    archive.mark(ids[lost_url or ""], "relevant", None, T0)
    archive.mark(ids[kept_url or ""], "relevant", None, T0)
    labelled = backtest(archive, edited)
    assert labelled.precision == 1.0 and labelled.recall == 0.5
    recent = backtest(archive, edited, since=T0 - timedelta(hours=49))
    assert recent.scanned == 50


def test_precision_and_recall_count_only_judged_labels() -> None:
    labels = {1: "relevant", 2: "irrelevant", 3: "unsure", 4: "relevant"}
    assert precision_recall({1, 2, 3}, labels) == (0.5, 0.5)
    assert precision_recall({3, 5}, labels) == (None, 0.0)
    assert precision_recall({1}, {}) == (None, None)


def test_cli_backtest_json_and_unknown_watchlist(tmp_path: Path) -> None:
    config = write_config(tmp_path, watchlists=[{"name": "w", "query": "police OR court"}])
    store, _ = stored_with_hits(tmp_path, "w", "police", count=60)
    store.close()
    result = run_cli(config, "backtest", "--watchlist", "w", "--since", "36500d", "--format", "json")
    assert result.returncode == 0, result.stderr
    (report,) = json_lines(result.stdout)
    for key in ("scanned", "would_hit", "gained", "lost", "precision", "recall", "items"):
        assert key in report
    assert report["scanned"] == 60 and report["lost"] == 0 and report["gained"] > 0
    assert report["precision"] is None and report["recall"] is None
    counts = run_cli(config, "hits", "--format", "json", "--limit", "500")
    assert len(json_lines(counts.stdout)) == report["would_hit"] - report["gained"]  # nothing was stored
    missing = run_cli(config, "backtest", "--watchlist", "nope")
    assert missing.returncode == 1 and "no watchlist named 'nope'" in missing.stderr
    bad = run_cli(config, "backtest", "--query", "police NEAR")
    assert bad.returncode == 2 and "query:12:" in bad.stderr


def test_cli_backtest_lists_each_gained_and_lost_article_under_its_change(tmp_path: Path) -> None:
    config = write_config(tmp_path, watchlists=[{"name": "w", "query": "police -arrested OR court"}])
    store, _ = stored_with_hits(tmp_path, "w", "police", count=60)
    store.close()
    args = ("backtest", "--watchlist", "w", "--since", "36500d")
    (report,) = json_lines(run_cli(config, *args, "--format", "json").stdout)
    assert report["gained"] and report["lost"]
    text = run_cli(config, *args)
    assert text.returncode == 0, text.stderr
    listed = [line for line in text.stdout.splitlines() if line.startswith("  ")]
    expected = [
        f"  {change}: {item['title']}  <{item['url']}>"
        for change in ("gained", "lost")
        for item in report["items"]
        if item["change"] == change
    ]
    assert listed == expected
    assert len(listed) == report["gained"] + report["lost"]


# --- evidence -----------------------------------------------------------------------------------------------


@pytest.fixture
def polled(tmp_path: Path, http_server: LocalServer) -> Path:
    serve_news(http_server)
    config = write_config(
        tmp_path, feeds=[{"name": "gazette", "url": http_server.url("/feed.xml")}], watchlists=[WATCH]
    )
    result = run_cli(config, "poll", "--no-notify")
    assert result.returncode == 0, result.stderr
    return config


def test_a_polled_hit_keeps_its_page_and_exports_a_readable_warc(tmp_path: Path, polled: Path) -> None:
    store = open_store(tmp_path)
    archive = Archive(store)
    by_title = {h.title: h for h in store.hits(limit=None)}
    hit = by_title["Ottawa silent on drone parts"]
    out = tmp_path / "evidence"
    report = export_evidence(archive, hit.id, out)
    assert report.missing == ()
    with (out / "evidence.warc.gz").open("rb") as handle:
        records = [
            (r.rec_type, r.rec_headers.get_header("WARC-Target-URI"), r) for r in ArchiveIterator(handle)
        ]
        kinds = [kind for kind, _, _ in records]
    assert kinds == ["response", "conversion"]
    manifest = json.loads((out / "manifest.json").read_text())
    (capture,) = manifest["captures"]
    with (out / "evidence.warc.gz").open("rb") as handle:
        response = next(iter(ArchiveIterator(handle)))
        assert response.http_headers.get_statuscode() == "200"
        assert response.http_headers.get_header("Content-Type") == "text/html; charset=utf-8"
        body = response.content_stream().read()
    assert hashlib.sha256(body).hexdigest() == capture["sha256"] and len(body) == capture["size"]
    assert b"<article>" in body and capture["final_url"].endswith("/story")
    assert manifest["watchlist"] == "arms" and "Wescam" in manifest["matched"]
    assert manifest["snippets"] and manifest["missing"] == []
    text = (out / "text-1.txt").read_text()
    assert "Wescam" in text and manifest["versions"][0]["sha256"] == hashlib.sha256(text.encode()).hexdigest()
    assert set(manifest["files"]) == {"evidence.warc.gz", "text-1.txt"}
    # Only pages behind hits are kept.
    with store.engine.begin() as conn:
        kept = conn.scalars(
            select(articles.c.title).join(captures, captures.c.article_id == articles.c.id)
        ).all()
    assert kept == ["Ottawa silent on drone parts"]
    store.close()


def test_evidence_of_a_hit_without_a_page_says_what_is_missing_and_refuses_a_full_folder(
    tmp_path: Path, polled: Path
) -> None:
    store = open_store(tmp_path)
    hit = next(h for h in store.hits(limit=None) if h.title == "Permits row")  # its page was a 404
    store.close()
    out = tmp_path / "gone"
    result = run_cli(polled, "evidence", str(hit.id), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "missing: the page as served" in result.stdout
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["captures"] == [] and manifest["missing"] and not (out / "evidence.warc.gz").exists()
    again = run_cli(polled, "evidence", str(hit.id), "--out", str(out))
    assert again.returncode == 1 and "not empty" in again.stderr
    forced = run_cli(polled, "evidence", str(hit.id), "--out", str(out), "--force")
    assert forced.returncode == 0, forced.stderr
    unknown = run_cli(polled, "evidence", "777", "--out", str(tmp_path / "x"))
    assert unknown.returncode == 1 and "no hit with id 777" in unknown.stderr


# --- retention ----------------------------------------------------------------------------------------------


def test_prune_drops_old_text_without_hits_and_keeps_hits(tmp_path: Path) -> None:
    store, corpus = stored_with_hits(tmp_path, "w", "police", count=100)
    archive = Archive(store)
    retention = 30 * 3600.0  # articles are one an hour old back from T0
    now = T0 + timedelta(hours=1)
    assert prune_cutoff(now, retention) == T0 - timedelta(hours=29)
    hit_urls = set(hit_ids(store, "w"))
    old_without = [
        a for a in corpus if a.first_seen < now - timedelta(seconds=retention) and a.url not in hit_urls
    ]
    assert prune_due(archive, retention, now, dry_run=True) == len(old_without)
    assert search(archive, "said") != []
    assert prune_due(archive, retention, now) == len(old_without)
    assert prune_due(archive, retention, now) == 0  # nothing left to prune
    with store.engine.begin() as conn:
        texts = dict(conn.execute(select(articles.c.url, articles.c.text)).all())
    assert all(texts[a.url] == "" for a in old_without)
    assert all(texts[url] for url in hit_urls)
    # Searches still agree with the matcher on what is left (titles and summaries of pruned articles).
    matcher = compile_watchlists([WatchlistSpec("s", query="said")])
    rows = list(archive.articles(archive.candidate_ids(None)))
    assert [f.article.id for f in search(archive, "said")] == [
        a.id for a in rows if matcher.match(a.fields())
    ]


def test_cli_db_prune_dry_run(tmp_path: Path) -> None:
    config = write_config(tmp_path, monitor={"retention": "1d"})
    store = open_store(tmp_path)
    fill(store, list(corpus_articles(10, start=T0.replace(year=2020))))
    store.close()
    dry = run_cli(config, "db", "prune", "--dry-run")
    assert dry.returncode == 0 and "10 articles without hits older than 1d would be pruned" in dry.stdout
    done = run_cli(config, "db", "prune")
    assert "10 articles without hits older than 1d pruned" in done.stdout
    assert "0 articles" in run_cli(config, "db", "prune").stdout


def test_an_article_without_text_is_not_pruned_again(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    fill(store, [a for a in corpus_articles(3)])
    archive = Archive(store)
    assert archive.prune(archive.prunable(T0 + timedelta(days=1))) == 3
    assert archive.prunable(T0 + timedelta(days=1)) == []
    with pytest.raises(MonitorError):
        export_evidence(archive, 1, tmp_path / "none")
    store.close()


def test_saving_a_hit_with_its_page_response_keeps_a_capture(tmp_path: Path) -> None:
    from monitor.models import FetchResult

    store = open_store(tmp_path)
    article = next(corpus_articles(1))
    page = FetchResult(
        "https://a/1", "https://a/1?final", 200, b"<html>x</html>", {"content-type": "text/html"}
    )
    store.save_articles([Finding(article, (Match("w", ("x",)),), True, page=page)], {}, now=T0)
    other = list(corpus_articles(2))[1]
    store.save_articles([Finding(other, (), True, page=page)], {}, now=T0)  # no hit: no capture
    (capture,) = Archive(store).captures(1)
    assert capture.body == b"<html>x</html>" and capture.final_url == "https://a/1?final"
    assert capture.headers == {"content-type": "text/html"} and capture.text == article.text
    assert capture.fetched_at == article.first_seen
    assert Archive(store).captures(2) == []
    store.close()
