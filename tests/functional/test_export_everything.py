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

from brand_gateway.webhooks.sqlcipher import sqlcipher_registry
from consent.receipts import DEFAULT_CONTROLLER, ReceiptSigner
from tests.brand_api_support import BrandApi, IssuedToken, bearer

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
    sqlcipher_registry(database=vault.data, clock=clock).add(
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
