"""Data subject requests (compliance/requests.py) over the real SQLCipher stores: filing,
forwarding to the brands that hold or read the member's data, self-fulfilment at the decision
point, brands' status events with final states, extension, reminders, erasure."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from brand_gateway.webhooks.sqlcipher import SqlcipherWebhookOutbox
from compliance.deadlines import Urgency
from compliance.requests import ERASED_REASON, FINAL_STATES, RequestService, TaskState
from consent.context import Consent
from consent.events import EventTag
from consent.model import Mode
from tests.unit.compliance.conftest import CALLBACK
from tests.unit.consent.conftest import Sharing
from vault.clock import FrozenClock
from vault.errors import ConflictError, NotFoundError, ValidationError

DAY = 86_400


def _messages(consent: Consent) -> list[dict[str, Any]]:
    return [json.loads(r["payload"]) for r in consent.vault.data.all(
        "SELECT payload FROM webhook_outbox WHERE event_type LIKE 'dsr.%' ORDER BY id")]


def test_filing_forwards_to_each_brand_under_its_pairwise_subject_only(
        service: RequestService, consent: Consent, world: dict[str, Any]) -> None:
    alice = world["alice"]
    consent.vault.clock.advance(9 * 3600 + 17 * 60 + 23)      # 09:17:23 Pacific time
    request = service.file(alice, kind="erasure", text="Please delete everything.")
    assert {t.brand_id for t in request.tasks} == {world["velo"], world["grocer"]}
    assert request.text == "Please delete everything."
    assert request.row.due_on == "2027-02-15"         # 2027-01-15 + one calendar month
    messages = _messages(consent)
    assert len(messages) == 2
    uids, subjects = set(), set()
    for message in messages:
        body = message["data"]
        assert message["type"] == "dsr.delete"
        assert body["apiVersion"] == "dsr/v1" and body["kind"] == "DeleteRequest"
        task = next(t for t in request.tasks if t.uid == body["metadata"]["uid"])
        assert body["request"]["identities"][0]["identityValue"] == task.subject
        assert task.subject == consent.brand_subject(alice, task.brand_id)
        assert body["request"]["callbacks"][0]["url"] == (
            f"{CALLBACK}/api/v1/requests/{task.uid}/events")
        # The end of the due day in the deadline time zone (Pacific time by default), and the
        # start of the day of receipt: never the second it was filed, which every brand of the
        # request would share.
        assert body["request"]["dueTimestamp"] == int(dt.datetime(
            2027, 2, 16, tzinfo=ZoneInfo("America/Los_Angeles")).timestamp()) - 1
        assert body["request"]["submittedTimestamp"] == int(dt.datetime(
            2027, 1, 15, tzinfo=ZoneInfo("America/Los_Angeles")).timestamp())
        assert body["request"]["submittedTimestamp"] != request.row.received_at
        # The envelope's time is the day too (UTC, as every webhook's), for the same reason.
        assert message["timestamp"].endswith("T00:00:00Z")
        assert service.start_of_day(request.row.received_at) == body["request"][
            "submittedTimestamp"]
        text = json.dumps(message)
        assert "example.org" not in text and request.id not in text and "Please" not in text
        uids.add(task.uid)
        subjects.add(task.subject)
    assert len(uids) == len(subjects) == 2              # nothing in common between brands
    tags = [consent.ledger.entry(seq).tag for seq in range(consent.ledger.size)]
    assert tags.count(EventTag.DSR_REQUEST_FORWARDED) == 2
    assert EventTag.DSR_REQUEST_RECEIVED in tags


def test_a_brand_answers_its_own_task_and_final_states_are_final(
        service: RequestService, world: dict[str, Any]) -> None:
    request = service.file(world["alice"], kind="access")
    velo = next(t for t in request.tasks if t.brand_id == world["velo"])
    grocer = next(t for t in request.tasks if t.brand_id == world["grocer"])
    with pytest.raises(NotFoundError):                  # another brand's task
        service.brand_update(world["grocer"], velo.uid, state="in_progress")
    with pytest.raises(ValidationError):
        service.brand_update(world["velo"], velo.uid, state="denied")    # no reason
    service.brand_update(world["velo"], velo.uid, state="completed",
                         results=[("orders.json", "application/json", b'{"orders": 3}')])
    with pytest.raises(ConflictError):
        service.brand_update(world["velo"], velo.uid, state="in_progress")
    service.fulfilled(request.id, "export")
    assert service.member_request(world["alice"], request.id).row.state == "in_progress"
    service.brand_update(world["grocer"], grocer.uid, state="denied", reason="No such account")
    mine = service.member_request(world["alice"], request.id)
    assert mine.row.state == "closed"
    assert [r.data for r in mine.results] == [b'{"orders": 3}']
    assert {t.state for t in mine.tasks} <= {s.value for s in FINAL_STATES}
    history = service.officer_view(request.id).history
    assert [h.state for h in history if h.task_uid is None][-1] == "closed"


def test_results_only_for_access_and_size_limited(service: RequestService,
                                                  world: dict[str, Any]) -> None:
    request = service.file(world["alice"], kind="erasure", brands=[world["velo"]])
    with pytest.raises(ValidationError):
        service.brand_update(world["velo"], request.tasks[0].uid, state="completed",
                             results=[("x.json", "application/json", b"{}")])
    access = service.file(world["alice"], kind="know", brands=[world["velo"]])
    with pytest.raises(ValidationError):
        service.brand_update(world["velo"], access.tasks[0].uid, state="in_progress",
                             results=[("x.json", "application/json", b" " * 1_000_001)])


def test_brands_must_be_among_the_holders(service: RequestService,
                                          world: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as raised:
        service.file(world["alice"], kind="access", brands=[world["other"]])
    assert "brands" in raised.value.errors
    with pytest.raises(ValidationError):
        service.file(world["alice"], kind="no-such-kind")


def test_restriction_denies_the_next_read_until_lifted(
        service: RequestService, consent: Consent, world: dict[str, Any]) -> None:
    alice, velo, grocer = world["alice"], world["velo"], world["grocer"]
    now = consent.vault.clock()

    def allowed(brand: str) -> bool:
        return consent.decisions.decide(brand, "dpv:Personalisation", alice, "given_name",
                                        Mode.INDIVIDUAL, now).allowed

    assert allowed(velo) and allowed(grocer)
    request = service.file(alice, kind="restriction", brands=[velo])
    service.fulfil(alice, request)
    assert not allowed(velo)
    assert "Art. 18" in consent.decisions.decide(velo, "dpv:Personalisation", alice,
                                                 "given_name", Mode.INDIVIDUAL, now).reason
    assert allowed(grocer)                              # not a brand the member named
    restriction = service.restrictions(alice)[0]
    service.lift(alice, restriction.id)
    assert allowed(velo)
    with pytest.raises(NotFoundError):
        service.lift(alice, restriction.id)


def test_a_restriction_with_no_brand_ticked_holds_for_every_brand(
        service: RequestService, consent: Consent, world: dict[str, Any]) -> None:
    alice = world["alice"]
    request = service.file(alice, kind="objection", brands=[])
    assert request.tasks == ()
    service.fulfil(alice, request)
    [restriction] = service.restrictions(alice)
    assert restriction.brand_id is None
    for brand in (world["velo"], world["grocer"], world["other"]):
        assert "Art. 21" in consent.decisions.decide(
            brand, "dpv:Personalisation", alice, "given_name", Mode.INDIVIDUAL,
            consent.vault.clock()).reason


def test_limit_sensitive_denies_sensitive_fields_only(
        service: RequestService, consent: Consent, sharing: Sharing,
        world: dict[str, Any]) -> None:
    alice, velo = world["alice"], world["velo"]
    sharing.grant(alice, velo, "dpv:Personalisation", ("given_name", "religion"))
    now = consent.vault.clock()
    request = service.file(alice, kind="limit_sensitive")
    service.fulfil(alice, request)
    # 15 business days of California's calendar: Monday 18 January 2027 is a holiday.
    assert service.member_request(alice, request.id).row.due_on == "2027-02-08"
    decided = consent.decisions.policy(alice, velo).decide_fields(
        "dpv:Personalisation", ["given_name", "religion"], Mode.INDIVIDUAL, now)
    assert decided["given_name"].allowed
    assert not decided["religion"].allowed


def test_opt_out_is_in_the_standing_terms(service: RequestService, consent: Consent,
                                          world: dict[str, Any]) -> None:
    request = service.file(world["alice"], kind="opt_out_sale_sharing")
    service.fulfil(world["alice"], request)
    assert consent.terms.get(world["alice"]).gpc_opt_out


def test_extension_once_within_the_first_period(service: RequestService, clock: FrozenClock,
                                                world: dict[str, Any]) -> None:
    request = service.file(world["alice"], kind="access")
    with pytest.raises(ValidationError):
        service.extend(request.id, officer_id=world["bob"], reason="short")
    extended = service.extend(request.id, officer_id=world["bob"],
                              reason="Two brands hold archives we must search.")
    assert extended.row.due_on == "2027-04-15"
    with pytest.raises(ConflictError):
        service.extend(request.id, officer_id=world["bob"], reason="Once more, please, why not")
    late = service.file(world["alice"], kind="know")
    clock.advance(46 * DAY)
    with pytest.raises(ConflictError):
        service.extend(late.id, officer_id=world["bob"], reason="Too late for the notice.")
    optout = service.file(world["alice"], kind="opt_out_sale_sharing")
    assert "cannot be extended" in (service.extension_problem(
        service.officer_view(optout.id)) or "cannot be extended")


def test_reminders_once_per_level(service: RequestService, clock: FrozenClock,
                                  world: dict[str, Any]) -> None:
    request = service.file(world["alice"], kind="access")
    assert service.reminders_due() == []
    clock.advance(23 * DAY)                              # 8 days left: amber
    assert [(r.id, level) for r, level in service.reminders_due()] == [
        (request.id, Urgency.AMBER)]
    assert service.reminders_due() == []                 # told once
    clock.advance(10 * DAY)                              # overdue (skips red: told once)
    assert [level for _, level in service.reminders_due()] == [Urgency.OVERDUE]
    assert service.reminders_due() == []
    assert service.queue(limit=10, overdue_only=True)[0].id == request.id


def test_queue_is_by_time_left(service: RequestService, clock: FrozenClock,
                               world: dict[str, Any]) -> None:
    gdpr = service.file(world["alice"], kind="access")         # due in a month
    clock.advance(DAY)
    optout = service.file(world["alice"], kind="opt_out_sale_sharing")   # 15 business days
    ccpa = service.file(world["alice"], kind="know")           # 45 days
    assert [r.id for r in service.queue(limit=10)] == [optout.id, gdpr.id, ccpa.id]
    assert service.count_open() == 3
    assert service.queue(limit=10)[0].urgency(service.today()) is Urgency.GREEN


def test_erasure_keeps_the_request_with_the_principal(
        service: RequestService, consent: Consent, world: dict[str, Any]) -> None:
    alice = world["alice"]
    request = service.file(alice, kind="delete")
    service.fulfilled(request.id, "erasure")
    consent.vault.erasure.erase(alice)
    kept = service.officer_view(request.id)
    assert kept.row.member_id is None
    assert kept.row.principal == request.row.principal
    for task in kept.tasks:
        service.brand_update(task.brand_id, task.uid, state="completed")
    assert service.officer_view(request.id).row.state == "closed"
    assert TaskState.COMPLETED in FINAL_STATES
    assert SqlcipherWebhookOutbox(consent.vault.data) is not None


def test_officers_and_brands_reasons_are_sealed_and_go_with_the_member(
        service: RequestService, consent: Consent, world: dict[str, Any]) -> None:
    """An officer's reason for an extension and a brand's for its state are words about one
    member: sealed under the member's key in the data store, read in clear by those who may
    (the officer, the brand its own, the member), and unreadable once the member is erased,
    with the documents brands returned gone; the ledger keeps only their digests."""
    alice, data = world["alice"], consent.vault.data
    request = service.file(alice, kind="access")
    velo = next(t for t in request.tasks if t.brand_id == world["velo"])
    grocer = next(t for t in request.tasks if t.brand_id == world["grocer"])
    extension = "Velo keeps Alice Example's rides in an archive we must search."
    denial = "We hold no account for Alice Example."
    service.extend(request.id, officer_id=world["bob"], reason=extension)
    service.brand_update(world["velo"], velo.uid, state="denied", reason=denial)
    service.brand_update(world["grocer"], grocer.uid, state="in_progress", reason="Looking",
                         results=[("alice-example.json", "application/json", b"{}")])

    stored = [bytes(value) for row in data.all(
        "SELECT extension_reason_sealed FROM dsr_requests UNION ALL SELECT reason_sealed"
        " FROM dsr_tasks UNION ALL SELECT reason_sealed FROM dsr_history") for value in row
        if value is not None]
    assert len(stored) == 6         # the extension and two task states, on rows and steps
    assert not any(b"Alice" in value or b"Looking" in value for value in stored)
    assert {tuple(row) for row in data.all(
        "SELECT extension_reason FROM dsr_requests UNION ALL SELECT reason FROM dsr_tasks"
        " UNION ALL SELECT reason FROM dsr_history")} == {(None,)}
    ledger = json.dumps([consent.ledger.entry(seq).details
                         for seq in range(consent.ledger.size)])
    assert "Alice Example" not in ledger and "Looking" not in ledger

    seen = service.officer_view(request.id)
    assert seen.row.extension_reason == extension
    assert {t.brand_id: t.reason for t in seen.tasks} == {
        world["velo"]: denial, world["grocer"]: "Looking"}
    assert [(h.state, h.reason) for h in seen.history if h.state in (
        "extended", "denied", "in_progress") and h.reason] == [
        ("extended", extension), ("denied", denial), ("in_progress", "Looking")]
    assert service.brand_task(world["velo"], velo.uid)[0].reason == denial
    assert [t.reason for t, _ in service.brand_tasks(
        world["grocer"], open_only=False, limit=10, offset=0)] == ["Looking"]
    mine = service.member_request(alice, request.id)
    assert mine.row.extension_reason == extension
    assert {t.reason for t in mine.tasks} == {denial, "Looking"}

    consent.vault.erasure.erase(alice)
    gone = service.officer_view(request.id)
    assert gone.row.extension_reason == ERASED_REASON
    assert {t.reason for t in gone.tasks} == {ERASED_REASON}
    assert {h.reason for h in gone.history if h.reason_sealed} == {ERASED_REASON}
    assert service.brand_task(world["velo"], velo.uid)[0].reason == ERASED_REASON
    assert data.one("SELECT count(*) FROM dsr_results")[0] == 0
    # A brand's reason after the erasure is not kept: there is no key to seal it under.
    done = service.brand_update(world["grocer"], grocer.uid, state="completed",
                                reason="Deleted Alice Example's orders")[0]
    assert done.reason is None and done.reason_sealed is None
    assert data.one("SELECT count(*) FROM dsr_tasks WHERE reason LIKE '%Alice%'")[0] == 0
