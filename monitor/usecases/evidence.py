"""Evidence of a hit: a WARC file of the captured responses, the extracted text of each version and a
manifest with the URLs, times, hashes and what matched. It writes what there is and says what is missing."""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from typing import Any

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from monitor.errors import MonitorError
from monitor.store.archive import Archive, HitRecord
from monitor.store.evidence import Capture

WARC_NAME = "evidence.warc.gz"
MANIFEST_NAME = "manifest.json"
# httpx gave back the decoded body: headers describing the encoding on the wire would mislead a WARC reader.
WIRE_HEADERS = ("content-encoding", "transfer-encoding", "content-length")


@dataclass(frozen=True, slots=True)
class EvidenceReport:
    out: Path
    files: tuple[str, ...]
    missing: tuple[str, ...]


def export_evidence(archive: Archive, hit_id: int, out: Path, *, force: bool = False) -> EvidenceReport:
    record = archive.hit_records([hit_id]).get(hit_id)
    if record is None:
        raise MonitorError(f"no hit with id {hit_id} (see `monitor hits` for the ids)")
    prepare_folder(out, force=force)
    captures = archive.captures(record.article_id)
    article = archive.article(record.article_id)
    files: list[str] = []
    missing: list[str] = []
    if captures:
        files.append(WARC_NAME)
        write_warc(out / WARC_NAME, captures)
        if any(c.body is None and c.kind in ("page", "changed") for c in captures):
            missing.append("the raw body of a capture (pruned); its hash and headers are kept")
    else:
        missing.append(
            "the page as served: it was never fetched (no full text) or was stored before captures"
        )
    versions = _versions(captures, article.text if article else "")
    for number, (_when, text) in enumerate(versions, start=1):
        name = f"text-{number}.txt"
        (out / name).write_text(text, encoding="utf-8")
        files.append(name)
    if not versions:
        missing.append("the extracted text: none was stored")
    manifest = build_manifest(record, captures, versions, files, missing, out)
    (out / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    files.append(MANIFEST_NAME)
    return EvidenceReport(out, tuple(files), tuple(missing))


def prepare_folder(out: Path, *, force: bool) -> None:
    if out.exists() and not out.is_dir():
        raise MonitorError(f"--out {out}: not a folder")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise MonitorError(f"--out {out}: the folder is not empty; use --force to write into it anyway")
    out.mkdir(parents=True, exist_ok=True)


def write_warc(path: Path, captures: list[Capture]) -> None:
    """One response record per capture (headers as served) and a conversion record with its extracted text."""
    with path.open("wb") as handle:
        writer = WARCWriter(handle, gzip=True)
        for capture in captures:
            if capture.body is None and capture.kind == "unchanged":
                continue  # a recheck that found the same text: listed in the manifest only
            date = _warc_date(capture.fetched_at)
            headers = [(k, v) for k, v in capture.headers.items() if k.lower() not in WIRE_HEADERS]
            body = capture.body if capture.body is not None else b""
            headers.append(("Content-Length", str(len(body))))
            http_headers = StatusAndHeaders(_status_line(capture.status), headers, protocol="HTTP/1.1")
            response = writer.create_warc_record(
                capture.final_url,
                "response",
                payload=io.BytesIO(body),
                http_headers=http_headers,
                warc_headers_dict={"WARC-Date": date},
            )
            writer.write_record(response)
            if capture.text is not None:
                conversion = writer.create_warc_record(
                    capture.final_url,
                    "conversion",
                    payload=io.BytesIO(capture.text.encode("utf-8")),
                    warc_content_type="text/plain; charset=utf-8",
                    warc_headers_dict={
                        "WARC-Date": date,
                        "WARC-Refers-To": response.rec_headers.get_header("WARC-Record-ID"),
                    },
                )
                writer.write_record(conversion)


def build_manifest(
    record: HitRecord,
    captures: list[Capture],
    versions: list[tuple[datetime | None, str]],
    files: list[str],
    missing: list[str],
    out: Path,
) -> dict[str, Any]:
    hit = record.hit
    return {
        "hit": hit.id,
        "watchlist": hit.watchlist,
        "url": hit.url,
        "title": hit.title,
        "feed": hit.feed,
        "published": hit.published.isoformat(),
        "found_at": hit.found_at.isoformat(),
        "matched": list(hit.matched),
        "snippets": [s.to_dict() for s in hit.snippets],
        "label": record.label.label if record.label else None,
        "captures": [
            {
                "url": c.url,
                "final_url": c.final_url,
                "status": c.status,
                "fetched_at": c.fetched_at.isoformat(),
                "sha256": c.sha256,
                "size": c.size,
                "body_kept": c.body is not None,
                "kind": c.kind,
            }
            for c in captures
        ],
        "versions": [
            {
                "file": f"text-{n}.txt",
                "fetched_at": when.isoformat() if when else None,
                "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
            }
            for n, (when, text) in enumerate(versions, start=1)
        ],
        "files": {
            name: hashlib.sha256((out / name).read_bytes()).hexdigest()
            for name in files
            if (out / name).is_file()
        },
        "missing": missing,
        "written_at": datetime.now(UTC).isoformat(),
    }


def _versions(captures: list[Capture], stored_text: str) -> list[tuple[datetime | None, str]]:
    """Each distinct text in the order it was read; the article's stored text when no capture holds one."""
    versions: list[tuple[datetime | None, str]] = []
    for capture in captures:
        if capture.text is not None and (not versions or versions[-1][1] != capture.text):
            versions.append((capture.fetched_at, capture.text))
    if not versions and stored_text:
        versions.append((None, stored_text))
    return versions


def _status_line(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Unknown"


def _warc_date(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
