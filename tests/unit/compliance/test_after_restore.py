"""Requests and restrictions brought back from the ledger after a restore
(compliance/after_restore.py), over the real SQLCipher stores. A store older than its ledger is
made here by recording entries the store has no rows for, as the ledger of a vault whose data
store was restored from a backup holds them; the functional test (tests/functional/
test_restore_grants.py) does it with real backups on both engines."""

from __future__ import annotations

import json
from typing import Any

import pytest

from brand_gateway.dsr import dsr_forwarder
from compliance.after_restore import LOST_REASON, RESTORED, RestoredRequests
from compliance.deadlines import HolidayCalendar
from compliance.requests import RequestService
from compliance.storage import request_restorer
from consent.context import Consent
from consent.event_details import (
    DsrClosed,
    DsrForwarded,
    DsrFulfilled,
    DsrReceived,
    DsrUpdated,
    RestrictionLifted,
)
from consent.model import RestrictionBasis, RestrictionScope
from tests.unit.compliance.conftest import CALLBACK
from vault.clock import FrozenClock

NOTHING = RestoredRequests(received=0, advanced=0, restrictions=0, lifted=0)


def _reapply(consent: Consent) -> RestoredRequests:
    return request_restorer(consent, calendar=HolidayCalendar(),
                            forward=dsr_forwarder(consent, callback_base=CALLBACK)).reapply()


def _forwarded(consent: Consent) -> list[dict[str, Any]]:
    """The dsr/v1 messages in the webhook outbox, oldest first."""
    return [json.loads(row[0])["data"] for row in consent.vault.data.all(
        "SELECT payload FROM webhook_outbox WHERE event_type LIKE 'dsr.%' ORDER BY id")]


def _received(consent: Consent, principal: str, request_id: str, *, kind: str,
              regime: str = "gdpr", due: str = "2027-02-15") -> None:
    consent.ledger.record_event(actor=principal, details=DsrReceived(
        request=request_id, regime=regime, kind=kind, source="member", due=due))


def test_a_restriction_recorded_before_its_entry_named_it_comes_back_for_every_brand(
        consent: Consent, world: dict[str, Any], service: RequestService,
        clock: FrozenClock) -> None:
    alice = world["alice"]
    principal = consent.principal(alice)
    request_id = "dsr_" + "a" * 24
    _received(consent, principal, request_id, kind="restriction")
    consent.ledger.record_event(actor=principal, details=DsrForwarded(
        request=request_id, brand=world["velo"], task="task-velo",
        message="RestrictProcessingRequest"))
    # As the service recorded it before the entry named the restrictions it made.
    consent.ledger.record_event(actor=principal, details=DsrFulfilled(
        request=request_id, fulfilment="restriction"))
    clock.advance(60)
    consent.ledger.record_event(actor=principal, details=RestrictionLifted(
        restriction=4242, basis="restriction", brand=world["velo"]))

    assert _reapply(consent) == RestoredRequests(received=1, advanced=0, restrictions=1,
                                                 lifted=1, forwarded=1)
    # The backup lacks the message its filing queued: the brand is sent it again, as filed.
    (message,) = _forwarded(consent)
    assert (message["kind"], message["metadata"]["uid"]) == (
        "RestrictProcessingRequest", "task-velo")
    assert message["request"]["identities"][0]["identityValue"] == consent.brand_subject(
        alice, world["velo"])
    assert message["request"]["callbacks"][0]["url"] == (
        f"{CALLBACK}/api/v1/requests/task-velo/events")
    assert message["request"]["dueTimestamp"] == service.due_at(
        service.officer_view(request_id).row)
    (restored,) = service.restrictions(alice)
    assert (restored.brand_id, restored.scope, restored.basis, restored.request_id) == (
        None, RestrictionScope.ALL, RestrictionBasis.RESTRICTION, request_id)
    assert restored.lifted_at == int(clock())
    request = service.officer_view(request_id)
    assert (request.row.state, request.row.fulfilment, request.row.due_on) == (
        "in_progress", "restriction", "2027-02-15")
    assert [(t.brand_id, t.subject, t.state) for t in request.tasks] == [
        (world["velo"], consent.brand_subject(alice, world["velo"]), "pending")]
    # Once is enough, and a second live restriction of the same kind is not lifted for it.
    made = service.file(alice, kind="restriction", brands=[world["grocer"]])
    service.fulfil(alice, made)
    assert _reapply(consent) == NOTHING
    assert [m["metadata"]["uid"] for m in _forwarded(consent)] == [
        "task-velo", made.tasks[0].uid]                 # nothing sent a second time
    assert [r.lifted_at is None for r in service.restrictions(alice)] == [True, False]


def test_a_request_of_an_account_or_to_a_brand_the_store_lacks_says_what_it_lost(
        consent: Consent, world: dict[str, Any], service: RequestService) -> None:
    request_id = "dsr_" + "b" * 24
    gone = "member:" + "0" * 32                   # erased, or made since the backup
    _received(consent, gone, request_id, kind="know", regime="ccpa", due="2027-03-01")
    for brand, task in ((world["velo"], "task-velo"), ("brand_made_since", "task-new")):
        consent.ledger.record_event(actor=gone, details=DsrForwarded(
            request=request_id, brand=brand, task=task, message="AccessRequest"))
    consent.ledger.record_event(actor="brand:" + world["velo"], details=DsrUpdated(
        request=request_id, brand=world["velo"], task="task-velo", state="denied",
        reason_sha256="0" * 64, results=0))
    consent.ledger.record_event(actor=gone, details=DsrFulfilled(request=request_id,
                                                                 fulfilment="export"))
    consent.ledger.record_event(actor="system", details=DsrClosed(request=request_id,
                                                                  tasks={"denied": 1}))

    assert _reapply(consent) == RestoredRequests(received=1, advanced=0, restrictions=0,
                                                 lifted=0)
    assert _forwarded(consent) == []          # answered already, and no member to name
    request = service.officer_view(request_id)
    assert (request.row.member_id, request.row.principal, request.row.state) == (
        None, gone, "closed")
    assert request.row.confirm_by is not None and request.row.confirmed_at is not None
    assert [(t.brand_id, t.subject, t.state, t.reason) for t in request.tasks] == [
        (world["velo"], "", "denied", LOST_REASON)]
    (note,) = [h.reason or "" for h in request.history if h.state == RESTORED]
    for lost in ("what the member wrote", "its member's account",
                 f"the pseudonym {world['velo']} knows the member by",
                 "task task-new for brand_made_since, a brand the store does not hold",
                 f"the reason {world['velo']} gave (denied)"):
        assert lost in note
    assert _reapply(consent) == NOTHING


def test_a_request_the_store_shows_whole_is_left_as_it_is(
        consent: Consent, world: dict[str, Any], service: RequestService) -> None:
    filed = service.file(world["alice"], kind="objection")
    service.fulfil(world["alice"], filed)
    for task in filed.tasks:
        service.brand_update(task.brand_id, task.uid, state="in_progress")
    before = service.officer_view(filed.id)
    assert _reapply(consent) == NOTHING
    assert service.officer_view(filed.id) == before


@pytest.mark.parametrize("state", ["in_progress", "completed"])
def test_a_brand_state_recorded_in_the_second_after_the_change_is_shown_already(
        consent: Consent, world: dict[str, Any], service: RequestService,
        clock: FrozenClock, state: str) -> None:
    """A task's change and its entry may fall in two seconds: the entry is not new."""
    filed = service.file(world["alice"], kind="access", brands=[world["velo"]])
    (task,) = filed.tasks
    service.brand_update(world["velo"], task.uid, state=state)
    clock.advance(1)
    consent.vault.data.execute("UPDATE dsr_tasks SET updated_at = updated_at - 1"
                               " WHERE uid = ?", (task.uid,))
    before = service.officer_view(filed.id)
    assert _reapply(consent) == NOTHING
    assert service.officer_view(filed.id) == before


def test_a_task_of_a_member_the_store_lacks_is_not_sent_again(
        consent: Consent, world: dict[str, Any], service: RequestService) -> None:
    """Unanswered, but the brand knows the member by a pseudonym the store cannot give
    (the account erased or made since the backup): nothing is sent in nobody's name."""
    request_id = "dsr_" + "c" * 24
    gone = "member:" + "1" * 32
    _received(consent, gone, request_id, kind="erasure")
    consent.ledger.record_event(actor=gone, details=DsrForwarded(
        request=request_id, brand=world["velo"], task="task-gone", message="DeleteRequest"))
    assert _reapply(consent) == RestoredRequests(received=1, advanced=0, restrictions=0,
                                                 lifted=0)
    assert [t.state for t in service.officer_view(request_id).tasks] == ["pending"]
    assert _forwarded(consent) == []
