"""The console's consent and access log (``/console/ledger``): the ledger searched, verified and
exported by a compliance officer.

Behind the console's gate (web/console.py ``require_officer``: signed in, the compliance role,
two-step sign-in), default deny for every route here. What it shows:

- the entries matching a filter (brand, purpose, event tag or a prefix of one, a UTC date range,
  a member pseudonym), newest first, a page at a time by an opaque cursor
  (consent/ledger_search.py; a cursor that was edited or belongs to other filters is a 400);
  each entry's seq, time, tag, brand, purposes, principal and a summary of its other details.
  Entries hold pseudonyms and digests only (consent/events.py refuses anything that looks like
  an e-mail address), so nothing here is personal data: officers see pseudonyms, never who
  they stand for;
- the tree's current size and Merkle root, and the latest signed checkpoint with its note;
- "Verify integrity" (a POST with the session's CSRF token): ``Ledger.verify()`` over the whole
  ledger, its result on the page: OK with the counts and root, or the first problem and where. It
  runs in the request; the page says beforehand how long that takes at this size (the rate
  measured by ``python -m bench --only ledger``), and past :data:`VERIFY_IN_PAGE_LIMIT` entries
  it points to ``vrmvault ledger verify`` (a progress bar, no request time limit) instead;
- exports of the filtered set as CSV or JSON with inclusion proofs (consent/ledger_export.py),
  streamed as a download (a POST: it may sign a checkpoint first).

Filters come in as a GET form, validated by :class:`LedgerFilter`; a bad one re-renders the
page with its messages next to the fields (400). Nothing of a filter is logged.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from flask import Blueprint, Response, render_template, request, stream_with_context
from marshmallow import ValidationError as SchemaError
from marshmallow import fields, validate, validates_schema
from werkzeug.wrappers import Response as BaseResponse

from consent.checkpoints import b64encode
from consent.errors import ConsentInputError
from consent.ledger import Ledger
from consent.ledger_export import FORMATS, open_export
from consent.ledger_search import (
    DAY,
    LedgerQuery,
    LedgerSearch,
    SearchHit,
    day_start,
    query_of,
    tag_prefixes,
)
from consent.ledger_verification import VerifyReport
from consent.vocabulary import PURPOSES
from vault.errors import ValidationError

from .console import require_officer
from .forms import FormSchema, form_data
from .vaults import get_consent, get_vault, log_directory

bp = Blueprint("console_ledger", __name__, url_prefix="/console/ledger")
bp.before_request(require_officer)

CURSOR_KEY_PURPOSE = "ledger-search-cursor"
PAGE_SIZE = 50
# Entries verified per second in a request, what the page's estimate divides by: bench/
# ledger_search.py measured 1,000,000 entries in 11.9 s on a loaded 2-core machine.
VERIFY_RATE = 80_000
# Above this size (about 25 s at that rate; the server gives a request 60 s) the page points to
# the command line instead of verifying in a request.
VERIFY_IN_PAGE_LIMIT = 2_000_000
SUMMARY_KEYS = 6
_SHOWN_APART = frozenset({"brand", "member", "purpose", "purposes"})
_TEXT = "must be at most 100 characters"


def _text(label: str) -> fields.Field:
    return fields.String(allow_none=True, metadata={"label": label},
                         validate=validate.Length(max=100, error=f"{label} {_TEXT}."),
                         error_messages={"invalid": f"{label} must be text."})


def _day(label: str) -> fields.Field:
    wrong = f"{label} must be a date as YYYY-MM-DD."
    return fields.Date(allow_none=True, metadata={"label": label},
                       error_messages={"invalid": wrong, "format": wrong})


class LedgerFilter(FormSchema):
    """The query of ``/console/ledger``; blank means "any"."""

    brand = _text("Brand")
    purpose = _text("Purpose")
    tag = _text("Event tag")
    principal = _text("Pseudonym")
    since = _day("From")
    until = _day("To")
    cursor = fields.String(allow_none=True, validate=validate.Length(
        max=200, error="The page link is not valid; start again from the first page."))

    @validates_schema
    def _range(self, data: dict[str, Any], **_: Any) -> None:
        since, until = data.get("since"), data.get("until")
        if since is not None and until is not None and until < since:
            raise SchemaError({"until": ["To must be on or after From."]})


class ExportForm(LedgerFilter):
    format = fields.String(required=True, validate=validate.OneOf(
        FORMATS, error="Format must be CSV or JSON."),
        error_messages={"required": "Choose CSV or JSON.", "null": "Choose CSV or JSON."})


def _errors(exc: SchemaError | ValidationError, schema: FormSchema) -> dict[str, list[str]]:
    """Messages by field, each naming its field; anything not a field of the form goes first."""
    raw = exc.messages if isinstance(exc, SchemaError) else exc.errors
    found: dict[str, list[str]] = {}
    if not isinstance(raw, dict):
        return {"form": ["This filter is not valid."]}
    for name, messages in raw.items():
        listed = [str(m) for m in (messages if isinstance(messages, list) else [messages])]
        if str(name) not in schema.fields:
            found.setdefault("form", []).append(
                f"{str(name)[:40]} is not part of this filter; the form takes brand, purpose,"
                " event tag, pseudonym, from and to.")
        elif "Send this field once." in listed:
            found[str(name)] = [f"{schema.fields[str(name)].metadata.get('label', name)}"
                                " is given more than once."]
        else:
            found[str(name)] = listed
    return found


def _query(values: dict[str, Any]) -> LedgerQuery:
    """The search of a loaded filter; a tag no event has is an error on that field."""
    since, until = values.get("since"), values.get("until")
    try:
        return query_of(brand=values.get("brand"), purpose=values.get("purpose"),
                        tag=values.get("tag"), principal=values.get("principal"),
                        since=None if since is None else day_start(since),
                        until=None if until is None else day_start(until) + DAY)
    except ConsentInputError as exc:
        raise SchemaError({"tag": [f"Event tag: {exc.message}."]}) from exc


def _search(ledger: Ledger) -> LedgerSearch:
    assert ledger.search_index is not None
    return LedgerSearch(ledger.search_index, get_vault().master.derive(CURSOR_KEY_PURPOSE))


def _summary(hit: SearchHit) -> str:
    """The entry's other details, by name, values cut short (pseudonyms and digests only)."""
    details = hit.details()
    parts = []
    for key in sorted(details)[:SUMMARY_KEYS]:
        if key in _SHOWN_APART:
            continue
        value = details[key]
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        parts.append(f"{key}: {text if len(text) <= 40 else text[:39] + '…'}")
    return ", ".join(parts)


def _time(hit: SearchHit) -> str:
    return str(json.loads(hit.body)["time"])


def _filters(values: dict[str, Any]) -> dict[str, str]:
    """The filter as given, for the form and the page links (dates as YYYY-MM-DD)."""
    shown = {}
    for name in ("brand", "purpose", "tag", "principal", "since", "until"):
        value = values.get(name)
        if isinstance(value, dt.date):
            value = value.isoformat()
        if value:
            shown[name] = str(value)
    return shown


def _page(values: dict[str, Any], errors: dict[str, list[str]], status: int = 200, *,
          report: VerifyReport | None = None) -> tuple[str, int]:
    ledger = get_consent().ledger
    filters = _filters(values)
    page = None
    if not errors:
        try:
            query = _query(values)
        except SchemaError as exc:
            errors = _errors(exc, LedgerFilter())
            status = 400
        else:
            page = _search(ledger).page(query, values.get("cursor"), size=PAGE_SIZE)
    size = ledger.size
    checkpoint = ledger.latest_checkpoint()
    brands = [(b.id, b.name) for b in get_vault().brands.all()]
    return render_template(
        "console_ledger.html", filters=filters, errors=errors, page=page,
        summary=_summary, entry_time=_time, size=size, root=b64encode(ledger.root()),
        checkpoint=checkpoint, checkpoint_root=None if checkpoint is None else b64encode(
            checkpoint.root_hash), verifier_key=ledger.verifier_key,
        verify_seconds=max(1, round(size / VERIFY_RATE)),
        verify_in_page=size <= VERIFY_IN_PAGE_LIMIT, formats=FORMATS, report=report,
        purposes=[(p.code, p.label) for p in PURPOSES], prefixes=tag_prefixes(),
        brands=brands, brand_names=dict(brands)), status


@bp.get("/")
def search() -> tuple[str, int]:
    schema = LedgerFilter()
    try:
        values = schema.load(form_data(request.args))
    except (SchemaError, ValidationError) as exc:
        return _page(_filters(dict(request.args.items())), _errors(exc, schema), 400)
    return _page(values, {})


@bp.post("/verify")
def verify() -> tuple[str, int]:
    """The whole ledger checked (read only, so sending it again is harmless); the page with
    its result in the integrity section."""
    report = get_consent().ledger.verify(published=log_directory().checkpoint())
    return _page({}, {}, report=report)


@bp.post("/export")
def export() -> BaseResponse | tuple[str, int]:
    schema = ExportForm()
    try:
        values = schema.load(form_data(request.form))
        query = _query(values)
    except (SchemaError, ValidationError) as exc:
        return _page(_filters(dict(request.form.items())), _errors(exc, schema), 400)
    exporting = open_export(get_consent().ledger, query)
    form = values["format"]
    now = dt.datetime.fromtimestamp(get_vault().clock(), dt.UTC)
    name = f"ledger-{exporting.checkpoint.tree_size}-{now:%Y%m%dT%H%M%SZ}.{form}"
    # The request's connections stay borrowed until the last chunk is sent.
    return Response(
        stream_with_context(exporting.chunks(form)),
        mimetype="text/csv" if form == "csv" else "application/json",
        headers={"Content-Disposition": f'attachment; filename="{name}"',
                 "Cache-Control": "no-store"})
