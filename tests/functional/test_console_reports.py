"""The console's reports through the Flask test client: who may open them, what each page, CSV
and JSON holds, and what none of them ever holds (an identity or a profile value, without a
reveal for the case)."""

from __future__ import annotations

import csv
import io
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from brand_gateway.clients import OAuthClient
from consent.context import Consent
from consent.spool import SpoolDirectory
from tests.brand_api_support import BrandApi
from vault.clock import FrozenClock
from vault.home import Vault, VaultHome

from .conftest import SignedIn
from .pages import assert_sane, error_message, field_errors, location_path, text_of

PAGES = ("/console/reports/", "/console/reports/records-of-processing")
PERSONALISATION = "dpv:Personalisation"
# What Alice keeps: none of it may appear in a report an officer sees without a reveal.
ALICE_PROFILE = {"given_name": "Alicia", "family_name": "Quixotic", "city": "Zanzibar",
                 "phone": "+31 71 555 0199"}


@pytest.fixture
def velo(api: BrandApi) -> OAuthClient:
    return api.brand("Velo Bikes")


@pytest.fixture
def exposed(vault: Vault, consent: Consent, api: BrandApi, velo: OAuthClient, alice: SignedIn,
            bob: SignedIn, brand_client: FlaskClient, vault_home: VaultHome,
            clock: FrozenClock) -> dict[str, str]:
    """Alice shares her name and city with Velo, which reads her profile twice through the API;
    Bob grants Velo his feedback journal and withdraws it."""
    vault.profile.update(alice.id, ALICE_PROFILE)
    issued = api.member_token(alice.id, velo, {PERSONALISATION: ["given_name", "city"]})
    for _ in range(2):
        response = brand_client.get("/api/v1/member/profile", headers=issued.headers)
        assert response.status_code == 200, response.get_data(as_text=True)
    SpoolDirectory(vault_home, vault_home.master_key({})).merge_all(consent.ledger)
    clock.advance(60)                  # within every session's idle limit
    bobs = api.grant(bob.id, velo, "dpv:ServiceOptimisation", ["feedback"])
    consent.grants.withdraw(bob.id, bobs.id)
    return {"alice": consent.principal(alice.id), "bob": consent.principal(bob.id),
            "alice_grant": issued.grant.id, "bob_grant": bobs.id}


def exposure_path(velo: OAuthClient, form: str | None = None) -> str:
    return f"/console/reports/exposure/{velo.brand_id}" + (f"?format={form}" if form else "")


# -- the gate -----------------------------------------------------------------------------------
@pytest.mark.parametrize("path", [*PAGES, "/console/reports/?format=csv",
                                  "/console/reports/records-of-processing?format=json"])
def test_anonymous_visitors_are_sent_to_sign_in(app: Flask, path: str) -> None:
    response = app.test_client().get(path)
    assert response.status_code == 302 and location_path(response) == "/login"


@pytest.mark.parametrize("path", PAGES)
def test_members_without_the_role_get_a_403_page(alice: SignedIn, path: str) -> None:
    response = alice.client.get(path)
    assert response.status_code == 403
    assert error_message(response.get_data(as_text=True)) == \
        "This page is for compliance officers only."


def test_a_member_cannot_download_an_exposure_either(alice: SignedIn,
                                                     velo: OAuthClient) -> None:
    for form in (None, "csv", "json"):
        assert alice.client.get(exposure_path(velo, form)).status_code == 403


@pytest.mark.parametrize("path", PAGES)
def test_officers_open_them_and_the_console_links_them(officer: SignedIn, path: str) -> None:
    response = officer.client.get(path)
    assert_sane(response)
    assert response.status_code == 200
    assert 'href="/console/reports/"' in officer.client.get("/console/").get_data(as_text=True)


# -- records of processing ----------------------------------------------------------------------
def test_records_of_processing_page_csv_and_json_agree(officer: SignedIn, exposed,
                                                       velo: OAuthClient) -> None:
    page = text_of(officer.client.get("/console/reports/records-of-processing")
                   .get_data(as_text=True))
    assert "Velo Bikes" in page and "Personalisation" in page and "Given name" in page
    assert "Transfers to third countries none recorded" in page
    response = officer.client.get("/console/reports/records-of-processing?format=csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == \
        'attachment; filename="records-of-processing.csv"'
    assert response.headers["Cache-Control"] == "no-store"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    # Bob withdrew: only Alice's Personalisation is in force.
    assert [(r["brand"], r["purpose"], r["members"], r["fields"]) for r in rows] == [
        ("Velo Bikes", PERSONALISATION, "1", "city; given_name")]
    document = officer.client.get("/console/reports/records-of-processing?format=json").json
    assert document is not None
    [brand] = document["brands"]
    assert brand["brand_id"] == velo.brand_id and brand["transfers"] == "none recorded"
    assert [p["purpose"] for p in brand["purposes"]] == [PERSONALISATION]
    assert {c["code"] for c in brand["purposes"][0]["data_categories"]} == {"pd:Name",
                                                                            "pd:City"}


# -- exposure -----------------------------------------------------------------------------------
def test_the_exposure_page_lists_members_by_pseudonym_with_what_was_read(
        officer: SignedIn, exposed, velo: OAuthClient) -> None:
    html = officer.client.get(exposure_path(velo)).get_data(as_text=True)
    text = text_of(html)
    assert exposed["alice"] in html and exposed["bob"] in html
    assert exposed["alice_grant"] in html and exposed["bob_grant"] in html
    assert "2 reads of City, Given name" in text
    assert "withdrawn" in text
    assert f"Case exposure:{velo.brand_id}" in text


def test_the_exposure_page_offers_a_reveal_form_per_member(officer: SignedIn, exposed,
                                                           velo: OAuthClient) -> None:
    from .pages import form_fields

    html = officer.client.get(exposure_path(velo)).get_data(as_text=True)
    action = exposure_path(velo) + "/reveal"
    assert html.count(f'action="{action}"') == 2
    fields = dict(form_fields(html, action))
    assert fields["principal"] in (exposed["alice"], exposed["bob"])
    assert "csrf_token" in fields and "reason" in fields and "case" not in fields


def test_the_exposure_csv_and_json(officer: SignedIn, exposed, velo: OAuthClient) -> None:
    response = officer.client.get(exposure_path(velo, "csv"))
    assert response.headers["Content-Disposition"] == \
        f'attachment; filename="exposure-{velo.brand_id}.csv"'
    rows = {r["principal"]: r for r in csv.DictReader(io.StringIO(response.get_data(
        as_text=True)))}
    assert set(rows) == {exposed["alice"], exposed["bob"]}
    assert rows[exposed["alice"]]["reads"] == "2" and rows[exposed["alice"]]["email"] == ""
    assert rows[exposed["bob"]]["states"] == "withdrawn"
    document = officer.client.get(exposure_path(velo, "json")).json
    assert document is not None and document["case"] == f"exposure:{velo.brand_id}"
    assert document["totals"] == {"members": 2, "individually_exposed": 2, "members_read": 1,
                                  "reads": 2, "erased_members_read": 0,
                                  "erased_members_reads": 0}


def test_an_unknown_brand_is_a_404_page(officer: SignedIn) -> None:
    response = officer.client.get("/console/reports/exposure/brand_nosuch")
    assert response.status_code == 404
    assert "No such brand." in text_of(response.get_data(as_text=True))


def test_an_officer_without_a_reveal_sees_no_identity_anywhere_in_reports(
        officer: SignedIn, exposed, velo: OAuthClient, alice: SignedIn, bob: SignedIn) -> None:
    paths = [*PAGES, exposure_path(velo)] + [
        f"{path}{'&' if '?' in path else '?'}format={form}"
        for path in (*PAGES, exposure_path(velo)) for form in ("csv", "json")]
    secrets = (alice.email, bob.email, alice.id, bob.id, *ALICE_PROFILE.values())
    for path in paths:
        response = officer.client.get(path)
        assert response.status_code == 200, path
        body = response.get_data(as_text=True)
        for secret in secrets:
            assert secret not in body, (path, secret)
        assert "@example.org" not in body.replace("privacy@example.org", ""), path


# -- grant activity -----------------------------------------------------------------------------
def test_grant_activity_chart_table_and_files(officer: SignedIn, exposed) -> None:
    html = officer.client.get("/console/reports/").get_data(as_text=True)
    # One chart of the three series on one scale, each named on it, an expiry of 0 included.
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg" class="chart"') == 1
    assert "Grants given, withdrawn and expired per month" in html
    month = "2027-01"                                 # the test clock's month
    chart = html[html.index("<svg"):html.index("</svg>")]
    widths = {kind: float(width) for width, kind in re.findall(
        r'<rect x="200" y="[\d.]+" width="([\d.]+)" height="\d+" class="chart-bar chart-(\w+)"',
        chart)}
    assert widths["given"] == 2 * widths["withdrawn"] > 0 and widths["expired"] == 0
    assert [text_of(t) for t in re.findall(r'class="chart-label">(\w+)<', chart)] == [
        "Given", "Withdrawn", "Expired"] * 2               # the legend, then the month's bars
    assert f"month {month}: 2 given, 1 withdrawn, 0 expired" in chart
    assert '<figcaption id="activity-chart-caption"' in html
    table = text_of(html[html.index("<table class=\"activity\""):])
    assert f"{month} 2 1 0" in table
    rows = list(csv.reader(io.StringIO(officer.client.get(
        "/console/reports/?format=csv").get_data(as_text=True))))
    assert rows == [["period", "given", "withdrawn", "expired"], [f"{month}-01", "2", "1", "0"]]
    weekly = officer.client.get("/console/reports/?period=week&format=json").json
    assert weekly is not None and weekly["period"] == "week"
    assert sum(p["given"] for p in weekly["periods"]) == 2
    assert "Grants given, withdrawn and expired per week" in officer.client.get(
        "/console/reports/?period=week").get_data(as_text=True)


@pytest.mark.parametrize(("query", "says"), [
    ("format=xml", "format must be csv or json (or left out for the page)"),
    ("period=year", "period must be month or week"),
    ("format=csv&format=json", "format is given more than once"),
    ("colour=red", "colour is not a parameter of this report (it takes format and period)"),
])
def test_a_bad_query_is_a_400_page_naming_the_parameter(officer: SignedIn, query: str,
                                                        says: str) -> None:
    response = officer.client.get("/console/reports/?" + query)
    assert response.status_code == 400
    assert says in error_message(response.get_data(as_text=True))


def test_the_period_is_not_a_parameter_of_the_other_reports(officer: SignedIn) -> None:
    response = officer.client.get("/console/reports/records-of-processing?period=week")
    assert response.status_code == 400
    assert "period is not a parameter of this report (it takes format)" in error_message(
        response.get_data(as_text=True))


# -- reveals, bound to the case -----------------------------------------------------------------
def reveal(officer: SignedIn, case: str, principal: str, next_path: str):
    token = officer.auth.csrf(next_path)
    return officer.client.post("/console/reveal", data={
        "csrf_token": token, "case": case, "principal": principal,
        "reason": "The brand reported a breach naming this member.", "next": next_path})


def test_a_reveal_shows_that_members_address_in_that_exposure_only(
        officer: SignedIn, exposed, velo: OAuthClient, api: BrandApi, alice: SignedIn,
        bob: SignedIn, sign_in_with_totp, vault: Vault) -> None:
    from vault.members import COMPLIANCE

    grocer = api.brand("Green Grocer")
    api.grant(alice.id, grocer, PERSONALISATION, ["city"])
    response = reveal(officer, f"exposure:{velo.brand_id}", exposed["alice"],
                      exposure_path(velo))
    assert response.status_code == 302 and location_path(response) == exposure_path(velo)
    for path in (exposure_path(velo), exposure_path(velo, "csv"), exposure_path(velo, "json")):
        body = officer.client.get(path).get_data(as_text=True)
        assert alice.email in body, path
        assert bob.email not in body, path             # not revealed: still a pseudonym
    html = officer.client.get(exposure_path(velo)).get_data(as_text=True)
    assert html.count(f'action="{exposure_path(velo)}/reveal"') == 1  # Bob's form only
    document = officer.client.get(exposure_path(velo, "json")).json
    assert document is not None
    assert {m["principal"]: m.get("email") for m in document["members"]} == {
        exposed["alice"]: alice.email, exposed["bob"]: None}
    # Another case (Grocer's exposure), the other reports, another officer: nothing.
    grocer_path = f"/console/reports/exposure/{grocer.brand_id}"
    assert alice.email not in officer.client.get(grocer_path).get_data(as_text=True)
    for path in PAGES:
        assert alice.email not in officer.client.get(path).get_data(as_text=True)
    other = sign_in_with_totp("otto@example.org")
    vault.members.set_role(other.id, COMPLIANCE)
    assert alice.email not in other.client.get(exposure_path(velo)).get_data(as_text=True)


def test_the_exposure_page_shows_members_a_page_at_a_time(
        officer: SignedIn, exposed, velo: OAuthClient, monkeypatch) -> None:
    from web import console_reports

    monkeypatch.setattr(console_reports, "MEMBERS_PER_PAGE", 1)
    first = officer.client.get(exposure_path(velo)).get_data(as_text=True)
    second = officer.client.get(exposure_path(velo) + "?page=2").get_data(as_text=True)
    assert exposed["alice"] in first and exposed["bob"] not in first
    assert exposed["bob"] in second and exposed["alice"] not in second
    assert "Page 2 of 2 (2 members; the CSV and JSON hold them all)" in text_of(second)
    assert '<input type="hidden" name="page" value="2">' in second  # back to this page
    beyond = officer.client.get(exposure_path(velo) + "?page=3")
    assert beyond.status_code == 404
    assert "This report has 2 pages of members." in error_message(
        beyond.get_data(as_text=True))
    assert officer.client.get(exposure_path(velo) + "?page=0").status_code == 400
    rows = officer.client.get(exposure_path(velo) + "?page=2&format=csv").get_data(
        as_text=True).strip().splitlines()
    assert len(rows) == 3                               # the files hold every member
# -- reveals --------------------------------------------------------------------------------
def test_a_reveal_from_the_exposure_page_shows_that_member_to_that_officer_only(
        officer: SignedIn, exposed, velo: OAuthClient, alice: SignedIn, bob: SignedIn,
        sign_in_with_totp, vault: Vault) -> None:

    action = exposure_path(velo) + "/reveal"
    # A reason too short: the report's page again, the message next to that member's field.
    short = officer.auth.post(action, {"principal": exposed["alice"], "reason": "breach"},
                              form_page=exposure_path(velo))
    assert short.status_code == 422
    field = "reveal-" + exposed["alice"].rpartition(":")[2]
    assert field_errors(short.get_data(as_text=True), field) == [
        "Why you need this member's identity for this case: Write the reason, in 10 characters"
        " at least."]
    assert ">breach</textarea>" in short.get_data(as_text=True)
    # Two members in one form: refused, neither the first nor the last revealed.
    twice = officer.auth.post(action, {
        "principal": [exposed["bob"], exposed["alice"]],
        "reason": "Velo's breach notice of 3 March names this member."},
        form_page=exposure_path(velo))
    assert twice.status_code == 422 and bob.email not in twice.get_data(as_text=True)
    response = officer.auth.post(action, {
        "principal": exposed["alice"],
        "reason": "Velo's breach notice of 3 March names this member."},
        form_page=exposure_path(velo))
    assert response.status_code == 303
    assert location_path(response) == exposure_path(velo)
    page = officer.client.get(exposure_path(velo)).get_data(as_text=True)
    assert alice.email in page and bob.email not in page
    rows = {r["principal"]: r for r in csv.DictReader(io.StringIO(
        officer.client.get(exposure_path(velo, "csv")).get_data(as_text=True)))}
    assert rows[exposed["alice"]]["email"] == alice.email and rows[exposed["bob"]]["email"] == ""
    assert all(value not in page for value in ALICE_PROFILE.values())   # the address only
    # Another officer sees the pseudonym, not the address: the reveal was olive's.
    otto = sign_in_with_totp("otto@example.org")
    vault.members.set_role(otto.id, "compliance")
    assert alice.email not in otto.client.get(exposure_path(velo)).get_data(as_text=True)
