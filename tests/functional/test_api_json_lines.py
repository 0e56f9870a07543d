"""Every JSON answer of the brand API ends with a newline, so that ``curl`` in a shell prints
each on a line of its own (as the README's examples show): data, problems and the OpenAPI
document alike."""

from __future__ import annotations

import json

from flask.testing import FlaskClient

from tests.brand_api_support import BrandApi, bearer


def _one_json_line(body: bytes) -> None:
    assert body.endswith(b"\n") and not body.endswith(b"\n\n")
    json.loads(body)


def test_data_problems_and_the_openapi_document_end_with_a_newline(
        brand_client: FlaskClient, api: BrandApi, alice, velo) -> None:
    issued = api.member_token(alice.id, velo)
    for response in (
            brand_client.get("/api/v1/member/profile", headers=bearer(issued.token),
                             query_string={"purpose": "dpv:Personalisation"}),
            brand_client.get("/api/v1/member/receipts", headers=bearer(issued.token)),
            brand_client.get("/api/v1/member/profile"),                   # a 401 problem
            brand_client.get("/api/v1/no-such-resource"),                 # a 404 problem
            brand_client.get("/api/v1/openapi.json")):
        assert response.mimetype in ("application/json", "application/problem+json")
        _one_json_line(response.get_data())
