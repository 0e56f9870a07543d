"""Data subject requests on the brand API, with a client credentials token holding
``requests:write``: the brand lists the requests sent to it and answers each with status events.

- ``GET /api/v1/requests`` (``state`` open|all, ``limit``, ``offset``), ``GET
  /api/v1/requests/<uid>``: the brand's own requests, the member by its pairwise subject only.
- ``POST /api/v1/requests/<uid>/events``: a Ketch Forwarder ``dsr/v1`` style status event
  (request_schemas.py); the callback URL each forwarded message names.

A brand sees and answers only what was sent to it: another brand's uid is a 404, as a missing
one; a final state is final (409). Bodies through marshmallow (``unknown = RAISE``), errors as
problem+json, per-client rate limits, as the rest of the API.
"""

from __future__ import annotations

import base64
from typing import Any

from flask import Blueprint, Response, current_app, request

from compliance.repositories import RequestRow, TaskRow
from compliance.requests import RequestService
from vault.errors import ConflictError, NotFoundError, ValidationError

from ..api_errors import ApiConflictError, ApiNotFoundError, BodyError
from ..dsr import calendar_of, dsr_service
from ..oauth import issuer
from ..reads import Caller
from ..request_stores import request_stores
from . import PREFIX
from .bearer import requires_scope
from .payloads import iso, json_body, json_response, load_query, loaded, page_response
from .request_schemas import EVENT_MAX_BODY, REQUESTS_SCOPE, RequestsQuery, StatusEventSchema
from .schemas import EmptyQuery

bp = Blueprint("api_requests", __name__, url_prefix=PREFIX)

_QUERY = RequestsQuery()
_EMPTY_QUERY = EmptyQuery()
_EVENT = StatusEventSchema()
_NO_REQUEST = "No request with this uid was sent to this brand."


@bp.before_request
def _event_body_limit() -> None:
    """A status event may carry result documents: more than the API's usual 4 KiB, at most
    :data:`EVENT_MAX_BODY`. Set before anything reads the body (the bearer check reads a form
    body), so every reader has one limit."""
    request.max_content_length = EVENT_MAX_BODY


def _service() -> RequestService:
    return dsr_service(request_stores().consent(), callback_base=issuer(),
                       calendar=calendar_of(current_app.config),
                       zone=current_app.config["VRMVAULT_DEADLINE_TIMEZONE"])


def _request(service: RequestService, task: TaskRow, row: RequestRow, results: int = 0
             ) -> dict[str, Any]:
    return {"uid": task.uid, "kind": task.message, "regulation": row.regime,
            "right": row.kind, "subject": task.subject, "status": task.state,
            "reason": task.reason, "submittedTimestamp": service.submitted_at(row),
            "dueTimestamp": service.due_at(row),
            # The day only: the vault moves a request's tasks at every brand it reached at
            # once (forwarded, extended, closed), and the second would be the same in each.
            "updated_at": iso(service.start_of_day(task.updated_at)),
            "closed_at": (None if task.closed_at is None
                          else iso(service.start_of_day(task.closed_at))),
            "results": results}


def _own(service: RequestService, caller: Caller, uid: str) -> tuple[TaskRow, RequestRow]:
    try:
        return service.brand_task(caller.client.brand_id, uid[:64])
    except NotFoundError:
        raise ApiNotFoundError(_NO_REQUEST) from None


@bp.get("/requests")
@requires_scope(REQUESTS_SCOPE)
def list_requests(caller: Caller) -> Response:
    query = load_query(_QUERY)
    limit, offset = query["limit"], query["offset"]
    service = _service()
    found = service.brand_tasks(caller.client.brand_id, open_only=query["state"] == "open",
                                   limit=limit + 1, offset=offset)
    return page_response("requests", found, limit=limit, offset=offset,
                         render=lambda pair: _request(service, *pair))


@bp.get("/requests/<uid>")
@requires_scope(REQUESTS_SCOPE)
def get_request(caller: Caller, uid: str) -> Response:
    load_query(_EMPTY_QUERY)
    service = _service()
    task, row = _own(service, caller, uid)
    return json_response({"request": _request(service, task, row,
                                                service.result_count(task.uid))})


@bp.post("/requests/<uid>/events")
@requires_scope(REQUESTS_SCOPE)
def post_event(caller: Caller, uid: str) -> Response:
    load_query(_EMPTY_QUERY)
    service = _service()
    body = json_body()                     # an oversized body: the 413, whoever asks
    _own(service, caller, uid)             # another brand's uid: a 404 before the body's 400
    event = loaded(_EVENT, body)
    results = [(d["name"], d["headers"]["content_type"], base64.b64decode(d["data"]))
               for d in event.get("results", [])]
    try:
        task, row = service.brand_update(caller.client.brand_id, uid, state=event["status"],
                                         reason=event.get("reason"), results=results)
    except NotFoundError:
        raise ApiNotFoundError(_NO_REQUEST) from None
    except ConflictError as exc:
        raise ApiConflictError(str(exc)) from None
    except ValidationError as exc:
        raise BodyError(exc.errors) from None
    return json_response({"request": _request(service, task, row,
                                                service.result_count(uid))})
