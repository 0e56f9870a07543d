"""The keeper's pass (web/keeper.py), what ``vrmvault serve`` runs every 0.25 s: spooled reads
merged, and a checkpoint signed on the clock once the tree grew."""

from __future__ import annotations

import contextlib

from consent.context import open_ledger
from consent.events import Event, EventTag
from consent.spool import SpoolDirectory
from tests.conftest import GOOD_PASSWORD
from vault.clock import FrozenClock
from vault.home import Vault, VaultHome
from web.keeper import Keeper


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
