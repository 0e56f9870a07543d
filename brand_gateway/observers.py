"""What the brand gateway does when consent changes or a member is erased.

``consent`` and ``vault`` know nothing of brands' clients: the web and CLI layers attach these
functions to :class:`consent.grants.ConsentService` (as an observer), to
:class:`vault.erasure.ErasureService` (as a ``before_delete`` hook) and to
:class:`brand_gateway.authorizations.AuthorizationStore` (``family_end_hook``: an authorization
ended on the brand's side is recorded on its grants). All run inside the data store's
transaction of the change, so what they write commits with it or not at all.
"""

from __future__ import annotations

from collections.abc import Callable

from consent.grants import ConsentService, GrantObserver
from consent.model import AccessEnd, Grant, GrantEvent, GrantStatus
from vault.clock import system_clock
from vault.keys import MasterKey
from vault.repositories import Store

from .authorizations import Family, FamilyEnd, FamilyEndHook
from .rar import narrowed
from .storage import authorization_store, pairwise_pseudonyms, stored_grants, webhook_outbox
from .webhooks.outbox import NOTIFIED_GRANT_EVENTS, enqueue_grant_event, enqueue_member_erased


def grant_observer(database: Store, master: MasterKey) -> GrantObserver:
    """The gateway's observer of grant events.

    A grant that ended revokes every token family carrying it that carries no other live grant
    (a withdrawn, expired or replaced grant; a released one, whose family the brand revoked
    itself, always), so the brand's very next call fails with 401 and its refresh tokens are
    dead too. A family that still carries another live grant is kept, so the member's other
    purposes stay readable, as the Sharing page says they are; the decision point denies the
    ended grant itself on the very next request (it reads the grants afresh). A narrowed
    grant is restated in the families carrying it: its fields and end, as introspection and
    a refresh report them, are the member's new ones. Each ending
    queues a signed webhook to each live endpoint of the grant's brand (GDPR Art. 19)."""
    pseudonyms = pairwise_pseudonyms(database=database, master=master)
    stored = stored_grants(database)
    outbox = webhook_outbox(database)

    def live(grant_id: str, now: int) -> bool:
        other = stored.get(grant_id)
        return other is not None and other.status is GrantStatus.ACTIVE and other.ends_at > now

    def observe(grant: Grant, event: GrantEvent, now: int) -> None:
        store = authorization_store(database=database, clock=lambda: now)
        if event is GrantEvent.RELEASED:
            store.revoke_for_grant(grant.id, FamilyEnd.GRANT_RELEASED)
        elif event in _ENDING:
            store.revoke_for_grant(grant.id, _ENDING[event],
                                   unless_live=lambda other: live(other, now))
        elif event is GrantEvent.NARROWED:
            store.restate_for_grant(grant.id, lambda granted: narrowed(
                granted, fields=grant.covered, ends_at=grant.ends_at))
        if event in NOTIFIED_GRANT_EVENTS:
            enqueue_grant_event(outbox, pseudonyms, grant, event, now)

    return observe


_ENDING = {GrantEvent.WITHDRAWN: FamilyEnd.GRANT_WITHDRAWN,
           GrantEvent.EXPIRED: FamilyEnd.GRANT_EXPIRED,
           GrantEvent.REPLACED: FamilyEnd.GRANT_REPLACED}
#: A brand-side end of an authorization, as the consent layer names it.
_ACCESS_END = {FamilyEnd.CODE_REPLAY: AccessEnd.CODE_REPLAY,
               FamilyEnd.REFRESH_REPLAY: AccessEnd.REFRESH_REPLAY,
               FamilyEnd.REVOKED_BY_CLIENT: AccessEnd.REVOKED_BY_BRAND,
               FamilyEnd.CLIENT_DISABLED: AccessEnd.CLIENT_DISABLED,
               FamilyEnd.EXPIRED: AccessEnd.EXPIRED}


def family_end_hook(grants: ConsentService, database: Store) -> FamilyEndHook:
    """The :class:`AuthorizationStore` hook that records a brand-side end of an authorization
    on each grant it carried (:meth:`ConsentService.end_access`: the receipt and the ledger
    entry; this module's grant observer then queues ``authorization.ended``), in the
    revocation's transaction. A grant already ended (withdrawn, expired, replaced) is left as
    it is: its own ending was recorded when it happened."""
    # Reads only: its clock is never asked.
    families = authorization_store(database=database, clock=system_clock)

    def on_end(family: Family, reason: FamilyEnd, now: int) -> None:
        for grant_id in families.grant_ids(family.id):
            grants.end_access(grant_id, _ACCESS_END[reason])

    return on_end


def erasure_hook(database: Store, master: MasterKey) -> Callable[[str, int], None]:
    """A ``before_delete`` hook queuing ``member.erased`` to every brand that knew the member
    (the data store it writes to is current: :meth:`vault.home.VaultHome.open` checked it)."""
    pseudonyms = pairwise_pseudonyms(database=database, master=master)
    outbox = webhook_outbox(database)

    def before_delete(member_id: str, erased_at: int) -> None:
        enqueue_member_erased(outbox, pseudonyms, member_id, erased_at)

    return before_delete
