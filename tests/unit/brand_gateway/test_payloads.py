"""Query strings through their schemas (brand_gateway.api.payloads.load_query): what a worker
keeps of the strings it loaded changes nothing a caller sees."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from brand_gateway.api import payloads
from brand_gateway.api.payloads import load_query
from brand_gateway.api.schemas import FeedbackQuery, ProfileQuery
from brand_gateway.api_errors import QueryError

_APP = Flask(__name__)
PROFILE = ProfileQuery()
FEEDBACK = FeedbackQuery()


def _load(schema: Any, query: str) -> dict[str, Any]:
    with _APP.test_request_context("/api/v1/member/profile?" + query if query else
                                   "/api/v1/member/profile"):
        return load_query(schema)


@pytest.fixture(autouse=True)
def _nothing_kept() -> None:
    payloads._LOADED.clear()


def test_a_kept_query_is_a_copy_its_caller_may_change() -> None:
    first = _load(PROFILE, "purpose=dpv:Personalisation&fields=city,given_name")
    assert first == {"purpose": "dpv:Personalisation", "field_names": ["city", "given_name"]}
    first["field_names"].append("email")
    first["purpose"] = "changed"
    assert _load(PROFILE, "purpose=dpv:Personalisation&fields=city,given_name") == {
        "purpose": "dpv:Personalisation", "field_names": ["city", "given_name"]}


def test_one_string_loads_by_its_own_schema() -> None:
    assert _load(FEEDBACK, "") == {"limit": FEEDBACK.fields["limit"].load_default, "offset": 0}
    assert _load(PROFILE, "") == {}
    with pytest.raises(QueryError):
        _load(PROFILE, "limit=5")                  # FeedbackQuery's parameter, not this one's
    assert _load(FEEDBACK, "limit=5") == {"limit": 5, "offset": 0}


@pytest.mark.parametrize("query", ["purpose=nope", "purpose=a&purpose=b", "fields=city%00",
                                   "unknown=1"])
def test_a_refusal_is_refused_every_time(query: str) -> None:
    for _ in range(3):
        with pytest.raises(QueryError):
            _load(PROFILE, query)
    assert not payloads._LOADED


def test_what_is_kept_is_bounded_in_count_and_length() -> None:
    for n in range(payloads._KEPT_QUERIES + 10):
        assert _load(FEEDBACK, f"offset={n}")["offset"] == n
    assert len(payloads._LOADED) <= payloads._KEPT_QUERIES
    payloads._LOADED.clear()
    long = "offset=" + "0" * payloads._LONGEST_KEPT + "7"
    assert _load(FEEDBACK, long)["offset"] == 7
    assert not payloads._LOADED
