"""JSON from outside, parsed with a nesting limit: one helper for every place it enters.

Python's ``json.loads`` recurses once per array or object level, so a small document nested
deeply enough (``[[[…]]]``, 2 KB) raises ``RecursionError``, which no ``except ValueError``
catches: a 500 and a stack trace. The nesting is therefore measured *before*
decoding, in one pass that does not recurse: string literals are cut out (a bracket inside a
string is text), then the brackets left are counted. A document deeper than :data:`MAX_DEPTH`
is refused with :class:`~brand_gateway.errors.JsonTooDeepError`, a ``ValueError``, so callers
that already answer malformed JSON with a 400 answer this one too, and may name it.

Where outside JSON enters, and so where this is used: ``authorization_details`` on the
authorization endpoint (brand_gateway/rar.py), brand API bodies
(brand_gateway/api/payloads.py), the app's JSON provider (anything calling
``request.get_json``, Authlib's JSON requests included; web/app.py). Our own stored JSON
(sessions, grants, spools) and what a signature vouches for (a webhook a brand verifies, a
receipt) is written by us and parsed as it is. An object from outside that names a member twice
is refused too (:func:`unique_names`): parsers disagree on which one counts. ``NaN``,
``Infinity`` and ``-Infinity``, which Python's parser takes but RFC 8259 sec. 6 does not, are
refused (:func:`refuse_constant`).
"""

from __future__ import annotations

import json
import re
from typing import Any

from .errors import JsonConstantError, JsonDuplicateNameError, JsonTooDeepError

# Our deepest legitimate document is three levels ([{"datatypes": [...]}]); 32 leaves room for
# any reasonable client and stays far below Python's recursion limit (1000).
MAX_DEPTH = 32

# A JSON string literal: a quote, then characters other than quote or backslash, or an escape.
# The two alternatives never overlap, so matching is linear.
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")


def nesting_depth(text: str, *, stop_after: int | None = None) -> int:
    """How deep arrays and objects nest in ``text`` (0 for a scalar), without recursing.

    Brackets inside string literals do not count. For text that is not JSON the answer is only
    an upper bound of sorts (an unterminated string's brackets count); such text fails to
    decode anyway. Stops counting once ``stop_after`` is passed.
    """
    depth = deepest = 0
    for match in _BRACKETS.finditer(_STRING.sub("", text)):
        if match.group() in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if stop_after is not None and deepest > stop_after:
                    break
        else:
            depth -= 1
    return deepest


def check_depth(text: str, *, max_depth: int = MAX_DEPTH) -> None:
    """:class:`JsonTooDeepError` if ``text`` nests deeper than ``max_depth`` levels."""
    if nesting_depth(text, stop_after=max_depth) > max_depth:
        raise JsonTooDeepError(max_depth)


def loads(text: str | bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """``json.loads`` for outside input: :class:`JsonTooDeepError` past ``max_depth`` levels,
    :class:`JsonDuplicateNameError` for an object naming a member twice,
    :class:`JsonConstantError` for ``NaN`` or an infinity, ``ValueError``
    (``UnicodeDecodeError`` included) for anything else that is not UTF-8 JSON."""
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8")
    check_depth(text, max_depth=max_depth)
    return json.loads(text, object_pairs_hook=unique_names, parse_constant=refuse_constant)


def refuse_constant(constant: str) -> Any:
    """``json.loads``' ``parse_constant``, called for ``NaN``, ``Infinity`` and ``-Infinity``
    only: :class:`JsonConstantError`."""
    raise JsonConstantError(constant)


def unique_names(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``json.loads``' ``object_pairs_hook``: the object, or :class:`JsonDuplicateNameError`
    naming the first member named twice (I-JSON, RFC 7493 sec. 2.3)."""
    document = dict(pairs)
    if len(document) != len(pairs):
        seen: set[str] = set()
        for name, _ in pairs:
            if name in seen:
                raise JsonDuplicateNameError(name)
            seen.add(name)
    return document
