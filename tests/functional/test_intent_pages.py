"""The member's intent pages: casting with every bad input refused next to its field and
nothing stored, the offers side by side in the member's order, accepting with a reveal to that
brand only, declining, reporting, keeping the signed record, pausing, withdrawing and blocking
taking the intent out of listings on the brand's next look, and nobody else's intent reachable."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from flask import Flask

from brand_gateway.intents_wiring import intent_service
from consent.context import Consent
from consent.events import EventTag
from intents.model import IntentStatus, OfferStatus, ReportStatus
from intents.service import IntentService
from vault.home import Vault

from .pages import field_errors, flashes, location_path, snapshot
from .test_export_everything import download

DAY = 86_400


@pytest.fixture
def service(consent: Consent, app: Flask) -> IntentService:
    return intent_service(consent, app.config)


@pytest.fixture
def shops(vault: Vault) -> dict[str, str]:
    return {name: vault.brands.add(name, categories).id for name, categories in (
        ("Velo Bikes", ("bicycles",)), ("Spoke & Chain", ("bicycles", "outdoor")),
        ("Sky Trips", ("travel",)))}


def form(today: dt.date, **changes: str | list[str]) -> dict[str, str | list[str]]:
    values: dict[str, str | list[str]] = {
        "category": "bicycles", "description": "A commuter e-bike with a 500 Wh battery",
        "budget_min": "1500", "budget_max": "2500.50", "currency": "EUR",
        "window_from": (today + dt.timedelta(days=1)).isoformat(),
        "window_until": (today + dt.timedelta(days=40)).isoformat(),
        "country": "DE", "region": "DE-BE", "city": "Berlin",
        "reveal_fields": ["contact_email", "given_name"], "expires_on": ""}
    values.update(changes)
    return values


def cast(member, service: IntentService, **changes):
    return member.auth.post("/member/intents", form(service.today(), **changes),
                            form_page="/member/intents")


def offer(service: IntentService, brand_id: str, price: str, clock_now: int):
    [listed] = service.list_for_brand(brand_id).items
    return service.make_offer(brand_id, listed.pseudonym, price=price, currency="EUR",
                              terms="Delivered in a week", message="In stock",
                              valid_until=int(clock_now) + 7 * DAY)


def test_a_member_casts_an_intent_that_brands_of_its_category_list(
        alice, service: IntentService, shops: dict[str, str], vault: Vault) -> None:
    page = alice.client.get("/member/intents").get_data(as_text=True)
    assert 'href="/member/intents"' in page and "None open." in page
    response = cast(alice, service)
    assert response.status_code == 302
    [intent] = service.for_member(alice.id)
    assert location_path(response) == f"/member/intents/{intent.id}"
    assert intent.status is IntentStatus.OPEN and intent.budget_max == 250050
    assert intent.reveal_fields == ("contact_email", "given_name")
    page = alice.client.get(f"/member/intents/{intent.id}").get_data(as_text=True)
    assert "Your intent is cast" in " ".join(flashes(page))
    assert "1500.00 to 2500.50 EUR" in page and "Berlin, DE-BE, DE" in page
    assert len(service.list_for_brand(shops["Velo Bikes"]).items) == 1
    assert service.list_for_brand(shops["Sky Trips"]).items == ()


@pytest.mark.parametrize(("changes", "field", "words"), [
    ({"budget_min": "-5"}, "budget_min", "Lowest budget"),
    ({"budget_min": "900", "budget_max": "100"}, "budget_max", "not be below"),
    ({"category": "spaceships"}, "category", "Category"),
    ({"currency": "EUX"}, "currency", "Currency"),
    ({"window_from": "2001-01-01", "window_until": "2001-02-01"}, "window_until",
     "ended already"),
    ({"description": "x" * 1001}, "description", "1000"),
    ({"city": "12 Baker Street"}, "city", "not an address"),
    ({"region": "FR-IDF", "country": "DE", "city": ""}, "region", "not in the country"),
    ({"description": ""}, "description", "Say what you are looking for"),
    ({"reveal_fields": ["health_conditions"]}, "reveal_fields", "sensitive"),
    ({"window_from": "next week"}, "window_from", "date"),
], ids=["negative", "inverted", "category", "currency", "past-window", "oversize",
        "address", "region-elsewhere", "empty", "sensitive-field", "not-a-date"])
def test_bad_input_is_refused_next_to_its_field_and_changes_nothing(
        alice, service: IntentService, vault: Vault, shops: dict[str, str],
        changes: dict[str, str], field: str, words: str) -> None:
    before = snapshot(vault, sessions=False)
    response = cast(alice, service, **changes)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    messages = " ".join(field_errors(page, field))
    assert words in messages, (field, field_errors(page, field))
    assert snapshot(vault, sessions=False) == before
    assert service.for_member(alice.id) == []


def test_a_form_sent_with_a_field_twice_or_an_unknown_one_is_refused(
        alice, service: IntentService, vault: Vault) -> None:
    before = snapshot(vault, sessions=False)
    response = cast(alice, service, currency=["EUR", "USD"])
    assert response.status_code == 422
    response = cast(alice, service, member_id="someone-else")
    assert response.status_code == 422
    assert "something it does not have" in response.get_data(as_text=True)
    assert snapshot(vault, sessions=False) == before


def test_offers_side_by_side_in_the_members_order_and_each_a_signed_record(
        alice, service: IntentService, shops: dict[str, str], consent: Consent,
        clock) -> None:
    cast(alice, service)
    [intent] = service.for_member(alice.id)
    offer(service, shops["Velo Bikes"], "2100", clock.now)
    cheap = offer(service, shops["Spoke & Chain"], "1899.99", clock.now)
    page = alice.client.get(f"/member/intents/{intent.id}").get_data(as_text=True)
    assert page.index("Spoke &amp; Chain") < page.index("Velo Bikes")
    assert "1899.99 EUR" in page and "2100.00 EUR" in page
    page = alice.client.get(f"/member/intents/{intent.id}?sort=-price").get_data(as_text=True)
    rows = re.findall(r'<tr id="row-(off_[0-9a-f]{24})">', page)
    assert rows[-1] == cheap.id
    response = alice.client.get(f"/member/intents/{intent.id}?sort=cheapest")
    assert response.status_code == 400
    assert "Sort order: choose one from the list." in response.get_data(as_text=True)
    response = alice.client.get(f"/member/intents/offers/{cheap.id}/signed.jws")
    assert response.status_code == 200 and response.mimetype == "application/jose"
    assert "attachment" in response.headers["Content-Disposition"]
    claims = consent.signer.verify(response.get_data(as_text=True))
    assert claims["price"] == "1899.99" and claims["brand"]["name"] == "Spoke & Chain"


def test_accepting_reveals_the_chosen_field_to_that_brand_only(
        alice, service: IntentService, shops: dict[str, str], consent: Consent,
        clock) -> None:
    cast(alice, service)
    [intent] = service.for_member(alice.id)
    velo, spoke = shops["Velo Bikes"], shops["Spoke & Chain"]
    mine = offer(service, velo, "2100", clock.now)
    theirs = offer(service, spoke, "1899.99", clock.now)
    page = f"/member/intents/{intent.id}"
    refused = alice.auth.post(f"/member/intents/offers/{mine.id}/accept", {"days": "30"},
                              form_page=page)
    assert refused.status_code == 422
    assert "Choose at least one" in " ".join(field_errors(refused.get_data(as_text=True),
                                                          "fields"))
    refused = alice.auth.post(f"/member/intents/offers/{mine.id}/accept",
                              {"fields": "phone", "days": "30"}, form_page=page)
    assert refused.status_code == 422 and consent.grants.for_member(alice.id) == []
    response = alice.auth.post(f"/member/intents/offers/{mine.id}/accept",
                               {"fields": "contact_email", "days": "30"}, form_page=page)
    assert response.status_code == 302
    [grant] = consent.grants.for_member(alice.id)
    assert grant.brand_id == velo and grant.fields == frozenset({"contact_email"})
    assert service.brand_offer(velo, mine.id).fields == ("contact_email",)
    other = service.brand_offer(spoke, theirs.id)
    assert other.status is OfferStatus.DECLINED and other.subject is None
    shown = alice.client.get(page).get_data(as_text=True)
    said = " ".join(flashes(shown))
    assert "You accepted Velo Bikes's offer and revealed your contact e-mail" in said, said
    assert "Fulfilled" in shown
    sharing = alice.client.get("/member/consents").get_data(as_text=True)
    assert grant.id in sharing


def test_declining_and_reporting_close_the_offer_and_the_report_is_queued(
        alice, service: IntentService, shops: dict[str, str], clock) -> None:
    cast(alice, service)
    [intent] = service.for_member(alice.id)
    first = offer(service, shops["Velo Bikes"], "2100", clock.now)
    second = offer(service, shops["Spoke & Chain"], "1999", clock.now)
    page = f"/member/intents/{intent.id}"
    assert alice.auth.post(f"/member/intents/offers/{first.id}/decline",
                           form_page=page).status_code == 302
    assert service.offer(alice.id, first.id).status is OfferStatus.DECLINED
    too_long = alice.auth.post(f"/member/intents/offers/{second.id}/report",
                               {"reason": "x" * 501}, form_page=page)
    assert too_long.status_code == 422
    assert "500" in " ".join(field_errors(too_long.get_data(as_text=True), "reason"))
    assert service.spam_reports() == []
    assert alice.auth.post(f"/member/intents/offers/{second.id}/report",
                           {"reason": "Not a bike at all"}, form_page=page).status_code == 302
    [report] = service.spam_reports()
    assert report.status is ReportStatus.OPEN and report.reason == "Not a bike at all"
    assert service.offer(alice.id, second.id).status is OfferStatus.DECLINED
    again = alice.auth.post(f"/member/intents/offers/{second.id}/report", {"reason": ""},
                            form_page=page)
    assert again.status_code == 409
    # A form error on an offer whose form the page no longer shows: why it cannot be done,
    # not "correct the field marked below" with nothing marked.
    for path, form, says in (
            (f"/member/intents/offers/{second.id}/report", {"reason": "x" * 501},
             "You reported this offer already."),
            (f"/member/intents/offers/{first.id}/accept", {"days": "0"},
             "This offer is no longer open.")):
        refused = alice.auth.post(path, form, form_page=page)
        assert refused.status_code == 409, path
        assert says in refused.get_data(as_text=True)


def test_pausing_withdrawing_and_blocking_take_it_out_of_the_next_listing(
        alice, service: IntentService, shops: dict[str, str], consent: Consent) -> None:
    cast(alice, service)
    [intent] = service.for_member(alice.id)
    velo, spoke = shops["Velo Bikes"], shops["Spoke & Chain"]
    page = f"/member/intents/{intent.id}"
    alice.auth.post(f"{page}/pause", form_page=page)
    assert service.list_for_brand(velo).items == ()
    alice.auth.post(f"{page}/resume", form_page=page)
    assert len(service.list_for_brand(velo).items) == 1
    response = alice.auth.post("/member/intents/blocks", {"brand": velo},
                               form_page="/member/intents")
    assert response.status_code == 302
    assert service.list_for_brand(velo).items == ()
    assert len(service.list_for_brand(spoke).items) == 1
    overview = alice.client.get("/member/intents").get_data(as_text=True)
    assert "Velo Bikes" in overview.split('id="blocked"')[1]
    unknown = alice.auth.post("/member/intents/blocks", {"brand": "brd_nope"},
                              form_page="/member/intents")
    assert unknown.status_code == 422
    alice.auth.post(f"/member/intents/blocks/{velo}/remove", form_page="/member/intents")
    assert len(service.list_for_brand(velo).items) == 1
    assert "Unblocked: that brand sees" in alice.client.get("/member/intents").get_data(
        as_text=True)
    # Again (a second tab), or a brand never blocked: told so, not "Unblocked".
    for brand in (velo, spoke):
        alice.auth.post(f"/member/intents/blocks/{brand}/remove", form_page="/member/intents")
        shown = alice.client.get("/member/intents").get_data(as_text=True)
        assert "You do not block that brand: nothing to undo." in shown
        assert "Unblocked" not in shown
    alice.auth.post(f"{page}/withdraw", form_page=page)
    assert service.list_for_brand(velo).items == () == service.list_for_brand(spoke).items
    assert service.get(alice.id, intent.id).status is IntentStatus.WITHDRAWN
    assert alice.client.get(f"{page}/edit").status_code == 409
    tags = {consent.ledger.entry(n).tag for n in range(consent.ledger.size)}
    assert EventTag.INTENT_BRAND_BLOCKED in tags


def test_editing_checks_as_casting_does_and_brands_see_the_change(
        alice, service: IntentService, shops: dict[str, str], vault: Vault) -> None:
    cast(alice, service)
    [intent] = service.for_member(alice.id)
    page = f"/member/intents/{intent.id}/edit"
    shown = alice.client.get(page).get_data(as_text=True)
    assert "2500.50" in shown and 'value="contact_email" checked' in shown
    before = snapshot(vault, sessions=False)
    refused = alice.auth.post(page, form(service.today(), budget_max="-1"), form_page=page)
    assert refused.status_code == 422 and field_errors(refused.get_data(as_text=True),
                                                        "budget_max")
    assert snapshot(vault, sessions=False) == before
    saved = alice.auth.post(page, form(service.today(), budget_max="3000"), form_page=page)
    assert saved.status_code == 302
    [listed] = service.list_for_brand(shops["Velo Bikes"]).items
    assert listed.budget_max == "3000.00"


def test_nobody_else_reaches_an_intent_or_its_offers(
        alice, bob, service: IntentService, shops: dict[str, str], clock) -> None:
    cast(alice, service)
    [intent] = service.for_member(alice.id)
    made = offer(service, shops["Velo Bikes"], "2100", clock.now)
    for path in (f"/member/intents/{intent.id}", f"/member/intents/{intent.id}/edit",
                 f"/member/intents/offers/{made.id}/signed.jws",
                 "/member/intents/int_nothex", "/member/intents/offers/x/signed.jws"):
        assert bob.client.get(path).status_code == 404, path
    for path in (f"/member/intents/{intent.id}/withdraw",
                 f"/member/intents/offers/{made.id}/accept",
                 f"/member/intents/offers/{made.id}/decline",
                 f"/member/intents/offers/{made.id}/report"):
        response = bob.auth.post(path, {"fields": "contact_email"} if "accept" in path else {},
                                 form_page="/member/intents")
        assert response.status_code == 404, path
    assert service.get(alice.id, intent.id).status is IntentStatus.OPEN
    assert service.offer(alice.id, made.id).status is OfferStatus.OPEN
    anonymous = alice.client.application.test_client()
    response = anonymous.get(f"/member/intents/{intent.id}")
    assert response.status_code == 302 and location_path(response) == "/login"


def test_the_download_holds_the_intents_offers_blocks_and_reports_of_that_member_only(
        alice, bob, service: IntentService, shops: dict[str, str], consent: Consent,
        clock) -> None:
    cast(alice, service)
    [intent] = service.for_member(alice.id)
    made = offer(service, shops["Velo Bikes"], "2100", clock.now)
    service.report_spam(alice.id, made.id, reason="Pushy")
    service.block(alice.id, shops["Sky Trips"])
    document, archive = download(alice)
    [exported] = document["intents"]
    assert exported["id"] == intent.id and exported["budget_max"] == "2500.50"
    assert exported["description"] == "A commuter e-bike with a 500 Wh battery"
    [kept] = exported["offers"]
    assert kept["status"] == "declined" and kept["price"] == "2100.00"
    assert consent.signer.verify(kept["signed_offer"])["offer"] == made.id
    assert document["intent_blocks"] == [{"brand_id": shops["Sky Trips"],
                                          "brand_name": "Sky Trips"}]
    assert [r["reason"] for r in document["intent_spam_reports"]] == ["Pushy"]
    assert intent.id in archive.read("intents.csv").decode()
    theirs, _ = download(bob)
    assert theirs["intents"] == theirs["intent_blocks"] == theirs["intent_spam_reports"] == []
