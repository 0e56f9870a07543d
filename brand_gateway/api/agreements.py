"""The brand API's IEEE 7012 (MyTerms) agreements, under ``/api/v1/agreements``.

A member proffers a term from the P7012 roster to a brand (on their Sharing page); the brand
answers here, with a client credentials token holding the ``agreements:write`` scope: accept,
make one counter-offer from the roster, or reject. The member answers a counter-offer on their
Sharing page or on a consent screen. On agreement both sides hold the same record: the canonical
JSON, its SHA-256 and the vault's JWS over it, byte for byte what the member downloads.

- ``GET /api/v1/agreements`` (``status``, ``limit``, ``offset``): the brand's agreements.
- ``GET /api/v1/agreements/<id>``: one of them.
- ``POST /api/v1/agreements/<id>/answer``: ``{"answer": "accept" | "counter" | "reject",
  "term": "<code>"}`` (``term`` with a counter-offer only). An offer answered already, or one
  the member withdrew before the brand answered (``withdrawn``), is a 409.

A brand sees only its own agreements, and the member only under its pairwise pseudonym
(``subject``, the same the member API gives it); another brand's agreement is as unknown as a
missing one (404). Same rules as the rest of the brand API otherwise: bearer token in the
header only, problem+json, per-client rate limits; every answer is a ledger entry with the brand
as actor.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response

from consent.context import Consent
from consent.model import AgreementRecord, AgreementStatus, AgreementVia
from vault.errors import ConflictError, NotFoundError, ValidationError

from ..api_errors import ApiConflictError, ApiNotFoundError, BodyError
from ..reads import Caller
from ..request_stores import request_stores
from . import PREFIX
from .bearer import requires_scope
from .payloads import iso, json_body, json_response, load_query, loaded, page_response
from .schemas import AgreementAnswerSchema, AgreementsQuery, EmptyQuery

bp = Blueprint("api_agreements", __name__, url_prefix=PREFIX)

AGREEMENTS_SCOPE = "agreements:write"
_QUERY = AgreementsQuery()
_EMPTY_QUERY = EmptyQuery()
_ANSWER = AgreementAnswerSchema()


def _consent() -> Consent:
    return request_stores().consent()


def _own(caller: Caller, agreement_id: str) -> AgreementRecord:
    """The agreement if it is this brand's; another brand's is as unknown as a missing one, and
    so is one a member's join of the brand's community made (a brand never learns who is in a
    community)."""
    try:
        record = _consent().agreements.get(agreement_id)
    except NotFoundError:
        record = None
    if record is None or record.brand_id != caller.client.brand_id \
            or record.via is not AgreementVia.MEMBER:
        raise ApiNotFoundError("No agreement with this id was offered to this brand.")
    return record


def _agreement(record: AgreementRecord) -> dict[str, Any]:
    subject = _consent().agreements.subject(record)
    signed = record.record is not None and json.loads(record.record).get("first_party") == subject
    # A record signed before records named the member pairwise (issue 12) holds the ledger's
    # member pseudonym, the same for every brand: never handed to a brand.
    return {"id": record.id, "subject": subject,
            "proffered": record.proffered, "countered": record.countered,
            "status": record.status.value, "agreed": record.agreed,
            "created_at": iso(record.created_at), "updated_at": iso(record.updated_at),
            "record": record.record if signed else None,
            "sha256": record.record_hash if signed else None,
            "signed_record": record.signature if signed else None}


@bp.get("/agreements")
@requires_scope(AGREEMENTS_SCOPE)
def list_agreements(caller: Caller) -> Response:
    query = load_query(_QUERY)
    status = query.get("status")
    limit, offset = query["limit"], query["offset"]
    # One more than a page, to know whether there is a next one.
    records = _consent().agreements.for_brand(
        caller.client.brand_id, status=AgreementStatus(status) if status else None,
        limit=limit + 1, offset=offset)
    return page_response("agreements", records, limit=limit, offset=offset,
                         render=_agreement)


@bp.get("/agreements/<agreement_id>")
@requires_scope(AGREEMENTS_SCOPE)
def get_agreement(caller: Caller, agreement_id: str) -> Response:
    load_query(_EMPTY_QUERY)
    return json_response({"agreement": _agreement(_own(caller, agreement_id))})


@bp.post("/agreements/<agreement_id>/answer")
@requires_scope(AGREEMENTS_SCOPE)
def answer(caller: Caller, agreement_id: str) -> Response:
    load_query(_EMPTY_QUERY)
    body = json_body()
    answer = loaded(_ANSWER, body)
    record = _own(caller, agreement_id)
    agreements = _consent().agreements
    brand_id = caller.client.brand_id
    try:
        if answer["answer"] == "accept":
            record = agreements.brand_accepts(record.id, brand_id)
        elif answer["answer"] == "counter":
            record = agreements.brand_counters(record.id, brand_id, answer["term"])
        else:
            record = agreements.brand_rejects(record.id, brand_id)
    except ConflictError:
        raise ApiConflictError(f"This offer is {agreements.get(record.id).status}: it cannot "
                               "be answered again.") from None
    except ValidationError as exc:
        raise BodyError({"term": [m for messages in exc.errors.values()
                                  for m in messages]}) from None
    return json_response({"agreement": _agreement(record)})
