"""An oversized body gets one answer: 413, in the form of the endpoint it was sent to.

Every brand API operation that takes a body refuses one over ``MAX_BODY`` bytes with the same
problem+json (status 413, ``about:blank``, "Content Too Large", a detail naming the limit),
whatever its size past the limit, its media type or whether the body is read by the view or by
the bearer check; the OpenAPI document lists that 413 on each of them. The OAuth endpoints
answer a body over the app's limit in RFC 6749's error form.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest
from flask.testing import FlaskClient

from brand_gateway.api.intent_schemas import OFFER_MAX_BODY
from brand_gateway.api.payloads import MAX_BODY
from brand_gateway.api.request_schemas import EVENT_MAX_BODY
from brand_gateway.api.survey_schemas import MAX_SURVEY_BODY
from tests.brand_api_support import BrandApi, bearer
from web.app import MAX_FORM_BYTES

PROBLEM = "application/problem+json"
API_OPERATIONS = [("/api/v1/webhooks", "webhooks:manage"),
                  ("/api/v1/agreements/0123456789abcdef0123456789abcdef/answer",
                   "agreements:write"),
                 ("/api/v1/communities", "communities:write"),
                 ("/api/v1/communities/com_0123456789abcdef01234567/challenges",
                  "communities:write")]
SIZES = {"just-over": MAX_BODY + 1, "past-the-form-limit": MAX_FORM_BYTES + 1}


def _json_of_size(size: int) -> str:
    padding = size - len('{"url": ""}')
    return '{"url": "' + "x" * padding + '"}'


@pytest.mark.parametrize(("path", "scope"), API_OPERATIONS)
@pytest.mark.parametrize("size", SIZES.values(), ids=SIZES.keys())
@pytest.mark.parametrize("content_type", ["application/json",
                                          "application/x-www-form-urlencoded"])
def test_every_oversized_api_body_is_the_same_413_problem(
        brand_client: FlaskClient, api: BrandApi, velo, path: str, scope: str, size: int,
        content_type: str) -> None:
    token = api.brand_token(velo, scope=scope)
    body = _json_of_size(size) if content_type == "application/json" else "a=" + "x" * size
    response = brand_client.post(path, data=body, headers=bearer(token),
                                 content_type=content_type)

    assert response.status_code == 413
    assert response.mimetype == PROBLEM
    assert response.get_json() == {
        "type": "about:blank", "title": "Content Too Large", "status": 413,
        "detail": f"The body is larger than {MAX_BODY} bytes, the most this address takes."}


def test_a_body_at_the_limit_is_read(brand_client: FlaskClient, api: BrandApi, velo) -> None:
    token = api.brand_token(velo, scope="webhooks:manage")
    response = brand_client.post("/api/v1/webhooks", data=_json_of_size(MAX_BODY),
                                 headers=bearer(token), content_type="application/json")
    assert response.status_code == 400 and response.mimetype == PROBLEM   # a bad URL, read


def test_the_openapi_document_lists_the_413_wherever_a_body_is_taken(
        brand_client: FlaskClient) -> None:
    document: dict[str, Any] = brand_client.get("/api/v1/openapi.json").get_json()
    with_body = [(path, method, operation)
                 for path, operations in document["paths"].items()
                 for method, operation in operations.items() if "requestBody" in operation]
    assert {(path, method) for path, method, _ in with_body} == {
        ("/webhooks", "post"), ("/agreements/{agreement_id}/answer", "post"),
        ("/communities", "post"), ("/communities/{community_id}/challenges", "post"),
        ("/wedid", "post"), ("/wedid/{post_id}/withdraw", "post"),
        ("/care/cases/{case_id}/answer", "post"), ("/care/cases/{case_id}/close", "post"),
        ("/requests/{uid}/events", "post"), ("/intents/{intent_id}/offers", "post"),
        # these take none, or {} (NoBody): anything else is refused, a large body too
        ("/communities/{community_id}/close", "post"), ("/challenges/{challenge_id}/close",
                                                        "post"),
        ("/ideas/{idea_id}/take-up", "post"), ("/offers/{offer_id}/withdraw", "post"),
        *SURVEY_OPERATIONS}
    for path, method, operation in with_body:
        limit = "SurveyTooLarge" if (path, method) in SURVEY_OPERATIONS else \
            "EventTooLarge" if path == "/requests/{uid}/events" else \
            "OfferTooLarge" if path == "/intents/{intent_id}/offers" else "ContentTooLarge"
        assert operation["responses"]["413"] == {"$ref": "#/components/responses/" + limit}
    assert str(MAX_BODY) in document["components"]["responses"]["ContentTooLarge"][
        "description"]
    assert str(MAX_SURVEY_BODY) in document["components"]["responses"]["SurveyTooLarge"][
        "description"]
    assert str(OFFER_MAX_BODY) in document["components"]["responses"]["OfferTooLarge"][
        "description"]


SURVEY_OPERATIONS = {("/surveys", "post"), ("/feedback-requests", "post"),
                     ("/attribute-requests", "post")}


@pytest.mark.parametrize(("path", "method"), sorted(SURVEY_OPERATIONS))
@pytest.mark.parametrize("content_type", ["application/json",
                                          "application/x-www-form-urlencoded"])
def test_a_survey_body_has_a_limit_of_its_own(brand_client: FlaskClient, api: BrandApi, velo,
                                              path: str, method: str,
                                              content_type: str) -> None:
    """Over the API's 4 KiB and under the surveys' limit: read (a bad body, or not JSON);
    over the surveys' limit: the same 413 naming that limit."""
    token = api.brand_token(velo, scope="surveys:write")
    for size, status in ((MAX_BODY * 4, 400 if content_type == "application/json" else 415),
                         (MAX_SURVEY_BODY + 1, 413)):
        body = _json_of_size(size) if content_type == "application/json" else \
            "a=" + "x" * size
        response = brand_client.post("/api/v1" + path, data=body, headers=bearer(token),
                                     content_type=content_type)
        assert response.status_code == status and response.mimetype == PROBLEM
    assert response.get_json()["detail"] == (f"The body is larger than {MAX_SURVEY_BODY}"
                                             " bytes, the most this address takes.")


def test_a_status_event_has_a_limit_of_its_own(brand_client: FlaskClient, api: BrandApi,
                                               velo) -> None:
    """Over the API's 4 KiB and under the events' limit: read (a bad body); over it: the 413
    naming that limit."""
    token = api.brand_token(velo, scope="requests:write")
    path = "/api/v1/requests/00000000-0000-4000-8000-000000000000/events"
    for size, status in ((MAX_BODY * 4, 404), (EVENT_MAX_BODY + 1, 413)):
        response = brand_client.post(path, data=_json_of_size(size), headers=bearer(token),
                                     content_type="application/json")
        assert response.status_code == status and response.mimetype == PROBLEM
    assert response.get_json()["detail"] == (f"The body is larger than {EVENT_MAX_BODY}"
                                             " bytes, the most this address takes.")


def test_an_offer_has_a_limit_of_its_own(brand_client: FlaskClient, api: BrandApi,
                                         velo) -> None:
    """Terms and a message in any script take more than the API's 4 KiB: over it and under
    the offers' limit the body is read (a bad body); over that limit, the 413 naming it."""
    token = api.brand_token(velo, scope="offers:write")
    path = "/api/v1/intents/i-" + "A" * 32 + "/offers"
    for size, status in ((MAX_BODY * 2, 400), (OFFER_MAX_BODY + 1, 413)):
        response = brand_client.post(path, data=_json_of_size(size), headers=bearer(token),
                                     content_type="application/json")
        assert response.status_code == status and response.mimetype == PROBLEM
    assert response.get_json()["detail"] == (f"The body is larger than {OFFER_MAX_BODY}"
                                             " bytes, the most this address takes.")


@pytest.mark.parametrize("path", ["/oauth/token", "/oauth/revoke", "/oauth/introspect"])
def test_the_oauth_endpoints_answer_an_oversized_body_in_their_own_form(
        brand_client: FlaskClient, api: BrandApi, path: str) -> None:
    client, secret = api.clients.create("Big Body", ["https://big.example/cb"])
    basic = base64.b64encode(f"{client.client_id}:{secret}".encode()).decode()
    response = brand_client.post(path, data={"grant_type": "client_credentials",
                                             "token": "x" * (MAX_FORM_BYTES + 1)},
                                 headers={"Authorization": "Basic " + basic})

    assert response.status_code == 413
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.get_json() == {
        "error": "invalid_request",
        "error_description": f"The request body is larger than {MAX_FORM_BYTES} bytes."}
