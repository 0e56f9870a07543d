"""An erasure cut short by a crash is finished, whatever step it had reached.

The review found that a crash during an erasure left a member who could still sign in and
whose brands were never told (no ``member.erased`` webhook) until they deleted again. Each case
here lets the member confirm deletion, makes the process "crash" right after step k (the step
ran and committed, then the request dies), checks that the member can no longer act, then
finishes it the two ways the product does (``vrmvault init`` at start, the keeper's pass) and
checks the end state: every step done exactly once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask

from consent.context import Consent, open_ledger
from consent.event_details import DataErased
from consent.events import EventTag
from consent.ledger import Ledger
from tests.brand_api_support import BrandApi
from tests.conftest import GOOD_PASSWORD, AuthActions
from vault.erasure import ErasureService
from vault.home import Vault, VaultHome
from web.cli import main
from web.keeper import Keeper

from .conftest import SignedIn

HOOK = "https://93.184.216.34/hooks/velo"


class Crash(Exception):
    """The process dies here (what was committed stays; the rest never happens)."""


def crash_after(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str,
                when: Callable[..., bool] = lambda *a, **k: True) -> None:
    original = getattr(owner, name)

    def then_crash(self: Any, *args: Any, **kwargs: Any) -> Any:
        result = original(self, *args, **kwargs)
        if when(*args, **kwargs):
            raise Crash(name)
        return result

    monkeypatch.setattr(owner, name, then_crash)


def _is_erasure_entry(*args: Any, **kwargs: Any) -> bool:
    return isinstance(kwargs.get("details"), DataErased)


STEPS = {
    "begin": (ErasureService, "begin", None),
    "key-destroyed": (ErasureService, "destroy_key", None),
    "rows-deleted": (ErasureService, "delete_rows", None),
    "ledger-written": (Ledger, "record_event", _is_erasure_entry),
    "done": (ErasureService, "done", None),
}


@pytest.fixture
def alice_with_a_brand(sign_in: Callable[..., SignedIn], api: BrandApi, vault: Vault,
                       velo) -> SignedIn:
    alice = sign_in("alice@example.org")
    api.member_token(alice.id, velo, {"dpv:Personalisation": ["given_name", "city"]})
    from brand_gateway.storage import webhook_registry

    webhook_registry(database=vault.data, clock=vault.clock).add(velo.client_id, HOOK)
    vault.profile.update(alice.id, {"given_name": "Alice"})
    return alice


def state(vault: Vault, consent: Consent, member_id: str) -> dict[str, Any]:
    principal = consent.principal(member_id)
    entries = [consent.ledger.entry(seq) for seq in range(consent.ledger.size)]
    return {
        "key": vault.keys_database.one(
            "SELECT count(*) FROM member_keys WHERE member_id = ?", (member_id,))[0],
        "member": vault.data.one("SELECT count(*) FROM members WHERE id = ?", (member_id,))[0],
        "profile": vault.data.one("SELECT count(*) FROM profile_values WHERE member_id = ?",
                                  (member_id,))[0],
        "erasure records": vault.erasure.erased_count(),
        "webhooks": vault.data.one("SELECT count(*) FROM webhook_outbox"
                                   " WHERE event_type = 'member.erased'")[0],
        "ledger entries": sum(1 for e in entries if e.tag == EventTag.MEMBER_DATA_ERASED
                              and e.actor == principal),
        "pending": len(vault.erasure.pending()),
    }


FINISHED = {"key": 0, "member": 0, "profile": 0, "erasure records": 1, "webhooks": 1,
            "ledger entries": 1, "pending": 0}


def finish_by_init(home: VaultHome, vault: Vault, consent: Consent) -> None:
    pending = len(vault.erasure.pending())
    result = CliRunner().invoke(main, ["--home", str(home.root), "init"],
                                env={"VRMVAULT_MASTER_KEY": ""}, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    said = "finished 1 erasure a stop had interrupted" in result.output
    assert said is (pending == 1)


def finish_by_keeper(home: VaultHome, vault: Vault, consent: Consent) -> None:
    master = home.master_key({})
    with open_ledger(home, master) as ledger:
        keeper = Keeper(home, master, ledger, checkpoint_interval=60)
        try:
            keeper.one_pass()
        finally:
            keeper.close()


@pytest.mark.parametrize("finish", [finish_by_init, finish_by_keeper],
                         ids=["at-start", "by-the-keeper"])
@pytest.mark.parametrize("step", STEPS, ids=STEPS.keys())
def test_a_crash_after_any_step_is_finished_later(
        monkeypatch: pytest.MonkeyPatch, app: Flask, vault: Vault, consent: Consent,
        vault_home: VaultHome, alice_with_a_brand: SignedIn, step: str,
        finish: Callable[[VaultHome, Vault, Consent], None]) -> None:
    alice = alice_with_a_brand
    owner, name, when = STEPS[step]
    with monkeypatch.context() as patched:
        crash_after(patched, owner, name, when or (lambda *a, **k: True))
        response = alice.auth.post("/member/delete",
                                   {"password": GOOD_PASSWORD, "confirm": "on"},
                                   form_page="/member/delete")
        assert response.status_code == 500          # the request died with the process

    # From the confirmation on, the member cannot act: the session is dead, sign-in fails.
    assert not alice.is_signed_in()
    again = AuthActions(app.test_client()).login(alice.email)
    assert again.status_code != 302
    assert state(vault, consent, alice.id)["pending"] == (0 if step == "done" else 1)

    finish(vault_home, vault, consent)
    vault.key_store.forget_cached()
    assert state(vault, consent, alice.id) == FINISHED
    assert consent.ledger.verify().ok

    # Finishing again changes nothing.
    finish_by_keeper(vault_home, vault, consent)
    assert state(vault, consent, alice.id) == FINISHED


def test_an_uninterrupted_erasure_is_every_step_once(app: Flask, vault: Vault,
                                                     consent: Consent,
                                                     alice_with_a_brand: SignedIn) -> None:
    alice = alice_with_a_brand
    response = alice.auth.post("/member/delete", {"password": GOOD_PASSWORD, "confirm": "on"},
                               form_page="/member/delete")
    assert response.status_code == 303
    assert state(vault, consent, alice.id) == FINISHED
