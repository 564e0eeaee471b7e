"""Page extraction on real news pages (compared with their ground truth) and on charset traps."""

from __future__ import annotations

import asyncio
import gzip
import json
import re
import statistics
from collections import Counter
from datetime import UTC, datetime

import pytest

from monitor.errors import ExtractError
from monitor.extract import extract_page, is_html, page_markup, warm_up
from monitor.models import FetchResult
from monitor.workers import WorkerPool
from tests.corpus import corpus

URL = "https://news.example.org/2026/11/story"

PARAGRAPHS = (
    "Le café de la gare a fermé ses portes après quarante années de service fidèle aux voyageurs pressés. "
    "Die Bürgermeisterin erklärte, dass die Straßenbahn künftig öfter fährt und die Fahrpreise stabil bleiben. "
    "The council said the new timetable would start in spring, after a long consultation with residents. "
)


def article_html(charset: str) -> str:
    paragraphs = "".join(f"<p>{PARAGRAPHS} Paragraph {n}.</p>" for n in range(4))
    return (
        f'<!DOCTYPE html><html lang="fr"><head><meta charset="{charset}"><title>Gare</title></head>'
        f"<body><nav><a href='/'>Home</a></nav><article><h1>Gare</h1>{paragraphs}</article>"
        "<footer>Copyright</footer></body></html>"
    )


def fetched(body: bytes, content_type: str | None) -> FetchResult:
    headers = {"content-type": content_type} if content_type else {}
    return FetchResult(url=URL, final_url=URL, status=200, body=body, headers=headers)


def token_f1(found: str, expected: str) -> float:
    got, want = Counter(re.findall(r"\w+", found.lower())), Counter(re.findall(r"\w+", expected.lower()))
    common = sum((got & want).values())
    if not common:
        return 0.0
    precision, recall = common / sum(got.values()), common / sum(want.values())
    return 2 * precision * recall / (precision + recall)


# ---- real pages -------------------------------------------------------------------------------------------


def test_real_pages_match_their_ground_truth() -> None:
    folder = corpus("articles", "scrapinghub-aeb")
    truth = json.loads((folder / "ground-truth.json").read_text())
    scores = []
    for page_id in sorted(truth)[:15]:
        html = gzip.decompress((folder / f"{page_id}.html.gz").read_bytes())
        page = extract_page(html, truth[page_id]["url"])
        scores.append(token_f1(page.text, truth[page_id]["articleBody"]))
    assert statistics.median(scores) > 0.95
    assert min(scores) > 0.5


def test_real_page_metadata() -> None:
    folder = corpus("articles", "scrapinghub-aeb")
    page_id = "042bb7b5fedab6eac7db576522b89b93904c237d344bcbe14a6a5ab7f7335856"
    truth = json.loads((folder / "ground-truth.json").read_text())[page_id]
    page = extract_page(gzip.decompress((folder / f"{page_id}.html.gz").read_bytes()), truth["url"])
    assert page.title and page.title.startswith("Google Stadia, Microsoft xCloud, Apple Arcade")
    assert page.author == "Sarah E Needleman"
    assert page.sitename == "Wall Street Journal"
    assert page.published == datetime(2019, 11, 19, tzinfo=UTC)


# ---- charsets ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "header"),
    [
        ("utf-8", "text/html; charset=utf-8"),  # honest
        ("windows-1252", "text/html; charset=utf-8"),  # header claims UTF-8, bytes are windows-1252
        ("utf-8", "text/html; charset=iso-8859-1"),  # header claims Latin-1, bytes are UTF-8
        ("windows-1252", "text/html; charset=windows-1252"),  # honest, single-byte
        ("windows-1252", "text/html"),  # no charset: the meta tag decides
        ("utf-8", "text/html; charset=no-such-charset"),
    ],
)
def test_charset_of_the_page_is_read_right(encoding: str, header: str) -> None:
    result = fetched(article_html(encoding).encode(encoding), header)
    page = extract_page(page_markup(result), URL)
    assert "Le café de la gare" in page.text
    assert "Die Bürgermeisterin erklärte" in page.text
    assert "Straßenbahn künftig öfter fährt" in page.text
    assert page.language == "fr"


def test_page_markup_decodes_with_the_header_charset() -> None:
    body = "Привет".encode("windows-1251")
    assert page_markup(fetched(body, "text/html; charset=windows-1251")) == "Привет"
    assert page_markup(fetched(body, "text/html")) == body


# ---- not articles -----------------------------------------------------------------------------------------


def test_non_html_body_is_recognised() -> None:
    assert not is_html(fetched(b"%PDF-1.7 ...", "application/pdf"))
    assert not is_html(fetched(b'{"a": 1}', "application/json"))
    assert not is_html(fetched(b"\x89PNG\r\n", None))
    assert is_html(fetched(b"<!doctype html><html></html>", None))
    assert is_html(fetched(b"\n<!-- cached --><HTML><body>x</body></HTML>", None))
    assert is_html(fetched(b"<html></html>", "application/xhtml+xml; charset=utf-8"))


def test_non_html_body_has_no_main_text() -> None:
    with pytest.raises(ExtractError) as caught:
        extract_page(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n", URL)
    assert caught.value.url == URL


def test_page_without_an_article() -> None:
    with pytest.raises(ExtractError, match="no main text found"):
        extract_page("<html><head><title>Index</title></head><body><img src='a.png'></body></html>", URL)


@pytest.mark.parametrize("markup", ["", b"", "   \n"])
def test_empty_page(markup: str | bytes) -> None:
    with pytest.raises(ExtractError, match="empty page"):
        extract_page(markup, URL)


def test_extraction_runs_in_a_worker_process() -> None:
    with WorkerPool(workers=1, initializer=warm_up) as pool:
        page = asyncio.run(pool.run(extract_page, article_html("utf-8"), URL, timeout=30))
        with pytest.raises(ExtractError, match="empty page"):
            asyncio.run(pool.run(extract_page, "", URL, timeout=30))
    assert "Straßenbahn" in page.text


def test_a_pages_declared_address_is_its_canonical_link_else_its_first_og_url() -> None:
    from monitor.extract import declared_canonical

    og = '<meta property="og:url" content="https://news.example/og">'
    link = '<link rel="canonical" href="https://news.example/canonical">'
    assert declared_canonical(f"<head>{og}{link}</head>") == "https://news.example/canonical"
    assert declared_canonical(f"<head>{og}</head>".encode()) == "https://news.example/og"
    second = '<meta property="og:url" content="https://news.example/second">'
    assert declared_canonical(f"<head>{og}{second}</head>") == "https://news.example/og"  # the first one
    # only a <link> names a canonical address, and only with "canonical" among its rel words
    meta = '<meta rel="canonical" href="https://news.example/meta">'
    assert declared_canonical(f"<head>{meta}</head>") is None
    words = '<LINK REL="alternate Canonical" HREF="https://news.example/words">'
    assert declared_canonical(f"<head>{words}</head>") == "https://news.example/words"
    other = '<link rel="canonicalize" href="https://news.example/other">'
    assert declared_canonical(f"<head>{other}{og}</head>") == "https://news.example/og"
    empty = '<link rel="canonical" href=" ">'
    assert declared_canonical(f"<head>{empty}{og}</head>") == "https://news.example/og"
