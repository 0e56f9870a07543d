"""The authorization code flow for member data, end to end: a brand asks, the member decides on
the consent screen, the brand exchanges the code and refreshes, and every token stops working
when it should.

Checked against RFC 6749 sec. 4.1, 10.5 and 10.6, RFC 7636 (PKCE), RFC 9700 sec. 2.1.1, 4.1,
4.5 and 4.14, RFC 9207 (``iss``), RFC 9396 (``authorization_details``), RFC 7009 and RFC 7662.
Most tests drive the app with Flask's test client; one runs the whole exchange with Authlib's
``OAuth2Session`` against the app served over real HTTP, as an independent client.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from brand_gateway.authorizations import CODE_LIFETIME, FAMILY_LIFETIME, RefreshRefusal
from brand_gateway.clients import ClientRegistry, ClientSecretHasher
from brand_gateway.oauth import REFRESH_REFUSED_HELP, RESPONSE_MODE_HELP, RESPONSE_TYPE_HELP
from brand_gateway.storage import authorization_store, client_registry
from brand_gateway.tokens import ACCESS_TOKEN_LIFETIME
from consent.grants import DAY
from consent.vocabulary import field_label
from tests.conftest import GOOD_PASSWORD, AuthActions, Inbox, csrf_from, follow_signup_link
from vault.clock import FrozenClock
from vault.home import Vault
from web.vaults import get_consent

from .pages import text_of

_SCREEN = re.compile(r'name="screen" value="([^"]+)"')


def form_tokens(html: str) -> dict[str, str]:
    """The CSRF token and the one-time screen id a consent screen's form carries."""
    found = _SCREEN.search(html)
    return {"csrf_token": csrf_from(html), **({"screen": found.group(1)} if found else {})}

ISSUER = "http://localhost"                 # the Flask test client's default host
CALLBACK = "https://velo.example/cb"
STATE = "af0ifjsldkj"
DETAIL_TYPE = "vrmvault-member-data"
DETAILS: list[dict[str, Any]] = [{"type": DETAIL_TYPE, "purpose": "dpv:ServiceProvision",
                                  "datatypes": ["given_name", "pd:City", "feedback"]}]
ASKED = ("given_name", "city", "feedback")      # the fields DETAILS stands for, in order
TERMS: dict[str, Any] = {"agreement": "SD-BASE", "purposes": ["dpv:ServiceProvision"],
                         "max_days": 90, "aggregate_allowed": False,
                         "sale_sharing_opt_out": False}
EMAIL = "alice@example.org"


# -- helpers ------------------------------------------------------------------------------------
def pkce() -> tuple[str, str]:
    """A code verifier and its S256 challenge (RFC 7636 sec. 4.1, 4.2)."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@dataclass
class Brand:
    client_id: str
    secret: str
    name: str


@dataclass
class AuthorizationRequest:
    """One request as a brand would send it: the URL and the verifier it keeps to itself."""

    url: str
    verifier: str


def authorization_request(brand: Brand, *, details: Any = DETAILS,
                          drop: tuple[str, ...] = (), extra: tuple[tuple[str, str], ...] = (),
                          **changes: str) -> AuthorizationRequest:
    """``/oauth/authorize?…``: ``changes`` replace parameters, ``drop`` removes them, ``extra``
    appends (possibly repeated) ones; ``details`` is sent as JSON unless already a string."""
    verifier, challenge = pkce()
    params: dict[str, str] = {
        "response_type": "code", "client_id": brand.client_id, "redirect_uri": CALLBACK,
        "state": STATE, "code_challenge": challenge, "code_challenge_method": "S256",
        "authorization_details": details if isinstance(details, str) else json.dumps(details),
    }
    params.update(changes)
    pairs = [(k, v) for k, v in params.items() if k not in drop] + list(extra)
    return AuthorizationRequest("/oauth/authorize?" + urlencode(pairs), verifier)


def query_of(location: str) -> dict[str, str]:
    values = parse_qs(urlsplit(location).query, keep_blank_values=True)
    assert all(len(v) == 1 for v in values.values()), values
    return {k: v[0] for k, v in values.items()}


def redirected_to_brand(response: TestResponse, issuer: str = ISSUER) -> dict[str, str]:
    """The parameters of a redirect to the brand's callback, which must carry ``iss``."""
    assert response.status_code == 302, response.get_data(as_text=True)[:400]
    location = response.headers["Location"]
    assert location.split("?", 1)[0] == CALLBACK
    params = query_of(location)
    assert params["iss"] == issuer               # RFC 9207 sec. 2, errors included
    return params


def assert_error_page(response: TestResponse, error: str) -> None:
    """An error shown to the member, never redirected (RFC 6749 sec. 4.1.2.1)."""
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert error in page
    links = re.findall(r'(?:href|action)="([^"]*)"', page)
    assert not [link for link in links if urlsplit(html.unescape(link)).netloc]


def form_action_sources(response: TestResponse) -> set[str]:
    policy = response.headers["Content-Security-Policy"]
    directives = {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}
    return set(directives["form-action"])


def basic(brand: Brand) -> dict[str, str]:
    raw = f"{brand.client_id}:{brand.secret}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


class Endpoints:
    """The brand's side of the flow, on the Flask test client."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def token(self, brand: Brand, **form: str | None) -> TestResponse:
        data = {k: v for k, v in form.items() if v is not None}
        response = self.client.post("/oauth/token", data=data, headers=basic(brand))
        assert response.headers["Cache-Control"] == "no-store"
        return response

    def exchange(self, brand: Brand, code: str, verifier: str | None, *,
                 redirect_uri: str | None = CALLBACK) -> TestResponse:
        return self.token(brand, grant_type="authorization_code", code=code,
                          redirect_uri=redirect_uri, code_verifier=verifier)

    def refresh(self, brand: Brand, refresh_token: str, **form: str) -> TestResponse:
        return self.token(brand, grant_type="refresh_token", refresh_token=refresh_token, **form)

    def introspect(self, brand: Brand, token: str) -> dict[str, Any]:
        response = self.client.post("/oauth/introspect", data={"token": token},
                                    headers=basic(brand))
        assert response.status_code == 200
        return dict(response.get_json())

    def active(self, brand: Brand, token: str) -> bool:
        answer = self.introspect(brand, token)
        if not answer["active"]:
            assert answer == {"active": False}       # RFC 7662 sec. 2.2: nothing else
        return bool(answer["active"])

    def revoke(self, brand: Brand, token: str, hint: str | None = None) -> TestResponse:
        data = {"token": token} | ({"token_type_hint": hint} if hint else {})
        return self.client.post("/oauth/revoke", data=data, headers=basic(brand))


def error_of(response: TestResponse) -> str:
    assert response.status_code in (400, 401), response.get_data(as_text=True)
    assert "application/json" in response.headers["Content-Type"]
    return str(response.get_json()["error"])


def refused_refresh(response: TestResponse) -> RefreshRefusal:
    """Which of the refresh refusals ``response`` is: invalid_grant, with its description."""
    assert error_of(response) == "invalid_grant"
    description = response.get_json()["error_description"]
    [refusal] = [r for r, text in REFRESH_REFUSED_HELP.items() if text == description]
    return refusal


def assert_api_refuses(app: Flask, client: FlaskClient, access_token: str) -> None:
    """The brand API, where the tree has it, answers 401 to a dead token (RFC 6750 sec. 3.1)."""
    paths = sorted(r.rule for r in app.url_map.iter_rules()
                   if r.rule.startswith("/api/v1/") and "<" not in r.rule
                   and "GET" in (r.methods or ()) and "openapi" not in r.rule)
    for path in paths[:1]:
        response = client.get(path, headers={"Authorization": "Bearer " + access_token})
        assert response.status_code == 401, (path, response.get_data(as_text=True))


def set_terms(app: Flask, member_id: str, **changes: Any) -> None:
    with app.app_context():
        get_consent().terms.update(member_id, **(TERMS | changes))


def grants_of(app: Flask, member_id: str) -> list[Any]:
    with app.app_context():
        return get_consent().grants.for_member(member_id)


def receipts_of(app: Flask, member_id: str) -> list[Any]:
    with app.app_context():
        return get_consent().grants.receipts(member_id)


# -- fixtures -----------------------------------------------------------------------------------
@pytest.fixture
def registry(vault: Vault, clock: FrozenClock) -> ClientRegistry:
    return client_registry(database=vault.data, clock=clock,
                           hasher=ClientSecretHasher.from_master(vault.master))


RegisterBrand = Callable[..., Brand]


@pytest.fixture
def register(registry: ClientRegistry) -> RegisterBrand:
    def make(name: str = "Velo", *, redirect_uris: tuple[str, ...] = (CALLBACK,),
             accepts: tuple[str, ...] = ("SD-BASE",)) -> Brand:
        client, secret = registry.create(name, list(redirect_uris), ["bicycles"],
                                         accepts=list(accepts))
        return Brand(client.client_id, secret, name)

    return make


@pytest.fixture
def velo(register: RegisterBrand) -> Brand:
    return register("Velo")


@pytest.fixture
def grocer(register: RegisterBrand) -> Brand:
    return register("Fresh Grocer", redirect_uris=("https://grocer.example/cb",))


@pytest.fixture
def member(app: Flask, auth: AuthActions, vault: Vault, inbox: Inbox) -> str:
    """A member signed up through the sign-up page (and the mailed link), with personal terms
    set; their id."""
    assert auth.register(inbox, EMAIL).status_code == 302
    member_id = vault.members.authenticate(EMAIL, GOOD_PASSWORD, client="test")
    set_terms(app, member_id)
    return member_id


@pytest.fixture
def endpoints(client: FlaskClient) -> Endpoints:
    return Endpoints(client)


def approve(client: FlaskClient, url: str, fields: tuple[str, ...] | None = None
            ) -> TestResponse:
    """Answer the consent screen with Allow, ``fields`` ticked (default: all it offers)."""
    screen = client.get(url)
    page = screen.get_data(as_text=True)
    assert screen.status_code == 200, page[:400]
    if fields is None:
        fields = tuple(re.findall(r'name="fields-0" value="([^"]+)"', page))
    return client.post(url, data={**form_tokens(page), "decision": "approve",
                                  "fields-0": list(fields)})


def get_code(client: FlaskClient, brand: Brand, **request: Any) -> tuple[str, str]:
    """Run the member's side: a fresh code and the verifier that goes with it."""
    asked = authorization_request(brand, **request)
    params = redirected_to_brand(approve(client, asked.url))
    assert params["state"] == STATE
    return params["code"], asked.verifier


@dataclass
class Issued:
    """What one approval gave the brand."""

    code: str
    access_token: str
    refresh_token: str
    body: dict[str, Any]


def issue(client: FlaskClient, endpoints: Endpoints, brand: Brand, **request: Any) -> Issued:
    code, verifier = get_code(client, brand, **request)
    response = endpoints.exchange(brand, code, verifier)
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    return Issued(code, body["access_token"], body["refresh_token"], body)


@pytest.fixture
def issued(client: FlaskClient, endpoints: Endpoints, velo: Brand, member: str) -> Issued:
    return issue(client, endpoints, velo)


# == authorization endpoint: errors shown to the member, never redirected =======================
@pytest.mark.parametrize("change, error", [
    ({"client_id": "client_unknown"}, "invalid_client"),
    ({"drop": ("client_id",)}, "invalid_client"),
    ({"drop": ("redirect_uri",)}, "invalid_request"),
    ({"redirect_uri": "https://evil.example/cb"}, "invalid_request"),
    ({"redirect_uri": "https://velo.example/c"}, "invalid_request"),          # prefix
    ({"redirect_uri": "https://velo.example/cb/extra"}, "invalid_request"),   # suffix
    ({"redirect_uri": "https://velo.example/cb/"}, "invalid_request"),        # trailing slash
    ({"redirect_uri": "https://VELO.example/cb"}, "invalid_request"),         # case
    ({"redirect_uri": "https://velo.example/CB"}, "invalid_request"),
    ({"redirect_uri": "https://velo.example/cb?next=x"}, "invalid_request"),
    ({"redirect_uri": "https://velo.example.evil.example/cb"}, "invalid_request"),
    ({"redirect_uri": "http://velo.example/cb"}, "invalid_request"),
    ({"redirect_uri": "https://velo.example:443/cb"}, "invalid_request"),
])
def test_unknown_client_or_unregistered_redirect_uri_is_a_page_not_a_redirect(
        client: FlaskClient, velo: Brand, member: str, change: dict[str, Any], error: str
) -> None:
    asked = authorization_request(velo, **change)
    response = client.get(asked.url)
    assert_error_page(response, error)
    assert grants_of(client.application, member) == []


def test_errors_before_the_client_is_known_are_shown_to_an_anonymous_visitor_too(
        client: FlaskClient, velo: Brand) -> None:
    response = client.get(authorization_request(
        velo, redirect_uri="https://evil.example/cb").url)
    assert_error_page(response, "invalid_request")


# == authorization endpoint: errors redirected to the brand, with state and iss ================
def test_implicit_grant_is_refused(client: FlaskClient, velo: Brand, member: str) -> None:
    response = client.get(authorization_request(velo, response_type="token").url)
    params = redirected_to_brand(response)
    assert params["error"] == "unsupported_response_type"
    assert params["error_description"] == RESPONSE_TYPE_HELP      # not Authlib's "token"
    assert params["state"] == STATE
    assert "access_token" not in response.headers["Location"]
    assert "#" not in response.headers["Location"]


@pytest.mark.parametrize("change", [{"drop": ("response_type",)}, {"response_type": ""}],
                         ids=["missing", "empty"])
def test_a_missing_response_type_is_invalid_request(client: FlaskClient, velo: Brand,
                                                    member: str, change: dict[str, Any]) -> None:
    """RFC 6749 sec. 4.1.2.1: a required parameter missing is invalid_request."""
    params = redirected_to_brand(client.get(authorization_request(velo, **change).url))
    assert params["error"] == "invalid_request"
    assert params["error_description"] == "Missing response_type. " + RESPONSE_TYPE_HELP
    assert params["state"] == STATE


@pytest.mark.parametrize("change", [
    {"drop": ("code_challenge",)},
    {"drop": ("code_challenge_method",)},
    {"code_challenge_method": "plain"},
    {"drop": ("code_challenge", "code_challenge_method")},
    {"code_challenge_method": "s256"},
    {"code_challenge": "too-short"},
    # RFC 7636 sec. 4.2: an S256 challenge is 43 base64url characters; none of these is met by
    # any verifier, and the member would have granted a code the brand cannot redeem.
    {"code_challenge": "a" * 44},
    {"code_challenge": "a" * 128},
    {"code_challenge": "a" * 42 + "~"},
    {"code_challenge": "a" * 42 + "="},
], ids=["no-challenge", "no-method", "plain", "no-pkce", "lower-case-method", "bad-challenge",
        "challenge-44", "challenge-128", "challenge-tilde", "challenge-padded"])
def test_pkce_s256_is_required(client: FlaskClient, velo: Brand, member: str,
                               change: dict[str, Any]) -> None:
    params = redirected_to_brand(client.get(authorization_request(velo, **change).url))
    assert params["error"] == "invalid_request"
    assert params["state"] == STATE
    assert "code" not in params


def test_the_plain_method_is_refused_even_when_the_challenge_equals_the_verifier(
        client: FlaskClient, velo: Brand, member: str) -> None:
    verifier = secrets.token_urlsafe(48)
    asked = authorization_request(velo, code_challenge=verifier, code_challenge_method="plain")
    params = redirected_to_brand(client.get(asked.url))
    assert params["error"] == "invalid_request"


@pytest.mark.parametrize("scope", ["webhooks:manage", "openid", "profile"])
def test_a_scope_parameter_is_invalid_scope(client: FlaskClient, velo: Brand, member: str,
                                            scope: str) -> None:
    params = redirected_to_brand(client.get(authorization_request(velo, scope=scope).url))
    assert params["error"] == "invalid_scope"
    assert params["state"] == STATE


def _detail(**changes: Any) -> str:
    return json.dumps([DETAILS[0] | changes])


MALFORMED_DETAILS = {
    "not-json": "[{not json",
    "empty-array": "[]",
    "object-not-array": json.dumps(DETAILS[0]),
    "string": json.dumps("given_name"),
    "unknown-type": _detail(type="openid_credential"),
    "no-type": json.dumps([{k: v for k, v in DETAILS[0].items() if k != "type"}]),
    "unknown-member": _detail(colour="blue"),
    "duplicate-purpose": json.dumps([DETAILS[0], DETAILS[0] | {"datatypes": ["given_name"]}]),
    "unknown-purpose": _detail(purpose="dpv:WorldDomination"),
    "unknown-datatype": _detail(datatypes=["shoe_size"]),
    "empty-datatypes": _detail(datatypes=[]),
    "sensitive-category": _detail(datatypes=["pd:Religion"]),
    "sensitive-health-category": _detail(datatypes=["pd:MedicalHealth"]),
    "write-action": _detail(actions=["write"]),
    "foreign-location": _detail(locations=["https://evil.example/api"]),
    "duration-zero": _detail(duration_days=0),
    "duration-too-long": _detail(duration_days=3651),
    "duration-string": _detail(duration_days="30"),
    "duration-bool": _detail(duration_days=True),
    "duration-fraction": _detail(duration_days=1.5),
    # Nested ~1,000 deep, a plain json.loads raises RecursionError: a 500 and a stack trace.
    "nested-1000-deep": "[" * 1000 + "]" * 1000,
    "nested-inside-a-detail": _detail(datatypes=["[" * 40 + "]" * 40]).replace(
        '"[', "[").replace(']"', "]"),
    "nested-33-deep": "[" * 33 + "]" * 33,
    "retention-negative": _detail(retention_days=-1),
    "empty": "",
}


@pytest.mark.parametrize("raw", MALFORMED_DETAILS.values(), ids=MALFORMED_DETAILS.keys())
def test_malformed_authorization_details_are_refused_as_a_whole(
        client: FlaskClient, velo: Brand, member: str, raw: str) -> None:
    params = redirected_to_brand(client.get(authorization_request(velo, details=raw).url))
    assert params["error"] == "invalid_authorization_details"     # RFC 9396 sec. 5
    assert params["state"] == STATE
    assert "code" not in params


_ERROR_DESCRIPTION = re.compile(r"^[\x20\x21\x23-\x5b\x5d-\x7e]*$")     # RFC 6749 sec. 4.1.2.1

ODD_CHARACTERS = {
    "quote-in-response-type": ({"response_type": 'to"ken'}, "unsupported_response_type"),
    "non-ascii-response-type": ({"response_type": "cod\u00e9"}, "unsupported_response_type"),
    "quote-in-member": ({"details": _detail(**{"it's": 1})},
                        "invalid_authorization_details"),
    "non-ascii-datatype": ({"details": _detail(datatypes=["sh\u00f6e_size"])},
                           "invalid_authorization_details"),
    "quote-in-datatype": ({"details": _detail(datatypes=['a"b\\c'])},
                          "invalid_authorization_details"),
    "control-in-datatype": ({"details": _detail(datatypes=["a\x01b"])},
                            "invalid_authorization_details"),
}


@pytest.mark.parametrize("change, error", ODD_CHARACTERS.values(), ids=ODD_CHARACTERS.keys())
def test_odd_characters_are_refused_with_a_valid_error_description(
        client: FlaskClient, velo: Brand, member: str, change: dict[str, Any],
        error: str) -> None:
    params = redirected_to_brand(client.get(authorization_request(velo, **change).url))
    assert params["error"] == error
    assert _ERROR_DESCRIPTION.match(params.get("error_description", ""))


@pytest.mark.parametrize("redirect_uri", ['https://velo.example/cb"', "https://velo.example/c\u00e9",
                                          "https://velo.example/c\\b"])
def test_odd_characters_in_an_unregistered_redirect_uri_are_a_page_not_a_500(
        client: FlaskClient, velo: Brand, member: str, redirect_uri: str) -> None:
    assert_error_page(client.get(authorization_request(velo, redirect_uri=redirect_uri).url),
                      "invalid_request")


def test_odd_characters_in_response_type_never_redirect_to_an_unregistered_uri(
        client: FlaskClient, velo: Brand, member: str) -> None:
    asked = authorization_request(velo, response_type='to"ken',
                                  redirect_uri="https://evil.example/cb")
    assert_error_page(client.get(asked.url), "unsupported_response_type")


def test_missing_authorization_details_are_refused(client: FlaskClient, velo: Brand,
                                                    member: str) -> None:
    asked = authorization_request(velo, drop=("authorization_details",))
    params = redirected_to_brand(client.get(asked.url))
    assert params["error"] == "invalid_authorization_details"


def test_a_sensitive_field_named_one_by_one_reaches_the_consent_screen_unticked(
        client: FlaskClient, velo: Brand, member: str) -> None:
    """Asked beside ordinary fields, a special category (GDPR Art. 9) is offered but not
    ticked: one click on Allow shares the ordinary fields only."""
    response = client.get(authorization_request(velo, details=_detail(
        datatypes=["religion", "health_conditions", "given_name"])).url)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'name="fields-0" value="religion">' in page
    assert 'name="fields-0" value="health_conditions">' in page
    assert 'name="fields-0" value="given_name" checked>' in page
    assert "Fields marked sensitive are not ticked" in page


@pytest.mark.parametrize("name", ["code_challenge", "code_challenge_method",
                                  "authorization_details"])
def test_repeated_parameters_after_the_redirect_uri_is_known_are_redirected(
        client: FlaskClient, velo: Brand, member: str, name: str) -> None:
    asked = authorization_request(velo)
    value = query_of(asked.url)[name]
    params = redirected_to_brand(client.get(asked.url + "&" + urlencode({name: value})))
    assert params["error"] == "invalid_request"
    assert params["state"] == STATE


@pytest.mark.parametrize("name", ["response_type", "client_id", "redirect_uri", "state"])
def test_repeated_core_parameters_are_invalid_request(client: FlaskClient, velo: Brand,
                                                      member: str, name: str) -> None:
    asked = authorization_request(velo)
    value = query_of(asked.url)[name]
    response = client.get(asked.url + "&" + urlencode({name: value}))
    # RFC 6749 sec. 3.1: "MUST NOT be included more than once". Which of two redirect URIs or
    # client ids would be the trusted one? None: the member is told, nothing is redirected.
    assert_error_page(response, "invalid_request")


# == the member: signing in, terms, the consent screen ==========================================
def test_an_anonymous_member_signs_in_first_and_comes_back_to_the_consent_screen(
        app: Flask, client: FlaskClient, auth: AuthActions, vault: Vault, velo: Brand) -> None:
    member_id = vault.members.register(EMAIL, GOOD_PASSWORD)
    set_terms(app, member_id)
    asked = authorization_request(velo)
    response = client.get(asked.url)
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/login"
    assert location.query == ""          # the pending request is in the session, not the URL
    signed_in = auth.login(EMAIL)
    assert signed_in.status_code == 302
    assert signed_in.headers["Location"] == asked.url
    screen = client.get(signed_in.headers["Location"])
    assert screen.status_code == 200
    assert 'name="decision" value="approve"' in screen.get_data(as_text=True)
    # Taken once: the next sign-in goes to the dashboard.
    auth.logout()
    assert urlsplit(auth.login(EMAIL).headers["Location"]).path == "/member/"


def test_deeply_nested_details_from_an_anonymous_visitor_are_refused_not_a_500(
        client: FlaskClient, velo: Brand) -> None:
    """The security review's reproduction: no sign-in, a 2.2 KB URL."""
    url = authorization_request(velo, details="[" * 1100 + "]" * 1100).url
    params = redirected_to_brand(client.get(url))
    assert params["error"] == "invalid_authorization_details"
    assert "levels deep" in params["error_description"]


def test_details_naming_a_member_twice_are_refused(client: FlaskClient, velo: Brand) -> None:
    details = ('[{"type": "vrmvault-member-data", "purpose": "dpv:Personalisation",'
               ' "purpose": "dpv:Marketing", "fields": ["given_name"]}]')
    params = redirected_to_brand(client.get(authorization_request(velo, details=details).url))
    assert params["error"] == "invalid_authorization_details"
    assert params["error_description"] == \
        "authorization_details names 'purpose' twice in one object."


@pytest.mark.parametrize("mode", ["fragment", "form_post", "query.jwt"])
def test_an_unsupported_response_mode_is_refused_in_the_query(client: FlaskClient, velo: Brand,
                                                              mode: str) -> None:
    # Sent the only way the server answers: in the query of the registered redirect URI.
    response = client.get(authorization_request(velo, response_mode=mode).url)
    params = redirected_to_brand(response)
    assert "#" not in response.headers["Location"]
    assert params["error"] == "invalid_request" and params["state"] == STATE
    assert params["error_description"] == "Unsupported response_mode. " + RESPONSE_MODE_HELP
    assert "code" not in params


@pytest.mark.parametrize("mode", ["query", ""])
def test_response_mode_query_or_none_is_served(client: FlaskClient, velo: Brand,
                                               mode: str) -> None:
    response = client.get(authorization_request(velo, response_mode=mode).url)
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/login"      # on to sign-in


def test_details_holding_nan_are_refused(client: FlaskClient, velo: Brand) -> None:
    details = ('[{"type": "vrmvault-member-data", "purpose": "dpv:Personalisation",'
               ' "datatypes": ["given_name"], "duration_days": NaN}]')
    params = redirected_to_brand(client.get(authorization_request(velo, details=details).url))
    assert params["error"] == "invalid_authorization_details"
    assert params["error_description"] == "authorization_details holds NaN, which is not JSON."


def test_an_invalid_request_is_not_kept_for_after_sign_in(client: FlaskClient,
                                                          auth: AuthActions, vault: Vault,
                                                          velo: Brand) -> None:
    vault.members.register(EMAIL, GOOD_PASSWORD)
    assert client.get(authorization_request(velo, scope="openid").url).status_code == 302
    assert urlsplit(auth.login(EMAIL).headers["Location"]).path == "/member/"


def _refusal_case(terms: dict[str, Any], accepts: tuple[str, ...], detail: dict[str, Any],
                  reason: str) -> tuple[dict[str, Any], tuple[str, ...], dict[str, Any], str]:
    return terms, accepts, detail, reason


# What a member may never be asked: a purpose or a longer grant not accepted yet,
# and no agreed term, are the member's to accept for the brand (tests/functional/
# test_first_contact.py); these are not.
TERMS_BREACHES = {
    "gpc-opt-out": _refusal_case(
        {"agreement": "SD-BASE-ATP", "purposes": ["dpv:Marketing"],
         "sale_sharing_opt_out": True},
        ("SD-BASE-ATP",), {"purpose": "dpv:Marketing"}, "GPC"),
    "gpc-opt-out-of-a-purpose-not-accepted-yet": _refusal_case(
        {"agreement": "SD-BASE", "purposes": [], "sale_sharing_opt_out": True},
        ("SD-BASE-ATP",), {"purpose": "dpv:Marketing"}, "GPC"),
    "no-term-the-brand-agrees-to-allows-the-purpose": _refusal_case(
        {}, ("SD-BASE", "SD-BASE-A"), {"purpose": "dpv:Personalisation"},
        "agrees to no IEEE 7012 term that allows personalisation"),
}


@pytest.mark.parametrize("terms, accepts, detail, reason", TERMS_BREACHES.values(),
                         ids=TERMS_BREACHES.keys())
def test_a_request_breaking_the_members_terms_is_refused_without_asking(
        app: Flask, client: FlaskClient, register: RegisterBrand, member: str,
        terms: dict[str, Any], accepts: tuple[str, ...], detail: dict[str, Any],
        reason: str) -> None:
    set_terms(app, member, **terms)
    brand = register("Velo", accepts=accepts)
    asked = authorization_request(brand, details=[DETAILS[0] | detail])
    response = client.get(asked.url)
    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert 'name="decision"' not in page and "fields-0" not in page    # not the consent screen
    assert reason in text_of(page)
    links = [html.unescape(h) for h in re.findall(r'href="([^"]+)"', page)
             if html.unescape(h).startswith(CALLBACK + "?")]
    assert len(links) == 1
    params = query_of(links[0])
    assert params["error"] == "access_denied"
    assert params["state"] == STATE and params["iss"] == ISSUER
    assert "code" not in params
    assert reason.lower() not in links[0].lower()          # the brand is not told why
    # Approving anyway (a crafted POST) grants nothing either.
    posted = client.post(asked.url, data={**form_tokens(page), "decision": "approve",
                                          "fields-0": ["given_name"]})
    assert posted.status_code == 403
    assert grants_of(app, member) == []


def test_the_consent_screen_says_who_what_why_how_long_and_to_whom(
        client: FlaskClient, velo: Brand, member: str) -> None:
    detail = DETAILS[0] | {"duration_days": 45, "retention_days": 14}
    response = client.get(authorization_request(velo, details=[detail]).url)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    text = text_of(page)
    assert "Velo asks to see some of your data" in text
    assert "Providing the service" in text                                   # the purpose
    assert "To deliver a product or service you asked for." in text          # in plain words
    for field in ASKED:
        assert f'name="fields-0" value="{field}" checked' in page
        assert field_label(field) in text
    assert "45 days" in text                                                 # duration
    assert "at most 14 days" in text                                         # retention
    assert "may not pass it to anyone else" in text                          # onward sharing
    assert 'value="approve"' in page and 'value="refuse"' in page


def test_the_consent_screen_counts_one_day_and_no_copies_in_words(
        client: FlaskClient, velo: Brand, member: str) -> None:
    detail = DETAILS[0] | {"duration_days": 1, "retention_days": 0}
    text = text_of(client.get(authorization_request(velo, details=[detail]).url)
                   .get_data(as_text=True))
    assert "For how long 1 day, until" in text
    assert "Copies kept by Velo none" in text
    assert "1 days" not in text and "0 days" not in text


def test_the_consent_screen_may_post_only_to_itself_and_redirect_only_to_the_brand(
        client: FlaskClient, velo: Brand, member: str) -> None:
    response = client.get(authorization_request(velo).url)
    assert form_action_sources(response) == {"'self'", "https://velo.example"}
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_refusing_sends_access_denied_with_state_and_iss(app: Flask, client: FlaskClient,
                                                         velo: Brand, member: str) -> None:
    asked = authorization_request(velo)
    screen = client.get(asked.url).get_data(as_text=True)
    response = client.post(asked.url, data={**form_tokens(screen),
                                            "decision": "refuse", "fields-0": list(ASKED)})
    params = redirected_to_brand(response)
    assert params["error"] == "access_denied"
    assert params["state"] == STATE
    assert "code" not in params
    assert grants_of(app, member) == []


def test_approving_everything_grants_every_field_asked_for(
        app: Flask, client: FlaskClient, endpoints: Endpoints, velo: Brand, member: str,
        clock: FrozenClock) -> None:
    issued = issue(client, endpoints, velo, details=[DETAILS[0] | {"duration_days": 60}])
    (grant,) = grants_of(app, member)
    assert grant.fields == frozenset(ASKED)
    assert grant.ends_at == int(clock()) + 60 * DAY
    assert issued.body["authorization_details"][0]["datatypes"] == list(ASKED)


def test_unticked_fields_are_neither_granted_nor_in_the_token(
        app: Flask, client: FlaskClient, endpoints: Endpoints, velo: Brand, member: str,
        clock: FrozenClock) -> None:
    asked = authorization_request(velo)
    response = approve(client, asked.url, fields=("given_name", "feedback"))
    params = redirected_to_brand(response)
    (grant,) = grants_of(app, member)
    assert grant.fields == frozenset({"given_name", "feedback"})
    assert grant.brand_id is not None and grant.purpose == "dpv:ServiceProvision"
    assert grant.ends_at == int(clock()) + 30 * DAY
    receipts = receipts_of(app, member)
    assert [(r.grant_id, r.event) for r in receipts] == [(grant.id, "given")]
    token = endpoints.exchange(velo, params["code"], asked.verifier).get_json()
    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == ACCESS_TOKEN_LIFETIME
    (detail,) = token["authorization_details"]                   # RFC 9396 sec. 7
    assert detail["type"] == DETAIL_TYPE
    assert detail["purpose"] == "dpv:ServiceProvision"
    assert detail["datatypes"] == ["given_name", "feedback"]
    assert detail["grant_id"] == grant.id
    answer = endpoints.introspect(velo, token["access_token"])
    assert answer["active"] is True
    assert answer["authorization_details"] == token["authorization_details"]
    assert answer["sub"] != member                               # a pairwise pseudonym


def test_ticking_a_field_that_was_not_asked_for_grants_nothing(
        app: Flask, client: FlaskClient, velo: Brand, member: str) -> None:
    asked = authorization_request(velo)
    response = approve(client, asked.url, fields=("given_name", "religion"))
    assert response.status_code == 422
    assert "Location" not in response.headers
    assert grants_of(app, member) == []
    assert receipts_of(app, member) == []


def test_approving_with_nothing_ticked_grants_nothing(app: Flask, client: FlaskClient,
                                                      velo: Brand, member: str) -> None:
    response = approve(client, authorization_request(velo).url, fields=())
    assert response.status_code == 422
    assert grants_of(app, member) == []


@pytest.mark.parametrize("token", [None, "", "forged-token"])
def test_a_decision_without_the_csrf_token_grants_nothing(
        app: Flask, client: FlaskClient, velo: Brand, member: str, token: str | None) -> None:
    asked = authorization_request(velo)
    assert client.get(asked.url).status_code == 200
    data: dict[str, Any] = {"decision": "approve", "fields-0": list(ASKED)}
    if token is not None:
        data["csrf_token"] = token
    response = client.post(asked.url, data=data)
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert grants_of(app, member) == []


# == token endpoint: the code =====================================================================
def test_the_code_exchange_returns_tokens_and_the_granted_details(
        client: FlaskClient, endpoints: Endpoints, velo: Brand, member: str) -> None:
    code, verifier = get_code(client, velo)
    response = endpoints.exchange(velo, code, verifier)
    assert response.status_code == 200
    assert response.headers["Pragma"] == "no-cache"
    body = response.get_json()
    assert set(body) >= {"access_token", "refresh_token", "token_type", "expires_in",
                         "authorization_details"}
    assert body["access_token"] != body["refresh_token"]
    assert body.get("scope", "") == ""
    assert endpoints.active(velo, body["access_token"])


def test_a_wrong_code_verifier_is_invalid_grant(client: FlaskClient, endpoints: Endpoints,
                                                velo: Brand, member: str) -> None:
    code, _ = get_code(client, velo)
    other, _ = pkce()
    assert error_of(endpoints.exchange(velo, code, other)) == "invalid_grant"


def test_a_failed_exchange_uses_up_the_code_and_the_brand_starts_again(
        app: Flask, client: FlaskClient, endpoints: Endpoints, velo: Brand,
        member: str) -> None:
    """As the README says: a code works once, a failed exchange included (RFC 6749 sec.
    4.1.2), so a retry with the right verifier is refused; a new authorization request works."""
    code, verifier = get_code(client, velo)
    other, _ = pkce()
    assert error_of(endpoints.exchange(velo, code, other)) == "invalid_grant"
    retry = endpoints.exchange(velo, code, verifier)
    assert retry.status_code == 400 and error_of(retry) == "invalid_grant"
    [first] = grants_of(app, member)
    assert endpoints.active(velo, issue(client, endpoints, velo).access_token)
    statuses = {g.id: g.status.value for g in grants_of(app, member)}
    assert statuses.pop(first.id) == "replaced" and list(statuses.values()) == ["active"]


def test_a_missing_code_verifier_is_invalid_request(client: FlaskClient, endpoints: Endpoints,
                                                    velo: Brand, member: str) -> None:
    code, _ = get_code(client, velo)
    assert error_of(endpoints.exchange(velo, code, None)) == "invalid_request"


@pytest.mark.parametrize("redirect_uri", ["https://velo.example/cb/", "https://velo.example/",
                                          "https://evil.example/cb", None])
def test_a_redirect_uri_other_than_the_requests_is_invalid_grant(
        client: FlaskClient, endpoints: Endpoints, velo: Brand, member: str,
        redirect_uri: str | None) -> None:
    code, verifier = get_code(client, velo)
    response = endpoints.exchange(velo, code, verifier, redirect_uri=redirect_uri)
    assert error_of(response) in ("invalid_grant", "invalid_request")
    if redirect_uri is not None:
        assert error_of(response) == "invalid_grant"


def test_another_clients_code_is_invalid_grant_and_stays_good_for_its_own(
        client: FlaskClient, endpoints: Endpoints, velo: Brand, grocer: Brand,
        member: str) -> None:
    code, verifier = get_code(client, velo)
    assert error_of(endpoints.exchange(grocer, code, verifier)) == "invalid_grant"
    assert endpoints.exchange(velo, code, verifier).status_code == 200


def test_an_expired_code_is_invalid_grant(client: FlaskClient, endpoints: Endpoints,
                                          velo: Brand, member: str, clock: FrozenClock) -> None:
    code, verifier = get_code(client, velo)
    clock.advance(CODE_LIFETIME)
    assert CODE_LIFETIME <= 600                     # RFC 6749 sec. 4.1.2: 10 minutes at most
    assert error_of(endpoints.exchange(velo, code, verifier)) == "invalid_grant"


def test_a_code_just_within_its_lifetime_works(client: FlaskClient, endpoints: Endpoints,
                                               velo: Brand, member: str,
                                               clock: FrozenClock) -> None:
    code, verifier = get_code(client, velo)
    clock.advance(CODE_LIFETIME - 1)
    assert endpoints.exchange(velo, code, verifier).status_code == 200


def test_a_reused_code_is_refused_and_revokes_what_it_issued(
        app: Flask, client: FlaskClient, endpoints: Endpoints, velo: Brand, member: str
) -> None:
    code, verifier = get_code(client, velo)
    first = endpoints.exchange(velo, code, verifier).get_json()
    assert endpoints.active(velo, first["access_token"])
    second = endpoints.exchange(velo, code, verifier)
    assert error_of(second) == "invalid_grant"
    # RFC 6749 sec. 4.1.2 and 10.5, RFC 9700 sec. 4.5.3: the tokens it issued are revoked.
    assert not endpoints.active(velo, first["access_token"])
    assert not endpoints.active(velo, first["refresh_token"])
    assert error_of(endpoints.refresh(velo, first["refresh_token"])) == "invalid_grant"
    assert_api_refuses(app, client, first["access_token"])


def test_a_reused_code_also_revokes_tokens_refreshed_from_it(
        client: FlaskClient, endpoints: Endpoints, velo: Brand, member: str) -> None:
    code, verifier = get_code(client, velo)
    first = endpoints.exchange(velo, code, verifier).get_json()
    rotated = endpoints.refresh(velo, first["refresh_token"]).get_json()
    assert error_of(endpoints.exchange(velo, code, verifier)) == "invalid_grant"
    assert not endpoints.active(velo, rotated["access_token"])
    assert error_of(endpoints.refresh(velo, rotated["refresh_token"])) == "invalid_grant"


def test_a_second_approval_is_not_touched_by_reuse_of_the_firsts_code(
        client: FlaskClient, endpoints: Endpoints, velo: Brand, member: str) -> None:
    code, verifier = get_code(client, velo)
    endpoints.exchange(velo, code, verifier)
    other = issue(client, endpoints, velo)
    assert error_of(endpoints.exchange(velo, code, verifier)) == "invalid_grant"
    assert endpoints.active(velo, other.access_token)


def test_an_unknown_or_missing_code_is_refused(client: FlaskClient, endpoints: Endpoints,
                                               velo: Brand, member: str) -> None:
    _, verifier = get_code(client, velo)
    assert error_of(endpoints.exchange(velo, "no-such-code", verifier)) == "invalid_grant"
    assert error_of(endpoints.token(velo, grant_type="authorization_code",
                                    redirect_uri=CALLBACK, code_verifier=verifier)) \
        == "invalid_request"


def test_the_code_exchange_needs_client_authentication(client: FlaskClient,
                                                       endpoints: Endpoints, velo: Brand,
                                                       member: str) -> None:
    code, verifier = get_code(client, velo)
    wrong = Brand(velo.client_id, "not-the-secret", velo.name)
    response = endpoints.exchange(wrong, code, verifier)
    assert response.status_code == 401
    assert error_of(response) == "invalid_client"
    assert endpoints.exchange(velo, code, verifier).status_code == 200


# == access tokens ==============================================================================
def test_a_tampered_access_token_is_inactive(endpoints: Endpoints, velo: Brand,
                                             issued: Issued) -> None:
    token = issued.access_token
    middle = len(token) // 2
    tampered = token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1:]
    assert endpoints.active(velo, token)
    assert not endpoints.active(velo, tampered)


def test_an_access_token_expires_after_its_lifetime(endpoints: Endpoints, velo: Brand,
                                                    issued: Issued,
                                                    clock: FrozenClock) -> None:
    clock.advance(ACCESS_TOKEN_LIFETIME - 1)
    assert endpoints.active(velo, issued.access_token)
    clock.advance(2)
    assert not endpoints.active(velo, issued.access_token)


# == refresh tokens =============================================================================
def test_refresh_rotates_the_refresh_token(endpoints: Endpoints, velo: Brand,
                                           issued: Issued) -> None:
    response = endpoints.refresh(velo, issued.refresh_token)
    assert response.status_code == 200
    body = response.get_json()
    assert body["refresh_token"] != issued.refresh_token          # RFC 9700 sec. 4.14.2
    assert body["access_token"] != issued.access_token
    assert body["authorization_details"] == issued.body["authorization_details"]
    assert endpoints.active(velo, body["access_token"])
    assert endpoints.active(velo, body["refresh_token"])
    assert not endpoints.active(velo, issued.refresh_token)       # used: no longer good
    again = endpoints.refresh(velo, body["refresh_token"])
    assert again.status_code == 200


def test_a_replayed_refresh_token_revokes_the_whole_family(endpoints: Endpoints, velo: Brand,
                                                           issued: Issued) -> None:
    rotated = endpoints.refresh(velo, issued.refresh_token).get_json()
    replay = endpoints.refresh(velo, issued.refresh_token)
    assert refused_refresh(replay) is RefreshRefusal.REPLAYED
    # The server cannot tell attacker from client: everything of the family stops.
    assert refused_refresh(endpoints.refresh(velo, rotated["refresh_token"])) \
        is RefreshRefusal.NOT_VALID
    # A replay once the family has ended tells nothing more of it.
    assert refused_refresh(endpoints.refresh(velo, issued.refresh_token)) \
        is RefreshRefusal.NOT_VALID
    assert not endpoints.active(velo, rotated["access_token"])
    assert not endpoints.active(velo, issued.access_token)
    assert not endpoints.active(velo, rotated["refresh_token"])


def test_refresh_stops_at_the_familys_absolute_end(
        app: Flask, client: FlaskClient, endpoints: Endpoints, velo: Brand, member: str,
        clock: FrozenClock) -> None:
    # The grant runs 90 days; the refresh chain only FAMILY_LIFETIME (30 days).
    issued = issue(client, endpoints, velo, details=[DETAILS[0] | {"duration_days": 90}])
    assert endpoints.introspect(velo, issued.refresh_token)["exp"] \
        == int(clock()) + FAMILY_LIFETIME
    clock.advance(FAMILY_LIFETIME - 1)
    latest = endpoints.refresh(velo, issued.refresh_token).get_json()["refresh_token"]
    clock.advance(1)
    assert refused_refresh(endpoints.refresh(velo, latest)) is RefreshRefusal.NOT_VALID


def test_refresh_stops_at_the_end_of_the_grant(client: FlaskClient, endpoints: Endpoints,
                                               velo: Brand, member: str,
                                               clock: FrozenClock) -> None:
    issued = issue(client, endpoints, velo, details=[DETAILS[0] | {"duration_days": 7}])
    assert endpoints.introspect(velo, issued.refresh_token)["exp"] == int(clock()) + 7 * DAY
    clock.advance(7 * DAY - 1)
    body = endpoints.refresh(velo, issued.refresh_token).get_json()
    # An access token issued late in the family does not outlive it, nor claims to.
    assert body["expires_in"] == 1
    assert endpoints.introspect(velo, body["access_token"])["exp"] == int(clock()) + 1
    clock.advance(1)
    assert not endpoints.active(velo, body["access_token"])
    assert error_of(endpoints.refresh(velo, body["refresh_token"])) == "invalid_grant"


@pytest.mark.parametrize("name", ["code", "code_verifier", "redirect_uri", "grant_type"])
def test_a_repeated_parameter_in_the_exchange_is_refused_before_the_code_is_used(
        client: FlaskClient, endpoints: Endpoints, velo: Brand, member: str, name: str) -> None:
    """RFC 6749 sec. 3.2 and 5.2: a parameter sent twice is invalid_request. The first of each
    was taken: a second redirect URI or verifier, whatever it said, went unchecked."""
    code, verifier = get_code(client, velo)
    form: dict[str, Any] = {"grant_type": "authorization_code", "code": code,
                            "redirect_uri": CALLBACK, "code_verifier": verifier}
    second = {"code": "no-such-code", "code_verifier": pkce()[0],
              "redirect_uri": "https://evil.example/cb", "grant_type": "client_credentials"}
    form[name] = [form[name], second[name]]
    response = client.post("/oauth/token", data=form, headers=basic(velo))
    assert error_of(response) == "invalid_request"
    assert response.get_json()["error_description"] == f"Multiple '{name}' in request."
    # Refused as malformed before the code was looked at: the brand's corrected request works.
    assert endpoints.exchange(velo, code, verifier).status_code == 200


def test_a_repeated_refresh_token_is_refused_and_uses_up_neither(
        client: FlaskClient, endpoints: Endpoints, velo: Brand, issued: Issued) -> None:
    other = endpoints.refresh(velo, issued.refresh_token).get_json()["refresh_token"]
    response = client.post("/oauth/token", headers=basic(velo), data={
        "grant_type": "refresh_token", "refresh_token": [other, issued.refresh_token]})
    assert error_of(response) == "invalid_request"
    assert endpoints.refresh(velo, other).status_code == 200


def test_refresh_with_a_scope_is_invalid_scope(endpoints: Endpoints, velo: Brand,
                                               issued: Issued) -> None:
    response = endpoints.refresh(velo, issued.refresh_token, scope="webhooks:manage")
    assert error_of(response) == "invalid_scope"


def test_a_refused_refresh_request_does_not_use_up_the_refresh_token(
        endpoints: Endpoints, velo: Brand, issued: Issued) -> None:
    assert error_of(endpoints.refresh(velo, issued.refresh_token, scope="webhooks:manage")) \
        == "invalid_scope"
    # The client's mistake must not look like a replay when it retries correctly.
    assert endpoints.refresh(velo, issued.refresh_token).status_code == 200
    assert endpoints.active(velo, issued.access_token)


def test_another_client_cannot_use_the_refresh_token(endpoints: Endpoints, velo: Brand,
                                                     grocer: Brand, issued: Issued) -> None:
    assert refused_refresh(endpoints.refresh(grocer, issued.refresh_token)) \
        is RefreshRefusal.NOT_VALID
    assert refused_refresh(endpoints.refresh(velo, "no-such-token")) is RefreshRefusal.NOT_VALID
    assert endpoints.refresh(velo, issued.refresh_token).status_code == 200


# == revocation, introspection, disabling, withdrawal ===========================================
def test_revoking_the_refresh_token_revokes_the_familys_access_tokens(
        app: Flask, client: FlaskClient, endpoints: Endpoints, velo: Brand,
        issued: Issued) -> None:
    response = endpoints.revoke(velo, issued.refresh_token, hint="refresh_token")
    assert response.status_code == 200
    assert not endpoints.active(velo, issued.refresh_token)
    assert not endpoints.active(velo, issued.access_token)     # RFC 7009 sec. 2.1
    assert error_of(endpoints.refresh(velo, issued.refresh_token)) == "invalid_grant"
    assert_api_refuses(app, client, issued.access_token)


def test_revoking_the_refresh_token_without_a_hint_works_too(endpoints: Endpoints,
                                                             velo: Brand,
                                                             issued: Issued) -> None:
    assert endpoints.revoke(velo, issued.refresh_token).status_code == 200
    assert not endpoints.active(velo, issued.access_token)


def test_revoking_an_access_token_leaves_the_refresh_token(endpoints: Endpoints, velo: Brand,
                                                           issued: Issued) -> None:
    assert endpoints.revoke(velo, issued.access_token, hint="access_token").status_code == 200
    assert not endpoints.active(velo, issued.access_token)
    assert endpoints.refresh(velo, issued.refresh_token).status_code == 200


def test_introspection_of_a_refresh_token(endpoints: Endpoints, velo: Brand, issued: Issued,
                                          member: str) -> None:
    answer = endpoints.introspect(velo, issued.refresh_token)
    assert answer["active"] is True
    assert answer["client_id"] == velo.client_id
    assert answer["token_type"] == "refresh_token"
    assert answer["sub"] == endpoints.introspect(velo, issued.access_token)["sub"] != member


def test_another_brand_can_neither_introspect_nor_revoke_the_tokens(
        endpoints: Endpoints, velo: Brand, grocer: Brand, issued: Issued) -> None:
    for token in (issued.access_token, issued.refresh_token):
        assert endpoints.introspect(grocer, token) == {"active": False}
        assert endpoints.revoke(grocer, token).status_code == 200      # RFC 7009 sec. 2.2
        assert endpoints.active(velo, token)
    assert endpoints.refresh(velo, issued.refresh_token).status_code == 200


def test_a_disabled_clients_tokens_stop_working(vault: Vault, clock: FrozenClock,
                                                registry: ClientRegistry, endpoints: Endpoints,
                                                velo: Brand, issued: Issued) -> None:
    registry.disable(velo.client_id)
    response = endpoints.refresh(velo, issued.refresh_token)
    assert response.status_code == 401 and error_of(response) == "invalid_client"
    store = authorization_store(database=vault.data, clock=clock)
    family = store.find_refresh_family(issued.refresh_token)
    assert family is not None and family.revoked_at is not None
    assert not store.refresh_token_used(issued.refresh_token)   # refused, not merely used up


def test_withdrawing_the_grant_ends_the_tokens_at_once(
        app: Flask, client: FlaskClient, auth: AuthActions, endpoints: Endpoints, velo: Brand,
        member: str, issued: Issued) -> None:
    (grant,) = grants_of(app, member)
    response = auth.post(f"/member/consents/{grant.id}/withdraw", form_page="/member/consents")
    assert response.status_code == 302
    assert grants_of(app, member)[0].status.value == "withdrawn"
    assert not endpoints.active(velo, issued.access_token)
    assert not endpoints.active(velo, issued.refresh_token)
    assert error_of(endpoints.refresh(velo, issued.refresh_token)) == "invalid_grant"
    assert_api_refuses(app, client, issued.access_token)


def test_a_narrowed_grant_is_what_introspection_and_a_refresh_report(
        app: Flask, client: FlaskClient, auth: AuthActions, endpoints: Endpoints, velo: Brand,
        member: str, issued: Issued, clock: FrozenClock) -> None:
    """RFC 9396 sec. 7 and 9.2: the details as the member granted them. Once the member had
    unticked a field and chosen an earlier end, a refresh and introspection still named the
    field and the first end: the brand was told it could read what it could not, for longer."""
    (detail,) = issued.body["authorization_details"]
    assert detail["datatypes"] == ["given_name", "city", "feedback"]
    ends_on = datetime.fromtimestamp(clock() + 7 * DAY, UTC).date().isoformat()
    response = auth.post(f"/member/consents/{detail['grant_id']}/narrow",
                         {"fields": ["given_name", "feedback"], "ends_on": ends_on},
                         form_page=f"/member/consents/{detail['grant_id']}/narrow")
    assert response.status_code == 302
    (grant,) = grants_of(app, member)
    assert grant.covered == {"given_name", "feedback"} and grant.ends_at < detail["expires_at"]
    now_granted = detail | {"datatypes": ["given_name", "feedback"], "expires_at": grant.ends_at}

    for token in (issued.access_token, issued.refresh_token):
        assert endpoints.introspect(velo, token)["authorization_details"] == [now_granted]
    assert endpoints.introspect(velo, issued.refresh_token)["exp"] == grant.ends_at
    refreshed = endpoints.refresh(velo, issued.refresh_token).get_json()
    assert refreshed["authorization_details"] == [now_granted]
    assert endpoints.introspect(velo, refreshed["refresh_token"])["exp"] == grant.ends_at


def test_withdrawing_one_approval_leaves_another_approvals_tokens(
        app: Flask, client: FlaskClient, auth: AuthActions, endpoints: Endpoints, velo: Brand,
        member: str) -> None:
    first = issue(client, endpoints, velo)
    second = issue(client, endpoints, velo, details=[DETAILS[0] | {"datatypes": ["country"]}])
    grant_id = first.body["authorization_details"][0]["grant_id"]
    auth.post(f"/member/consents/{grant_id}/withdraw", form_page="/member/consents")
    assert not endpoints.active(velo, first.access_token)
    assert endpoints.active(velo, second.access_token)
    assert endpoints.refresh(velo, second.refresh_token).status_code == 200


# == an independent client: Authlib's OAuth2Session over real HTTP ==============================
def test_the_whole_exchange_with_an_independent_oauth_client(
        app: Flask, served: str, velo: Brand, vault: Vault, inbox: Inbox) -> None:
    # The member, in a browser (requests.Session keeps the cookie).
    browser = requests.Session()

    def csrf(path: str) -> str:
        page = browser.get(served + path, timeout=10)
        assert page.status_code == 200
        return csrf_from(page.text)

    signup = browser.post(served + "/signup", timeout=10, allow_redirects=False,
                          data={"csrf_token": csrf("/signup"), "email": EMAIL,
                                "password": GOOD_PASSWORD})
    assert signup.status_code == 200
    link = inbox.links(EMAIL)[0]
    assert link.startswith(served + "/signup/verify?token=")
    follow_signup_link(browser, link)
    set_terms(app, vault.members.authenticate(EMAIL, GOOD_PASSWORD, client="test"))

    # The brand, with Authlib's client: PKCE S256, state, authorization_details.
    verifier = secrets.token_urlsafe(64)
    brand = OAuth2Session(velo.client_id, velo.secret, redirect_uri=CALLBACK,
                          code_challenge_method="S256",
                          token_endpoint_auth_method="client_secret_basic")
    url, state = brand.create_authorization_url(
        served + "/oauth/authorize", code_verifier=verifier,
        authorization_details=json.dumps(DETAILS))
    assert "code_challenge_method=S256" in url and verifier not in url

    screen = browser.get(url, timeout=10)
    assert screen.status_code == 200
    assert "Velo asks to see some of your data" in text_of(screen.text)
    decided = browser.post(url, timeout=10, allow_redirects=False,
                           data={**form_tokens(screen.text), "decision": "approve",
                                 "fields-0": ["given_name", "city"]})
    assert decided.status_code == 302
    callback = decided.headers["Location"]
    params = query_of(callback)
    assert callback.startswith(CALLBACK + "?")
    assert params["state"] == state
    assert params["iss"] == served                 # RFC 9207: the client checks this

    with brand:
        token = brand.fetch_token(served + "/oauth/token", authorization_response=callback,
                                  code_verifier=verifier)
        assert token["token_type"] == "Bearer"
        assert token["authorization_details"][0]["datatypes"] == ["given_name", "city"]
        introspected = brand.introspect_token(served + "/oauth/introspect",
                                              token=token["access_token"]).json()
        assert introspected["active"] is True
        assert introspected["client_id"] == velo.client_id

        refreshed = brand.refresh_token(served + "/oauth/token",
                                        refresh_token=token["refresh_token"])
        assert refreshed["refresh_token"] != token["refresh_token"]
        assert refreshed["access_token"] != token["access_token"]
        assert refreshed["authorization_details"] == token["authorization_details"]
        replay = requests.post(served + "/oauth/token", timeout=10,
                               auth=(velo.client_id, velo.secret),
                               data={"grant_type": "refresh_token",
                                     "refresh_token": token["refresh_token"]})
        assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
        after = brand.introspect_token(served + "/oauth/introspect",
                                       token=refreshed["access_token"]).json()
        assert after == {"active": False}


# == answering a consent screen once, and signing up mid-request =================================
def test_a_consent_screen_is_answered_once(app: Flask, client: FlaskClient, velo: Brand,
                                          member: str) -> None:
    asked = authorization_request(velo)
    page = client.get(asked.url).get_data(as_text=True)
    answer = {**form_tokens(page), "decision": "approve", "fields-0": list(ASKED)}
    assert redirected_to_brand(client.post(asked.url, data=answer))["code"]
    again = client.post(asked.url, data=answer)             # a double submit, a reload
    assert again.status_code == 302 and urlsplit(again.headers["Location"]).netloc == ""
    assert len(grants_of(app, member)) == 1


def test_signing_up_mid_request_comes_back_to_the_request(client: FlaskClient, velo: Brand,
                                                          auth: AuthActions,
                                                          inbox: Inbox) -> None:
    asked = authorization_request(velo)
    assert urlsplit(client.get(asked.url).headers["Location"]).path == "/login"
    assert auth.signup("newcomer@example.org").status_code == 200
    # The link is followed in the same browser: the waiting request is still in its session.
    signed_up = auth.verify(inbox.link("newcomer@example.org"))
    assert signed_up.headers["Location"] == asked.url
    # A new member accepts nothing yet: they are asked to accept what the request needs, for
    # this brand (the whole journey: tests/functional/test_first_contact.py).
    asked_terms = client.get(asked.url)
    assert asked_terms.status_code == 200
    assert 'value="accept-terms"' in asked_terms.get_data(as_text=True)
