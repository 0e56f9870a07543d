"""web.filters: what the pages print for numbers of days and moments in time."""

from __future__ import annotations

import pytest

from web.filters import days, when


@pytest.mark.parametrize(("count", "words"), [(1, "1 day"), (0, "0 days"), (30, "30 days")])
def test_days_are_counted_in_words(count: int, words: str) -> None:
    assert days(count) == words


def test_a_moment_is_shown_in_utc_and_nothing_for_none() -> None:
    assert when(86_400) == "1970-01-02 00:00 UTC"
    assert when(None) == ""
