"""After a restore: what members, brands and officers took away in intent casting since the
backup, made to hold again in the data store (as consent/after_restore.py does for grants).

A backup of the data store is older than the ledger, which is not restored with it. The
ledger's entries of intent casting (consent/event_details.py) carry ids and codes, never text:
``intent:intent:changed`` an intent's id and its ``change`` (``paused``, ``resumed``,
``withdrawn``, ``expired``, ``fulfilled``, ``edited``), by its member's pseudonym;
``intent:brand:blocked`` and ``intent:brand:unblocked`` the brand, by the member's pseudonym;
``intent:offer:declined``, ``expired`` and ``withdrawn`` the offer's id; ``intent:report:decided``
a spam report's id and outcome, by the officer's pseudonym.

Invariants:
- Only in the direction of less access: nothing is given. An intent the restored store holds
  is brought to the newest status change the ledger records for it when that change took it
  away from brands: ``withdrawn``, ``expired`` and ``fulfilled`` (only from open or paused:
  they are final), ``paused`` (only from open). A resume since is not made again (the intent
  stays paused, and its member resumes it), an intent cast since is not in the store and stays
  absent.
- An edit since is lost (the text, place, budget and fields are sealed or kept in the store
  only; the ledger says only ``edited``), and the restored intent says what its member had
  changed: an open intent whose newest edit the ledger records more than :data:`EDIT_SLACK`
  seconds after the row's last change is paused (the stricter reading), so no brand sees what
  the member took out of it until they check it and resume it. An edit's entry is appended
  after its row is written, and may wait for the ledger's lock: an edit within that slack of
  the row's last change is taken as the one the row shows, so that a store that was not
  restored (the key database restored alone) has none of its intents paused.
- A member's block of a brand holds again when the newest of the ledger's blocks and unblocks
  of that pair is a block; an unblock since is not made again (the brand stays blocked).
- An open offer the ledger records declined, expired or withdrawn since is closed again so, at
  the time recorded. An acceptance since is not made again: the grant of its reveal was given
  since and is lost with it (the brand asks again); the offer stays open on its fulfilled
  intent, where nobody can accept it, until its validity ends. A spam report made since is lost
  with what the member wrote (the offer it declined is declined again).
- An open spam report the ledger records decided since is decided again, with its outcome, by
  the officer the entry names, if the store holds their account (the offers an upheld report
  withdrew have entries of their own).
- An intent's number (what its pseudonym at each brand encrypts) is never given twice: the
  backup's numbering is behind the numbers given since, to intents the restore loses (the
  ledger records no casting), so the numbering jumps to the reapplication's time in
  milliseconds, past any number given before unless intents were cast faster than one a
  millisecond since the last jump (never lowered: a second run moves it only with time).
- The times written are the times the entries were recorded. Nothing is appended to the
  ledger: the entries are there already. Running it twice changes nothing the second time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from consent.events import EventTag
from consent.ledger_search import tagged
from consent.repositories import LedgerSearchRepository
from vault.clock import Clock

from .model import LIVE, IntentStatus, OfferStatus
from .repositories import IntentRepository

#: An intent's change that took it away from brands: the status it leaves, and the statuses
#: it may leave (a resume and an edit take nothing away, and are not here).
_LESS: dict[str, tuple[IntentStatus, tuple[str, ...]]] = {
    "paused": (IntentStatus.PAUSED, (IntentStatus.OPEN,)),
    "withdrawn": (IntentStatus.WITHDRAWN, LIVE),
    "expired": (IntentStatus.EXPIRED, LIVE),
    "fulfilled": (IntentStatus.FULFILLED, LIVE),
}
_STATUS_CHANGES = frozenset({*_LESS, "resumed"})
#: The ledger's tags of an offer closed, and the status each leaves.
OFFER_ENDINGS = {EventTag.INTENT_OFFER_DECLINED: OfferStatus.DECLINED,
                 EventTag.INTENT_OFFER_EXPIRED: OfferStatus.EXPIRED,
                 EventTag.INTENT_OFFER_WITHDRAWN: OfferStatus.WITHDRAWN}
BLOCKS = (EventTag.INTENT_BRAND_BLOCKED, EventTag.INTENT_BRAND_UNBLOCKED)
#: How long after an edit's row was written its ledger entry may be appended (seconds).
EDIT_SLACK = 60


@dataclass(frozen=True)
class RestoredIntents:
    """What the reapplication did: intents ended or paused again, intents paused for an edit
    the store lacks, brands blocked again, offers closed again, spam reports decided again."""

    intents: int
    edited: int
    blocks: int
    offers: int
    reports: int


class IntentRestorer:
    """The data store's intents, blocks, offers and spam reports brought to what the ledger
    recorded taken away (the module docstring).

    ``principal(member_id)``: a member's ledger pseudonym; ``member_ids`` and ``brand_ids``:
    the accounts and brands the store holds; ``clock``: the time the numbering jumps to.
    """

    def __init__(self, *, search: LedgerSearchRepository, intents: IntentRepository,
                 member_ids: Iterable[str], brand_ids: Iterable[str],
                 principal: Callable[[str], str], clock: Clock) -> None:
        self._search = search
        self._intents = intents
        self._members = {principal(member_id): member_id for member_id in member_ids}
        self._brands = frozenset(brand_ids)
        self._clock = clock

    def reapply(self) -> RestoredIntents:
        """Make again everything taken away since the backup, in one transaction of the data
        store: all or nothing."""
        statuses, edits = self._newest_changes()
        with self._intents.transaction():
            self._intents.number_above(int(self._clock() * 1000))
            return RestoredIntents(intents=self._end_intents(statuses),
                                   edited=self._pause_edited(edits), blocks=self._block_again(),
                                   offers=self._close_offers(), reports=self._decide_reports())

    def _newest_changes(self) -> tuple[dict[str, tuple[str, int]], dict[str, int]]:
        """Per intent, its newest change of status and when, and when it was last edited."""
        statuses: dict[str, tuple[str, int]] = {}
        edits: dict[str, int] = {}
        for hit in tagged(self._search, (EventTag.INTENT_INTENT_CHANGED,)):
            details = hit.details()
            if details["change"] in _STATUS_CHANGES:
                statuses.setdefault(details["intent"], (details["change"], hit.row.at))
            elif details["change"] == "edited":
                edits.setdefault(details["intent"], hit.row.at)
        return statuses, edits

    def _end_intents(self, newest: dict[str, tuple[str, int]]) -> int:
        changed = 0
        for intent_id, (change, at) in newest.items():
            if change not in _LESS:
                continue                    # resumed: it gave, and is not made again
            row = self._intents.get(intent_id)
            status, only_from = _LESS[change]
            if row is not None and self._intents.set_status(row.num, status, at,
                                                            only_from=only_from):
                changed += 1
        return changed

    def _pause_edited(self, newest: dict[str, int]) -> int:
        paused = 0
        for intent_id, at in newest.items():
            row = self._intents.get(intent_id)
            # Paused at the edit's time: the row then shows it, and a second run leaves it.
            if row is not None and at > row.updated_at + EDIT_SLACK and self._intents.set_status(
                    row.num, IntentStatus.PAUSED, at, only_from=(IntentStatus.OPEN,)):
                paused += 1
        return paused

    def _block_again(self) -> int:
        newest: dict[tuple[str, str], tuple[str, int]] = {}   # (member, brand) -> (tag, when)
        for hit in tagged(self._search, BLOCKS):
            if hit.row.principal is not None:
                newest.setdefault((hit.row.principal, hit.details()["brand"]),
                                  (hit.row.tag, hit.row.at))
        blocked = 0
        for (who, brand_id), (tag, at) in newest.items():
            member_id = self._members.get(who)
            if tag != EventTag.INTENT_BRAND_BLOCKED or member_id is None \
                    or brand_id not in self._brands:
                continue                    # an unblock gave; an erased member has no rows
            blocked += self._intents.block(member_id, brand_id, at)
        return blocked

    def _close_offers(self) -> int:
        closed = 0
        for hit in tagged(self._search, tuple(OFFER_ENDINGS)):
            # An offer is decided once, from open: a row already decided matches nothing.
            closed += self._intents.decide_offer(hit.details()["offer"],
                                                 OFFER_ENDINGS[EventTag(hit.row.tag)],
                                                 hit.row.at)
        return closed

    def _decide_reports(self) -> int:
        decided = 0
        for hit in tagged(self._search, (EventTag.INTENT_REPORT_DECIDED,)):
            details = hit.details()
            officer = self._members.get(hit.row.principal or "")
            if officer is not None and self._intents.decide_report(
                    details["report"], details["outcome"], officer, hit.row.at):
                decided += 1
        return decided
