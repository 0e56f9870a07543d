"""IEEE 7012 agreements can actually be made, through the pages and the API.

The member offers their term on the Sharing page; the brand, with a client credentials token
from the real token endpoint (``agreements:write``), accepts, counters once from the roster or
rejects through ``/api/v1/agreements``; the member answers a counter-offer on the Sharing page.
Both then hold the same signed record, which verifies with the published JWKS, and the brand
knows the member only by its pairwise pseudonym. Bad input is problem+json, never a 500.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.datastructures import MultiDict

from brand_gateway.clients import OAuthClient
from consent.context import Consent
from consent.events import EventTag
from consent.model import AgreementStatus
from tests.brand_api_support import CALLBACK, BrandApi, bearer
from vault.errors import ConflictError
from web.filters import term_words

from .conftest import SignedIn
from .pages import form_fields, text_of
from .test_consent_pages import authlib_verify

PROBLEM = "application/problem+json"


class Brand:
    """A brand's side: its client, a client credentials token from /oauth/token, its calls."""

    def __init__(self, client: FlaskClient, oauth: OAuthClient, secret: str,
                 scope: str = "agreements:write") -> None:
        self.client = client
        self.oauth = oauth
        pair = base64.b64encode(f"{oauth.client_id}:{secret}".encode()).decode()
        response = client.post("/oauth/token", data={"grant_type": "client_credentials",
                                                      "scope": scope},
                               headers={"Authorization": "Basic " + pair})
        assert response.status_code == 200, response.get_data(as_text=True)
        self.headers = bearer(response.get_json()["access_token"])

    def get(self, path: str) -> Any:
        return self.client.get("/api/v1" + path, headers=self.headers)

    def answer(self, agreement_id: str, body: Any, **kwargs: Any) -> Any:
        return self.client.post(f"/api/v1/agreements/{agreement_id}/answer",
                                headers=self.headers, json=body, **kwargs)


def make_brand(api: BrandApi, client: FlaskClient, name: str = "Velo Bikes",
               accepts: tuple[str, ...] = ("SD-BASE",), **kwargs: Any) -> Brand:
    oauth, secret = api.clients.create(name, [CALLBACK], accepts=list(accepts))
    return Brand(client, oauth, secret, **kwargs)


@pytest.fixture
def velo(api: BrandApi, brand_client: FlaskClient) -> Brand:
    return make_brand(api, brand_client)


@pytest.fixture
def offered(alice: SignedIn, consent: Consent, velo: Brand) -> str:
    """Alice (who offers SD-BASE-ATP, as the demo member does) offers it on the Sharing page."""
    consent.terms.update(alice.id, agreement="SD-BASE-ATP", purposes=["dpv:Personalisation"],
                         max_days=90, aggregate_allowed=False)
    page = alice.client.get("/member/consents").get_data(as_text=True)
    # The offer reads in words; the term's code is kept for the record, folded away.
    shown = text_of(re.sub(r"<details.*?</details>", "", page, flags=re.S))
    assert "Offer my terms to" in shown and "SD-BASE" not in shown
    assert "Your terms: Service, analytics, tracking and profiling by the brand itself" in shown
    fields = MultiDict(form_fields(page, "/member/agreements"))
    fields["brand_id"] = velo.oauth.brand_id
    response = alice.client.post("/member/agreements", data=fields)
    assert response.status_code == 302
    [offer] = consent.agreements.for_member(alice.id)
    assert offer.status is AgreementStatus.PROFFERED and offer.proffered == "SD-BASE-ATP"
    page = alice.client.get("/member/consents").get_data(as_text=True)
    assert f"you offered {term_words('SD-BASE-ATP')}; waiting for their answer" in text_of(page)
    return offer.id


def member_answers(alice: SignedIn, agreement_id: str, choice: str) -> None:
    page = alice.client.get("/member/consents").get_data(as_text=True)
    action = f"/member/agreements/{agreement_id}/{choice}"
    response = alice.client.post(action, data=MultiDict(form_fields(page, action)))
    assert response.status_code == 302


def tags(consent: Consent) -> list[str]:
    return [consent.ledger.entry(s).tag.value for s in range(consent.ledger.size)]


# -- the exchange ---------------------------------------------------------------------------
def test_the_brand_counters_the_member_accepts_and_both_hold_the_same_signed_record(
        app: Flask, alice: SignedIn, consent: Consent, api: BrandApi, velo: Brand,
        offered: str) -> None:
    listing = velo.get("/agreements?status=proffered")
    assert listing.status_code == 200
    [item] = listing.get_json()["agreements"]
    subject = api.subject(alice.id, velo.oauth)
    assert item["id"] == offered and item["subject"] == subject
    assert (item["proffered"], item["status"], item["record"]) == ("SD-BASE-ATP", "proffered",
                                                                   None)
    body = listing.get_data(as_text=True)
    assert alice.id not in body and consent.principal(alice.id) not in body

    countered = velo.answer(offered, {"answer": "counter", "term": "SD-BASE"})
    assert countered.status_code == 200
    assert countered.get_json()["agreement"]["status"] == "countered"
    page = text_of(alice.client.get("/member/consents").get_data(as_text=True))
    assert (f"they propose {term_words('SD-BASE')} instead of {term_words('SD-BASE-ATP')}"
            in page)

    member_answers(alice, offered, "accept")

    brand_copy = velo.get(f"/agreements/{offered}").get_json()["agreement"]
    assert brand_copy["status"] == "agreed" and brand_copy["agreed"] == "SD-BASE"
    member_copy = alice.client.get(f"/member/agreements/{offered}")
    assert member_copy.status_code == 200
    assert member_copy.get_data(as_text=True) == brand_copy["signed_record"]  # the same bytes
    jwks = app.test_client().get("/.well-known/jwks.json").get_json()
    payload = authlib_verify(brand_copy["signed_record"], jwks)                # it verifies
    assert payload.pop("sha256") == brand_copy["sha256"] == hashlib.sha256(
        brand_copy["record"].encode()).hexdigest()
    assert json.loads(brand_copy["record"]) == payload
    assert payload["first_party"] == subject and payload["second_party"] == velo.oauth.brand_id
    assert (payload["proffered"], payload["countered"], payload["term"]["code"]) == (
        "SD-BASE-ATP", "SD-BASE", "SD-BASE")
    assert alice.id not in brand_copy["record"]
    assert tags(consent)[-3:] == ["consent:agreement:proffered",
                                  "consent:agreement:countered", "consent:terms:agreed"]
    countered_entry = consent.ledger.entry(consent.ledger.size - 2)
    assert countered_entry.actor == "brand:" + velo.oauth.brand_id


def test_the_brand_accepts_the_offer(alice: SignedIn, consent: Consent, velo: Brand,
                                     offered: str) -> None:
    answered = velo.answer(offered, {"answer": "accept"})
    assert answered.status_code == 200
    agreement = answered.get_json()["agreement"]
    assert agreement["status"] == "agreed" and agreement["agreed"] == "SD-BASE-ATP"
    assert alice.client.get(f"/member/agreements/{offered}").get_data(
        as_text=True) == agreement["signed_record"]
    assert consent.agreements.in_force(alice.id, velo.oauth.brand_id).id == offered


def test_the_brand_rejects_and_the_member_may_offer_again(
        alice: SignedIn, consent: Consent, velo: Brand, offered: str) -> None:
    rejected = velo.answer(offered, {"answer": "reject"})
    assert rejected.status_code == 200
    assert rejected.get_json()["agreement"]["status"] == "rejected"
    assert rejected.get_json()["agreement"]["signed_record"] is None
    assert alice.client.get(f"/member/agreements/{offered}").status_code == 404
    assert "Velo Bikes: not agreed" in text_of(alice.client.get("/member/consents").get_data(
        as_text=True))
    assert tags(consent)[-1] == EventTag.CONSENT_AGREEMENT_REJECTED.value
    assert consent.agreements.in_force(alice.id, velo.oauth.brand_id) is None
    consent.agreements.proffer(alice.id, velo.oauth.brand_id)          # a new offer


def test_the_member_rejects_a_counter_offer(alice: SignedIn, consent: Consent, velo: Brand,
                                            offered: str) -> None:
    velo.answer(offered, {"answer": "counter", "term": "SD-BASE"})
    member_answers(alice, offered, "reject")
    agreement = velo.get(f"/agreements/{offered}").get_json()["agreement"]
    assert agreement["status"] == "rejected" and agreement["record"] is None
    [entry] = [consent.ledger.entry(s) for s in range(consent.ledger.size)
               if consent.ledger.entry(s).tag is EventTag.CONSENT_AGREEMENT_REJECTED]
    assert entry.details["by"] == "member" and entry.actor == consent.principal(alice.id)


def member_withdraws(alice: SignedIn, agreement_id: str) -> str:
    """Withdraw the offer with the Sharing page's own form; the page the member lands on."""
    page = alice.client.get("/member/consents").get_data(as_text=True)
    action = f"/member/agreements/{agreement_id}/withdraw"
    response = alice.client.post(action, data=MultiDict(form_fields(page, action)),
                                 follow_redirects=True)
    assert response.status_code == 200
    return text_of(response.get_data(as_text=True))


def test_the_member_withdraws_an_offer_and_the_brand_can_no_longer_answer_it(
        alice: SignedIn, consent: Consent, velo: Brand, offered: str) -> None:
    page = member_withdraws(alice, offered)
    assert "Your offer to Velo Bikes is withdrawn: they can no longer accept it." in page
    assert ("Velo Bikes: offer taken back · you took back your offer of"
            f" {term_words('SD-BASE-ATP')} before they answered") in page
    assert "Withdraw my offer" not in page
    entry = consent.ledger.entry(consent.ledger.size - 1)
    assert entry.tag is EventTag.CONSENT_AGREEMENT_WITHDRAWN
    assert entry.actor == consent.principal(alice.id)
    assert entry.details == {"agreement": offered, "brand": velo.oauth.brand_id,
                             "term": "SD-BASE-ATP"}

    # The brand sees it withdrawn, in the listing (filtered too) and by id ...
    assert velo.get(f"/agreements/{offered}").get_json()["agreement"]["status"] == "withdrawn"
    [listed] = velo.get("/agreements?status=withdrawn").get_json()["agreements"]
    assert listed["id"] == offered and listed["signed_record"] is None
    assert velo.get("/agreements?status=proffered").get_json()["agreements"] == []
    # ... and no answer takes: 409, problem+json, nothing recorded.
    size = consent.ledger.size
    for body in ({"answer": "accept"}, {"answer": "counter", "term": "SD-BASE"},
                 {"answer": "reject"}):
        refused = velo.answer(offered, body)
        assert refused.status_code == 409 and refused.mimetype == PROBLEM, body
        assert "withdrawn" in refused.get_json()["detail"]
    assert consent.agreements.get(offered).status is AgreementStatus.WITHDRAWN
    assert consent.agreements.in_force(alice.id, velo.oauth.brand_id) is None
    assert consent.ledger.size == size
    # The member may offer again.
    assert consent.agreements.proffer(alice.id, velo.oauth.brand_id).id != offered


def test_an_offer_withdrawn_twice_or_answered_first_says_so(
        alice: SignedIn, consent: Consent, velo: Brand, offered: str) -> None:
    page = alice.client.get("/member/consents").get_data(as_text=True)
    action = f"/member/agreements/{offered}/withdraw"
    form = MultiDict(form_fields(page, action))
    # The brand answers while the member's page is open: the withdrawal comes too late.
    assert velo.answer(offered, {"answer": "counter", "term": "SD-BASE"}).status_code == 200
    late = alice.client.post(action, data=form, follow_redirects=True)
    assert late.status_code == 200
    assert "The brand answered your offer before it could be withdrawn" in text_of(
        late.get_data(as_text=True))
    assert consent.agreements.get(offered).status is AgreementStatus.COUNTERED

    offer = consent.agreements.proffer(alice.id, make_brand_id(consent, "Other Brand"))
    consent.agreements.member_withdraws(offer.id, alice.id)
    again = alice.client.post(f"/member/agreements/{offer.id}/withdraw", data=form,
                              follow_redirects=True)
    assert "This offer is withdrawn already." in text_of(again.get_data(as_text=True))


def make_brand_id(consent: Consent, name: str) -> str:
    return consent.vault.brands.add(name, ("bikes",)).id


def test_no_one_but_the_member_withdraws_their_offer(
        sign_in, consent: Consent, velo: Brand, offered: str) -> None:
    bob = sign_in("bob@example.org")
    page = bob.client.get("/member/consents").get_data(as_text=True)
    for agreement_id in (offered, "agr_000000000000000000000000", "x" * 300):
        response = bob.client.post(f"/member/agreements/{agreement_id}/withdraw",
                                   data={"csrf_token": bob.auth.csrf("/member/consents")})
        assert response.status_code == 404
        # The service's words as a sentence (Flask's own "Not Found" text was shown here).
        assert "No such agreement." in response.get_data(as_text=True)
    assert "Withdraw my offer" not in page
    assert consent.agreements.get(offered).status is AgreementStatus.PROFFERED


def offer_error(alice: SignedIn, brand_id: str) -> tuple[int, str]:
    """Post an offer to ``brand_id`` (a form the page showed before); the status and the
    message next to the brand's list."""
    response = alice.auth.post("/member/agreements", {"brand_id": brand_id},
                               form_page="/member/consents")
    found = re.search(r'<ul class="errors" id="brand_id-error">(.*?)</ul>',
                      response.get_data(as_text=True), re.S)
    return response.status_code, text_of(found.group(1)) if found else ""


def test_an_offer_waiting_cannot_be_offered_twice(alice: SignedIn, consent: Consent,
                                                  velo: Brand, offered: str) -> None:
    page = alice.client.get("/member/consents").get_data(as_text=True)
    assert "Offer my terms to" not in page                  # the only brand: not listed
    assert offer_error(alice, velo.oauth.brand_id) == (
        409, "An offer to Velo Bikes is waiting for their answer already (listed above).")
    assert len(consent.agreements.for_member(alice.id)) == 1


def test_a_brand_that_agreed_the_members_term_is_not_offered_it_again(
        alice: SignedIn, consent: Consent, api: BrandApi, brand_client: FlaskClient,
        velo: Brand, offered: str) -> None:
    """A trial found "offer sent … waiting for their answer" listed right above "agreed on"
    the same term: the brand is left off the list, and an offer to it refused next to it."""
    grocer = make_brand(api, brand_client, "Fresh Grocer")
    assert velo.answer(offered, {"answer": "accept"}).status_code == 200
    page = alice.client.get("/member/consents").get_data(as_text=True)
    options = re.findall(r'<option value="([^"]+)">', page)
    assert options == [grocer.oauth.brand_id]
    assert offer_error(alice, velo.oauth.brand_id) == (
        409, "Velo Bikes has agreed your terms with you already (listed above).")
    assert [a.id for a in consent.agreements.for_member(alice.id)] == [offered]
    with pytest.raises(ConflictError):                      # the service refuses it too
        consent.agreements.proffer(alice.id, velo.oauth.brand_id)
    # Terms changed since: the brand agreed the old ones only, so it is listed again.
    consent.terms.update(alice.id, agreement="SD-BASE", purposes=["dpv:ServiceProvision"],
                         max_days=90, aggregate_allowed=False)
    page = alice.client.get("/member/consents").get_data(as_text=True)
    assert set(re.findall(r'<option value="([^"]+)">', page)) == {
        velo.oauth.brand_id, grocer.oauth.brand_id}


def test_a_brand_without_a_client_cannot_be_offered_to(alice: SignedIn, consent: Consent,
                                                       brand) -> None:
    assert "Offer my terms" not in alice.client.get("/member/consents").get_data(as_text=True)
    response = alice.auth.post("/member/agreements", {"brand_id": brand.id},
                               form_page="/member/consents", follow_redirects=True)
    assert "Choose one of the brands on the list." in text_of(response.get_data(as_text=True))
    assert consent.agreements.for_member(alice.id) == []


def test_a_brand_sees_only_its_own_agreements(
        api: BrandApi, brand_client: FlaskClient, velo: Brand, offered: str) -> None:
    grocer = make_brand(api, brand_client, "Fresh Grocer")
    assert grocer.get("/agreements").get_json() == {"agreements": [], "next_offset": None}
    assert grocer.get(f"/agreements/{offered}").status_code == 404
    answer = grocer.answer(offered, {"answer": "accept"})
    assert answer.status_code == 404 and answer.mimetype == PROBLEM


# -- bad input, refused as problem+json ---------------------------------------------------------
BAD_ANSWERS: dict[str, tuple[Any, int, str]] = {
    "unknown-answer": ({"answer": "maybe"}, 400, "answer"),
    "no-answer": ({}, 400, "answer"),
    "counter-without-term": ({"answer": "counter"}, 400, "term"),
    "term-off-the-roster": ({"answer": "counter", "term": "SD-EVERYTHING"}, 400, "term"),
    "term-with-accept": ({"answer": "accept", "term": "SD-BASE"}, 400, "term"),
    "the-offered-term": ({"answer": "counter", "term": "SD-BASE-ATP"}, 400, "term"),
    "unknown-member": ({"answer": "accept", "colour": "blue"}, 400, "colour"),
    "not-an-object": (["accept"], 400, "body"),
    "answer-not-a-string": ({"answer": 1}, 400, "answer"),
}


@pytest.mark.parametrize("body, status, field", BAD_ANSWERS.values(), ids=BAD_ANSWERS.keys())
def test_a_bad_answer_is_problem_json_and_changes_nothing(
        consent: Consent, velo: Brand, offered: str, body: Any, status: int,
        field: str) -> None:
    before = consent.ledger.size
    response = velo.answer(offered, body)
    assert response.status_code == status and response.mimetype == PROBLEM
    assert field in response.get_json()["errors"]
    assert consent.agreements.get(offered).status is AgreementStatus.PROFFERED
    assert consent.ledger.size == before


@pytest.mark.parametrize("case", ["not-json", "not-utf8", "form-body", "too-large"])
def test_a_body_that_is_not_json_is_refused(velo: Brand, offered: str, case: str) -> None:
    path = f"/api/v1/agreements/{offered}/answer"
    if case == "form-body":
        response = velo.client.post(path, headers=velo.headers, data={"answer": "accept"})
        assert response.status_code == 415
    else:
        data = {"not-json": b"{answer", "not-utf8": b'{"answer": "\xff"}',
                "too-large": b'{"answer": "accept", "x": "' + b"a" * 5000 + b'"}'}[case]
        response = velo.client.post(path, headers=velo.headers, data=data,
                                    content_type="application/json")
        # One answer for an oversized body on every operation (test_body_limits.py).
        assert response.status_code == (413 if case == "too-large" else 400)
    assert response.mimetype == PROBLEM


def test_an_offer_answered_already_is_a_conflict(velo: Brand, offered: str) -> None:
    assert velo.answer(offered, {"answer": "reject"}).status_code == 200
    again = velo.answer(offered, {"answer": "accept"})
    assert again.status_code == 409 and again.mimetype == PROBLEM
    assert "rejected" in again.get_json()["detail"]


@pytest.mark.parametrize("path", ["/agreements?status=open", "/agreements?limit=0",
                                  "/agreements?limit=x", "/agreements?colour=blue",
                                  "/agreements?status=agreed&status=rejected"])
def test_bad_query_parameters_are_problem_json(velo: Brand, path: str) -> None:
    response = velo.get(path)
    assert response.status_code == 400 and response.mimetype == PROBLEM
    assert response.get_json()["errors"]


@pytest.mark.parametrize("agreement_id", ["agr_000000000000000000000000", "nope", "x" * 300])
def test_an_unknown_agreement_is_not_found(velo: Brand, agreement_id: str) -> None:
    for response in (velo.get(f"/agreements/{agreement_id}"),
                     velo.answer(agreement_id, {"answer": "accept"})):
        assert response.status_code == 404 and response.mimetype == PROBLEM


def test_a_token_without_the_scope_or_for_a_member_is_insufficient(
        api: BrandApi, brand_client: FlaskClient, alice: SignedIn, offered: str) -> None:
    hooks_only = make_brand(api, brand_client, "Hooks Only", scope="webhooks:manage")
    for response in (hooks_only.get("/agreements"),
                     hooks_only.answer(offered, {"answer": "accept"})):
        assert response.status_code == 403 and response.mimetype == PROBLEM
        assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]
    member_token = api.member_token(alice.id, hooks_only.oauth,
                                    {"dpv:Personalisation": ["city"]})
    response = brand_client.get("/api/v1/agreements", headers=member_token.headers)
    assert response.status_code == 403
    assert brand_client.get("/api/v1/agreements").status_code == 401


def test_the_listing_pages(consent: Consent, api: BrandApi,
                           brand_client: FlaskClient, sign_in) -> None:
    brand = make_brand(api, brand_client, "Pager")
    for number in range(3):
        member = sign_in(f"pager{number}@example.org")
        consent.agreements.proffer(member.id, brand.oauth.brand_id)
    first = brand.get("/agreements?limit=2").get_json()
    assert len(first["agreements"]) == 2 and first["next_offset"] == 2
    second = brand.get("/agreements?limit=2&offset=2").get_json()
    assert len(second["agreements"]) == 1 and second["next_offset"] is None
    subjects = {a["subject"] for a in first["agreements"] + second["agreements"]}
    assert len(subjects) == 3


def test_a_record_signed_under_the_old_global_pseudonym_is_never_handed_out(
        consent: Consent, velo: Brand, offered: str) -> None:
    agreed = velo.answer(offered, {"answer": "accept"}).get_json()["agreement"]
    assert agreed["signed_record"] is not None
    # As records were signed before they named the member pairwise: the ledger's pseudonym.
    legacy = json.loads(agreed["record"]) | {"first_party": consent.principal(
        consent.agreements.get(offered).member_id)}
    consent.vault.data.execute("UPDATE agreements SET record = ? WHERE id = ?",
                               (json.dumps(legacy, sort_keys=True), offered))
    served = velo.get(f"/agreements/{offered}")
    body = served.get_data(as_text=True)
    assert served.get_json()["agreement"]["signed_record"] is None
    assert legacy["first_party"] not in body
