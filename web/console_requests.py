"""The officers' queue of data subject requests: ``/console/requests`` lists the open ones by
time left (overdue first, ``compliance.deadlines.urgency`` for the colour: green, amber under
10 days, red under 5, overdue), with charts of requests by state and time to close;
``/console/requests/<id>`` shows one request's history and each brand's task, and takes the
extension with its reasoned notice (mailed to the member) within the first period.

Behind the console's gate (``web/console.py`` ``require_officer``). Pseudonyms only: a member
is their ledger principal; an address appears only for the principal the signed-in officer
revealed for that request's case (its id), through the reveal form on the request's page (``POST
/console/requests/<id>/reveal``: a refused reason is shown there, next to the field, as typed).
What the member wrote is sealed under their key and never shown here.
"""

from __future__ import annotations

import statistics
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from brand_gateway.oauth import public_url
from compliance.deadlines import days_left
from compliance.requests import KINDS, MAX_REASON, RequestService
from compliance.reveals import MIN_REASON
from compliance.storage import reveal_service
from vault.errors import (
    ConflictError,
    MailError,
    MemberKeyMissingError,
    NotFoundError,
    ValidationError,
)

from .charts import Bar, bars
from .console import RevealForm, page_query, require_officer
from .forms import FormSchema, form_data, load, member_words, text
from .mailing import send_mail
from .requests import TASK_WORDS, request_service
from .sessions import current_member_id
from .vaults import get_consent, get_vault

bp = Blueprint("console_requests", __name__, url_prefix="/console")
bp.before_request(require_officer)

#: The reveal form's field on a request's page: the page's other reason is the extension's.
REVEAL_REASON = "reveal-reason"


class ExtendForm(FormSchema):
    """The extension's field as the page labels it, for its errors' words (the service checks
    the reason)."""

    # Line breaks arrive as CR LF and count as one (vault.catalog.clean_text).
    reason = text("Why the request needs more time", max_length=2 * MAX_REASON,
                  shown_max=MAX_REASON)


PER_PAGE = 50
MAX_PAGE = 10_000
DAY = 86_400


def _charts(service: RequestService) -> dict[str, Any]:
    by_state = service.counts_by_state()
    words = {"received": "Received", "in_progress": "In progress", "closed": "Closed"}
    highest = max([1, *by_state.values()])
    state_chart = bars(
        "by-state", "Requests by state",
        "; ".join(f"{words[s]}: {n}" for s, n in by_state.items()),
        [Bar(words[s], n, str(n)) for s, n in by_state.items()], lowest=0, highest=highest)
    durations: dict[str, list[float]] = {}
    for regime, seconds in service.closed_durations():
        durations.setdefault(regime, []).append(seconds / DAY)
    close_rows = [(regime.upper(), len(days), statistics.median(days), max(days))
                  for regime, days in sorted(durations.items())]
    close_chart = bars(
        "time-to-close", "Median days to close, per law",
        "; ".join(f"{r}: median {m:.1f} days over {n} requests, longest {x:.1f}"
                  for r, n, m, x in close_rows) or "No request has closed yet.",
        [Bar(r, m, f"{m:.1f} days ({n})") for r, n, m, _ in close_rows],
        lowest=0, highest=max([1.0, *(x for *_, x in close_rows)])) if close_rows else None
    return {"by_state": by_state, "state_words": words, "state_chart": state_chart,
            "close_rows": close_rows, "close_chart": close_chart}


@bp.get("/requests")
def queue() -> str:
    query, page = page_query(("page", "overdue"), most=MAX_PAGE)
    if query.get("overdue", "1") != "1":
        abort(400, description="This filter is not valid: overdue must be 1 (or left out for"
                               " every open request).")
    overdue = "overdue" in query
    service = request_service()
    requests = service.queue(limit=PER_PAGE, offset=(page - 1) * PER_PAGE,
                             overdue_only=overdue)
    total = service.count_open(overdue_only=overdue)
    today = service.today()
    return render_template(
        "console_requests.html", requests=requests, total=total, page=page,
        pages=max(1, -(-total // PER_PAGE)), overdue=overdue, today=today, kinds=KINDS,
        days_left=days_left, **_charts(service))


def _detail(request_id: str, *, errors: dict[str, list[str]] | None = None,
            values: dict[str, str] | None = None, status: int = 200) -> tuple[str, int]:
    service = request_service()
    try:
        found = service.officer_view(request_id[:64])
    except NotFoundError:
        abort(404, description="There is no such request.")
    revealed = reveal_service(get_consent()).revealed(officer_id=current_member_id() or "",
                                                      case=found.id)
    return render_template(
        "console_request.html", found=found, today=service.today(),
        email=revealed.get(found.row.principal), names={b.id: b.name for b in
                                                        get_vault().brands.all()},
        task_words=TASK_WORDS, extension_problem=service.extension_problem(found),
        errors=errors or {}, values=values or {}, days_left=days_left,
        min_reason=MIN_REASON, reveal_reason=REVEAL_REASON), status


@bp.get("/requests/<dsr_id>")
def detail(dsr_id: str) -> tuple[str, int]:
    return _detail(dsr_id)


@bp.post("/requests/<dsr_id>/extend")
def extend(dsr_id: str) -> Response | tuple[str, int]:
    reason, problems = _submitted_reason()
    if problems:
        return _detail(dsr_id, errors=member_words(ExtendForm(), problems),
                       values={"reason": reason}, status=422)
    service = request_service()
    try:
        found = service.extend(dsr_id[:64], officer_id=current_member_id() or "",
                               reason=reason)
    except NotFoundError:
        abort(404, description="There is no such request.")
    except ValidationError as exc:
        return _detail(dsr_id, errors=member_words(ExtendForm(), exc.errors),
                       values={"reason": reason}, status=422)
    except ConflictError as exc:
        return _detail(dsr_id, errors={"form": [exc.message]}, status=409)
    told = _notify_extension(found.row.member_id, kind=found.spec.label,
                             due=found.row.due_on, reason=found.row.extension_reason or "")
    flash(f"Extended to {found.row.due_on}; " + (
        "the member is told why by mail." if told else
        "the notice could not be mailed: tell the member another way, with the reason."
        if found.row.member_id is not None else
        "the member's account was erased, so there is no address to tell them at."),
        "success" if told else "error")
    return redirect(url_for(".detail", dsr_id=found.id), 303)


@bp.post("/requests/<dsr_id>/reveal")
def reveal(dsr_id: str) -> Response | tuple[str, int]:
    """The member's address revealed for this request, with the officer's reason: the case and
    the member are this request's, never the form's. A refused reason comes back on this page,
    next to its field and as typed, not on the console's general reveal form."""
    reason, problems = _submitted_reason()
    try:
        found = request_service().officer_view(dsr_id[:64])
    except NotFoundError:
        abort(404, description="There is no such request.")
    try:
        if problems:
            raise ValidationError(problems)
        fields = load(RevealForm(), {"case": found.id, "principal": found.row.principal,
                                     "reason": reason or None})
        reveal_service(get_consent()).reveal(
            officer_id=current_member_id() or "", case=found.id,
            principal=fields["principal"], reason=fields["reason"])
    except (ValidationError, NotFoundError) as exc:
        errors = exc.errors if isinstance(exc, ValidationError) else {"form": [exc.message]}
        worded = member_words(RevealForm(), errors)
        shown = {REVEAL_REASON if key == "reason" else key: messages
                 for key, messages in worded.items()}
        return _detail(dsr_id, errors=shown, values={REVEAL_REASON: reason},
                       status=422 if isinstance(exc, ValidationError) else 404)
    flash(f"Revealed for {found.id}: the address is shown on this page and under your"
          " reveals, and the reveal is in the ledger.", "success")
    return redirect(url_for(".detail", dsr_id=found.id), 303)


def _submitted_reason() -> tuple[str, dict[str, list[str]] | None]:
    """The reason the form sent, and the form's problems if it has any: a field it does not
    have, or the reason sent twice (refused, as ``form_data`` refuses every repeated field,
    rather than cut to its first value)."""
    try:
        submitted = form_data(request.form)
    except ValidationError as exc:
        return request.form.get("reason", ""), exc.errors
    reason = str(submitted.get("reason", ""))
    if set(submitted) - {"reason"}:
        return reason, {"form": ["The form held fields it does not have."]}
    return reason, None


def _notify_extension(member_id: str | None, *, kind: str, due: str, reason: str) -> bool:
    """The reasoned notice (GDPR Art. 12(3), CCPA regs sec. 7021(b)), mailed to the member;
    whether it was handed over (an erased member has no address left to write to)."""
    if member_id is None:
        return False
    try:
        send_mail(to=get_vault().members.get(member_id).email,
                  subject="Your request will take longer: why", template="dsr_extended",
                  kind=kind, due=due, reason=reason,
                  link=public_url(url_for("requests.overview")))
    except (MailError, NotFoundError, MemberKeyMissingError):
        # A key lost in a restore leaves no address to read: the extension stands all the same.
        return False
    return True

