"""demo.intents: open intents in every category of the catalog, offers from the demo brands of
the category, and the showcase member's intents with offers to compare; all of it through the
intent service, so it is sealed and in the ledger like real use."""

from __future__ import annotations

from collections import Counter

from brand_gateway.intents_wiring import intent_service
from consent.context import Consent
from consent.events import EventTag
from demo.intents import SHOWCASE_INTENTS, load_intent_demo
from demo.members import SHOWCASE_EMAIL, load_demo
from intents.catalog import CATEGORIES
from intents.model import IntentStatus, OfferStatus


def test_every_category_has_open_intents_and_the_showcase_member_has_offers_to_compare(
        consent: Consent) -> None:
    vault = consent.vault
    load_demo(vault, members=40)
    report = load_intent_demo(consent)
    open_by_category = Counter(row["category"] for row in vault.data.all(
        "SELECT category FROM intents WHERE status = 'open'"))
    assert set(open_by_category) == {c.id for c in CATEGORIES}
    assert report.intents == sum(open_by_category.values()) and report.categories == 50
    offers = vault.data.one("SELECT count(*) FROM intent_offers WHERE status = 'open'")[0]
    assert report.offers == offers > report.showcase_offers

    service = intent_service(consent)
    showcase = vault.members.find(SHOWCASE_EMAIL)
    assert showcase is not None
    mine = service.for_member(showcase)
    assert sorted(i.category for i in mine) == sorted(s[0] for s in SHOWCASE_INTENTS)
    assert all(i.status is IntentStatus.OPEN and "contact_email" in i.reveal_fields
               for i in mine)
    compared = {i.category: service.offers(showcase, i.id) for i in mine}
    assert [o.brand_name for o in compared["bicycles"]] == ["Spokesmith Cycles"] * 2
    assert [o.brand_name for o in compared["travel"]] == ["Skylark Airways"] * 2
    assert compared["courses"] == []                    # no demo brand sells courses
    assert all(o.status is OfferStatus.OPEN and o.currency == "EUR"
               for o in compared["bicycles"] + compared["travel"])
    assert report.showcase_intents == 3 and report.showcase_offers == 4

    # A demo brand lists intents of its categories; the newest are unanswered (the README's
    # walkthrough offers on the newest), older ones carry its offers.
    spokesmith = next(b for b in vault.brands.all() if b.name == "Spokesmith Cycles")
    listed = service.list_for_brand(spokesmith.id, limit=100).items
    assert {i.category for i in listed} == {"bicycles", "sports"}
    assert listed[0].your_offers == listed[1].your_offers == 0
    assert sum(i.your_offers for i in listed) >= 2

    # Sealed under the member's key, and in the ledger as real use is.
    stored = vault.data.one("SELECT description FROM intents WHERE member_num ="
                            " (SELECT num FROM members WHERE id = ?) LIMIT 1", (showcase,))[0]
    assert b"cargo" not in bytes(stored)
    tags = Counter(consent.ledger.entry(n).tag for n in range(consent.ledger.size))
    assert tags[EventTag.INTENT_INTENT_PUBLISHED] == report.intents
    assert tags[EventTag.INTENT_OFFER_RECEIVED] == report.offers


def test_a_store_of_the_showcase_member_alone_gets_their_intents_only(consent: Consent) -> None:
    load_demo(consent.vault, members=1)
    report = load_intent_demo(consent)
    assert (report.intents, report.offers) == (3, 4)
