"""The brand gateway's HTTP side, bound to an app: ``init_app(app, stores=...)``.

Binds the request's stores (:mod:`brand_gateway.request_stores`), binds the authorization
server (:func:`brand_gateway.oauth.init_oauth`) and registers the gateway's blueprints: the
OAuth endpoints and metadata, the authorization endpoint with its consent screen, and the brand
API. Nothing is opened or read here (STYLE point 1).
"""

from __future__ import annotations

from flask import Flask

from . import authorization_endpoint, oauth_endpoints
from .api import (
    agreements,
    communities,
    insights,
    intents,
    loop,
    member,
    openapi,
    receipts,
    requests,
    surveys,
    webhooks,
)
from .oauth import init_oauth
from .request_stores import RequestStores, bind


def init_app(app: Flask, *, stores: RequestStores) -> None:
    bind(app, stores)
    init_oauth(app, services=oauth_endpoints.gateway_services)
    for module in (oauth_endpoints, authorization_endpoint, receipts, webhooks, agreements,
                   loop, member, surveys, requests, openapi):
        app.register_blueprint(module.bp)
    app.register_blueprint(communities.bp)
    app.register_blueprint(insights.bp)
    app.register_blueprint(intents.bp)
