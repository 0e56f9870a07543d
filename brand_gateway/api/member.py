"""The brand API's member data, under ``/api/v1/member``: what a member-delegated token may read.

- ``GET /api/v1/member``: the token's authorizations as the member's policy allows them now.
- ``GET /api/v1/member/profile`` (``purpose``, ``fields``): the profile fields shared with the
  brand for the purpose; every requested field not returned is listed as ``withheld``. The hot
  path of the brand side: nothing is added here that a read does not need.
- ``GET /api/v1/member/feedback`` (``purpose``, ``limit``, ``offset``): the member's feedback
  about this brand, a page at a time.

Machine endpoints, not pages: no session, no CSRF token (``api`` is not in
``security.FORM_BLUEPRINTS``), nothing here reads or writes the session, so an API request never
makes a session row or sets a cookie. The views take the bearer token
(:mod:`brand_gateway.api.bearer`) and the query, call the read pipeline
(:mod:`brand_gateway.reads`: authenticate, decide, release, record) and render. ``429``
carries ``Retry-After``; errors are RFC 9457 problem details (``web/errors.py``). The response
shapes are in :mod:`brand_gateway.api.schemas`, served as OpenAPI 3.1 at
``/api/v1/openapi.json``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from consent.vocabulary import PURPOSE_BY_CODE
from vault.feedback import FeedbackEntry

from . import PREFIX
from .bearer import bearer_token, reads
from .payloads import iso, json_response, load_query
from .schemas import FeedbackQuery, MemberQuery, ProfileQuery

bp = Blueprint("api", __name__, url_prefix=PREFIX)

_MEMBER_QUERY = MemberQuery()
_PROFILE_QUERY = ProfileQuery()
_FEEDBACK_QUERY = FeedbackQuery()


@bp.get("/member")
def member() -> Response:
    pipeline = reads()
    caller = pipeline.authenticate(bearer_token())
    load_query(_MEMBER_QUERY)
    access = pipeline.access(caller)
    token = caller.token
    ends = min(t for t in (token.expires_at, token.family_expires_at) if t is not None)
    return json_response({
        "subject": pipeline.subject(access.member_id, caller.client.brand_id),
        "authorizations": [
            {"purpose": p.purpose,
             "purpose_label": getattr(PURPOSE_BY_CODE.get(p.purpose), "label", p.purpose),
             "fields": list(p.allowed), "ends_at": iso(p.ends_at)}
            for p in access.purposes.values()],
        "token_expires_at": iso(ends),
    })


@bp.get("/member/profile")
def profile() -> Response:
    read = reads().profile(bearer_token(), lambda: load_query(_PROFILE_QUERY))
    return json_response({"subject": read.subject, "purpose": read.purpose,
                          "profile": read.release.values,
                          "withheld": list(read.release.withheld)})


@bp.get("/member/feedback")
def feedback() -> Response:
    read = reads().feedback(bearer_token(), lambda: load_query(_FEEDBACK_QUERY))
    release, limit, offset = read.release, read.limit, read.offset
    return json_response({
        "subject": read.subject, "purpose": read.purpose,
        "entries": [_entry(e) for e in release.entries], "total": release.total,
        "next_offset": offset + limit if offset + limit < release.total else None,
        "withheld": list(release.withheld)})


def _entry(entry: FeedbackEntry) -> dict[str, Any]:
    # No entry id: the vault's ids are global and sequential, and would tell a brand how much
    # feedback the vault holds; nothing else about the entry is left out.
    return {"touchpoint": entry.touchpoint, "rating": entry.rating, "nps": entry.nps,
            "occurred_on": entry.occurred_on, "comment": entry.comment}
