"""The brand's webhook endpoints, under ``/api/v1/webhooks``.

``GET``/``POST /api/v1/webhooks`` and ``GET``/``DELETE /api/v1/webhooks/<id>`` (a
client-credentials token with the ``webhooks:manage`` scope): a brand manages its own endpoints
only; another brand's endpoint is as unknown as a missing one (404). An endpoint's id is its
public one ('whk_' and 24 random hex digits), unrelated to any other brand's; the integer ids
endpoints had before are unknown ids too (404). A brand registers a public HTTPS URL:
its host must resolve to public addresses only (no loopback, private, link-local or reserved
ranges: server-side request forgery), checked here and again before every delivery. Loopback
URLs for local testing are the operator's to register (``vrmvault webhooks add``), or the
brand's when ``VRMVAULT_WEBHOOK_ALLOW_LOOPBACK`` is on.

Opt-in events: ``"events": ["intent.created"]`` on registration subscribes the endpoint to new
intents, in every category the brand is registered for or in ``"categories"`` (a subset of
them). Every other event goes to every live endpoint of the brand without asking.
"""

from __future__ import annotations

import contextlib
import re
from typing import Any

from flask import Blueprint, Response, current_app, url_for

from vault.errors import ConflictError, NotFoundError, ValidationError

from ..api_errors import ApiNotFoundError, BodyError
from ..reads import Caller
from ..request_stores import request_stores
from ..storage import webhook_registry
from ..webhooks.endpoints import WebhookEndpoint, WebhookRegistry, destination_problem
from ..webhooks.outbox import INTENT_CREATED, OPT_IN_EVENTS
from . import PREFIX
from .bearer import requires_scope
from .payloads import iso, json_body, json_response, load_query, loaded, no_body
from .schemas import WEBHOOK_ID_PATTERN, EmptyQuery, WebhookRequestSchema

bp = Blueprint("api_webhooks", __name__, url_prefix=PREFIX)

WEBHOOKS_SCOPE = "webhooks:manage"
_EMPTY_QUERY = EmptyQuery()
_REGISTRATION = WebhookRequestSchema()


def _registry() -> WebhookRegistry:
    stores = request_stores()
    return webhook_registry(database=stores.vault().data, clock=stores.clock)


def _endpoint(registry: WebhookRegistry, endpoint: WebhookEndpoint) -> dict[str, Any]:
    subscriptions = registry.subscriptions(endpoint.id)
    categories = sorted({c for _, c in subscriptions if c is not None})
    return {"id": endpoint.public_id, "url": endpoint.url, "created_at": iso(endpoint.created_at),
            "events": sorted({e for e, _ in subscriptions}),
            "categories": categories or None}


def _subscriptions(body: dict[str, Any], brand_categories: tuple[str, ...]
                   ) -> dict[str, list[str] | None]:
    """The opt-in events of a registration: ``events`` and ``categories`` checked."""
    errors: dict[str, list[str]] = {}
    events = body.get("events", [])
    categories = body.get("categories")
    if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
        errors["events"] = ["Give a list of event types."]
    elif set(events) - set(OPT_IN_EVENTS):
        errors["events"] = ["Only these events are opted in to: " + ", ".join(OPT_IN_EVENTS)
                            + "; every other one is sent without asking."]
    if categories is not None:
        if (not isinstance(categories, list) or not categories
                or not all(isinstance(c, str) for c in categories)):
            errors["categories"] = ["Give a non-empty list of category ids."]
        elif "events" not in errors and INTENT_CREATED not in events:
            errors["categories"] = ["Categories narrow intent.created: ask for that event."]
        else:       # (with events that are not a list of event types, said above)
            foreign = [c[:40] for c in categories if c not in brand_categories]
            if foreign:
                errors["categories"] = [
                    "Not a category this brand is registered for: " + ", ".join(foreign[:3])
                    + "."]
    if errors:
        raise BodyError(errors)
    return {event: (list(dict.fromkeys(categories)) if categories else None)
            for event in dict.fromkeys(events)}


@bp.get("/webhooks")
@requires_scope(WEBHOOKS_SCOPE)
def list_webhooks(caller: Caller) -> Response:
    load_query(_EMPTY_QUERY)
    registry = _registry()
    live = [e for e in registry.list(caller.client.client_id) if e.live]
    return json_response({"webhooks": [_endpoint(registry, e) for e in live]})


@bp.post("/webhooks")
@requires_scope(WEBHOOKS_SCOPE)
def add_webhook(caller: Caller) -> Response:
    load_query(_EMPTY_QUERY)
    body = json_body()
    brand = request_stores().vault().brands.get(caller.client.brand_id)
    # Each problem named where it is (README "For brands"): a member the operation does not
    # take, or a url that is no string, by the schema; events and categories by _subscriptions.
    errors: dict[str, list[str]] = {}
    url = ""
    subscriptions: dict[str, list[str] | None] = {}
    try:
        url = loaded(_REGISTRATION, {k: v for k, v in body.items()
                                     if k not in ("events", "categories")})["url"]
    except BodyError as exc:
        errors.update(exc.errors)
    try:
        subscriptions = _subscriptions(body, brand.categories)
    except BodyError as exc:
        errors.update(exc.errors)
    if errors:
        raise BodyError(errors)
    allow_loopback = current_app.config["VRMVAULT_WEBHOOK_ALLOW_LOOPBACK"]
    problem = destination_problem(url, allow_loopback=allow_loopback)
    if problem:
        raise BodyError({"url": [f"Webhook URL: {problem}"]})
    registry = _registry()
    try:
        endpoint = registry.add(caller.client.client_id, url, subscriptions=subscriptions)
    except ValidationError as exc:
        raise BodyError({k: list(v) for k, v in exc.errors.items()}) from None
    except ConflictError as exc:
        raise BodyError({"url": [exc.message]}) from None
    response = json_response({"webhook": _endpoint(registry, endpoint)})
    response.status_code = 201
    response.headers["Location"] = (url_for("api_webhooks.list_webhooks")
                                    + f"/{endpoint.public_id}")
    return response


def _own_endpoint(registry: WebhookRegistry, caller: Caller, endpoint_id: str
                  ) -> WebhookEndpoint:
    """The caller's live endpoint ``endpoint_id``; another brand's, a removed one or none at
    all is the same 404."""
    # Not the form of an id (an integer one from before, say): unknown, without asking the
    # store about text it could not hold (a NUL byte, on PostgreSQL).
    if re.fullmatch(WEBHOOK_ID_PATTERN, endpoint_id, flags=re.ASCII):
        with contextlib.suppress(NotFoundError):
            endpoint = registry.get(endpoint_id)
            if endpoint.client_id == caller.client.client_id and endpoint.live:
                return endpoint
    raise ApiNotFoundError("No such webhook endpoint.")


@bp.get("/webhooks/<endpoint_id>")
@requires_scope(WEBHOOKS_SCOPE)
def get_webhook(caller: Caller, endpoint_id: str) -> Response:
    """The endpoint a registration's ``Location`` names."""
    load_query(_EMPTY_QUERY)
    registry = _registry()
    return json_response({"webhook": _endpoint(registry, _own_endpoint(registry, caller,
                                                                       endpoint_id))})


@bp.delete("/webhooks/<endpoint_id>")
@requires_scope(WEBHOOKS_SCOPE)
def remove_webhook(caller: Caller, endpoint_id: str) -> Response:
    load_query(_EMPTY_QUERY)
    no_body()
    registry = _registry()
    _own_endpoint(registry, caller, endpoint_id)
    try:
        registry.remove(endpoint_id)
    except NotFoundError:
        raise ApiNotFoundError("No such webhook endpoint.") from None
    return Response(status=204)
