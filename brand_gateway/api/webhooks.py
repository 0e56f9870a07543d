"""More of the brand API under ``/api/v1``: consent receipts, and the brand's webhook endpoints.

Same rules as :mod:`web.api` (bearer token in the ``Authorization`` header only, RFC 6750
challenges, problem+json, per-client rate limits), whose authentication and error handling this
blueprint reuses.

- ``GET /api/v1/member/receipts`` (a member-delegated token): the signed consent receipts of
  the member's grants to this brand, so the brand holds the same record of consent as the member
  and can verify it against ``/.well-known/jwks.json``. No member data: no ledger entry.
- ``GET``/``POST /api/v1/webhooks`` and ``DELETE /api/v1/webhooks/<id>`` (a client-credentials
  token with the ``webhooks:manage`` scope): a brand manages its own endpoints only. A brand
  registers a public HTTPS URL: its host must resolve to public addresses only (no loopback,
  private, link-local or reserved ranges: server-side request forgery), checked here and again
  before every delivery. Loopback URLs for local testing are the operator's to register
  (``vrmvault webhooks add``), or the brand's when ``VRMVAULT_WEBHOOK_ALLOW_LOOPBACK`` is on.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, current_app, request, url_for

from brand_gateway import json_input
from brand_gateway.api_errors import (
    ApiNotFoundError,
    BodyError,
    InsufficientScopeError,
    ResourceError,
    UnsupportedBodyError,
)
from brand_gateway.clients import SCOPES
from brand_gateway.member_data import delegated_member
from brand_gateway.oauth import public_url
from brand_gateway.pseudonyms import PairwisePseudonyms
from brand_gateway.webhooks import WebhookEndpoint, WebhookRegistry, destination_problem
from vault.errors import ConflictError, NotFoundError, ValidationError

from .api import PREFIX, Caller, _iso, _json, authenticate, load_query, resource_error
from .api_schemas import EmptyQuery
from .vaults import get_consent, get_vault

bp = Blueprint("api_brand", __name__, url_prefix=PREFIX)
bp.register_error_handler(ResourceError, resource_error)

WEBHOOKS_SCOPE = "webhooks:manage"
BrandView = Callable[..., Response]
MAX_BODY = 4096
_EMPTY_QUERY = EmptyQuery()


@bp.get("/member/receipts")
def receipts() -> Response:
    caller = authenticate()
    load_query(_EMPTY_QUERY)
    member_id = delegated_member(caller.token)
    brand_id = caller.client.brand_id
    vault = get_vault()
    subject = PairwisePseudonyms.from_master(database=vault.data, master=vault.master
                                             ).pairwise_id(member_id, brand_id)
    items = [{"grant_id": r.grant_id, "event": r.event, "issued_at": _iso(r.created_at),
              "receipt": r.token}
             for r in get_consent().grants.receipts(member_id) if r.brand_id == brand_id]
    return _json({"subject": subject, "receipts": items,
                  "jwks_uri": public_url(url_for("wellknown.jwks"))})


def requires_scope(scope: str) -> Callable[[BrandView], Callable[..., Response]]:
    """A brand-level endpoint: the view is called with the :class:`Caller` of a client
    credentials token holding ``scope`` (else 403 ``insufficient_scope``).

    The scope is recorded on the view (``required_scope``), where the test that every scope
    the gateway advertises has an endpoint finds it (tests/functional/test_scopes.py).
    """
    if scope not in SCOPES:
        raise ValueError(f"{scope!r} is not one of the gateway's scopes")

    def decorate(view: BrandView) -> Callable[..., Response]:
        @functools.wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Response:
            caller = authenticate()
            if caller.token.delegated or scope not in caller.token.scope.split():
                raise InsufficientScopeError(f"Use a client credentials token with the "
                                             f"{scope} scope.")
            return view(caller, *args, **kwargs)

        checked.required_scope = scope          # type: ignore[attr-defined]
        return checked

    return decorate


def _registry() -> WebhookRegistry:
    vault = get_vault()
    return WebhookRegistry(database=vault.data, clock=current_app.extensions["vrmvault"].clock)


def _endpoint(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {"id": endpoint.id, "url": endpoint.url, "created_at": _iso(endpoint.created_at)}


@bp.get("/webhooks")
@requires_scope(WEBHOOKS_SCOPE)
def list_webhooks(caller: Caller) -> Response:
    load_query(_EMPTY_QUERY)
    live = [e for e in _registry().list(caller.client.client_id) if e.live]
    return _json({"webhooks": [_endpoint(e) for e in live]})


@bp.post("/webhooks")
@requires_scope(WEBHOOKS_SCOPE)
def add_webhook(caller: Caller) -> Response:
    load_query(_EMPTY_QUERY)
    body = _json_body()
    url = body.get("url")
    if set(body) != {"url"} or not isinstance(url, str):
        raise BodyError({"url": ["Send a JSON object with one member, url."]})
    allow_loopback = current_app.config["VRMVAULT_WEBHOOK_ALLOW_LOOPBACK"]
    problem = destination_problem(url, allow_loopback=allow_loopback)
    if problem:
        raise BodyError({"url": [f"Webhook URL: {problem}"]})
    try:
        endpoint = _registry().add(caller.client.client_id, url)
    except ValidationError as exc:
        raise BodyError({k: list(v) for k, v in exc.errors.items()}) from None
    except ConflictError as exc:
        raise BodyError({"url": [exc.message]}) from None
    response = _json({"webhook": _endpoint(endpoint)})
    response.status_code = 201
    response.headers["Location"] = url_for("api_brand.list_webhooks") + f"/{endpoint.id}"
    return response


@bp.delete("/webhooks/<int(max=9223372036854775807):endpoint_id>")
@requires_scope(WEBHOOKS_SCOPE)
def remove_webhook(caller: Caller, endpoint_id: int) -> Response:
    load_query(_EMPTY_QUERY)
    registry = _registry()
    try:
        endpoint = registry.get(endpoint_id)
        # Another brand's endpoint is as unknown as a missing one.
        if endpoint.client_id != caller.client.client_id or not endpoint.live:
            raise NotFoundError("no such webhook endpoint")
        registry.remove(endpoint_id)
    except NotFoundError:
        raise ApiNotFoundError("No such webhook endpoint.") from None
    return Response(status=204)


def _json_body() -> dict[str, Any]:
    if request.mimetype != "application/json":
        raise UnsupportedBodyError({"body": ["Send application/json."]})
    raw = request.get_data(cache=False)
    if len(raw) > MAX_BODY:
        raise BodyError({"body": [f"The body is larger than {MAX_BODY} bytes."]})
    try:
        document = json_input.loads(raw)
    except json_input.JsonTooDeepError as exc:
        raise BodyError({"body": [f"The body nests arrays and objects more than"
                                  f" {exc.max_depth} levels deep."]}) from None
    except (UnicodeDecodeError, ValueError):
        raise BodyError({"body": ["The body is not valid UTF-8 JSON."]}) from None
    if not isinstance(document, dict):
        raise BodyError({"body": ["Send a JSON object."]})
    return document
