"""What the brand gateway does when consent changes or a member is erased.

``consent`` and ``vault`` know nothing of brands' clients: the web and CLI layers attach these
functions to :class:`consent.grants.ConsentService` (as an observer) and to
:class:`vault.erasure.ErasureService` (as a ``before_delete`` hook). Both run inside the data
store's transaction of the change, so what they write commits with it or not at all.
"""

from __future__ import annotations

from collections.abc import Callable

from consent.grants import GrantObserver
from consent.model import Grant, GrantEvent
from vault.keys import MasterKey
from vault.storage import Database

from . import webhook_storage
from .authorizations import AuthorizationStore
from .pseudonyms import PairwisePseudonyms
from .webhooks import NOTIFIED_GRANT_EVENTS, enqueue_grant_event, enqueue_member_erased


def grant_observer(database: Database, master: MasterKey) -> GrantObserver:
    """The gateway's observer of grant events.

    A withdrawn or expired grant revokes every token family carrying it, so the brand's very
    next call fails with 401 (and its refresh tokens are dead too), and queues a signed webhook
    to each live endpoint of the grant's brand (GDPR Art. 19)."""
    pseudonyms = PairwisePseudonyms.from_master(database=database, master=master)

    def observe(grant: Grant, event: GrantEvent, now: int) -> None:
        if event in (GrantEvent.WITHDRAWN, GrantEvent.EXPIRED):
            AuthorizationStore(database=database, clock=lambda: now).revoke_for_grant(
                grant.id, f"grant {event.value}")
        if event in NOTIFIED_GRANT_EVENTS:
            webhook_storage.require_current(database)
            enqueue_grant_event(database, pseudonyms, grant, event, now)

    return observe


def erasure_hook(database: Database, master: MasterKey) -> Callable[[str, int], None]:
    """A ``before_delete`` hook queuing ``member.erased`` to every brand that knew the member.

    Checks the webhook tables now, before the erasure destroys anything, so a store that lacks
    them fails up front instead of halfway."""
    webhook_storage.require_current(database)
    pseudonyms = PairwisePseudonyms.from_master(database=database, master=master)

    def before_delete(member_id: str, erased_at: int) -> None:
        enqueue_member_erased(database, pseudonyms, member_id, erased_at)

    return before_delete
