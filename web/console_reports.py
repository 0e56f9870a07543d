"""The console's reports: records of processing (GDPR Art. 30), a brand's exposure for a breach
(Art. 33) and grant activity over time, each as a page, CSV and JSON.

One route per report; ``?format=csv`` or ``?format=json`` gives the same report as a download
(``Content-Disposition: attachment``, ``Cache-Control: no-store``), no ``format`` the page. The
documents are ``compliance/reports.py``'s, so the page, the files and ``vrmvault report`` agree.

Behind the console's gate (``web/console.py`` ``require_officer``: anonymous -> sign-in, an
account without the role -> 403, an officer without a second factor -> 403). Pseudonyms only:
an exposure report names members by their ledger principal; an e-mail address appears only for
the principals the signed-in officer revealed for that report's case (``exposure:<brand id>``),
through the Reveal form beside each member (``POST /console/reports/exposure/<brand id>/reveal``:
a refused reason comes back on the report's page, next to that member's field, as typed), and
in nothing else. No profile value is ever read here.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Callable, Sequence
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from markupsafe import Markup
from marshmallow import ValidationError as SchemaError
from marshmallow import fields, validate
from werkzeug.wrappers import Response

from compliance.reports import (
    ACTIVITY_COLUMNS,
    EXPOSURE_COLUMNS,
    ROPA_COLUMNS,
    ExposureReport,
    activity_document,
    activity_rows,
    exposure_case,
    exposure_document,
    exposure_rows,
    ropa_document,
    ropa_rows,
    write_csv,
)
from compliance.repositories import ActivityRow, Period
from compliance.reveals import MIN_REASON
from compliance.storage import report_service, reveal_service
from consent.vocabulary import PURPOSE_BY_CODE, field_label
from vault.errors import NotFoundError, ValidationError

from .charts import grouped_bars
from .console import RevealForm, require_officer
from .forms import FormSchema, form_data, load, member_words
from .sessions import current_member_id
from .vaults import get_consent

bp = Blueprint("console_reports", __name__, url_prefix="/console/reports")
bp.before_request(require_officer)

FORMATS = ("csv", "json")
MEMBERS_PER_PAGE = 100
MAX_PAGE = 100_000
_FORMAT_EXPECTED = "must be csv or json (or left out for the page)"
_PERIOD_EXPECTED = "must be month or week"
_PAGE_EXPECTED = f"must be a whole number from 1 to {MAX_PAGE}"


class ReportQuery(FormSchema):
    """The query of every report: its format; for the activity its period, for the exposure
    page which page of members."""

    format = fields.String(allow_none=True, validate=validate.OneOf(
        FORMATS, error=_FORMAT_EXPECTED), error_messages={"invalid": _FORMAT_EXPECTED})
    period = fields.String(allow_none=True, validate=validate.OneOf(
        [p.value for p in Period], error=_PERIOD_EXPECTED),
        error_messages={"invalid": _PERIOD_EXPECTED})
    page = fields.Integer(allow_none=True, strict=False, validate=validate.Range(
        1, MAX_PAGE, error=_PAGE_EXPECTED), error_messages={"invalid": _PAGE_EXPECTED,
                                                             "too_large": _PAGE_EXPECTED})


def _query(*, takes: Sequence[str]) -> dict[str, Any]:
    """The checked query; a 400 page naming each refused parameter."""
    try:
        query = ReportQuery().load(form_data(request.args))
    except ValidationError as exc:            # a parameter given more than once
        abort(400, description=f"This report's query is not valid: {_problems(exc.errors, takes)}.")
    except SchemaError as exc:
        errors = exc.messages if isinstance(exc.messages, dict) else {}
        abort(400, description=f"This report's query is not valid: {_problems(errors, takes)}.")
    for name, value in query.items():
        if value is not None and name not in takes:
            abort(400, description=f"This report's query is not valid: "
                                   f"{_problems({name: []}, takes)}.")
    return query


def _problems(errors: dict[str, Any], takes: Sequence[str]) -> str:
    problems = []
    for name, messages in sorted(errors.items())[:5]:
        name = str(name)[:40]
        if name not in takes:
            problems.append(f"{name} is not a parameter of this report (it takes "
                            f"{' and '.join(takes)})")
        elif "Send this field once." in messages:
            problems.append(f"{name} is given more than once")
        else:
            problems.append(f"{name} {' '.join(messages)}")
    return "; ".join(problems)


def _download(name: str, form: str, document: Callable[[], dict[str, Any]],
              columns: Sequence[str], rows: Callable[[], list[tuple[Any, ...]]]) -> Response:
    """The report as a file: JSON (the document) or CSV (its rows)."""
    if form == "json":
        body, mimetype = json.dumps(document(), indent=2, ensure_ascii=False) + "\n", \
            "application/json"
    else:
        out = io.StringIO()
        write_csv(out, columns, rows())
        body, mimetype = out.getvalue(), "text/csv"
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.{form}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _revealed(case: str) -> dict[str, str]:
    """principal -> e-mail address, for the reveals the signed-in officer made for ``case``
    (``compliance/reveals.py``): none of another officer's, none of another case's."""
    return reveal_service(get_consent()).revealed(officer_id=current_member_id() or "",
                                                  case=case)


@bp.get("/")
def index() -> Response | str:
    query = _query(takes=("format", "period"))
    period = Period(query.get("period") or Period.MONTH.value)
    service = report_service(get_consent())
    rows = service.activity(period)
    now = int(get_consent().vault.clock())
    if query.get("format"):
        return _download(f"grant-activity-{period.value}", query["format"],
                         lambda: activity_document(rows, period, now), ACTIVITY_COLUMNS,
                         lambda: activity_rows(rows))
    return render_template("console_reports.html", period=period, periods=list(Period),
                           rows=rows, chart=_activity_chart(rows, period),
                           chart_periods=CHART_PERIODS,
                           brands=service.brands(), live=service.live_grant_count())


#: Periods the chart draws (the table under it, and the files, hold every one).
CHART_PERIODS = 12
ACTIVITY_SERIES = (("Given", "given"), ("Withdrawn", "withdrawn"), ("Expired", "expired"))


def _activity_chart(rows: Sequence[ActivityRow], period: Period) -> Markup | None:
    """Grants given, withdrawn and expired per period in one chart, on one scale: one withdrawal
    is a sliver beside 672 grants, not a bar as long (each chart scaled to its own maximum did
    that), and an expiry of 0 is still there, written 0."""
    recent = list(rows)[-CHART_PERIODS:]
    if not recent:
        return None
    unit = "month" if period is Period.MONTH else "week from"
    label = (lambda r: r.period[:7]) if period is Period.MONTH else (lambda r: r.period)
    return grouped_bars(
        "grant-activity", f"Grants given, withdrawn and expired per {period.value}",
        "; ".join(f"{unit} {label(r)}: {r.given} given, {r.withdrawn} withdrawn,"
                  f" {r.expired} expired" for r in recent),
        ACTIVITY_SERIES, [(label(r), (r.given, r.withdrawn, r.expired)) for r in recent])


@bp.get("/records-of-processing")
def records_of_processing() -> Response | str:
    query = _query(takes=("format",))
    report = report_service(get_consent()).records_of_processing()
    if query.get("format"):
        return _download("records-of-processing", query["format"],
                         lambda: ropa_document(report), ROPA_COLUMNS, lambda: ropa_rows(report))
    return render_template("console_reports_ropa.html", report=report,
                           field_label=field_label)


@bp.get("/exposure/<brand_id>")
def exposure(brand_id: str) -> Response | str:
    query = _query(takes=("format", "page"))
    case = exposure_case(brand_id)
    report = report_service(get_consent()).exposure(brand_id, revealed=_revealed(case))
    if query.get("format"):
        return _download(f"exposure-{brand_id}", query["format"],
                         lambda: exposure_document(report), EXPOSURE_COLUMNS,
                         lambda: exposure_rows(report))
    return _exposure_page(report, query.get("page") or 1)


def _exposure_page(report: ExposureReport, page: int, *,
                   errors: dict[str, list[str]] | None = None,
                   values: dict[str, str] | None = None) -> str:
    """The figures of the whole report, and one page of its members (the files hold all)."""
    pages = max(1, math.ceil(len(report.members) / MEMBERS_PER_PAGE))
    if page > pages:
        abort(404, description=f"This report has {pages} page{'' if pages == 1 else 's'}"
                               " of members.")
    shown = report.members[(page - 1) * MEMBERS_PER_PAGE:page * MEMBERS_PER_PAGE]
    return render_template("console_reports_exposure.html", report=report, shown=shown,
                           page=page, pages=pages, purposes=PURPOSE_BY_CODE,
                           field_label=field_label, errors=errors or {}, values=values or {},
                           reveal_field=reveal_field, min_reason=MIN_REASON)


def reveal_field(principal: str) -> str:
    """The id of the reason field beside ``principal`` on the page (its errors' key)."""
    return "reveal-" + principal.rpartition(":")[2][:64]


@bp.post("/exposure/<brand_id>/reveal")
def reveal(brand_id: str) -> Response | tuple[str, int]:
    """A member of the report revealed for its case, with the officer's reason; a refused one
    comes back on the report's page (the one the form was on), next to that member's field."""
    form = request.form
    principal, reason = form.get("principal", ""), form.get("reason", "")
    page = form.get("page", "1")
    page_number = int(page) if page.isascii() and page.isdigit() and len(page) < 6 else 1
    case = exposure_case(brand_id)
    try:
        # A field sent twice is refused, not cut to its first value (web/forms.py).
        if set(form_data(form)) - {"principal", "reason", "page"}:
            raise ValidationError({"form": ["The form held fields it does not have."]})
        fields_ = load(RevealForm(), {"case": case, "principal": principal or None,
                                      "reason": reason or None})
        reveal_service(get_consent()).reveal(
            officer_id=current_member_id() or "", case=case, principal=fields_["principal"],
            reason=fields_["reason"])
    except (ValidationError, NotFoundError) as exc:
        errors = exc.errors if isinstance(exc, ValidationError) else {"form": [exc.message]}
        field = reveal_field(principal)
        shown: dict[str, list[str]] = {}
        for key, messages in member_words(RevealForm(), errors).items():
            shown.setdefault(field if key == "reason" else "form", []).extend(messages)
        report = report_service(get_consent()).exposure(brand_id, revealed=_revealed(case))
        return _exposure_page(report, page_number, errors=shown,
                              values={field: reason}), 422
    flash(f"Revealed for {case}: the address is shown on this report and under your reveals,"
          " and the reveal is in the ledger.", "success")
    return redirect(url_for(".exposure", brand_id=brand_id,
                            **({"page": page_number} if page_number > 1 else {})), 303)
