"""The officers' queue of spam reports on intent offers (issue 16: "spam offers can be reported
by the member and land in the compliance console's queue").

``/console/intents/reports`` lists the reports newest first, 50 a page, by state (``open`` by
default, ``dismissed``, ``upheld`` or ``all``): the brand, when it was reported, the member's
reason, what became of the reported offer, and who decided and when. Each open report has a
Dismiss and an Uphold button, one form posting ``outcome`` with the session's CSRF token to
``/console/intents/reports/<report_id>/decide``. Upholding withdraws the brand's open offers
on that intent; either decision is a ledger entry (``intent:report:decided``, the officer by
pseudonym: ``intents/service.py`` ``decide_report``).

Behind the console's gate (``web/console.py`` ``require_officer``). No member is named here:
neither id, pseudonym nor address, and there is no reveal form (a spam report is about a
brand, not a member). The member's reason is shown, unlike what a member writes in a data
subject request (``web/console_requests.py``): it is a complaint the member addresses to this
queue, and the one thing an officer can judge by (the offer's own text is sealed under the
member's key and is not shown). It appears in the page only, escaped, never in a URL, a log or
the ledger, and it is gone once the member is erased (it was sealed under their key).

A report id in a path is checked against its form (``spr_`` and 24 hex digits) before any
lookup: anything else is a 404 page, as is an unknown report; a report decided already is a
409 page naming its outcome; a form without a valid outcome is a 422 page.
"""

from __future__ import annotations

import re

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response

from brand_gateway.intents_wiring import intent_service
from intents.model import ReportStatus, SpamReport
from intents.service import IntentService
from vault.errors import ConflictError, NotFoundError, ValidationError

from .console import local_console_path, officer_name, page_query, require_officer
from .forms import form_data
from .sessions import current_member_id
from .vaults import get_consent

bp = Blueprint("console_intents", __name__, url_prefix="/console/intents")
bp.before_request(require_officer)

PER_PAGE = 50
MAX_PAGE = 10_000
#: The states the queue filters by; ``all`` is every report.
STATES = ("open", "dismissed", "upheld", "all")
OUTCOMES = (ReportStatus.DISMISSED.value, ReportStatus.UPHELD.value)
REPORT_ID = re.compile(r"spr_[0-9a-f]{24}")
NO_REPORT = "There is no such spam report."
_FORM_FIELDS = frozenset({"csrf_token", "outcome", "next"})


def reports_service() -> IntentService:
    """The intent service over the request's stores, with the gateway's observers (an upheld
    report's withdrawals go through the same service as a brand's)."""
    return intent_service(get_consent(), current_app.config)


def _filter() -> tuple[str, int]:
    """``(state, page)`` of the query; a bad one is a 400 page naming the parameter."""
    query, page = page_query(("status", "page"), most=MAX_PAGE)
    state = query.get("status", "open")
    if state not in STATES:
        abort(400, description="This filter is not valid: status must be open, dismissed,"
                               " upheld or all.")
    return state, page


def _officers(reports: list[SpamReport]) -> dict[str, str]:
    """Who decided, by address, as the reveals page names officers; one since erased as such."""
    names: dict[str, str] = {}
    for report in reports:
        officer_id = report.decided_by
        if officer_id is not None and officer_id not in names:
            names[officer_id] = officer_name(officer_id)
    return names


def _queue_page(*, errors: dict[str, list[str]] | None = None, status: int = 200
                ) -> tuple[str, int]:
    state, page = _filter()
    service = reports_service()
    wanted = None if state == "all" else state
    reports = service.spam_reports(status=wanted, limit=PER_PAGE,
                                   offset=(page - 1) * PER_PAGE)
    total = service.count_reports(wanted)
    return render_template(
        "console_intent_reports.html", reports=reports, total=total, state=state,
        states=STATES, page=page, pages=max(1, -(-total // PER_PAGE)),
        officers=_officers(reports), me=current_member_id(), errors=errors or {},
        here=url_for(".queue", status=state, page=page)), status


@bp.get("/reports")
def queue() -> tuple[str, int]:
    return _queue_page()


@bp.post("/reports/<report_id>/decide")
def decide(report_id: str) -> Response | tuple[str, int]:
    if not REPORT_ID.fullmatch(report_id):
        abort(404, description=NO_REPORT)
    # Both buttons' outcomes at once (a field sent twice) is no choice: refused by form_data,
    # never the first one taken.
    try:
        submitted = form_data(request.form)
    except ValidationError:
        submitted = {"outcome": None}
    outcome = submitted.get("outcome", "")
    if set(submitted) - _FORM_FIELDS or outcome not in OUTCOMES:
        return _queue_page(errors={"form": ["Choose Dismiss or Uphold for the report."]},
                           status=422)
    try:
        report = reports_service().decide_report(report_id, current_member_id() or "",
                                                 outcome=outcome)
    except NotFoundError:
        abort(404, description=NO_REPORT)
    except ConflictError as exc:
        return _queue_page(errors={"form": [exc.message]}, status=409)
    if report.status is ReportStatus.UPHELD:
        flash(f"Upheld: {report.brand_name}'s open offers on that intent are withdrawn. The"
              " decision is in the ledger.", "success")
    else:
        flash(f"Dismissed: {report.brand_name}'s offers stand. The decision is in the"
              " ledger.", "success")
    return redirect(local_console_path(request.form.get("next")) or url_for(".queue"), 303)
