"""Recording the endings no request makes: grants past their end date, authorizations past
their absolute end, and the care cases that ended with their grant.

Decisions and token lookups deny both from the very second they end, whatever this module did;
what it adds is the record: each ending's receipt, ledger entry and brand webhook. It runs in
``vrmvault consent expire`` and before each pass of the webhook delivery loop that
``vrmvault serve`` keeps running (so the webhooks it queues leave in that same pass), never on a
brand's read. A pass first asks the data store whether anything is due (two indexed probes),
and opens the ledger only then.
"""

from __future__ import annotations

from dataclasses import dataclass

from brand_gateway.observers import family_end_hook, grant_observer
from brand_gateway.storage import accepts_term, authorization_store, endings
from community.storage import care_service
from consent.context import open_consent
from consent.receipts import Controller
from vault.home import Vault, VaultHome


@dataclass(frozen=True)
class Endings:
    grants_expired: int
    authorizations_expired: int
    care_cases_closed: int = 0


def settle_duplicates(vault: Vault, home: VaultHome, receipts_by: Controller) -> int:
    """Replace the live grants a store holds twice for one member, brand and purpose (the newest
    stays), each with its receipt, ledger entry and webhook; how many. Approvals never make such
    pairs, a store written by an older approval may hold them: run by ``vrmvault consent
    expire`` and once when ``vrmvault serve``'s delivery loop starts."""
    consent = open_consent(vault, home, observers=[grant_observer(vault.data, vault.master)],
                           controller=receipts_by)
    try:
        return len(consent.grants.settle_duplicates())
    finally:
        consent.close()


def due(vault: Vault) -> bool:
    """Whether a grant or an authorization ended without its ending being recorded."""
    return endings(vault.data).due(int(vault.clock()))


def record_endings(vault: Vault, home: VaultHome, receipts_by: Controller) -> Endings:
    """Record every ended grant (``consent:grant:expired``, ``consent.expired``), then every
    authorization past its absolute end whose grant's consent stands
    (``consent:access:ended``, ``authorization.ended``)."""
    if not due(vault):
        return Endings(0, 0)
    consent = open_consent(vault, home, observers=[grant_observer(vault.data, vault.master)],
                           controller=receipts_by)
    try:
        expired = consent.grants.record_expiries()
        families = authorization_store(
            database=vault.data, clock=vault.clock,
            on_end=family_end_hook(consent.grants, vault.data)).expire_families()
        # A care case ends with its grant: its close is recorded with the grant's expiry.
        cases = care_service(consent=consent, accepts_term=accepts_term(
            database=vault.data, clock=vault.clock, master=vault.master)).close_ended()
    finally:
        consent.close()
    return Endings(len(expired), families, cases)
