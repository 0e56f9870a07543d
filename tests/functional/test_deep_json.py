"""Deeply nested JSON, wherever outside JSON can enter, is a clear 400 and never a 500.

``[[[…]]]`` 1,000 levels deep makes a plain ``json.loads`` raise ``RecursionError``; here on
``POST /api/v1/webhooks`` (``/oauth/authorize`` is in test_authorization_code_flow.py, with the
other malformed ``authorization_details``).
"""

from __future__ import annotations

import base64

import pytest
from flask import Flask
from flask.testing import FlaskClient

from brand_gateway.json_input import MAX_DEPTH
from tests.brand_api_support import BrandApi, IssuedToken, bearer

from .conftest import SignedIn
from .pages import assert_sane

DEEP = "[" * 1000 + "]" * 1000
DEEP_OBJECT = '{"a":' * 600 + "1" + "}" * 600
DEEP_IN_A_MEMBER = '{"url": ' + DEEP + "}"


@pytest.fixture
def issued(api: BrandApi, alice: SignedIn, velo) -> IssuedToken:
    return api.member_token(alice.id, velo, {"dpv:Personalisation": ["given_name", "city"]})


@pytest.fixture
def brand_secret(api: BrandApi) -> tuple[str, str]:
    client, secret = api.clients.create("Deep Brand", ["https://deep.example/cb"])
    return client.client_id, secret


@pytest.mark.parametrize("body", [DEEP, DEEP_OBJECT, DEEP_IN_A_MEMBER],
                         ids=["array", "object", "inside-a-member"])
def test_a_deep_webhook_body_is_a_problem_naming_the_depth(brand_client: FlaskClient,
                                                           api: BrandApi, velo,
                                                           body: str) -> None:
    """The review's second reproduction."""
    assert body_problem(brand_client, api, velo, body) == [
        f"The body nests arrays and objects more than {MAX_DEPTH} levels deep."]


def test_a_member_named_twice_is_a_problem_naming_it(brand_client: FlaskClient, api: BrandApi,
                                                      velo) -> None:
    """Which ``url`` would count? Parsers disagree (RFC 8259 sec. 4), so neither does."""
    body = '{"url": "https://93.184.216.34/a", "url": "https://93.184.216.34/b"}'
    assert body_problem(brand_client, api, velo, body) == [
        "The body names 'url' twice in one object: send each member once."]


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_not_json(brand_client: FlaskClient, api: BrandApi, velo,
                                       constant: str) -> None:
    """Python's parser takes them; RFC 8259 sec. 6 does not, and neither does the API."""
    body = '{"url": "https://93.184.216.34/a", "events": [], "x": ' + constant + "}"
    assert body_problem(brand_client, api, velo, body) == [
        f"The body is not valid JSON: {constant} is not a JSON number (RFC 8259)."]


@pytest.mark.parametrize("body", ['{"url": "https://93.184.216.34/\\ud800"}',
                                  '{"url": "https://93.184.216.34/a", "\\udfff": 1}',
                                  '{"url": "https://93.184.216.34/a", "events": ["\\ud83d"]}'],
                         ids=["value", "name", "in-a-list"])
def test_a_lone_surrogate_is_said_to_be_no_unicode(brand_client: FlaskClient, api: BrandApi,
                                                   velo, body: str) -> None:
    assert body_problem(brand_client, api, velo, body) == [
        "Text must be valid Unicode: the body holds a lone surrogate (an escape such as"
        " \\ud800 without its pair)."]


def test_a_surrogate_pair_is_text(brand_client: FlaskClient, api: BrandApi, velo) -> None:
    token = api.brand_token(velo, scope="webhooks:manage")
    response = brand_client.post(
        "/api/v1/webhooks", data='{"url": "https://93.184.216.34/\\ud83d\\udeb2"}',
        headers=bearer(token), content_type="application/json")
    assert "body" not in response.get_json().get("errors", {})


def body_problem(brand_client: FlaskClient, api: BrandApi, velo, body: str) -> list[str]:
    """``body`` posted to register a webhook: the 400 problem's words about the body."""
    token = api.brand_token(velo, scope="webhooks:manage")
    response = brand_client.post("/api/v1/webhooks", data=body, headers=bearer(token),
                                 content_type="application/json")
    assert_sane(response)
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    errors: dict[str, list[str]] = response.get_json()["errors"]
    assert list(errors) == ["body"]
    return errors["body"]


def test_brackets_inside_strings_are_text_not_nesting(brand_client: FlaskClient,
                                                      api: BrandApi, velo) -> None:
    token = api.brand_token(velo, scope="webhooks:manage")
    body = '{"url": "https://93.184.216.34/' + "[" * 200 + '"}'
    response = brand_client.post("/api/v1/webhooks", data=body, headers=bearer(token),
                                 content_type="application/json")
    assert response.status_code == 201, response.get_data(as_text=True)


def _basic(credentials: tuple[str, str]) -> dict[str, str]:
    raw = f"{credentials[0]}:{credentials[1]}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


# Every route that takes a body or parameters from a brand, with deep JSON as the body (declared
# application/json) and as a form or query parameter.
ENTRY_POINTS = [
    ("POST", "/oauth/token", "basic"),
    ("POST", "/oauth/introspect", "basic"),
    ("POST", "/oauth/revoke", "basic"),
    ("GET", "/oauth/authorize", None),
    ("POST", "/oauth/authorize", None),
    ("GET", "/api/v1/member/profile", "member"),
    ("GET", "/api/v1/member/receipts", "member"),
    ("GET", "/api/v1/webhooks", "manager"),
    ("POST", "/api/v1/webhooks", "manager"),
    ("DELETE", "/api/v1/webhooks/1", "manager"),
]


@pytest.mark.parametrize("as_", ["json-body", "form", "query"])
@pytest.mark.parametrize(("method", "path", "auth"), ENTRY_POINTS,
                         ids=[f"{m} {p}" for m, p, _ in ENTRY_POINTS])
def test_deep_json_anywhere_is_never_a_server_error(
        app: Flask, brand_client: FlaskClient, api: BrandApi, velo, issued: IssuedToken,
        brand_secret: tuple[str, str], method: str, path: str, auth: str | None,
        as_: str) -> None:
    headers = {"basic": _basic(brand_secret), "member": bearer(issued.token),
               "manager": bearer(api.brand_token(velo, scope="webhooks:manage")),
               None: {}}[auth]
    fields = {"authorization_details": DEEP, "grant_type": "authorization_code",
              "token": DEEP, "client_id": brand_secret[0], "response_type": "code"}
    kwargs: dict = {}
    if as_ == "json-body":
        kwargs = {"data": DEEP, "content_type": "application/json"}
    elif as_ == "form" and method != "GET":
        kwargs = {"data": fields}
    else:
        kwargs = {"query_string": fields}
    response = brand_client.open(path, method=method, headers=headers, **kwargs)
    assert_sane(response)
    assert 400 <= response.status_code < 500 or response.status_code in (200, 204, 302)
    if path.startswith("/api/") and response.status_code >= 400:
        assert response.mimetype == "application/problem+json"


def test_get_json_is_depth_limited_for_any_caller(app: Flask) -> None:
    """The app's JSON provider: a library calling request.get_json gets a 400, not a crash."""
    from flask import request
    from werkzeug.exceptions import BadRequest

    with app.test_request_context("/", method="POST", data=DEEP,
                                  content_type="application/json"):
        with pytest.raises(BadRequest):
            request.get_json()
    with app.test_request_context("/", method="POST", data="[" * MAX_DEPTH + "]" * MAX_DEPTH,
                                  content_type="application/json"):
        assert request.get_json() is not None
    with app.test_request_context("/", method="POST", data='{"a": NaN}',
                                  content_type="application/json"):
        with pytest.raises(BadRequest):
            request.get_json()
