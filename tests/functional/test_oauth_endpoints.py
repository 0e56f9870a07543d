"""The brand gateway's OAuth endpoints, driven by an independent client library.

Authlib's ``OAuth2Session`` (a requests client) talks to the app served by werkzeug on
127.0.0.1 in a thread, over real HTTP; plain ``requests`` checks raw status codes and headers.
The app is the product's own factory, which wires the ``oauth`` blueprint and the server.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from flask import Flask

from brand_gateway.clients import ClientRegistry, ClientSecretHasher
from brand_gateway.oauth import CLIENT_AUTHENTICATION_HELP, GRANT_TYPE_HELP, SCOPES
from brand_gateway.storage import client_registry
from brand_gateway.tokens import ACCESS_TOKEN_LIFETIME
from tests.apps import opened_app
from vault.clock import FrozenClock
from vault.home import Vault

CALLBACK = "https://velo.example/oauth/callback"
SCOPE = "webhooks:manage"


@pytest.fixture
def server(served: str) -> str:
    return served


@pytest.fixture
def registry(vault: Vault, clock: FrozenClock) -> ClientRegistry:
    return client_registry(database=vault.data, clock=clock,
                           hasher=ClientSecretHasher.from_master(vault.master))


@dataclass
class Brand:
    client_id: str
    secret: str
    base: str

    def session(self, secret: str | None = None, scope: str = SCOPE) -> OAuth2Session:
        return OAuth2Session(self.client_id, secret or self.secret, scope=scope,
                             token_endpoint_auth_method="client_secret_basic")

    def fetch(self, **kwargs: Any) -> dict[str, Any]:
        with self.session(**kwargs) as session:
            return dict(session.fetch_token(self.base + "/oauth/token",
                                            grant_type="client_credentials"))

    def introspect(self, token: str) -> requests.Response:
        with self.session() as session:
            return session.introspect_token(self.base + "/oauth/introspect", token=token)

    def revoke(self, token: str) -> requests.Response:
        with self.session() as session:
            return session.revoke_token(self.base + "/oauth/revoke", token=token)

    def post(self, path: str, data: dict[str, str], secret: str | None = None
             ) -> requests.Response:
        return requests.post(self.base + path, data=data, timeout=10,
                             auth=(self.client_id, secret or self.secret))


def make_brand(registry: ClientRegistry, base: str, name: str) -> Brand:
    client, secret = registry.create(name, [CALLBACK])
    return Brand(client.client_id, secret, base)


@pytest.fixture
def velo(registry: ClientRegistry, server: str) -> Brand:
    return make_brand(registry, server, "Velo Bikes")


@pytest.fixture
def grocer(registry: ClientRegistry, server: str) -> Brand:
    return make_brand(registry, server, "Fresh Grocer")


def test_client_credentials_issues_a_short_lived_bearer_token(velo: Brand) -> None:
    token = velo.fetch()
    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == ACCESS_TOKEN_LIFETIME == 600
    assert token["scope"] == SCOPE
    assert "refresh_token" not in token
    assert len(base64.urlsafe_b64decode(token["access_token"] + "=")) == 32


def test_the_token_response_is_not_cached(velo: Brand) -> None:
    response = velo.post("/oauth/token", {"grant_type": "client_credentials",
                                          "scope": "webhooks:manage"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Pragma"] == "no-cache"
    assert response.headers["Content-Type"] == "application/json"


def test_tokens_are_stored_only_hashed(velo: Brand, vault: Vault) -> None:
    token = velo.fetch()["access_token"]
    rows = vault.data.all("SELECT * FROM oauth_access_tokens")
    assert [bytes(r["token_hash"]) for r in rows] == [hashlib.sha256(token.encode()).digest()]
    assert rows[0]["client_id"] == velo.client_id
    assert all(token not in str(value) for value in tuple(rows[0]))


def test_wrong_secret_is_invalid_client_401(velo: Brand) -> None:
    with pytest.raises(OAuthError) as raised:
        velo.fetch(secret="not-the-secret")
    assert raised.value.error == "invalid_client"
    response = velo.post("/oauth/token", {"grant_type": "client_credentials", "scope": SCOPE},
                         secret="not-the-secret")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.json()["error"] == "invalid_client"
    assert "application/problem+json" not in response.headers["Content-Type"]


@pytest.mark.parametrize("auth", [None, ("client_unknown", "whatever"), ("", "")])
def test_no_or_unknown_client_is_401(server: str, auth: tuple[str, str] | None) -> None:
    response = requests.post(server + "/oauth/token", timeout=10, auth=auth,
                             data={"grant_type": "client_credentials", "scope": SCOPE})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


@pytest.mark.parametrize("path", ["/oauth/token", "/oauth/revoke", "/oauth/introspect"])
def test_invalid_client_is_described_in_words_not_a_python_list(velo: Brand, path: str) -> None:
    response = velo.post(path, {"grant_type": "client_credentials", "token": "x"},
                         secret="not-the-secret")
    assert response.status_code == 401
    assert response.json() == {"error": "invalid_client",
                               "error_description": CLIENT_AUTHENTICATION_HELP}
    assert response.headers["WWW-Authenticate"] == (
        f'Basic error="invalid_client", error_description="{CLIENT_AUTHENTICATION_HELP}"')
    assert "[" not in response.text


@pytest.mark.parametrize("path", ["/oauth/token", "/oauth/revoke", "/oauth/introspect"])
def test_basic_credentials_that_are_not_utf8_are_invalid_client(server: str, path: str) -> None:
    """Base64 of bytes that are no UTF-8 text names no client: invalid_client, not a 500."""
    for credentials in (b"\xff\xfe:\xff", b"client_x:\xc3\x28", b"\xed\xa0\x80"):
        response = requests.post(server + path, timeout=10,
                                 data={"grant_type": "client_credentials", "token": "x"},
                                 headers={"Authorization": "Basic "
                                          + base64.b64encode(credentials).decode()})
        assert response.status_code == 401, credentials
        assert response.json() == {"error": "invalid_client",
                                   "error_description": CLIENT_AUTHENTICATION_HELP}
        assert response.headers["WWW-Authenticate"].startswith("Basic ")


@pytest.mark.parametrize("form", [{}, {"grant_type": ""}], ids=["missing", "empty"])
def test_a_missing_grant_type_is_invalid_request(velo: Brand, form: dict[str, str]) -> None:
    """RFC 6749 sec. 5.2: invalid_request is a request "missing a required parameter"; sec.
    3.1: a parameter sent without a value counts as omitted."""
    response = velo.post("/oauth/token", {"scope": SCOPE, **form})
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_request",
                               "error_description": "Missing grant_type. " + GRANT_TYPE_HELP}
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("path", ["/oauth/token", "/oauth/revoke", "/oauth/introspect"])
@pytest.mark.parametrize("body", ["multipart", "json", "unnamed"])
def test_parameters_in_another_format_than_a_form_are_invalid_request(
        velo: Brand, path: str, body: str) -> None:
    """RFC 6749 sec. 3.2 and 4.1.3, RFC 7009 sec. 2.1, RFC 7662 sec. 2.1: the parameters come
    as application/x-www-form-urlencoded. Sent otherwise (werkzeug would read a multipart
    form as readily), nothing is issued, revoked or told."""
    token = velo.fetch()["access_token"]
    fields = ({"grant_type": "client_credentials", "scope": SCOPE} if path == "/oauth/token"
              else {"token": token})
    sent: dict[str, Any] = {
        "multipart": {"files": {name: (None, value) for name, value in fields.items()}},
        "json": {"json": fields},
        "unnamed": {"data": "&".join(f"{k}={v}" for k, v in fields.items()).encode()},
    }[body]
    response = requests.post(velo.base + path, auth=(velo.client_id, velo.secret), timeout=10,
                             **sent)
    assert response.status_code == 400, response.text
    assert response.json() == {
        "error": "invalid_request", "error_description":
            "Send the parameters in the body as application/x-www-form-urlencoded"
            " (RFC 6749 sec. 3.2)."}
    assert response.headers["Cache-Control"] == "no-store"
    assert velo.introspect(token).json()["active"] is True


def test_another_method_is_answered_in_the_oauth_error_form(server: str) -> None:
    """RFC 6749 sec. 3.2: POST. A client that used another method was sent an HTML page; now
    405 with Allow, in the JSON form of every other answer here, never cached. (One server for
    every case: each costs more to start and stop than to ask.)"""
    for path in ("/oauth/token", "/oauth/revoke", "/oauth/introspect"):
        for method in ("GET", "PUT", "DELETE", "PATCH"):
            response = requests.request(method, server + path, timeout=10)
            assert response.status_code == 405, (method, path)
            assert response.headers["Content-Type"] == "application/json"
            assert response.json()["error"] == "invalid_request"
            assert "Use POST" in response.json()["error_description"]
            assert "POST" in response.headers["Allow"].split(", ")
            assert response.headers["Cache-Control"] == "no-store"


def test_the_well_known_documents_answer_errors_as_problem_json(server: str) -> None:
    for path in ("/.well-known/oauth-authorization-server", "/.well-known/jwks.json",
                 "/.well-known/nothing-here"):
        response = requests.put(server + path, timeout=10)
        assert response.status_code in (404, 405), path
        assert response.headers["Content-Type"] == "application/problem+json"
        assert response.json()["status"] == response.status_code


@pytest.mark.parametrize("path", ["/oauth/token", "/oauth/revoke", "/oauth/introspect"])
def test_a_client_id_naming_another_client_is_invalid_request(velo: Brand, grocer: Brand,
                                                              path: str) -> None:
    """RFC 6749 sec. 3.2.1: a client may name itself with client_id beside its credentials;
    one naming another client was ignored. Now refused, nothing issued, revoked or told."""
    token = velo.fetch()["access_token"]
    fields = ({"grant_type": "client_credentials", "scope": SCOPE} if path == "/oauth/token"
              else {"token": token})
    refused = velo.post(path, {**fields, "client_id": grocer.client_id})
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_request"
    assert "names another client" in refused.json()["error_description"]
    assert velo.introspect(token).json()["active"] is True
    assert velo.post(path, {**fields, "client_id": velo.client_id}).status_code == 200


def test_a_form_with_its_charset_named_is_a_form(velo: Brand) -> None:
    response = requests.post(
        velo.base + "/oauth/token", auth=(velo.client_id, velo.secret), timeout=10,
        data=f"grant_type=client_credentials&scope={SCOPE}",
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8"})
    assert response.status_code == 200, response.text
    assert response.json()["token_type"] == "Bearer"


def test_client_secret_post_is_not_accepted(velo: Brand) -> None:
    response = requests.post(velo.base + "/oauth/token", timeout=10, data={
        "grant_type": "client_credentials", "scope": SCOPE,
        "client_id": velo.client_id, "client_secret": velo.secret})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_a_disabled_client_is_refused(velo: Brand, registry: ClientRegistry) -> None:
    registry.disable(velo.client_id)
    with pytest.raises(OAuthError) as raised:
        velo.fetch()
    assert raised.value.error == "invalid_client"


@pytest.mark.parametrize("grant_type", ["password", "implicit", "urn:example:unknown",
                                        "urn:ietf:params:oauth:grant-type:device_code"])
def test_other_grants_are_unsupported(velo: Brand, grant_type: str) -> None:
    response = velo.post("/oauth/token", {"grant_type": grant_type, "scope": SCOPE,
                                          "username": "alice", "password": "x"})
    assert response.status_code == 400
    assert response.json() == {"error": "unsupported_grant_type",
                               "error_description": GRANT_TYPE_HELP}
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("scope", ["admin", "webhooks:manage admin", "", "intents:write",
                                   "offers:read"])
def test_scopes_outside_the_set_or_none_are_invalid_scope(velo: Brand, scope: str) -> None:
    response = velo.post("/oauth/token", {"grant_type": "client_credentials", "scope": scope})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


def test_introspect_an_active_token(velo: Brand, clock: FrozenClock) -> None:
    token = velo.fetch()["access_token"]
    response = velo.introspect(token)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json()
    assert body == {"active": True, "client_id": velo.client_id, "sub": velo.client_id,
                    "scope": SCOPE, "token_type": "Bearer", "iat": int(clock()),
                    "exp": int(clock()) + ACCESS_TOKEN_LIFETIME}


def test_revoke_then_introspect_is_inactive(velo: Brand) -> None:
    token = velo.fetch()["access_token"]
    assert velo.revoke(token).status_code == 200
    assert velo.introspect(token).json() == {"active": False}
    assert velo.revoke(token).status_code == 200        # again: still 200


def test_unknown_tokens_are_inactive_and_revoke_answers_200(velo: Brand) -> None:
    assert velo.introspect("no-such-token").json() == {"active": False}
    assert velo.revoke("no-such-token").status_code == 200


def test_a_client_learns_nothing_of_another_clients_token(velo: Brand, grocer: Brand) -> None:
    token = velo.fetch()["access_token"]
    assert grocer.introspect(token).json() == {"active": False}
    response = grocer.revoke(token)
    assert response.status_code == 200
    assert velo.introspect(token).json()["active"] is True     # not revoked by the other


def test_an_expired_token_is_inactive(velo: Brand, clock: FrozenClock) -> None:
    token = velo.fetch()["access_token"]
    clock.advance(ACCESS_TOKEN_LIFETIME - 1)
    assert velo.introspect(token).json()["active"] is True
    clock.advance(2)
    assert velo.introspect(token).json() == {"active": False}


@pytest.mark.parametrize("path", ["/oauth/revoke", "/oauth/introspect"])
def test_revoke_and_introspect_need_client_authentication(velo: Brand, path: str) -> None:
    token = velo.fetch()["access_token"]
    response = requests.post(velo.base + path, data={"token": token}, timeout=10)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert velo.post(path, {"token": token}, secret="wrong").status_code == 401
    assert velo.introspect(token).json()["active"] is True


@pytest.mark.parametrize("path", ["/oauth/revoke", "/oauth/introspect"])
def test_revoke_and_introspect_need_a_token(velo: Brand, path: str) -> None:
    response = velo.post(path, {})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


@pytest.mark.parametrize("form", [
    [("grant_type", "client_credentials"), ("grant_type", "client_credentials"),
     ("scope", SCOPE)],
    [("grant_type", "client_credentials"), ("scope", SCOPE), ("scope", "insights:read")],
    [("grant_type", "client_credentials"), ("scope", SCOPE), ("scope", "")],
], ids=["grant_type", "scope", "scope-empty"])
def test_a_repeated_token_parameter_is_invalid_request(velo: Brand, form: list[tuple[str, str]]
                                                       ) -> None:
    """RFC 6749 sec. 3.2: parameters MUST NOT be included more than once; sec. 5.2 makes a
    repeated one invalid_request. Answering on the first of two leaves the client and anything
    between it and the server disagreeing on what was asked."""
    response = requests.post(velo.base + "/oauth/token", data=form, timeout=10,
                             auth=(velo.client_id, velo.secret))
    name = form[1][0] if form[1][0] == form[0][0] else form[2][0]
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_request",
                               "error_description": f"Multiple '{name}' in request."}
    assert response.headers["Cache-Control"] == "no-store"


QUERY_REFUSED = ("Send the parameters in the body as application/x-www-form-urlencoded, none"
                 " in the URL (RFC 6749 sec. 3.2).")


def test_a_token_parameter_in_the_query_and_the_body_is_refused(velo: Brand) -> None:
    response = requests.post(velo.base + "/oauth/token?scope=insights:read", timeout=10,
                             data={"grant_type": "client_credentials", "scope": SCOPE},
                             auth=(velo.client_id, velo.secret))
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_request", "error_description": QUERY_REFUSED}


@pytest.mark.parametrize("path", ["/oauth/token", "/oauth/revoke", "/oauth/introspect"])
@pytest.mark.parametrize("in_body", [True, False], ids=["rest-in-body", "all-in-query"])
def test_parameters_in_the_url_query_are_refused(velo: Brand, path: str, in_body: bool
                                                 ) -> None:
    """RFC 6749 sec. 3.2 and 4.1.3, RFC 7009 and RFC 7662 sec. 2.1: the parameters are sent in
    the request body. Read from the URL too, a code, refresh token or token to revoke there was
    honoured, and it is in every access log and proxy the URL passes. Nothing is issued,
    revoked or told."""
    token = velo.fetch()["access_token"]
    fields = ({"grant_type": "client_credentials", "scope": SCOPE} if path == "/oauth/token"
              else {"token": token})
    name = next(iter(fields))
    query = {name: fields[name]} if in_body else fields
    body = {k: v for k, v in fields.items() if k != name} if in_body else None
    response = requests.post(velo.base + path, params=query, data=body, timeout=10,
                             auth=(velo.client_id, velo.secret))
    assert response.status_code == 400, response.text
    assert response.json() == {"error": "invalid_request", "error_description": QUERY_REFUSED}
    assert response.headers["Cache-Control"] == "no-store"
    assert velo.introspect(token).json()["active"] is True


@pytest.mark.parametrize("path", ["/oauth/revoke", "/oauth/introspect"])
@pytest.mark.parametrize("name", ["token", "token_type_hint"])
def test_a_repeated_token_or_hint_is_invalid_request_and_nothing_is_revoked(
        velo: Brand, path: str, name: str) -> None:
    token = velo.fetch()["access_token"]
    form = [("token", token), ("token_type_hint", "access_token")]
    form.append((name, "no-such-token" if name == "token" else "refresh_token"))
    response = requests.post(velo.base + path, data=form, timeout=10,
                             auth=(velo.client_id, velo.secret))
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_request",
                               "error_description": f"Multiple '{name}' in request."}
    assert velo.introspect(token).json()["active"] is True


@pytest.mark.parametrize("hint", ["access_token", "refresh_token", "bearer", "urn:example:x"])
def test_any_token_type_hint_is_only_a_hint(velo: Brand, hint: str) -> None:
    """RFC 7009 and RFC 7662 sec. 2.1: the server may ignore the hint, and finds the token
    whatever it says. Authlib answered a hint it did not know 401 unsupported_token_type,
    without WWW-Authenticate: a 401 is for invalid_client only (RFC 6749 sec. 5.2), and
    unsupported_token_type for a token of a kind the server cannot revoke."""
    token = velo.fetch()["access_token"]
    introspected = velo.post("/oauth/introspect", {"token": token, "token_type_hint": hint})
    assert introspected.status_code == 200
    assert introspected.json()["active"] is True
    revoked = velo.post("/oauth/revoke", {"token": token, "token_type_hint": hint})
    assert (revoked.status_code, revoked.json()) == (200, {})
    assert velo.introspect(token).json() == {"active": False}


def test_a_client_past_its_rate_limit_is_told_to_slow_down(app: Flask, velo: Brand,
                                                           grocer: Brand) -> None:
    """Every token issued is a write to the data store: a client minting hundreds a second
    held its write lock from everyone. The OAuth endpoints count against the client's limit,
    the brand API's; only requests that authenticated count, so a stranger naming the client
    with a wrong secret cannot spend it."""
    app.config["VRMVAULT_API_RATE_LIMIT"] = 3
    form = {"grant_type": "client_credentials", "scope": SCOPE}
    for _ in range(5):
        assert velo.post("/oauth/token", form, secret="not-the-secret").status_code == 401
    token = velo.fetch()["access_token"]
    assert velo.introspect(token).json()["active"] is True
    assert velo.post("/oauth/revoke", {"token": "no-such-token"}).status_code == 200
    for path in ("/oauth/token", "/oauth/introspect", "/oauth/revoke"):
        refused = velo.post(path, form | {"token": token})
        assert refused.status_code == 429, path
        assert refused.json()["error"] == "slow_down"
        assert "3 requests a minute" in refused.json()["error_description"]
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        assert refused.headers["Cache-Control"] == "no-store"
    assert grocer.fetch()["token_type"] == "Bearer"         # another client's own limit


def test_server_metadata(server: str) -> None:
    response = requests.get(server + "/.well-known/oauth-authorization-server", timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    document = response.json()
    assert document == {
        "issuer": server,
        "authorization_endpoint": server + "/oauth/authorize",
        "token_endpoint": server + "/oauth/token",
        "jwks_uri": server + "/.well-known/jwks.json",
        "token_endpoint_auth_methods_supported": ["client_secret_basic"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "scopes_supported": list(SCOPES),
        "revocation_endpoint": server + "/oauth/revoke",
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic"],
        "introspection_endpoint": server + "/oauth/introspect",
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic"],
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": True,
        "authorization_details_types_supported": ["vrmvault-member-data"],
    }


def test_the_metadata_jwks_uri_holds_the_keys_that_verify_receipts_and_webhooks(
        server: str) -> None:
    document = requests.get(server + "/.well-known/oauth-authorization-server",
                            timeout=10).json()
    keys = requests.get(document["jwks_uri"], timeout=10).json()["keys"]
    kids = {key["kid"] for key in keys}
    assert any(kid.startswith("webhook-") for kid in kids)          # webhook signatures
    assert len(kids) == 2                                           # and the receipt key


def test_the_issuer_is_the_configured_public_url_whatever_the_host(app: Flask) -> None:
    app.config["VRMVAULT_PUBLIC_URL"] = "https://vault.example"
    response = app.test_client().get("/.well-known/oauth-authorization-server",
                                     base_url="https://vault.example")
    document = response.get_json()
    assert document["issuer"] == "https://vault.example"
    assert document["token_endpoint"] == "https://vault.example/oauth/token"
    assert document["jwks_uri"] == "https://vault.example/.well-known/jwks.json"


# A forged Host ("Host: evil.example") must never become the issuer or the iss parameter.
FOREIGN_HOSTS = ["evil.example", "evil.example:8000", "vault.example.evil.example",
                 "localhost.evil.example", "127.0.0.1.nip.io"]


@pytest.mark.parametrize("host", FOREIGN_HOSTS)
@pytest.mark.parametrize(("method", "path", "kind"), [
    ("GET", "/.well-known/oauth-authorization-server", "oauth"),
    ("GET", "/oauth/authorize?response_type=code", "page"),
    ("GET", "/login", "page"),
    ("POST", "/oauth/token", "oauth"),
    ("POST", "/oauth/introspect", "oauth"),
    ("GET", "/api/v1/member/profile", "problem"),
    ("GET", "/api/v1/openapi.json", "problem"),
])
def test_requests_naming_another_host_are_refused(app: Flask, host: str, method: str,
                                                  path: str, kind: str) -> None:
    response = app.test_client().open(path, method=method, headers={"Host": host})
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "evil" not in body and "nip.io" not in body
    assert "Location" not in response.headers
    if kind == "oauth":
        assert response.get_json()["error"] == "invalid_request"
    elif kind == "problem":
        assert response.mimetype == "application/problem+json"
        assert "host" in response.get_json()["detail"]
    else:
        assert "does not answer for the host" in body


def test_a_forwarded_host_counts_only_behind_a_trusted_proxy(vault_home, clock) -> None:
    with opened_app({"VRMVAULT_HOME": vault_home.root, "VRMVAULT_CLOCK": clock,
                     "VRMVAULT_PUBLIC_URL": "https://vault.example"}) as direct:
        # Not trusted: X-Forwarded-Host is ignored; the Host names the vault, the issuer stays.
        response = direct.test_client().get(
            "/.well-known/oauth-authorization-server",
            headers={"Host": "vault.example", "X-Forwarded-Host": "evil.example"})
    assert response.get_json()["issuer"] == "https://vault.example"
    with opened_app({"VRMVAULT_HOME": vault_home.root, "VRMVAULT_CLOCK": clock,
                     "VRMVAULT_PUBLIC_URL": "https://vault.example",
                     "VRMVAULT_TRUST_PROXY": 1}) as proxied:
        # Behind the proxy the forwarded host is the one checked: a foreign one is refused.
        assert proxied.test_client().get(
            "/.well-known/oauth-authorization-server",
            headers={"Host": "backend:8000", "X-Forwarded-Host": "evil.example"}
        ).status_code == 400
        response = proxied.test_client().get(
            "/.well-known/oauth-authorization-server",
            headers={"Host": "backend:8000", "X-Forwarded-Host": "vault.example",
                     "X-Forwarded-Proto": "https"})
    assert response.status_code == 200
    assert response.get_json()["issuer"] == "https://vault.example"


def test_every_loopback_name_is_accepted_when_the_public_host_is_loopback(app: Flask) -> None:
    for host in ("localhost", "127.0.0.1:8000", "[::1]:5000", "LOCALHOST"):
        response = app.test_client().get("/.well-known/oauth-authorization-server",
                                         headers={"Host": host})
        assert response.status_code == 200, host
        assert response.get_json()["issuer"] == "http://localhost"


def test_the_token_endpoint_needs_no_csrf_token_or_session(velo: Brand) -> None:
    session = requests.Session()
    response = session.post(velo.base + "/oauth/token", timeout=10,
                            auth=(velo.client_id, velo.secret),
                            data={"grant_type": "client_credentials", "scope": SCOPE})
    assert response.status_code == 200
    assert not session.cookies


def test_get_on_the_token_endpoint_is_405(server: str) -> None:
    assert requests.get(server + "/oauth/token", timeout=10).status_code == 405


def test_plain_http_to_a_public_host_is_an_oauth_error_not_a_500(app) -> None:
    app.config["VRMVAULT_PUBLIC_URL"] = "http://vault.example.org"
    response = app.test_client().post(
        "/oauth/token", data={"grant_type": "client_credentials", "scope": "webhooks:manage"},
        base_url="http://vault.example.org")
    assert response.status_code == 400
    assert response.get_json()["error"] == "insecure_transport"
    assert response.headers["Cache-Control"] == "no-store"
