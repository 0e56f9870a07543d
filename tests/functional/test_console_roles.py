"""The console's reveal form and brand management, through the pages as a browser sends them."""

from __future__ import annotations

import json
import logging
import re

import pytest

from brand_gateway.clients import ClientSecretHasher, OAuthClient
from brand_gateway.dsr import dsr_service
from brand_gateway.storage import client_registry
from compliance.deadlines import HolidayCalendar
from consent.context import Consent
from consent.events import EventTag
from consent.ledger_search import LedgerQuery
from tests.brand_api_support import BrandApi
from tests.conftest import GOOD_PASSWORD
from vault.home import Vault
from web.console import local_console_path

from .conftest import SignedIn
from .pages import error_message, location_path

REASON = "Velo's breach notice names this member."


@pytest.fixture
def exposure(api: BrandApi, consent: Consent, velo: OAuthClient, vault: Vault
             ) -> tuple[str, str]:
    mia = vault.members.register("mia@example.org", "correct horse battery staple")
    api.grant(mia, velo, "dpv:ServiceProvision", ["city"])
    return f"exposure:{velo.brand_id}", consent.principal(mia)


def test_an_officer_reveals_for_a_case_and_goes_back(officer: SignedIn, consent: Consent,
                                                     exposure: tuple[str, str]) -> None:
    case, principal = exposure
    page = officer.client.get("/console/reveals").get_data(as_text=True)
    assert "mia@example.org" not in page and "No officer has revealed" in page
    response = officer.auth.post("/console/reveal", {
        "case": case, "principal": principal, "reason": REASON, "next": "/console/webhooks"},
        form_page="/console/reveals")
    assert response.status_code == 302 and location_path(response) == "/console/webhooks"
    assert "mia@example.org" not in response.headers["Location"]
    page = officer.client.get("/console/reveals").get_data(as_text=True)
    assert principal in page and "mia@example.org" in page and "(you)" in page
    assert REASON not in page                    # other officers see that, not why
    assert consent.ledger.entry(consent.ledger.size - 1).tag == \
        EventTag.OFFICER_IDENTITY_REVEALED
    # The ledger keeps every reveal, of members erased since too: the page links to them.
    ledger = re.search(r'href="(/console/ledger/\?tag=[^"]+)"', page)
    assert ledger is not None
    found = officer.client.get(ledger.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert "officer:identity:revealed" in found and principal in found


def test_another_officer_sees_the_reveal_but_not_the_address(
        officer: SignedIn, sign_in_with_totp, vault: Vault,
        exposure: tuple[str, str]) -> None:
    case, principal = exposure
    officer.auth.post("/console/reveal", {"case": case, "principal": principal,
                                          "reason": REASON}, form_page="/console/reveals")
    otto = sign_in_with_totp("otto@example.org")
    vault.members.set_role(otto.id, "compliance")
    page = otto.client.get("/console/reveals").get_data(as_text=True)
    assert principal in page and "olive@example.org" in page
    assert "mia@example.org" not in page
    # Olive cannot empty the list by deleting her account (it would delete her reveals).
    officer.auth.post("/member/delete", {"password": GOOD_PASSWORD, "confirm": "on"},
                      form_page="/member/delete")
    page = otto.client.get("/console/reveals").get_data(as_text=True)
    assert principal in page and "olive@example.org" in page


@pytest.mark.parametrize("target", [
    "https://evil.example/console/", "//evil.example/console/", "/\\evil.example",
    "/member/", "javascript:alert(1)", "/console/../member/", "/console\r\nX: y", "",
])
def test_next_is_a_console_path_or_the_reveals_page(officer: SignedIn,
                                                    exposure: tuple[str, str],
                                                    target: str) -> None:
    case, principal = exposure
    response = officer.auth.post("/console/reveal", {
        "case": case, "principal": principal, "reason": REASON, "next": target},
        form_page="/console/reveals")
    assert response.status_code == 302
    assert response.headers["Location"] == "/console/reveals"


def test_local_console_paths() -> None:
    assert local_console_path("/console/") == "/console/"
    assert local_console_path("/console/requests?page=2") == "/console/requests?page=2"
    assert local_console_path("/console") == "/console"
    assert local_console_path("/consoles/") is None


def test_a_bad_reveal_shows_each_message_next_to_its_field(officer: SignedIn, vault: Vault,
                                                           exposure: tuple[str, str]) -> None:
    response = officer.auth.post("/console/reveal", {
        "case": "exposure:nope", "principal": exposure[1], "reason": "short"},
        form_page="/console/reveals")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert re.search(r'id="case-error">\s*<li>Case: A case is', page)
    assert re.search(r'id="reason-error">\s*<li>Why you need .*10 characters', page)
    assert 'value="exposure:nope"' in page        # what was typed stays
    assert vault.data.one("SELECT count(*) FROM identity_reveals")[0] == 0


def test_a_member_outside_the_case_is_not_revealed(officer: SignedIn, vault: Vault,
                                                   consent: Consent,
                                                   exposure: tuple[str, str]) -> None:
    stranger = vault.members.register("sam@example.org", "correct horse battery staple")
    response = officer.auth.post("/console/reveal", {
        "case": exposure[0], "principal": consent.principal(stranger), "reason": REASON},
        form_page="/console/reveals")
    assert response.status_code == 404
    assert "sam@example.org" not in response.get_data(as_text=True)
    assert re.search(r'id="principal-error">\s*<li>', response.get_data(as_text=True))


# -- brand management --------------------------------------------------------------------------
NEW_BRAND = {"name": "Fresh Grocer", "redirect_uris": "https://grocer.example/callback\n"
             "http://127.0.0.1:8080/cb", "categories": "groceries, gardening",
             "scopes": ["webhooks:manage"], "accepts": ["SD-BASE"]}


def test_an_administrator_registers_a_brand_and_sees_its_secret_once(
        administrator: SignedIn, vault: Vault, consent: Consent,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    response = administrator.auth.post("/console/brands/", NEW_BRAND,
                                       form_page="/console/brands/")
    assert response.status_code == 201
    page = response.get_data(as_text=True)
    secret = re.search(r'id="client-secret">([^<]+)<', page).group(1)
    client_id = re.search(r'id="client-id">([^<]+)<', page).group(1)
    assert response.headers["Cache-Control"].startswith("no-store")
    registry = client_registry(database=vault.data, clock=vault.clock,
                               hasher=ClientSecretHasher.from_master(vault.master))
    client = registry.authenticate(client_id, secret)
    assert client.brand_name == "Fresh Grocer" and client.scopes == ("webhooks:manage",)
    assert client.redirect_uris == ("https://grocer.example/callback",
                                    "http://127.0.0.1:8080/cb")
    listing = administrator.client.get("/console/brands/").get_data(as_text=True)
    assert client_id in listing and secret not in listing
    assert secret not in caplog.text

    rotated = administrator.auth.post(f"/console/brands/{client_id}/rotate-secret",
                                      form_page="/console/brands/")
    new_secret = re.search(r'id="client-secret">([^<]+)<',
                           rotated.get_data(as_text=True)).group(1)
    assert new_secret != secret
    assert registry.authenticate(client_id, new_secret)
    response = administrator.auth.post(f"/console/brands/{client_id}/disable",
                                       form_page="/console/brands/", follow_redirects=True)
    assert "Disabled Fresh Grocer" in response.get_data(as_text=True)
    assert not registry.get(client_id).active
    # Both are on record, by the administrator's pseudonym (a restore keeps them so).
    assert consent.ledger.search_index is not None
    recorded = [(hit.row.tag, json.loads(hit.body)["actor"], hit.details())
                for hit in consent.ledger.search_index.search(LedgerQuery(tags=(
                    EventTag.BRAND_CLIENT_DISABLED, EventTag.BRAND_SECRET_ROTATED)), limit=5)]
    brand_id = registry.get(client_id).brand_id
    assert recorded == [
        (EventTag.BRAND_CLIENT_DISABLED, consent.principal(administrator.id),
         {"client": client_id, "brand": brand_id}),
        (EventTag.BRAND_SECRET_ROTATED, consent.principal(administrator.id),
         {"client": client_id, "brand": brand_id,
          "rotated_at": registry.get(client_id).secret_rotated_at})]
    assert new_secret not in json.dumps(recorded)


@pytest.mark.parametrize(("changes", "field", "words"), [
    ({"name": ""}, "name", "Enter the brand"),
    # The limit the page names is the one the brand is held to (it said 200, then refused 101).
    ({"name": "V" * 101}, "name", "Brand name: Use at most 100 characters."),
    ({"name": "V" * 401}, "name", "Brand name: Use at most 100 characters."),
    ({"redirect_uris": ""}, "redirect_uris", "at least one redirect URI"),
    ({"redirect_uris": "http://grocer.example/cb"}, "redirect_uris", "Redirect URI"),
    ({"categories": "Fresh Food!"}, "categories", "Category"),
    ({"categories": "groceries bikes"}, "categories", "Not in the intent catalog: bikes"),
    ({"scopes": ["root"]}, "scopes", "Unknown scope"),
    # A field sent twice: the form again with the message next to it, not an error page.
    ({"name": ["Green Grocer", "Velo Bikes"]}, "name", "Brand name: Send this field once."),
])
def test_a_bad_brand_shows_the_message_next_to_its_field(
        administrator: SignedIn, vault: Vault, changes: dict, field: str, words: str) -> None:
    response = administrator.auth.post("/console/brands/", {**NEW_BRAND, **changes},
                                       form_page="/console/brands/")
    assert response.status_code == 422, error_message(response.get_data(as_text=True))
    page = response.get_data(as_text=True)
    errors = re.search(rf'id="{field}-error">(.*?)</ul>', page, re.S)
    assert errors and words in errors.group(1)
    assert re.search(r'<input id="name" name="name" maxlength="100"', page)
    assert vault.data.one("SELECT count(*) FROM oauth_clients")[0] == 0


@pytest.mark.parametrize("name", ["Velo Bikes", "velo bikes", "VELO  BIKES",
                                  "\uff36elo Bikes"])          # a full-width V
def test_a_taken_name_is_refused_next_to_the_name(administrator: SignedIn,
                                                  velo: OAuthClient, name: str) -> None:
    """A name that reads as a registered one is taken too: members would not tell the two
    brands apart on a consent screen."""
    response = administrator.auth.post("/console/brands/", {**NEW_BRAND, "name": name},
                                       form_page="/console/brands/")
    assert response.status_code == 409
    assert re.search(r'id="name-error">\s*<li>Brand name: A brand of that name',
                     response.get_data(as_text=True))


def test_an_unknown_client_is_404(administrator: SignedIn) -> None:
    response = administrator.auth.post("/console/brands/vrm_nope/rotate-secret",
                                       form_page="/console/brands/")
    assert response.status_code == 404


@pytest.mark.parametrize("role", ["compliance", "administrator"])
def test_a_staff_account_is_not_deleted_while_it_holds_its_role(
        sign_in_with_totp, vault: Vault, consent: Consent, role: str) -> None:
    """Deleting an account deletes the reveals it made: an officer could empty the reveals
    that every officer is shown. A role holder asks the operator to revoke the role first,
    as for turning two-step sign-in off."""
    staff = sign_in_with_totp("sam@example.org")
    vault.members.set_role(staff.id, role)
    page = staff.client.get("/member/delete").get_data(as_text=True)
    assert "revoke the role" in page
    response = staff.auth.post("/member/delete", {"password": GOOD_PASSWORD, "confirm": "on"},
                               form_page="/member/delete")
    assert response.status_code == 409
    assert "revoke the role" in response.get_data(as_text=True)
    assert vault.members.role(staff.id) == role           # the account is still there
    assert staff.client.get("/member/").status_code == 200        # and still signed in
    # Nor is an erasure request filed: brands would be told to erase, and the vault's part
    # (this deletion) would wait for the role's revocation, overdue.
    for kind in ("erasure", "delete"):
        filed = staff.auth.post("/member/requests", {"kind": kind},
                                form_page="/member/requests")
        assert filed.status_code == 422 and "revoke the role" in filed.get_data(as_text=True)
    assert dsr_service(consent, callback_base="http://localhost",
                       calendar=HolidayCalendar()).for_member(staff.id) == []
    vault.members.set_role(staff.id, "member")
    response = staff.auth.post("/member/delete", {"password": GOOD_PASSWORD, "confirm": "on"},
                               form_page="/member/delete")
    assert response.status_code == 303 and vault.members.role(staff.id) is None



def test_an_officer_whose_key_was_lost_leaves_the_reveals_readable(
        officer: SignedIn, sign_in_with_totp, vault: Vault,
        exposure: tuple[str, str]) -> None:
    """A key store restored from before an officer's key: the reveals page named every officer
    by address, and one it could not open was a 503 for every officer."""
    case, principal = exposure
    officer.auth.post("/console/reveal", {"case": case, "principal": principal,
                                          "reason": REASON}, form_page="/console/reveals")
    vault.key_store.remove(officer.id)
    otto = sign_in_with_totp("otto@example.org")
    vault.members.set_role(otto.id, "compliance")
    response = otto.client.get("/console/reveals")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert principal in page and "an officer whose address cannot be opened" in page
