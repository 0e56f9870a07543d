"""No scope is advertised, registered or issued without an endpoint that requires it.

The endpoints' scopes are read from the app's own routes (the ``required_scope`` that
``brand_gateway.api.bearer.requires_scope`` records on a view), not from a list kept by hand;
each one is then checked to really require its scope.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from brand_gateway.clients import CLIENT_SCOPES, SCOPES
from tests.brand_api_support import BrandApi, bearer
from web.cli import main

#: Look like scopes, are none: intents are read-only to brands, offers write-only.
NOT_SCOPES = ("intents:write", "offers:read")


def scoped_routes(app: Flask) -> dict[str, list[tuple[str, str]]]:
    """scope -> the (method, rule) of every endpoint that requires it."""
    routes: dict[str, list[tuple[str, str]]] = {}
    for rule in app.url_map.iter_rules():
        scope = getattr(app.view_functions[rule.endpoint], "required_scope", None)
        if scope is not None:
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                routes.setdefault(scope, []).append((method, rule.rule))
    return routes


def test_every_advertised_scope_has_an_endpoint_and_every_endpoints_scope_is_advertised(
        app: Flask, client: FlaskClient) -> None:
    metadata = client.get("/.well-known/oauth-authorization-server").get_json()
    openapi = client.get("/api/v1/openapi.json").get_json()
    flows = openapi["components"]["securitySchemes"]["brand"]["flows"]
    required = set(scoped_routes(app))
    assert required, "no endpoint records a required scope"
    assert set(metadata["scopes_supported"]) == required
    assert set(flows["clientCredentials"]["scopes"]) == required
    assert set(CLIENT_SCOPES) == set(SCOPES) == required


def test_each_scoped_endpoint_refuses_a_token_without_its_scope(
        app: Flask, client: FlaskClient, api: BrandApi, alice) -> None:
    velo = api.brand("Velo Bikes")
    delegated = api.member_token(alice.id, velo).token
    for scope, routes in scoped_routes(app).items():
        allowed = api.brand_token(velo, scope)
        for method, rule in routes:
            path = rule.replace("<int(max=9223372036854775807):endpoint_id>", "1")
            refused = client.open(path, method=method, headers=bearer(delegated))
            assert refused.status_code == 403, (method, rule)
            assert 'error="insufficient_scope"' in refused.headers["WWW-Authenticate"]
            answered = client.open(path, method=method, headers=bearer(allowed), json={})
            assert answered.status_code != 403, (method, rule, scope)


@pytest.mark.parametrize("scope", NOT_SCOPES)
def test_scopes_that_are_none_are_neither_issued_nor_registered(
        client: FlaskClient, api: BrandApi, scope: str, vault_home) -> None:
    _, secret = api.clients.create("Velo Bikes", ["https://velo.example/cb"])
    velo = api.clients.list()[0]
    response = client.post("/oauth/token", data={"grant_type": "client_credentials",
                                                 "scope": scope},
                           auth=(velo.client_id, secret))
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_scope"
    result = CliRunner().invoke(main, [
        "--home", str(vault_home.root), "brand", "create", "--name", "Fresh Grocer",
        "--redirect-uri", "https://grocer.example/cb", "--scope", scope])
    assert result.exit_code == 2 and "Invalid value for '--scope'" in result.output
