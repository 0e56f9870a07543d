"""Closing the loop on the brand API, with a client credentials token holding
``communities:write``: "you said, we did" posts, and the care cases members open.

- ``GET /api/v1/wedid`` (``withdrawn``, ``limit``, ``offset``), ``POST /api/v1/wedid``: the
  brand's posts; posting makes the release members see (``brand_gateway/insights/wedid.py``).
- ``POST /api/v1/wedid/<id>/withdraw``: members no longer see it.
- ``GET /api/v1/care/cases`` (``state``, ``limit``, ``offset``): the brand's cases, no member
  data; ``GET /api/v1/care/cases/<id>``: one case, with the entry and chosen contact while
  live (each read a ledger entry under the brand's name, as every brand read is).
- ``POST /api/v1/care/cases/<id>/answer`` (``{"message": ...}``), ``.../close`` (``{}``).

A brand sees only its own posts and cases (another brand's is a 404, as a missing one), the
member only under its pairwise pseudonym. Bodies through marshmallow (``unknown = RAISE``),
errors as problem+json, per-client rate limits, as the rest of the API.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, current_app
from marshmallow import Schema

from community.care import CareCase, CareService
from community.loop import WeDid, WeDidService
from community.storage import care_service, wedid_service
from consent.context import Consent
from vault.errors import ConflictError, NotFoundError, ValidationError

from ..api_errors import ApiConflictError, ApiNotFoundError, BodyError
from ..insights.releases import PrivateReleases, ReleaseSettings
from ..insights.wedid import release_for
from ..reads import Caller
from ..request_stores import request_stores
from ..storage import accepts_term, privacy_budget
from . import PREFIX
from .bearer import requires_scope
from .loop_schemas import (
    LOOP_SCOPE,
    CareAnswerSchema,
    CareCasesQuery,
    WeDidQuery,
    WeDidRequestSchema,
)
from .payloads import (
    iso,
    json_body,
    json_response,
    load_query,
    loaded,
    no_body,
    page_response,
)
from .schemas import EmptyQuery

bp = Blueprint("api_loop", __name__, url_prefix=PREFIX)

_CASES_QUERY = CareCasesQuery()
_WEDID_QUERY = WeDidQuery()
_EMPTY_QUERY = EmptyQuery()
_ANSWER = CareAnswerSchema()
_WEDID = WeDidRequestSchema()


def _consent() -> Consent:
    return request_stores().consent()


def _care() -> CareService:
    consent = _consent()
    vault = consent.vault
    return care_service(consent=consent, accepts_term=accepts_term(
        database=vault.data, clock=vault.clock, master=vault.master))


def _posts() -> WeDidService:
    return wedid_service(consent=_consent())


def _body(schema: Schema) -> dict[str, Any]:
    return loaded(schema, json_body())


def _mapped(call: Callable[[], Any], not_found: str) -> Any:
    """The services' errors as the API's."""
    try:
        return call()
    except NotFoundError:
        raise ApiNotFoundError(not_found) from None
    except ConflictError as exc:
        raise ApiConflictError(str(exc)) from None
    except ValidationError as exc:
        raise BodyError(exc.errors) from None


# -- "you said, we did" ------------------------------------------------------------------------
def _post(post: WeDid) -> dict[str, Any]:
    release = post.release
    if release is not None:
        release = {**release, "made_at": iso(release["made_at"])}
    return {"id": post.id, "subject_kind": post.subject_kind, "subject": post.subject_ref,
            "said": post.said, "did": post.did, "changed_on": post.changed_on,
            "release": release, "posted_at": iso(post.posted_at),
            "withdrawn_at": iso(post.withdrawn_at)}


@bp.get("/wedid")
@requires_scope(LOOP_SCOPE)
def list_posts(caller: Caller) -> Response:
    query = load_query(_WEDID_QUERY)
    limit, offset = query["limit"], query["offset"]
    posts = _posts().for_brand(caller.client.brand_id, withdrawn=query["withdrawn"],
                               limit=limit + 1, offset=offset)
    return page_response("posts", posts, limit=limit, offset=offset, render=_post)


@bp.post("/wedid")
@requires_scope(LOOP_SCOPE)
def create_post(caller: Caller) -> Response:
    load_query(_EMPTY_QUERY)
    body = _body(_WEDID)
    body["changed_on"] = body["changed_on"].isoformat()
    vault = _consent().vault
    budget = privacy_budget(database=vault.data, clock=vault.clock)
    releases = PrivateReleases(budget=budget, settings=ReleaseSettings(
        minimum_cohort=current_app.config["VRMVAULT_MINIMUM_COHORT"]))
    brand_id = caller.client.brand_id
    release = release_for(releases, budget, now=vault.clock())
    post = _mapped(lambda: _posts().post(brand_id, body, release=release), "No such post.")
    response = json_response({"post": _post(post)})
    response.status_code = 201
    return response


@bp.post("/wedid/<post_id>/withdraw")
@requires_scope(LOOP_SCOPE)
def withdraw_post(caller: Caller, post_id: str) -> Response:
    load_query(_EMPTY_QUERY)
    no_body()
    post = _mapped(lambda: _posts().withdraw(caller.client.brand_id, post_id),
                   "This brand has posted nothing with this id.")
    return json_response({"post": _post(post)})


# -- care cases --------------------------------------------------------------------------------
_NO_CASE = "No care case with this id was opened with this brand."


def _case(care: CareService, case: CareCase) -> dict[str, Any]:
    return {"id": case.id, "subject": care.subject(case), "state": case.state.value,
            "source": case.source, "contact_field": case.contact_field,
            "opened_at": iso(case.opened_at), "ends_at": iso(case.ends_at),
            "answered_at": iso(case.answered_at), "closed_at": iso(case.closed_at),
            "closed_by": case.closed_by}


def _read(care: CareService, caller: Caller, case_id: str) -> dict[str, Any]:
    read = _mapped(lambda: care.brand_read(caller.client.brand_id, case_id,
                                           client_id=caller.client.client_id), _NO_CASE)
    entry = read.entry
    return {**_case(care, read.case),
            "entry": None if entry is None else {
                "touchpoint": entry.touchpoint, "rating": entry.rating, "nps": entry.nps,
                "occurred_on": entry.occurred_on, "comment": entry.comment},
            "contact": None if read.contact is None else {
                "field": read.case.contact_field, "value": read.contact},
            "survey": None if read.survey is None else {
                "id": read.case.source_ref, "title": read.survey.survey.record.title,
                "answers": [_answer(read.survey, a) for a in read.survey.answers]}}


def _answer(asked: Any, answer: Any) -> dict[str, Any]:
    kinds = {q.position: (q.kind, q.prompt) for q in asked.survey.questions}
    kind, prompt = kinds[answer.position]
    return {"position": answer.position, "kind": kind, "prompt": prompt, "value": answer.value,
            "choices": None if answer.choices is None else list(answer.choices),
            "text": answer.text}


@bp.get("/care/cases")
@requires_scope(LOOP_SCOPE)
def list_cases(caller: Caller) -> Response:
    query = load_query(_CASES_QUERY)
    limit, offset = query["limit"], query["offset"]
    care = _care()
    cases = care.for_brand(caller.client.brand_id, live_only=query["state"] == "live",
                           limit=limit + 1, offset=offset)
    return page_response("cases", cases, limit=limit, offset=offset,
                         render=lambda case: _case(care, case))


@bp.get("/care/cases/<case_id>")
@requires_scope(LOOP_SCOPE)
def get_case(caller: Caller, case_id: str) -> Response:
    load_query(_EMPTY_QUERY)
    care = _care()
    return json_response({"case": _read(care, caller, case_id)})


@bp.post("/care/cases/<case_id>/answer")
@requires_scope(LOOP_SCOPE)
def answer_case(caller: Caller, case_id: str) -> Response:
    load_query(_EMPTY_QUERY)
    message = _body(_ANSWER)["message"]
    care = _care()
    _mapped(lambda: care.answer(caller.client.brand_id, case_id, message), _NO_CASE)
    return json_response({"case": _read(care, caller, case_id)})


@bp.post("/care/cases/<case_id>/close")
@requires_scope(LOOP_SCOPE)
def close_case(caller: Caller, case_id: str) -> Response:
    load_query(_EMPTY_QUERY)
    no_body()
    care = _care()
    _mapped(lambda: care.close_by_brand(caller.client.brand_id, case_id), _NO_CASE)
    return json_response({"case": _read(care, caller, case_id)})


