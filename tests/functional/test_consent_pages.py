"""The consent pages: personal terms, the grants list, withdraw, narrow, receipts, agreements.

Grants are made through the consent services (brands ask through the gateway, not these pages),
on the same store and frozen clock as the app; the pages are then driven as a browser would.
"""

from __future__ import annotations

import json
import re
import warnings
from typing import Any

import authlib.deprecate
import pytest
from werkzeug.datastructures import MultiDict

from consent.context import Consent
from consent.grants import DAY, BrandRequest, StoredReceipt
from consent.model import AgreementRecord, AgreementStatus, Grant, GrantStatus, Mode
from consent.vocabulary import PURPOSES
from vault.brands import Brand
from vault.clock import FrozenClock
from web.filters import term_words, when

from .conftest import SignedIn
from .pages import (
    assert_sane,
    error_message,
    error_summary,
    field_errors,
    fields_with_errors,
    flashes,
    form_fields,
    location_path,
    text_of,
)

with warnings.catch_warnings():     # authlib.jose warns that it is deprecated in favour of joserfc
    warnings.simplefilter("ignore", authlib.deprecate.AuthlibDeprecationWarning)
    from authlib.jose import JsonWebKey, JsonWebSignature
    from authlib.jose.errors import JoseError as AuthlibJoseError

ALL_PURPOSES = [p.code for p in PURPOSES]


# -- shared with the access matrix -------------------------------------------------------------
def agree(consent: Consent, member_id: str, brand: Brand) -> AgreementRecord:
    offer = consent.agreements.proffer(member_id, brand.id)
    return consent.agreements.brand_accepts(offer.id, brand.id)


def share(consent: Consent, member_id: str, brand: Brand, *,
          fields: frozenset[str] = frozenset({"given_name", "city", "category:interests"}),
          purpose: str = "dpv:Personalisation", days: int = 30, **request: Any
          ) -> tuple[Grant, StoredReceipt, AgreementRecord]:
    """Terms accepting every purpose, an agreement with the brand, and one grant."""
    consent.terms.update(member_id, agreement="SD-BASE-ATP", purposes=ALL_PURPOSES,
                         max_days=365, aggregate_allowed=True)
    agreement = consent.agreements.in_force(member_id, brand.id) or agree(
        consent, member_id, brand)
    grant, receipt = consent.grants.grant(
        member_id, BrandRequest(brand.id, purpose, fields, days=days, **request))
    return grant, receipt, agreement


def allowed(consent: Consent, grant: Grant, field: str) -> bool:
    return consent.decisions.decide(grant.brand_id, grant.purpose, grant.member_id, field,
                                    Mode.INDIVIDUAL, consent.vault.clock()).allowed


# -- personal terms -----------------------------------------------------------------------------
VALID_TERMS = {"agreement": "SD-BASE-A",
               "purposes": ["dpv:ServiceProvision", "dpv:ServiceOptimisation"],
               "max_days": "90", "aggregate_allowed": "on"}


def checked(page: str, name: str, value: str) -> bool:
    match = re.search(rf'<input type="checkbox" name="{name}" value="{re.escape(value)}"'
                      r'([^>]*)>', page)
    assert match, f"no checkbox {name}={value}"
    return "checked" in match.group(1)


def test_a_new_member_sees_terms_with_nothing_accepted(alice: SignedIn, consent: Consent
                                                       ) -> None:
    page = alice.client.get("/member/terms").get_data(as_text=True)
    assert '<option value="SD-BASE" selected>' in page
    assert not any(checked(page, "purposes", p) for p in ALL_PURPOSES)
    assert re.search(r'id="max_days" name="max_days"[^>]*value="0"', page)
    assert not checked(page, "aggregate_allowed", "on")
    assert not checked(page, "sale_sharing_opt_out", "on")
    assert "opted out" not in text_of(page).lower()


def test_saved_terms_are_stored_and_shown_again(alice: SignedIn, consent: Consent) -> None:
    response = alice.auth.post("/member/terms", VALID_TERMS)
    assert response.status_code == 302 and location_path(response) == "/member/terms"

    terms = consent.terms.get(alice.id)
    assert terms.agreement == "SD-BASE-A"
    assert terms.purposes == {"dpv:ServiceProvision", "dpv:ServiceOptimisation"}
    assert terms.max_days == 90 and terms.aggregate_allowed and not terms.gpc_opt_out
    assert terms.version == 1

    page = alice.client.get("/member/terms").get_data(as_text=True)
    assert any("Your terms are saved" in f for f in flashes(page))
    assert '<option value="SD-BASE-A" selected>' in page
    assert checked(page, "purposes", "dpv:ServiceOptimisation")
    assert not checked(page, "purposes", "dpv:Marketing")
    assert re.search(r'id="max_days" name="max_days"[^>]*value="90"', page)
    assert checked(page, "aggregate_allowed", "on")

    # submitting the page as rendered changes nothing but the version
    again = alice.auth.post("/member/terms", _as_dict(form_fields(page, "/member/terms")))
    assert again.status_code == 302
    assert consent.terms.get(alice.id).purposes == terms.purposes
    assert consent.terms.get(alice.id).version == 2


def test_the_explicit_opt_out_box_sets_and_clears_the_opt_out(alice: SignedIn,
                                                              consent: Consent) -> None:
    alice.auth.post("/member/terms", VALID_TERMS | {"sale_sharing_opt_out": "on"})
    assert consent.terms.get(alice.id).gpc_opt_out
    page = alice.client.get("/member/terms").get_data(as_text=True)
    assert "Opted out of sale/sharing." in text_of(page)
    assert "via GPC" not in page
    alice.auth.post("/member/terms", VALID_TERMS)
    assert not consent.terms.get(alice.id).gpc_opt_out


def _as_dict(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name, value in pairs:
        if name == "csrf_token":
            continue
        data.setdefault(name, []).append(value)
    return {k: v if len(v) > 1 or k == "purposes" else v[0] for k, v in data.items()}


DAYS = "Longest grant I allow, in days: Enter a whole number of days from 0 to 3650."
INVALID_TERMS = [
    ({"agreement": "SD-BASE-A", "purposes": ["dpv:Personalisation"]}, "purposes",
     "Purposes I accept at all: Personalisation needs more than the term you offer allows"),
    ({"agreement": "SD-BASE", "purposes": ["dpv:ServiceProvision", "dpv:Marketing"]},
     "purposes", "Purposes I accept at all: Marketing needs more than the term you offer allows"),
    ({"purposes": ["dpv:Spying"]}, "purposes",
     "Purposes I accept at all: Unknown purpose: dpv:Spying"),
    ({"agreement": "SD-BASE-XYZ"}, "agreement",
     "The term I offer brands: Choose one of the terms on the list."),
    ({"agreement": ""}, "agreement", "The term I offer brands: Choose the term you offer brands."),
    ({"max_days": "ninety"}, "max_days", DAYS),
    ({"max_days": "3651"}, "max_days", DAYS),
    ({"max_days": "-1"}, "max_days", DAYS),
    ({"max_days": ""}, "max_days", DAYS),
]


@pytest.mark.parametrize(("changes", "field", "message"), INVALID_TERMS,
                         ids=[f"{f}-{m[:30]}" for _, f, m in INVALID_TERMS])
def test_invalid_terms_show_the_error_next_to_the_field_and_save_nothing(
        alice: SignedIn, consent: Consent, changes: dict, field: str, message: str) -> None:
    alice.auth.post("/member/terms", {"agreement": "SD-BASE", "purposes": [], "max_days": "7"})
    before = consent.terms.get(alice.id)

    response = alice.auth.post("/member/terms", VALID_TERMS | changes)

    assert_sane(response)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in " ".join(field_errors(page, field))
    assert fields_with_errors(page) == {field}
    assert error_summary(page).startswith("Please correct the field marked below.")
    if field != "purposes":    # a fieldset, not a control: its boxes carry no aria-invalid
        assert re.search(rf'id="{field}" name="{field}"[^>]*aria-invalid="true"', page)
    assert consent.terms.get(alice.id) == before
    # what was submitted is shown again, for correcting
    if "max_days" in changes:
        assert f'value="{changes["max_days"]}"' in page


@pytest.mark.parametrize("extra", [{"aggregate_allowed": "yes"}, {"colour": "blue"},
                                   {"max_days": ["1", "2"]}])
def test_tampered_terms_forms_are_refused(alice: SignedIn, consent: Consent, extra: dict
                                          ) -> None:
    response = alice.auth.post("/member/terms", VALID_TERMS | extra)
    assert_sane(response)
    assert response.status_code == 422
    assert error_summary(response.get_data(as_text=True))
    assert consent.terms.get(alice.id).version == 0


# -- the grants page ----------------------------------------------------------------------------
@pytest.fixture
def shared(alice: SignedIn, consent: Consent, brand: Brand):
    return share(consent, alice.id, brand)


def grant_item(page: str, grant_id: str) -> str:
    match = re.search(rf'<li class="entry grant[^"]*" id="{grant_id}">(.*?)</li>', page, re.S)
    assert match, f"grant {grant_id} is not listed"
    return text_of(match.group(1))


def test_a_new_member_shares_nothing(alice: SignedIn, consent: Consent) -> None:
    page = alice.client.get("/member/consents").get_data(as_text=True)
    assert "You share nothing with anyone." in page
    assert "No agreements yet." in page
    # No table of receipts with a header row only: a sentence, as elsewhere on the page.
    receipts = text_of(page[page.index('id="receipts"'):])
    assert "No receipts yet: you have shared nothing with anyone." in receipts
    assert "<table" not in page[page.index('id="receipts"'):]


def test_the_page_lists_grants_with_their_end_dates(alice: SignedIn, consent: Consent,
                                                    brand: Brand, shared,
                                                    clock: FrozenClock) -> None:
    grant, receipt, agreement = shared
    ended, _, _ = share(consent, alice.id, brand, purpose="dpv:CustomerCare", days=1)
    withdrawn, _, _ = share(consent, alice.id, brand, purpose="dpv:Marketing", days=60)
    consent.grants.withdraw(alice.id, withdrawn.id)
    clock.advance(DAY)
    alice.auth.login(alice.email)        # a day idle ends the session

    page = alice.client.get("/member/consents").get_data(as_text=True)

    item = grant_item(page, grant.id)
    assert "Velo Bikes" in item and "Personalisation" in item
    assert "Given name" in item and "City" in item and "Interests" in item
    assert f"Active until {when(grant.ends_at)}" in item
    assert "term SD-BASE-ATP" in item
    assert f"Expired {when(ended.ends_at)}" in grant_item(page, ended.id)
    assert "Withdraw" not in grant_item(page, ended.id)
    assert f"Withdrawn by you on {when(int(clock()) - DAY)}" in grant_item(page, withdrawn.id)
    assert f"/member/receipts/{receipt.id}" in page
    assert f"/member/agreements/{agreement.id}" in page


def test_each_receipt_says_what_it_was_for(alice: SignedIn, consent: Consent, brand: Brand,
                                           shared) -> None:
    """Two grants to one brand in the same minute: each receipt's row names its purpose, and
    its links say which receipt they fetch; the rows read "Velo Bikes, Given" alike, links
    named alike leading to different receipts."""
    _, personalisation, _ = shared
    _, care, _ = share(consent, alice.id, brand, purpose="dpv:CustomerCare")
    page = alice.client.get("/member/consents").get_data(as_text=True)
    rows = {text_of(row) for row in re.findall(r"<tr>(.*?)</tr>",
                                               page[page.index('id="receipts"'):], re.S)}
    for receipt, purpose in ((personalisation, "Personalisation"), (care, "Customer care")):
        [row] = [row for row in rows if f"receipt: given, Velo Bikes, {purpose}" in row]
        assert f"Given: Velo Bikes · {purpose}" in row
        assert f"Log entry of the receipt: given, Velo Bikes, {purpose}" in row
        assert page.count(f'href="/member/receipts/{receipt.id}"') == 1


def test_withdrawing_takes_effect_on_the_next_decision(alice: SignedIn, consent: Consent,
                                                       shared) -> None:
    grant, _, _ = shared
    assert allowed(consent, grant, "city")
    page = alice.client.get("/member/consents").get_data(as_text=True)
    action = f"/member/consents/{grant.id}/withdraw"
    form = dict(form_fields(page, action))
    assert set(form) == {"csrf_token"}

    response = alice.client.post(action, data=form)

    assert response.status_code == 302 and location_path(response) == "/member/consents"
    assert not allowed(consent, grant, "city")
    assert consent.grants.get(alice.id, grant.id).status is GrantStatus.WITHDRAWN
    page = alice.client.get("/member/consents").get_data(as_text=True)
    assert any("Withdrawn." in f for f in flashes(page))
    assert "Withdrawn by you on" in grant_item(page, grant.id)
    assert [r.event for r in consent.grants.receipts(alice.id)] == ["withdrawn", "given"]

    again = alice.auth.post(action, form_page="/member/consents")
    assert again.status_code == 302
    page = alice.client.get("/member/consents").get_data(as_text=True)
    assert any("already ended" in f for f in flashes(page))
    assert len(consent.grants.receipts(alice.id)) == 2


@pytest.mark.parametrize("ending", ["withdrawn", "expired"])
def test_an_ended_grant_has_no_narrow_form(alice: SignedIn, consent: Consent, shared,
                                           clock: FrozenClock, ending: str) -> None:
    grant, _, _ = shared
    if ending == "withdrawn":
        consent.grants.withdraw(alice.id, grant.id)
    else:
        clock.advance(31 * DAY)
        assert alice.auth.login().status_code == 302     # the session has gone idle meanwhile
    receipts = len(consent.grants.receipts(alice.id))
    action = f"/member/consents/{grant.id}/narrow"
    for method in ("GET", "POST"):
        response = alice.client.get(action) if method == "GET" else alice.auth.post(
            action, {"fields": ["given_name"]}, form_page="/member/consents")
        assert response.status_code == 302 and location_path(response) == "/member/consents"
        page = alice.client.get("/member/consents").get_data(as_text=True)
        assert any("has ended, so there is nothing left to narrow" in f for f in flashes(page))
    assert len(consent.grants.receipts(alice.id)) == receipts
    assert consent.grants.get(alice.id, grant.id).covered == grant.covered


def test_withdrawing_needs_the_csrf_token(alice: SignedIn, consent: Consent, shared) -> None:
    grant, _, _ = shared
    response = alice.client.post(f"/member/consents/{grant.id}/withdraw")
    assert response.status_code == 400
    assert allowed(consent, grant, "city")


def test_unticking_a_field_narrows_the_grant(alice: SignedIn, consent: Consent, shared
                                             ) -> None:
    grant, _, _ = shared
    action = f"/member/consents/{grant.id}/narrow"
    page = alice.client.get(action).get_data(as_text=True)
    form = form_fields(page, action)
    ticked = {v for k, v in form if k == "fields"}
    assert ticked == grant.covered == {"given_name", "city", "interests", "hobbies"}

    response = alice.client.post(action, data=MultiDict([(k, v) for k, v in form if v != "city"]))

    assert response.status_code == 302 and location_path(response) == "/member/consents"
    narrowed = consent.grants.get(alice.id, grant.id)
    assert narrowed.covered == {"given_name", "interests", "hobbies"}
    assert narrowed.version == 2
    assert not allowed(consent, grant, "city")
    assert allowed(consent, grant, "given_name")
    assert [r.event for r in consent.grants.receipts(alice.id)] == ["narrowed", "given"]


def test_unticking_a_field_keeps_the_end_date(alice: SignedIn, consent: Consent, shared
                                              ) -> None:
    # The member only unticked a field; the date box still shows the grant's own end date.
    grant, _, _ = shared
    action = f"/member/consents/{grant.id}/narrow"
    form = form_fields(alice.client.get(action).get_data(as_text=True), action)
    alice.client.post(action, data=MultiDict([(k, v) for k, v in form if v != "city"]))
    narrowed = consent.grants.get(alice.id, grant.id)
    assert narrowed.covered == {"given_name", "interests", "hobbies"}
    assert when(narrowed.ends_at) == when(grant.ends_at), "the end moved earlier unasked"


def test_an_earlier_end_date_ends_the_grant_sooner(alice: SignedIn, consent: Consent,
                                                   shared, clock: FrozenClock) -> None:
    grant, _, _ = shared
    action = f"/member/consents/{grant.id}/narrow"
    form = [(k, v) for k, v in form_fields(alice.client.get(action).get_data(as_text=True),
                                           action) if k != "ends_on"]
    response = alice.client.post(action, data=MultiDict([*form, ("ends_on", "2027-01-20")]))
    assert response.status_code == 302
    narrowed = consent.grants.get(alice.id, grant.id)
    assert when(narrowed.ends_at) == "2027-01-20 00:00 UTC"
    assert narrowed.covered == grant.covered
    clock.advance(5 * DAY)
    assert not allowed(consent, grant, "city")


@pytest.mark.parametrize(("fields", "ends_on", "field"), [
    (["given_name", "phone"], None, "fields"),
    (["religion"], None, "fields"),
    ([], None, "fields"),
    (["bogus"], None, "fields"),
    (["given_name"], "2027-01-10", "ends_on"),       # in the past
    (["given_name"], "not-a-date", "ends_on"),
])
def test_narrowing_that_would_add_is_refused(alice: SignedIn, consent: Consent, shared,
                                             fields: list, ends_on: str | None, field: str
                                             ) -> None:
    grant, _, _ = shared
    action = f"/member/consents/{grant.id}/narrow"
    data: dict[str, Any] = {"fields": fields}
    if ends_on is not None:
        data["ends_on"] = ends_on
    response = alice.auth.post(action, data)
    assert_sane(response)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert error_summary(page)
    assert field_errors(page, field)
    assert consent.grants.get(alice.id, grant.id) == grant
    assert len(consent.grants.receipts(alice.id)) == 1


# -- receipts and agreements --------------------------------------------------------------------
def authlib_verify(token: str, jwks: dict[str, Any]) -> dict[str, Any]:
    """Verify with Authlib's JOSE code alone (the signer uses joserfc), from the JWKS."""
    key = JsonWebKey.import_key(jwks["keys"][0])
    result = JsonWebSignature(algorithms=["EdDSA"]).deserialize_compact(token, key)
    assert result["header"]["alg"] == "EdDSA"
    return json.loads(result["payload"])


def test_a_receipt_downloads_as_a_jws_that_verifies_with_the_published_jwks(
        alice: SignedIn, consent: Consent, shared, app) -> None:
    grant, receipt, _ = shared
    response = alice.client.get(f"/member/receipts/{receipt.id}")
    assert response.status_code == 200
    assert response.mimetype == "application/jwt"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="consent-receipt-{receipt.id}.jwt"')
    token = response.get_data(as_text=True)
    assert token == receipt.token

    published = app.test_client().get("/.well-known/jwks.json")
    assert published.status_code == 200
    assert published.mimetype == "application/jwk-set+json"
    jwks = json.loads(published.get_data(as_text=True))
    assert all("d" not in key for key in jwks["keys"])
    document = authlib_verify(token, jwks)
    assert document["consentReceiptID"] == receipt.id
    assert document["iso27560"]["dpv:hasRecordOfActivity"]["dct:identifier"] == grant.id
    # Named as the brand knows the member, never by the vault's own principal.
    assert document["piiPrincipalId"] == consent.brand_subject(alice.id, grant.brand_id)
    assert consent.principal(alice.id) not in token
    assert alice.email not in token

    header, payload, signature = token.split(".")
    changed = payload[:10] + ("A" if payload[10] != "A" else "B") + payload[11:]
    with pytest.raises(AuthlibJoseError):
        authlib_verify(".".join((header, changed, signature)), jwks)


def test_the_agreement_record_downloads_byte_for_byte(alice: SignedIn, consent: Consent,
                                                      shared) -> None:
    _, _, agreement = shared
    response = alice.client.get(f"/member/agreements/{agreement.id}")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == agreement.signature     # the JWS, as issued
    assert consent.signer.verify(agreement.signature)["sha256"] == agreement.record_hash
    assert response.headers["Digest-SHA256"] == agreement.record_hash


def test_agreements_read_in_words_with_their_codes_folded_away(alice: SignedIn,
                                                               consent: Consent) -> None:
    consent.terms.update(alice.id, agreement="SD-BASE-ATP", purposes=ALL_PURPOSES,
                         max_days=365, aggregate_allowed=True)
    brands = consent.vault.brands
    waiting = consent.agreements.proffer(alice.id, brands.add("Waiting").id)
    countering = consent.agreements.proffer(alice.id, brands.add("Countering").id)
    consent.agreements.brand_counters(countering.id, countering.brand_id, "SD-BASE")
    refusing = consent.agreements.proffer(alice.id, brands.add("Refusing").id)
    consent.agreements.brand_rejects(refusing.id, refusing.brand_id)
    taken_back = consent.agreements.proffer(alice.id, brands.add("Taken").id)
    consent.agreements.member_withdraws(taken_back.id, alice.id)
    page = alice.client.get("/member/consents").get_data(as_text=True)

    def shown(agreement_id: str) -> str:
        """The agreement's text a member reads, the folded "Codes for the record" left out."""
        match = re.search(rf'<li class="agreement" id="{agreement_id}">(.*?)<details', page, re.S)
        assert match, agreement_id
        return text_of(match.group(1))

    assert shown(waiting.id).startswith("Waiting: offer sent · you offered Service, analytics")
    assert shown(countering.id).startswith("Countering: counter-offer · they propose Only to")
    assert shown(refusing.id).startswith("Refusing: not agreed · you offered Service")
    assert shown(taken_back.id).startswith("Taken: offer taken back · you took back")
    section = text_of(re.sub(r"<details.*?</details>", "", page.split('id="agreements"')[1]
                             .split("</section>")[0], flags=re.S))
    for code in ("proffered", "countered", "rejected", "withdrawn", "SD-BASE"):
        assert code not in section, code
    receipts = text_of(re.sub(r"<details.*?</details>", "", page.split('id="receipts"')[1],
                              flags=re.S))
    assert "Signed records of every grant" in receipts
    assert "JWS" not in receipts and "Ed25519" not in receipts


def test_an_agreement_still_open_has_no_record_to_download(alice: SignedIn, consent: Consent,
                                                           brand: Brand) -> None:
    offer = consent.agreements.proffer(alice.id, brand.id)
    assert alice.client.get(f"/member/agreements/{offer.id}").status_code == 404


def test_the_member_answers_a_counter_offer(alice: SignedIn, consent: Consent,
                                            brand: Brand) -> None:
    offer = consent.agreements.proffer(alice.id, brand.id)
    consent.agreements.brand_counters(offer.id, brand.id, "SD-BASE-A")
    page = alice.client.get("/member/consents").get_data(as_text=True)
    # In words in the text; the codes themselves in the "Codes for the record".
    assert f"they propose {term_words('SD-BASE-A')} instead of {term_words('SD-BASE')}" \
        in text_of(page)
    assert "IEEE 7012 terms: SD-BASE (" in text_of(page)
    action = f"/member/agreements/{offer.id}/accept"

    response = alice.client.post(action, data=MultiDict(form_fields(page, action)))

    assert response.status_code == 302
    record = consent.agreements.get(offer.id)
    assert record.status is AgreementStatus.AGREED and record.agreed == "SD-BASE-A"
    again = alice.auth.post(action, form_page="/member/consents")
    assert again.status_code == 404
    assert "No counter-offer waiting for you." in again.get_data(as_text=True)
    assert alice.auth.post(f"/member/agreements/{offer.id}/maybe",
                           form_page="/member/consents").status_code == 404


def test_the_member_rejects_a_counter_offer(alice: SignedIn, consent: Consent,
                                            brand: Brand) -> None:
    offer = consent.agreements.proffer(alice.id, brand.id)
    consent.agreements.brand_counters(offer.id, brand.id, "SD-BASE-A")
    response = alice.auth.post(f"/member/agreements/{offer.id}/reject",
                               form_page="/member/consents")
    assert response.status_code == 302
    assert consent.agreements.get(offer.id).status is AgreementStatus.REJECTED


# -- another member ---------------------------------------------------------------------------
def test_another_member_cannot_reach_a_members_consents(alice: SignedIn, bob: SignedIn,
                                                        consent: Consent, brand: Brand,
                                                        shared) -> None:
    grant, receipt, agreement = shared
    countered = consent.agreements.proffer(alice.id, consent.vault.brands.add("Other").id)
    consent.agreements.brand_counters(countered.id, countered.brand_id, "SD-BASE")

    for path in (f"/member/consents/{grant.id}/narrow", f"/member/receipts/{receipt.id}",
                 f"/member/agreements/{agreement.id}"):
        response = bob.client.get(path)
        assert response.status_code == 404, path
        assert receipt.token not in response.get_data(as_text=True)
    for path, data in ((f"/member/consents/{grant.id}/withdraw", {}),
                       (f"/member/consents/{grant.id}/narrow", {"fields": ["given_name"]}),
                       (f"/member/agreements/{countered.id}/accept", {}),
                       (f"/member/agreements/{countered.id}/reject", {})):
        response = bob.auth.post(path, data, form_page="/member/consents")
        assert response.status_code == 404, path
    page = bob.client.get("/member/consents").get_data(as_text=True)
    assert grant.id not in page and receipt.id not in page and agreement.id not in page

    assert consent.grants.get(alice.id, grant.id) == grant
    assert consent.agreements.get(countered.id).status is AgreementStatus.COUNTERED
    assert consent.grants.receipts(bob.id) == []
    assert allowed(consent, grant, "city")


def test_unknown_ids_are_404(alice: SignedIn, consent: Consent) -> None:
    for path, said in (("/member/consents/grant_nope/narrow", "no such grant among yours"),
                       ("/member/consents/42/narrow", "no such grant among yours"),
                       ("/member/receipts/nope", "no such receipt among yours"),
                       ("/member/agreements/agr_nope", "no such agreement among yours")):
        response = alice.client.get(path)
        assert response.status_code == 404, path
        assert error_message(response.get_data(as_text=True)) == f"There is {said}.", path
    response = alice.auth.post("/member/consents/grant_nope/withdraw",
                               form_page="/member/consents")
    assert response.status_code == 404
    assert error_message(response.get_data(as_text=True)) == \
        "There is no such grant among yours."
