"""A store that was not restored is left as it is by intent casting's reapplication
(intents/after_restore.py): every change it makes again is one the store already shows."""

from __future__ import annotations

from consent.context import Consent
from intents.after_restore import EDIT_SLACK, RestoredIntents
from intents.model import IntentStatus
from intents.service import IntentService
from intents.storage import intent_restorer
from vault.home import Vault

from .conftest import draft, new_member, today_of
from .test_market import offer

NOTHING = RestoredIntents(intents=0, edited=0, blocks=0, offers=0, reports=0)


def test_a_store_that_was_not_restored_is_left_as_it_is(
        intents: IntentService, vault: Vault, consent: Consent, brands: dict[str, str],
        alice: str) -> None:
    velo, spoke = brands["Velo Bikes"], brands["Spoke & Chain"]
    bob = new_member(vault, "bob@example.org")
    kept, withdrawn, paused, resumed = (intents.cast(alice, draft(today_of(vault))).id
                                        for _ in range(4))
    pseudonyms = [item.pseudonym for item in intents.list_for_brand(velo).items]
    made = [offer(intents, velo, pseudonym, vault) for pseudonym in pseudonyms[:2]]
    intents.withdraw_offer(velo, made[0].id)
    intents.decline(alice, made[1].id)
    spam = offer(intents, spoke, intents.list_for_brand(spoke).items[0].pseudonym, vault)
    report = intents.report_spam(alice, spam.id, reason="Not an answer")
    intents.decide_report(report.id, bob, outcome="dismissed")
    intents.withdraw(alice, withdrawn)
    intents.pause(alice, paused)
    intents.pause(alice, resumed)
    intents.resume(alice, resumed)
    intents.edit(alice, kept, draft(today_of(vault), description="Edited"))
    intents.block(alice, velo)
    intents.block(bob, velo)
    intents.unblock(bob, velo)
    assert intent_restorer(consent).reapply() == NOTHING
    assert [intents.get(alice, i).status for i in (kept, withdrawn, paused, resumed)] == [
        IntentStatus.OPEN, IntentStatus.WITHDRAWN, IntentStatus.PAUSED, IntentStatus.OPEN]
    assert intents.blocked(bob) == []


def test_an_edit_whose_entry_waited_for_the_ledger_pauses_nothing(
        intents: IntentService, vault: Vault, consent: Consent, alice: str) -> None:
    """An edit's entry is appended after its row is written, and may wait for the ledger:
    within the slack, it is the edit the row shows."""
    cast = intents.cast(alice, draft(today_of(vault)))
    edited = intents.edit(alice, cast.id, draft(today_of(vault), description="Edited"))
    vault.clock.advance(EDIT_SLACK)                     # type: ignore[attr-defined]
    assert intent_restorer(consent).reapply() == NOTHING
    assert intents.get(alice, cast.id) == edited
