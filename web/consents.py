"""The member's consent pages: personal terms, grants (narrow, withdraw), agreements, receipts.

Like every member page: signed-in members only (default deny), and only their own records.
The Sharing page shows each grant in its one state (``consent.model.GrantState``), in words:
active; the consent standing but the brand's access ended, and why; withdrawn; given up by the
brand; replaced by a newer answer to the same brand and purpose; expired.
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
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)

from brand_gateway.authorizations import FAMILY_LIFETIME
from brand_gateway.clients import ClientSecretHasher
from brand_gateway.storage import client_registry
from community.care import CaseState
from community.storage import membership_service
from consent.grants import StoredReceipt
from consent.model import AccessEnd, AgreementStatus, GrantState, GrantStatus, TermsReceipt
from consent.receipt_position import receipt_entry as ledger_entry_of
from consent.vocabulary import (
    AGREEMENTS,
    FIELD_CATEGORY,
    PURPOSE_BY_CODE,
    PURPOSES,
    SENSITIVE_FIELDS,
    expand,
    field_label,
)
from vault.errors import ConflictError, NotFoundError, ValidationError

from .forms import NarrowForm, TermsForm, form_data, load, member_words
from .loop import case_scopes, member_care
from .member import require_member
from .vaults import get_consent, get_vault

bp = Blueprint("consents", __name__, url_prefix="/member")
bp.before_request(require_member)


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


#: Why a brand's access ended, in the member's words (completes "... because ...").
ACCESS_END_WORDS = {
    AccessEnd.CODE_REPLAY: "a one-time sign-in code it was given was used twice, which can "
                           "mean someone else tried to use it",
    AccessEnd.REFRESH_REPLAY: "a key it holds to stay connected was used twice, which can mean "
                              "someone else copied it",
    AccessEnd.CLIENT_DISABLED: "the vault's operator switched off its connection",
    AccessEnd.EXPIRED: f"its connection reached the {FAMILY_LIFETIME // 86_400}-day limit after "
                       "which a brand must ask again",
    AccessEnd.REVOKED_BY_BRAND: "it gave up its access itself",
}
#: What each receipt records, in the member's words.
RECEIPT_WORDS = {"given": "Given", "narrowed": "Narrowed", "withdrawn": "Withdrawn by you",
                 "expired": "Expired", "access-ended": "Brand's access ended",
                 "released": "Given up by the brand", "replaced": "Replaced by a newer grant"}
#: Where an agreement on terms stands, in the member's words (the sentence after it says more).
AGREEMENT_WORDS = {AgreementStatus.PROFFERED: "offer sent", AgreementStatus.COUNTERED:
                   "counter-offer", AgreementStatus.AGREED: "agreed",
                   AgreementStatus.REJECTED: "not agreed",
                   AgreementStatus.WITHDRAWN: "offer taken back"}
#: Grants in force first, then the ended ones, newest first within each.
_CURRENT = (GrantState.LIVE, GrantState.ACCESS_ENDED, GrantState.NOT_STARTED)


@bp.get("/consents")
def overview() -> str:
    return _overview()


def _overview(errors: dict[str, list[str]] | None = None) -> str:
    """The Sharing page; ``errors`` by field name, shown next to the field (the offer's)."""
    consent = get_consent()
    now = get_vault().clock()
    grants = sorted(consent.grants.for_member(g.member_id), key=lambda grant: (
        grant.state(now) not in _CURRENT, -grant.created_at, grant.id))
    brands = {b.id: b.name for b in get_vault().brands.all()}
    agreements = consent.agreements.for_member(g.member_id)
    # An agreement with a brand stands until a later one with the same brand replaces it.
    standing: set[str] = set()
    for brand_id in {a.brand_id for a in agreements if a.status is AgreementStatus.AGREED}:
        record = consent.agreements.in_force(g.member_id, brand_id)
        if record is not None:
            standing.add(record.id)
    return render_template(
        "consents.html", grants=grants, now=now, brands=brands, GrantState=GrantState,
        access_end_words=ACCESS_END_WORDS, receipt_words=RECEIPT_WORDS,
        agreement_words=AGREEMENT_WORDS,
        agreements=agreements, standing=standing,
        receipts=consent.grants.receipts(g.member_id)[:50], purposes=PURPOSE_BY_CODE,
        # What each receipt was for: one brand's receipts of a minute read alike without it.
        receipt_purposes={grant.id: PURPOSE_BY_CODE[grant.purpose].label for grant in grants},
        brand_terms=consent.terms.brand_terms(g.member_id),
        terms_receipts=consent.terms.receipts(g.member_id)[:50],
        answering=sorted(_offerable_brands().items(), key=lambda item: item[1]),
        errors=errors or {},
        standing_term=consent.terms.get(g.member_id).agreement,
        field_label=field_label, expand=expand, GrantStatus=GrantStatus,
        AgreementStatus=AgreementStatus,
        held_by=membership_service(consent).grant_communities(g.member_id),
        case_scopes=case_scopes(g.member_id),
    )


@bp.post("/consents/<grant_id>/withdraw")
def withdraw(grant_id: str) -> Response:
    care = member_care()
    case = care.case_of_grant(g.member_id, grant_id)
    try:
        if case is not None and case.state is not CaseState.CLOSED:
            # The case's grant: withdrawing it is closing the case, recorded as such
            # (care:case:closed), so the care page and the brand's view say who closed it.
            care.close_by_member(g.member_id, case.id)
        else:
            get_consent().grants.withdraw(g.member_id, grant_id)
    except ValidationError:
        flash("That grant had already ended.", "error")
        return redirect(url_for("consents.overview"))
    flash("Withdrawn. The brand can no longer see this data; your receipt is below.", "success")
    return redirect(url_for("consents.overview"))


@bp.route("/consents/<grant_id>/narrow", methods=["GET", "POST"])
def narrow(grant_id: str) -> str | Response | tuple[str, int]:
    consent = get_consent()
    grant = consent.grants.get(g.member_id, grant_id)
    if grant.state(get_vault().clock()) not in _CURRENT:
        # Withdrawn, given up, replaced or expired: no form that could only be refused.
        flash("That grant has ended, so there is nothing left to narrow. Below is how it"
              " ended.", "error")
        return redirect(url_for("consents.overview"))
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
    """A signed receipt: of a grant, or of terms accepted for one brand."""
    consent = get_consent()
    kind = "consent-receipt"
    try:
        stored: StoredReceipt | TermsReceipt = consent.grants.receipt(g.member_id, receipt_id)
    except NotFoundError:
        stored, kind = consent.terms.receipt(g.member_id, receipt_id), "terms-receipt"
    return Response(stored.token, mimetype="application/jwt", headers={
        "Content-Disposition": f'attachment; filename="{kind}-{stored.id}.jwt"'})


@bp.get("/receipts/<receipt_id>/entry")
def receipt_entry(receipt_id: str) -> Response:
    """A consent receipt with its ledger entry (consent/receipt_position.py), as JSON: what,
    with the public files under /log/, proves the receipt is in the log."""
    consent = get_consent()
    stored = consent.grants.receipt(g.member_id, receipt_id)
    document = {"receipt": stored.token, "ledger": ledger_entry_of(consent.ledger, stored.token),
                "log": current_app.config["VRMVAULT_PUBLIC_URL"] + "/log/"}
    response = current_app.json.response(document)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="consent-receipt-{stored.id}-entry.json"')
    return response


@bp.post("/terms/brands/<brand_id>/remove")
def remove_brand_terms(brand_id: str) -> Response:
    """Take back what the member accepted for one brand only (its receipt is below)."""
    get_consent().terms.remove_for_brand(g.member_id, brand_id)
    flash("Taken back: this brand's requests are measured against your terms again, from its "
          "next request on.", "success")
    return redirect(url_for("consents.overview"))


@bp.get("/agreements/<agreement_id>")
def agreement(agreement_id: str) -> Response:
    """The signed agreement record: the vault's JWS over the canonical record and its SHA-256,
    byte for byte what the brand gets from ``GET /api/v1/agreements/<id>``."""
    try:
        record = get_consent().agreements.get(agreement_id)
    except NotFoundError:
        record = None
    # Another member's agreement is as unknown as one that does not exist.
    if record is None or record.member_id != g.member_id or record.signature is None:
        raise NotFoundError("There is no such agreement among yours.")
    return Response(record.signature, mimetype="application/jwt", headers={
        "Content-Disposition": f'attachment; filename="agreement-{record.id}.jwt"',
        "Digest-SHA256": record.record_hash or "",
    })


@bp.post("/agreements")
def offer_terms() -> Response | tuple[str, int]:
    """The member offers their standing IEEE 7012 term to a brand, which answers through the
    brand API (accept, a counter-offer, reject). A refusal is said next to the list."""
    brand_id = request.form.get("brand_id", "")
    answering = _answering_brands()
    brands = _offerable_brands(answering)
    if brand_id not in brands:
        name = answering.get(brand_id)
        if name is None:
            return _overview({"brand_id": ["Choose one of the brands on the list."]}), 422
        why = _why_not_offered(brand_id, name) or "Choose one of the brands on the list."
        return _overview({"brand_id": [why]}), 409
    try:
        get_consent().agreements.proffer(g.member_id, brand_id)
    except ConflictError as exc:        # the other tab offered, or the brand agreed, meanwhile
        return _overview({"brand_id": [exc.message]}), 409
    flash(f"Your terms are offered to {brands[brand_id]}. Their answer will show here.",
          "success")
    return redirect(url_for("consents.overview") + "#agreements")


def _answering_brands() -> dict[str, str]:
    """The brands that can answer an offer: those with an active OAuth client (the brand API
    is where they answer), by id, with their names."""
    vault = get_vault()
    registry = client_registry(database=vault.data, clock=vault.clock,
                               hasher=ClientSecretHasher.from_master(vault.master))
    return {c.brand_id: c.brand_name for c in registry.list() if c.active}


def _offerable_brands(answering: dict[str, str] | None = None) -> dict[str, str]:
    """The answering brands the member's standing term may be offered to: not one with an
    offer waiting for an answer, nor one that agreed that very term already (the page would
    list "offer sent" above the agreement it repeats)."""
    answering = _answering_brands() if answering is None else answering
    return {brand_id: name for brand_id, name in answering.items()
            if _why_not_offered(brand_id, name) is None}


def _why_not_offered(brand_id: str, name: str) -> str | None:
    agreements = get_consent().agreements
    if agreements.open_offer(g.member_id, brand_id) is not None:
        return f"An offer to {name} is waiting for their answer already (listed above)."
    agreed = agreements.in_force(g.member_id, brand_id)
    if agreed is not None and agreed.agreed == get_consent().terms.get(g.member_id).agreement:
        return f"{name} has agreed your terms with you already (listed above)."
    return None


@bp.post("/agreements/<agreement_id>/withdraw")
def withdraw_offer(agreement_id: str) -> Response:
    """The member takes back an offer the brand has not answered yet."""
    consent = get_consent()
    try:
        record = consent.agreements.member_withdraws(agreement_id, g.member_id)
    except ConflictError:
        # Withdrawn already (a second click), or answered by the brand meanwhile.
        status = consent.agreements.get(agreement_id).status
        flash("This offer is withdrawn already." if status is AgreementStatus.WITHDRAWN else
              "The brand answered your offer before it could be withdrawn: its answer is "
              "below.", "error")
        return redirect(url_for("consents.overview") + "#agreements")
    brand = get_vault().brands.get(record.brand_id)
    flash(f"Your offer to {brand.name} is withdrawn: they can no longer accept it.", "success")
    return redirect(url_for("consents.overview") + "#agreements")


@bp.post("/agreements/<agreement_id>/<choice>")
def decide_counter_offer(agreement_id: str, choice: str) -> Response:
    if choice not in ("accept", "reject"):
        abort(404)
    record = get_consent().agreements.member_decides(agreement_id, g.member_id,
                                                     accept=choice == "accept")
    flash("Agreed: the signed record is below, and the brand holds the same."
          if record.status is AgreementStatus.AGREED else "Your answer is recorded.",
          "success")
    return redirect(url_for("consents.overview"))


def _day(seconds: int) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).date().isoformat()
