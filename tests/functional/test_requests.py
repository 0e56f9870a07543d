"""Data subject requests end to end, through the member's page and the brand API.

A member files a request on their My rights page; the vault does its own part at once (the
export offered, a restriction the very next brand read meets, the opt-out in the standing
terms, the erasure after forwarding); each brand that holds their data gets a signed dsr/v1
webhook under its pairwise subject and answers with status events through the API
(``requests:write``), results included; a final state is final, another brand's request a 404.
A GPC signal counts as one opt-out request, once.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

import pytest
from flask.testing import FlaskClient

from brand_gateway.clients import OAuthClient
from consent.context import Consent
from tests.brand_api_support import BrandApi, bearer
from vault.clock import FrozenClock
from vault.home import Vault

from .conftest import SignedIn
from .pages import field_errors, text_of

PROBLEM = "application/problem+json"
PROFILE = "/api/v1/member/profile?purpose=dpv:Personalisation&fields=given_name"


def _file(member: SignedIn, kind: str, **form: Any) -> Any:
    page = member.client.get("/member/requests")
    assert page.status_code == 200
    return member.auth.post("/member/requests", {"kind": kind, **form})


def _outbox(consent: Consent) -> list[dict[str, Any]]:
    return [json.loads(r["payload"]) for r in consent.vault.data.all(
        "SELECT payload FROM webhook_outbox WHERE event_type LIKE 'dsr.%' ORDER BY id")]


@pytest.fixture
def holding(api: BrandApi, alice: SignedIn, vault: Vault) -> dict[str, Any]:
    """Velo and Grocer hold Alice's data (grants of individual use, endpoints registered)."""
    vault.profile.update(alice.id, {"given_name": "Alice"})
    velo, grocer = api.brand("Velo Bikes"), api.brand("Green Grocer")
    tokens = {b.client_id: api.member_token(alice.id, b) for b in (velo, grocer)}
    from brand_gateway.storage import webhook_registry
    registry = webhook_registry(database=vault.data, clock=vault.clock)
    for brand in (velo, grocer):
        registry.add(brand.client_id, f"https://{brand.brand_id}.example/hook")
    return {"velo": velo, "grocer": grocer, "tokens": tokens}


def _brand_headers(api: BrandApi, brand: OAuthClient) -> dict[str, str]:
    return bearer(api.brand_token(brand, scope="requests:write"))


def test_an_access_request_is_forwarded_answered_and_closed(
        alice: SignedIn, api: BrandApi, consent: Consent, brand_client: FlaskClient,
        holding: dict[str, Any], clock: FrozenClock) -> None:
    velo, grocer = holding["velo"], holding["grocer"]
    clock.advance(17 * 60 + 23)                 # a second inside the day (within a session)
    response = _file(alice, "access", text="What do you know about my bike orders?",
                     brands=[velo.brand_id, grocer.brand_id])
    assert response.status_code == 303
    page = text_of(alice.client.get("/member/requests").get_data(as_text=True))
    assert "Access (Art. 15)" in page and "In progress" in page
    assert "What do you know about my bike orders?" in page
    messages = _outbox(consent)
    assert {m["data"]["kind"] for m in messages} == {"AccessRequest"}
    by_brand = {m["data"]["request"]["identities"][0]["identityValue"]: m for m in messages}
    assert set(by_brand) == {api.subject(alice.id, velo), api.subject(alice.id, grocer)}
    assert "alice" not in json.dumps(messages).lower()
    velo_uid = by_brand[api.subject(alice.id, velo)]["data"]["metadata"]["uid"]
    grocer_uid = by_brand[api.subject(alice.id, grocer)]["data"]["metadata"]["uid"]

    velo_headers = _brand_headers(api, velo)
    listed = brand_client.get("/api/v1/requests", headers=velo_headers).get_json()
    assert [r["uid"] for r in listed["requests"]] == [velo_uid]
    assert listed["requests"][0]["subject"] == api.subject(alice.id, velo)
    # Forwarded to both brands in one second: each is told the day only, never that second.
    forwarded = listed["requests"][0]
    assert forwarded["updated_at"] == dt.datetime.fromtimestamp(
        forwarded["submittedTimestamp"], dt.UTC).isoformat().replace("+00:00", "Z")
    # Grocer's request is none of Velo's business: a 404, as a missing one.
    assert brand_client.get(f"/api/v1/requests/{grocer_uid}",
                            headers=velo_headers).status_code == 404
    stolen = brand_client.post(f"/api/v1/requests/{grocer_uid}/events", headers=velo_headers,
                               json={"status": "completed"})
    assert stolen.status_code == 404 and stolen.mimetype == PROBLEM

    document = base64.b64encode(json.dumps({"orders": 2}).encode()).decode()
    done = brand_client.post(f"/api/v1/requests/{velo_uid}/events", headers=velo_headers, json={
        "status": "completed", "results": [{"name": "orders.json", "data": document,
                                            "headers": {"Content-Type": "application/json"}}]})
    assert done.status_code == 200, done.get_data(as_text=True)
    assert done.get_json()["request"]["status"] == "completed"
    assert done.get_json()["request"]["results"] == 1
    again = brand_client.post(f"/api/v1/requests/{velo_uid}/events", headers=velo_headers,
                              json={"status": "in_progress"})
    assert again.status_code == 409 and again.mimetype == PROBLEM

    grocer_headers = _brand_headers(api, grocer)
    refused = brand_client.post(f"/api/v1/requests/{grocer_uid}/events",
                                headers=grocer_headers, json={"status": "denied"})
    assert refused.status_code == 400 and "reason" in refused.get_json()["errors"]
    assert brand_client.post(f"/api/v1/requests/{grocer_uid}/events", headers=grocer_headers,
                             json={"status": "denied", "reason": "We hold no orders of"
                                   " this customer."}).status_code == 200
    page = text_of(alice.client.get("/member/requests").get_data(as_text=True))
    assert "Closed" in page and "Refused" in page and "We hold no orders" in page
    assert "orders.json" in page


_JSON_HEADERS = {"Content-Type": "application/json"}


@pytest.mark.parametrize("body, field", [
    ({"status": "finished"}, "status"),
    ({"status": "completed", "extra": 1}, "extra"),
    # A nested member's place is named by its path, members and indexes joined with dots.
    ({"status": "completed", "results": [{"name": "a.json", "data": "not base64!",
                                          "headers": _JSON_HEADERS}]}, "results.0.data"),
    ({"status": "completed", "results": [{"name": "a.json", "data": "eyJhIjogTmFOfQ==",
                                          "headers": _JSON_HEADERS}]}, "results.0.data"),
    ({"status": "completed", "results": [{"name": "a.json", "data": "e30=",
                                          "headers": _JSON_HEADERS},
                                         {"name": "../b.json", "data": "e30=",
                                          "headers": _JSON_HEADERS}]}, "results.1.name"),
    ({"status": "completed", "results": [{"name": "a.pdf", "data": "e30=",
                                          "headers": {"Content-Type": "application/pdf"}}]},
     "results.0.headers.Content-Type"),
])
def test_bad_status_events_are_problems(alice: SignedIn, api: BrandApi, consent: Consent,
                                        brand_client: FlaskClient, holding: dict[str, Any],
                                        body: dict[str, Any], field: str) -> None:
    _file(alice, "know", brands=[holding["velo"].brand_id])
    uid = _outbox(consent)[0]["data"]["metadata"]["uid"]
    response = brand_client.post(f"/api/v1/requests/{uid}/events",
                                 headers=_brand_headers(api, holding["velo"]), json=body)
    assert response.status_code == 400 and response.mimetype == PROBLEM
    errors = response.get_json()["errors"]
    assert field in errors, errors
    # Each place maps to a list of sentences, never to a Python repr of nested messages.
    assert all(isinstance(m, str) and "{" not in m for ms in errors.values() for m in ms)


def test_a_nested_problem_names_each_place(alice: SignedIn, api: BrandApi, consent: Consent,
                                           brand_client: FlaskClient,
                                           holding: dict[str, Any]) -> None:
    _file(alice, "know", brands=[holding["velo"].brand_id])
    uid = _outbox(consent)[0]["data"]["metadata"]["uid"]
    response = brand_client.post(f"/api/v1/requests/{uid}/events",
                                 headers=_brand_headers(api, holding["velo"]),
                                 json={"status": "in_progress", "results": [{"x": 1}]})
    assert response.status_code == 400 and response.mimetype == PROBLEM
    assert response.get_json()["errors"] == {
        "results.0.name": ["Missing data for required field."],
        "results.0.data": ["Missing data for required field."],
        "results.0.headers": ["Missing data for required field."],
        "results.0.x": ["Unknown field."]}


def test_results_only_for_access_requests(alice: SignedIn, api: BrandApi, consent: Consent,
                                          brand_client: FlaskClient,
                                          holding: dict[str, Any]) -> None:
    _file(alice, "correct", brands=[holding["velo"].brand_id])
    uid = _outbox(consent)[0]["data"]["metadata"]["uid"]
    response = brand_client.post(
        f"/api/v1/requests/{uid}/events", headers=_brand_headers(api, holding["velo"]),
        json={"status": "completed", "results": [{"name": "a.json", "data": "e30=",
                                                  "headers": {"Content-Type":
                                                              "application/json"}}]})
    assert response.status_code == 400 and "results" in response.get_json()["errors"]


def test_a_restriction_denies_the_next_brand_read(alice: SignedIn, brand_client: FlaskClient,
                                                  holding: dict[str, Any]) -> None:
    velo, grocer = holding["velo"], holding["grocer"]
    velo_token = holding["tokens"][velo.client_id]
    grocer_token = holding["tokens"][grocer.client_id]
    assert brand_client.get(PROFILE, headers=velo_token.headers).get_json()[
        "profile"] == {"given_name": "Alice"}
    response = _file(alice, "restriction", brands=[velo.brand_id])
    assert response.status_code == 303
    read = brand_client.get(PROFILE, headers=velo_token.headers).get_json()
    assert read["profile"] == {} and "given_name" in read["withheld"]
    assert brand_client.get(PROFILE, headers=grocer_token.headers).get_json()[
        "profile"] == {"given_name": "Alice"}
    page = alice.client.get("/member/requests").get_data(as_text=True)
    assert "Processing restricted" in text_of(page)
    lift = [line for line in page.splitlines() if "/lift" in line][0]
    path = lift.split('action="')[1].split('"')[0]
    assert alice.auth.post(path, {}).status_code == 303
    assert brand_client.get(PROFILE, headers=velo_token.headers).get_json()[
        "profile"] == {"given_name": "Alice"}


def test_an_opt_out_enters_the_terms_and_gpc_counts_once(
        alice: SignedIn, consent: Consent, holding: dict[str, Any]) -> None:
    alice.client.get("/member/", headers={"Sec-GPC": "1"})
    alice.client.get("/member/feedback", headers={"Sec-GPC": "1"})
    assert consent.terms.get(alice.id).gpc_opt_out
    rows = consent.vault.data.all("SELECT kind, source, state FROM dsr_requests")
    assert [tuple(r) for r in rows] == [("opt_out_sale_sharing", "gpc", "in_progress")]
    assert {m["data"]["kind"] for m in _outbox(consent)} == {"RestrictProcessingRequest"}


def test_an_erasure_request_is_forwarded_before_the_vault_is_erased(
        alice: SignedIn, vault: Vault, consent: Consent, holding: dict[str, Any]) -> None:
    response = _file(alice, "erasure", brands=[holding["velo"].brand_id,
                                                holding["grocer"].brand_id])
    assert response.status_code == 303 and response.headers["Location"].endswith(
        "/member/delete")
    assert {m["data"]["kind"] for m in _outbox(consent)} == {"DeleteRequest"}
    from tests.conftest import GOOD_PASSWORD
    erased = alice.auth.post("/member/delete", {"confirm": "on", "password": GOOD_PASSWORD})
    assert erased.status_code == 303
    row = consent.vault.data.one("SELECT member_num, principal, fulfilment, state"
                                 " FROM dsr_requests")
    assert row["member_num"] is None and row["principal"].startswith("member:")
    assert row["fulfilment"] == "erasure" and row["state"] == "in_progress"


@pytest.mark.parametrize(("field", "form", "message"), [
    ("kind", {"kind": "no-such-kind"},
     "What you ask for: Choose one of the kinds of request on the list."),
    ("text", {"text": "x" * 20_000}, "Anything to add: Use at most 2000 characters."),
    ("brands", {"brands": ["brand_0000"]},
     "Which brands are told: Choose among the brands that hold or have read your data."),
])
def test_each_error_names_its_field(alice: SignedIn, holding: dict[str, Any], field: str,
                                    form: dict[str, Any], message: str) -> None:
    response = _file(alice, **{"kind": "access", **form})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert field_errors(page, field) == [message]
    assert f'aria-describedby="{field}-error"' in page


def test_the_form_says_what_is_wrong_next_to_the_field(alice: SignedIn,
                                                       holding: dict[str, Any]) -> None:
    response = _file(alice, "no-such-kind")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="kind-error"' in page and "Choose one of the kinds" in page
    response = _file(alice, "access", brands=["brand_0000"])
    assert response.status_code == 422 and 'id="brands-error"' in response.get_data(
        as_text=True)
