"""The keeper's pass (web/keeper.py), what ``vrmvault serve`` runs every 0.25 s: spooled reads
merged, a checkpoint signed on the clock once the tree grew, intents and offers recorded as
expired once due (with their ledger entries and ``offer.expired`` webhooks)."""

from __future__ import annotations

import contextlib
import datetime as dt
import json

from brand_gateway.intents_wiring import intent_service
from brand_gateway.storage import webhook_registry
from consent.context import Consent, open_ledger
from consent.events import Event, EventTag
from consent.spool import SpoolDirectory
from intents.model import IntentDraft, IntentStatus, OfferStatus
from tests.brand_api_support import CALLBACK, BrandApi
from tests.conftest import GOOD_PASSWORD
from vault.clock import FrozenClock
from vault.home import Vault, VaultHome
from web.keeper import Keeper

DAY = 86_400


def spool_read(home: VaultHome, number: int) -> None:
    writer = SpoolDirectory(home, home.master_key({})).writer()
    writer.append(Event(EventTag.ACCESS_PROFILE_READ, "brand:brand_1",
                        {"member": "member:" + "b" * 32, "number": number}), at=1_800_000_000)
    writer.close()


def test_a_pass_signs_a_checkpoint_when_the_tree_grew_and_the_last_is_old(
        vault_home: VaultHome, vault: Vault) -> None:
    clock = FrozenClock()
    master = vault_home.master_key({})
    with open_ledger(vault_home, master, clock=clock) as ledger:
        keeper = Keeper(vault_home, master, ledger, checkpoint_interval=60, clock=clock)
        try:
            spool_read(vault_home, 0)
            keeper.one_pass()                    # merged, and the first checkpoint signed
            first = ledger.latest_checkpoint()
            assert first is not None and first.tree_size == 1
            assert ledger.prove_entry(0).entry.details["number"] == 0

            spool_read(vault_home, 1)
            clock.advance(59)
            keeper.one_pass()                    # merged; the last checkpoint is 59 s old
            assert ledger.latest_checkpoint() == first
            clock.advance(1)
            keeper.one_pass()                    # 60 s: due
            latest = ledger.latest_checkpoint()
            assert latest is not None and latest.tree_size == 3
            assert ledger.prove_entry(2).entry.details["number"] == 1   # the read is provable

            clock.advance(3600)
            keeper.one_pass()                    # nothing new: no checkpoint, no entry
            assert ledger.latest_checkpoint() == latest and ledger.size == 4
        finally:
            keeper.close()
    assert vault.erasure.pending() == []


def test_an_erasure_that_fails_holds_up_no_checkpoint(vault_home: VaultHome, vault: Vault,
                                                      monkeypatch) -> None:
    clock = FrozenClock()
    master = vault_home.master_key({})
    member_id = vault.members.register("erin@example.org", GOOD_PASSWORD)
    vault.erasure.begin(member_id)

    def broken(*args, **kwargs):
        raise RuntimeError("the data store is unwell")

    monkeypatch.setattr("web.keeper.finish_pending_erasures", broken)
    with open_ledger(vault_home, master, clock=clock) as ledger:
        spool_read(vault_home, 0)
        keeper = Keeper(vault_home, master, ledger, checkpoint_interval=60, clock=clock)
        try:
            with contextlib.suppress(RuntimeError):  # the loop reports it and goes on
                keeper.one_pass()
            assert ledger.latest_checkpoint() is not None       # signed all the same
            monkeypatch.undo()
            keeper.one_pass()                      # the next pass finishes the erasure
        finally:
            keeper.close()
    assert vault.erasure.pending() == []
    assert vault.data.one("SELECT count(*) FROM members WHERE id = ?", (member_id,))[0] == 0


def bike_intent(today: dt.date, expires_on: dt.date) -> IntentDraft:
    return IntentDraft(category="bicycles", description="A cargo bike for two children.",
                       budget_min="1500", budget_max="3000", currency="EUR",
                       window_from=today, window_until=today + dt.timedelta(days=60),
                       country="DE", reveal_fields=("contact_email",), expires_on=expires_on)


def test_a_pass_expires_the_intents_and_offers_that_are_due_and_tells_the_brand(
        vault_home: VaultHome, vault: Vault, consent: Consent, clock: FrozenClock) -> None:
    api = BrandApi(vault, consent)
    velo, _ = api.clients.create("Velo Bikes", [CALLBACK], ["bicycles"])
    webhook_registry(database=vault.data, clock=clock).add(
        velo.client_id, "https://velo.example/hooks")
    alice = vault.members.register("alice@example.org", GOOD_PASSWORD)
    intents = intent_service(consent)
    today = dt.datetime.fromtimestamp(clock(), dt.UTC).date()
    listed: dict[str, str] = {}
    made = {}
    for name, open_days, valid_days in (("short", 2, 7), ("long", 30, 1)):
        cast = intents.cast(alice, bike_intent(today, today + dt.timedelta(days=open_days)))
        [shown] = [i for i in intents.list_for_brand(velo.brand_id).items
                   if i.pseudonym not in listed.values()]
        listed[name] = shown.pseudonym
        made[name] = cast, intents.make_offer(
            velo.brand_id, shown.pseudonym, price="2000", currency="EUR",
            terms="Fitted, two years' warranty.", message="",
            valid_until=int(clock()) + valid_days * DAY)
    (short, on_short), (long, on_long) = made["short"], made["long"]

    def expired() -> dict[str, list[str]]:
        entries = [consent.ledger.entry(n) for n in range(consent.ledger.size)]
        webhooks = vault.data.all("SELECT payload FROM webhook_outbox"
                                  " WHERE event_type = 'offer.expired' ORDER BY id")
        return {"intents": [e.details["intent"] for e in entries
                            if e.tag is EventTag.INTENT_INTENT_CHANGED
                            and e.details["change"] == "expired"],
                "offers": [e.details["offer"] for e in entries
                           if e.tag is EventTag.INTENT_OFFER_EXPIRED],
                "webhooks": [json.loads(r["payload"])["data"]["offer"] for r in webhooks]}

    master = vault_home.master_key({})
    with open_ledger(vault_home, master, clock=clock) as ledger:
        keeper = Keeper(vault_home, master, ledger, checkpoint_interval=60, clock=clock)
        try:
            keeper.one_pass()                           # nothing due: nothing recorded
            assert expired() == {"intents": [], "offers": [], "webhooks": []}
            clock.advance(DAY)                          # the offer on the long one is due
            keeper.one_pass()
            assert expired() == {"intents": [], "offers": [on_long.id],
                                 "webhooks": [on_long.id]}
            assert intents.get(alice, long.id).status is IntentStatus.OPEN
            clock.advance(2 * DAY)                      # the short intent is past its expiry
            keeper.one_pass()
            assert expired() == {"intents": [short.id], "offers": [on_long.id, on_short.id],
                                 "webhooks": [on_long.id, on_short.id]}
            keeper.one_pass()                           # recorded once only
            assert len(expired()["offers"]) == 2
        finally:
            keeper.close()
    assert intents.get(alice, short.id).status is IntentStatus.EXPIRED
    assert intents.offer(alice, on_short.id).status is OfferStatus.EXPIRED
    assert [i.pseudonym for i in intents.list_for_brand(velo.brand_id).items] == [listed["long"]]


def test_a_pass_deletes_access_tokens_expired_an_hour_and_keeps_the_rest(
        vault_home: VaultHome, vault: Vault, consent: Consent, clock: FrozenClock) -> None:
    """Each client credentials exchange is a row: kept for ever, one brand's minting grew the
    data store without end. Every ten minutes a pass deletes those expired an hour ago."""
    api = BrandApi(vault, consent)
    velo = api.brand()
    old = [api.brand_token(velo) for _ in range(3)]
    clock.advance(600 + 3_700)                           # expired over an hour ago
    fresh = api.brand_token(velo)
    count = "SELECT count(*) FROM oauth_access_tokens"
    master = vault_home.master_key({})
    with open_ledger(vault_home, master, clock=clock) as ledger:
        keeper = Keeper(vault_home, master, ledger, checkpoint_interval=60, clock=clock)
        try:
            keeper.one_pass()
            assert vault.data.one(count)[0] == 1
            assert [api.tokens.find(token) for token in old] == [None] * 3
            found = api.tokens.find(fresh)
            assert found is not None and found.active
            clock.advance(600 + 3_000)                   # expired, not an hour ago
            keeper.one_pass()
            assert vault.data.one(count)[0] == 1
            clock.advance(660)                           # past an hour now, and ten minutes
            keeper.one_pass()
            assert vault.data.one(count)[0] == 0
        finally:
            keeper.close()
