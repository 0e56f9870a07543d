"""The member's data subject requests: filing one (GDPR or CCPA), what the vault did at once,
each brand's state, and the restrictions the member may lift.

What the vault fulfils itself is done in the same POST: an access, portability or know request
offers the export (the Download button on this page, the same as the dashboard's) and is
recorded done for the vault's part; restriction, objection and the limit on sensitive data are
restrictions the decision point consults from the next brand read on; an opt-out of sale and
sharing goes into the member's standing terms; a rectification or correction is the member's
own edit on the Profile page (the brands are told by the forwarded CorrectionRequest). An
erasure or deletion is forwarded to the brands first, while the member's keys still exist, and
the member then confirms the erasure of their vault on the Delete page (web/member.py marks the
vault's part done as it erases). Every route requires a signed-in member and acts on their own
requests only.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)

from brand_gateway.dsr import calendar_of, dsr_service
from brand_gateway.oauth import issuer
from compliance.requests import KINDS, MAX_TEXT, Kind, Regime, RequestService
from vault.errors import NotFoundError, ValidationError

from .forms import FormSchema, choice, member_words, text, ticks
from .member import require_member
from .vaults import get_consent, get_vault

bp = Blueprint("requests", __name__, url_prefix="/member")
bp.before_request(require_member)

_EXPORT_KINDS = frozenset({Kind.ACCESS, Kind.PORTABILITY, Kind.KNOW})
_ERASURE_KINDS = frozenset({Kind.ERASURE, Kind.DELETE})
_CORRECTION_KINDS = frozenset({Kind.RECTIFICATION, Kind.CORRECT})
_FIELDS = {"csrf_token", "kind", "text", "brands"}
TASK_WORDS = {"pending": "Received, not started", "in_progress": "In progress",
              "completed": "Done", "cancelled": "Cancelled", "denied": "Refused"}


class RequestForm(FormSchema):
    """The request form's fields as the page labels them: the service checks the values, this
    only puts each field's label in front of its messages (:func:`web.forms.member_words`), so
    "Use at most 2000 characters." says which field, as every other form's errors do."""

    kind = choice("What you ask for")
    text = text("Anything to add", max_length=MAX_TEXT)
    brands = ticks("Which brands are told", most=100)


def request_service() -> RequestService:
    """The request service of this request's stores; brands' callbacks on this server."""
    config = current_app.config
    return dsr_service(get_consent(), callback_base=issuer(), calendar=calendar_of(config),
                       zone=config["VRMVAULT_DEADLINE_TIMEZONE"])


def _brand_names() -> dict[str, str]:
    return {b.id: b.name for b in get_vault().brands.all()}


def _page(*, values: dict[str, Any], errors: dict[str, list[str]], status: int = 200
          ) -> tuple[str, int]:
    service = request_service()
    groups = [(regime, [(kind, spec) for kind, spec in KINDS.items() if spec.regime is regime])
              for regime in Regime]
    return render_template(
        "requests.html", requests=service.for_member(g.member_id),
        restrictions=service.restrictions(g.member_id), holders=service.holders(g.member_id),
        names=_brand_names(), groups=groups, kinds=KINDS, values=values, errors=errors,
        task_words=TASK_WORDS, today=service.today()), status


@bp.get("/requests")
def overview() -> tuple[str, int]:
    return _page(values={}, errors={})


@bp.post("/requests")
def file() -> Response | tuple[str, int]:
    form = request.form
    values = {"kind": form.get("kind", ""), "text": form.get("text", ""),
              "brands": form.getlist("brands")}
    service = request_service()
    try:
        if set(form) - _FIELDS or any(len(form.getlist(k)) > 1 for k in ("kind", "text")):
            raise ValidationError({"form": ["The form held fields it does not have."]})
        held = get_vault().members.deletion_problem(g.member_id)
        if held is not None and values["kind"] in _ERASURE_KINDS:
            # Not forwarded to the brands: the vault's part, the account's deletion, would wait
            # until the role is revoked, and the request would go overdue meanwhile.
            raise ValidationError({"kind": [held]})
        # The brands ticked (the page ticks every one that holds or read the member's data).
        filed = service.file(g.member_id, kind=values["kind"], text=values["text"] or None,
                             brands=values["brands"])
    except ValidationError as exc:
        return _page(values=values, errors=member_words(RequestForm(), exc.errors), status=422)
    kind, told = filed.kind, len(filed.tasks)
    brands_told = f"{told} brand{'s' if told != 1 else ''}" if told else "no brand (none holds" \
        " your data)"
    if kind in _ERASURE_KINDS:
        flash(f"Your request is sent to {brands_told}. Now confirm below to erase your vault:"
              " that completes the vault's part.", "success")
        return redirect(url_for("member.delete_account"), 303)
    if kind in _EXPORT_KINDS:
        service.fulfilled(filed.id, "export")
        flash(f"Your request is recorded and sent to {brands_told}. Your vault's part is ready:"
              " download your data with the button on this page.", "success")
    elif kind in _CORRECTION_KINDS:
        service.fulfilled(filed.id, "profile")
        flash(f"Your request is sent to {brands_told}. Correct your data on your Profile page;"
              " the brands are told to correct their copies.", "success")
    else:
        service.fulfil(g.member_id, filed)
        flash(f"Done: {KINDS[kind].explanation} Your request is also sent to {brands_told}.",
              "success")
    return redirect(url_for("requests.overview"), 303)


@bp.post("/requests/restrictions/<restriction_id>/lift")
def lift(restriction_id: str) -> Response:
    if not (restriction_id.isascii() and restriction_id.isdigit()) or len(restriction_id) > 18:
        raise NotFoundError("There is no such restriction holding.")
    request_service().lift(g.member_id, int(restriction_id))
    flash("The restriction is lifted: brands may use what your grants allow again.", "success")
    return redirect(url_for("requests.overview"), 303)


def fulfil_erasure_requests(member_id: str) -> None:
    """The vault's part of the member's open erasure and deletion requests: done, as the member
    confirms the erasure (web/member.py, just before the key is destroyed)."""
    service = request_service()
    for filed in service.for_member(member_id):
        if filed.kind in _ERASURE_KINDS and filed.row.fulfilled_at is None \
                and filed.row.state != "closed":
            service.fulfilled(filed.id, "erasure")
