"""The brand API (/api/v1) through the Flask test client, as a brand would call it.

Tokens are made with :mod:`tests.brand_api_support` (consent services, token family, token
store) on the app's store and frozen clock; members change their consent through their pages.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_openapi

from brand_gateway.clients import SCOPES
from brand_gateway.storage import access_log, pairwise_pseudonyms
from consent.context import open_ledger
from consent.events import EventTag
from consent.grants import DAY
from consent.spool import SpoolDirectory
from tests.brand_api_support import BrandApi, IssuedToken, bearer
from vault.clock import FrozenClock
from vault.home import Vault, VaultHome

from .conftest import SignedIn
from .pages import assert_sane, location_path, text_of

PROFILE = "/api/v1/member/profile"
FEEDBACK = "/api/v1/member/feedback"
MEMBER = "/api/v1/member"
OPENAPI = "/api/v1/openapi.json"
PERSONALISATION = "dpv:Personalisation"
CARE = "dpv:CustomerCare"
ALICE = {"given_name": "Alice", "family_name": "Liddell", "city": "Leiden", "phone": "+31 71 1",
         "contact_email": "alice.contact@example.org"}


@pytest.fixture
def issued(api: BrandApi, alice: SignedIn, velo, vault: Vault) -> IssuedToken:
    """Alice fills in part of her profile and grants Velo given_name, city and interests."""
    vault.profile.update(alice.id, ALICE)
    return api.member_token(alice.id, velo, {PERSONALISATION: ["given_name", "city",
                                                               "interests"]})


def get(client: FlaskClient, path: str, token: str | None = None, **kwargs: Any):
    headers = kwargs.pop("headers", {})
    if token is not None:
        headers.update(bearer(token))
    response = client.get(path, headers=headers, **kwargs)
    assert_sane(response)
    return response


def problem_of(response) -> dict[str, Any]:
    assert response.mimetype == "application/problem+json"
    body = response.get_json(force=True)
    assert body["status"] == response.status_code
    assert body["title"] and body["type"]
    return body


# -- fields, field by field -----------------------------------------------------------------------
def test_profile_returns_allowed_filled_fields_and_withholds_the_rest(brand_client, issued,
                                                                     api, alice):
    response = get(brand_client, PROFILE, issued.token,
                   query_string={"fields": "given_name,city,family_name,interests,phone"})
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_json() == {
        "subject": api.subject(alice.id, issued.client), "purpose": PERSONALISATION,
        "profile": {"given_name": "Alice", "city": "Leiden"},
        "withheld": ["family_name", "interests", "phone"]}


def test_without_fields_every_field_of_the_token_is_asked_for(brand_client, issued):
    body = get(brand_client, PROFILE, issued.token).get_json()
    assert body["profile"] == {"given_name": "Alice", "city": "Leiden"}
    assert body["withheld"] == ["interests"]            # granted, but Alice never filled it in


def test_an_ungranted_field_looks_the_same_whether_or_not_the_member_filled_it(
        brand_client, issued, vault, alice):
    query = {"fields": "given_name,interests,occupation,gender"}
    before = get(brand_client, PROFILE, issued.token, query_string=query).get_data()
    # occupation (not granted) filled in; interests (granted) left empty: nothing changes.
    vault.profile.update(alice.id, {"occupation": "Logician", "gender": "female"})
    after = get(brand_client, PROFILE, issued.token, query_string=query).get_data()
    assert before == after
    assert json.loads(after)["withheld"] == ["interests", "occupation", "gender"]


def test_narrowing_a_grant_withholds_the_removed_field_on_the_next_call(brand_client, issued,
                                                                       alice):
    response = alice.auth.post(f"/member/consents/{issued.grant.id}/narrow",
                               {"fields": ["given_name"]},
                               form_page=f"/member/consents/{issued.grant.id}/narrow")
    assert response.status_code == 302
    # The token now names what the grant covers (as introspection and a refresh say): asked
    # by name, the fields taken back are withheld.
    body = get(brand_client, PROFILE, issued.token).get_json()
    assert body["profile"] == {"given_name": "Alice"}
    assert body["withheld"] == []
    body = get(brand_client, PROFILE, issued.token,
               query_string={"fields": "given_name,city,interests"}).get_json()
    assert body["profile"] == {"given_name": "Alice"}
    assert body["withheld"] == ["city", "interests"]
    member = get(brand_client, MEMBER, issued.token).get_json()
    assert member["authorizations"][0]["fields"] == ["given_name"]


def test_withdrawing_on_the_member_page_fails_the_very_next_call(brand_client, issued, alice):
    assert get(brand_client, PROFILE, issued.token).status_code == 200
    response = alice.auth.post(f"/member/consents/{issued.grant.id}/withdraw",
                               form_page="/member/consents")
    assert response.status_code == 302
    for path in (PROFILE, FEEDBACK, MEMBER):
        response = get(brand_client, path, issued.token)
        assert response.status_code == 401, path
        assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
        assert problem_of(response)["error"] == "invalid_token"


def test_a_withdrawal_fails_the_token_even_before_its_family_is_revoked(brand_client, issued,
                                                                         consent, alice):
    # consent services without the gateway's observer: the family stays live, the grant not.
    consent.grants.withdraw(alice.id, issued.grant.id)
    response = get(brand_client, PROFILE, issued.token)
    assert response.status_code == 401
    assert "authorization has ended" in problem_of(response)["detail"]


def test_an_expired_grant_fails_the_token(brand_client, api, alice, velo, clock: FrozenClock):
    issued = api.member_token(alice.id, velo, {PERSONALISATION: ["given_name"]}, days=1,
                              lifetime=3 * DAY)
    clock.advance(DAY)
    response = get(brand_client, PROFILE, issued.token)
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_terms_that_no_longer_accept_the_purpose_withhold_everything(brand_client, issued,
                                                                      consent, alice):
    consent.terms.update(alice.id, agreement="SD-BASE-ATP", purposes=[CARE], max_days=365,
                         aggregate_allowed=True)
    body = get(brand_client, PROFILE, issued.token).get_json()
    assert body["profile"] == {}
    assert body["withheld"] == ["given_name", "city", "interests"]
    assert get(brand_client, MEMBER, issued.token).get_json()["authorizations"][0][
        "fields"] == []


def test_the_member_endpoint_tells_subject_purposes_and_ends(brand_client, api, alice, velo,
                                                             clock):
    issued = api.member_token(alice.id, velo, {PERSONALISATION: ["given_name"],
                                               CARE: ["city", "feedback"]}, days=10)
    response = get(brand_client, MEMBER, issued.token)
    assert response.status_code == 200
    body = response.get_json()
    assert body["subject"] == api.subject(alice.id, velo)
    assert alice.id not in response.get_data(as_text=True)
    pseudonyms = pairwise_pseudonyms(database=api.vault.data, master=api.vault.master)
    assert pseudonyms.member_for(body["subject"], velo.brand_id) == alice.id   # it resolves
    ends = {p["purpose"]: p for p in body["authorizations"]}
    assert ends[PERSONALISATION]["fields"] == ["given_name"]
    assert ends[CARE]["fields"] == ["city", "feedback"]
    assert ends[CARE]["purpose_label"] == "Customer care"
    assert ends[CARE]["ends_at"] == "2027-01-25T08:00:00Z"      # the frozen clock + 10 days
    assert body["token_expires_at"] == "2027-01-15T08:10:00Z"


def test_two_purposes_need_the_purpose_named(brand_client, api, alice, velo, vault):
    vault.profile.update(alice.id, ALICE)
    issued = api.member_token(alice.id, velo, {PERSONALISATION: ["given_name"],
                                               CARE: ["city"]})
    response = get(brand_client, PROFILE, issued.token)
    assert response.status_code == 400
    assert "purpose" in problem_of(response)["errors"]
    body = get(brand_client, PROFILE, issued.token, query_string={"purpose": CARE}).get_json()
    assert body["profile"] == {"city": "Leiden"}
    assert body["purpose"] == CARE


def test_a_purpose_the_token_lacks_is_insufficient_scope(brand_client, issued):
    response = get(brand_client, PROFILE, issued.token, query_string={"purpose": CARE})
    assert response.status_code == 403
    assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]
    assert problem_of(response)["error"] == "insufficient_scope"


# -- brands ---------------------------------------------------------------------------------------
def test_each_brand_sees_only_its_own_grant_under_its_own_subject(brand_client, api, alice,
                                                                  velo, vault):
    vault.profile.update(alice.id, ALICE)
    grocer = api.brand("Fresh Grocer")
    velo_token = api.member_token(alice.id, velo, {PERSONALISATION: ["given_name"]})
    grocer_token = api.member_token(alice.id, grocer, {PERSONALISATION: ["city"]})
    query = {"fields": "given_name,city"}
    velo_body = get(brand_client, PROFILE, velo_token.token, query_string=query).get_json()
    grocer_body = get(brand_client, PROFILE, grocer_token.token, query_string=query).get_json()
    assert velo_body["profile"] == {"given_name": "Alice"}
    assert grocer_body["profile"] == {"city": "Leiden"}
    assert velo_body["subject"] != grocer_body["subject"]


def test_a_token_naming_another_brands_grant_reads_nothing(brand_client, api, alice, velo,
                                                           vault):
    vault.profile.update(alice.id, ALICE)
    velo_grant = api.grant(alice.id, velo, PERSONALISATION, ["given_name"])
    grocer = api.brand("Fresh Grocer")
    forged = api.token_for(alice.id, grocer, [velo_grant])
    response = get(brand_client, PROFILE, forged.token)
    assert response.status_code == 401
    assert "Alice" not in response.get_data(as_text=True)


def test_a_brand_level_token_is_refused_on_member_endpoints(brand_client, api, velo):
    token = api.brand_token(velo)
    for path in (MEMBER, PROFILE, FEEDBACK):
        response = get(brand_client, path, token)
        assert response.status_code == 403, path
        assert response.headers["WWW-Authenticate"].startswith(
            'Bearer realm="vrmvault", error="insufficient_scope"')


def test_a_disabled_client_is_refused_at_once(brand_client, api, issued):
    api.clients.disable(issued.client.client_id)
    assert get(brand_client, PROFILE, issued.token).status_code == 401


# -- feedback -------------------------------------------------------------------------------------
def test_feedback_shows_only_entries_about_this_brand(brand_client, api, alice, velo):
    grocer = api.brand("Fresh Grocer")
    brands = {b.id: b for b in api.vault.brands.all()}
    alice.add_feedback(brands[velo.brand_id], comment="Great bikes", rating="5", nps="9")
    alice.add_feedback(brands[grocer.brand_id], comment="Stale bread", rating="2")
    alice.add_feedback(brands[velo.brand_id], touchpoint="support", nps="",
                       comment="", occurred_on="2027-01-12")
    issued = api.member_token(alice.id, velo, {CARE: ["feedback"]})
    response = get(brand_client, FEEDBACK, issued.token)
    assert response.status_code == 200
    body = response.get_json()
    assert body["entries"] == [
        {"touchpoint": "support", "rating": 4, "nps": None, "occurred_on": "2027-01-12",
         "comment": ""},
        {"touchpoint": "purchase", "rating": 5, "nps": 9, "occurred_on": "2027-01-10",
         "comment": "Great bikes"}]
    assert body["total"] == 2 and body["next_offset"] is None and body["withheld"] == []
    assert "Stale bread" not in response.get_data(as_text=True)
    page = get(brand_client, FEEDBACK, issued.token, query_string={"limit": 1}).get_json()
    assert len(page["entries"]) == 1 and page["next_offset"] == 1


def test_feedback_not_granted_is_withheld_whether_or_not_there_is_any(brand_client, issued,
                                                                      alice, api):
    empty = get(brand_client, FEEDBACK, issued.token).get_data()
    brand = api.vault.brands.get(issued.client.brand_id)
    alice.add_feedback(brand, comment="Secret opinion")
    full = get(brand_client, FEEDBACK, issued.token).get_data()
    assert empty == full
    assert json.loads(full)["withheld"] == ["feedback"]
    assert json.loads(full)["entries"] == []


# -- requests and errors --------------------------------------------------------------------------
@pytest.mark.parametrize(("path", "query", "parameter"), [
    (PROFILE, {"colour": "red"}, "colour"),
    (PROFILE, {"fields": "given_name,password"}, "fields"),
    (PROFILE, {"fields": ""}, "fields"),
    (PROFILE, {"fields": "given_name,,city"}, "fields"),
    (PROFILE, {"purpose": "dpv:Everything"}, "purpose"),
    (PROFILE, {"fields": "feedback"}, "fields"),
    (PROFILE, {"fields": ["given_name", "city"]}, "fields"),
    (FEEDBACK, {"limit": "0"}, "limit"),
    (FEEDBACK, {"limit": "many"}, "limit"),
    (FEEDBACK, {"offset": "-1"}, "offset"),
    (FEEDBACK, {"limit": "9" * 40}, "limit"),
    (FEEDBACK, {"limit": "9" * 4_301}, "limit"),
    # Numbers as JSON writes them: int() also reads Arabic-Indic digits, '1_0', ' 5', '+5'.
    (FEEDBACK, {"limit": "\u0665"}, "limit"),
    (FEEDBACK, {"offset": "\u0661"}, "offset"),
    (FEEDBACK, {"limit": "1_0"}, "limit"),
    (FEEDBACK, {"limit": " 5"}, "limit"),
    (FEEDBACK, {"limit": "+5"}, "limit"),
    (MEMBER, {"fields": "given_name"}, "fields"),
    (OPENAPI, {"x": "1"}, "x"),
], ids=lambda v: str(v) if not isinstance(v, dict) else "")
def test_bad_queries_are_400_problems_naming_the_parameter(brand_client, issued, path, query,
                                                           parameter, consent):
    before = consent.ledger.size
    response = get(brand_client, path, issued.token, query_string=query)
    assert response.status_code == 400
    body = problem_of(response)
    assert parameter in body["errors"]
    assert "Unknown field." not in json.dumps(body)
    assert "WWW-Authenticate" not in response.headers
    assert consent.ledger.size == before            # nothing was read, nothing recorded


@pytest.mark.parametrize(("headers", "status", "challenge"), [
    ({}, 401, 'Bearer realm="vrmvault"'),
    ({"Authorization": "Basic dXNlcjpwYXNz"}, 401, 'Bearer realm="vrmvault"'),
    ({"Authorization": "Bearer"}, 400, 'error="invalid_request"'),
    ({"Authorization": "Bearer a b"}, 400, 'error="invalid_request"'),
    ({"Authorization": "Bearer not-a-token"}, 401, 'error="invalid_token"'),
    ({"Authorization": "Bearer " + "x" * 600}, 401, 'error="invalid_token"'),
], ids=["missing", "other scheme", "empty", "malformed", "unknown", "too long"])
def test_token_errors_follow_rfc_6750(brand_client, headers, status, challenge):
    for path in (MEMBER, PROFILE, FEEDBACK):
        response = get(brand_client, path, headers=headers)
        assert response.status_code == status, path
        header = response.headers["WWW-Authenticate"]
        if challenge == 'Bearer realm="vrmvault"':
            assert header == challenge                     # no error code (RFC 6750 sec. 3.1)
            assert "error" not in problem_of(response)
        else:
            assert header.startswith('Bearer realm="vrmvault", ' + challenge)
            assert problem_of(response)["error"] in challenge


def test_the_scheme_name_is_case_insensitive(brand_client, issued):
    response = get(brand_client, PROFILE, headers={"Authorization": "bearer " + issued.token})
    assert response.status_code == 200


@pytest.mark.parametrize("where", ["query", "form"])
def test_a_token_outside_the_header_is_refused(brand_client, issued, where, consent):
    before = consent.ledger.size
    if where == "query":
        response = brand_client.get(PROFILE, query_string={"access_token": issued.token},
                                    headers=issued.headers)
    else:
        response = brand_client.get(PROFILE, data={"access_token": issued.token})
    assert response.status_code == 400
    assert 'error="invalid_request"' in response.headers["WWW-Authenticate"]
    assert problem_of(response)["error"] == "invalid_request"
    assert consent.ledger.size == before


@pytest.mark.parametrize("name", ["access_token", "%61ccess_token", "access%5Ftoken",
                                  "access%5ftoken"])
def test_a_token_in_the_query_is_refused_however_its_name_is_spelt(brand_client, issued, name,
                                                                   consent):
    before = consent.ledger.size
    response = brand_client.get(f"{PROFILE}?purpose=dpv:Personalisation&{name}={issued.token}",
                                headers=issued.headers)
    assert response.status_code == 400
    assert problem_of(response)["error"] == "invalid_request"
    assert consent.ledger.size == before


def test_an_expired_token_is_invalid(brand_client, issued, clock):
    clock.advance(601)
    assert get(brand_client, PROFILE, issued.token).status_code == 401


def test_other_methods_and_paths_are_problems_too(brand_client, issued):
    response = brand_client.post(PROFILE, headers=issued.headers)
    assert response.status_code == 405
    problem_of(response)
    response = brand_client.get("/api/v1/nothing-here", headers=issued.headers)
    assert response.status_code == 404
    problem_of(response)


def test_api_calls_make_no_session_and_set_no_cookie(brand_client, issued, vault):
    before = vault.data.one("SELECT count(*) FROM web_sessions")[0]
    for path in (MEMBER, PROFILE, FEEDBACK, OPENAPI, PROFILE + "?x=1"):
        response = get(brand_client, path, issued.token)
        assert "Set-Cookie" not in response.headers, path
        assert response.headers["Cache-Control"] == "no-store"
    assert get(brand_client, PROFILE).status_code == 401
    assert vault.data.one("SELECT count(*) FROM web_sessions")[0] == before


# -- rate limits ----------------------------------------------------------------------------------
@pytest.fixture
def limited_app(vault_home: VaultHome, clock: FrozenClock, app: Flask) -> Flask:
    app.config["VRMVAULT_API_RATE_LIMIT"] = 3
    return app


def test_a_client_past_its_rate_gets_429_with_retry_after(limited_app, brand_client, issued,
                                                          api, alice, clock):
    clock.advance(15)                                   # 15 s into a minute
    for _ in range(3):
        assert get(brand_client, PROFILE, issued.token).status_code == 200
    response = get(brand_client, PROFILE, issued.token)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "45"
    assert problem_of(response)["type"].endswith("/rate-limited")
    # Another brand's client has a window of its own.
    other = api.member_token(alice.id, api.brand("Fresh Grocer"))
    assert get(brand_client, PROFILE, other.token).status_code == 200
    clock.advance(45)                                   # the next minute starts afresh
    assert get(brand_client, PROFILE, issued.token).status_code == 200


def test_invalid_tokens_do_not_spend_a_clients_rate(limited_app, brand_client, issued):
    for _ in range(5):
        assert get(brand_client, PROFILE, "wrong").status_code == 401
    assert get(brand_client, PROFILE, issued.token).status_code == 200


# -- accountability -------------------------------------------------------------------------------
def test_every_read_is_a_ledger_entry_without_personal_data(brand_client, issued, consent,
                                                            alice, vault, vault_home):
    size = consent.ledger.size
    get(brand_client, PROFILE, issued.token, query_string={"fields": "given_name,phone"})
    get(brand_client, FEEDBACK, issued.token)
    get(brand_client, MEMBER, issued.token)              # tells no member data: not a read
    # Each read was committed to the worker's spool before it was answered, and reaches the
    # ledger with the next merge (``vrmvault serve`` merges every second).
    spools = SpoolDirectory(vault_home, vault_home.master_key({}))
    assert consent.ledger.size == size and spools.pending(consent.ledger) == 2
    assert spools.merge_all(consent.ledger) == 2
    assert consent.ledger.size == size + 2
    profile_entry, feedback_entry = consent.ledger.entry(size), consent.ledger.entry(size + 1)
    assert profile_entry.tag is EventTag.ACCESS_PROFILE_READ
    assert profile_entry.actor == "brand:" + issued.client.brand_id
    assert dict(profile_entry.details) == {
        "member": consent.principal(alice.id), "client": issued.client.client_id,
        "purpose": PERSONALISATION, "fields": ["given_name"], "grants": [issued.grant.id]}
    assert feedback_entry.tag is EventTag.ACCESS_FEEDBACK_READ
    assert feedback_entry.details["fields"] == [] and feedback_entry.details["entries"] == 0
    for entry in (profile_entry, feedback_entry):
        body = entry.body.decode()
        for secret in (alice.id, alice.email, *ALICE.values()):
            assert secret not in body
    records = access_log(ledger=consent.ledger, database=vault.data, clock=vault.clock).page(
        consent.principal(alice.id)).records
    assert [(r.resource, r.fields, r.ledger_seq) for r in records] == [
        ("feedback", (), size + 1), ("profile", ("given_name",), size)]


def test_the_member_sees_who_read_what_and_nobody_else_does(brand_client, issued, alice, bob,
                                                            app):
    get(brand_client, PROFILE, issued.token, query_string={"fields": "given_name,city"})
    page = alice.client.get("/member/access")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    rows = re.findall(r"<tr>\s*<td[^>]*>(.*?)</tr>", html, re.S)
    assert len(rows) == 1
    assert text_of(rows[0]).startswith("2027-01-15 08:00 UTC Velo Bikes Personalisation "
                                       "Given name, City")
    assert "<svg" in html and "Velo Bikes: 1 read on 2027-01-15" in html
    assert "Who read what" in alice.client.get("/member/").get_data(as_text=True)
    other = bob.client.get("/member/access").get_data(as_text=True)
    assert "Velo Bikes" not in other and "No brand has read anything of yours." in other
    anonymous = app.test_client().get("/member/access")
    assert location_path(anonymous) == "/login"


def test_the_export_names_every_brand_read_the_last_ones_too(brand_client, issued, alice, bob,
                                                              vault_home, clock):
    get(brand_client, PROFILE, issued.token, query_string={"fields": "given_name,city"})
    clock.advance(60)
    get(brand_client, FEEDBACK, issued.token)
    # Nothing has merged the worker's spool: the export does, so it misses no read.
    with open_ledger(vault_home, vault_home.master_key({})) as ledger:
        assert SpoolDirectory(vault_home, vault_home.master_key({})).pending(ledger) == 2
    response = alice.auth.post("/member/export", form_page="/member/")
    archive = zipfile.ZipFile(io.BytesIO(response.get_data()))
    document = json.loads(archive.read("vrmvault-export.json"))
    assert [(d["read_at"], d["brand"], d["resource"], d["purpose"], d["fields"])
            for d in document["disclosures"]] == [
        ("2027-01-15T08:01:00Z", "Velo Bikes", "feedback", PERSONALISATION, []),
        ("2027-01-15T08:00:00Z", "Velo Bikes", "profile", PERSONALISATION,
         ["given_name", "city"])]
    schema = json.loads(archive.read("vrmvault-export.schema.json"))
    Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER
                         ).validate(document)
    rows = archive.read("disclosures.csv").decode().splitlines()
    assert rows[0] == "read_at,brand,brand_id,resource,purpose,fields,ledger_seq"
    assert rows[2].split(",")[5] == "given_name; city"
    other = bob.auth.post("/member/export", form_page="/member/")
    other_document = json.loads(zipfile.ZipFile(io.BytesIO(other.get_data()))
                                .read("vrmvault-export.json"))
    assert other_document["disclosures"] == []


def test_the_access_page_is_paginated_newest_first(brand_client, api, alice, velo, clock):
    issued = api.member_token(alice.id, velo, lifetime=3600)
    for _ in range(51):                 # 08:00:30 to 08:25:30, within Alice's idle limit
        clock.advance(30)
        assert get(brand_client, PROFILE, issued.token).status_code == 200
    first = alice.client.get("/member/access").get_data(as_text=True)
    assert "Page 1 of 2" in first and "Reads (51)" in first
    assert first.index("2027-01-15 08:25 UTC") < first.index("2027-01-15 08:01 UTC")
    assert "2027-01-15 08:00 UTC" not in first
    second = alice.client.get("/member/access?page=2").get_data(as_text=True)
    assert "2027-01-15 08:00 UTC" in second and "2027-01-15 08:25 UTC" not in second
    assert alice.client.get("/member/access?page=x").status_code == 200


def test_a_read_writes_nothing_to_the_data_store_and_erasure_leaves_no_trace_of_it(
        brand_client, issued, alice, vault, consent, vault_home):
    """The reads are served from the ledger's access index, not a table beside the member: an
    erasure (which never touches the ledger) leaves no row naming the member, and what the index
    holds is what the entries hold (the principal, the brand, seq and time)."""
    get(brand_client, PROFILE, issued.token)               # the first read maps the subject
    tables = data_tables(vault.data)
    assert "api_access_log" not in tables and "api_rate_limits" not in tables
    before = data_written(vault.data, tables)
    get(brand_client, PROFILE, issued.token)
    assert data_written(vault.data, tables) == before     # no commit by anyone
    principal = consent.principal(alice.id)
    SpoolDirectory(vault_home, vault_home.master_key({})).merge_all(consent.ledger)
    reads = consent.ledger.access_index.reads(principal, limit=10)
    assert [r.brand_id for r in reads] == [issued.client.brand_id] * 2
    for read in reads:
        assert consent.ledger.entry(read.entry.seq).details["member"] == principal
    vault.erasure.erase(alice.id)
    assert vault.data.one("SELECT count(*) FROM members WHERE id = ?", (alice.id,))[0] == 0
    assert vault.data.one("SELECT count(*) FROM pairwise_subjects WHERE member_id = ?",
                          (alice.id,))[0] == 0


def data_tables(data: Any) -> list[str]:
    """The data store's tables (on PostgreSQL, those of its own schema: not the ledger's or
    the request counters')."""
    if data.engine == "sqlcipher":
        return [row[0] for row in data.all("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return [row[0] for row in data.all("SELECT tablename FROM pg_tables"
                                       " WHERE schemaname = current_schema()")]


def data_written(data: Any, tables: list[str]) -> Any:
    """What changes with any commit to the data store: SQLite's data_version; on PostgreSQL
    every row's creating transaction (xmin), and the rows themselves."""
    if data.engine == "sqlcipher":
        return data.one("PRAGMA data_version")[0]
    return {table: sorted(str(row) for row in data.all(
        f"SELECT xmin::text, t::text FROM {table} AS t")) for table in tables}


# -- the OpenAPI document -------------------------------------------------------------------------
@pytest.fixture
def openapi(brand_client) -> dict[str, Any]:
    response = get(brand_client, OPENAPI)
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.get_json()


def test_the_openapi_document_is_valid_openapi_3_1(openapi, app):
    assert openapi["openapi"] == "3.1.0"
    validate_openapi(openapi)
    # Every operation the app serves under /api/v1 is documented, and nothing else.
    served = {(re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule[len("/api/v1"):]),
               method.lower())
              for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1/")
              for method in rule.methods or () if method not in {"HEAD", "OPTIONS"}}
    documented = {(path, method) for path, item in openapi["paths"].items() for method in item}
    assert documented == served
    assert openapi["servers"] == [{"url": "http://localhost/api/v1"}]


def test_the_openapi_document_names_the_oauth_flows(openapi):
    schemes = openapi["components"]["securitySchemes"]
    assert schemes["bearer"]["scheme"] == "bearer"
    code = schemes["member"]["flows"]["authorizationCode"]
    assert code["tokenUrl"] == "http://localhost/oauth/token"
    assert code["authorizationUrl"] == "http://localhost/oauth/authorize"
    assert "PKCE" in schemes["member"]["description"]
    # Every scope a client may be registered for, and nothing that is not one.
    assert schemes["brand"]["flows"]["clientCredentials"]["scopes"] == SCOPES
    for name in ("Unauthorized", "Forbidden", "BadRequest", "TooManyRequests"):
        assert "application/problem+json" in openapi["components"]["responses"][name]["content"]
    assert "Retry-After" in openapi["components"]["responses"]["TooManyRequests"]["headers"]


def test_every_operation_that_reads_a_store_documents_its_503(openapi):
    """README "For brands": while the vault's database cannot be reached, any request is 503
    (store-unreachable) with Retry-After; a member data read is 503 too when the member's key
    was lost in a restore, and 410 once the member is erased."""
    for path, item in openapi["paths"].items():
        for method, operation in item.items():
            answer = operation["responses"].get("503")
            if path == "/openapi.json":               # built from the code alone
                assert answer is None
            elif path in ("/member/profile", "/member/feedback"):
                assert answer == {"$ref": "#/components/responses/MemberDataUnavailable"}
                assert operation["responses"]["410"] == {
                    "$ref": "#/components/responses/MemberErased"}
            else:
                assert answer == {"$ref": "#/components/responses/StoreUnreachable"}, (
                    method, path)
    unreachable = openapi["components"]["responses"]["StoreUnreachable"]
    assert "Retry-After" in unreachable["headers"]
    assert "application/problem+json" in unreachable["content"]


def _validator(openapi: dict[str, Any], name: str) -> Draft202012Validator:
    return Draft202012Validator({"$ref": f"#/components/schemas/{name}",
                                 "components": openapi["components"]})


def test_real_responses_match_the_document(openapi, brand_client, api, alice, velo, vault):
    vault.profile.update(alice.id, {**ALICE, "interests": ["cycling"], "household_size": 2,
                                    "date_of_birth": "1990-05-04"})
    brand = vault.brands.get(velo.brand_id)
    alice.add_feedback(brand, nps="")
    issued = api.member_token(alice.id, velo, {
        PERSONALISATION: ["category:identity", "category:contact", "interests",
                          "household_size"], CARE: ["feedback"]})
    cases = [(MEMBER, {}, "Member"), (PROFILE, {"purpose": PERSONALISATION}, "Profile"),
             (FEEDBACK, {"purpose": CARE}, "Feedback"), (FEEDBACK, {"purpose": PERSONALISATION},
                                                         "Feedback")]
    for path, query, schema in cases:
        body = get(brand_client, path, issued.token, query_string=query).get_json()
        _validator(openapi, schema).validate(body)
    problem = get(brand_client, PROFILE, "wrong").get_json(force=True)
    _validator(openapi, "Problem").validate(problem)
    problem = get(brand_client, PROFILE, issued.token, query_string={"x": "1"}).get_json(
        force=True)
    _validator(openapi, "Problem").validate(problem)
