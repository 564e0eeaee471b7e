"""Retention: the text and raw bodies of articles without hits are pruned once older than ``retention``;
hits, their articles and their evidence are kept. Titles and summaries stay searchable."""

from __future__ import annotations

from datetime import datetime, timedelta

from monitor.store.archive import Archive


def prune_cutoff(now: datetime, retention: float) -> datetime:
    """Articles first seen before this moment are old enough to prune."""
    return now - timedelta(seconds=retention)


def prune_due(archive: Archive, retention: float, now: datetime, *, dry_run: bool = False) -> int:
    """Prune what is due (or, with ``dry_run``, only count it); returns the number of articles."""
    due = archive.prunable(prune_cutoff(now, retention))
    return len(due) if dry_run else archive.prune(due)
