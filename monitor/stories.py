"""Near-duplicate detection: which story an article belongs to. Pure functions of text and values.

A text's fingerprint is a MinHash signature over its word 3-shingles (rensa, a Rust MinHash) cut into LSH
bands. The store keeps each article's band hashes in an indexed table, so the articles sharing a band with a
new one are found with one indexed query, across restarts and processes; the signatures of those candidates
then decide. Thresholds and band shape were chosen on the labelled set in tests/ (docs/benchmarks.md).
"""

from __future__ import annotations

import hashlib
import operator
from collections.abc import Mapping, Sequence
from struct import Struct

import rensa

from monitor.models import Candidate, Fingerprint, Placement, StoryAlert

NUM_PERM = 120
BANDS = (
    40  # of ROWS values each: a pair with Jaccard 0.45 shares a band with probability 0.98, 0.05 with 0.005
)
ROWS = NUM_PERM // BANDS
SEED = 20_261_130  # fixed: the bands stored by one process must be comparable with those of the next
# A long article's opening is what its copies keep: fingerprints read the first characters only (about 800
# words), which also bounds the cost of one fingerprint.
MAX_CHARS = 5_000
# Texts with fewer shingles than this get no fingerprint and stay stories of their own: short texts share
# too large a part of their few shingles by chance (an empty summary, "Read more" teasers) and would pull
# unrelated articles together. Measured on the labelled set (docs/benchmarks.md).
MIN_SHINGLES = 40
# Two texts are one story when this share of the shorter one's shingles is in the other (estimated from the
# signatures and the shingle counts): a copy trimmed, with a paragraph added or boilerplate around it keeps
# most of its shingles; another story on the same topic shares a handful.
MIN_CONTAINMENT = 0.5

_SIGNATURE = Struct(f"<{NUM_PERM}I")
_PACKED = Struct(f"<I{NUM_PERM}I{BANDS}q")  # shingle count, signature, band hashes
_BAND_KEYS = [band.to_bytes(2, "little") for band in range(BANDS)]
_blake2b = hashlib.blake2b


def clustering_text(title: str, summary: str, text: str) -> str:
    """What a story is recognised by: the full text when there is one, else title and summary."""
    return text if text.strip() else f"{title}\n{summary}"


def shingles(text: str) -> set[str]:
    """The text's word 3-shingles, lower-cased. Words are split on white space: punctuation stays with its
    word, as it does in a copy, and splitting is a fifth of the cost of a word pattern."""
    words = text[:MAX_CHARS].lower().split()
    return set(map(" ".join, zip(words, words[1:], words[2:], strict=False)))


def fingerprint(text: str) -> Fingerprint | None:
    """The text's fingerprint, or None when it is too short to be told apart from others by chance."""
    found = shingles(text)
    if len(found) < MIN_SHINGLES:
        return None
    minhash = rensa.RMinHash(num_perm=NUM_PERM, seed=SEED)
    minhash.update(list(found))
    signature = tuple(minhash.digest())
    return Fingerprint(signature, len(found), band_hashes(signature))


def band_hashes(signature: Sequence[int]) -> tuple[int, ...]:
    """One signed 64-bit hash per band (its index and its values), as the database's BIGINT holds it."""
    data = _SIGNATURE.pack(*signature)
    step = ROWS * 4
    return tuple(
        int.from_bytes(
            _blake2b(_BAND_KEYS[band] + data[band * step : band * step + step], digest_size=8).digest(),
            "little",
            signed=True,
        )
        for band in range(BANDS)
    )


def pack_fingerprint(fingerprint: Fingerprint) -> bytes:
    """The fingerprint as bytes, for a worker process to hand it back: a bytes object crosses between processes
    at a small part of the cost of the values (unpickling 160 ints took about 28 µs, unpacking these 2)."""
    return _PACKED.pack(fingerprint.shingles, *fingerprint.signature, *fingerprint.bands)


def unpack_fingerprint(data: bytes) -> Fingerprint:
    values = _PACKED.unpack(data)
    return Fingerprint(values[1 : NUM_PERM + 1], values[0], values[NUM_PERM + 1 :])


def pack_signature(signature: Sequence[int]) -> bytes:
    return _SIGNATURE.pack(*signature)


def unpack_signature(data: bytes) -> tuple[int, ...]:
    return tuple(_SIGNATURE.unpack(data))


def jaccard(a: Sequence[int], b: Sequence[int]) -> float:
    """The estimated Jaccard similarity of two shingle sets: the share of equal MinHash values. (``map`` with
    ``operator.eq`` counts in C: a story placement compares each new article with up to 200 candidates.)"""
    if len(a) != len(b):
        raise ValueError(f"signatures of {len(a)} and {len(b)} values cannot be compared")
    equal: int = sum(map(operator.eq, a, b))
    return equal / len(a)


def containment(a: Fingerprint, b: Candidate) -> float:
    """The estimated share of the smaller set's shingles found in the other: |A∩B| = J(|A|+|B|)/(1+J)."""
    similarity = jaccard(a.signature, b.signature)
    shared = similarity * (a.shingles + b.shingles) / (1 + similarity)
    return min(1.0, shared / min(a.shingles, b.shingles))


def place(new: Fingerprint | None, candidates: Sequence[Candidate]) -> Placement:
    """The story a new article joins: that of its most similar candidate at or above MIN_CONTAINMENT (the
    earliest story on a tie), else a story of its own."""
    if new is None:
        return Placement(None)
    best: Placement = Placement(None)
    for candidate in sorted(candidates, key=lambda c: (c.story, c.article)):
        similarity = containment(new, candidate)
        if similarity >= MIN_CONTAINMENT and similarity > best.similarity:
            best = Placement(candidate.story, similarity)
    return best


def place_copy(copy_stories: Sequence[int]) -> Placement:
    """The story of an exact copy: a new article whose signature and shingle count equal those of stored
    articles (``copy_stories``: their stories) joins the earliest of them, without comparing. ``place`` would
    decide the same but for a rare tie: a copy is as similar to its new article as any candidate can be, and the
    earliest story wins a tie; the stories of candidates that only contain the text are not looked at."""
    if not copy_stories:
        raise ValueError("an exact copy needs the stories of the articles it copies")
    return Placement(min(copy_stories), 1.0)


def story_alert(watchlist: str, matched: Sequence[str], earlier: Mapping[str, frozenset[str]]) -> StoryAlert:
    """Whether a watchlist's match on an article alerts, given what the article's story matched before it
    (``earlier``: watchlist -> terms; empty for a new story).

    A new story alerts. A later copy alerts only as an update that names what it adds: a watchlist the story
    had not matched, or terms that watchlist had not matched in it. A copy adding nothing stays silent."""
    if not earlier:
        return StoryAlert(alert=True)
    if watchlist not in earlier:
        return StoryAlert(alert=True, new_terms=tuple(matched), new_watchlist=True)
    new_terms = tuple(term for term in matched if term not in earlier[watchlist])
    return StoryAlert(alert=bool(new_terms), new_terms=new_terms)
