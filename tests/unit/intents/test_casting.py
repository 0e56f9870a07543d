"""A member's side of intent casting over the real stores: every bad input of a draft is a
per-field error that changes nothing; editing, pausing, resuming and withdrawing; pseudonyms
that link nothing; offers as signed records; spam reports and their decision; observers; the
ledger entries of each step, without personal data."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from consent.context import Consent
from consent.events import EventTag
from intents.model import BrandOffer, Intent, IntentStatus, ListedIntent, OfferStatus
from intents.pseudonyms import IntentPseudonyms
from intents.service import IntentService
from intents.storage import intent_service
from tests.unit.intents.conftest import ListingLogRecorder, draft, ledger_entries, today_of
from vault.errors import ConflictError, NotFoundError, ValidationError
from vault.home import Vault

DAY = 86_400
TOO_LONG = "x" * 1001


def bad_drafts(today: dt.date) -> list[tuple[dict[str, object], str]]:
    """(changes to a good draft, the field the error names): every bad input of the issue."""
    return [
        ({"budget_min": "-1"}, "budget_min"),
        ({"budget_max": "-10"}, "budget_max"),
        ({"budget_min": "900", "budget_max": "100"}, "budget_max"),       # inverted
        ({"budget_min": "1.001"}, "budget_min"),                          # EUR has 2 decimals
        ({"budget_max": "abc"}, "budget_max"),
        ({"budget_max": "10000000000000"}, "budget_max"),                 # over 10^12
        ({"category": "health"}, "category"),
        ({"category": "Bicycles"}, "category"),
        ({"currency": "XYZ"}, "currency"),
        ({"currency": "XAU"}, "currency"),                                # a metal
        ({"window_from": today - dt.timedelta(days=1)}, "window_from"),   # in the past
        ({"window_until": today - dt.timedelta(days=1),
          "window_from": today}, "window_until"),
        ({"window_until": today + dt.timedelta(days=400)}, "window_until"),
        ({"window_from": "31/12/2030"}, "window_from"),
        ({"description": TOO_LONG}, "description"),                       # oversize text
        ({"description": "   "}, "description"),
        ({"description": "bell\x07"}, "description"),
        ({"city": "Hauptstrasse 5"}, "city"),                             # address-like
        ({"city": "10115 Berlin"}, "city"),
        ({"city": "Berlin, Mitte"}, "city"),
        ({"city": "me@example.org"}, "city"),
        ({"city": "x" * 61}, "city"),
        ({"country": "XX"}, "country"),
        ({"region": "FR-75"}, "region"),                                  # not of DE
        ({"country": None, "region": None}, "country"),                   # a city alone
        ({"reveal_fields": ("health_conditions",)}, "reveal_fields"),     # sensitive
        ({"reveal_fields": ("shoe_colour_favourite",)}, "reveal_fields"),
        ({"expires_on": today}, "expires_on"),
        ({"expires_on": today + dt.timedelta(days=181)}, "expires_on"),
    ]


def test_every_bad_draft_is_a_clear_per_field_error_and_changes_nothing(
        intents: IntentService, vault: Vault, consent: Consent, alice: str) -> None:
    today = today_of(vault)
    before = consent.ledger.size
    for changes, field in bad_drafts(today):
        with pytest.raises(ValidationError) as caught:
            intents.cast(alice, draft(today, **changes))
        assert field in caught.value.errors, (changes, caught.value.errors)
        assert all(m and m[0].isupper() for m in caught.value.errors[field])
    assert intents.for_member(alice) == [] and consent.ledger.size == before
    with pytest.raises(ValidationError) as caught:
        intents.cast(alice, draft(today, city="Main Street 1"))
    assert caught.value.errors["city"] == ["Give a city or region, not an address."]


def test_a_bad_edit_changes_nothing_and_a_good_one_is_recorded(
        intents: IntentService, vault: Vault, consent: Consent, alice: str) -> None:
    today = today_of(vault)
    cast = intents.cast(alice, draft(today))
    assert (cast.budget_min, cast.budget_max, cast.status) == (150_000, 250_050,
                                                               IntentStatus.OPEN)
    for changes, field in bad_drafts(today)[:6]:
        with pytest.raises(ValidationError) as caught:
            intents.edit(alice, cast.id, draft(today, **changes))
        assert field in caught.value.errors
    assert intents.get(alice, cast.id) == cast
    vault.clock.advance(10)                                  # type: ignore[attr-defined]
    edited = intents.edit(alice, cast.id, draft(today, description="A cargo bike"))
    assert edited.description == "A cargo bike" and edited.updated_at == cast.updated_at + 10
    changes = [e.details["change"] for e in ledger_entries(consent)
               if e.tag == EventTag.INTENT_INTENT_CHANGED]
    assert changes == ["edited"]


def test_pause_resume_withdraw_move_only_from_their_states(
        intents: IntentService, vault: Vault, consent: Consent, alice: str) -> None:
    cast = intents.cast(alice, draft(today_of(vault)))
    assert intents.pause(alice, cast.id).status is IntentStatus.PAUSED
    with pytest.raises(ConflictError):
        intents.pause(alice, cast.id)
    assert intents.resume(alice, cast.id).status is IntentStatus.OPEN
    assert intents.withdraw(alice, cast.id).status is IntentStatus.WITHDRAWN
    with pytest.raises(ConflictError):
        intents.edit(alice, cast.id, draft(today_of(vault)))
    changes = [e.details["change"] for e in ledger_entries(consent)
               if e.tag == EventTag.INTENT_INTENT_CHANGED]
    assert changes == ["paused", "resumed", "withdrawn"]


def test_a_member_sees_only_their_own_intents_newest_first(
        intents: IntentService, vault: Vault, alice: str) -> None:
    from tests.unit.intents.conftest import new_member
    bob = new_member(vault, "bob@example.org")
    first = intents.cast(alice, draft(today_of(vault), description="first"))
    second = intents.cast(alice, draft(today_of(vault), description="second"))
    theirs = intents.cast(bob, draft(today_of(vault)))
    assert [i.id for i in intents.for_member(alice)] == [second.id, first.id]
    with pytest.raises(NotFoundError):
        intents.get(alice, theirs.id)
    with pytest.raises(NotFoundError):
        intents.withdraw(alice, theirs.id)


def test_the_description_and_city_are_sealed_in_the_store(
        intents: IntentService, vault: Vault, alice: str) -> None:
    intents.cast(alice, draft(today_of(vault), description="Unmistakable zebra tandem"))
    row = vault.data.one("SELECT description, city FROM intents")
    assert b"zebra" not in bytes(row[0]) and b"Berlin" not in bytes(row[1])


def test_pseudonyms_are_deterministic_per_brand_and_intent_and_link_nothing() -> None:
    names = IntentPseudonyms(bytes(range(32)))
    other_vault = IntentPseudonyms(bytes(32))
    one = names.name(1, "brand_a")
    assert names.name(1, "brand_a") == one                   # stable: offers point at it
    assert len({one, names.name(2, "brand_a"), names.name(1, "brand_b"),
                other_vault.name(1, "brand_a")}) == 4
    assert names.open(one, "brand_a") == 1
    assert names.open(one, "brand_b") is None                # another brand's name: nothing
    assert names.open(one[:-1] + ("A" if one[-1] != "A" else "B"), "brand_a") is None
    assert names.open("i-short", "brand_a") is None and names.open("", "brand_a") is None
    # Consecutive intents share no prefix a brand could sort or join on.
    assert one[2:10] != names.name(2, "brand_a")[2:10]


def test_one_intent_across_brands_and_the_pairwise_pseudonym_are_unrelated(
        intents: IntentService, vault: Vault, consent: Consent, brands: dict[str, str],
        alice: str) -> None:
    intents.cast(alice, draft(today_of(vault)))
    velo, spoke = brands["Velo Bikes"], brands["Spoke & Chain"]
    a = intents.list_for_brand(velo).items[0].pseudonym
    b = intents.list_for_brand(spoke).items[0].pseudonym
    pairwise = {consent.brand_subject(alice, velo), consent.brand_subject(alice, spoke)}
    assert a != b and not {a, b} & pairwise
    assert not any(p in a or a[2:] in p for p in pairwise)
    assert intents.listed(velo, a).pseudonym == a


def _b64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def verified(token: str, jwks: dict) -> dict:
    """The claims of a compact JWS checked with the published key set alone (Ed25519 from
    ``cryptography``, not the library that signed it)."""
    header, payload, signature = token.split(".")
    assert json.loads(_b64(header))["alg"] == "EdDSA"
    [key] = [k for k in jwks["keys"] if k["kid"] == json.loads(_b64(header))["kid"]]
    Ed25519PublicKey.from_public_bytes(_b64(key["x"])).verify(
        _b64(signature), f"{header}.{payload}".encode())
    return json.loads(_b64(payload))


def test_a_signed_offer_verifies_with_the_jwks_and_names_what_was_received(
        intents: IntentService, vault: Vault, consent: Consent, brands: dict[str, str],
        alice: str) -> None:
    cast = intents.cast(alice, draft(today_of(vault)))
    velo = brands["Velo Bikes"]
    name = intents.list_for_brand(velo).items[0].pseudonym
    made = intents.make_offer(velo, name, price="1999.5", currency="EUR", terms="Fitted free",
                              message="", valid_until=int(vault.clock()) + DAY)
    assert made.price == "1999.50" and made.intent == name
    token = intents.signed_offer(alice, made.id)
    claims = verified(token, consent.signer.jwks())
    assert claims["offer"] == made.id and claims["intent"] == cast.id
    assert claims["brand"] == {"id": velo, "name": "Velo Bikes"}
    assert (claims["price"], claims["currency"], claims["terms"]) == ("1999.50", "EUR",
                                                                     "Fitted free")
    assert claims["received_at"] == int(vault.clock()) and claims["iss"]
    tampered = token.split(".")
    tampered[1] = base64.urlsafe_b64encode(json.dumps({**claims, "price": "1.00"}).encode()
                                           ).decode().rstrip("=")
    with pytest.raises(InvalidSignature):
        verified(".".join(tampered), consent.signer.jwks())
    with pytest.raises(NotFoundError):
        intents.signed_offer("0" * 32, made.id)


def test_offers_sort_as_the_member_chooses(intents: IntentService, vault: Vault,
                                           brands: dict[str, str], alice: str) -> None:
    cast = intents.cast(alice, draft(today_of(vault)))
    velo, spoke = brands["Velo Bikes"], brands["Spoke & Chain"]
    now = int(vault.clock())
    for brand, price, days in ((velo, "300", 3), (spoke, "100", 9), (velo, "200", 1)):
        name = intents.list_for_brand(brand).items[0].pseudonym
        intents.make_offer(brand, name, price=price, currency="EUR", terms="t", message="",
                           valid_until=now + days * DAY)
        vault.clock.advance(1)                               # type: ignore[attr-defined]

    def prices(sort: str) -> list[int]:
        return [o.price for o in intents.offers(alice, cast.id, sort=sort)]

    assert prices("price") == [10_000, 20_000, 30_000]
    assert prices("-price") == [30_000, 20_000, 10_000]
    assert prices("newest") == [20_000, 10_000, 30_000]
    assert prices("valid_until") == [10_000, 30_000, 20_000]
    with pytest.raises(ValidationError):
        intents.offers(alice, cast.id, sort="cheapest")


def test_a_spam_report_declines_the_offer_and_an_officer_decides_it(
        intents: IntentService, vault: Vault, consent: Consent, brands: dict[str, str],
        alice: str) -> None:
    intents.cast(alice, draft(today_of(vault)))
    velo = brands["Velo Bikes"]
    name = intents.list_for_brand(velo).items[0].pseudonym
    now = int(vault.clock())
    spam, other = (intents.make_offer(velo, name, price=p, currency="EUR", terms="Buy now",
                                      message="", valid_until=now + DAY) for p in ("1", "2"))
    with pytest.raises(ValidationError):
        intents.report_spam(alice, spam.id, reason="r" * 501)
    report = intents.report_spam(alice, spam.id, reason="Not an answer to my intent")
    assert report.reason == "Not an answer to my intent" and report.brand_name == "Velo Bikes"
    assert report.offer_status is OfferStatus.DECLINED
    assert intents.brand_offer(velo, spam.id).status is OfferStatus.DECLINED
    assert intents.count_reports("open") == 1
    assert [r.id for r in intents.spam_reports()] == [report.id]
    officer = vault.members.register("olive@example.org", "correct horse battery staple")
    upheld = intents.decide_report(report.id, officer, outcome="upheld")
    assert (upheld.status, upheld.decided_by) == ("upheld", officer)
    assert intents.brand_offer(velo, other.id).status is OfferStatus.WITHDRAWN
    # The officer by their pseudonym, as in every officer's entry: never the member id.
    decided = ledger_entries(consent)[-2:]
    assert [str(e.tag) for e in decided] == ["intent:offer:withdrawn", "intent:report:decided"]
    assert {e.actor for e in decided} == {consent.principal(officer)}
    assert officer not in json.dumps([[e.actor, e.details] for e in ledger_entries(consent)])
    with pytest.raises(ConflictError):
        intents.decide_report(report.id, officer, outcome="dismissed")
    with pytest.raises(ValidationError):
        intents.decide_report(report.id, officer, outcome="maybe")
    assert intents.count_reports("open") == 0
    assert "Not an answer" not in json.dumps([e.details for e in ledger_entries(consent)])


def test_a_blocked_brand_cannot_offer_and_blocks_are_ledger_entries(
        intents: IntentService, vault: Vault, consent: Consent, brands: dict[str, str],
        alice: str) -> None:
    intents.cast(alice, draft(today_of(vault)))
    velo = brands["Velo Bikes"]
    name = intents.list_for_brand(velo).items[0].pseudonym
    intents.make_offer(velo, name, price="5", currency="EUR", terms="t", message="",
                       valid_until=int(vault.clock()) + DAY)
    assert intents.brands_offering(alice) == [(velo, "Velo Bikes")]
    intents.block(alice, velo)
    with pytest.raises(NotFoundError):
        intents.make_offer(velo, name, price="5", currency="EUR", terms="t", message="",
                           valid_until=int(vault.clock()) + DAY)
    with pytest.raises(NotFoundError):
        intents.listed(velo, name)
    intents.unblock(alice, velo)
    tags = [e.tag for e in ledger_entries(consent)]
    assert EventTag.INTENT_BRAND_BLOCKED in tags and EventTag.INTENT_BRAND_UNBLOCKED in tags


def test_an_intent_cast_after_an_erasure_never_takes_the_erased_intents_name(
        intents: IntentService, vault: Vault, brands: dict[str, str], alice: str) -> None:
    from tests.unit.intents.conftest import new_member
    bob = new_member(vault, "bob@example.org")
    intents.cast(alice, draft(today_of(vault)))
    intents.cast(bob, draft(today_of(vault)))                # the newest intent of all
    seeing = (brands["Velo Bikes"], brands["Spoke & Chain"])
    erased = {brand: intents.list_for_brand(brand).items[0].pseudonym for brand in seeing}
    vault.erasure.erase(bob)
    carol = new_member(vault, "carol@example.org")
    intents.cast(carol, draft(today_of(vault)))
    for brand in seeing:
        newest = intents.list_for_brand(brand).items[0].pseudonym
        assert newest != erased[brand]
        with pytest.raises(NotFoundError):                   # the erased name opens nothing
            intents.listed(brand, erased[brand])


class Recorder:
    def __init__(self) -> None:
        self.published: list[tuple[Intent, ListedIntent]] = []
        self.decided: list[tuple[str, OfferStatus]] = []
        self.brand = ""

    def intent_published(self, intent: Intent,
                         listed_to: Callable[[str], ListedIntent]) -> None:
        self.published.append((intent, listed_to(self.brand)))

    def offer_decided(self, offer: BrandOffer, brand_id: str) -> None:
        self.decided.append((brand_id, offer.status))


def test_observers_hear_of_publication_and_of_each_decision(
        consent: Consent, vault: Vault, brands: dict[str, str], alice: str,
        listing_log: ListingLogRecorder) -> None:
    recorder = Recorder()
    recorder.brand = brands["Velo Bikes"]
    service = intent_service(consent, observers=[recorder], listing_log=listing_log)
    cast = service.cast(alice, draft(today_of(vault)))
    [(told, seen)] = recorder.published
    assert told.id == cast.id and seen.pseudonym == service.list_for_brand(
        recorder.brand).items[0].pseudonym
    now = int(vault.clock())
    made = [service.make_offer(recorder.brand, seen.pseudonym, price=p, currency="EUR",
                               terms="t", message="", valid_until=now + 3600)
            for p in ("1", "2")]
    service.decline(alice, made[0].id)
    service.pause(alice, cast.id)                            # no publication on a resume
    service.resume(alice, cast.id)
    vault.clock.advance(3601)                                # type: ignore[attr-defined]
    service.expire()
    assert recorder.decided == [(recorder.brand, OfferStatus.DECLINED),
                                (recorder.brand, OfferStatus.EXPIRED)]
    assert len(recorder.published) == 1


def test_an_observer_is_refused_the_intent_for_a_brand_the_member_blocked(
        consent: Consent, vault: Vault, brands: dict[str, str], alice: str,
        listing_log: ListingLogRecorder) -> None:
    velo, spoke, sky = brands["Velo Bikes"], brands["Spoke & Chain"], brands["Sky Trips"]
    shown: dict[str, ListedIntent | None] = {}

    class Asker(Recorder):
        def intent_published(self, intent: Intent,
                             listed_to: Callable[[str], ListedIntent]) -> None:
            for brand_id in (velo, spoke, sky):
                try:
                    shown[brand_id] = listed_to(brand_id)
                except NotFoundError:
                    shown[brand_id] = None

    service = intent_service(consent, observers=[Asker()], listing_log=listing_log)
    service.block(alice, velo)
    service.cast(alice, draft(today_of(vault)))
    assert shown[velo] is None and shown[sky] is None      # blocked; another category
    seen = shown[spoke]
    assert seen is not None and seen.pseudonym == service.list_for_brand(spoke).items[0].pseudonym


def test_every_offer_and_publication_is_in_the_ledger_without_text(
        intents: IntentService, vault: Vault, consent: Consent, brands: dict[str, str],
        alice: str, listing_log: ListingLogRecorder) -> None:
    cast = intents.cast(alice, draft(today_of(vault), description="Secret gravel bike"))
    velo = brands["Velo Bikes"]
    name = intents.list_for_brand(velo).items[0].pseudonym
    made = intents.make_offer(velo, name, price="5", currency="EUR", terms="Secret terms",
                              message="Secret message", valid_until=int(vault.clock()) + DAY)
    intents.accept(alice, made.id, fields=["contact_email"])
    entries = ledger_entries(consent)
    published = [e for e in entries if e.tag == EventTag.INTENT_INTENT_PUBLISHED]
    assert [e.details for e in published] == [{"intent": cast.id, "category": "bicycles"}]
    [accepted] = [e for e in entries if e.tag == EventTag.INTENT_OFFER_ACCEPTED]
    assert accepted.details["offer"] == made.id and accepted.details["grant"]
    logged = [d.as_details() for d, _, _ in listing_log.entries]
    assert {"offer": made.id, "intent": cast.id, "brand": velo} in logged
    text = json.dumps([e.details for e in entries]) + json.dumps(logged)
    assert "Secret" not in text and "Berlin" not in text
