"""Hits and their deliveries, written the one way for every article that brings them: an article stored on its
first poll and one whose page arrived on a retry are placed in a story by the same rules, and a copy of a story
alerts only when it adds something, whichever way its text came.
"""

from __future__ import annotations

import functools
import json
import struct
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple, Protocol

from sqlalchemy import Connection, Select, Update, bindparam, func, insert, select, update

from monitor.models import Candidate, Finding, Fingerprint, Match, Placement, StoryAlert
from monitor.store.driver import driver_in_statement, driver_statement
from monitor.store.tables import articles, deliveries, hits

BATCH = 500  # ids or bands in one IN (...) list
MAX_CANDIDATES = 200  # stored articles compared with a new one, the newest sharing a band: a band common to many (boilerplate) cannot flood it
_NEWEST_IN_BAND = (
    "SELECT article_id FROM (SELECT article_id FROM story_bands WHERE band = {mark} "
    f"ORDER BY article_id DESC LIMIT {MAX_CANDIDATES}) AS newest"
)

# The newest exact copy of an article (same story, signature and shingle count), not among those placed again.
_HEIR = (
    "SELECT copy.id FROM articles AS original JOIN articles AS copy ON copy.story_id = original.story_id "
    "AND copy.signature = original.signature AND copy.shingles = original.shingles AND copy.id <> original.id "
    "WHERE original.id = {mark} AND copy.id NOT IN ({others}) ORDER BY copy.id DESC LIMIT 1"
)


_INSERT_DELIVERIES = insert(deliveries)


def _place() -> tuple[Update, tuple[str, ...]]:
    """UPDATE of a placed article: (story id, packed signature, shingle count, article id)."""
    statement = (
        update(articles)
        .where(articles.c.id == bindparam("b_id"))
        .values(
            story_id=bindparam("b_story"),
            signature=bindparam("b_signature"),
            shingles=bindparam("b_shingles"),
        )
    )
    return statement, ("b_story", "b_signature", "b_shingles", "b_id")


def _earlier(size: int) -> tuple[Select[Any], tuple[str, ...]]:
    """SELECT of the (story, watchlist, matched) of the hits on the stories of ``size`` ids."""
    names = tuple(f"story_{index}" for index in range(size))
    statement = (
        select(articles.c.story_id, hits.c.watchlist, hits.c.matched)
        .join(hits, hits.c.article_id == articles.c.id)
        .where(articles.c.story_id.in_([bindparam(name, type_=articles.c.story_id.type) for name in names]))
    )
    return statement, names


class NewHit(NamedTuple):
    """A hit just stored."""

    id: int
    article_id: int
    watchlist: str
    alerted: bool


# Every column of a new hit, given for each row (those a row leaves out take the value the table's default
# would give): the statement is the same for every row.
_HIT_COLUMNS = (
    "article_id",
    "watchlist",
    "matched",
    "fields",
    "snippets",
    "found_at",
    "alerted",
    "found_as",
    "on_update",
    "story_update",
)
_HIT_DEFAULTS: dict[str, Any] = {"fields": "[]", "found_as": "[]", "on_update": False, "story_update": None}


def _insert_hits(dialect: str) -> tuple[Any, tuple[str, ...]]:
    """INSERT of a hit (left out when its watchlist already hit the article), returning the new hit."""
    statement = (
        insert_ignore(hits, dialect)
        .values({name: bindparam(name) for name in _HIT_COLUMNS})
        .on_conflict_do_nothing(index_elements=["article_id", "watchlist"])
        .returning(hits.c.id, hits.c.article_id, hits.c.watchlist, hits.c.alerted)
    )
    return statement, _HIT_COLUMNS


class StoryRules(Protocol):
    """The pure decisions the store applies while saving (monitor.stories implements them)."""

    def place(self, new: Fingerprint | None, candidates: Sequence[Candidate]) -> Placement: ...

    def place_copy(self, copy_stories: Sequence[int]) -> Placement: ...

    def story_alert(
        self, watchlist: str, matched: Sequence[str], earlier: Mapping[str, frozenset[str]]
    ) -> StoryAlert: ...


def store_hits(
    conn: Connection,
    findings: Sequence[Finding],
    article_ids: Mapping[str, int],
    notifiers: Mapping[str, Sequence[str]],
    *,
    stories: StoryRules | None,
    now: datetime,
    placed_before: bool = False,
) -> list[NewHit]:
    """Place the stored articles of ``findings`` in their stories, then write the hits they bring (story rules
    decide which alert) and a pending delivery per notifier of each alerting hit's watchlist. A watchlist that
    already has a hit on an article keeps it. ``placed_before``: the articles were placed when first stored,
    on less text (their page had failed); their full text places them again. Returns the new hits (id,
    article_id, watchlist, alerted). Without ``stories`` every article is a story of its own and every hit
    alerts."""
    story_ids = place_in_stories(conn, findings, article_ids, stories, placed_before=placed_before)
    rows = _story_hit_rows(conn, findings, article_ids, story_ids, stories, now)
    return insert_hits(conn, rows, notifiers, now)


def insert_hits(
    conn: Connection, rows: Sequence[dict[str, Any]], notifiers: Mapping[str, Sequence[str]], now: datetime
) -> list[NewHit]:
    """Insert hit rows (those of a watchlist that already hit their article are left out) and the deliveries of
    the new ones that alert; returns the new hits (id, article_id, watchlist, alerted)."""
    if not rows:
        return []
    dialect = conn.dialect.name
    statement = driver_statement("insert hits", conn.dialect, lambda: _insert_hits(dialect))
    values = [
        tuple(row[name] if name in row else _HIT_DEFAULTS[name] for name in _HIT_COLUMNS) for row in rows
    ]
    new_hits = [NewHit(*row) for row in statement.execute_each(conn, values)]
    delivery_rows = [
        _delivery_row(row.id, notifier, now)
        for row in new_hits
        if row.alerted
        for notifier in notifiers.get(row.watchlist, ())
    ]
    if delivery_rows:
        conn.execute(_INSERT_DELIVERIES, delivery_rows)
    return new_hits


def hit_row(article_id: int, match: Match, alert: bool, now: datetime) -> dict[str, Any]:
    return {
        "article_id": article_id,
        "watchlist": match.watchlist,
        "matched": json.dumps(list(match.matched)),
        "fields": json.dumps(list(match.fields)),
        "snippets": json.dumps([s.to_dict() for s in match.snippets]),
        "found_at": now,
        "alerted": alert,
        "found_as": json.dumps(list(match.found_as)),
    }


def _delivery_row(hit_id: int, notifier: str, now: datetime) -> dict[str, Any]:
    return {
        "hit_id": hit_id,
        "notifier": notifier,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "sent_targets": "[]",
        "created_at": now,
    }


def insert_ignore(table: Any, dialect: str) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING, which SQLite and PostgreSQL both speak; RETURNING gives only new rows.
    Each dialect's statement is imported when first used: a SQLite process never loads PostgreSQL's."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)


# --- stories ------------------------------------------------------------------------------------------------


def place_in_stories(
    conn: Connection,
    fresh: Sequence[Finding],
    article_ids: Mapping[str, int],
    stories: StoryRules | None,
    *,
    placed_before: bool = False,
) -> dict[str, int]:
    """Each article's story id. The stored articles sharing a band with each of the batch are read first; the
    articles are then placed one at a time, in order, so copies within the batch find each other. Fingerprints,
    bands and story ids are written with one statement each.

    ``placed_before``: the articles were placed when first stored. One without a fingerprint now keeps its place;
    one that other articles have joined keeps its story (they joined it) and takes its new fingerprint; the
    others are placed again, their earlier bands dropped first so that they do not find themselves."""
    ids = [article_ids[f.article.key] for f in fresh]
    kept: dict[int, int] = {}
    if placed_before:
        kept = _stories_kept(conn, ids, {article_ids[f.article.key] for f in fresh if f.fingerprint is None})
        _drop_bands(conn, [article_ids[f.article.key] for f in fresh if f.fingerprint is not None])

    to_place = {
        article_id: fingerprint
        for f in fresh
        if (fingerprint := f.fingerprint) is not None
        and stories is not None
        and (article_id := article_ids[f.article.key]) not in kept
    }
    # Exact copies (a feed's text seen before in another feed, or again) join their copies' story at once:
    # neither the stored articles sharing their bands nor their fingerprints are read for them.
    copies = _stored_copies(conn, to_place)
    stored = _stored_sharing(conn, {i: f.bands for i, f in to_place.items() if i not in copies})
    candidates = _candidates(conn, {i for sharing in stored.values() for i in sharing})
    in_batch: dict[int, list[int]] = {}  # band -> the articles of this batch placed so far with it
    batch_copies: dict[tuple[tuple[int, ...], int], list[int]] = {}  # (signature, shingles) -> stories
    story_ids: dict[str, int] = {}
    updates: list[tuple[int, bytes | None, int | None, int]] = []  # (story, signature, shingles, article)
    band_rows: list[tuple[int, int]] = []
    for finding in fresh:
        article_id = article_ids[finding.article.key]
        fingerprint = finding.fingerprint
        story = kept.get(article_id, article_id)
        if placed_before and fingerprint is None:
            story_ids[finding.article.key] = story  # nothing new to place it by
            continue
        signature: bytes | None = None
        shingles: int | None = None
        copied: list[int] = []
        if fingerprint is not None:
            if article_id in to_place and stories is not None:  # (to_place is empty without stories)
                copy = (fingerprint.signature, fingerprint.shingles)
                copied = copies.get(article_id, []) + batch_copies.get(copy, [])
                if copied:
                    placement = stories.place_copy(copied)
                else:
                    sharing = set(stored[article_id]).union(
                        *(in_batch[band] for band in fingerprint.bands if band in in_batch)
                    )
                    newest = sorted(sharing & candidates.keys(), reverse=True)[:MAX_CANDIDATES]
                    placement = stories.place(fingerprint, [candidates[i] for i in newest])
                story = placement.story if placement.story is not None else article_id
                batch_copies.setdefault(copy, []).append(story)
            # An exact copy stores no bands: those of the article it copies lead every later copy or near-copy
            # to the story, with the same similarity; 40 rows fewer to write (and to read back) a copy.
            if not copied:
                candidates[article_id] = Candidate(
                    story, article_id, fingerprint.signature, fingerprint.shingles
                )
                for band in fingerprint.bands:
                    in_batch.setdefault(band, []).append(article_id)
                    band_rows.append((band, article_id))
            signature, shingles = _pack(fingerprint.signature), fingerprint.shingles
        updates.append((story, signature, shingles, article_id))
        story_ids[finding.article.key] = story
    if band_rows:
        # Through the driver: 40 rows an article, where SQLAlchemy's per-row parameter handling would cost
        # more than the insert itself.
        mark = _placeholder(conn)
        conn.exec_driver_sql(f"INSERT INTO story_bands (band, article_id) VALUES ({mark}, {mark})", band_rows)
    driver_statement("place articles", conn.dialect, _place).executemany(conn, updates)
    return story_ids


def _stories_kept(conn: Connection, ids: Sequence[int], unfingerprinted: set[int]) -> dict[int, int]:
    """Of articles placed before, those that keep their story: the ones other articles joined, and those with
    no fingerprint now (``unfingerprinted``). Article id -> story id."""
    kept: dict[int, int] = {}
    joined = (
        select(articles.c.story_id)
        .where(articles.c.story_id.in_(ids))
        .group_by(articles.c.story_id)
        .having(func.count() > 1)
    )
    for story_id in conn.scalars(joined):
        kept[story_id] = story_id
    if unfingerprinted:
        query = select(articles.c.id, articles.c.story_id).where(articles.c.id.in_(unfingerprinted))
        kept.update({row.id: row.story_id for row in conn.execute(query)})
    return kept


def _drop_bands(conn: Connection, ids: Iterable[int]) -> None:
    """Drop the bands of articles placed again. Exact copies store no bands of their own, so an article's bands
    are first given to its newest copy in its story, when it has one: later copies of the text it had still find
    the story."""
    wanted = list(ids)
    if wanted:
        mark = _placeholder(conn)
        others = ", ".join([mark] * len(wanted))
        cursor = conn.connection.cursor()
        try:
            for article_id in wanted:
                cursor.execute(_HEIR.format(mark=mark, others=others), (article_id, *wanted))
                heir = cursor.fetchone()
                if heir is not None:  # (a copy that has bands has these same ones: nothing to add)
                    cursor.execute(
                        f"INSERT INTO story_bands (band, article_id) SELECT band, {mark} FROM story_bands "
                        f"WHERE article_id = {mark} ON CONFLICT DO NOTHING",
                        (heir[0], article_id),
                    )
        finally:
            cursor.close()
        conn.exec_driver_sql(
            f"DELETE FROM story_bands WHERE article_id IN ({', '.join([mark] * len(wanted))})", tuple(wanted)
        )


def _stored_sharing(conn: Connection, bands: Mapping[int, Sequence[int]]) -> dict[int, list[int]]:
    """For each article (id -> its bands), the newest MAX_CANDIDATES stored articles sharing a band with it,
    newest first.

    One statement an article, the same text for every article (a fingerprint has a fixed number of bands), so it
    is compiled once: one backward index range per band, cut at MAX_CANDIDATES, the ranges' union cut again.
    Only each band's newest MAX_CANDIDATES members can be among the article's newest MAX_CANDIDATES (an article
    newer than it in the union is newer than it in its band), so the rest are never read. The database hands
    back an article's dozen candidates rather than every (band, member) pair of its 40 bands: a window over
    the bands' members (ranked, then cut) and the pairs' handling here cost 3 times as much a poll."""
    sharing: dict[int, list[int]] = {}
    if not bands:
        return sharing
    mark = _placeholder(conn)
    cursor = conn.connection.cursor()  # the driver's own, in the same transaction: no per-row wrapping
    try:
        for article_id, its_bands in bands.items():
            cursor.execute(_newest_sharing_sql(mark, len(its_bands)), tuple(its_bands))
            sharing[article_id] = [row[0] for row in cursor.fetchall()]
    finally:
        cursor.close()
    return sharing


def _stored_copies(conn: Connection, fingerprints: Mapping[int, Fingerprint]) -> dict[int, list[int]]:
    """For each article to place (its id -> its fingerprint), the stories of the stored articles with the same
    signature and shingle count, the exact copies of its text; articles with none are left out.

    A copy has every band of its original, so it is among the newest MAX_CANDIDATES members of the first band
    unless that band is crowded with other texts; one missed there is found by the comparison instead. One
    statement an article: an index range of one band, each member's signature compared by the database."""
    copies: dict[int, list[int]] = {}
    mark = _placeholder(conn)
    statement = (
        f"SELECT articles.story_id FROM ({_NEWEST_IN_BAND.format(mark=mark)}) AS members "
        "JOIN articles ON articles.id = members.article_id "
        f"WHERE articles.signature = {mark} AND articles.shingles = {mark}"
    )
    cursor = conn.connection.cursor()
    try:
        for article_id, fingerprint in fingerprints.items():
            cursor.execute(
                statement, (fingerprint.bands[0], _pack(fingerprint.signature), fingerprint.shingles)
            )
            stories = sorted({row[0] for row in cursor.fetchall() if row[0] is not None})
            if stories:
                copies[article_id] = stories
    finally:
        cursor.close()
    return copies


@functools.cache
def _newest_sharing_sql(mark: str, bands: int) -> str:
    arms = " UNION ".join([_NEWEST_IN_BAND.format(mark=mark)] * bands)
    return f"{arms} ORDER BY 1 DESC LIMIT {MAX_CANDIDATES}"


def _candidates(conn: Connection, ids: Iterable[int]) -> dict[int, Candidate]:
    """The fingerprints of stored articles, by id (bands are only written with a fingerprint)."""
    wanted = list(ids)
    found: dict[int, Candidate] = {}
    mark = _placeholder(conn)
    cursor = conn.connection.cursor()
    try:
        for start in range(0, len(wanted), BATCH):
            batch = tuple(wanted[start : start + BATCH])
            cursor.execute(
                "SELECT id, story_id, signature, shingles FROM articles "
                f"WHERE id IN ({', '.join([mark] * len(batch))}) AND signature IS NOT NULL",
                batch,
            )
            for article_id, story_id, signature, shingles in cursor.fetchall():
                found[article_id] = Candidate(story_id, article_id, _unpack(signature), shingles)
    finally:
        cursor.close()
    return found


def _story_hit_rows(
    conn: Connection,
    fresh: Sequence[Finding],
    article_ids: Mapping[str, int],
    story_ids: Mapping[str, int],
    stories: StoryRules | None,
    now: datetime,
) -> list[dict[str, Any]]:
    """The hit rows of the articles: a copy of a story alerts only when it adds something (story_alert)."""
    earlier = _earlier_matches(conn, {story_ids[f.article.key] for f in fresh if f.matches})
    rows = []
    for finding in fresh:
        story = story_ids[finding.article.key]
        seen = {name: frozenset(terms) for name, terms in earlier.get(story, {}).items()}
        for match in finding.matches:
            verdict = (
                stories.story_alert(match.watchlist, match.matched, seen)
                if stories is not None
                else StoryAlert(alert=True)
            )
            row = hit_row(article_ids[finding.article.key], match, finding.alert and verdict.alert, now)
            if verdict.is_update:
                row["story_update"] = json.dumps(
                    {"new_terms": list(verdict.new_terms), "new_watchlist": verdict.new_watchlist}
                )
            rows.append(row)
        for match in finding.matches:
            earlier.setdefault(story, {}).setdefault(match.watchlist, set()).update(match.matched)
    return rows


def _earlier_matches(conn: Connection, story_ids: set[int]) -> dict[int, dict[str, set[str]]]:
    """For each story, the terms each watchlist matched in its stored articles."""
    found: dict[int, dict[str, set[str]]] = {}
    wanted = list(story_ids)
    for start in range(0, len(wanted), BATCH):
        batch = wanted[start : start + BATCH]
        statement, ids = driver_in_statement("earlier matches", conn.dialect, batch, _earlier)
        for story_id, watchlist, matched in statement.rows(conn, ids):
            found.setdefault(story_id, {}).setdefault(watchlist, set()).update(json.loads(matched))
    return found


def _placeholder(conn: Connection) -> str:
    """The driver's parameter marker: ? for sqlite3, %s for psycopg."""
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"


def _pack(signature: Sequence[int]) -> bytes:
    return struct.pack(f"<{len(signature)}I", *signature)


def _unpack(data: bytes) -> tuple[int, ...]:
    return struct.unpack(f"<{len(data) // 4}I", data)
