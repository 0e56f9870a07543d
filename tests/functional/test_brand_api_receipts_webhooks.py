"""The brand API's receipts and webhook-endpoint operations (brand_gateway/api/receipts.py and
brand_gateway/api/webhooks.py)."""

from __future__ import annotations

import base64
import json
import re
import warnings
from typing import Any

import authlib.deprecate
import pytest
from flask import Flask
from flask.testing import FlaskClient

from brand_gateway.api.schemas import WEBHOOK_ID_PATTERN
from brand_gateway.webhooks.endpoints import destination_problem
from community.storage import community_service, membership_service
from consent.context import Consent
from consent.receipt_iso27560 import VRMVAULT_NS
from tests.brand_api_support import BrandApi, IssuedToken, bearer
from web.vaults import get_consent

from .conftest import SignedIn
from .pages import assert_sane

with warnings.catch_warnings():     # authlib.jose warns that it is deprecated in favour of joserfc
    warnings.simplefilter("ignore", authlib.deprecate.AuthlibDeprecationWarning)
    from authlib.jose import JsonWebKey, JsonWebSignature

RECEIPTS = "/api/v1/member/receipts"
WEBHOOKS = "/api/v1/webhooks"
PUBLIC_URL = "https://93.184.216.34/hooks/vrmvault"       # an IP literal: no DNS needed


@pytest.fixture
def issued(api: BrandApi, alice: SignedIn, velo) -> IssuedToken:
    return api.member_token(alice.id, velo, {"dpv:Personalisation": ["given_name", "city"]})


def call(client: FlaskClient, method: str, path: str, token: str | None = None,
         **kwargs: Any):
    headers = kwargs.pop("headers", {})
    if token is not None:
        headers.update(bearer(token))
    response = client.open(path, method=method, headers=headers, **kwargs)
    assert_sane(response)
    return response


def _b64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


# -- receipts ---------------------------------------------------------------------------------
def test_a_brand_gets_the_signed_receipts_of_its_grants_and_verifies_them(
        brand_client: FlaskClient, issued: IssuedToken, api: BrandApi) -> None:
    response = call(brand_client, "GET", RECEIPTS, issued.token)
    assert response.status_code == 200
    body = response.get_json()
    assert body["subject"] == api.subject(issued.member_id, issued.client)
    assert [r["grant_id"] for r in body["receipts"]] == [issued.grant.id]
    jwks = brand_client.get("/.well-known/jwks.json").get_json()
    assert body["jwks_uri"] == "http://localhost/.well-known/jwks.json"
    # Verified with Authlib's JOSE, not with the library that signed it.
    token = body["receipts"][0]["receipt"]
    header = json.loads(_b64(token.split(".")[0]))
    key = JsonWebKey.import_key_set(jwks).find_by_kid(header["kid"])
    verified = JsonWebSignature(algorithms=["EdDSA"]).deserialize_compact(token, key)
    assert "given_name" in verified["payload"].decode()


def test_a_receipt_the_vault_signs_points_at_this_vault_not_at_an_example_one(
        app: Flask, brand_client: FlaskClient, alice: SignedIn, velo) -> None:
    """Its controller URL, withdrawal link and policy are on the vault's public URL (the app's
    is http://localhost here), the operator's details those of the settings (a trial found
    every receipt pointing at https://vrmvault.example.org)."""
    with app.test_request_context():              # granted through the app's own consent
        consent = get_consent()
        issued = BrandApi(consent.vault, consent).member_token(
            alice.id, velo, {"dpv:Personalisation": ["given_name"]})
    token = call(brand_client, "GET", RECEIPTS, issued.token).get_json()["receipts"][0]["receipt"]
    payload = json.loads(_b64(token.split(".")[1]))
    text = json.dumps(payload).replace(VRMVAULT_NS, "")    # a vocabulary's name, not a place
    assert "vrmvault.example.org" not in text
    assert "http://localhost/member/consents" in text
    assert payload["piiControllers"][0]["piiControllerUrl"] == "http://localhost"
    assert payload["policyUrl"] == "http://localhost/"
    assert payload["piiControllers"][0]["piiController"] == "vrmvault (demo operator)"


def test_receipts_name_only_this_brands_grants(brand_client: FlaskClient, issued: IssuedToken,
                                               api: BrandApi, alice: SignedIn) -> None:
    grocer = api.brand("Fresh Grocer")
    api.member_token(alice.id, grocer, {"dpv:CustomerCare": ["given_name"]})
    body = call(brand_client, "GET", RECEIPTS, issued.token).get_json()
    assert {r["grant_id"] for r in body["receipts"]} == {issued.grant.id}


def test_receipts_leave_out_grants_of_aggregate_use(brand_client: FlaskClient,
                                                   issued: IssuedToken, api: BrandApi,
                                                   consent: Consent) -> None:
    """A member counted in totals only in the brand's community: neither the grant's receipt
    nor that of its withdrawal reaches the brand's app, whose member token would otherwise
    learn who is in its community (a trial found them listed, naming the community join)."""
    brand_id = issued.client.brand_id
    api.accept_everything(issued.member_id)
    memberships = membership_service(consent)
    left = community_service(consent).open(brand_id, name="Riders", description="Ride with us.",
                                           purposes=["dpv:ServiceOptimisation"]).id
    memberships.join(issued.member_id, left)
    memberships.leave(issued.member_id, left)            # withdrawn: still the brand's to miss
    club = community_service(consent).open(brand_id, name="Repair Club", description="Fix it.",
                                           purposes=["dpv:ResearchAndDevelopment"]).id
    aggregate = memberships.join(issued.member_id, club).grants
    assert aggregate and {g.mode.value for g in aggregate} == {"aggregate"}
    body = call(brand_client, "GET", RECEIPTS, issued.token).get_json()
    assert {r["grant_id"] for r in body["receipts"]} == {issued.grant.id}
    assert "insight community" not in json.dumps(
        [json.loads(_b64(r["receipt"].split(".")[1])) for r in body["receipts"]])


def test_receipts_need_a_member_token(brand_client: FlaskClient, api: BrandApi, velo) -> None:
    assert call(brand_client, "GET", RECEIPTS).status_code == 401
    assert call(brand_client, "GET", RECEIPTS, api.brand_token(velo)).status_code == 403


# -- webhooks ---------------------------------------------------------------------------------
@pytest.fixture
def manager(api: BrandApi, velo) -> str:
    return api.brand_token(velo, scope="webhooks:manage")


def test_a_brand_registers_lists_and_removes_its_webhook(brand_client: FlaskClient,
                                                         manager: str) -> None:
    created = call(brand_client, "POST", WEBHOOKS, manager, json={"url": PUBLIC_URL})
    assert created.status_code == 201
    endpoint = created.get_json()["webhook"]
    assert endpoint["url"] == PUBLIC_URL
    assert created.headers["Location"] == f"{WEBHOOKS}/{endpoint['id']}"
    read = call(brand_client, "GET", created.headers["Location"], manager)
    assert read.status_code == 200 and read.get_json() == {"webhook": endpoint}
    listed = call(brand_client, "GET", WEBHOOKS, manager).get_json()["webhooks"]
    assert [e["id"] for e in listed] == [endpoint["id"]]
    assert call(brand_client, "DELETE", f"{WEBHOOKS}/{endpoint['id']}", manager
                ).status_code == 204
    assert call(brand_client, "GET", WEBHOOKS, manager).get_json()["webhooks"] == []
    gone = call(brand_client, "GET", created.headers["Location"], manager)
    assert gone.status_code == 404 and gone.mimetype == "application/problem+json"
    assert call(brand_client, "DELETE", f"{WEBHOOKS}/{endpoint['id']}", manager
                ).status_code == 404


@pytest.mark.parametrize("url", [
    "http://93.184.216.34/hook",            # plain http off loopback
    "http://127.0.0.1:9000/hook",           # loopback: the operator's, not the API's
    "https://localhost/hook",
    "https://10.0.0.7/hook",                # private
    "https://169.254.169.254/latest/",      # link-local (cloud metadata)
    "https://[fd00::1]/hook",               # unique local IPv6
    "https://user@93.184.216.34/hook",
    "https://93.184.216.34/hook#frag",
    "https://[hooks.velo.example]/hook",    # no IPv6 address in its brackets: was a 500
])
def test_webhook_urls_that_could_reach_inside_are_refused(brand_client: FlaskClient,
                                                          manager: str, url: str) -> None:
    response = call(brand_client, "POST", WEBHOOKS, manager, json={"url": url})
    assert response.status_code == 400
    assert "url" in response.get_json()["errors"]
    assert call(brand_client, "GET", WEBHOOKS, manager).get_json()["webhooks"] == []


@pytest.mark.parametrize(("body", "content_type", "status"), [
    (b'{"url": 1}', "application/json", 400),
    (b'{"url": "https://93.184.216.34/a", "x": 1}', "application/json", 400),
    (b"[]", "application/json", 400),
    (b"not json", "application/json", 400),
    (b"\xff\xfe", "application/json", 400),
    (b"url=https://93.184.216.34/a", "application/x-www-form-urlencoded", 415),
])
def test_bad_webhook_bodies_are_problems_not_crashes(brand_client: FlaskClient, manager: str,
                                                     body: bytes, content_type: str,
                                                     status: int) -> None:
    response = call(brand_client, "POST", WEBHOOKS, manager, data=body,
                    content_type=content_type)
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize(("body", "errors"), [
    ({"url": "https://93.184.216.34/a", "x": 1}, {"x": ["Unknown field."]}),
    ({"x": 1}, {"url": ["Missing data for required field."], "x": ["Unknown field."]}),
    ({"url": 1}, {"url": ["Not a valid string."]}),
    ({"url": None}, {"url": ["Field may not be null."]}),
    ({"url": 1, "events": "intent.created"}, {"url": ["Not a valid string."],
                                              "events": ["Give a list of event types."]}),
])
def test_a_bad_registration_names_each_member_at_fault(brand_client: FlaskClient,
                                                       manager: str, body: dict[str, Any],
                                                       errors: dict[str, list[str]]) -> None:
    """README "For brands": a bad body names each place in errors. An unknown member was
    blamed on url (a good one), and a bad url hid what was wrong with the events."""
    response = call(brand_client, "POST", WEBHOOKS, manager, json=body)
    assert response.status_code == 400
    assert response.get_json()["errors"] == errors
    assert call(brand_client, "GET", WEBHOOKS, manager).get_json()["webhooks"] == []


def test_webhooks_need_the_scope_and_a_brand_token(brand_client: FlaskClient, api: BrandApi,
                                                   velo, issued: IssuedToken) -> None:
    assert call(brand_client, "GET", WEBHOOKS).status_code == 401
    # A brand-level token without the scope (one issued before a client lost it, say).
    assert call(brand_client, "GET", WEBHOOKS, api.brand_token(velo, scope="")).status_code == 403
    assert call(brand_client, "GET", WEBHOOKS, issued.token).status_code == 403
    assert call(brand_client, "GET", WEBHOOKS, api.brand_token(velo)).status_code == 200


def test_a_brand_cannot_read_or_remove_another_brands_endpoint(
        brand_client: FlaskClient, api: BrandApi, manager: str) -> None:
    created = call(brand_client, "POST", WEBHOOKS, manager, json={"url": PUBLIC_URL})
    other = api.brand_token(api.brand("Fresh Grocer"), scope="webhooks:manage")
    endpoint_id = created.get_json()["webhook"]["id"]
    assert call(brand_client, "GET", f"{WEBHOOKS}/{endpoint_id}", other).status_code == 404
    assert call(brand_client, "DELETE", f"{WEBHOOKS}/{endpoint_id}", other).status_code == 404
    assert len(call(brand_client, "GET", WEBHOOKS, manager).get_json()["webhooks"]) == 1


def test_endpoint_ids_are_random_and_tell_nothing_of_other_brands(
        brand_client: FlaskClient, api: BrandApi, manager: str) -> None:
    """The store numbers endpoints in one sequence across brands: a brand shown that number
    would learn how many endpoints the others registered between two of its own."""
    other = api.brand_token(api.brand("Fresh Grocer"), scope="webhooks:manage")
    ids = [call(brand_client, "POST", WEBHOOKS, token, json={"url": f"{PUBLIC_URL}/{n}"}
                ).get_json()["webhook"]["id"] for n, token in enumerate((manager, other, manager))]
    assert all(re.fullmatch(WEBHOOK_ID_PATTERN, i) for i in ids) and len(set(ids)) == 3
    keys = [row[0] for row in api.vault.data.all("SELECT id FROM webhook_endpoints ORDER BY id")]
    assert len(keys) == 3                                  # 1, 2, 3: Grocer's in between
    listed = call(brand_client, "GET", WEBHOOKS, manager).get_json()["webhooks"]
    assert [e["id"] for e in listed] == [ids[0], ids[2]]
    assert all(isinstance(value, str | list | None) for e in listed for value in e.values())


@pytest.mark.parametrize("endpoint_id", [
    "{key}",                                     # the store's key: what a brand may have kept
    "0", "-1", "99999999999999999999999999", "1e3",
    "whk_", "whk_{short}", "WHK_{hex}", "whk_{upper}", "whk_{hex}0", "whk_{hex}%0A",
    "whk_{hex}%00", "%00", "%F0%9F%92%A9",
])
def test_an_integer_or_malformed_endpoint_id_is_an_unknown_one(
        brand_client: FlaskClient, api: BrandApi, manager: str, endpoint_id: str) -> None:
    created = call(brand_client, "POST", WEBHOOKS, manager, json={"url": PUBLIC_URL})
    public_id = created.get_json()["webhook"]["id"]
    (key,) = api.vault.data.one("SELECT id FROM webhook_endpoints WHERE public_id = ?",
                                (public_id,))
    hex_digits = public_id.removeprefix("whk_")
    path = endpoint_id.format(key=key, hex=hex_digits, short=hex_digits[:23],
                              upper=hex_digits.upper())
    # NUL in a path is refused before routing, as a bad request of its own (README).
    status = 400 if "%00" in path else 404
    for method in ("GET", "DELETE"):
        response = call(brand_client, method, f"{WEBHOOKS}/{path}", manager)
        assert response.status_code == status, (method, path)
        assert response.mimetype == "application/problem+json"
        assert response.get_json()["status"] == status
    assert [e["id"] for e in call(brand_client, "GET", WEBHOOKS, manager
                                  ).get_json()["webhooks"]] == [public_id]


def test_the_location_of_a_new_endpoint_is_in_the_openapi_document(
        brand_client: FlaskClient, manager: str) -> None:
    """The answer's Location header was sent but not described: the OpenAPI document says
    what the server answers, headers included."""
    created = call(brand_client, "POST", WEBHOOKS, manager, json={"url": PUBLIC_URL})
    assert created.status_code == 201
    public_id = created.get_json()["webhook"]["id"]
    assert created.headers["Location"] == f"{WEBHOOKS}/{public_id}"
    paths = brand_client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in ("/webhooks", "/intents/{intent_id}/offers"):
        assert "Location" in paths[path]["post"]["responses"]["201"]["headers"], path
    # Where no view sends one, none is described.
    assert "headers" not in paths["/wedid"]["post"]["responses"]["201"]


def test_loopback_registration_can_be_allowed_for_local_testing(app: Flask,
                                                                brand_client: FlaskClient,
                                                                manager: str) -> None:
    app.config["VRMVAULT_WEBHOOK_ALLOW_LOOPBACK"] = True
    response = call(brand_client, "POST", WEBHOOKS, manager,
                    json={"url": "http://127.0.0.1:9000/hook"})
    assert response.status_code == 201


# -- the destination check itself, with a stand-in resolver -----------------------------------
def resolver(*addresses: str):
    def resolve(host: str, port: int, **_: Any) -> list[tuple[Any, ...]]:
        return [(None, None, None, "", (address, port)) for address in addresses]
    return resolve


@pytest.mark.parametrize(("addresses", "refused"), [
    (("93.184.216.34",), False),
    (("93.184.216.34", "10.1.2.3"), True),     # one private answer is enough to refuse
    (("127.0.0.1",), True),                    # a public name re-pointed at loopback
    (("::1",), True),
    (("fe80::1%eth0",), True),
    ((), True),
    # IPv6 forms that carry an IPv4 address the packet goes to: Python's is_global passes them.
    (("64:ff9b::a00:1",), True),               # NAT64 (RFC 6052): 10.0.0.1 behind the gateway
    (("64:ff9b::a9fe:a9fe",), True),           # ... 169.254.169.254, a cloud's metadata
    (("64:ff9b::5db8:d822",), False),          # ... 93.184.216.34: public, fine
    (("64:ff9b:1::5db8:d822",), True),         # NAT64 local-use prefix (RFC 8215)
    (("2002:7f00:1::",), True),                # 6to4 of 127.0.0.1
    (("2002:5db8:d822::1",), False),           # 6to4 of a public address
    (("::ffff:0:a00:1",), True),               # IPv4-translated 10.0.0.1 (RFC 2765)
    (("::10.0.0.1",), True),                   # IPv4-compatible, deprecated
    (("224.0.0.1",), True),                    # multicast
    (("ff0e::1",), True),
])
def test_destination_must_resolve_to_public_addresses_only(addresses: tuple[str, ...],
                                                           refused: bool) -> None:
    problem = destination_problem("https://hooks.brand.example/in", allow_loopback=True,
                                  resolve=resolver(*addresses))
    assert (problem is not None) is refused


@pytest.mark.parametrize("host", ["[64:ff9b::a00:1]", "[2002:a00:1::]", "[::ffff:0:7f00:1]",
                                  "[::127.0.0.1]", "224.0.0.1"])
def test_an_address_that_leads_to_a_private_one_is_refused_at_registration(
        brand_client: FlaskClient, manager: str, host: str) -> None:
    response = call(brand_client, "POST", WEBHOOKS, manager, json={"url": f"https://{host}/in"})
    assert response.status_code == 400
    assert response.get_json()["errors"] == {"url": [
        "Webhook URL: its host resolves to a private, loopback or reserved address."]}


def test_an_unresolvable_host_is_refused() -> None:
    def fail(*_: Any, **__: Any) -> list[Any]:
        raise OSError("no such host")
    assert destination_problem("https://nowhere.example/in", allow_loopback=False,
                               resolve=fail) == "its host does not resolve."
