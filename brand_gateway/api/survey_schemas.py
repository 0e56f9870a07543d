"""The marshmallow schemas of the brand API's surveys, feedback requests and attribute
requests, and their part of the OpenAPI document (:func:`add_survey_paths`, called by
:func:`brand_gateway.api.schemas.openapi_document`).

Request bodies are loaded with ``unknown = RAISE`` (a member we do not know is a 400, never
ignored); what the schemas cannot say (the community is the brand's, a criterion's attribute is
not sensitive, the dates are in range) the services check (community/surveys.py,
community/attribute_requests.py), and the API answers both the same way (problem+json,
``errors`` naming each member). Schemas never query the store (STYLE point 8).
"""

from __future__ import annotations

from typing import Any

from apispec import APISpec
from marshmallow import RAISE, Schema, fields, validate

from community.attribute_requests import MAX_REASON
from community.audience import MAX_CRITERIA, MAX_VALUE, MAX_VALUES, PERSONA_ATTRIBUTES
from community.surveys import (
    KINDS,
    MAX_CHOICE,
    MAX_CHOICES,
    MAX_PROMPT,
    MAX_QUESTIONS,
    MAX_TEXT_ANSWER,
    MAX_TITLE,
    QUESTION_KINDS,
)
from vault.catalog import TOUCHPOINT_KEYS

from .schemas import (
    COMMUNITY_ID_PATTERN,
    DEFAULT_PAGE,
    MAX_OFFSET,
    MAX_PAGE,
    QuerySchema,
    Rfc3339DateTime,
    location_header,
)

SURVEYS_SCOPE = "surveys:write"
#: The body limit of the survey operations (the rest of the API takes 4 KiB).
MAX_SURVEY_BODY = 512 * 1024
SURVEY_ID_PATTERN = "^srv_[0-9a-f]{24}$"
ATTRIBUTE_REQUEST_ID_PATTERN = "^atr_[0-9a-f]{24}$"
_TOUCHPOINTS = sorted(TOUCHPOINT_KEYS)
_COMMUNITY_ID = {"description": "One of your communities' ids.",
                 "examples": ["com_0123456789abcdef01234567"]}
# A community id as the vault makes them: anything else is refused before any store is asked
# (PostgreSQL refuses a NUL in a text value outright).
_COMMUNITY_ID_FORMAT = validate.Regexp(COMMUNITY_ID_PATTERN, error="Not a community id.")


class _Body(Schema):
    class Meta:
        unknown = RAISE


# -- requests ---------------------------------------------------------------------------------
class QuestionRequestSchema(_Body):
    kind = fields.String(required=True, validate=validate.OneOf(QUESTION_KINDS), metadata={
        "description": "rating (1-5), nps (0-10), single or multiple (choices), text (short"
                       " text: released only from members who granted individual use)."})
    prompt = fields.String(required=True, validate=validate.Length(1, MAX_PROMPT))
    choices = fields.List(fields.String(validate=validate.Length(1, MAX_CHOICE)),
                          validate=validate.Length(max=MAX_CHOICES), load_default=list,
                          metadata={"description": "For single and multiple only: 2 to"
                                                   f" {MAX_CHOICES} different choices."})


class CriterionSchema(_Body):
    attribute = fields.String(required=True, validate=validate.OneOf(PERSONA_ATTRIBUTES),
                              metadata={"description": "A non-sensitive persona attribute;"
                                                       " sensitive ones are refused."})
    any_of = fields.List(fields.String(validate=validate.Length(1, MAX_VALUE)),
                         validate=validate.Length(1, MAX_VALUES), metadata={
                             "description": "For choice, country and text attributes: the"
                                            " values that qualify."})
    min = fields.Integer(validate=validate.Range(0, 150), metadata={
        "description": "For household_size: the smallest; for date_of_birth: the youngest age"
                       " in years."})
    max = fields.Integer(validate=validate.Range(0, 150))


_CRITERIA = fields.List(fields.Nested(CriterionSchema), validate=validate.Length(
    max=MAX_CRITERIA), load_default=list, metadata={
    "description": "Who in the community is asked, all of them holding; evaluated inside the"
                   " vault over members' own profiles, only on attributes each member lets"
                   " count for you. You learn only how many, thresholded."})
_OPENS = Rfc3339DateTime(metadata={"description": "When members may start answering"
                                                       " (default: now)."})
_CLOSES = Rfc3339DateTime(required=True, metadata={
    "description": "When answers stop changing; within a year of opening."})


class SurveyRequestSchema(_Body):
    community_id = fields.String(required=True, validate=_COMMUNITY_ID_FORMAT,
                                 metadata=_COMMUNITY_ID)
    title = fields.String(required=True, validate=validate.Length(1, MAX_TITLE))
    touchpoint = fields.String(validate=validate.OneOf(_TOUCHPOINTS), allow_none=True,
                               load_default=None)
    opens_at = _OPENS
    closes_at = _CLOSES
    criteria = _CRITERIA
    questions = fields.List(fields.Nested(QuestionRequestSchema), required=True,
                            validate=validate.Length(1, MAX_QUESTIONS))


class FeedbackRequestSchema(_Body):
    """A one-question survey about a touchpoint; the member's rating also lands in their
    feedback journal."""

    community_id = fields.String(required=True, validate=_COMMUNITY_ID_FORMAT,
                                 metadata=_COMMUNITY_ID)
    touchpoint = fields.String(required=True, validate=validate.OneOf(_TOUCHPOINTS))
    prompt = fields.String(required=True, validate=validate.Length(1, MAX_PROMPT), metadata={
        "description": "The question, answered with a rating from 1 to 5.",
        "examples": ["How was delivery?"]})
    title = fields.String(validate=validate.Length(1, MAX_TITLE))
    opens_at = _OPENS
    closes_at = _CLOSES
    criteria = _CRITERIA


class AttributeRequestSchema(_Body):
    community_id = fields.String(required=True, validate=_COMMUNITY_ID_FORMAT,
                                 metadata=_COMMUNITY_ID)
    attribute = fields.String(required=True, validate=validate.OneOf(PERSONA_ATTRIBUTES),
                              metadata={"description": "The non-sensitive attribute you ask"
                                                       " members to fill in."})
    reason = fields.String(required=True, validate=validate.Length(1, MAX_REASON), metadata={
        "description": "Why you ask, shown to members."})
    closes_at = _CLOSES


class PageQuery(QuerySchema):
    limit = fields.Integer(load_default=DEFAULT_PAGE, validate=validate.Range(1, MAX_PAGE))
    offset = fields.Integer(load_default=0, validate=validate.Range(0, MAX_OFFSET))


# -- responses --------------------------------------------------------------------------------
class QuestionSchema(Schema):
    position = fields.Integer(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(QUESTION_KINDS))
    prompt = fields.String(required=True)
    choices = fields.List(fields.String(), required=True)


class AudienceSchema(Schema):
    eligible = fields.Integer(required=True, allow_none=True, metadata={
        "description": "How many members the survey is put to: a differentially private"
                       " count (OpenDP's discrete Laplace, the member as the privacy unit,"
                       " epsilon 0.25 paid from your insights budget), measured once when the"
                       " survey is published and kept, rounded down to a multiple of ten;"
                       " null when the noisy count is below minimum, or when it was not"
                       " measured. Reading the survey again never counts again."})
    minimum = fields.Integer(required=True)
    measured = fields.Boolean(required=True, metadata={
        "description": "False when your privacy budget of the period could not pay for the"
                       " count: the survey is published all the same, its audience not told."})
    text = fields.String(required=True, metadata={"examples": ["fewer than 50"]})


class SurveySchema(Schema):
    id = fields.String(required=True, metadata={"pattern": SURVEY_ID_PATTERN})
    community_id = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    title = fields.String(required=True)
    touchpoint = fields.String(required=True, allow_none=True)
    opens_at = fields.DateTime(required=True)
    closes_at = fields.DateTime(required=True)
    published_at = fields.DateTime(required=True)
    criteria = fields.List(fields.Dict(), required=True)
    questions = fields.List(fields.Nested(QuestionSchema), required=True)
    audience = fields.Nested(AudienceSchema, allow_none=True, metadata={
        "description": "Only on publication and when one survey is read."})


class SurveyEnvelopeSchema(Schema):
    survey = fields.Nested(SurveySchema, required=True)


class SurveysSchema(Schema):
    surveys = fields.List(fields.Nested(SurveySchema), required=True)
    next_offset = fields.Integer(required=True, allow_none=True)


class AnswerSchema(Schema):
    position = fields.Integer(required=True)
    value = fields.Integer(allow_none=True, metadata={
        "description": "rating, nps, or the index of the single choice."})
    choices = fields.List(fields.Integer(), allow_none=True, metadata={
        "description": "The indexes of the multiple choices ticked."})
    text = fields.String(allow_none=True, validate=validate.Length(max=MAX_TEXT_ANSWER))


class IndividualAnswerSchema(Schema):
    subject = fields.String(required=True, metadata={
        "description": "The member's pairwise pseudonym for you (as the member API's)."})
    answered_at = fields.DateTime(required=True)
    answers = fields.List(fields.Nested(AnswerSchema), required=True)


class IndividualAnswersSchema(Schema):
    survey_id = fields.String(required=True)
    answers = fields.List(fields.Nested(IndividualAnswerSchema), required=True, metadata={
        "description": "Only members who granted you individual use of survey answers; each"
                       " release is a ledger entry they see."})
    next_offset = fields.Integer(required=True, allow_none=True)


class AttributeRequestOutSchema(Schema):
    id = fields.String(required=True, metadata={"pattern": ATTRIBUTE_REQUEST_ID_PATTERN})
    community_id = fields.String(required=True)
    attribute = fields.String(required=True)
    reason = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    closes_at = fields.DateTime(required=True)


class AttributeRequestEnvelopeSchema(Schema):
    attribute_request = fields.Nested(AttributeRequestOutSchema, required=True)


class AttributeRequestsSchema(Schema):
    attribute_requests = fields.List(fields.Nested(AttributeRequestOutSchema), required=True)
    next_offset = fields.Integer(required=True, allow_none=True)


# -- the OpenAPI document ---------------------------------------------------------------------
_PROBLEMS = ("400", "BadRequest"), ("401", "Unauthorized"), ("403", "Forbidden"), (
    "429", "TooManyRequests")


_NEW_SURVEY = "The new survey's path (GET /surveys/{survey_id})."


def _responses(success: str, schema: str, *extra: tuple[str, str],
               location: str | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": "Created" if success == "201" else "OK",
                              "content": {"application/json": {"schema": schema}}}
    if location:
        answer["headers"] = location_header(location)
    return {success: answer, **dict(_PROBLEMS), **dict(extra)}


def add_survey_paths(spec: APISpec) -> None:
    """The surveys' schemas and paths, in ``spec``."""
    for name, schema in (("SurveyRequest", SurveyRequestSchema),
                         ("FeedbackRequest", FeedbackRequestSchema),
                         ("AttributeRequest", AttributeRequestSchema),
                         ("SurveyEnvelope", SurveyEnvelopeSchema), ("Surveys", SurveysSchema),
                         ("IndividualAnswers", IndividualAnswersSchema),
                         ("AttributeRequestEnvelope", AttributeRequestEnvelopeSchema),
                         ("AttributeRequests", AttributeRequestsSchema)):
        spec.components.schema(name, schema=schema)
    spec.components.response("SurveyNotFound", {
        "description": "None of the surveys this brand published has this id.",
        "content": {"application/problem+json": {"schema": "Problem"}}})
    security: list[dict[str, list[str]]] = [{"brand": [SURVEYS_SCOPE]}]
    spec.components.response("SurveyTooLarge", {
        "description": f"The body is larger than {MAX_SURVEY_BODY} bytes (about:blank, status"
                       " 413), whatever its media type.",
        "content": {"application/problem+json": {"schema": "Problem"}}})
    body_problems = (("413", "SurveyTooLarge"), ("415", "UnsupportedMediaType"))
    page = [{"in": "query", "schema": PageQuery}]
    survey_id = {"in": "path", "name": "survey_id", "required": True,
                 "schema": {"type": "string", "pattern": SURVEY_ID_PATTERN}}

    def body(name: str) -> dict[str, Any]:
        return {"required": True, "content": {"application/json": {"schema": name}}}

    spec.path(path="/surveys", operations={
        "get": {"summary": "Your surveys and feedback requests",
                "description": "Latest published first.", "parameters": page,
                "responses": _responses("200", "Surveys"), "security": security},
        "post": {"summary": "Publish a survey to one of your communities",
                 "description": "Questions of type rating (1-5), nps (0-10), single, multiple"
                                " and text; optionally about a touchpoint; an audience of the"
                                " community, optionally narrowed by criteria. The answer says"
                                " how many members it is put to: one differentially private"
                                " count paid from your insights budget (epsilon 0.25; not told"
                                " when the budget is spent), thresholded and kept. Publication"
                                " and delivery are ledger entries.",
                 "requestBody": body("SurveyRequest"),
                 "responses": _responses("201", "SurveyEnvelope", *body_problems,
                                         location=_NEW_SURVEY),
                 "security": security}})
    spec.path(path="/feedback-requests", operations={"post": {
        "summary": "Ask your community about one touchpoint",
        "description": "A one-question survey (a rating from 1 to 5) about a touchpoint; a"
                       " member's answer also lands in their own feedback journal.",
        "requestBody": body("FeedbackRequest"),
        "responses": _responses("201", "SurveyEnvelope", *body_problems,
                                location=_NEW_SURVEY),
        "security": security}})
    spec.path(path="/surveys/{survey_id}", operations={"get": {
        "summary": "One of your surveys", "description": "With its audience as it was"
                       " measured when it was published (never counted again).",
        "parameters": [survey_id],
        "responses": _responses("200", "SurveyEnvelope", ("404", "SurveyNotFound")),
        "security": security}})
    spec.path(path="/surveys/{survey_id}/answers", operations={"get": {
        "summary": "Individual answers, from members who granted individual use",
        "description": "Each member's answers under their pairwise pseudonym for you, text"
                       " included, only where the member's grant to you allows survey answers"
                       " individually now; nothing of anyone else (their answers reach you"
                       " only in aggregate, through insights). Each member released is a"
                       " ledger entry.",
        "parameters": [survey_id, *page],
        "responses": _responses("200", "IndividualAnswers", ("404", "SurveyNotFound")),
        "security": security}})
    spec.path(path="/attribute-requests", operations={
        "get": {"summary": "Your attribute requests", "description": "Latest first.",
                "parameters": page, "responses": _responses("200", "AttributeRequests"),
                "security": security},
        "post": {"summary": "Ask your community for a profile attribute",
                 "description": "Members see the request, may fill the attribute in their own"
                                " profile and choose whether it counts in your aggregates."
                                " You never learn who did.",
                 "requestBody": body("AttributeRequest"),
                 "responses": _responses("201", "AttributeRequestEnvelope", *body_problems),
                 "security": security}})

