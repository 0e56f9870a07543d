"""Erasures carried to their end: the vault's steps, the brands' webhooks, the ledger entry.

:mod:`vault.erasure` records a confirmed erasure first and then runs idempotent steps; this
module adds the steps of the layers above and is the one way an erasure is finished, whether
the member's own request does it at once (web/member.py) or it was cut short by a crash and is
finished later: by ``vrmvault serve`` and ``init`` at start (web/cli.py) and by the keeper on
every pass (web/keeper.py). Either way the same steps, in the same order:

0. the messages the vault wrote to its own maildir (``HOME/mail``, the embedded mail default)
   addressed to the member are deleted: they hold the member's address and sign-in links, and
   the maildir is the vault's. This comes first, while the member's key can still open their
   address; a resumed erasure repeats it harmlessly, or finds the key gone and so the step
   done. Mail handed to an outside SMTP server is beyond the vault's reach;
1. the member's data key is destroyed;
2. their rows are deleted, with the ``member.erased`` webhooks queued in that transaction (GDPR
   Art. 19: every brand that knew them) and, before the rows go, the open offers on their
   intents declined (``offer.declined`` to each offering brand, as a withdrawn intent's);
3. the ``member:data:erased`` ledger entry is written, unless a resumed erasure finds it there
   already (the ledger is a file of its own: the crash may have come after it);
4. the intent is deleted.
"""

from __future__ import annotations

import logging
from pathlib import Path

from brand_gateway.intents_wiring import intent_erasure_hook
from brand_gateway.observers import erasure_hook
from community.storage import survey_erasure_hook
from consent.context import Consent, member_principal
from consent.event_details import DataErased
from consent.events import EventTag
from vault.erasure import ErasureReport, PendingErasure
from vault.errors import MailError, MemberKeyDestroyedError, MemberKeyLostError, NotFoundError
from vault.home import Vault
from vault.mail import MaildirMailer

logger = logging.getLogger(__name__)


def finish_erasure(vault: Vault, consent: Consent, pending: PendingErasure, *, maildir: Path,
                   resumed: bool = False) -> ErasureReport:
    """Steps 0 to 4 for an erasure begun (``vault.erasure.begin``); ``maildir``: the home's
    (``web.mailing.maildir_path``); ``resumed``: an earlier run may have done some of them."""
    remove_mail_to_member(vault, pending.member_id, maildir)
    hooks = vault.erasure.before_delete
    hooks.append(offers_hook := intent_erasure_hook(consent))
    hook = erasure_hook(vault.data, vault.master)
    hooks.append(hook)
    hooks.append(survey_hook := survey_erasure_hook(vault.data))
    try:
        report = vault.erasure.carry_out(pending)
    finally:
        hooks.remove(hook)
        hooks.remove(survey_hook)
        hooks.remove(offers_hook)
    principal = member_principal(vault, pending.member_id)
    if not (resumed and consent.ledger.latest_by(principal, EventTag.MEMBER_DATA_ERASED)):
        consent.ledger.record_event(actor=principal, details=DataErased(
            subject=report.subject, rows_deleted=report.rows_deleted,
            key_destroyed=report.key_destroyed))
    vault.erasure.done(pending)
    return report


def finish_pending_erasures(vault: Vault, consent: Consent, *, maildir: Path) -> int:
    """Finish every erasure a crash left begun; how many."""
    pending = vault.erasure.pending()
    for erasure in pending:
        finish_erasure(vault, consent, erasure, maildir=maildir, resumed=True)
    return len(pending)


def remove_mail_to_member(vault: Vault, member_id: str, maildir: Path) -> int:
    """Step 0: the maildir's messages to the member, deleted; how many (0 once the key or the
    member's row is gone: an earlier run of this erasure got past this step; 0 too for a
    member whose key was lost in a restore, whose address nothing can read any more).

    A maildir that cannot be cleared does not hold up the erasure (the member's data comes
    first): the operator is told in the log, by the folder's path, never by the address."""
    try:
        address = vault.members.get(member_id).email
    except (MemberKeyDestroyedError, NotFoundError):
        return 0
    except MemberKeyLostError:
        logger.warning("the key of a member being erased was lost in a restore, so their"
                       " address cannot be read: messages to them may remain in %s", maildir)
        return 0
    try:
        return MaildirMailer(maildir).remove_messages_to(address)
    except MailError as exc:
        logger.warning("%s; an erased member's messages may remain there: remove them by hand",
                       exc.message)
        return 0
