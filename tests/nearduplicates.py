"""A labelled near-duplicate set built from the corpus's real news articles.

Wire copies are made the way outlets make them: trimmed to their first paragraphs, retitled, a paragraph of
their own added, boilerplate around (bylines, newsletter prompts, related links, copyright). The distinct
stories are the corpus's own articles, chosen on shared topics (the same names in their titles), so stories on
one topic must stay apart. The set is rebuilt at test time from a fixed seed; nothing is copied into the repo.
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.corpus import corpus

TOPIC_WORDS = ("trump", "biden", "covid", "coronavirus", "election", "china", "brexit", "police", "virus")
OUTLETS = ("CBC", "CTV", "Global News", "Toronto Star", "National Post", "CityNews")
BOILERPLATE_BEFORE = (
    "By The Canadian Press. Posted {day}. Last updated {day}.",
    "Advertisement. Story continues below.",
    "Share this story on Facebook, Twitter or by email.",
    "Listen to this article. Estimated 4 minutes. The audio version of this article is generated.",
)
BOILERPLATE_AFTER = (
    "This report by The Canadian Press was first published {day}.",
    "Sign up for our morning newsletter to get the day's top stories in your inbox.",
    "Related stories: {related}. Read more in our news section.",
    "Copyright {year} The Canadian Press. All rights reserved. We welcome your comments below.",
    "Report a typo or error. Comments are moderated; see our community guidelines.",
)


@dataclass(frozen=True, slots=True)
class Item:
    story: int  # the label: copies carry their original's label
    title: str
    text: str
    kind: str  # original, copy


def corpus_path() -> Path:
    return corpus("news-text", "finescoop-2020.jsonl")


def read_corpus(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def paragraphs(body: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n\s*\n", body) if p.strip()]


def on_topic(records: list[dict[str, str]], per_topic: int) -> list[dict[str, str]]:
    """Articles whose titles name one of TOPIC_WORDS, ``per_topic`` each, with bodies of 6 paragraphs or more.

    The corpus has its own near-duplicates (one outlet's article embedding another's text): an article sharing
    more than a tenth of its exact word 3-shingles with one already chosen is left out, so the labels are true.
    """
    chosen: list[dict[str, str]] = []
    chosen_shingles: list[set[str]] = []
    counts: Counter[str] = Counter()
    for record in records:
        if len(paragraphs(record["body"])) < 6:
            continue
        title = record["title"].lower()
        topic = next((word for word in TOPIC_WORDS if word in title), None)
        if topic is None or counts[topic] >= per_topic:
            continue
        own = exact_shingles(record["body"])
        if any(len(own & other) > 0.1 * min(len(own), len(other)) for other in chosen_shingles):
            continue
        counts[topic] += 1
        chosen.append(record)
        chosen_shingles.append(own)
    return chosen


def exact_shingles(text: str) -> set[str]:
    words = re.findall(r"\w+", text.lower())
    return {" ".join(words[i : i + 3]) for i in range(len(words) - 2)}


def wire_copy(record: dict[str, str], rng: random.Random, filler: list[str], related: list[str]) -> Item:
    """One outlet's copy: the first 50-100 % of the paragraphs, a new title, maybe a paragraph of its own,
    boilerplate before and after."""
    parts = paragraphs(record["body"])
    kept = parts[: max(3, round(len(parts) * rng.uniform(0.5, 1.0)))]
    if rng.random() < 0.6:
        kept.insert(rng.randrange(1, len(kept) + 1), rng.choice(filler))
    day = f"Sept. {rng.randint(1, 30)}, 2020"
    before = [b.format(day=day) for b in rng.sample(BOILERPLATE_BEFORE, rng.randint(0, 2))]
    after = [
        a.format(day=day, year=2020, related="; ".join(rng.sample(related, 3)))
        for a in rng.sample(BOILERPLATE_AFTER, rng.randint(1, 3))
    ]
    title = f"{rng.choice(OUTLETS)}: {record['title'][: rng.randint(30, 90)].rstrip()}"
    return Item(story=-1, title=title, text="\n\n".join(before + kept + after), kind="copy")


def labelled_set(path: Path, *, per_topic: int = 40, seed: int = 7) -> list[Item]:
    """Originals on shared topics, each followed (in arrival order, shuffled) by 0-3 wire copies."""
    records = read_corpus(path)
    rng = random.Random(seed)
    originals = on_topic(records, per_topic)
    chosen = {id(r) for r in originals}
    # Paragraphs an outlet adds come from articles outside the set: real prose, another story's.
    others = [r for r in records if id(r) not in chosen]
    filler = [p for r in others[:400] for p in paragraphs(r["body"])[1:2] if len(p.split()) > 25]
    related = [r["title"] for r in others[:200]]
    items: list[Item] = []
    for label, record in enumerate(originals):
        items.append(Item(label, record["title"], record["body"], "original"))
        for _ in range(rng.choice((0, 1, 2, 3))):
            copy = wire_copy(record, rng, filler, related)
            items.append(Item(label, copy.title, copy.text, copy.kind))
    # Copies arrive after their original, interleaved with other stories.
    return _interleave(items, rng)


def _interleave(items: list[Item], rng: random.Random) -> list[Item]:
    by_story: dict[int, list[Item]] = {}
    for item in items:
        by_story.setdefault(item.story, []).append(item)
    queues = list(by_story.values())
    ordered: list[Item] = []
    while queues:
        queue = rng.choice(queues)
        ordered.append(queue.pop(0))
        if not queue:
            queues.remove(queue)
    return ordered


def pairs(labels: list[int]) -> Iterator[tuple[int, int]]:
    """Index pairs (i < j) that share a label."""
    groups: dict[int, list[int]] = {}
    for index, label in enumerate(labels):
        groups.setdefault(label, []).append(index)
    for members in groups.values():
        for a in range(len(members)):
            for b in range(a + 1, len(members)):
                yield members[a], members[b]


def precision_recall(truth: list[int], predicted: list[int]) -> tuple[float, float]:
    """Pairwise precision and recall of a clustering against the labels."""
    true_pairs = set(pairs(truth))
    predicted_pairs = set(pairs(predicted))
    both = len(true_pairs & predicted_pairs)
    precision = both / len(predicted_pairs) if predicted_pairs else 1.0
    recall = both / len(true_pairs) if true_pairs else 1.0
    return precision, recall
