"""A brand's side of intent casting over the real stores: listing under per-intent pseudonyms,
filters and cursors, offers and their limits, what a brand learns of an accepted, declined or
expired offer, and the ledger entries of each step."""

from __future__ import annotations

import base64
import datetime as dt

import pytest

from consent.context import Consent
from consent.events import EventTag
from intents.errors import LimitExceededError
from intents.model import IntentStatus, OfferStatus
from intents.service import IntentService
from tests.unit.intents.conftest import (
    ListingLogRecorder,
    draft,
    ledger_entries,
    new_member,
    today_of,
)
from vault.errors import ConflictError, NotFoundError, ValidationError
from vault.home import Vault, VaultHome

DAY = 86_400
HOUR = 3600


def offer(intents: IntentService, brand_id: str, pseudonym: str, vault: Vault, price: str = "1999",
          **changes: object):
    values: dict[str, object] = dict(price=price, currency="EUR", terms="Delivered in a week",
                                     message="We have it in stock",
                                     valid_until=int(vault.clock()) + 7 * DAY)
    values.update(changes)
    return intents.make_offer(brand_id, pseudonym, **values)  # type: ignore[arg-type]


def test_two_brands_of_the_category_see_one_intent_under_unrelated_names_and_another_does_not(
        intents: IntentService, vault: Vault, consent: Consent, brands: dict[str, str],
        alice: str) -> None:
    cast = intents.cast(alice, draft(today_of(vault)))
    velo = intents.list_for_brand(brands["Velo Bikes"]).items
    spoke = intents.list_for_brand(brands["Spoke & Chain"]).items
    assert [i.description for i in velo] == [cast.description]
    assert len(spoke) == 1 and spoke[0].pseudonym != velo[0].pseudonym
    assert intents.list_for_brand(brands["Sky Trips"]).items == ()
    names = {velo[0].pseudonym, spoke[0].pseudonym}
    assert cast.id not in names and consent.brand_subject(alice, brands["Velo Bikes"]) \
        not in names
    listed = velo[0]
    assert (listed.budget_min, listed.budget_max, listed.currency) == ("1500.00", "2500.50",
                                                                       "EUR")
    assert (listed.country, listed.region, listed.city) == ("DE", "DE-BE", "Berlin")
    # A name given to one brand does not open for another.
    with pytest.raises(NotFoundError):
        intents.listed(brands["Spoke & Chain"], listed.pseudonym)
    with pytest.raises(NotFoundError):
        intents.listed(brands["Sky Trips"], spoke[0].pseudonym)


def test_two_intents_of_one_member_are_not_linkable(intents: IntentService, vault: Vault,
                                                   brands: dict[str, str], alice: str) -> None:
    intents.cast(alice, draft(today_of(vault)))
    intents.cast(alice, draft(today_of(vault), description="A cargo bike"))
    names = [i.pseudonym for i in intents.list_for_brand(brands["Velo Bikes"]).items]
    assert len(set(names)) == 2
    assert all(len(n) == 34 and n.startswith("i-") for n in names)
    assert names[0][:8] != names[1][:8]


def test_each_intent_shown_to_a_brand_is_a_ledger_entry_naming_the_member_only_by_principal(
        intents: IntentService, vault: Vault, consent: Consent, brands: dict[str, str],
        alice: str, listing_log: ListingLogRecorder) -> None:
    cast = intents.cast(alice, draft(today_of(vault)))
    intents.list_for_brand(brands["Velo Bikes"])
    details, actor, _ = listing_log.entries[-1]
    assert str(details.TAG) == "intent:listing:returned"
    assert actor == "brand:" + brands["Velo Bikes"]
    assert details.as_details() == {"member": consent.principal(alice),
                                    "brand": brands["Velo Bikes"], "intent": cast.id,
                                    "via": "api"}
    published = [e for e in ledger_entries(consent) if e.tag == EventTag.INTENT_INTENT_PUBLISHED]
    assert published and "Berlin" not in str(published[-1].details)


def test_filters_budget_window_region_and_category(intents: IntentService, vault: Vault,
                                                   brands: dict[str, str], alice: str) -> None:
    today = today_of(vault)
    intents.cast(alice, draft(today))                                     # 1500-2500.50 EUR
    intents.cast(alice, draft(today, budget_min="100", budget_max="300", region=None,
                              country="FR", city=None))
    intents.cast(alice, draft(today, category="outdoor", currency="USD", budget_min="50",
                              budget_max="80"))
    spoke = brands["Spoke & Chain"]

    def count(**filters: object) -> int:
        return len(intents.list_for_brand(spoke, **filters).items)  # type: ignore[arg-type]

    assert count() == 3
    assert count(category="outdoor") == 1
    assert count(currency="EUR", budget_min="1000") == 1
    assert count(currency="EUR", budget_max="200") == 1
    assert count(currency="USD") == 1
    assert count(region="DE") == 2 and count(region="DE-BE") == 2 and count(region="FR") == 1
    assert count(window_from=today + dt.timedelta(days=41)) == 0
    assert count(window_until=today + dt.timedelta(days=1)) == 3
    for bad, field in (({"category": "travel"}, "category"), ({"category": "nope"}, "category"),
                       ({"budget_min": "5"}, "currency"), ({"currency": "EUR",
                                                            "budget_min": "-5"}, "budget_min"),
                       ({"currency": "XYZ"}, "currency"), ({"region": "Main Street"}, "region"),
                       ({"limit": 0}, "limit")):
        with pytest.raises(ValidationError) as caught:
            count(**bad)
        assert field in caught.value.errors


def test_pages_follow_a_signed_cursor_bound_to_its_filters(
        intents: IntentService, vault: Vault, brands: dict[str, str], alice: str) -> None:
    cast = [intents.cast(alice, draft(today_of(vault), description=f"bike {n}"))
            for n in range(5)]
    velo = brands["Velo Bikes"]
    first = intents.list_for_brand(velo, limit=2)
    assert [i.description for i in first.items] == ["bike 4", "bike 3"]
    second = intents.list_for_brand(velo, limit=2, cursor=first.next_cursor)
    third = intents.list_for_brand(velo, limit=2, cursor=second.next_cursor)
    assert [i.description for i in second.items + third.items] == ["bike 2", "bike 1",
                                                                  "bike 0"]
    assert third.next_cursor is None and len(cast) == 5
    assert first.next_cursor is not None
    for wrong in (first.next_cursor[:-2] + "AA", "x" * 32, "!"):
        with pytest.raises(ValidationError):
            intents.list_for_brand(velo, limit=2, cursor=wrong)
    with pytest.raises(ValidationError):       # the same cursor with other filters
        intents.list_for_brand(velo, limit=2, cursor=first.next_cursor, currency="EUR")
    with pytest.raises(ValidationError):       # another brand's cursor
        intents.list_for_brand(brands["Spoke & Chain"], limit=2, cursor=first.next_cursor)


def test_a_cursor_is_opaque_and_opens_only_for_the_brand_it_was_given_to(
        intents: IntentService, vault: Vault, brands: dict[str, str], alice: str) -> None:
    for n in range(3):
        intents.cast(alice, draft(today_of(vault), description=f"bike {n}"))
    nums = [row[0] for row in vault.data.all("SELECT num FROM intents")]
    velo, spoke = brands["Velo Bikes"], brands["Spoke & Chain"]

    def cursor(brand: str, after: str | None = None) -> str:
        found = intents.list_for_brand(brand, category="bicycles", limit=1,
                                       cursor=after).next_cursor
        assert found is not None
        return found

    # One position, the same filters, two brands: two unrelated cursors.
    first = {brand: cursor(brand) for brand in (velo, spoke)}
    assert first[velo] != first[spoke]
    later = cursor(velo, first[velo])
    raw = [base64.urlsafe_b64decode(c + "==") for c in (*first.values(), later)]
    for sealed in raw:                       # no row number in it, plain, anywhere
        assert not any(num.to_bytes(8, "big") in sealed for num in nums)
    assert raw[0][:8] != raw[2][:8]          # the next position shares no prefix with it
    # Another brand's cursor, or one altered anywhere, is refused as a bad cursor.
    tampered = [first[velo][:n] + ("A" if first[velo][n] != "A" else "B") + first[velo][n + 1:]
                for n in (0, 15, 31)]
    for brand, wrong in ((spoke, first[velo]), (velo, first[spoke]),
                         *((velo, t) for t in tampered)):
        with pytest.raises(ValidationError) as caught:
            intents.list_for_brand(brand, category="bicycles", limit=1, cursor=wrong)
        assert list(caught.value.errors) == ["cursor"]


def test_expiry_withdrawal_pausing_and_blocking_take_effect_on_the_next_call(
        intents: IntentService, vault: Vault, brands: dict[str, str], alice: str) -> None:
    today = today_of(vault)
    velo = brands["Velo Bikes"]
    cast = intents.cast(alice, draft(today, expires_on=today + dt.timedelta(days=2)))
    assert len(intents.list_for_brand(velo).items) == 1
    intents.pause(alice, cast.id)
    assert intents.list_for_brand(velo).items == ()
    intents.resume(alice, cast.id)
    intents.block(alice, velo)
    assert intents.list_for_brand(velo).items == ()
    assert len(intents.list_for_brand(brands["Spoke & Chain"]).items) == 1
    assert intents.blocked(alice) == [(velo, "Velo Bikes")]
    intents.unblock(alice, velo)
    assert len(intents.list_for_brand(velo).items) == 1
    vault.clock.advance(3 * DAY)                       # type: ignore[attr-defined]
    assert intents.list_for_brand(velo).items == ()    # before the keeper ran
    assert intents.expire() == 1
    assert intents.get(alice, cast.id).status is IntentStatus.EXPIRED
    other = intents.cast(alice, draft(today_of(vault)))
    intents.withdraw(alice, other.id)
    assert intents.list_for_brand(velo).items == ()
    with pytest.raises(ConflictError):
        intents.resume(alice, other.id)


def test_accepting_reveals_only_the_chosen_fields_to_that_brand_and_the_other_learns_nothing(
        intents: IntentService, vault: Vault, consent: Consent, brands: dict[str, str],
        alice: str) -> None:
    intents.cast(alice, draft(today_of(vault)))
    velo, spoke = brands["Velo Bikes"], brands["Spoke & Chain"]
    mine = offer(intents, velo, intents.list_for_brand(velo).items[0].pseudonym, vault)
    theirs = offer(intents, spoke, intents.list_for_brand(spoke).items[0].pseudonym, vault,
                   price="1899.99")
    assert mine.status is OfferStatus.OPEN and mine.subject is None
    member_view = intents.offers(alice, intents.for_member(alice)[0].id)
    assert [o.brand_name for o in member_view] == ["Spoke & Chain", "Velo Bikes"]
    assert consent.signer.verify(member_view[1].signed)["terms"] == "Delivered in a week"
    with pytest.raises(ValidationError):                     # a field the intent did not allow
        intents.accept(alice, mine.id, fields=["phone"])
    accepted, grant, receipt = intents.accept(alice, mine.id, fields=["contact_email"])
    assert accepted.status is OfferStatus.ACCEPTED and grant.brand_id == velo
    assert grant.fields == frozenset({"contact_email"}) and receipt.grant_id == grant.id
    now = vault.clock()
    assert consent.decisions.decide(velo, grant.purpose, alice, "contact_email", "individual",
                                    now)
    assert not consent.decisions.decide(velo, grant.purpose, alice, "given_name",
                                        "individual", now)
    assert not consent.decisions.decide(spoke, grant.purpose, alice, "contact_email",
                                        "individual", now)
    seen = intents.brand_offer(velo, mine.id)
    assert seen.subject == consent.brand_subject(alice, velo)
    assert seen.fields == ("contact_email",) and seen.grant_id == grant.id
    assert intents.revealed(velo, mine.id) == (alice, grant)
    other = intents.brand_offer(spoke, theirs.id)
    assert other.status is OfferStatus.DECLINED
    assert (other.subject, other.grant_id, other.fields) == (None, None, ())
    with pytest.raises(NotFoundError):
        intents.revealed(spoke, theirs.id)
    with pytest.raises(NotFoundError):                      # not its offer
        intents.brand_offer(spoke, mine.id)
    assert intents.for_member(alice)[0].status is IntentStatus.FULFILLED
    assert consent.agreements.in_force(alice, velo).agreed == "PDC-INTENT"
    assert consent.agreements.in_force(alice, spoke) is None
    tags = [e.tag for e in ledger_entries(consent)]
    for tag in (EventTag.INTENT_OFFER_ACCEPTED, EventTag.CONSENT_GRANT_GIVEN,
                EventTag.INTENT_OFFER_DECLINED):
        assert tag in tags


@pytest.mark.parametrize("countered", [False, True], ids=["proffered", "countered"])
def test_accepting_supersedes_a_negotiation_still_waiting_with_that_brand(
        intents: IntentService, vault: Vault, consent: Consent, brands: dict[str, str],
        alice: str, countered: bool) -> None:
    velo = brands["Velo Bikes"]
    waiting = consent.agreements.proffer(alice, velo, term="SD-BASE")
    if countered:
        consent.agreements.brand_counters(waiting.id, velo, "SD-BASE-A")
    intents.cast(alice, draft(today_of(vault)))
    made = offer(intents, velo, intents.list_for_brand(velo).items[0].pseudonym, vault)
    accepted, grant, _ = intents.accept(alice, made.id, fields=["contact_email"])
    assert accepted.status is OfferStatus.ACCEPTED and grant.brand_id == velo
    assert consent.agreements.in_force(alice, velo).agreed == "PDC-INTENT"
    assert consent.agreements.open_offer(alice, velo) is None
    ended = consent.agreements.get(waiting.id)
    assert str(ended.status) == ("rejected" if countered else "withdrawn")
    tags = [e.tag for e in ledger_entries(consent)]
    assert (EventTag.CONSENT_AGREEMENT_REJECTED if countered
            else EventTag.CONSENT_AGREEMENT_WITHDRAWN) in tags


def test_offers_are_checked_and_limited_per_intent_and_per_day(
        intents: IntentService, vault: Vault, brands: dict[str, str]) -> None:
    velo = brands["Velo Bikes"]
    members = [new_member(vault, f"m{n}@example.org") for n in range(4)]
    for member in members:
        intents.cast(member, draft(today_of(vault)))
    names = [i.pseudonym for i in intents.list_for_brand(velo).items]
    now = int(vault.clock())
    for bad, field in (({"price": "-1"}, "price"), ({"price": "0"}, "price"),
                       ({"price": "1.001"}, "price"), ({"currency": "USD"}, "currency"),
                       ({"terms": ""}, "terms"), ({"terms": "x" * 2001}, "terms"),
                       ({"message": "y" * 1001}, "message"), ({"valid_until": now - 1},
                                                              "valid_until"),
                       ({"valid_until": now + 2}, "valid_until"),
                       ({"valid_until": now + HOUR - 1}, "valid_until"),
                       ({"valid_until": now + 91 * DAY}, "valid_until")):
        with pytest.raises(ValidationError) as caught:
            offer(intents, velo, names[0], vault, **bad)
        assert field in caught.value.errors
        if field == "valid_until":
            assert caught.value.errors[field] == ["At least 1 hour and at most 90 days ahead."]
    offer(intents, velo, names[0], vault)
    offer(intents, velo, names[0], vault)
    with pytest.raises(LimitExceededError) as per_intent:
        offer(intents, velo, names[0], vault)
    assert per_intent.value.status == 429 and per_intent.value.retry_after > 0
    offer(intents, velo, names[1], vault)
    offer(intents, velo, names[2], vault)
    offer(intents, velo, names[3], vault)
    with pytest.raises(LimitExceededError) as per_day:
        offer(intents, velo, names[3], vault)
    assert "a day" in str(per_day.value)
    assert len(intents.brand_offers(velo)) == 5


def test_declined_and_expired_offers_say_only_that(intents: IntentService, vault: Vault,
                                                   brands: dict[str, str], alice: str) -> None:
    intents.cast(alice, draft(today_of(vault)))
    velo = brands["Velo Bikes"]
    name = intents.list_for_brand(velo).items[0].pseudonym
    declined = offer(intents, velo, name, vault)
    expiring = offer(intents, velo, name, vault, valid_until=int(vault.clock()) + HOUR)
    intents.decline(alice, declined.id)
    vault.clock.advance(HOUR + 1)                      # type: ignore[attr-defined]
    assert intents.expire() == 1
    for offer_id, status in ((declined.id, OfferStatus.DECLINED),
                             (expiring.id, OfferStatus.EXPIRED)):
        seen = intents.brand_offer(velo, offer_id)
        assert seen.status is status and seen.subject is None and seen.fields == ()
    with pytest.raises(ConflictError):
        intents.accept(alice, expiring.id, fields=["contact_email"])


def test_with_nothing_due_expiring_leaves_the_write_lock_to_others(
        intents: IntentService, vault: Vault, vault_home: VaultHome, alice: str) -> None:
    """The keeper asks on every pass (web/keeper.py): a worker holding the write lock then
    must not hold it up, nor be held up by it."""
    intents.cast(alice, draft(today_of(vault)))
    worker = vault_home.open()
    try:
        with worker.data.transaction():
            assert intents.expire() == 0
    finally:
        worker.close()
