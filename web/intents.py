"""The member's intent pages: what they are looking for, cast to the brands of its category, and
the offers that come back.

- ``/member/intents``: the member's intents with their state and offers, a form to cast a new
  one, and the brands they block from seeing any of them;
- ``/member/intents/<id>``: one intent, its offers side by side (sorted as the member
  chooses), pausing, resuming, editing and withdrawing it; on each open offer, accepting it
  (choosing, only then, which of the fields the intent allowed are revealed to that one brand:
  a consent grant with its receipt), declining it, reporting it as spam (to the compliance
  console's queue) and keeping its signed record (the compact JWS the vault signed on receipt,
  verifiable with ``/.well-known/jwks.json`` alone).

Signed-in members only (default deny, in ``before_request``), each action checked against the
member's own intents and offers by the service (intents/service.py): someone else's id is a
404 like a missing one. Ids in URLs are the vault's random ones, never anything personal; the
offers' sort is the only query parameter. Every decision goes through the gateway's service
(brand_gateway/intents_wiring.py), so a brand hears of it by webhook as it would of an API call.
"""

from __future__ import annotations

import datetime as dt
import re
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

from brand_gateway.intents_wiring import intent_service
from consent.vocabulary import field_label
from intents.catalog import CATEGORIES, CATEGORY_BY_ID, CURRENCIES, MAX_CITY, format_amount
from intents.drafts import MAX_DESCRIPTION, MAX_OPEN_DAYS, REVEALABLE, check_draft
from intents.model import LIVE, Intent, IntentDraft, Offer, OfferStatus
from intents.service import (
    MAX_REASON,
    OFFER_NOT_OPEN,
    OFFER_SORTS,
    REPORTED_ALREADY,
    IntentService,
)
from vault.errors import ConflictError, NotFoundError, ValidationError

from .forms import FormSchema, form_data, load, member_words, text, ticks, whole_number
from .member import require_member
from .vaults import get_consent, get_vault

bp = Blueprint("intents", __name__, url_prefix="/member/intents")
bp.before_request(require_member)

_INTENT_ID = re.compile(r"int_[0-9a-f]{24}")
_OFFER_ID = re.compile(r"off_[0-9a-f]{24}")
_NO_INTENT = "You have no intent by that name."
_NO_OFFER = "You have no offer by that name."
#: The sorts of the offers, as the page names them (the service's keys).
SORTS = (("price", "Lowest price first"), ("-price", "Highest price first"),
         ("newest", "Newest first"), ("valid_until", "Open longest first"))
assert {key for key, _ in SORTS} == set(OFFER_SORTS)
#: Days a reveal lasts unless the member chooses otherwise.
REVEAL_DAYS = 30
_MULTI = frozenset({"reveal_fields", "fields"})


class IntentForm(FormSchema):
    """The shape of an intent as typed; the domain (intents/drafts.py) judges the rest."""

    category = text("Category", max_length=64, empty="Choose what you are looking for.")
    description = text("What you are looking for", max_length=4 * MAX_DESCRIPTION,
                       shown_max=MAX_DESCRIPTION, empty="Say what you are looking for.")
    budget_min = text("Lowest budget", max_length=40, empty="Enter an amount, such as 500.")
    budget_max = text("Highest budget", max_length=40, empty="Enter an amount, such as 900.")
    currency = text("Currency", max_length=8, empty="Choose a currency.")
    window_from = text("Wanted from", max_length=20, empty="Enter a date.")
    window_until = text("Wanted by", max_length=20, empty="Enter a date.")
    country = text("Country", max_length=8, load_default=None)
    region = text("Region", max_length=16, load_default=None)
    city = text("City", max_length=4 * MAX_CITY, shown_max=MAX_CITY, load_default=None)
    reveal_fields = ticks("Fields you would reveal", most=len(REVEALABLE), load_default=[])
    expires_on = text("Open until", max_length=20, load_default=None)


class AcceptForm(FormSchema):
    fields = ticks("Fields to reveal", most=len(REVEALABLE), load_default=[])
    days = whole_number("For how many days", 1, 365, unit="days", load_default=REVEAL_DAYS)


class ReportForm(FormSchema):
    reason = text("What is wrong with it", max_length=4 * MAX_REASON, shown_max=MAX_REASON,
                  load_default=None)


class BlockForm(FormSchema):
    brand = text("Brand", max_length=64, empty="Choose a brand.")


def _service() -> IntentService:
    return intent_service(get_consent(), current_app.config)


def _intent_id(intent_id: str) -> str:
    if not _INTENT_ID.fullmatch(intent_id):
        raise NotFoundError(_NO_INTENT)
    return intent_id


def _offer_id(offer_id: str) -> str:
    if not _OFFER_ID.fullmatch(offer_id):
        raise NotFoundError(_NO_OFFER)
    return offer_id


def _draft(values: dict[str, Any]) -> IntentDraft:
    return IntentDraft(
        category=values.get("category") or "", description=values.get("description") or "",
        budget_min=values.get("budget_min") or "", budget_max=values.get("budget_max") or "",
        currency=(values.get("currency") or "").upper(),
        window_from=values.get("window_from") or "",
        window_until=values.get("window_until") or "",
        country=values.get("country"), region=values.get("region"), city=values.get("city"),
        reveal_fields=tuple(values.get("reveal_fields") or ()),
        expires_on=values.get("expires_on"))


def _submitted_draft() -> IntentDraft:
    """The submitted form as a draft: its shape checked here, everything else by the
    domain, every problem of both at once in member words."""
    service = _service()
    loaded = load(IntentForm(), form_data(request.form, multi=_MULTI), check=lambda v: (
        check_draft(_draft(v), today=service.today())))
    return _draft(loaded)


def _form_context(values: dict[str, Any]) -> dict[str, Any]:
    return {"categories": CATEGORIES, "currencies": sorted(CURRENCIES),
            "revealable": [(key, field_label(key)) for key in REVEALABLE],
            "values": values, "max_description": MAX_DESCRIPTION,
            "max_open_days": MAX_OPEN_DAYS}


def _values_of(intent: Intent) -> dict[str, Any]:
    """An intent as its edit form shows it."""
    return {"category": intent.category, "description": intent.description,
            "budget_min": format_amount(intent.budget_min, intent.currency),
            "budget_max": format_amount(intent.budget_max, intent.currency),
            "currency": intent.currency, "window_from": intent.window_from.isoformat(),
            "window_until": intent.window_until.isoformat(), "country": intent.country or "",
            "region": intent.region or "", "city": intent.city or "",
            "reveal_fields": list(intent.reveal_fields),
            "expires_on": _day_of(intent.expires_at)}


def _day_of(seconds: int) -> str:
    """The last day an intent expiring at ``seconds`` (the midnight after it) is open."""
    return (dt.datetime.fromtimestamp(seconds, dt.UTC).date() - dt.timedelta(days=1)).isoformat()


# -- the member's intents ------------------------------------------------------------------
@bp.get("")
def overview() -> tuple[str, int]:
    return _overview()


def _overview(*, errors: dict[str, list[str]] | None = None,
              block_errors: dict[str, list[str]] | None = None,
              values: dict[str, Any] | None = None, status: int = 200) -> tuple[str, int]:
    service = _service()
    intents = service.for_member(g.member_id)
    blocked = service.blocked(g.member_id)
    blocked_ids = {brand_id for brand_id, _ in blocked}
    brands = sorted(((b.id, b.name) for b in get_vault().brands.all()
                     if b.id not in blocked_ids and b.categories), key=lambda b: b[1])
    live = [i for i in intents if i.status in LIVE]
    ended = [i for i in intents if i.status not in LIVE]
    return render_template(
        "intents.html", live=live, ended=ended, blocked=blocked, brands=brands,
        category_labels={c.id: c.label for c in CATEGORIES}, errors=errors or {},
        block_errors=block_errors or {},
        **_form_context(values or {"currency": "EUR"})), status


@bp.post("")
def cast() -> Response | tuple[str, int]:
    try:
        intent = _service().cast(g.member_id, _submitted_draft())
    except ValidationError as exc:
        return _overview(errors=_worded(IntentForm(), exc), values=_kept(), status=422)
    flash(f"Your intent is cast: the brands of {CATEGORY_BY_ID[intent.category].label} can see"
          " it, each under a name of its own for it, until "
          f"{_day_of(intent.expires_at)}.", "success")
    return redirect(url_for("intents.intent", intent_id=intent.id))


def _kept() -> dict[str, Any]:
    """The submitted values, to show the form again as it was sent."""
    kept: dict[str, Any] = {key: value for key, value in request.form.items()
                            if key not in _MULTI}
    kept["reveal_fields"] = request.form.getlist("reveal_fields")
    return kept


def _worded(schema: FormSchema, exc: ValidationError) -> dict[str, list[str]]:
    return member_words(schema, exc.errors)


# -- one intent and its offers -------------------------------------------------------------
@bp.get("/<intent_id>")
def intent(intent_id: str) -> tuple[str, int]:
    return _intent_page(_intent_id(intent_id))


def _intent_page(intent_id: str, *, errors: dict[str, dict[str, list[str]]] | None = None,
                 status: int = 200) -> tuple[str, int]:
    service = _service()
    found = service.get(g.member_id, intent_id)
    sort = request.args.get("sort", "price")
    sort_error = None
    if sort not in OFFER_SORTS:
        sort_error = "Sort order: choose one from the list."
        sort, status = "price", 400
    offers = service.offers(g.member_id, intent_id, sort=sort)
    return render_template(
        "intent.html", intent=found, offers=offers, sort=sort, sorts=SORTS,
        sort_error=sort_error, errors=errors or {}, live=found.status in LIVE,
        category=CATEGORY_BY_ID[found.category].label,
        reveal=[(key, field_label(key)) for key in found.reveal_fields],
        blocked={brand_id for brand_id, _ in service.blocked(g.member_id)},
        amount=format_amount, reveal_days=REVEAL_DAYS, open_status=OfferStatus.OPEN,
        max_reason=MAX_REASON), status


@bp.get("/<intent_id>/edit")
def edit(intent_id: str) -> tuple[str, int]:
    found = _service().get(g.member_id, _intent_id(intent_id))
    if found.status not in LIVE:
        raise ConflictError(f"This intent is {found.status}: it can no longer be edited.")
    return _edit_page(found, _values_of(found))


def _edit_page(found: Intent, values: dict[str, Any], *,
               errors: dict[str, list[str]] | None = None, status: int = 200
               ) -> tuple[str, int]:
    return render_template("intent_edit.html", intent=found, errors=errors or {},
                           **_form_context(values)), status


@bp.post("/<intent_id>/edit")
def save(intent_id: str) -> Response | tuple[str, int]:
    service = _service()
    found = service.get(g.member_id, _intent_id(intent_id))
    try:
        service.edit(g.member_id, found.id, _submitted_draft())
    except ValidationError as exc:
        return _edit_page(found, _kept(), errors=_worded(IntentForm(), exc), status=422)
    flash("Your intent is changed; brands see it as it is now from their next look.",
          "success")
    return redirect(url_for("intents.intent", intent_id=found.id))


_MOVES = {"pause": ("paused: no brand sees it until you resume it", "pause"),
          "resume": ("open again to the brands of its category", "resume"),
          "withdraw": ("withdrawn: no brand sees it any more, and its open offers are closed",
                       "withdraw")}


@bp.post("/<intent_id>/<any(pause, resume, withdraw):move>")
def move(intent_id: str, move: str) -> Response:
    service = _service()
    getattr(service, _MOVES[move][1])(g.member_id, _intent_id(intent_id))
    flash(f"Your intent is {_MOVES[move][0]}.", "success")
    return redirect(url_for("intents.intent", intent_id=intent_id))


# -- offers --------------------------------------------------------------------------------
def _own_offer(offer_id: str) -> Offer:
    return _service().offer(g.member_id, _offer_id(offer_id))


@bp.post("/offers/<offer_id>/accept")
def accept(offer_id: str) -> Response | tuple[str, int]:
    offer = _own_offer(offer_id)
    try:
        chosen = load(AcceptForm(), form_data(request.form, multi=_MULTI))
        accepted, grant, _ = _service().accept(g.member_id, offer.id, fields=chosen["fields"],
                                               days=chosen["days"])
    except ValidationError as exc:
        if offer.status is not OfferStatus.OPEN:
            # Its form is no longer on the page: why it cannot be accepted, not a field error.
            raise ConflictError(OFFER_NOT_OPEN) from None
        return _intent_page(offer.intent_id, status=422,
                            errors={offer.id: _worded(AcceptForm(), exc)})
    shown = ", ".join(field_label(f) for f in sorted(grant.fields)).lower()
    flash(f"You accepted {accepted.brand_name}'s offer and revealed your {shown} to it only. "
          "The grant and its receipt are on your Sharing page; the other offers are declined.",
          "success")
    return redirect(url_for("intents.intent", intent_id=offer.intent_id))


@bp.post("/offers/<offer_id>/decline")
def decline(offer_id: str) -> Response:
    offer = _own_offer(offer_id)
    load(FormSchema(), form_data(request.form))       # nothing but the CSRF token
    _service().decline(g.member_id, offer.id)
    flash(f"Declined. {offer.brand_name} is told its offer was declined, and nothing else.",
          "success")
    return redirect(url_for("intents.intent", intent_id=offer.intent_id))


@bp.post("/offers/<offer_id>/report")
def report(offer_id: str) -> Response | tuple[str, int]:
    offer = _own_offer(offer_id)
    try:
        reason = load(ReportForm(), form_data(request.form))["reason"] or ""
        _service().report_spam(g.member_id, offer.id, reason=reason)
    except ValidationError as exc:
        if offer.reported:
            raise ConflictError(REPORTED_ALREADY) from None     # its form is gone, as above
        return _intent_page(offer.intent_id, status=422,
                            errors={offer.id: _worded(ReportForm(), exc)})
    flash(f"Reported: a compliance officer will look at {offer.brand_name}'s offer. "
          "It is declined.", "success")
    return redirect(url_for("intents.intent", intent_id=offer.intent_id))


@bp.get("/offers/<offer_id>/signed.jws")
def signed(offer_id: str) -> Response:
    offer = _own_offer(offer_id)
    return Response(offer.signed, mimetype="application/jose", headers={
        "Content-Disposition": f'attachment; filename="offer-{offer.id}.jws"',
        "Cache-Control": "no-store"})


# -- blocking brands ---------------------------------------------------------------------------
@bp.post("/blocks")
def block() -> Response | tuple[str, int]:
    try:
        brand_id = load(BlockForm(), form_data(request.form))["brand"]
        _service().block(g.member_id, brand_id)
    except ValidationError as exc:
        return _overview(block_errors=_worded(BlockForm(), exc), status=422)
    except NotFoundError:
        return _overview(block_errors={"brand": ["Brand: choose one from the list."]},
                         status=422)
    name = get_vault().brands.get(brand_id).name
    flash(f"{name} no longer sees your intents, from its next look; its open offers stay "
          "yours to answer.", "success")
    return redirect(url_for("intents.overview") + "#blocked")


@bp.post("/blocks/<brand_id>/remove")
def unblock(brand_id: str) -> Response:
    if len(brand_id) > 64:
        raise NotFoundError("You do not block a brand by that name.")
    if _service().unblock(g.member_id, brand_id):
        flash("Unblocked: that brand sees your open intents of its categories again.", "success")
    else:
        # Unblocked already (from another tab), or never blocked: nothing changed.
        flash("You do not block that brand: nothing to undo.", "error")
    return redirect(url_for("intents.overview") + "#blocked")

