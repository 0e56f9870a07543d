"""The member's consent pages: personal terms, grants (narrow, withdraw), agreements, receipts.

Like every member page: signed-in members only (default deny), and only their own records.
Global Privacy Control is read here too: a signed-in member's request carrying ``Sec-GPC: 1``
is saved as an opt-out of sale and sharing in their terms.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)

from consent.model import AgreementStatus, GrantStatus
from consent.vocabulary import (
    AGREEMENTS,
    FIELD_CATEGORY,
    PURPOSE_BY_CODE,
    PURPOSES,
    SENSITIVE_FIELDS,
    expand,
)
from vault.catalog import BY_KEY
from vault.errors import NotFoundError, ValidationError

from .forms import NarrowForm, TermsForm, form_data, load, member_words
from .member import require_member
from .vaults import get_consent, get_vault

bp = Blueprint("consents", __name__, url_prefix="/member")
bp.before_request(require_member)


def field_label(field: str) -> str:
    spec = BY_KEY.get(field)
    return spec.label if spec else "Feedback journal"


@bp.route("/terms", methods=["GET", "POST"])
def terms() -> str | Response | tuple[str, int]:
    consent = get_consent()
    current = consent.terms.get(g.member_id)
    if request.method == "GET":
        return render_template("terms.html", terms=current, agreements=AGREEMENTS,
                               purposes=PURPOSES, errors={}, values=None)
    submitted = request.form.to_dict()
    try:
        fields = load(TermsForm(), form_data(request.form, multi=frozenset({"purposes"})),
                      check=lambda values: consent.terms.check(
                          agreement=values.get("agreement"),
                          purposes=values.get("purposes") or [],
                          max_days=values.get("max_days")))
        consent.terms.update(
            g.member_id, agreement=fields["agreement"], purposes=fields.get("purposes") or [],
            max_days=fields["max_days"], aggregate_allowed=fields.get("aggregate_allowed") == "on",
            sale_sharing_opt_out=fields.get("sale_sharing_opt_out") == "on")
    except ValidationError as exc:
        return render_template("terms.html", terms=current, agreements=AGREEMENTS,
                               purposes=PURPOSES, errors=member_words(TermsForm(), exc.errors),
                               values=submitted), 422
    flash("Your terms are saved. Brands' requests are measured against them.", "success")
    return redirect(url_for("consents.terms"))


@bp.get("/consents")
def overview() -> str:
    consent = get_consent()
    now = get_vault().clock()
    grants = consent.grants.for_member(g.member_id)
    brands = {b.id: b.name for b in get_vault().brands.all()}
    return render_template(
        "consents.html", grants=grants, now=now, brands=brands,
        agreements=consent.agreements.for_member(g.member_id),
        receipts=consent.grants.receipts(g.member_id)[:50], purposes=PURPOSE_BY_CODE,
        field_label=field_label, expand=expand, GrantStatus=GrantStatus,
        AgreementStatus=AgreementStatus,
    )


@bp.post("/consents/<grant_id>/withdraw")
def withdraw(grant_id: str) -> Response:
    try:
        get_consent().grants.withdraw(g.member_id, grant_id)
    except NotFoundError:
        abort(404)
    except ValidationError:
        flash("That grant had already ended.", "error")
        return redirect(url_for("consents.overview"))
    flash("Withdrawn. The brand can no longer see this data; your receipt is below.", "success")
    return redirect(url_for("consents.overview"))


@bp.route("/consents/<grant_id>/narrow", methods=["GET", "POST"])
def narrow(grant_id: str) -> str | Response | tuple[str, int]:
    consent = get_consent()
    try:
        grant = consent.grants.get(g.member_id, grant_id)
    except NotFoundError:
        abort(404)
    covered = sorted(grant.covered, key=list(FIELD_CATEGORY).index)
    page = {"grant": grant, "covered": covered, "field_label": field_label,
            "brand": get_vault().brands.get(grant.brand_id),
            "purpose": PURPOSE_BY_CODE[grant.purpose], "sensitive": SENSITIVE_FIELDS,
            "ends_on": _day(grant.ends_at)}
    if request.method == "GET":
        return render_template("narrow.html", errors={}, **page)
    def ends_at(values: dict[str, Any]) -> int | None:
        ends = values.get("ends_on")
        # The date box is pre-filled with the current end day: only a different day moves it.
        if ends is None or ends.isoformat() == _day(grant.ends_at):
            return None
        return int(dt.datetime.combine(ends, dt.time(), dt.UTC).timestamp())

    try:
        fields = load(NarrowForm(), form_data(request.form, multi=frozenset({"fields"})),
                      check=lambda values: consent.grants.check_narrowing(
                          g.member_id, grant_id, fields=values.get("selected") or [],
                          ends_at=ends_at(values)))
        consent.grants.narrow(g.member_id, grant_id, fields=fields.get("selected") or [],
                              ends_at=ends_at(fields))
    except ValidationError as exc:
        return render_template("narrow.html", errors=member_words(NarrowForm(), exc.errors),
                               **page), 422
    flash("The grant is narrowed; your new receipt is below.", "success")
    return redirect(url_for("consents.overview"))


@bp.get("/receipts/<receipt_id>")
def receipt(receipt_id: str) -> Response:
    try:
        stored = get_consent().grants.receipt(g.member_id, receipt_id)
    except NotFoundError:
        abort(404)
    return Response(stored.token, mimetype="application/jwt", headers={
        "Content-Disposition": f'attachment; filename="consent-receipt-{stored.id}.jwt"'})


@bp.get("/agreements/<agreement_id>")
def agreement(agreement_id: str) -> Response:
    consent = get_consent()
    try:
        record = consent.agreements.get(agreement_id)
    except NotFoundError:
        abort(404)
    if record.member_id != g.member_id or record.record is None:
        abort(404)
    return Response(record.record, mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="agreement-{record.id}.json"',
        "Digest-SHA256": record.record_hash or "",
    })


@bp.post("/agreements/<agreement_id>/<choice>")
def decide_counter_offer(agreement_id: str, choice: str) -> Response:
    if choice not in ("accept", "reject"):
        abort(404)
    try:
        get_consent().agreements.member_decides(agreement_id, g.member_id,
                                                accept=choice == "accept")
    except NotFoundError:
        abort(404)
    flash("Your answer is recorded.", "success")
    return redirect(url_for("consents.overview"))


def _day(seconds: int) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).date().isoformat()
