"""Triage: the hits to review grouped by story, and marking a hit relevant / irrelevant / unsure with a note.
The CLI (`monitor hits mark`) and the web desk call these."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from monitor.store.archive import LABELS, Archive, HitRecord
from monitor.store.review import HitFilter, Review

DEFAULT_LABEL = "unsure"  # the label a note gets on a hit nobody has labelled yet


class TriageError(ValueError):
    """A label that is not one of LABELS."""


@dataclass(frozen=True, slots=True)
class StoryGroup:
    """The hits of one story, newest first: the story's title, its watchlists and outlets."""

    story: int
    title: str
    records: tuple[HitRecord, ...]

    @property
    def watchlists(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(r.hit.watchlist for r in self.records))

    @property
    def outlets(self) -> tuple[str, ...]:
        names = [r.hit.sitename or r.hit.feed for r in self.records]
        names += [name for r in self.records for name in r.hit.outlets]
        return tuple(dict.fromkeys(names))

    @property
    def newest(self) -> datetime:
        return max(r.hit.found_at for r in self.records)


def group_by_story(records: list[HitRecord]) -> list[StoryGroup]:
    """Hits grouped by story, the group with the newest hit first; a hit without a story is its own group."""
    groups: dict[int, list[HitRecord]] = {}
    for record in records:
        key = record.hit.story if record.hit.story is not None else record.article_id
        groups.setdefault(key, []).append(record)
    built = [
        StoryGroup(story, members[0].hit.title, tuple(sorted(members, key=_newest_first)))
        for story, members in groups.items()
    ]
    return sorted(built, key=lambda group: (group.newest, group.story), reverse=True)


def _newest_first(record: HitRecord) -> tuple[float, int]:
    return (-record.hit.found_at.timestamp(), -record.hit.id)


def inbox(review: Review, wanted: HitFilter) -> list[StoryGroup]:
    return group_by_story(review.hits(wanted))


def mark(
    archive: Archive,
    hit_id: int,
    label: str,
    now: datetime,
    *,
    note: str | None = None,
    keep_note: bool = False,
) -> HitRecord | None:
    """Label a hit; with ``keep_note`` the note it has stays. None when there is no such hit."""
    if label not in LABELS:
        raise TriageError(f"label {label!r}: use one of {', '.join(LABELS)}")
    if keep_note:
        current = archive.hit_records([hit_id]).get(hit_id)
        if current is None:
            return None
        note = current.label.note if current.label else None
    return archive.mark(hit_id, label, note, now)


def annotate(archive: Archive, hit_id: int, note: str, now: datetime) -> HitRecord | None:
    """Set a hit's note, keeping its label (``unsure`` when it has none). None when there is no such hit."""
    current = archive.hit_records([hit_id]).get(hit_id)
    if current is None:
        return None
    label = current.label.label if current.label else DEFAULT_LABEL
    return archive.mark(hit_id, label, note.strip() or None, now)
