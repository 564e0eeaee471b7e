"""The language of an article, detected once from its text (py3langid), or None when the detector is unsure.

An article whose language is None is matched in every watchlist language, so a short or mixed text is never
dropped for want of a language.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

from .stems import STEMMERS

# Below this probability (normalised over the detector's languages) the answer is a guess: say unknown.
MIN_CONFIDENCE = 0.5
MIN_LETTERS = 12  # fewer letters than this is too short to tell
SAMPLE_CHARS = 2_000  # the first characters of the text say the language as well as the whole


# The codes the detector can answer (py3langid's model; a test checks this list against it). Kept here so that
# checking a config does not load the model (about a second).
DETECTED_LANGUAGES = frozenset(
    [
        "ace",
        "af",
        "am",
        "an",
        "ar",
        "ary",
        "arz",
        "as",
        "az",
        "ba",
        "bcl",
        "be",
        "bg",
        "bn",
        "br",
        "bs",
        "ca",
        "crh",
        "cs",
        "cy",
        "da",
        "de",
        "dz",
        "el",
        "en",
        "eo",
        "es",
        "et",
        "eu",
        "ext",
        "fa",
        "fi",
        "fo",
        "fr",
        "fuv",
        "fy",
        "ga",
        "gcf",
        "gcr",
        "gd",
        "gl",
        "gom",
        "grc",
        "gu",
        "gug",
        "guw",
        "ha",
        "hbo",
        "he",
        "hi",
        "hr",
        "ht",
        "hu",
        "hy",
        "id",
        "ig",
        "is",
        "it",
        "ja",
        "jv",
        "ka",
        "kab",
        "kik",
        "kk",
        "km",
        "kn",
        "ko",
        "ku",
        "ky",
        "la",
        "lb",
        "lg",
        "lij",
        "ln",
        "lo",
        "lt",
        "ltg",
        "lv",
        "mg",
        "mk",
        "ml",
        "mn",
        "mr",
        "ms",
        "mt",
        "my",
        "ne",
        "nl",
        "nn",
        "no",
        "nso",
        "oc",
        "om",
        "or",
        "pa",
        "pcm",
        "pl",
        "ps",
        "pt",
        "qu",
        "ro",
        "ru",
        "rw",
        "sa",
        "sdh",
        "se",
        "si",
        "sk",
        "sl",
        "sn",
        "so",
        "sq",
        "sr",
        "st",
        "sv",
        "sw",
        "ta",
        "te",
        "tg",
        "th",
        "tk",
        "tl",
        "tr",
        "tt",
        "ug",
        "uk",
        "ur",
        "uz",
        "uzs",
        "vec",
        "vi",
        "vo",
        "wa",
        "wuu",
        "xh",
        "yo",
        "yue",
        "zh",
        "zu",
    ]
)


@lru_cache(maxsize=1)
def _identifier() -> Any:
    # A detection is one small vector-matrix product: numpy's BLAS gains nothing from threads there, and
    # starting its thread pool at import cost about 60 ms of CPU (a third of `match --file`). Set before numpy is
    # first imported, and only if the user has not chosen.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from .langid_model import load_identifier  # numpy and the model: only for a detection

    return load_identifier()


def known_languages() -> frozenset[str]:
    """Every code a watchlist may name: the detector's languages and those with a stemmer."""
    return DETECTED_LANGUAGES | frozenset(STEMMERS)


def detector_languages() -> frozenset[str]:
    """The codes the detector's model knows (slow: loads the model)."""
    return frozenset(str(label) for label in _identifier().nb_classes if label != "zxx")


def load_language_model() -> None:
    """Load the detector's model now (it is otherwise loaded by the first detection)."""
    _identifier()


def release_model_pages() -> None:
    """Let go of the model's pages this process touched, when the model is loaded (``langid_model.release_pages``)."""
    if _identifier.cache_info().currsize:
        from .langid_model import release_pages

        release_pages()


def has_letters(text: str, least: int) -> bool:
    """Whether ``text`` holds at least ``least`` letters. Its start nearly always holds them all, so that is
    counted first: counting a whole 2,000-character sample letter by letter was a fifth of a detection."""
    head = text[: 8 * least]
    return sum(map(str.isalpha, head)) >= least or sum(map(str.isalpha, text)) >= least


def detect_language(*texts: str) -> str | None:
    """The ISO 639-1 code of the language of ``texts`` (title, summary, body), or None when unsure."""
    sample = " ".join(text for text in texts if text)[:SAMPLE_CHARS]
    if not has_letters(sample, MIN_LETTERS):
        return None
    language, probability = _identifier().classify(sample)
    return sure_language(str(language), probability)


def sure_language(language: str, probability: float) -> str | None:
    """The detector's answer when it is sure enough (``MIN_CONFIDENCE``, that probability included), else None."""
    return language if probability >= MIN_CONFIDENCE else None
