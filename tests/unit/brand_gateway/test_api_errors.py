"""The brand API's error texts (brand_gateway/api_errors.py): what a brand's engineer reads."""

from __future__ import annotations

import pytest

from brand_gateway.api_errors import RateLimitedError


@pytest.mark.parametrize(("retry_after", "wait"), [(1, "1 second."), (2, "2 seconds."),
                                                   (59, "59 seconds.")])
def test_a_rate_limit_says_how_long_to_wait_in_words(retry_after: int, wait: str) -> None:
    error = RateLimitedError(retry_after=retry_after, limit=600)
    assert error.message == f"This client may make 600 requests a minute. Try again in {wait}"
