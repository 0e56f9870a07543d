"""The brand API's surveys, feedback requests and attribute requests (issue 14), with a client
credentials token holding the ``surveys:write`` scope:

- ``GET /api/v1/surveys`` (``limit``, ``offset``) and ``POST /api/v1/surveys``: the brand's
  surveys; publish one to one of its communities.
- ``POST /api/v1/feedback-requests``: a one-question survey about a touchpoint.
- ``GET /api/v1/surveys/<id>``: one of them, with its audience (a thresholded differentially
  private count, measured once at publication: brand_gateway/insights/audience.py).
- ``GET /api/v1/surveys/<id>/answers`` (``limit``, ``offset``): the individual answers of
  members whose grant allows survey answers individually, under the brand's pairwise
  pseudonyms; each member released is a ledger entry, recorded before the answers leave.
- ``GET /api/v1/attribute-requests`` and ``POST /api/v1/attribute-requests``: progressive
  profiling, asking the community for one non-sensitive attribute.

A brand sees only its own surveys (another brand's is as unknown as a missing one, 404) and
never who is asked; aggregates over answers are the insights API's. Same rules as the rest of
the brand API otherwise: bearer token in the header only, problem+json (``errors`` naming each
member of a bad body), per-client rate limits.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Response, current_app, request, url_for
from marshmallow import Schema

from community.attribute_requests import AttributeRequestService
from community.audience import Cohort
from community.repositories import AttributeRequestRecord
from community.storage import attribute_request_service, survey_service
from community.surveys import Answer, QuestionDraft, Survey, SurveyDraft, SurveyService
from vault.errors import NotFoundError, ValidationError

from ..api_errors import ApiNotFoundError, BodyError
from ..insights.audience import audience_measure
from ..reads import Caller
from ..request_stores import request_stores
from ..storage import pairwise_pseudonyms
from . import PREFIX
from .bearer import requires_scope
from .insights import brand_releases
from .payloads import iso, json_body, json_response, load_query, loaded, page_response
from .schemas import EmptyQuery
from .survey_schemas import (
    MAX_SURVEY_BODY,
    SURVEYS_SCOPE,
    AttributeRequestSchema,
    FeedbackRequestSchema,
    PageQuery,
    SurveyRequestSchema,
)

bp = Blueprint("api_surveys", __name__, url_prefix=PREFIX)

_PAGE = PageQuery()
_EMPTY = EmptyQuery()
_SURVEY = SurveyRequestSchema()
_FEEDBACK_REQUEST = FeedbackRequestSchema()
_ATTRIBUTE_REQUEST = AttributeRequestSchema()
_SURVEY_ID = re.compile(r"srv_[0-9a-f]{24}")
_NOT_FOUND = "No survey with this id was published by this brand."


def _surveys() -> SurveyService:
    """Surveys whose audience a brand is told as one differentially private count, paid from
    its insights budget when the survey is published (brand_gateway/insights/audience.py)."""
    return survey_service(consent=request_stores().consent(),
                          minimum_cohort=current_app.config["VRMVAULT_MINIMUM_COHORT"],
                          audience=audience_measure(brand_releases()))


def _requests() -> AttributeRequestService:
    return attribute_request_service(consent=request_stores().consent())


@bp.before_request
def _survey_body_limit() -> None:
    """A survey with its questions, choices and criteria is more than the API's usual 4 KiB:
    what the schemas allow fits in :data:`MAX_SURVEY_BODY` (JSON escapes included). Set before
    anything reads the body (the bearer check reads a form body), so every reader has one
    limit."""
    request.max_content_length = MAX_SURVEY_BODY


def _body(schema: Schema) -> dict[str, Any]:
    return loaded(schema, json_body())


def _refused(exc: ValidationError) -> BodyError:
    return BodyError({str(k)[:60]: list(v) for k, v in list(exc.errors.items())[:10]})


def _audience(cohort: Cohort) -> dict[str, Any]:
    return {"eligible": cohort.reported, "minimum": cohort.minimum,
            "measured": cohort.measured, "text": cohort.text}


def _survey(survey: Survey, cohort: Cohort | None = None) -> dict[str, Any]:
    record = survey.record
    body: dict[str, Any] = {
        "id": record.id, "community_id": record.community_id, "kind": record.kind,
        "title": record.title, "touchpoint": record.touchpoint,
        "opens_at": iso(record.opens_at), "closes_at": iso(record.closes_at),
        "published_at": iso(record.published_at),
        "criteria": [c.as_json() for c in survey.criteria],
        "questions": [{"position": q.position, "kind": q.kind, "prompt": q.prompt,
                       "choices": list(q.choices)} for q in survey.questions]}
    if cohort is not None:
        body["audience"] = _audience(cohort)
    return body


def _answer(answer: Answer) -> dict[str, Any]:
    return {"position": answer.position, "value": answer.value,
            "choices": list(answer.choices) if answer.choices is not None else None,
            "text": answer.text}


def _request(record: AttributeRequestRecord) -> dict[str, Any]:
    return {"id": record.id, "community_id": record.community_id,
            "attribute": record.attribute, "reason": record.reason,
            "created_at": iso(record.created_at), "closes_at": iso(record.closes_at)}


def _seconds(value: Any) -> int | None:
    return None if value is None else int(value.timestamp())


def _publish(caller: Caller, draft: SurveyDraft) -> Response:
    try:
        published = _surveys().publish(caller.client.brand_id, draft)
    except ValidationError as exc:
        raise _refused(exc) from None
    response = json_response({"survey": _survey(published.survey, published.cohort)})
    response.status_code = 201
    # RFC 9110 sec. 15.3.2: without Location, the created resource would be the target URI.
    response.headers["Location"] = url_for("api_surveys.get_survey",
                                           survey_id=published.survey.id)
    return response


@bp.get("/surveys")
@requires_scope(SURVEYS_SCOPE)
def list_surveys(caller: Caller) -> Response:
    query = load_query(_PAGE)
    limit, offset = query["limit"], query["offset"]
    surveys = _surveys().for_brand(caller.client.brand_id, limit=limit + 1, offset=offset)
    return page_response("surveys", surveys, limit=limit, offset=offset, render=_survey)


@bp.post("/surveys")
@requires_scope(SURVEYS_SCOPE)
def publish_survey(caller: Caller) -> Response:
    load_query(_EMPTY)
    body = _body(_SURVEY)
    return _publish(caller, SurveyDraft(
        community_id=body["community_id"], title=body["title"], kind="survey",
        questions=tuple(QuestionDraft(q["kind"], q["prompt"], tuple(q["choices"]))
                        for q in body["questions"]),
        opens_at=_seconds(body.get("opens_at")), closes_at=int(body["closes_at"].timestamp()),
        touchpoint=body["touchpoint"], criteria=body["criteria"]))


@bp.post("/feedback-requests")
@requires_scope(SURVEYS_SCOPE)
def publish_feedback_request(caller: Caller) -> Response:
    load_query(_EMPTY)
    body = _body(_FEEDBACK_REQUEST)
    return _publish(caller, SurveyDraft(
        community_id=body["community_id"], kind="feedback_request",
        title=body.get("title") or body["prompt"][:120],
        questions=(QuestionDraft("rating", body["prompt"]),),
        opens_at=_seconds(body.get("opens_at")), closes_at=int(body["closes_at"].timestamp()),
        touchpoint=body["touchpoint"], criteria=body["criteria"]))


def _own(caller: Caller, survey_id: str) -> Survey:
    if not _SURVEY_ID.fullmatch(survey_id):
        raise ApiNotFoundError(_NOT_FOUND)
    try:
        return _surveys().brand_survey(caller.client.brand_id, survey_id)
    except NotFoundError:
        raise ApiNotFoundError(_NOT_FOUND) from None


@bp.get("/surveys/<survey_id>")
@requires_scope(SURVEYS_SCOPE)
def get_survey(caller: Caller, survey_id: str) -> Response:
    load_query(_EMPTY)
    survey = _own(caller, survey_id)
    return json_response({"survey": _survey(survey, _surveys().cohort(survey))})


@bp.get("/surveys/<survey_id>/answers")
@requires_scope(SURVEYS_SCOPE)
def individual_answers(caller: Caller, survey_id: str) -> Response:
    query = load_query(_PAGE)
    limit, offset = query["limit"], query["offset"]
    survey = _own(caller, survey_id)
    brand_id = caller.client.brand_id
    released, more = _surveys().release(brand_id, survey.id, client_id=caller.client.client_id,
                                        limit=limit, offset=offset)
    stores = request_stores()
    pseudonyms = pairwise_pseudonyms(database=stores.vault().data, master=stores.master())
    return json_response({
        "survey_id": survey.id,
        "answers": [{"subject": pseudonyms.record(r.member_id, brand_id),
                     "answered_at": iso(r.answered_at),
                     "answers": [_answer(a) for a in r.answers]} for r in released],
        "next_offset": offset + limit if more else None})


@bp.get("/attribute-requests")
@requires_scope(SURVEYS_SCOPE)
def list_attribute_requests(caller: Caller) -> Response:
    query = load_query(_PAGE)
    limit, offset = query["limit"], query["offset"]
    found = _requests().for_brand(caller.client.brand_id, limit=limit + 1, offset=offset)
    return page_response("attribute_requests", found, limit=limit, offset=offset,
                         render=_request)


@bp.post("/attribute-requests")
@requires_scope(SURVEYS_SCOPE)
def ask_attribute(caller: Caller) -> Response:
    load_query(_EMPTY)
    body = _body(_ATTRIBUTE_REQUEST)
    try:
        record = _requests().ask(caller.client.brand_id, community_id=body["community_id"],
                                 attribute=body["attribute"], reason=body["reason"],
                                 closes_at=int(body["closes_at"].timestamp()))
    except ValidationError as exc:
        raise _refused(exc) from None
    response = json_response({"attribute_request": _request(record)})
    response.status_code = 201
    return response
