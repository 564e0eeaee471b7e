"""The language of an article, detected once from its text (py3langid), or None when the detector is unsure.

An article whose language is None is matched in every watchlist language, so a short or mixed text is never
dropped for want of a language.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from .stems import STEMMERS

# Below this probability (normalised over the detector's languages) the answer is a guess: say unknown.
MIN_CONFIDENCE = 0.5
MIN_LETTERS = 12  # fewer letters than this is too short to tell
SAMPLE_CHARS = 2_000  # the first characters of the text say the language as well as the whole


@lru_cache(maxsize=1)
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


@lru_cache(maxsize=1)
def known_languages() -> frozenset[str]:
    """Every code a watchlist may name: the detector's languages and those with a stemmer."""
    labels = {str(label) for label in _identifier().nb_classes if label != "zxx"}
    return frozenset(labels | set(STEMMERS))


def detect_language(*texts: str) -> str | None:
    """The ISO 639-1 code of the language of ``texts`` (title, summary, body), or None when unsure."""
    sample = " ".join(text for text in texts if text)[:SAMPLE_CHARS]
    if sum(char.isalpha() for char in sample) < MIN_LETTERS:
        return None
    language, probability = _identifier().classify(sample)
    return str(language) if probability >= MIN_CONFIDENCE else None
