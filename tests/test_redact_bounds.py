"""Where masking draws its lines: the pieces of a secret that are masked on their own (six characters and
more), and the shortest secret that is masked at all (three characters); an alert item's snippet strength counts
only marks that cover some text."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from monitor.models import Snippet
from monitor.notify.items import _strength
from monitor.redact import forget_all, mask_known, redact, remember, secret_fragments


@pytest.fixture(autouse=True)
def _forget() -> Iterator[None]:
    yield
    forget_all()


def test_the_parts_of_a_token_holding_a_colon_are_masked_on_their_own_from_six_characters() -> None:
    fragments = secret_fragments("tgram://123456:abcdef/chat")
    assert {"123456:abcdef", "123456", "abcdef"} <= set(fragments)
    assert redact("bot abcdef refused", "tgram://123456:abcdef/chat") == "bot **** refused"
    short = secret_fragments("tgram://12345:abcde/chat")
    assert "12345:abcde" in short and "abcde" not in short and "12345" not in short


def test_a_secret_of_three_characters_is_masked_and_a_shorter_one_is_not() -> None:
    assert redact("login abc failed", "https://user:abc@mail.example/x") == "login **** failed"
    assert redact("a tab and ab", "https://user:ab@mail.example/x") == "a tab and ab"
    remember("xyz", "pq")
    assert mask_known("token xyz, pq") == "token ****, pq"


def test_a_snippets_strength_counts_the_marks_that_cover_some_of_its_text() -> None:
    text = "Wescam sensors"
    assert _strength(Snippet("body", text, ((0, 6),)), 0)[0] == -1
    assert _strength(Snippet("body", text, ((3, 3),)), 0)[0] == 0  # empty
    assert _strength(Snippet("body", text, ((14, 20), (20, 30))), 0)[0] == 0  # past the end
    assert _strength(Snippet("body", text, ((-5, 1), (13, 30))), 0)[0] == -2  # clipped, each a character
