"""Data subject requests: filed by members, fulfilled by the vault where it can, forwarded to
the brands that hold or have read the member's data, answered by those brands, watched by
officers against their legal deadlines (compliance/deadlines.py).

A request is GDPR (access, rectification, erasure, restriction, objection, portability) or
CCPA/CPRA (know, delete, correct, opt-out of sale/sharing, limit the use of sensitive personal
information). Its life:

1. :meth:`RequestService.file`: the request is recorded with its due date (GDPR Art. 12(3): one
   calendar month; CCPA sec. 7021: 45 days, receipt confirmed at once, within the 10 business
   days; sec. 7026: opt-outs in 15 business days), what the member wrote sealed under their
   key, a ``dsr:request:received`` entry; then one task per chosen brand, each forwarded (the
   ``forward`` hook queues the signed Ketch Forwarder webhook in the same transaction) with a
   ``dsr:request:forwarded`` entry. A brand is named only by its pairwise subject and its own
   task ``uid``: the request id never leaves the vault.
2. The vault's own part, at once: :meth:`fulfil_restriction` and the opt-outs here (the decision
   point consults the restrictions, consent/decision.py); the export and the erasure by the web
   layer, which then calls :meth:`fulfilled`.
3. Brands post status events (:meth:`brand_update`): pending, in_progress, then one final
   state (completed, cancelled, denied with a reason), after which nothing changes (a
   :class:`ConflictError`). Access results are documents sealed under the member's key.
4. The request closes when its vault part is done and every task is final
   (``dsr:request:closed``). An officer may extend it once, with a reasoned notice, within the
   first period (:meth:`extend`).

Invariants: the request record outlives the member's erasure (the member's ledger pseudonym
stays on it); what a person wrote about it (the member's text, an officer's reason for an
extension, a brand's reason for its state) is sealed under the member's key, so the erasure
leaves it unreadable (read as :data:`ERASED_REASON`), and only what the vault writes itself (a
fulfilment's code, a restore's note) is kept in clear; ledger entries hold ids, codes and
digests only; every state change is one conditional write and a history row, so time to close
is read from the history.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TypeVar, cast

from consent.context import Consent
from consent.event_details import (
    DsrClosed,
    DsrExtended,
    DsrForwarded,
    DsrFulfilled,
    DsrReceived,
    DsrUpdated,
    RestrictionLifted,
)
from consent.events import ABSENT, SYSTEM_ACTOR
from consent.model import Restriction, RestrictionBasis, RestrictionScope
from consent.repositories import RestrictionRepository
from vault.catalog import clean_text
from vault.errors import ConflictError, MemberKeyMissingError, NotFoundError, ValidationError
from vault.sealing import MemberCipher, associated_data

from . import deadlines
from .deadlines import DEFAULT_TIMEZONE, HolidayCalendar, Urgency
from .repositories import HistoryRow, RequestRepository, RequestRow, ResultRow, TaskRow
from .request_model import (
    FINAL_STATES,
    KINDS,
    LEVELS,
    MAX_REASON,
    MAX_RESULT_BYTES,
    MAX_TEXT,
    MIN_EXTENSION_REASON,
    NO_SUCH_REQUEST,
    Forwarded,
    Kind,
    KindSpec,
    Message,
    Regime,
    Request,
    RequestState,
    Result,
    TaskState,
    day_of,
    due_on,
    end_of,
    start_of,
)

# The request's vocabulary is compliance/request_model.py's; these names are this module's
# too, so callers import the service and its values from one place.
__all__ = ["ERASED_REASON", "FINAL_STATES", "KINDS", "LEVELS", "MAX_REASON", "MAX_RESULT_BYTES",
           "MAX_TEXT", "MIN_EXTENSION_REASON", "NO_SUCH_REQUEST", "Forwarded", "Kind", "KindSpec",
           "Message", "Regime", "Request", "RequestService", "RequestState", "Result", "TaskState",
           "day_of", "due_on", "end_of"]


def _digest(text: str | None) -> str | None:
    return None if text is None else hashlib.sha256(text.encode()).hexdigest()


def _cleaned(value: str | None, max_length: int, name: str,
             errors: dict[str, list[str]]) -> str | None:
    """``value`` stripped (None if empty), or its problem added to ``errors``."""
    try:
        return clean_text(value or "", max_length=max_length, multiline=True) or None
    except ValueError as exc:
        errors[name] = [str(exc)]
        return None


def _text_aad(member_id: str, request_id: str) -> bytes:
    return associated_data(member_id, "dsr_request", request_id, "text")


def _result_aad(member_id: str, task_uid: str, name: str) -> bytes:
    return associated_data(member_id, "dsr_result", task_uid, name)


#: What a reason sealed under an erased member's key reads as.
ERASED_REASON = "erased with the member"

_Row = TypeVar("_Row", RequestRow, TaskRow, HistoryRow)


def reason_aad(member_id: str, request_id: str, task_uid: str | None, state: str,
               at: int | None) -> bytes:
    """A reason's associated data: its request, its task (None: the request's own), and the
    state and time it was given with, which the row it is kept on records beside it (a task's
    state and ``updated_at``, a history step's, an extension's ``extended_at``): a reason
    moved to another row, or kept after its row moved on, does not open."""
    return associated_data(member_id, "dsr_reason", request_id,
                           f"{task_uid or ''}:{state}:{at}")


class RequestService:
    """Data subject requests over ``consent`` (its vault and ledger).

    ``holders(member_id)``: the brands that hold (a grant of individual use, a pairwise subject
    handed out) or have read (the ledger's access index) the member's data.
    ``forward(Forwarded)``: queue the brand's message, inside the caller's transaction.
    """

    def __init__(self, *, requests: RequestRepository, restrictions: RestrictionRepository,
                 consent: Consent, calendar: HolidayCalendar,
                 holders: Callable[[str], Sequence[str]],
                 forward: Callable[[Forwarded], None], zone: str = DEFAULT_TIMEZONE) -> None:
        self._requests = requests
        self._restrictions = restrictions
        self._consent = consent
        self._vault = consent.vault
        self._calendar = calendar
        self._holders = holders
        self._forward = forward
        self._zone = zone

    def _now(self) -> int:
        return int(self._vault.clock())

    def today(self) -> dt.date:
        """Today in the deadline time zone (the law's calendar days)."""
        return day_of(self._now(), self._zone)

    def submitted_at(self, row: RequestRow) -> int:
        """The start of the request's day of receipt, as Unix seconds: the Forwarder's
        ``submittedTimestamp`` (the day only, see :func:`~.request_model.start_of`)."""
        return start_of(dt.date.fromisoformat(row.received_on), self._zone)

    def start_of_day(self, at: int) -> int:
        """The start of the day (in the deadline time zone) of the moment ``at``: what a brand
        is told of a moment it shares with other brands (a task forwarded, closed or moved by
        the vault for every brand a request reaches at once), as ``submittedTimestamp``."""
        return start_of(day_of(at, self._zone), self._zone)

    def due_at(self, row: RequestRow) -> int:
        """The end of the request's due day, as Unix seconds: the Forwarder's
        ``dueTimestamp``."""
        return end_of(dt.date.fromisoformat(row.due_on), self._zone)

    # -- filing -----------------------------------------------------------------------------
    def holders(self, member_id: str) -> list[str]:
        return sorted(set(self._holders(member_id)))

    def check(self, member_id: str, *, kind: str, text: str | None,
              brands: Sequence[str] | None) -> tuple[Kind, str | None, list[str]]:
        """The kind, the cleaned text and the brands a request would name, or one
        :class:`ValidationError` naming each field at fault. Writes nothing."""
        errors: dict[str, list[str]] = {}
        try:
            chosen = Kind(kind)
        except ValueError:
            errors["kind"] = ["Choose one of the kinds of request on the list."]
            chosen = Kind.ACCESS
        cleaned = _cleaned(text, MAX_TEXT, "text", errors)
        holders = self.holders(member_id)
        picked = holders if brands is None else sorted(set(brands))
        if any(b not in holders for b in picked):
            errors["brands"] = ["Choose among the brands that hold or have read your data."]
        if errors:
            raise ValidationError(errors)
        return chosen, cleaned, picked

    def file(self, member_id: str, *, kind: str, text: str | None = None,
             brands: Sequence[str] | None = None, source: str = "member") -> Request:
        """Record the request and forward it to the chosen brands (all that hold or have read
        the member's data, by default), in one data-store transaction."""
        chosen, cleaned, picked = self.check(member_id, kind=kind, text=text, brands=brands)
        spec = KINDS[chosen]
        consent = self._consent
        principal = consent.principal(member_id)
        request_id = "dsr_" + os.urandom(12).hex()
        with self._vault.data.transaction():
            now = self._now()
            received = day_of(now, self._zone)
            due = due_on(chosen, received, self._calendar)
            sealed = None if cleaned is None else self._vault.key_store.cipher(
                member_id).seal_text(_text_aad(member_id, request_id), cleaned)
            ccpa_request = spec.regime is Regime.CCPA and not spec.optout
            confirm_by = (deadlines.ccpa_confirm_by(received, self._calendar).isoformat()
                          if ccpa_request else None)
            self._requests.insert(RequestRow(
                request_id, member_id, principal, spec.regime.value, chosen.value, source,
                sealed, RequestState.RECEIVED.value, now, received.isoformat(), confirm_by,
                # The vault confirms receipt at once, on the member's page (sec. 7021(a)).
                now if ccpa_request else None, due.isoformat(), None, None, None, None, None,
                Urgency.GREEN.value))
            self._requests.add_history(request_id, None, RequestState.RECEIVED.value, None,
                                       now)
            consent.ledger.record_event(actor=principal, details=DsrReceived(
                request=request_id, regime=spec.regime.value, kind=chosen.value,
                source=source, due=due.isoformat()))
            for brand_id in picked:
                task = TaskRow(str(uuid.uuid4()), request_id, brand_id,
                               consent.brand_subject(member_id, brand_id), spec.message.value,
                               TaskState.PENDING.value, None, now, now, None)
                self._requests.add_task(task)
                self._requests.add_history(request_id, task.uid, TaskState.PENDING.value,
                                           None, now)
                self._forward(Forwarded(task, spec.regime, chosen,
                                        start_of(received, self._zone),
                                        end_of(due, self._zone)))
                consent.ledger.record_event(actor=principal, details=DsrForwarded(
                    request=request_id, brand=brand_id, task=task.uid,
                    message=spec.message.value))
            if picked:
                self._requests.update(request_id, state=RequestState.IN_PROGRESS.value)
                self._requests.add_history(request_id, None, RequestState.IN_PROGRESS.value,
                                           None, now)
        return self.member_request(member_id, request_id)

    # -- the vault's own part ---------------------------------------------------------------
    def fulfilled(self, request_id: str, fulfilment: str,
                  restrictions: Sequence[Restriction] = ()) -> None:
        """Record the vault's own part done (an export offered, the erasure begun, a
        restriction recorded...), closing the request if every brand's task is final;
        ``restrictions``: the processing restrictions it made, which the ledger's entry names
        (ids and brands) for a restore to make again (compliance/after_restore.py)."""
        consent = self._consent
        made = [{"id": r.id, "brand": r.brand_id} for r in restrictions]
        with self._vault.data.transaction():
            row = self._get(request_id)
            now = self._now()
            if row.fulfilled_at is not None or not self._requests.update(
                    request_id, fulfilled=(fulfilment, now)):
                return
            self._requests.add_history(request_id, None, "fulfilled", fulfilment, now)
            consent.ledger.record_event(actor=row.principal, details=DsrFulfilled(
                request=request_id, fulfilment=fulfilment, restrictions=made or ABSENT))
            self._close_if_done(request_id)

    def fulfil(self, member_id: str, request: Request) -> None:
        """The vault's part of the kinds it fulfils through consent: restrictions, objections,
        the limit on sensitive data, the opt-out of sale and sharing. (Exports, erasures and
        corrections are the web layer's: it calls :meth:`fulfilled`.)"""
        kind = request.kind
        now = self._now()
        made: list[Restriction] = []
        with self._vault.data.transaction():
            if kind in (Kind.RESTRICTION, Kind.OBJECTION, Kind.LIMIT_SENSITIVE):
                basis = RestrictionBasis(KINDS[kind].fulfilment)
                scope = (RestrictionScope.SENSITIVE if kind is Kind.LIMIT_SENSITIVE
                         else RestrictionScope.ALL)
                brands = [t.brand_id for t in request.tasks]
                # Every brand (those to come too) unless the member picked some of them.
                every = kind is Kind.LIMIT_SENSITIVE or not brands or set(brands) == set(
                    self.holders(member_id))
                for brand_id in ([None] if every else brands):
                    restriction = Restriction(0, member_id, brand_id, scope, basis, request.id,
                                              now)
                    made.append(replace(restriction,
                                        id=self._restrictions.add(restriction)))
            elif kind is Kind.OPT_OUT:
                terms = self._consent.terms
                current = terms.get(member_id)
                if not current.gpc_opt_out:
                    terms.update(member_id, agreement=current.agreement,
                                 purposes=current.purposes, max_days=current.max_days,
                                 aggregate_allowed=current.aggregate_allowed,
                                 sale_sharing_opt_out=True)
            else:
                raise ValueError(f"{kind} is not fulfilled through consent")
            self.fulfilled(request.id, KINDS[kind].fulfilment, made)

    def restrictions(self, member_id: str) -> list[Restriction]:
        return self._restrictions.for_member(member_id)

    def lift(self, member_id: str, restriction_id: int) -> None:
        """The member lifts one of their restrictions: brands may read again what their grants
        allow, from the next request on."""
        with self._vault.data.transaction():
            found = [r for r in self._restrictions.for_member(member_id)
                     if r.id == restriction_id and r.lifted_at is None]
            if not found or not self._restrictions.lift(member_id, restriction_id,
                                                        self._now()):
                raise NotFoundError("There is no such restriction holding.")
            self._consent.ledger.record_event(
                actor=self._consent.principal(member_id), details=RestrictionLifted(
                    restriction=restriction_id, basis=found[0].basis.value,
                    brand=found[0].brand_id))

    # -- brands -----------------------------------------------------------------------------
    def brand_tasks(self, brand_id: str, *, open_only: bool, limit: int,
                    offset: int) -> list[tuple[TaskRow, RequestRow]]:
        tasks = self._requests.tasks_for_brand(brand_id, open_only=open_only, limit=limit,
                                               offset=offset)
        found = []
        for task in tasks:
            row = self._get(task.request_id)
            found.append((self._opened(row, (task,))[0], row))
        return found

    def brand_task(self, brand_id: str, uid: str) -> tuple[TaskRow, RequestRow]:
        """The brand's own task; another brand's is as unknown as a missing one."""
        task = self._requests.task(uid)
        if task is None or task.brand_id != brand_id:
            raise NotFoundError(NO_SUCH_REQUEST)
        row = self._get(task.request_id)
        return self._opened(row, (task,))[0], row

    def brand_update(self, brand_id: str, uid: str, *, state: str, reason: str | None = None,
                     results: Sequence[tuple[str, str, bytes]] = ()
                     ) -> tuple[TaskRow, RequestRow]:
        """A brand's status event on its task: ``results`` (name, media type, bytes) only for
        an access request. A final state is final: any later event is a
        :class:`ConflictError`."""
        try:
            new = TaskState(state)
        except ValueError:
            raise ValidationError({"status": ["Must be pending, in_progress, completed,"
                                              " cancelled or denied."]}) from None
        errors: dict[str, list[str]] = {}
        reason = _cleaned(reason, MAX_REASON, "reason", errors)
        if new is TaskState.DENIED and reason is None:
            errors["reason"] = ["A denial needs its reason."]
        if errors:
            raise ValidationError(errors)
        consent = self._consent
        with self._vault.data.transaction():
            task, row = self.brand_task(brand_id, uid)
            if task.closed_at is not None:
                raise ConflictError(f"This request is {task.state} already: a final state is"
                                    " final.")
            if results and task.message != Message.ACCESS:
                raise ValidationError({"results": ["Only an access request has results."]})
            now = self._now()
            size = sum(len(data) for _, _, data in results)
            if results:
                if row.member_id is None:
                    raise ConflictError("The member was erased: there is no one to give "
                                        "results to.")
                if self._requests.result_bytes(uid) + size > MAX_RESULT_BYTES:
                    raise ValidationError({"results": [
                        f"At most {MAX_RESULT_BYTES} bytes of results per request."]})
                cipher = self._vault.key_store.cipher(row.member_id)
                for name, media_type, data in results:
                    self._requests.add_result(ResultRow(
                        0, uid, name, media_type, len(data),
                        cipher.seal(_result_aad(row.member_id, uid, name), data), now))
            final = new in FINAL_STATES
            # Sealed under the member's key; not kept at all once the member was erased (the
            # ledger keeps its digest).
            sealed = self._sealed_reason(row, uid, new.value, now, reason)
            if not self._requests.update_task(uid, state=new.value, reason=None, at=now,
                                              final=final, reason_sealed=sealed):
                raise ConflictError("This request is final already: a final state is final.")
            self._requests.add_history(row.id, uid, new.value, None, now, reason_sealed=sealed)
            consent.ledger.record_event(actor="brand:" + brand_id, details=DsrUpdated(
                request=row.id, brand=brand_id, task=uid, state=new.value,
                reason_sha256=_digest(reason), results=len(results)))
            if final:
                self._close_if_done(row.id)
        return self.brand_task(brand_id, uid)

    def result_count(self, task_uid: str) -> int:
        return len(self._requests.results_for([task_uid]))

    # -- officers ---------------------------------------------------------------------------
    def queue(self, *, limit: int, offset: int = 0, overdue_only: bool = False
              ) -> list[Request]:
        """Open requests by time left, overdue first, with their tasks (two queries)."""
        rows = self._requests.open_queue(
            limit=limit, offset=offset,
            due_before=self.today().isoformat() if overdue_only else None)
        tasks: dict[str, list[TaskRow]] = {}
        for task in self._requests.tasks_for_requests([r.id for r in rows]):
            tasks.setdefault(task.request_id, []).append(task)
        return [Request(r, tuple(tasks.get(r.id, ()))) for r in rows]

    def count_open(self, *, overdue_only: bool = False) -> int:
        return self._requests.count_open(
            due_before=self.today().isoformat() if overdue_only else None)

    def counts_by_state(self) -> dict[str, int]:
        found = self._requests.counts_by_state()
        return {state.value: found.get(state.value, 0) for state in RequestState}

    def closed_durations(self) -> list[tuple[str, int]]:
        return self._requests.closed_durations()

    def officer_view(self, request_id: str) -> Request:
        """A request with its tasks and history and the reasons officers and brands gave,
        never what the member wrote."""
        row = self._get(request_id)
        return Request(self._opened(row, (row,))[0],
                       self._opened(row, self._requests.tasks_for(request_id)),
                       history=self._opened(row, self._requests.history(request_id)))

    def extension_problem(self, request: Request) -> str | None:
        """Why the request cannot be extended now, or None."""
        row = request.row
        if row.state == RequestState.CLOSED:
            return "It is closed."
        if row.extended_at is not None:
            return "It was extended already: a request is extended once."
        if not request.spec.extendable:
            return "An opt-out cannot be extended (CCPA regulations sec. 7026)."
        received = dt.date.fromisoformat(row.received_on)
        notice_by = (deadlines.gdpr_extension_notice_by(received)
                     if request.spec.regime is Regime.GDPR
                     else deadlines.ccpa_extension_notice_by(received))
        if self.today() > notice_by:
            return (f"The notice had to reach the member within the first period, by "
                    f"{notice_by.isoformat()}.")
        return None

    def extend(self, request_id: str, *, officer_id: str, reason: str) -> Request:
        """Extend the deadline once, within the first period, with the reasoned notice the
        caller sends the member (GDPR Art. 12(3): two further months; CCPA sec. 7021(b):
        another 45 days)."""
        length = (f"Give the member the reason, in {MIN_EXTENSION_REASON} to {MAX_REASON}"
                  " characters.")
        try:
            reason = clean_text(reason or "", max_length=MAX_REASON, multiline=True)
        except ValueError as exc:
            # A control character is named as such, not as a wrong length.
            raise ValidationError({"reason": [
                length if len((reason or "").strip()) > MAX_REASON else str(exc)]}) from None
        if len(reason) < MIN_EXTENSION_REASON:
            raise ValidationError({"reason": [length]})
        with self._vault.data.transaction():
            request = self.officer_view(request_id)
            problem = self.extension_problem(request)
            if problem is not None:
                raise ConflictError(f"This request cannot be extended: {problem}")
            received = dt.date.fromisoformat(request.row.received_on)
            due = (deadlines.gdpr_extended_due(received)
                   if request.spec.regime is Regime.GDPR
                   else deadlines.ccpa_extended_due(received))
            now = self._now()
            sealed = self._sealed_reason(request.row, None, "extended", now, reason)
            if not self._requests.extend(request_id, due_on=due.isoformat(), reason=None,
                                         at=now, reason_sealed=sealed):
                raise ConflictError("This request cannot be extended: it was just now.")
            self._requests.add_history(request_id, None, "extended", None, now,
                                       reason_sealed=sealed)
            self._consent.ledger.record_event(
                actor=self._consent.principal(officer_id), details=DsrExtended(
                    request=request_id, due=due.isoformat(), reason_sha256=_digest(reason)
                    or ""))
        return self.officer_view(request_id)

    def reminders_due(self) -> list[tuple[Request, Urgency]]:
        """Open requests whose urgency passed the last level they were reminded of, each
        claimed at its new level (one conditional write: across workers and restarts, each
        level is told once). The caller sends the mail."""
        today = self.today()
        amber_line = (today + dt.timedelta(days=10)).isoformat()
        claimed = []
        offset = 0
        while True:
            rows = self._requests.open_queue(limit=500, offset=offset, due_before=amber_line)
            if not rows:
                break
            offset += len(rows)
            for row in rows:
                level = deadlines.urgency(dt.date.fromisoformat(row.due_on), today)
                if LEVELS.index(level) > LEVELS.index(Urgency(row.reminder_level)) and \
                        self._requests.raise_reminder(row.id, level_from=row.reminder_level,
                                                      level_to=level.value):
                    claimed.append((Request(row), level))
        return claimed

    def release_reminder(self, request_id: str, *, level: Urgency, previous: str) -> None:
        """Give a claimed reminder level back (its mail could not be sent): the next pass
        claims and sends it again."""
        self._requests.raise_reminder(request_id, level_from=level.value, level_to=previous)

    # -- members ----------------------------------------------------------------------------
    def for_member(self, member_id: str) -> list[Request]:
        """The member's requests, newest first, with their tasks, text and results opened."""
        rows = self._requests.for_member(member_id)
        tasks: dict[str, list[TaskRow]] = {}
        for task in self._requests.tasks_for_requests([r.id for r in rows]):
            tasks.setdefault(task.request_id, []).append(task)
        cipher = self._vault.key_store.cipher(member_id) if rows else None
        found = []
        for row in rows:
            own = tuple(tasks.get(row.id, ()))
            text = None
            if row.text_sealed is not None and cipher is not None:
                text = cipher.open(_text_aad(member_id, row.id), row.text_sealed).decode()
            results = tuple(
                Result(r.task_uid, r.name, r.media_type,
                       cipher.open(_result_aad(member_id, r.task_uid, r.name),
                                   r.document_sealed), r.created_at)
                for r in self._requests.results_for([t.uid for t in own])
            ) if cipher is not None else ()
            found.append(Request(self._opened(row, (row,), cipher)[0],
                                 self._opened(row, own, cipher), text, results))
        return found

    def member_request(self, member_id: str, request_id: str) -> Request:
        for request in self.for_member(member_id):
            if request.id == request_id:
                return request
        raise NotFoundError(NO_SUCH_REQUEST)

    # -- helpers ----------------------------------------------------------------------------
    def _cipher(self, row: RequestRow) -> MemberCipher | None:
        """The request's member's cipher; None once the member is erased (or their key is)."""
        if row.member_id is None:
            return None
        try:
            return self._vault.key_store.cipher(row.member_id)
        except MemberKeyMissingError:
            return None

    def _sealed_reason(self, row: RequestRow, task_uid: str | None, state: str, at: int,
                       reason: str | None) -> bytes | None:
        cipher = None if reason is None else self._cipher(row)
        if cipher is None or reason is None or row.member_id is None:
            return None
        return cipher.seal_text(reason_aad(row.member_id, row.id, task_uid, state, at), reason)

    def _opened(self, request: RequestRow, rows: Sequence[_Row],
                cipher: MemberCipher | None = None) -> tuple[_Row, ...]:
        """``rows`` of ``request`` (the request itself, its tasks or its history steps) with
        their sealed reasons opened into their clear fields (:data:`ERASED_REASON` once the
        member is erased); ``cipher`` the member's, if the caller has it (else it is looked up
        only when a row holds a sealed reason; the key store keeps it for the next call)."""
        if not any(_sealed_of(row) is not None for row in rows):
            return tuple(rows)
        cipher = cipher or self._cipher(request)
        return tuple(cast(_Row, _with_reason(row, request, cipher)) for row in rows)

    def _get(self, request_id: str) -> RequestRow:
        row = self._requests.get(request_id)
        if row is None:
            raise NotFoundError(NO_SUCH_REQUEST)
        return row

    def _close_if_done(self, request_id: str) -> None:
        row = self._get(request_id)
        tasks = self._requests.tasks_for(request_id)
        if row.fulfilled_at is None or any(t.closed_at is None for t in tasks):
            return
        now = self._now()
        if self._requests.update(request_id, state=RequestState.CLOSED.value, closed_at=now):
            self._requests.add_history(request_id, None, RequestState.CLOSED.value, None, now)
            counts: dict[str, int] = {}
            for task in tasks:
                counts[task.state] = counts.get(task.state, 0) + 1
            self._consent.ledger.record_event(actor=SYSTEM_ACTOR, details=DsrClosed(
                request=request_id, tasks=counts))


def _sealed_of(row: RequestRow | TaskRow | HistoryRow) -> bytes | None:
    return row.extension_reason_sealed if isinstance(row, RequestRow) else row.reason_sealed


def _with_reason(row: RequestRow | TaskRow | HistoryRow, request: RequestRow,
                 cipher: MemberCipher | None) -> RequestRow | TaskRow | HistoryRow:
    sealed = _sealed_of(row)
    if sealed is None:
        return row
    def opened(task_uid: str | None, state: str, at: int | None) -> str:
        if cipher is None or request.member_id is None:
            return ERASED_REASON
        return cipher.open_text(
            reason_aad(request.member_id, request.id, task_uid, state, at), sealed)

    if isinstance(row, RequestRow):
        return replace(row, extension_reason=opened(None, "extended", row.extended_at))
    if isinstance(row, TaskRow):
        return replace(row, reason=opened(row.uid, row.state, row.updated_at))
    return replace(row, reason=opened(row.task_uid, row.state, row.at))
