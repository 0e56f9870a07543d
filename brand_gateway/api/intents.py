"""Intent casting on the brand API: open intents (``intents:read``) and offers
(``offers:write``), with a client credentials token.

- ``GET /api/v1/intents`` (``category``, ``currency``, ``budget_min``, ``budget_max``,
  ``from``, ``until``, ``region``, ``limit``, ``cursor``): open intents in the categories the
  brand is registered for, newest first, each under its pseudonym for the brand; a cursor
  pages on, bound to the brand and the filters. Each intent returned is an
  ``intent:listing:returned`` entry in its member's ledger, through the access spool.
- ``GET /api/v1/intents/<id>``: one, as listed; 404 once it is no longer open to the brand
  (expired, withdrawn, paused, the member blocked the brand) and for another brand's pseudonym.
- ``POST /api/v1/intents/<id>/offers``: an offer (price, currency, terms, message,
  valid_until); a limit reached is a 429 with ``Retry-After``.
- ``GET /api/v1/offers`` (``status``, ``limit``, ``offset``), ``GET /api/v1/offers/<id>``,
  ``POST /api/v1/offers/<id>/withdraw``.
- ``GET /api/v1/offers/<id>/profile``: what the member revealed on accepting, read like any
  shared profile (the decision point on the grant now, a ledger read entry, the pairwise
  subject); 404 unless accepted with the grant in force.

What the schemas cannot check the service does (:mod:`intents`); both answer as problem+json
naming the parameter or member. Per-client rate limits as the rest of the API.
"""

from __future__ import annotations

from flask import Blueprint, Response, request, url_for

from intents.errors import LimitExceededError
from intents.service import IntentService
from vault.errors import ConflictError, NotFoundError, ValidationError

from ..api_errors import (
    ApiConflictError,
    ApiNotFoundError,
    BodyError,
    OfferLimitedError,
    QueryError,
)
from ..intent_views import brand_offer, listed_intent
from ..intents_wiring import intent_service_for_request, offer_profile
from ..reads import Caller
from . import PREFIX
from .bearer import reads, requires_scope
from .intent_schemas import (
    INTENTS_SCOPE,
    OFFER_MAX_BODY,
    OFFERS_SCOPE,
    IntentsQuery,
    OfferRequestSchema,
    OffersQuery,
    timestamp,
)
from .payloads import json_body, json_response, load_query, loaded, no_body, page_response
from .schemas import EmptyQuery

bp = Blueprint("api_intents", __name__, url_prefix=PREFIX)

_QUERY = IntentsQuery()
_OFFERS_QUERY = OffersQuery()
_EMPTY_QUERY = EmptyQuery()
_OFFER = OfferRequestSchema()
_NO_INTENT = "No intent open to this brand has this id."
_NO_OFFER = "None of this brand's offers has this id."
# The service's names for what the API calls from and until.
_QUERY_NAMES = {"window_from": "from", "window_until": "until"}


@bp.before_request
def _offer_body_limit() -> None:
    """Terms and message in any script take more than the API's usual 4 KiB: at most
    :data:`OFFER_MAX_BODY`, set before anything reads the body."""
    request.max_content_length = OFFER_MAX_BODY


def _service() -> IntentService:
    return intent_service_for_request()


def _errors(exc: ValidationError, names: dict[str, str] | None = None) -> dict[str, list[str]]:
    names = names or {}
    return {names.get(k, k): list(v) for k, v in exc.errors.items()}


@bp.get("/intents")
@requires_scope(INTENTS_SCOPE)
def list_intents(caller: Caller) -> Response:
    query = load_query(_QUERY)
    try:
        page = _service().list_for_brand(
            caller.client.brand_id, category=query.get("category"),
            currency=query.get("currency"), budget_min=query.get("budget_min"),
            budget_max=query.get("budget_max"), window_from=query.get("window_from"),
            window_until=query.get("window_until"), region=query.get("region"),
            cursor=query.get("cursor"), limit=query["limit"], via="api")
    except ValidationError as exc:
        raise QueryError(_errors(exc, _QUERY_NAMES)) from None
    return json_response({"intents": [listed_intent(i) for i in page.items],
                          "next_cursor": page.next_cursor})


@bp.get("/intents/<intent_id>")
@requires_scope(INTENTS_SCOPE)
def get_intent(caller: Caller, intent_id: str) -> Response:
    load_query(_EMPTY_QUERY)
    try:
        listed = _service().listed(caller.client.brand_id, intent_id[:100])
    except (NotFoundError, ValidationError):
        raise ApiNotFoundError(_NO_INTENT) from None
    return json_response({"intent": listed_intent(listed)})


@bp.post("/intents/<intent_id>/offers")
@requires_scope(OFFERS_SCOPE)
def make_offer(caller: Caller, intent_id: str) -> Response:
    load_query(_EMPTY_QUERY)
    body = json_body()
    offer = loaded(_OFFER, body)
    # Not looked up first with listed(): that would be a listing, an entry in the member's
    # ledger; the service answers an intent not open to this brand before the body's checks.
    try:
        made = _service().make_offer(
            caller.client.brand_id, intent_id[:100], price=offer["price"],
            currency=offer["currency"], terms=offer["terms"], message=offer["message"],
            valid_until=timestamp(offer["valid_until"]))
    except NotFoundError:
        raise ApiNotFoundError(_NO_INTENT) from None
    except LimitExceededError as exc:
        raise OfferLimitedError(exc.message, exc.retry_after) from None
    except ValidationError as exc:
        raise BodyError(_errors(exc)) from None
    response = json_response({"offer": brand_offer(made)})
    response.status_code = 201
    response.headers["Location"] = url_for("api_intents.get_offer", offer_id=made.id)
    return response


@bp.get("/offers")
@requires_scope(OFFERS_SCOPE)
def list_offers(caller: Caller) -> Response:
    query = load_query(_OFFERS_QUERY)
    limit, offset = query["limit"], query["offset"]
    offers = _service().brand_offers(caller.client.brand_id, status=query.get("status"),
                                     limit=limit + 1, offset=offset)
    return page_response("offers", offers, limit=limit, offset=offset, render=brand_offer)


@bp.get("/offers/<offer_id>")
@requires_scope(OFFERS_SCOPE)
def get_offer(caller: Caller, offer_id: str) -> Response:
    load_query(_EMPTY_QUERY)
    try:
        offer = _service().brand_offer(caller.client.brand_id, offer_id[:100])
    except (NotFoundError, ValidationError):
        raise ApiNotFoundError(_NO_OFFER) from None
    return json_response({"offer": brand_offer(offer)})


@bp.post("/offers/<offer_id>/withdraw")
@requires_scope(OFFERS_SCOPE)
def withdraw_offer(caller: Caller, offer_id: str) -> Response:
    load_query(_EMPTY_QUERY)
    no_body()
    service = _service()
    brand_id = caller.client.brand_id
    try:
        withdrawn = service.withdraw_offer(brand_id, offer_id[:100])
    except (NotFoundError, ValidationError):
        raise ApiNotFoundError(_NO_OFFER) from None
    except ConflictError as exc:
        raise ApiConflictError(exc.message) from None
    return json_response({"offer": brand_offer(withdrawn)})


@bp.get("/offers/<offer_id>/profile")
@requires_scope(OFFERS_SCOPE)
def read_offer_profile(caller: Caller, offer_id: str) -> Response:
    load_query(_EMPTY_QUERY)
    try:
        member_id, grant = _service().revealed(caller.client.brand_id, offer_id[:100])
    except (NotFoundError, ValidationError, ConflictError):
        raise ApiNotFoundError("None of this brand's offers with this id was accepted with a"
                               " grant in force.") from None
    read = offer_profile(reads(), caller, member_id, grant.id)
    if read is None:
        raise ApiNotFoundError("None of this brand's offers with this id was accepted with a"
                               " grant in force.")
    return json_response({"subject": read.subject, "offer": offer_id, "grant": grant.id,
                          "profile": read.release.values,
                          "withheld": list(read.release.withheld)})

