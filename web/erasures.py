"""Erasures carried to their end: the vault's steps, the brands' webhooks, the ledger entry.

:mod:`vault.erasure` records a confirmed erasure first and then runs idempotent steps; this
module adds the steps of the layers above and is the one way an erasure is finished, whether
the member's own request does it at once (web/member.py) or it was cut short by a crash and is
finished later: by ``vrmvault serve`` and ``init`` at start (web/cli.py) and by the keeper on
every pass (web/keeper.py). Either way the same steps, in the same order:

1. the member's data key is destroyed;
2. their rows are deleted, with the ``member.erased`` webhooks queued in that transaction (GDPR
   Art. 19: every brand that knew them);
3. the ``member:data:erased`` ledger entry is written, unless a resumed erasure finds it there
   already (the ledger is a file of its own: the crash may have come after it);
4. the intent is deleted.
"""

from __future__ import annotations

from brand_gateway.observers import erasure_hook
from consent.context import Consent, member_principal
from consent.event_details import DataErased
from consent.events import EventTag
from vault.erasure import ErasureReport, PendingErasure
from vault.home import Vault


def finish_erasure(vault: Vault, consent: Consent, pending: PendingErasure, *,
                   resumed: bool = False) -> ErasureReport:
    """Steps 1 to 4 for an erasure begun (``vault.erasure.begin``); ``resumed``: an earlier
    run may have done some of them."""
    hooks = vault.erasure.before_delete
    hook = erasure_hook(vault.data, vault.master)
    hooks.append(hook)
    try:
        report = vault.erasure.carry_out(pending)
    finally:
        hooks.remove(hook)
    principal = member_principal(vault, pending.member_id)
    if not (resumed and consent.ledger.latest_by(principal, EventTag.MEMBER_DATA_ERASED)):
        consent.ledger.record_event(actor=principal, details=DataErased(
            subject=report.subject, rows_deleted=report.rows_deleted,
            key_destroyed=report.key_destroyed))
    vault.erasure.done(pending)
    return report


def finish_pending_erasures(vault: Vault, consent: Consent) -> int:
    """Finish every erasure a crash left begun; how many."""
    pending = vault.erasure.pending()
    for erasure in pending:
        finish_erasure(vault, consent, erasure, resumed=True)
    return len(pending)
