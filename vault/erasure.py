"""Erasure (GDPR Art. 17): crypto-shredding plus deletion, resumable after a crash.

An erasure is a sequence of idempotent steps, recorded first so that it is finished whatever
step a crash stopped it at:

0. :meth:`ErasureService.begin` (the member confirmed): in one data-store transaction, an
   ``erasure_intents`` row (member id, the erasure's time) is written, every session of the
   member is deleted and the member's login lookup is cut (their blind index replaced by a
   random value): from this commit on the member cannot act, though nothing is destroyed yet.
1. :meth:`destroy_key`: the member's data key is deleted (committed and checkpointed out of the
   key store's WAL) and the erasure listed in the key store. Repeating it changes nothing. A
   member whose key was lost (the key store restored from a backup older than the key) has
   none to delete: the erasure is listed all the same, and the rest runs as for anyone.
2. :meth:`delete_rows`: the member's rows are deleted in one transaction, with the
   ``before_delete`` hooks, and a pseudonymous record of the erasure is kept (a keyed hash of
   the member id, the time and a count). Skipped once the member's row is gone and the record
   exists, so the hooks never run twice.
3. The caller's own steps (the web layer writes the ledger entry, checking first whether a
   resumed erasure wrote it already), then :meth:`done` deletes the intent.

:meth:`pending` lists the erasures begun and not done: ``vrmvault serve`` and ``init`` finish
them at start, and the running keeper on every pass. Order is the invariant: the key is gone
before any row is, so a crash between the two leaves rows nobody can decrypt, never a readable
member. The key store keeps the erasure list so a restored backup has it re-applied.

``before_delete`` hooks (``hook(member_id, erased_at)``) run inside the deletion's transaction,
before the first DELETE, while the member's rows can still be read: what they write (the brand
gateway's member.erased webhooks, say) commits with the erasure or not at all. The vault knows
nothing of what they do. Re-applying an erasure to a restored store (restore, :meth:`reapply`)
runs the hooks its caller gives: the store came back from before the erasure, without what the
erasure's hooks wrote (the webhooks still waiting to be delivered among it), and the brands
that knew the member must be told (GDPR Art. 19), once more if they were told already.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .clock import Clock
from .keys import KeyStore, Pseudonymiser
from .repositories import ErasureRepository, MemberRepository, SessionRepository


@dataclass(frozen=True)
class ErasureReport:
    subject: str
    erased_at: int
    rows_deleted: int
    key_destroyed: bool


@dataclass(frozen=True)
class PendingErasure:
    """An erasure begun (confirmed) and not yet done."""

    member_id: str
    erased_at: int


BeforeDelete = Callable[[str, int], None]


@dataclass(frozen=True)
class ReappliedErasures:
    rows_deleted_for: int       # erased members whose rows a restored data store had back
    keys_destroyed_for: int     # erased members whose key a restored key store had back
    # Members with an account but no key and no erasure listed: a restored key store is
    # older than their key, and their data cannot be opened (by id, oldest account first).
    keys_lost_for: tuple[str, ...] = ()


class ErasureService:
    def __init__(
        self, *, erasures: ErasureRepository, members: MemberRepository,
        sessions: SessionRepository, keys: KeyStore, pseudonyms: Pseudonymiser, clock: Clock,
        before_delete: Iterable[BeforeDelete] = (),
    ) -> None:
        self._erasures = erasures
        self._members = members
        self._sessions = sessions
        self._keys = keys
        self._pseudonyms = pseudonyms
        self._clock = clock
        self.before_delete: list[BeforeDelete] = list(before_delete)

    # -- the steps ----------------------------------------------------------------------------
    def begin(self, member_id: str) -> PendingErasure:
        """Step 0: record the erasure and stop the member acting (see the module docstring).
        Idempotent: an erasure begun already keeps its time."""
        with self._erasures.transaction():
            erased_at = self._erasures.begin(member_id, int(self._clock()))
            self._sessions.delete_for_member(member_id)
            # No sign-in finds the member any more: a random blind index matches no address.
            self._members.cut_login(member_id, os.urandom(32))
        return PendingErasure(member_id, erased_at)

    def destroy_key(self, pending: PendingErasure) -> bool:
        """Step 1: crypto-shred (idempotent); True if this erasure destroyed a key, now or in
        a run that a crash cut short (the erasure list keeps the time of the first); False
        for a member whose key was lost, who had none to destroy."""
        listed_at = self._keys.erased_at(pending.member_id)
        if self._keys.destroy(pending.member_id, erased_at=pending.erased_at):
            return True
        return listed_at == pending.erased_at

    def delete_rows(self, member_id: str, *, erased_at: int) -> int:
        """Step 2: delete every row of ``member_id`` and record the erasure (also used by
        restore). A second call for an erasure already recorded deletes nothing and runs no
        hook; it returns the rows that erasure deleted if it is the same erasure (same time: a
        resumed one), else 0."""
        subject = self._pseudonyms.subject(member_id)
        with self._erasures.transaction():
            if not self._members.exists(member_id):
                done = self._erasures.recorded(subject)
                if done is not None:
                    return done.rows_deleted if done.erased_at == erased_at else 0
            for hook in self.before_delete:
                hook(member_id, erased_at)
            rows = self._erasures.delete_member_rows(member_id)
            self._erasures.record(subject, erased_at, rows)
        self._erasures.purge_freed_pages()
        return rows

    def done(self, pending: PendingErasure) -> None:
        """The last step: the erasure is complete; forget the intent."""
        self._erasures.finish(pending.member_id)

    # -- all of it --------------------------------------------------------------------------------
    def erase(self, member_id: str) -> ErasureReport:
        """Steps 0 to 2 at once, then done: for callers with no steps of their own."""
        pending = self.begin(member_id)
        report = self.carry_out(pending)
        self.done(pending)
        return report

    def carry_out(self, pending: PendingErasure) -> ErasureReport:
        """Steps 1 and 2 for an erasure begun, whichever of them ran before."""
        key_destroyed = self.destroy_key(pending)
        rows = self.delete_rows(pending.member_id, erased_at=pending.erased_at)
        return ErasureReport(self._pseudonyms.subject(pending.member_id), pending.erased_at,
                             rows, key_destroyed)

    def reapply(self) -> ReappliedErasures:
        """After a store was restored from a backup older than some erasures, make every
        erasure hold again, from whichever store still knows of it: each member on the key
        store's erasure list loses the rows the data store got back; each member whose
        erasure the data store records loses the key the key store got back (and is listed
        again, with the recorded time). Idempotent.

        Then it names the members it cannot help: an account, no key, no erasure listed. A
        key store restored from a backup older than their key lost it, and with it their
        data; a newer backup of the key store brings it back, else they can only be erased."""
        rows_for = keys_for = 0
        listed = self._keys.erasure_list()
        for member_id, erased_at in listed:
            if self._members.exists(member_id):
                self.delete_rows(member_id, erased_at=erased_at)
                rows_for += 1
        erased = self._erasures.times()        # one read, not one per key holder
        holders = self._keys.holders()
        for member_id in holders if erased else ():
            when = erased.get(self._pseudonyms.subject(member_id))
            if when is not None and self._keys.destroy(member_id, erased_at=when):
                keys_for += 1
        # Read after the deletions above; a holder whose key was just destroyed has no rows.
        accounted_for = set(holders).union(member_id for member_id, _ in listed)
        lost = tuple(member_id for member_id in self._members.ids()
                     if member_id not in accounted_for)
        return ReappliedErasures(rows_for, keys_for, lost)

    def pending(self) -> list[PendingErasure]:
        """The erasures begun and not done, oldest first."""
        return [PendingErasure(member_id, erased_at)
                for member_id, erased_at in self._erasures.intents()]

    def is_pending(self, member_id: str) -> bool:
        return self._erasures.is_pending(member_id)

    def erased_count(self) -> int:
        return self._erasures.count()
