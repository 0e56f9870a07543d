"""The brand API's insight communities and co-creation, with the ``communities:write`` scope.

A brand opens communities for DPV purposes (its own analytics and service only: never
profiling, tracking or sharing), invites members with the community's invitation URL (a public
page of the vault, no personal data in it), opens challenges there, reads the ideas members
post with their vote counts and marks the ones it takes up. It never learns who is in a
community. Its size is ``members_at_least``: one differentially private count of the members
(brand_gateway/insights/audience.py: epsilon 0.25 from the brand's insights budget), made on
the brand's first read of the community (alone or in the list; opening one tells null, as no
one can be in it yet) in each budget period and kept for the period, null below the insights'
suppression threshold (on the noisy count), else rounded down to tens. ``members_measured`` is
false, and ``members_at_least`` null, when the budget could not pay (nothing kept: a later read
tries again). A closed community keeps the last figure measured while it was open, and is never
measured again (community/communities.py).

- ``GET/POST /api/v1/communities``; ``GET /api/v1/communities/<id>``;
  ``POST /api/v1/communities/<id>/close`` (releases the grants only it held: 409 once closed)
- ``GET/POST /api/v1/communities/<id>/challenges``; ``GET /api/v1/challenges/<id>``;
  ``POST /api/v1/challenges/<id>/close``
- ``GET /api/v1/challenges/<id>/ideas``: each idea with its author's community pseudonym, its
  text (released to the brand: each version a ledger entry) and its votes; withdrawn ideas are
  gone. ``POST /api/v1/ideas/<id>/take-up``.

A brand sees only its own; another brand's community, challenge or idea is as unknown as a
missing one (404). Bodies are marshmallow-checked (problem+json ``invalid-body`` naming each
member); the rest as for the whole brand API (bearer token in the header, rate limits).
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Response, url_for
from marshmallow import Schema

from community.cocreation import CoCreationService, Idea
from community.communities import JUST_OPENED, CommunityService, CommunitySize
from community.repositories import Challenge, Community
from community.storage import cocreation_service, community_service
from vault.errors import ConflictError, NotFoundError, ValidationError

from ..api_errors import ApiConflictError, ApiNotFoundError, BodyError
from ..insights.audience import community_size_measure
from ..oauth import public_url
from ..reads import Caller
from ..request_stores import request_stores
from . import PREFIX
from .bearer import requires_scope
from .insights import brand_releases
from .payloads import iso, json_body, json_response, load_query, loaded, no_body
from .schemas import (
    CHALLENGE_ID_PATTERN,
    COMMUNITY_ID_PATTERN,
    IDEA_ID_PATTERN,
    ChallengeRequestSchema,
    CommunityRequestSchema,
    EmptyQuery,
)

bp = Blueprint("api_communities", __name__, url_prefix=PREFIX)

COMMUNITIES_SCOPE = "communities:write"
_EMPTY_QUERY = EmptyQuery()
_COMMUNITY = CommunityRequestSchema()
_CHALLENGE = ChallengeRequestSchema()
COMMUNITY_ID = re.compile(COMMUNITY_ID_PATTERN)
CHALLENGE_ID = re.compile(CHALLENGE_ID_PATTERN)
IDEA_ID = re.compile(IDEA_ID_PATTERN)


def _communities() -> CommunityService:
    """Communities whose size a brand is told as a differentially private count, paid from
    its insights budget once a period (brand_gateway/insights/audience.py)."""
    return community_service(request_stores().consent(),
                             size=community_size_measure(brand_releases()))


def _cocreation() -> CoCreationService:
    return cocreation_service(request_stores().consent())


def _body(schema: Schema) -> dict[str, Any]:
    return loaded(schema, json_body())


def _created(body: dict[str, Any], location: str) -> Response:
    """201 with ``Location``, the new resource's path (RFC 9110 sec. 15.3.2: without one, the
    created resource is the target URI, a list here)."""
    response = json_response(body)
    response.status_code = 201
    response.headers["Location"] = location
    return response


def _known(pattern_ok: bool, what: str) -> None:
    if not pattern_ok:
        raise ApiNotFoundError(f"This brand has no {what} with this id.")


def _community(community: Community, size: CommunitySize) -> dict[str, Any]:
    return {"id": community.id, "name": community.name, "description": community.description,
            "purposes": list(community.purposes), "created_at": iso(community.created_at),
            "closed_at": iso(community.closed_at),
            "members_at_least": size.at_least, "members_measured": size.measured,
            "invitation_url": public_url(url_for("invitations.invitation",
                                                 community_id=community.id))}


def _challenge(challenge: Challenge) -> dict[str, Any]:
    return {"id": challenge.id, "community": challenge.community_id, "title": challenge.title,
            "description": challenge.description, "created_at": iso(challenge.created_at),
            "closed_at": iso(challenge.closed_at)}


def _idea(idea: Idea) -> dict[str, Any]:
    return {"id": idea.id, "challenge": idea.challenge_id, "author": idea.author,
            "text": idea.text, "version": idea.version, "votes": idea.votes,
            "created_at": iso(idea.created_at), "updated_at": iso(idea.updated_at),
            "taken_up_at": iso(idea.taken_up_at)}


def _own_community(caller: Caller, community_id: str) -> Community:
    _known(COMMUNITY_ID.match(community_id) is not None, "community")
    try:
        return _communities().get(caller.client.brand_id, community_id)
    except NotFoundError:
        raise ApiNotFoundError("This brand has no community with this id.") from None


@bp.get("/communities")
@requires_scope(COMMUNITIES_SCOPE)
def list_communities(caller: Caller) -> Response:
    load_query(_EMPTY_QUERY)
    service = _communities()
    return json_response({"communities": [_community(c, service.size(c)) for c in
                                          service.for_brand(caller.client.brand_id)]})


@bp.post("/communities")
@requires_scope(COMMUNITIES_SCOPE)
def open_community(caller: Caller) -> Response:
    load_query(_EMPTY_QUERY)
    body = _body(_COMMUNITY)
    service = _communities()
    try:
        opened = service.open(caller.client.brand_id, name=body["name"],
                              description=body["description"], purposes=body["purposes"])
    except ValidationError as exc:
        raise BodyError(exc.errors) from None
    return _created({"community": _community(opened, JUST_OPENED)},
                    url_for("api_communities.get_community", community_id=opened.id))


@bp.get("/communities/<community_id>")
@requires_scope(COMMUNITIES_SCOPE)
def get_community(caller: Caller, community_id: str) -> Response:
    load_query(_EMPTY_QUERY)
    community = _own_community(caller, community_id)
    return json_response({"community": _community(community, _communities().size(community))})


@bp.post("/communities/<community_id>/close")
@requires_scope(COMMUNITIES_SCOPE)
def close_community(caller: Caller, community_id: str) -> Response:
    load_query(_EMPTY_QUERY)
    no_body()
    _own_community(caller, community_id)
    service = _communities()
    try:
        closed = service.close(caller.client.brand_id, community_id)
    except ConflictError as exc:
        raise ApiConflictError(exc.message) from None
    return json_response({"community": _community(closed, service.size(closed))})


@bp.get("/communities/<community_id>/challenges")
@requires_scope(COMMUNITIES_SCOPE)
def list_challenges(caller: Caller, community_id: str) -> Response:
    load_query(_EMPTY_QUERY)
    _own_community(caller, community_id)
    return json_response({"challenges": [
        _challenge(c) for c in _cocreation().brand_challenges(caller.client.brand_id,
                                                              community_id)]})


@bp.post("/communities/<community_id>/challenges")
@requires_scope(COMMUNITIES_SCOPE)
def open_challenge(caller: Caller, community_id: str) -> Response:
    load_query(_EMPTY_QUERY)
    body = _body(_CHALLENGE)
    _own_community(caller, community_id)
    try:
        opened = _cocreation().open_challenge(caller.client.brand_id, community_id,
                                              title=body["title"],
                                              description=body["description"])
    except ValidationError as exc:
        raise BodyError(exc.errors) from None
    except ConflictError as exc:
        raise ApiConflictError(exc.message) from None
    return _created({"challenge": _challenge(opened)},
                    url_for("api_communities.get_challenge", challenge_id=opened.id))


def _own_challenge(caller: Caller, challenge_id: str) -> Challenge:
    _known(CHALLENGE_ID.match(challenge_id) is not None, "challenge")
    try:
        return _cocreation().brand_challenge(caller.client.brand_id, challenge_id)
    except NotFoundError:
        raise ApiNotFoundError("This brand has no challenge with this id.") from None


@bp.get("/challenges/<challenge_id>")
@requires_scope(COMMUNITIES_SCOPE)
def get_challenge(caller: Caller, challenge_id: str) -> Response:
    load_query(_EMPTY_QUERY)
    return json_response({"challenge": _challenge(_own_challenge(caller, challenge_id))})


@bp.post("/challenges/<challenge_id>/close")
@requires_scope(COMMUNITIES_SCOPE)
def close_challenge(caller: Caller, challenge_id: str) -> Response:
    load_query(_EMPTY_QUERY)
    no_body()
    _own_challenge(caller, challenge_id)
    try:
        closed = _cocreation().close_challenge(caller.client.brand_id, challenge_id)
    except ConflictError as exc:
        raise ApiConflictError(exc.message) from None
    return json_response({"challenge": _challenge(closed)})


@bp.get("/challenges/<challenge_id>/ideas")
@requires_scope(COMMUNITIES_SCOPE)
def list_ideas(caller: Caller, challenge_id: str) -> Response:
    load_query(_EMPTY_QUERY)
    _own_challenge(caller, challenge_id)
    ideas = _cocreation().release_ideas(caller.client.brand_id, challenge_id)
    return json_response({"ideas": [_idea(i) for i in ideas]})


@bp.post("/ideas/<idea_id>/take-up")
@requires_scope(COMMUNITIES_SCOPE)
def take_up(caller: Caller, idea_id: str) -> Response:
    load_query(_EMPTY_QUERY)
    no_body()
    _known(IDEA_ID.match(idea_id) is not None, "idea")
    try:
        idea = _cocreation().take_up(caller.client.brand_id, idea_id)
    except NotFoundError:
        raise ApiNotFoundError("This brand has no idea with this id.") from None
    except ConflictError as exc:
        raise ApiConflictError(exc.message) from None
    return json_response({"idea": _idea(idea)})
