"""A member's first contact with a brand, through the real Authlib endpoints.

A new member follows a brand's authorize link, signs up (or signs in, TOTP step included) and
comes back to the same request. What the request needs of their terms that they may accept
(a purpose, a longer grant, an IEEE 7012 term with the brand) is shown in plain words and
accepted for this brand only, with a signed receipt and a ``consent:terms:changed`` entry;
then the normal consent screen, Allow, and the brand gets its code. What may never be accepted
is still refused before the member is asked.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient

from consent.events import EventTag
from tests.conftest import GOOD_PASSWORD, AuthActions, Inbox
from vault.clock import FrozenClock
from vault.home import Vault
from web.filters import term_words
from web.vaults import get_consent

from . import test_authorization_code_flow as flow
from .pages import text_of
from .test_auth import enable_totp
from .test_authorization_code_flow import (
    ASKED,
    CALLBACK,
    DETAILS,
    EMAIL,
    STATE,
    Brand,
    Endpoints,
    RegisterBrand,
    authorization_request,
    form_tokens,
    grants_of,
    query_of,
    redirected_to_brand,
    set_terms,
)

# The brands, member and endpoints of the authorization code flow's tests, as fixtures here.
registry, register, velo, grocer = flow.registry, flow.register, flow.velo, flow.grocer
member, endpoints = flow.member, flow.endpoints

SERVICE = "dpv:ServiceProvision"
_TERMS_FIELD = re.compile(r'name="terms" value="([^"]+)"')


def accept_terms(client: FlaskClient, url: str) -> Any:
    """Answer the terms screen with "Accept for … and continue"."""
    page = client.get(url).get_data(as_text=True)
    assert 'value="accept-terms"' in page, text_of(page)[:400]
    return client.post(url, data={**form_tokens(page), "decision": "accept-terms",
                                  "terms": _TERMS_FIELD.search(page).group(1)})


def allow(client: FlaskClient, url: str) -> Any:
    page = client.get(url).get_data(as_text=True)
    assert 'value="approve"' in page, text_of(page)[:400]
    fields = re.findall(r'name="fields-0" value="([^"]+)"', page)
    return client.post(url, data={**form_tokens(page), "decision": "approve",
                                  "fields-0": fields})


def consent_state(app: Flask, member_id: str, brand_id: str) -> dict[str, Any]:
    with app.app_context():
        consent = get_consent()
        entries = [consent.ledger.entry(seq) for seq in range(consent.ledger.size)]
        return {
            "standing": consent.terms.get(member_id),
            "for_brand": consent.terms.for_brand(member_id, brand_id),
            "brand_terms": consent.terms.brand_terms(member_id),
            "receipts": consent.terms.receipts(member_id),
            "agreement": consent.agreements.in_force(member_id, brand_id),
            "agreements": consent.agreements.for_member(member_id),
            # changes for one brand (a change of the standing terms names none)
            "changed": [e for e in entries if e.tag is EventTag.CONSENT_TERMS_CHANGED
                        and "brand" in e.details],
            "verify": consent.signer.verify,
        }


def brand_id_of(vault: Vault, brand: Brand) -> str:
    return next(b.id for b in vault.brands.all() if b.name == brand.name)


# -- the whole first contact ---------------------------------------------------------------------
def test_a_new_member_signs_up_from_the_link_accepts_for_the_brand_and_allows(
        app: Flask, client: FlaskClient, auth: AuthActions, vault: Vault, velo: Brand,
        endpoints: Endpoints, grocer: Brand, inbox: Inbox) -> None:
    asked = authorization_request(velo, details=[DETAILS[0] | {"duration_days": 90}])
    response = client.get(asked.url)
    assert urlsplit(response.headers["Location"]).path == "/login"
    assert "create a vault" in text_of(client.get("/login").get_data(as_text=True))

    signed_up = auth.register(inbox, EMAIL)                   # the mailed link followed
    assert signed_up.headers["Location"] == asked.url         # back to the same request

    screen = client.get(asked.url)
    assert screen.status_code == 200
    page = screen.get_data(as_text=True)
    text = text_of(page)
    assert "fields-0" not in page and 'value="approve"' not in page    # not yet the fields
    assert "Your terms do not accept providing the service yet" in text
    # A new member's terms allow no grant at all yet: said so, not "at most 0 days".
    assert "Velo asks to keep access for 90 days while your terms do not allow any grant yet" \
        in text
    assert "at most 0" not in text
    assert "The request from Velo needs more than your terms allow" in text
    assert "You have no agreement on terms with Velo yet" in text
    assert "Only to deliver the service" in text                        # the term, in words
    assert "SD-BASE" not in text.split("The terms in IEEE 7012")[0]     # codes in details only
    assert "Velo only" in text

    accepted = accept_terms(client, asked.url)
    assert accepted.status_code == 302 and accepted.headers["Location"] == asked.url
    params = redirected_to_brand(allow(client, asked.url))
    assert params["state"] == STATE
    token = endpoints.exchange(velo, params["code"], asked.verifier)
    assert token.status_code == 200
    assert token.get_json()["authorization_details"][0]["datatypes"] == list(ASKED)

    member_id = vault.members.authenticate(EMAIL, GOOD_PASSWORD, client="test")
    velo_id, grocer_id = brand_id_of(vault, velo), brand_id_of(vault, grocer)
    state = consent_state(app, member_id, velo_id)
    assert state["standing"].purposes == frozenset() and state["standing"].max_days == 0
    assert SERVICE in state["for_brand"].purposes and state["for_brand"].max_days == 90
    assert state["agreement"].agreed == "SD-BASE"
    [receipt] = state["receipts"]
    payload = state["verify"](receipt.token)                 # signed, verifies
    assert payload["brand"]["id"] == velo_id and payload["purposes_added"] == [SERVICE]
    [changed] = state["changed"]
    assert changed.details["brand"] == velo_id and changed.details["receipt"] == receipt.id
    (grant,) = grants_of(app, member_id)
    assert grant.brand_id == velo_id and grant.agreement == "SD-BASE"
    # The brand's API read works: the decision point honours what was accepted for Velo.
    profile = client.application.test_client().get(
        "/api/v1/member", headers={"Authorization": "Bearer "
                                   + token.get_json()["access_token"]})
    assert profile.status_code == 200
    # Another brand's request is measured against the standing terms: it asks again.
    other = authorization_request(grocer, redirect_uri="https://grocer.example/cb")
    assert 'value="accept-terms"' in client.get(other.url).get_data(as_text=True)
    assert consent_state(app, member_id, grocer_id)["for_brand"].purposes == frozenset()
    # The member finds the receipt on the Sharing page.
    sharing = client.get("/member/consents").get_data(as_text=True)
    assert f"/member/receipts/{receipt.id}" in sharing
    download = client.get(f"/member/receipts/{receipt.id}")
    assert download.status_code == 200 and download.get_data(as_text=True) == receipt.token
    # Taking it back: Velo's next read is measured against the standing terms again.
    vault.profile.update(member_id, {"given_name": "Ann", "city": "Gent"})
    brand_reads = client.application.test_client()
    headers = {"Authorization": "Bearer " + token.get_json()["access_token"]}
    before = brand_reads.get("/api/v1/member/profile", headers=headers).get_json()
    assert before["profile"] == {"given_name": "Ann", "city": "Gent"}
    action = f"/member/terms/brands/{velo_id}/remove"
    assert action in sharing
    taken = client.post(action, data={"csrf_token": form_tokens(sharing)["csrf_token"]})
    assert taken.status_code == 302
    read = brand_reads.get("/api/v1/member/profile", headers=headers)
    assert read.status_code == 200
    assert read.get_json()["profile"] == {}                  # every field withheld now
    assert set(read.get_json()["withheld"]) == {"given_name", "city"}
    assert len(consent_state(app, member_id, velo_id)["receipts"]) == 2


def test_signing_in_with_totp_comes_back_to_the_request(
        app: Flask, client: FlaskClient, auth: AuthActions, vault: Vault, velo: Brand,
        clock: FrozenClock) -> None:
    member_id = vault.members.register(EMAIL, GOOD_PASSWORD)
    set_terms(app, member_id)
    auth.login(EMAIL)
    secret = enable_totp(auth, clock)
    auth.logout()
    clock.advance(30)

    asked = authorization_request(velo)
    assert urlsplit(client.get(asked.url).headers["Location"]).path == "/login"
    step = auth.login(EMAIL)
    assert urlsplit(step.headers["Location"]).path == "/login/code"
    signed_in = auth.post("/login/code", {"code": pyotp.TOTP(secret).at(clock.now)})
    assert signed_in.status_code == 302 and signed_in.headers["Location"] == asked.url
    assert redirected_to_brand(allow(client, asked.url))["code"]


def test_a_sign_up_link_opened_in_another_browser_leaves_the_request_waiting_in_the_first(
        app: Flask, client: FlaskClient, auth: AuthActions, velo: Brand, inbox: Inbox) -> None:
    """The request belongs to the browser that brought it (its state and PKCE verifier are the
    brand's, for that browser): the sign-up page says it waits there, the other browser opens
    the vault, and signing in in the first one answers it."""
    asked = authorization_request(velo)
    assert urlsplit(client.get(asked.url).headers["Location"]).path == "/login"
    sent = auth.signup(EMAIL)
    assert sent.status_code == 200
    assert "The request from Velo waits in this browser" in text_of(sent.get_data(as_text=True))

    phone = AuthActions(app.test_client())
    opened = phone.verify(inbox.link(EMAIL))
    assert urlsplit(opened.headers["Location"]).path == "/member/"

    signed_in = auth.login(EMAIL)
    assert signed_in.status_code == 302 and signed_in.headers["Location"] == asked.url
    screen = client.get(asked.url)             # the new member's terms first, as after sign-up
    assert screen.status_code == 200
    assert "The request from Velo needs more than your terms allow" in text_of(
        screen.get_data(as_text=True))


def test_the_sign_up_page_names_no_brand_when_no_request_waits(
        client: FlaskClient, auth: AuthActions) -> None:
    sent = auth.signup(EMAIL)
    assert sent.status_code == 200
    assert "waits in this browser" not in sent.get_data(as_text=True)


def test_the_brands_counter_offer_by_standing_policy_is_accepted_on_the_screen(
        app: Flask, client: FlaskClient, register: RegisterBrand, member: str,
        vault: Vault) -> None:
    # The member offers SD-BASE-ATP; the brand agrees only to SD-BASE and SD-BASE-A.
    set_terms(app, member, agreement="SD-BASE-ATP",
              purposes=[SERVICE, "dpv:ServiceOptimisation"])
    brand = register("Spokes", accepts=("SD-BASE", "SD-BASE-A"))
    asked = authorization_request(brand, details=[DETAILS[0] | {
        "purpose": "dpv:ServiceOptimisation"}])
    text = text_of(client.get(asked.url).get_data(as_text=True))
    assert "Spokes does not agree to your terms as they are" in text
    assert "analytics by the brand itself" in text
    assert accept_terms(client, asked.url).status_code == 302
    assert redirected_to_brand(allow(client, asked.url))["code"]

    record = consent_state(app, member, brand_id_of(vault, brand))["agreement"]
    assert (record.proffered, record.countered, record.agreed) == (
        "SD-BASE-ATP", "SD-BASE-A", "SD-BASE-A")
    assert consent_state(app, member, record.brand_id)["changed"] == []   # terms unchanged


def test_a_term_too_narrow_for_a_new_purpose_is_widened_for_the_brand(
        app: Flask, client: FlaskClient, register: RegisterBrand, member: str,
        vault: Vault) -> None:
    brand = register("Velo", accepts=("SD-BASE", "SD-BASE-ATP"))
    assert redirected_to_brand(allow(client, authorization_request(brand).url))["code"]
    assert consent_state(app, member, brand_id_of(vault, brand))["agreement"].agreed == "SD-BASE"

    asked = authorization_request(brand, details=[DETAILS[0] | {
        "purpose": "dpv:Personalisation"}])
    text = text_of(client.get(asked.url).get_data(as_text=True))
    assert "The terms you agreed with Velo do not allow what it asks for now" in text
    assert "Your terms do not accept personalisation yet" in text
    accepted = accept_terms(client, asked.url)
    assert accepted.status_code == 302
    assert redirected_to_brand(allow(client, asked.url))["code"]
    state = consent_state(app, member, brand_id_of(vault, brand))
    assert state["agreement"].agreed == "SD-BASE-ATP"
    assert "dpv:Personalisation" in state["for_brand"].purposes
    assert "dpv:Personalisation" not in state["standing"].purposes
    sharing = text_of(client.get("/member/consents").get_data(as_text=True))
    assert f"agreed on {term_words('SD-BASE')} (replaced by a later agreement)" in sharing
    assert f"agreed on {term_words('SD-BASE-ATP')} ·" in sharing


def test_a_counter_offer_waiting_is_answered_on_the_consent_screen(
        app: Flask, client: FlaskClient, register: RegisterBrand, member: str,
        vault: Vault) -> None:
    brand = register("Velo", accepts=("SD-BASE-A",))
    brand_id = brand_id_of(vault, brand)
    with app.app_context():
        agreements = get_consent().agreements
        offer = agreements.proffer(member, brand_id)
        agreements.brand_counters(offer.id, brand_id, "SD-BASE-DP")
    asked = authorization_request(brand)
    assert "does not agree to your terms" in text_of(client.get(asked.url).get_data(
        as_text=True))
    accept_terms(client, asked.url)
    assert redirected_to_brand(allow(client, asked.url))["code"]
    record = consent_state(app, member, brand_id)["agreement"]
    assert record.id == offer.id and record.agreed == "SD-BASE-DP"


# -- what is never asked, and answers that grant nothing ---------------------------------------
@pytest.mark.parametrize("case", ["gpc", "no-term", "counter-too-narrow"])
def test_an_absolute_refusal_is_refused_before_asking_and_records_nothing(
        app: Flask, client: FlaskClient, register: RegisterBrand, member: str, vault: Vault,
        case: str) -> None:
    detail: dict[str, Any] = {}
    if case == "gpc":
        set_terms(app, member, purposes=[], sale_sharing_opt_out=True,
                  agreement="SD-BASE-ATP")
        brand = register("Velo", accepts=("SD-BASE-ATP",))
        detail = {"purpose": "dpv:Marketing"}
    elif case == "no-term":
        brand = register("Velo", accepts=("SD-BASE",))
        detail = {"purpose": "dpv:PersonalisedAdvertising"}
    else:
        brand = register("Velo", accepts=("SD-BASE-A",))
        with app.app_context():
            agreements = get_consent().agreements
            offer = agreements.proffer(member, brand_id_of(vault, brand))
            agreements.brand_counters(offer.id, offer.brand_id, "SD-BASE-DP")
        detail = {"purpose": "dpv:ServiceOptimisation"}
    asked = authorization_request(brand, details=[DETAILS[0] | detail])
    response = client.get(asked.url)
    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert 'value="accept-terms"' not in page and "fields-0" not in page
    before = consent_state(app, member, brand_id_of(vault, brand))
    crafted = client.post(asked.url, data={**form_tokens(page), "decision": "accept-terms",
                                           "terms": "x"})
    assert crafted.status_code == 403
    after = consent_state(app, member, brand_id_of(vault, brand))
    assert after["brand_terms"] == [] and after["changed"] == before["changed"]
    assert after["agreements"] == before["agreements"]
    assert grants_of(app, member) == []


@pytest.fixture
def newcomer(client: FlaskClient, auth: AuthActions, vault: Vault, inbox: Inbox) -> str:
    assert auth.register(inbox, EMAIL).status_code == 302
    return vault.members.authenticate(EMAIL, GOOD_PASSWORD, client="test")


@pytest.mark.parametrize("form", [
    {"decision": "approve", "fields-0": list(ASKED)},              # past the terms screen
    {"decision": "accept-terms", "terms": "0" * 32},               # another screen's answer
    {"decision": "accept-terms"},
    {"decision": "maybe"},
], ids=["approve", "stale-terms", "no-terms", "unknown"])
def test_answers_other_than_accept_or_refuse_change_nothing(
        app: Flask, client: FlaskClient, velo: Brand, newcomer: str, vault: Vault,
        form: dict[str, Any]) -> None:
    asked = authorization_request(velo)
    page = client.get(asked.url).get_data(as_text=True)
    response = client.post(asked.url, data={**form_tokens(page), **form})
    assert response.status_code == 409
    assert "Location" not in response.headers
    assert "error-summary" in response.get_data(as_text=True)
    if form["decision"] in ("approve", "maybe"):
        assert "First accept or refuse what the request from Velo needs of your terms." in \
            text_of(response.get_data(as_text=True))
    state = consent_state(app, newcomer, brand_id_of(vault, velo))
    assert state["brand_terms"] == [] and state["agreements"] == []
    assert grants_of(app, newcomer) == []


def test_refusing_on_the_terms_screen_tells_the_brand_access_denied_only(
        app: Flask, client: FlaskClient, velo: Brand, newcomer: str, vault: Vault) -> None:
    asked = authorization_request(velo)
    page = client.get(asked.url).get_data(as_text=True)
    response = client.post(asked.url, data={**form_tokens(page), "decision": "refuse"})
    params = redirected_to_brand(response)
    assert params["error"] == "access_denied" and "code" not in params
    assert consent_state(app, newcomer, brand_id_of(vault, velo))["brand_terms"] == []


def test_accepting_twice_from_two_tabs_records_once(
        app: Flask, client: FlaskClient, velo: Brand, newcomer: str, vault: Vault) -> None:
    asked = authorization_request(velo)
    page = client.get(asked.url).get_data(as_text=True)
    answer = {**form_tokens(page), "decision": "accept-terms",
              "terms": _TERMS_FIELD.search(page).group(1)}
    assert client.post(asked.url, data=answer).status_code == 302
    again = client.post(asked.url, data=answer)                    # a double submit
    assert again.status_code == 302 and urlsplit(again.headers["Location"]).netloc == ""
    assert len(consent_state(app, newcomer, brand_id_of(vault, velo))["receipts"]) == 1


def test_the_refusal_page_names_the_reason_but_the_brand_is_not_told(
        app: Flask, client: FlaskClient, register: RegisterBrand, member: str) -> None:
    brand = register("Velo", accepts=("SD-BASE",))
    asked = authorization_request(brand, details=[DETAILS[0] | {
        "purpose": "dpv:Personalisation"}])
    page = client.get(asked.url).get_data(as_text=True)
    assert "agrees to no IEEE 7012 term that allows personalisation" in text_of(page)
    links = [h for h in re.findall(r'href="([^"]+)"', page) if h.startswith(CALLBACK)]
    assert query_of(links[0].replace("&amp;", "&"))["error"] == "access_denied"
    assert json.dumps(query_of(links[0].replace("&amp;", "&"))).count("IEEE") == 0
