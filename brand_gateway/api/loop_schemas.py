"""The schemas of closing the loop on the brand API ("you said, we did", care cases) and their
part of the OpenAPI document (:func:`add_paths`, called by
:func:`brand_gateway.api.schemas.openapi_document`)."""

from __future__ import annotations

from typing import Any

from apispec import APISpec
from marshmallow import RAISE, Schema, fields, validate

from community.care import MAX_ANSWER
from community.loop import MAX_DID, MAX_SAID, RELEASE_PURPOSES, SUBJECT_KINDS
from vault.catalog import TOUCHPOINT_KEYS

from .insight_schemas import EstimateSchema
from .schemas import DEFAULT_PAGE, MAX_OFFSET, MAX_PAGE, NO_BODY_REQUEST, QuerySchema

LOOP_SCOPE = "communities:write"
CASE_ID_PATTERN = "^care_[0-9a-f]{24}$"
POST_ID_PATTERN = "^wedid_[0-9a-f]{24}$"
_CASE_STATES = ["open", "answered", "closed"]
SUBJECT_PATTERN = "^(?:[a-z]{1,20}|srv_[0-9a-f]{24}|idea_[0-9a-f]{24})$"


class CareCasesQuery(QuerySchema):
    state = fields.String(load_default="live", validate=validate.OneOf(["live", "all"]),
                          metadata={"description": "live: cases still open or answered (the"
                                                   " default); all: closed ones too."})
    limit = fields.Integer(load_default=DEFAULT_PAGE, validate=validate.Range(1, MAX_PAGE))
    offset = fields.Integer(load_default=0, validate=validate.Range(0, MAX_OFFSET))


class WeDidQuery(QuerySchema):
    withdrawn = fields.Boolean(load_default=False, metadata={
        "description": "Include the posts you withdrew."})
    limit = fields.Integer(load_default=DEFAULT_PAGE, validate=validate.Range(1, MAX_PAGE))
    offset = fields.Integer(load_default=0, validate=validate.Range(0, MAX_OFFSET))


class CareAnswerSchema(Schema):
    class Meta:
        unknown = RAISE

    message = fields.String(required=True, validate=validate.Length(1, MAX_ANSWER), metadata={
        "description": "What you tell the member; they read it on their Care page (sealed"
                       " under their key)."})


class WeDidRequestSchema(Schema):
    class Meta:
        unknown = RAISE

    subject_kind = fields.String(required=True, validate=validate.OneOf(SUBJECT_KINDS))
    subject = fields.String(required=True, validate=validate.Regexp(SUBJECT_PATTERN), metadata={
        "description": "What the post is about: a touchpoint key ("
                       + ", ".join(sorted(TOUCHPOINT_KEYS)) + "), or the id of one of your"
                       " surveys (srv_…) or of an idea in one of your challenges (idea_…),"
                       " as subject_kind says."})
    said = fields.String(required=True, validate=validate.Length(1, MAX_SAID), metadata={
        "description": "What members told you, in a sentence."})
    did = fields.String(required=True, validate=validate.Length(1, MAX_DID), metadata={
        "description": "What you changed."})
    changed_on = fields.Date(required=True, metadata={
        "description": "When the change took effect (YYYY-MM-DD)."})
    purpose = fields.String(validate=validate.OneOf(RELEASE_PURPOSES), metadata={
        "description": "The purpose whose grants the release counts (default"
                       " dpv:ServiceOptimisation); not for an idea, whose vote count you"
                       " read already."})


class QuestionReleaseSchema(Schema):
    position = fields.Integer(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(["rating", "nps"]))
    prompt = fields.String(required=True)
    suppressed = fields.Boolean(required=True)
    respondents = fields.Nested(EstimateSchema, allow_none=True, required=True)
    value = fields.Nested(EstimateSchema, allow_none=True, required=True, metadata={
        "description": "The mean rating, or the NPS."})


class WeDidReleaseSchema(Schema):
    epsilon = fields.Float(required=True, metadata={"description": "Spent from your budget."})
    confidence = fields.Float(required=True, allow_none=True)
    minimum_cohort = fields.Integer(required=True, allow_none=True)
    suppressed = fields.Boolean(required=True, metadata={
        "description": "Fewer members than the minimum cohort (decided on a noisy count)."})
    respondents = fields.Nested(EstimateSchema, allow_none=True, required=True)
    mean_rating = fields.Nested(EstimateSchema, allow_none=True, required=True, metadata={
        "description": "A touchpoint's mean rating."})
    nps = fields.Nested(EstimateSchema, allow_none=True, required=True, metadata={
        "description": "A touchpoint's NPS."})
    questions = fields.List(fields.Nested(QuestionReleaseSchema), allow_none=True,
                            required=True, metadata={
                                "description": "A survey's rating and NPS questions."})
    votes = fields.Integer(allow_none=True, required=True, metadata={
        "description": "An idea's votes when you posted (no epsilon: you read them already)."})
    made_at = fields.DateTime(required=True)


class WeDidSchema(Schema):
    id = fields.String(required=True, metadata={"pattern": POST_ID_PATTERN})
    subject_kind = fields.String(required=True)
    subject = fields.String(required=True)
    said = fields.String(required=True)
    did = fields.String(required=True)
    changed_on = fields.Date(required=True)
    release = fields.Nested(WeDidReleaseSchema, allow_none=True, required=True, metadata={
        "description": "The differentially private aggregate made once when you posted (null"
                       " if your budget could not pay for it): members see exactly this."})
    posted_at = fields.DateTime(required=True)
    withdrawn_at = fields.DateTime(allow_none=True, required=True)


class WeDidListSchema(Schema):
    posts = fields.List(fields.Nested(WeDidSchema), required=True)
    next_offset = fields.Integer(required=True, allow_none=True)


class WeDidEnvelopeSchema(Schema):
    post = fields.Nested(WeDidSchema, required=True)


class CareEntrySchema(Schema):
    touchpoint = fields.String(required=True)
    rating = fields.Integer(required=True)
    nps = fields.Integer(required=True, allow_none=True)
    occurred_on = fields.Date(required=True)
    comment = fields.String(required=True)


class CareContactSchema(Schema):
    field = fields.String(required=True, validate=validate.OneOf(["contact_email", "phone"]))
    value = fields.String(required=True)


class CareCaseSchema(Schema):
    id = fields.String(required=True, metadata={"pattern": CASE_ID_PATTERN})
    subject = fields.String(required=True, metadata={
        "description": "The member, by their pairwise pseudonym for this brand."})
    state = fields.String(required=True, validate=validate.OneOf(_CASE_STATES))
    source = fields.String(required=True, validate=validate.OneOf(["feedback", "survey"]))
    contact_field = fields.String(required=True, allow_none=True)
    opened_at = fields.DateTime(required=True)
    ends_at = fields.DateTime(required=True)
    answered_at = fields.DateTime(required=True, allow_none=True)
    closed_at = fields.DateTime(required=True, allow_none=True)
    closed_by = fields.String(required=True, allow_none=True)


class CareAnswerReadSchema(Schema):
    position = fields.Integer(required=True)
    kind = fields.String(required=True,
                         validate=validate.OneOf(["rating", "nps", "single", "multiple", "text"]))
    prompt = fields.String(required=True)
    value = fields.Integer(required=True, allow_none=True)
    choices = fields.List(fields.Integer(), required=True, allow_none=True)
    text = fields.String(required=True, allow_none=True)


class CareSurveySchema(Schema):
    id = fields.String(required=True)
    title = fields.String(required=True)
    answers = fields.List(fields.Nested(CareAnswerReadSchema), required=True)


class CareCaseReadSchema(CareCaseSchema):
    entry = fields.Nested(CareEntrySchema, required=True, allow_none=True, metadata={
        "description": "The feedback entry the case is about, while the case is live."})
    contact = fields.Nested(CareContactSchema, required=True, allow_none=True, metadata={
        "description": "The way to reach the member they chose, if any, while live."})
    survey = fields.Nested(CareSurveySchema, required=True, allow_none=True, metadata={
        "description": "A case about a survey: the member's answers to it, while live."})


class CareCasesSchema(Schema):
    cases = fields.List(fields.Nested(CareCaseSchema), required=True)
    next_offset = fields.Integer(required=True, allow_none=True)


class CareCaseEnvelopeSchema(Schema):
    case = fields.Nested(CareCaseReadSchema, required=True)


def add_paths(spec: APISpec, operation: Any) -> None:
    """Add the loop's schemas and paths to ``spec`` (``operation``: the document's builder of
    a plain operation)."""
    for name, schema in (("CareCases", CareCasesSchema), ("CareCaseEnvelope",
                                                          CareCaseEnvelopeSchema),
                         ("CareAnswer", CareAnswerSchema),
                         ("WeDidList", WeDidListSchema), ("WeDidEnvelope", WeDidEnvelopeSchema),
                         ("WeDidRequest", WeDidRequestSchema)):
        spec.components.schema(name, schema=schema)
    scope: list[dict[str, list[str]]] = [{"brand": [LOOP_SCOPE]}]
    spec.components.response("CaseNotFound", {
        "description": "None of this brand's care cases has this id.",
        "content": {"application/problem+json": {"schema": "Problem"}}})
    spec.components.response("PostNotFound", {
        "description": "None of this brand's posts has this id.",
        "content": {"application/problem+json": {"schema": "Problem"}}})

    def _with_id(name: str, pattern: str, summary: str, description: str, envelope: str,
                 body: str | None, not_found: str, *, post: bool = True) -> dict[str, Any]:
        """``body``: a POST's request body schema, None for one that takes none."""
        operation_: dict[str, Any] = {
            "summary": summary, "description": description,
            "parameters": [{"in": "path", "name": name, "required": True,
                            "schema": {"type": "string", "pattern": pattern}}],
            "responses": {"200": {"description": "OK", "content": {
                "application/json": {"schema": envelope}}},
                "400": "BadRequest", "401": "Unauthorized", "403": "Forbidden",
                "404": not_found, "429": "TooManyRequests"},
            "security": scope}
        if post:
            operation_["requestBody"] = NO_BODY_REQUEST if body is None else {
                "required": True, "content": {"application/json": {"schema": body}}}
            operation_["responses"].update({"409": "Conflict", "413": "ContentTooLarge",
                                            "415": "UnsupportedMediaType"})
        return operation_

    spec.path(path="/care/cases", operations={"get": {
        **operation("Care cases members opened with this brand",
                    "A member who gave you a low score asked you to get back to them: a"
                    " one-time customer-care grant. Lists carry no member data.",
                    CareCasesQuery, "CareCases"), "security": scope}})
    spec.path(path="/care/cases/{case_id}", operations={"get": _with_id(
        "case_id", CASE_ID_PATTERN, "One care case",
        "While the case is live: the feedback entry it is about and the contact the member"
        " chose. Each read is a ledger entry the member sees.", "CareCaseEnvelope", None,
        "CaseNotFound", post=False)})
    spec.path(path="/care/cases/{case_id}/answer", operations={"post": _with_id(
        "case_id", CASE_ID_PATTERN, "Answer the member",
        "The member reads your answer on their page; the case is then answered.",
        "CareCaseEnvelope", "CareAnswer", "CaseNotFound")})
    spec.path(path="/care/cases/{case_id}/close", operations={"post": _with_id(
        "case_id", CASE_ID_PATTERN, "Close the case",
        "You give the customer-care grant up (the member gets the receipt); nothing of the"
        " case can be read after.", "CareCaseEnvelope", None, "CaseNotFound")})
    spec.path(path="/wedid", operations={
        "get": {**operation("Your \"you said, we did\" posts", "Newest first.", WeDidQuery,
                            "WeDidList"), "security": scope},
        "post": {**operation(
            "Tell members what you did",
            "Posted against a touchpoint, a survey or an idea: the members who took part"
            " (gave you feedback there, answered the survey, posted or voted for the idea)"
            " see it next to the aggregate made once now: a differentially private release"
            " paid from your privacy budget (mean rating and NPS, or the survey's rating and"
            " NPS questions), or an idea's vote count.", WeDidQuery, "WeDidEnvelope",
            created=True),
            "parameters": [],
            "requestBody": {"required": True, "content": {
                "application/json": {"schema": "WeDidRequest"}}},
            "security": scope}})
    spec.path(path="/wedid/{post_id}/withdraw", operations={"post": _with_id(
        "post_id", POST_ID_PATTERN, "Withdraw a post", "Members no longer see it.",
        "WeDidEnvelope", None, "PostNotFound")})
