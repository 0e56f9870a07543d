"""What crosses the brand API's HTTP boundary: query strings and JSON bodies in, JSON out.

- A query string is loaded through its schema (:mod:`brand_gateway.api.schemas`,
  ``unknown = RAISE``); a parameter given twice, unknown or malformed is a 400
  (:class:`~brand_gateway.api_errors.QueryError`) naming each problem, never ignored.
- A JSON body must be ``application/json``, valid UTF-8 JSON no deeper than
  :mod:`brand_gateway.json_input` allows, and an object; else 400 or 415. A body over
  :data:`MAX_BODY` bytes is a 413 from wherever it is read (the app's request class sets the
  limit for every ``/api/`` request, ``web/app.py``).
- No text in a query or a body may hold the NUL character (U+0000): no field means anything by
  it, and PostgreSQL refuses it in any text value, so it is a 400 here rather than a store
  error later. Nor may text in a body hold a lone surrogate (``"\\ud800"``, which JSON's
  escapes can spell but no UTF-8 can encode): said as such, rather than as whatever a field's
  own check would make of it. ``NaN`` and the infinities are not JSON (RFC 8259 sec. 6), and a
  body holding one is refused as such.
- Answers are compact JSON ending with a newline (a shell prints each on a line of its own);
  times are ISO 8601 UTC seconds with ``Z``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from flask import Response, request
from marshmallow import Schema
from marshmallow import ValidationError as SchemaError

from .. import json_input
from ..api_errors import BodyError, QueryError, UnsupportedBodyError

T = TypeVar("T")

MAX_BODY = 4096
_NUL = "Text may not contain the NUL character (U+0000)."
_NOT_UNICODE = ("Text must be valid Unicode: the body holds a lone surrogate (an escape such as"
                " \\ud800 without its pair).")
_NO_BODY = "This operation takes no body: send none, or the empty JSON object {}."
_MOST_PLACES = 10                   # places named in one problem's errors
_LONGEST_PLACE = 60                 # characters of a place's name
_KEPT_QUERIES = 256                 # loaded query strings a worker keeps (load_query) ...
_LONGEST_KEPT = 512                 # ... each at most this long
_LOADED: dict[tuple[Schema, str], dict[str, Any]] = {}
_COMPACT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)   # one for all responses


def load_query(schema: Schema) -> dict[str, Any]:
    """The query string through ``schema``; :class:`QueryError` (400) naming each problem.

    What a query string loads to depends on nothing but the string and the schema (no schema
    looks at the clock or a store), so this worker keeps the last :data:`_KEPT_QUERIES` short
    ones it loaded: a brand reads with the same few query strings over and over, and parsing
    and validating one took about a tenth of a profile read. Refusals are not kept (each is
    raised afresh), and each caller gets its own copy of what was loaded."""
    text = request.environ.get("QUERY_STRING", "")
    key = (schema, text)
    kept = _LOADED.get(key)
    if kept is None:
        kept = _load_query(schema, text)
        if len(text) <= _LONGEST_KEPT:
            if len(_LOADED) >= _KEPT_QUERIES:
                _LOADED.clear()
            _LOADED[key] = kept
    return {k: list(v) if isinstance(v, list) else v for k, v in kept.items()}


def _load_query(schema: Schema, text: str) -> dict[str, Any]:
    args = request.args if text else None           # parsed only if there is a query string
    if args is not None:
        repeated = sorted(k for k in args if len(args.getlist(k)) > 1)
        if repeated:
            raise QueryError({k[:40]: ["Give this parameter once."] for k in repeated[:5]})
        if any("\x00" in k or "\x00" in v for k, v in args.items()):
            raise QueryError({"query": [_NUL]})
    try:
        return dict(schema.load(args.to_dict() if args is not None else {}))
    except SchemaError as exc:
        raise QueryError({name: ["Unknown parameter." if m == "Unknown field." else m
                                 for m in messages]
                          for name, messages in schema_errors(exc, whole="query").items()}
                         ) from None


def loaded(schema: Schema, document: Mapping[str, Any]) -> dict[str, Any]:
    """A JSON body (:func:`json_body`) through ``schema``; :class:`BodyError` (400) naming each
    problem (:func:`schema_errors`)."""
    try:
        return dict(schema.load(document))
    except SchemaError as exc:
        raise BodyError(schema_errors(exc)) from None


def schema_errors(error: SchemaError, *, whole: str = "body") -> dict[str, list[str]]:
    """marshmallow's messages as the problem's ``errors`` member: each place named by its path,
    members and list indexes joined with dots (``results.0.name``), mapped to its messages;
    what is about the document as a whole under ``whole``. At most :data:`_MOST_PLACES`
    places, each name cut at :data:`_LONGEST_PLACE` characters (a client's unknown member
    names are echoed).

    marshmallow nests the messages of a nested schema or a list's items in dicts keyed by
    member and index; written as they were, they reached the client as a Python dict's repr."""
    found: dict[str, list[str]] = {}
    _gather(error.messages, "", whole, found)
    return dict(list(found.items())[:_MOST_PLACES])


def _gather(messages: Any, place: str, whole: str, found: dict[str, list[str]]) -> None:
    if len(found) >= _MOST_PLACES:
        return
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            _gather(value, f"{place}.{key}" if place else str(key), whole, found)
    elif isinstance(messages, list | tuple) and not any(
            isinstance(m, Mapping | list | tuple) for m in messages):
        found.setdefault((place or whole)[:_LONGEST_PLACE], []).extend(str(m) for m in messages)
    elif isinstance(messages, list | tuple):
        for message in messages:
            _gather(message, place, whole, found)
    else:
        found.setdefault((place or whole)[:_LONGEST_PLACE], []).append(str(messages))


def no_body() -> None:
    """An operation that takes nothing in its body: none, or an empty JSON object (some
    clients always send one). Anything else is refused (415 for another media type, 400 for
    an object with members) rather than ignored, as every input from outside is checked."""
    if not request.content_length and "chunked" not in request.headers.get(
            "Transfer-Encoding", "").lower():
        return
    if request.mimetype != "application/json":
        raise UnsupportedBodyError({"body": [_NO_BODY]})
    if json_body():
        raise BodyError({"body": [_NO_BODY]})


def json_body() -> dict[str, Any]:
    """The request's JSON object (see the module docstring for what is refused)."""
    if request.mimetype != "application/json":
        raise UnsupportedBodyError({"body": ["Send application/json."]})
    raw = request.get_data(cache=False)        # over MAX_BODY: a 413 from Werkzeug
    try:
        document = json_input.loads(raw)
    except json_input.JsonTooDeepError as exc:
        raise BodyError({"body": [f"The body nests arrays and objects more than"
                                  f" {exc.max_depth} levels deep."]}) from None
    except json_input.JsonDuplicateNameError as exc:
        raise BodyError({"body": [f"The body names {exc.name!r} twice in one object: send"
                                  " each member once."]}) from None
    except json_input.JsonConstantError as exc:
        raise BodyError({"body": [f"The body is not valid JSON: {exc.constant} is not a JSON"
                                  " number (RFC 8259)."]}) from None
    except (UnicodeDecodeError, ValueError):
        raise BodyError({"body": ["The body is not valid UTF-8 JSON."]}) from None
    if not isinstance(document, dict):
        raise BodyError({"body": ["Send a JSON object."]})
    problem = _text_problem(document)
    if problem:
        raise BodyError({"body": [problem]})
    return document


def _text_problem(value: Any) -> str | None:
    """What is wrong with a string anywhere in the parsed ``value`` (keys included), if
    anything: it holds U+0000, or a lone surrogate; its depth is bounded by json_input."""
    if isinstance(value, str):
        if "\x00" in value:
            return _NUL
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return _NOT_UNICODE
        return None
    if isinstance(value, dict):
        return next((p for key, item in value.items()
                     if (p := _text_problem(key) or _text_problem(item))), None)
    if isinstance(value, list):
        return next((p for item in value if (p := _text_problem(item))), None)
    return None


def json_response(body: dict[str, Any]) -> Response:
    return Response(_COMPACT.encode(body) + "\n", mimetype="application/json")


def page_response(name: str, rows: Sequence[T], *, limit: int, offset: int,
                  render: Callable[[T], Any]) -> Response:
    """One page of a listing as ``{name: [...], "next_offset": ...}``: ``rows`` were read with
    ``limit + 1`` so that one more than the page tells whether another page follows."""
    return json_response({name: [render(row) for row in rows[:limit]],
                          "next_offset": offset + limit if len(rows) > limit else None})


def iso(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    return dt.datetime.fromtimestamp(int(seconds), dt.UTC).isoformat().replace("+00:00", "Z")
