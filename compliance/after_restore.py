"""After a restore: the data subject requests the ledger recorded since the backup, and the
processing restrictions they made, brought back into the data store (as
consent/after_restore.py does for grants, staff roles and standing terms).

A request has a legal deadline: losing it with an older backup would be a compliance failure.
The ledger, which is never restored with the data store, records each request's life in
entries of ids, codes and digests (consent/event_details.py): ``dsr:request:received`` (its
regime, kind, source and due date, by the member's pseudonym), ``dsr:request:forwarded`` (each
brand's task), ``dsr:request:updated`` (a brand's state), ``dsr:request:fulfilled`` (the
vault's own part, and the restrictions it made), ``dsr:request:extended`` (the new due date),
``dsr:request:closed``; and ``consent:restriction:lifted`` a restriction lifted, by its id.

Invariants:
- A request the ledger records and the store does not hold is made again: its id, its member
  (the account whose pseudonym the entry names; none when the store holds no such account,
  erased or made since the backup), regime, kind, source, time and day of receipt, due date
  and CCPA confirmation (as filing sets them), then its tasks and every later change, each at
  the time its entry was recorded, with its history steps.
- A request the store holds is brought forward to the newest state the ledger records: tasks
  forwarded since, brands' states since (a final state stays final), the vault's part done, the
  extension and its due date, the closing. Only forward: nothing the row shows is undone.
- Nothing is invented. What the ledger holds only as a digest, or not at all, stays empty
  (what the member wrote, the documents a brand returned, a brand's pseudonym of a member the
  store does not hold) or reads :data:`LOST_REASON` (the reason of an extension or of a
  brand's answer); a task for a brand the store does not hold is not made. Each request this
  changes gets a history step :data:`RESTORED` naming what was lost.
- A restriction a request made that the store does not hold is made again under its own id
  (the ``fulfilled`` entry names ids and brands), for its member's account if the store holds
  it; an entry older than that field names none, and its request's restriction comes back for
  every brand (the stricter reading, the form's default). A restriction the ledger records
  lifted is lifted again, at the time recorded.
- A task made again that the brand never answered (still pending once its entries are
  replayed) is forwarded to its brand again, under its own uid, with the request's due date:
  the backup lacks the message its filing queued, so the brand may never have had it (a brand
  that had it gets it twice, the same uid). A task whose member is gone is not: there is no
  pseudonym left to name them by.
- Nothing is appended to the ledger: the entries are there already. Running it twice changes
  nothing the second time (a task it made is in the store, so it is not forwarded again).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from consent.events import EventTag
from consent.ledger_search import tagged
from consent.model import Restriction, RestrictionBasis, RestrictionScope
from consent.repositories import LedgerSearchRepository, RestrictionRepository
from vault.clock import Clock

from . import deadlines
from .deadlines import HolidayCalendar, Urgency
from .repositories import RequestRepository, RequestRow, TaskRow
from .request_model import (
    FINAL_STATES,
    KINDS,
    Forwarded,
    Kind,
    Regime,
    RequestState,
    TaskState,
    day_of,
    end_of,
    start_of,
)

#: The ledger's tags of a request's life.
REQUEST_TAGS = (EventTag.DSR_REQUEST_RECEIVED, EventTag.DSR_REQUEST_FORWARDED,
                EventTag.DSR_REQUEST_UPDATED, EventTag.DSR_REQUEST_FULFILLED,
                EventTag.DSR_REQUEST_EXTENDED, EventTag.DSR_REQUEST_CLOSED)
#: The history step of a request a restore made again or brought forward from the ledger.
RESTORED = "restored_from_ledger"
#: A reason the ledger keeps only the digest of, as restored.
LOST_REASON = "lost in a restore from a backup: the ledger keeps only its SHA-256"
_BASES = frozenset(basis.value for basis in RestrictionBasis)


@dataclass(frozen=True)
class RestoredRequests:
    """What the reapplication did: requests made again whole, requests the store held brought
    forward, restrictions made again, restrictions lifted again."""

    received: int
    advanced: int
    restrictions: int
    lifted: int
    forwarded: int = 0          # tasks made again and sent to their brands again


@dataclass(frozen=True)
class _Entry:
    """One ledger entry of a request: ``principal`` is the index row's (the member, on the
    entries the member made)."""

    tag: EventTag
    at: int
    principal: str | None
    details: dict[str, Any]


class RequestRestorer:
    """The data store's requests and restrictions brought to what the ledger recorded (the
    module docstring).

    ``principal(member_id)``: a member's ledger pseudonym; ``subject(member_id, brand_id)``: the
    brand's pairwise pseudonym of them; ``calendar`` and ``zone``: the deadlines' (the day of
    receipt, a CCPA request's confirmation date); ``forward``: queue a task's message to its
    brand, inside the caller's transaction (as :class:`compliance.requests.RequestService`'s).
    """

    def __init__(self, *, search: LedgerSearchRepository, requests: RequestRepository,
                 restrictions: RestrictionRepository, member_ids: Iterable[str],
                 brand_ids: Iterable[str], principal: Callable[[str], str],
                 subject: Callable[[str, str], str], calendar: HolidayCalendar, zone: str,
                 clock: Clock, forward: Callable[[Forwarded], None]) -> None:
        self._search = search
        self._requests = requests
        self._restrictions = restrictions
        self._members = {principal(member_id): member_id for member_id in member_ids}
        self._brands = frozenset(brand_ids)
        self._subject = subject
        self._calendar = calendar
        self._zone = zone
        self._clock = clock
        self._forward = forward
        self._made_tasks: list[TaskRow] = []

    def reapply(self) -> RestoredRequests:
        """Bring back every request and restriction the ledger recorded since the backup, in
        one transaction of the data store: all or nothing."""
        recorded: dict[str, list[_Entry]] = {}
        for hit in tagged(self._search, REQUEST_TAGS):
            details = hit.details()
            recorded.setdefault(details["request"], []).append(
                _Entry(EventTag(hit.row.tag), hit.row.at, hit.row.principal, details))
        outcomes: list[str | None] = []
        with self._requests.transaction():
            for request_id, entries in recorded.items():
                outcomes.append(self._replay(request_id, entries[::-1]))
            fulfilled = sorted((e for entries in recorded.values() for e in entries
                                if e.tag is EventTag.DSR_REQUEST_FULFILLED),
                               key=lambda entry: entry.at)
            restrictions = self._reinstate(fulfilled)
            lifted = self._lift_again()
            forwarded = self._forward_again()
        return RestoredRequests(received=outcomes.count("received"),
                                advanced=outcomes.count("advanced"),
                                restrictions=restrictions, lifted=lifted, forwarded=forwarded)

    def _forward_again(self) -> int:
        """Send again each task made again that is still pending (the module docstring)."""
        sent = 0
        for made in self._made_tasks:
            task = self._requests.task(made.uid)
            row = self._row(made.request_id)
            if task is None or task.state != TaskState.PENDING or row.member_id is None \
                    or row.state == RequestState.CLOSED:
                continue
            kind = Kind(row.kind)
            self._forward(Forwarded(
                task, KINDS[kind].regime, kind,
                start_of(dt.date.fromisoformat(row.received_on), self._zone),
                end_of(dt.date.fromisoformat(row.due_on), self._zone)))
            sent += 1
        self._made_tasks.clear()
        return sent

    # -- one request --------------------------------------------------------------------------
    def _replay(self, request_id: str, entries: list[_Entry]) -> str | None:
        """Bring one request to its entries (oldest first): ``received`` if it was made again,
        ``advanced`` if the store held it and something changed, else None."""
        lost: list[str] = []
        made = self._requests.get(request_id) is None
        if made:
            received = next((e for e in entries if e.tag is EventTag.DSR_REQUEST_RECEIVED),
                            None)
            if received is None:
                return None
            self._insert(request_id, received, lost)
        tasks = {task.uid: task for task in self._requests.tasks_for(request_id)}
        unshown = _unshown_updates(entries, tasks)
        changed = False
        forwarded_at: int | None = None     # tasks made, the request not yet in progress
        for index, entry in enumerate(entries):
            if entry.tag is EventTag.DSR_REQUEST_FORWARDED:
                if self._forwarded(request_id, entry, tasks, lost):
                    changed, forwarded_at = True, entry.at
                continue
            if forwarded_at is not None:
                self._start(request_id, forwarded_at)
                forwarded_at = None
            if entry.tag is EventTag.DSR_REQUEST_UPDATED and index in unshown:
                changed |= self._updated(request_id, entry, tasks, lost)
            elif entry.tag is EventTag.DSR_REQUEST_FULFILLED:
                changed |= self._fulfilled(request_id, entry)
            elif entry.tag is EventTag.DSR_REQUEST_EXTENDED:
                changed |= self._extended(request_id, entry, lost)
            elif entry.tag is EventTag.DSR_REQUEST_CLOSED:
                changed |= self._closed(request_id, entry)
        if forwarded_at is not None:
            self._start(request_id, forwarded_at)
        if not (made or changed):
            return None
        self._requests.add_history(request_id, None, RESTORED, _note(made, lost),
                                   int(self._clock()))
        return "received" if made else "advanced"

    def _insert(self, request_id: str, entry: _Entry, lost: list[str]) -> None:
        details, at = entry.details, entry.at
        spec = KINDS[Kind(details["kind"])]
        principal = entry.principal or ""
        member_id = self._members.get(principal)
        received = day_of(at, self._zone)
        # As filing sets them: the vault confirms a CCPA request's receipt at once.
        confirming = spec.regime is Regime.CCPA and not spec.optout
        self._requests.insert(RequestRow(
            request_id, member_id, principal, details["regime"], details["kind"],
            details["source"], None, RequestState.RECEIVED.value, at, received.isoformat(),
            deadlines.ccpa_confirm_by(received, self._calendar).isoformat() if confirming
            else None, at if confirming else None, details["due"], None, None, None, None,
            None, Urgency.GREEN.value))
        self._requests.add_history(request_id, None, RequestState.RECEIVED.value, None, at)
        lost.append("what the member wrote with it, if anything")
        if member_id is None:
            lost.append("its member's account (erased or made since the backup)")

    def _forwarded(self, request_id: str, entry: _Entry, tasks: dict[str, TaskRow],
                   lost: list[str]) -> bool:
        details, at = entry.details, entry.at
        uid, brand_id = details["task"], details["brand"]
        if uid in tasks:
            return False
        if brand_id not in self._brands:
            lost.append(f"its task {uid} for {brand_id}, a brand the store does not hold")
            return False
        row = self._row(request_id)
        if row.member_id is None:
            lost.append(f"the pseudonym {brand_id} knows the member by")
        task = TaskRow(uid, request_id, brand_id,
                       "" if row.member_id is None else self._subject(row.member_id, brand_id),
                       details["message"], TaskState.PENDING.value, None, at, at, None)
        self._requests.add_task(task)
        tasks[uid] = task
        self._made_tasks.append(task)
        self._requests.add_history(request_id, uid, TaskState.PENDING.value, None, at)
        return True

    def _start(self, request_id: str, at: int) -> None:
        """The request in progress once its tasks are made, as filing leaves it."""
        if self._row(request_id).state == RequestState.RECEIVED and self._requests.update(
                request_id, state=RequestState.IN_PROGRESS.value):
            self._requests.add_history(request_id, None, RequestState.IN_PROGRESS.value, None,
                                       at)

    def _updated(self, request_id: str, entry: _Entry, tasks: dict[str, TaskRow],
                 lost: list[str]) -> bool:
        details, at = entry.details, entry.at
        uid, state = details["task"], TaskState(details["state"])
        reason = LOST_REASON if details.get("reason_sha256") else None
        if uid not in tasks or not self._requests.update_task(
                uid, state=state.value, reason=reason, at=at, final=state in FINAL_STATES):
            return False
        self._requests.add_history(request_id, uid, state.value, reason, at)
        brand_id = tasks[uid].brand_id
        if reason is not None:
            lost.append(f"the reason {brand_id} gave ({state.value})")
        if details.get("results"):
            lost.append(f"the {details['results']} result documents {brand_id} returned")
        return True

    def _fulfilled(self, request_id: str, entry: _Entry) -> bool:
        fulfilment = entry.details["fulfilment"]
        if self._row(request_id).fulfilled_at is not None or not self._requests.update(
                request_id, fulfilled=(fulfilment, entry.at)):
            return False
        self._requests.add_history(request_id, None, "fulfilled", fulfilment, entry.at)
        return True

    def _extended(self, request_id: str, entry: _Entry, lost: list[str]) -> bool:
        if not self._requests.extend(request_id, due_on=entry.details["due"],
                                     reason=LOST_REASON, at=entry.at):
            return False
        self._requests.add_history(request_id, None, "extended", LOST_REASON, entry.at)
        lost.append("the reason of its extension (the notice mailed to the member gave it)")
        return True

    def _closed(self, request_id: str, entry: _Entry) -> bool:
        if self._row(request_id).state == RequestState.CLOSED or not self._requests.update(
                request_id, state=RequestState.CLOSED.value, closed_at=entry.at):
            return False
        self._requests.add_history(request_id, None, RequestState.CLOSED.value, None,
                                   entry.at)
        return True

    def _row(self, request_id: str) -> RequestRow:
        row = self._requests.get(request_id)
        assert row is not None              # made or found by _replay, in this transaction
        return row

    # -- restrictions ---------------------------------------------------------------------------
    def _reinstate(self, fulfilled: list[_Entry]) -> int:
        """Make again the restrictions the ``fulfilled`` entries (oldest first) made that the
        store does not hold; how many."""
        made = 0
        for entry in fulfilled:
            member_id = self._members.get(entry.principal or "")
            basis = entry.details["fulfilment"]
            if member_id is None or basis not in _BASES:
                continue
            request_id = entry.details["request"]
            held = {r.brand_id for r in self._restrictions.for_member(member_id)
                    if r.request_id == request_id}
            named_all = entry.details.get("restrictions")
            if named_all is None and held:
                continue                # an older entry's: whichever brands, they are there
            # An entry older than the field names none: every brand, the stricter reading.
            for named in named_all or [{"id": None, "brand": None}]:
                if named["brand"] in held:
                    continue
                restriction = Restriction(
                    named["id"] or 0, member_id, named["brand"],
                    RestrictionScope.SENSITIVE if basis == RestrictionBasis.LIMIT_SENSITIVE
                    else RestrictionScope.ALL, RestrictionBasis(basis), request_id, entry.at)
                if named["id"] is None or not self._restrictions.reinstate(restriction):
                    self._restrictions.add(restriction)
                made += 1
        return made

    def _lift_again(self) -> int:
        """Lift again every restriction the ledger records lifted and the store holds live;
        how many."""
        lifted = 0
        for hit in tagged(self._search, (EventTag.CONSENT_RESTRICTION_LIFTED,)):
            member_id = self._members.get(hit.row.principal or "")
            if member_id is None:
                continue
            found = self._lifted(member_id, hit.details(), hit.row.at)
            if found is not None and self._restrictions.lift(member_id, found, hit.row.at):
                lifted += 1
        return lifted

    def _lifted(self, member_id: str, details: dict[str, Any], at: int) -> int | None:
        """The id of the member's restriction a lift entry names: by its id; else (it came
        back under another id) the oldest live one of the same basis made before the lift,
        towards the same brand, or else towards every brand; None if this lift holds already."""
        same = [r for r in self._restrictions.for_member(member_id)
                if r.basis.value == details["basis"]]
        if any(r.id == details["restriction"] for r in same):
            return int(details["restriction"])
        if any(r.lifted_at == at for r in same):
            return None
        for brand_id in dict.fromkeys((details["brand"], None)):
            live = [r.id for r in same
                    if r.brand_id == brand_id and r.lifted_at is None and r.since <= at]
            if live:
                return min(live)
        return None


def _unshown_updates(entries: list[_Entry], tasks: dict[str, TaskRow]) -> set[int]:
    """The positions in ``entries`` (oldest first) of the brands' status events the store's
    tasks do not show: every one of a task the store lacks; of a task in a final state, none;
    else those after the last one the task shows. A task shows the events recorded before its
    last change, and the one that made that change: recorded in the second of the change or
    the next, with the task's state."""
    by_task: dict[str, list[int]] = {}
    for index, entry in enumerate(entries):
        if entry.tag is EventTag.DSR_REQUEST_UPDATED:
            by_task.setdefault(entry.details["task"], []).append(index)
    unshown: set[int] = set()
    for uid, positions in by_task.items():
        task = tasks.get(uid)
        if task is None:
            unshown.update(positions)
            continue
        if task.closed_at is not None:
            continue
        shown = 0
        for count, index in enumerate(positions, start=1):
            entry = entries[index]
            if entry.at < task.updated_at or (entry.at <= task.updated_at + 1
                                              and entry.details["state"] == task.state):
                shown = count
        unshown.update(positions[shown:])
    return unshown


def _note(made: bool, lost: list[str]) -> str:
    """The reason of a request's :data:`RESTORED` step: what happened and what was lost."""
    note = ("made again from the ledger after a restore from an older backup" if made
            else "brought forward from the ledger after a restore from an older backup")
    if not lost:
        return note
    return note + "; lost, the ledger not holding it: " + "; ".join(dict.fromkeys(lost))
