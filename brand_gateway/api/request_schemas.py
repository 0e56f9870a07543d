"""The schemas of data subject requests on the brand API (brand_gateway/api/requests.py) and
their part of the OpenAPI document (:func:`add_request_paths`).

A status event follows the Ketch Forwarder ``dsr/v1`` status events: ``status`` one of
pending, in_progress, completed, cancelled, denied (a denial with its ``reason``); access
requests may carry ``results``, documents embedded as base64 JSON (``headers.Content-Type``
``application/json``, the one type the Forwarder supports), each at most
:data:`MAX_DOCUMENT_BYTES` decoded.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from apispec import APISpec
from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates

from compliance.requests import MAX_REASON, MAX_RESULT_BYTES, TaskState

from ..json_input import refuse_constant
from .schemas import DEFAULT_PAGE, MAX_OFFSET, MAX_PAGE, QuerySchema

REQUESTS_SCOPE = "requests:write"
UID_PATTERN = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
MAX_DOCUMENT_BYTES = 64 * 1024
MAX_DOCUMENTS = 4
#: The body limit of the requests' routes (a status event: four documents in base64, and the
#: rest; brand_gateway/api/requests.py).
EVENT_MAX_BODY = MAX_DOCUMENTS * (MAX_DOCUMENT_BYTES * 4 // 3 + 4) + 4096
_NAME = "^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"


class RequestsQuery(QuerySchema):
    state = fields.String(load_default="open", validate=validate.OneOf(["open", "all"]),
                          metadata={"description": "open: requests not yet in a final state"
                                                   " (the default); all: final ones too."})
    limit = fields.Integer(load_default=DEFAULT_PAGE, validate=validate.Range(1, MAX_PAGE))
    offset = fields.Integer(load_default=0, validate=validate.Range(0, MAX_OFFSET))


class DocumentHeadersSchema(Schema):
    class Meta:
        unknown = RAISE

    content_type = fields.String(required=True, data_key="Content-Type",
                                 validate=validate.Equal("application/json"))


class DocumentSchema(Schema):
    class Meta:
        unknown = RAISE

    name = fields.String(required=True, validate=validate.Regexp(_NAME), metadata={
        "description": "A file name for the member, e.g. orders.json."})
    data = fields.String(required=True, validate=validate.Length(
        1, MAX_DOCUMENT_BYTES * 4 // 3 + 4), metadata={
        "description": f"Standard base64 of a JSON document, at most {MAX_DOCUMENT_BYTES}"
                       " bytes decoded."})
    headers = fields.Nested(DocumentHeadersSchema, required=True)

    @validates("data")
    def _json(self, value: str, **kwargs: Any) -> None:
        try:
            raw = base64.b64decode(value, validate=True)
            # NaN and the infinities are not JSON (RFC 8259 sec. 6): the member's export
            # would hold them.
            json.loads(raw.decode("utf-8"), parse_constant=refuse_constant)
        except (binascii.Error, ValueError):
            raise ValidationError("Send a JSON document in standard base64.") from None
        if len(raw) > MAX_DOCUMENT_BYTES:
            raise ValidationError(f"At most {MAX_DOCUMENT_BYTES} bytes decoded.")


class StatusEventSchema(Schema):
    class Meta:
        unknown = RAISE

    status = fields.String(required=True, validate=validate.OneOf([s.value for s in TaskState]))
    reason = fields.String(validate=validate.Length(1, MAX_REASON), metadata={
        "description": "Why (required with denied); the member reads it. Kept sealed under"
                       " the member's key: not kept once the member is erased."})
    results = fields.List(fields.Nested(DocumentSchema),
                          validate=validate.Length(max=MAX_DOCUMENTS), metadata={
                              "description": "Access requests only: what you hold of the"
                                             " member, for them to read (sealed under their"
                                             f" key); at most {MAX_RESULT_BYTES} bytes per"
                                             " request in all."})


class BrandRequestSchema(Schema):
    uid = fields.String(required=True, metadata={"pattern": UID_PATTERN,
                                                 "description": "This request's id, yours."})
    kind = fields.String(required=True, metadata={
        "description": "AccessRequest, DeleteRequest, CorrectionRequest or"
                       " RestrictProcessingRequest."})
    regulation = fields.String(required=True, metadata={"description": "gdpr or ccpa."})
    right = fields.String(required=True, metadata={
        "description": "The right the member used, e.g. erasure, know, opt_out_sale_sharing."})
    subject = fields.String(required=True, metadata={
        "description": "The member, by your pairwise subject (the same as in your tokens)."})
    status = fields.String(required=True)
    reason = fields.String(required=True, allow_none=True, metadata={
        "description": "Your reason with the latest status, if you gave one; \"erased with"
                       " the member\" once the member is erased."})
    submittedTimestamp = fields.Integer(required=True, metadata={
        "description": "The start of the day the vault received the request (Unix seconds; the"
                       " day only, never the second)."})
    dueTimestamp = fields.Integer(required=True, metadata={
        "description": "The end of the day the answer is due (Unix seconds)."})
    updated_at = fields.DateTime(required=True, metadata={
        "description": "The start of the day the task last changed (the day only: the vault"
                       " changes a request's tasks at every brand at once)."})
    closed_at = fields.DateTime(required=True, allow_none=True, metadata={
        "description": "The start of the day the task was closed, if it was."})
    results = fields.Integer(required=True, metadata={
        "description": "How many documents you sent."})


class BrandRequestsSchema(Schema):
    requests = fields.List(fields.Nested(BrandRequestSchema), required=True)
    next_offset = fields.Integer(required=True, allow_none=True)


class BrandRequestEnvelopeSchema(Schema):
    request = fields.Nested(BrandRequestSchema, required=True)


def add_request_paths(spec: APISpec, operation: Any) -> None:
    """Data subject requests' schemas and paths (``operation``: the document's builder)."""
    for name, schema in (("BrandRequests", BrandRequestsSchema),
                         ("BrandRequestEnvelope", BrandRequestEnvelopeSchema),
                         ("StatusEvent", StatusEventSchema)):
        spec.components.schema(name, schema=schema)
    scope: list[dict[str, list[str]]] = [{"brand": [REQUESTS_SCOPE]}]
    spec.components.response("EventTooLarge", {
        "description": f"The body is larger than {EVENT_MAX_BODY} bytes (about:blank, status"
                       " 413): a status event with its documents takes at most that.",
        "content": {"application/problem+json": {"schema": "Problem"}}})
    spec.components.response("RequestNotFound", {
        "description": "None of the requests sent to this brand has this uid.",
        "content": {"application/problem+json": {"schema": "Problem"}}})
    uid = {"in": "path", "name": "uid", "required": True,
           "schema": {"type": "string", "pattern": UID_PATTERN}}
    spec.path(path="/requests", operations={"get": {
        **operation("Data subject requests sent to this brand",
                    "Members' GDPR and CCPA requests about the data you hold or read, each"
                    " also sent as a signed webhook (dsr.access, dsr.delete, dsr.correction,"
                    " dsr.restrict_processing). Newest first.", RequestsQuery,
                    "BrandRequests"), "security": scope}})
    spec.path(path="/requests/{uid}", operations={"get": {
        "summary": "One request", "description": "Its state and due time.",
        "parameters": [uid],
        "responses": {"200": {"description": "OK", "content": {
            "application/json": {"schema": "BrandRequestEnvelope"}}},
            "400": "BadRequest", "401": "Unauthorized", "403": "Forbidden",
            "404": "RequestNotFound", "429": "TooManyRequests"},
        "security": scope}})
    spec.path(path="/requests/{uid}/events", operations={"post": {
        "summary": "Post a status event",
        "description": "pending, in_progress, then one final state: completed, cancelled or"
                       " denied (with its reason). A final state is final: a later event is a"
                       " 409. Access requests may carry results (JSON documents).",
        "parameters": [uid],
        "requestBody": {"required": True, "content": {
            "application/json": {"schema": "StatusEvent"}}},
        "responses": {"200": {"description": "Recorded", "content": {
            "application/json": {"schema": "BrandRequestEnvelope"}}},
            "400": "BadRequest", "401": "Unauthorized", "403": "Forbidden",
            "404": "RequestNotFound", "409": "Conflict", "413": "EventTooLarge",
            "415": "UnsupportedMediaType", "429": "TooManyRequests"},
        "security": scope}})
