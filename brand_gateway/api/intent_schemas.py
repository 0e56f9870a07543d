"""The schemas of intents and offers on the brand API (brand_gateway/api/intents.py) and their
part of the OpenAPI document (:func:`add_intent_paths`).

What a schema can say it says (the shape of an amount, a currency code, a date, a region code,
text lengths, a budget that needs its currency, a range the right way round); what needs the
catalog or the store (a category the brand is registered for, a currency the intent is in, a
validity at most 90 days ahead, the limits) the service checks (:mod:`intents`), and the API
answers both the same way: problem+json naming each parameter or member. Schemas never query
the store (STYLE point 8).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from apispec import APISpec
from marshmallow import RAISE, Schema, fields, validate, validates_schema
from marshmallow import ValidationError as SchemaError

from .schemas import (
    MAX_OFFSET,
    NO_BODY_REQUEST,
    QuerySchema,
    Rfc3339DateTime,
    location_header,
)

INTENTS_SCOPE = "intents:read"
OFFERS_SCOPE = "offers:write"
MAX_INTENT_PAGE = 100
DEFAULT_INTENT_PAGE = 50
MAX_CURSOR = 512
MAX_DESCRIPTION = 1000
MAX_TERMS = 2000
MAX_MESSAGE = 1000
#: The body limit of the offer routes: terms and message at their longest, in any script
#: (up to four bytes a character in UTF-8, six in a JSON escape), and the rest.
OFFER_MAX_BODY = 6 * (MAX_TERMS + MAX_MESSAGE) + 2048
#: A decimal amount as typed: digits, at most three decimals (the most any ISO 4217 currency
#: has); the service checks the currency's own minor digits and the upper bound.
AMOUNT = r"^[0-9]{1,13}(\.[0-9]{1,3})?$"
CURRENCY = r"^[A-Z]{3}$"
CATEGORY = r"^[a-z][a-z0-9-]{0,39}$"
REGION = r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$"
INTENT_ID = r"^i-[A-Za-z0-9_-]{16,64}$"
OFFER_ID = r"^off_[0-9a-f]{8,64}$"
OFFER_STATUSES = ("open", "accepted", "declined", "expired", "withdrawn")
_AMOUNT_HELP = "A decimal amount in the currency's major unit, e.g. 749.00."


class IntentsQuery(QuerySchema):
    category = fields.String(validate=validate.Regexp(CATEGORY, error="Not a category id."),
                             metadata={"description": "One of the categories the brand is"
                                                      " registered for (default: all of"
                                                      " them)."})
    currency = fields.String(validate=validate.Regexp(CURRENCY, error="Give an ISO 4217"
                                                                      " code, e.g. EUR."),
                             metadata={"description": "ISO 4217: intents budgeted in it."})
    budget_min = fields.String(validate=validate.Regexp(AMOUNT, error=_AMOUNT_HELP),
                               metadata={"description": "Intents whose budget reaches at"
                                                        " least this (needs currency)."})
    budget_max = fields.String(validate=validate.Regexp(AMOUNT, error=_AMOUNT_HELP),
                               metadata={"description": "Intents whose budget starts at most"
                                                        " at this (needs currency)."})
    window_from = fields.Date(data_key="from", metadata={
        "description": "ISO date: intents whose time window reaches this day."})
    window_until = fields.Date(data_key="until", metadata={
        "description": "ISO date: intents whose time window starts by this day."})
    region = fields.String(validate=validate.Regexp(REGION, error="Give an ISO 3166-1 country"
                                                                  " or ISO 3166-2 region code,"
                                                                  " e.g. NL or NL-ZH."),
                           metadata={"description": "ISO 3166-1 alpha-2 (a country) or"
                                                    " ISO 3166-2 (one of its regions)."})
    limit = fields.Integer(load_default=DEFAULT_INTENT_PAGE,
                           validate=validate.Range(1, MAX_INTENT_PAGE))
    cursor = fields.String(validate=validate.Length(1, MAX_CURSOR), metadata={
        "description": "next_cursor of the previous page, with the same filters: opaque and"
                       " good for this brand only (another brand's, or an altered one, is a"
                       " 400)."})

    @validates_schema
    def _consistent(self, data: dict[str, Any], **_: Any) -> None:
        errors: dict[str, list[str]] = {}
        for name in ("budget_min", "budget_max"):
            if name in data and "currency" not in data:
                errors[name] = ["A budget needs its currency: give currency too."]
        if ("budget_min" in data and "budget_max" in data
                and Decimal(data["budget_min"]) > Decimal(data["budget_max"])):
            errors["budget_max"] = ["budget_max is below budget_min."]
        if ("window_from" in data and "window_until" in data
                and data["window_from"] > data["window_until"]):
            errors["until"] = ["until is before from."]
        if errors:
            raise SchemaError(errors)


class OffersQuery(QuerySchema):
    status = fields.String(validate=validate.OneOf(OFFER_STATUSES))
    limit = fields.Integer(load_default=DEFAULT_INTENT_PAGE,
                           validate=validate.Range(1, MAX_INTENT_PAGE))
    offset = fields.Integer(load_default=0, validate=validate.Range(0, MAX_OFFSET))


class OfferRequestSchema(Schema):
    class Meta:
        unknown = RAISE

    price = fields.String(required=True, validate=validate.Regexp(AMOUNT, error=_AMOUNT_HELP),
                          metadata={"description": _AMOUNT_HELP + " More than zero."})
    currency = fields.String(required=True, validate=validate.Regexp(CURRENCY), metadata={
        "description": "ISO 4217: the intent's own currency."})
    terms = fields.String(required=True, validate=validate.Length(1, MAX_TERMS))
    message = fields.String(load_default="", validate=validate.Length(0, MAX_MESSAGE))
    valid_until = Rfc3339DateTime(required=True, metadata={
        "description": "RFC 3339: until when the member may accept; at least one hour and at"
                       " most 90 days ahead."})


def timestamp(moment: dt.datetime) -> int:
    return int(moment.timestamp())


# -- responses ------------------------------------------------------------------------------------
class IntentBudgetSchema(Schema):
    min = fields.String(required=True)
    max = fields.String(required=True)
    currency = fields.String(required=True)


class IntentWindowSchema(Schema):
    window_from = fields.Date(required=True, data_key="from")
    window_until = fields.Date(required=True, data_key="until")


class IntentLocationSchema(Schema):
    country = fields.String(required=True)
    region = fields.String(required=True, allow_none=True)
    city = fields.String(required=True, allow_none=True)


class ListedIntentSchema(Schema):
    id = fields.String(required=True, metadata={
        "description": "This intent's pseudonym for your brand (another brand sees another)."})
    category = fields.String(required=True)
    description = fields.String(required=True)
    budget = fields.Nested(IntentBudgetSchema, required=True)
    window = fields.Nested(IntentWindowSchema, required=True)
    location = fields.Nested(IntentLocationSchema, required=True, allow_none=True)
    published_at = fields.DateTime(required=True)
    expires_at = fields.DateTime(required=True)
    your_offers = fields.Integer(required=True, metadata={
        "description": "How many offers you made on it."})


class IntentsSchema(Schema):
    intents = fields.List(fields.Nested(ListedIntentSchema), required=True)
    next_cursor = fields.String(required=True, allow_none=True)


class IntentEnvelopeSchema(Schema):
    intent = fields.Nested(ListedIntentSchema, required=True)


class BrandOfferSchema(Schema):
    id = fields.String(required=True)
    intent = fields.String(required=True, metadata={"description": "The intent's pseudonym."})
    price = fields.String(required=True)
    currency = fields.String(required=True)
    terms = fields.String(required=True)
    message = fields.String(required=True)
    valid_until = fields.DateTime(required=True)
    status = fields.String(required=True, validate=validate.OneOf(OFFER_STATUSES))
    created_at = fields.DateTime(required=True)
    decided_at = fields.DateTime(required=True, allow_none=True)
    subject = fields.String(required=True, allow_none=True, metadata={
        "description": "Accepted only: the member, by your pairwise subject."})
    grant = fields.String(required=True, allow_none=True, metadata={
        "description": "Accepted only: the grant of the fields revealed to you."})
    fields_ = fields.List(fields.String(), required=True, data_key="fields", metadata={
        "description": "Accepted only: the profile fields revealed to you."})


class OffersSchema(Schema):
    offers = fields.List(fields.Nested(BrandOfferSchema), required=True)
    next_offset = fields.Integer(required=True, allow_none=True)


class OfferEnvelopeSchema(Schema):
    offer = fields.Nested(BrandOfferSchema, required=True)


class OfferProfileSchema(Schema):
    subject = fields.String(required=True)
    offer = fields.String(required=True)
    grant = fields.String(required=True)
    profile = fields.Dict(required=True, metadata={
        "description": "The revealed fields the member has filled in."})
    withheld = fields.List(fields.String(), required=True)


def add_intent_paths(spec: APISpec, operation: Any) -> None:
    """Intents' and offers' schemas and paths (``operation``: the document's builder)."""
    for name, schema in (("Intents", IntentsSchema), ("IntentEnvelope", IntentEnvelopeSchema),
                         ("OfferRequest", OfferRequestSchema), ("Offers", OffersSchema),
                         ("OfferEnvelope", OfferEnvelopeSchema),
                         ("OfferProfile", OfferProfileSchema)):
        spec.components.schema(name, schema=schema)
    problem = {"application/problem+json": {"schema": "Problem"}}
    spec.components.response("IntentNotFound", {
        "description": "No intent open to this brand now has this id (expired, withdrawn,"
                       " paused, blocked, or another brand's pseudonym).", "content": problem})
    spec.components.response("OfferNotFound", {
        "description": "None of this brand's offers has this id (for the profile: none that"
                       " was accepted with a grant still in force).", "content": problem})
    spec.components.response("OfferLimited", {
        "description": "A limit on offers (per intent, per day) is reached; Retry-After says"
                       " when to try again.", "content": problem,
        "headers": {"Retry-After": {"description": "Seconds until the limit allows an offer.",
                                    "schema": {"type": "string"}}}})
    spec.components.response("OfferTooLarge", {
        "description": f"The body is larger than {OFFER_MAX_BODY} bytes (about:blank, status"
                       " 413).", "content": problem})
    intents: list[dict[str, list[str]]] = [{"brand": [INTENTS_SCOPE]}]
    offers: list[dict[str, list[str]]] = [{"brand": [OFFERS_SCOPE]}]
    intent_id = {"in": "path", "name": "intent_id", "required": True,
                 "schema": {"type": "string", "pattern": INTENT_ID}}
    offer_id = {"in": "path", "name": "offer_id", "required": True,
                "schema": {"type": "string", "pattern": OFFER_ID}}
    common = {"400": "BadRequest", "401": "Unauthorized", "403": "Forbidden",
              "429": "TooManyRequests"}

    def ok(schema: str, status: str = "200", **more: str) -> dict[str, Any]:
        return {status: {"description": "OK" if status == "200" else "Created",
                         "content": {"application/json": {"schema": schema}}},
                **common, **more}

    spec.path(path="/intents", operations={"get": {
        **operation("Open intents in your categories",
                    "What members want, newest first, each under a pseudonym of its own for"
                    " your brand; no member id, no way to link two intents of one member."
                    " Each intent returned is an entry in its member's ledger.",
                    IntentsQuery, "Intents"), "security": intents}})
    spec.path(path="/intents/{intent_id}", operations={"get": {
        "summary": "One open intent", "description": "As the listing shows it.",
        "parameters": [intent_id],
        "responses": ok("IntentEnvelope", **{"404": "IntentNotFound"}),
        "security": intents}})
    spec.path(path="/intents/{intent_id}/offers", operations={"post": {
        "summary": "Make an offer",
        "description": "Price in the intent's currency, terms, a message and until when it"
                       " holds. The member receives it signed by the vault.",
        "parameters": [intent_id],
        "requestBody": {"required": True, "content": {
            "application/json": {"schema": "OfferRequest"}}},
        "responses": ok("OfferEnvelope", "201", **{
            "404": "IntentNotFound", "413": "OfferTooLarge", "415": "UnsupportedMediaType",
            "429": "OfferLimited"}) | {"201": {
                "description": "Created",
                "content": {"application/json": {"schema": "OfferEnvelope"}},
                "headers": location_header("The new offer's path (GET /offers/{offer_id}).")}},
        "security": offers}})
    spec.path(path="/offers", operations={"get": {
        **operation("Your offers", "Newest first.", OffersQuery, "Offers"),
        "security": offers}})
    spec.path(path="/offers/{offer_id}", operations={"get": {
        "summary": "One of your offers",
        "description": "Accepted: the member's pairwise subject, the grant and the fields"
                       " revealed. Declined or expired: only that.",
        "parameters": [offer_id],
        "responses": ok("OfferEnvelope", **{"404": "OfferNotFound"}), "security": offers}})
    spec.path(path="/offers/{offer_id}/withdraw", operations={"post": {
        "summary": "Withdraw an open offer",
        "description": "An offer no longer open (decided, expired) is a 409.",
        "parameters": [offer_id], "requestBody": NO_BODY_REQUEST,
        "responses": ok("OfferEnvelope", **{"404": "OfferNotFound", "409": "Conflict",
                                            "413": "ContentTooLarge",
                                            "415": "UnsupportedMediaType"}),
        "security": offers}})
    spec.path(path="/offers/{offer_id}/profile", operations={"get": {
        "summary": "The fields the member revealed with an accepted offer",
        "description": "Read like any shared profile: each read is an entry in the member's"
                       " ledger; a field the grant no longer allows is withheld.",
        "parameters": [offer_id],
        "responses": ok("OfferProfile", **{"404": "OfferNotFound"}), "security": offers}})
