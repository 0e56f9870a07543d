"""The download holds every record about the member, from every layer, as the pages made them.

A member who set terms, agreed with a brand, granted, was read, withdrew (and so had the brand
told) downloads everything: terms, agreements, grants in every state, the receipts as issued,
the authorization, the brand's pseudonym, the notification, the reads and the ledger entries;
and another member's download holds none of it.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from werkzeug.datastructures import MultiDict

from brand_gateway.storage import webhook_registry
from consent.receipts import DEFAULT_CONTROLLER, ReceiptSigner
from tests.brand_api_support import BrandApi, IssuedToken, bearer

from .pages import form_fields
from .test_agreements_api import make_brand

PROFILE = "/api/v1/member/profile"


def download(member) -> tuple[dict, zipfile.ZipFile]:
    response = member.auth.post("/member/export", form_page="/member/")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.get_data()))
    document = json.loads(archive.read("vrmvault-export.json"))
    schema = json.loads(archive.read("vrmvault-export.schema.json"))
    Draft202012Validator.check_schema(schema)
    Draft202012Validator(schema, format_checker=FormatChecker()).validate(document)
    return document, archive


@pytest.fixture
def lived_in(api: BrandApi, alice, velo, vault, brand_client, clock) -> IssuedToken:
    webhook_registry(database=vault.data, clock=clock).add(
        velo.client_id, "https://hooks.velo.example/vrmvault")
    issued = api.member_token(alice.id, velo, {"dpv:Personalisation": ["given_name", "city"],
                                               "dpv:ServiceProvision": ["city"]})
    alice.auth.post("/member/profile", {"given_name": "Alice", "city": "Utrecht"})
    response = brand_client.get(PROFILE, headers=bearer(issued.token),
                                query_string={"purpose": "dpv:Personalisation"})
    assert response.status_code == 200, response.get_data(as_text=True)
    clock.advance(60)
    response = alice.auth.post(f"/member/consents/{issued.grants[0].id}/withdraw",
                               form_page="/member/consents")
    assert response.status_code == 302
    return issued


def test_the_download_holds_every_layers_records(alice, lived_in, api, vault, consent):
    document, archive = download(alice)
    velo = lived_in.client

    assert document["terms"]["agreement"] == "SD-BASE-ATP"
    assert "dpv:Personalisation" in document["terms"]["purposes"]
    [agreement] = document["agreements"]
    assert (agreement["brand"], agreement["status"]) == ("Velo Bikes", "agreed")
    assert agreement["record"] and agreement["signature"]

    by_id = {g["id"]: g for g in document["grants"]}
    withdrawn, live = lived_in.grants
    assert by_id[withdrawn.id]["status"] == "withdrawn"
    assert by_id[withdrawn.id]["withdrawn_at"] == "2027-01-15T08:01:00Z"
    assert by_id[withdrawn.id]["fields"] == ["city", "given_name"]
    assert by_id[live.id]["status"] == "active" and by_id[live.id]["withdrawn_at"] is None

    stored = vault.data.all("SELECT id, token, event FROM receipts ORDER BY created_at, id")
    assert [(r["id"], r["jws"], r["event"]) for r in document["receipts"]] == [
        tuple(row) for row in stored]
    assert {r["event"] for r in document["receipts"]} == {"given", "withdrawn"}
    signer = ReceiptSigner(vault.master, controller=DEFAULT_CONTROLLER)
    for receipt in document["receipts"]:
        assert signer.verify(receipt["jws"])["consentReceiptID"]    # as issued, verifiable

    [identifier] = document["brand_identifiers"]
    assert identifier == {"brand_id": velo.brand_id, "brand": "Velo Bikes",
                          "subject": api.subject(alice.id, velo)}

    [authorization] = document["authorizations"]
    assert authorization["brand"] == "Velo Bikes"
    assert sorted(authorization["grants"]) == sorted(g.id for g in lived_in.grants)
    # The authorization carries a grant that is still live, so withdrawing the other one ends
    # that grant alone (one withdrawal does not cut the brand off the rest).
    assert authorization["ended_at"] is None
    assert authorization["access_tokens"]["issued"] == 1

    [notification] = document["notifications"]
    assert (notification["brand"], notification["type"]) == ("Velo Bikes", "consent.withdrawn")
    assert (notification["endpoints"], notification["delivered"]) == (1, 0)

    [read] = document["disclosures"]
    assert (read["brand"], read["resource"]) == ("Velo Bikes", "profile")

    tags = [e["tag"] for e in document["ledger_entries"]]
    assert {"consent:terms:changed", "consent:grant:given", "consent:grant:withdrawn",
            "consent:receipt:issued"} <= set(tags)
    assert not {"access:profile:read", "access:feedback:read"} & set(tags)
    assert [e["seq"] for e in document["ledger_entries"]] == sorted(
        e["seq"] for e in document["ledger_entries"])

    grants_csv = list(csv.DictReader(io.StringIO(archive.read("grants.csv").decode())))
    assert {row["id"] for row in grants_csv} == set(by_id)
    receipts_csv = list(csv.DictReader(io.StringIO(archive.read("receipts.csv").decode())))
    assert [row["jws"] for row in receipts_csv] == [r["jws"] for r in document["receipts"]]
    readme = archive.read("README.txt").decode()
    for name in archive.namelist():
        assert name == "README.txt" or name in readme
    # What the CSV changes of a value, it says (a trial found '+31 6 ... and no word why).
    assert "apostrophe" in readme and "vrmvault-export.json\nholds every value as it is" in readme


def test_the_download_names_every_pseudonym_any_brand_received(alice, lived_in, api,
                                                                brand_client, vault, clock):
    """Velo Bikes knows Alice through OAuth (its API's subject); Spokesmith only through the
    terms she offered it on the Sharing page (the subject of its agreement record); Greenleaf
    through a grant it never read under, whose withdrawal it was told of (the webhook's)."""
    spokesmith = make_brand(api, brand_client, "Spokesmith Cycles")
    page = alice.client.get("/member/consents").get_data(as_text=True)
    fields = MultiDict(form_fields(page, "/member/agreements"))
    fields["brand_id"] = spokesmith.oauth.brand_id
    assert alice.client.post("/member/agreements", data=fields).status_code == 302
    [offer] = spokesmith.get("/agreements").get_json()["agreements"]
    greenleaf = api.brand("Greenleaf")
    webhook_registry(database=vault.data, clock=clock).add(
        greenleaf.client_id, "https://hooks.greenleaf.example/vrmvault")
    grant = api.grant(alice.id, greenleaf, "dpv:Marketing", ["city"])
    response = alice.auth.post(f"/member/consents/{grant.id}/withdraw",
                               form_page="/member/consents")
    assert response.status_code == 302
    [payload] = [json.loads(row[0]) for row in vault.data.all(
        "SELECT o.payload FROM webhook_outbox AS o JOIN oauth_clients AS c"
        " ON c.client_id = o.client_id WHERE c.brand_id = ?", (greenleaf.brand_id,))]

    document, _ = download(alice)
    received = {i["brand"]: (i["brand_id"], i["subject"]) for i in document["brand_identifiers"]}
    assert received == {
        "Velo Bikes": (lived_in.client.brand_id, api.subject(alice.id, lived_in.client)),
        "Spokesmith Cycles": (spokesmith.oauth.brand_id, offer["subject"]),
        "Greenleaf": (greenleaf.brand_id, payload["data"]["subject"])}
    # The product's rule: no identifier one brand received is one another brand received.
    assert len({subject for _, subject in received.values()}) == len(received)
    assert {(n["brand"], n["type"]) for n in document["notifications"]} == {
        ("Velo Bikes", "consent.withdrawn"), ("Greenleaf", "consent.withdrawn")}


def test_a_second_export_is_in_the_first_members_ledger_entries(alice, lived_in):
    download(alice)
    document, _ = download(alice)
    exports = [e for e in document["ledger_entries"] if e["tag"] == "member:data:exported"]
    assert len(exports) == 1 and exports[0]["details"]["format"] == "zip"


def test_another_members_download_holds_none_of_it(alice, bob, lived_in):
    document, archive = download(bob)
    for key in ("agreements", "grants", "receipts", "brand_identifiers", "authorizations",
                "notifications", "disclosures"):
        assert document[key] == [], key
    assert document["terms"] is None
    assert document["ledger_entries"] == []
    assert "Velo Bikes" not in "".join(archive.read(n).decode() for n in archive.namelist())


def test_the_schema_and_the_dashboard_name_every_kind_of_record_the_document_holds(alice,
                                                                                   lived_in):
    """What the schema's description and the dashboard say the download holds is all of it:
    they named the account's, consent's and the gateway's records and none of the communities,
    surveys, care cases, requests or intents the document holds too."""
    document, archive = download(alice)
    described = json.loads(archive.read("vrmvault-export.schema.json"))["description"]
    page = " ".join(alice.client.get("/member/").get_data(as_text=True).split())
    for section, words in (("communities", "communities"), ("community_ideas", "ideas"),
                           ("community_votes", "votes"), ("survey_answers", "survey answers"),
                           ("care_cases", "care cases"),
                           ("data_subject_requests", "data subject requests"),
                           ("intents", "intents"), ("notifications", "notices")):
        assert section in document
        assert words in described, words
        assert words in page, words
