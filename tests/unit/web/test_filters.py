"""web.filters: what the pages print for numbers of days, moments in time, and labels inside a
sentence."""

from __future__ import annotations

import pytest

from web.filters import days, in_a_sentence, when


@pytest.mark.parametrize(("count", "words"), [(1, "1 day"), (0, "0 days"), (30, "30 days")])
def test_days_are_counted_in_words(count: int, words: str) -> None:
    assert days(count) == words


def test_a_moment_is_shown_in_utc_and_nothing_for_none() -> None:
    assert when(86_400) == "1970-01-02 00:00 UTC"
    assert when(None) == ""


@pytest.mark.parametrize(("label", "phrase"), [
    ("Research and development", "research and development"),
    ("What matters most when I buy", "what matters most when I buy"),
    ("New products: I am an early adopter", "new products: I am an early adopter"),
    ("To analyse data for research and to develop new products.",
     "to analyse data for research and to develop new products"),
    ("GPC opt-out", "GPC opt-out"),
    ("", ""),
])
def test_a_label_inside_a_sentence_keeps_every_letter_but_the_first(label: str,
                                                                    phrase: str) -> None:
    assert in_a_sentence(label) == phrase
