"""What changed between two versions of an article's text, as word runs for the template (pure)."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import datetime

from monitor.store.review import Version

# Each word with the spaces before it (and any spaces the text ends with): one token a word, so the diff does
# not pair up thousands of identical space tokens (a 10,000-word text with one word added: 11.7 s as separate
# word and space tokens, 0.09 s so); words added at the end show as added, the text before them unchanged.
_WORDS = re.compile(r"\s*\S+|\s+")
MAX_WORDS = 20_000  # beyond this, a diff is skipped rather than made slow


@dataclass(frozen=True, slots=True)
class Change:
    """One version replaced at ``replaced_at`` and what the next one changed: runs of (kind, text), kind being
    "same", "added" or "removed"."""

    replaced_at: datetime
    title: str
    title_changed: bool
    runs: tuple[tuple[str, str], ...]
    too_long: bool = False


def word_diff(old: str, new: str) -> tuple[tuple[str, str], ...]:
    before, after = _WORDS.findall(old), _WORDS.findall(new)
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    found: list[tuple[str, str]] = []
    for tag, a1, a2, b1, b2 in matcher.get_opcodes():
        if tag == "equal":
            found.append(("same", "".join(before[a1:a2])))
            continue
        if a2 > a1:
            found.append(("removed", "".join(before[a1:a2])))
        if b2 > b1:
            found.append(("added", "".join(after[b1:b2])))
    return tuple(found)


def changes(versions: list[Version], current_title: str, current_text: str) -> list[Change]:
    """For each earlier version (oldest first), the changes from it to the version that replaced it."""
    texts = [(v.title, v.text) for v in versions] + [(current_title, current_text)]
    result: list[Change] = []
    for version, (next_title, next_text) in zip(versions, texts[1:], strict=True):
        too_long = len(version.text.split()) + len(next_text.split()) > MAX_WORDS
        result.append(
            Change(
                replaced_at=version.replaced_at,
                title=version.title,
                title_changed=version.title != next_title,
                runs=() if too_long else word_diff(version.text, next_text),
                too_long=too_long,
            )
        )
    return result
