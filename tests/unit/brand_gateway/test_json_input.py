"""brand_gateway.json_input: nesting measured before decoding, without recursion."""

from __future__ import annotations

import json

import pytest

from brand_gateway.errors import JsonDuplicateNameError, JsonTooDeepError
from brand_gateway.json_input import MAX_DEPTH, loads, nesting_depth

DEPTHS = {
    "scalar": ("1", 0),
    "string": ('"[[[{{{"', 0),
    "escaped-quote": ('["a\\"[[[", 1]', 1),
    "escaped-backslash-then-quote": ('["a\\\\", [[1]]]', 3),
    "object-in-array": ('[{"a": [1, {"b": 2}]}]', 4),
    "siblings": ("[[1], [2], [[3]]]", 3),
    "brackets-in-keys": ('{"[[[": {"}}}": 1}}', 2),
}


@pytest.mark.parametrize(("text", "depth"), DEPTHS.values(), ids=DEPTHS.keys())
def test_the_depth_counts_brackets_outside_strings(text: str, depth: int) -> None:
    assert nesting_depth(text) == depth
    json.loads(text)                      # each case is valid JSON


def test_the_limit_itself_is_accepted_and_one_more_refused() -> None:
    assert loads("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None
    with pytest.raises(JsonTooDeepError) as raised:
        loads("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))
    assert isinstance(raised.value, ValueError)        # callers' ValueError handlers catch it


@pytest.mark.parametrize("text", ["[" * 100_000, '{"a":' * 50_000, "[" * 5000 + "]" * 5000])
def test_deep_and_huge_documents_are_refused_without_recursing(text: str) -> None:
    with pytest.raises(JsonTooDeepError):
        loads(text)
    with pytest.raises(JsonTooDeepError):
        loads(text.encode())


def test_bytes_must_be_utf8() -> None:
    with pytest.raises(ValueError):
        loads(b"\xff[1]")
    assert loads(b'["\xc3\xa9"]') == ["\u00e9"]


@pytest.mark.parametrize(("text", "name"), [
    ('{"a": 1, "a": 2}', "a"),
    ('[{"url": "x"}, {"b": {"c": 1, "d": 2, "c": 3}}]', "c"),
    ('{"\\u0061": 1, "a": 2}', "a"),             # the same name, escaped once
], ids=["top", "nested", "escaped"])
def test_an_object_naming_a_member_twice_is_refused_naming_it(text: str, name: str) -> None:
    """I-JSON (RFC 7493 sec. 2.3): Python would keep the last value, other parsers the first."""
    with pytest.raises(JsonDuplicateNameError) as refused:
        loads(text)
    assert refused.value.name == name
    assert isinstance(refused.value, ValueError)


def test_the_same_name_in_two_objects_is_fine() -> None:
    assert loads('[{"a": 1}, {"a": 2}]') == [{"a": 1}, {"a": 2}]
