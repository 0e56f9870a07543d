"""Contracts of data subject requests (``compliance/repositories.py``) and processing
restrictions (``consent/repositories.py``): the queue is by due date over open requests only,
every state change happens once, final tasks stay final, a request outlives its member's row;
two hosts reading one request to change it take turns, the second seeing what the first
committed."""

from __future__ import annotations

from typing import Any

import pytest

from compliance.repositories import RequestRow, ResultRow, TaskRow
from consent.model import Restriction, RestrictionBasis, RestrictionScope
from vault.brands import Brand

from . import test_intents
from .conftest import Repositories, add_member

other_host = test_intents.other_host         # a second connection to the test's data store


@pytest.fixture
def brands(repositories: Repositories) -> tuple[str, str]:
    assert repositories.brands.insert(Brand("brand_1", "Velo", ()), 1)
    assert repositories.brands.insert(Brand("brand_2", "Atlas", ()), 1)
    return "brand_1", "brand_2"


def _request(request_id: str, member_id: str | None, *, due_on: str, received_at: int = 100,
             state: str = "received") -> RequestRow:
    return RequestRow(request_id, member_id, "member:p_" + request_id, "gdpr", "access",
                      "member", b"sealed", state, received_at, "2027-01-15", None, None,
                      due_on, None, None, None, None, None, "green")


def _task(uid: str, request_id: str, brand_id: str, *, at: int = 100) -> TaskRow:
    return TaskRow(uid, request_id, brand_id, "subject_" + uid, "AccessRequest", "pending",
                   None, at, at, None)


def test_requests_queue_by_due_date_and_change_once(repositories: Repositories,
                                                    brands: tuple[str, str]) -> None:
    requests = repositories.dsr_requests
    alice = add_member(repositories, 1)
    requests.insert(_request("dsr_a", alice, due_on="2027-02-15"))
    requests.insert(_request("dsr_b", alice, due_on="2027-01-20", received_at=200))
    requests.insert(_request("dsr_c", alice, due_on="2027-01-20", received_at=150))
    requests.insert(_request("dsr_d", alice, due_on="2027-01-01", state="closed"))
    assert requests.get("dsr_a") == _request("dsr_a", alice, due_on="2027-02-15")
    assert requests.get("dsr_z") is None
    assert [r.id for r in requests.open_queue(limit=10)] == ["dsr_c", "dsr_b", "dsr_a"]
    assert [r.id for r in requests.open_queue(limit=1, offset=1)] == ["dsr_b"]
    assert [r.id for r in requests.open_queue(limit=10, due_before="2027-02-01")] == [
        "dsr_c", "dsr_b"]
    assert requests.count_open() == 3
    assert requests.count_open(due_before="2027-01-20") == 0
    assert [r.id for r in requests.for_member(alice)] == ["dsr_b", "dsr_c", "dsr_d", "dsr_a"]
    assert requests.counts_by_state() == {"received": 3, "closed": 1}

    assert requests.update("dsr_a", fulfilled=("export", 120)) is True
    assert requests.update("dsr_d", state="in_progress") is False        # closed
    assert requests.update("dsr_a", state="closed", closed_at=400) is True
    assert requests.update("dsr_a", state="closed", closed_at=500) is False
    assert requests.closed_durations() == [("gdpr", 300)]
    assert requests.extend("dsr_b", due_on="2027-04-15", reason="archives", at=130) is True
    assert requests.extend("dsr_b", due_on="2027-05-15", reason="again", at=140) is False
    extended = requests.get("dsr_b")
    assert extended is not None and (extended.due_on, extended.extension_reason) == (
        "2027-04-15", "archives")
    assert requests.extend("dsr_c", due_on="2027-04-15", reason=None, at=135,
                           reason_sealed=b"\1sealed")
    sealed = requests.get("dsr_c")
    assert sealed is not None and (sealed.extension_reason, sealed.extension_reason_sealed,
                                   sealed.extended_at) == (None, b"\1sealed", 135)
    assert requests.raise_reminder("dsr_c", level_from="green", level_to="green")
    assert requests.raise_reminder("dsr_c", level_from="green", level_to="amber") is True
    assert requests.raise_reminder("dsr_c", level_from="green", level_to="amber") is False


def test_tasks_results_and_history(repositories: Repositories,
                                   brands: tuple[str, str]) -> None:
    requests = repositories.dsr_requests
    alice = add_member(repositories, 1)
    requests.insert(_request("dsr_a", alice, due_on="2027-02-15"))
    requests.insert(_request("dsr_b", alice, due_on="2027-02-16"))
    requests.add_task(_task("u1", "dsr_a", brands[1]))
    requests.add_task(_task("u2", "dsr_a", brands[0], at=110))
    requests.add_task(_task("u3", "dsr_b", brands[0], at=120))
    assert requests.task("u1") == _task("u1", "dsr_a", brands[1])
    assert requests.task("u9") is None
    assert [t.uid for t in requests.tasks_for("dsr_a")] == ["u2", "u1"]          # by brand
    assert [t.uid for t in requests.tasks_for_requests(["dsr_a", "dsr_b"])] == [
        "u2", "u1", "u3"]
    assert [t.uid for t in requests.tasks_for_brand(brands[0], open_only=False, limit=10,
                                                    offset=0)] == ["u3", "u2"]
    assert requests.update_task("u2", state="completed", reason=None, at=130, final=True)
    assert not requests.update_task("u2", state="denied", reason="no", at=140, final=True)
    assert [t.uid for t in requests.tasks_for_brand(brands[0], open_only=True, limit=10,
                                                    offset=0)] == ["u3"]
    requests.add_result(ResultRow(0, "u1", "a.json", "application/json", 3, b"abc", 150))
    requests.add_result(ResultRow(0, "u1", "b.json", "application/json", 4, b"abcd", 151))
    assert [r.name for r in requests.results_for(["u1", "u2"])] == ["a.json", "b.json"]
    assert requests.result_bytes("u1") == 7 and requests.result_bytes("u2") == 0
    requests.add_history("dsr_a", None, "received", None, 100)
    requests.add_history("dsr_a", "u2", "completed", "done", 130)
    assert [(h.task_uid, h.state, h.reason) for h in requests.history("dsr_a")] == [
        (None, "received", None), ("u2", "completed", "done")]
    # A reason sealed under the member's key is kept as it is given, on the task and its step.
    assert requests.update_task("u3", state="denied", reason=None, at=160, final=True,
                                reason_sealed=b"\1sealed")
    requests.add_history("dsr_b", "u3", "denied", None, 160, reason_sealed=b"\1sealed")
    denied = requests.task("u3")
    assert denied is not None and (denied.state, denied.reason, denied.reason_sealed,
                                   denied.updated_at) == ("denied", None, b"\1sealed", 160)
    assert [(h.state, h.reason, h.reason_sealed) for h in requests.history("dsr_b")] == [
        ("denied", None, b"\1sealed")]


def test_a_request_outlives_its_members_row(repositories: Repositories,
                                            brands: tuple[str, str]) -> None:
    requests = repositories.dsr_requests
    alice = add_member(repositories, 1)
    requests.insert(_request("dsr_a", alice, due_on="2027-02-15"))
    requests.add_task(_task("u1", "dsr_a", brands[0]))
    repositories.restrictions.add(Restriction(0, alice, None, RestrictionScope.ALL,
                                              RestrictionBasis.RESTRICTION, "dsr_a", 100))
    # What was given in clear before data migration 16, and a document a brand returned.
    requests.extend("dsr_a", due_on="2027-04-15", reason="Archives of Alice's rides", at=110)
    requests.update_task("u1", state="denied", reason="No account for Alice", at=120,
                         final=True)
    requests.add_history("dsr_a", None, "extended", "Archives of Alice's rides", 110)
    requests.add_history("dsr_a", "u1", "denied", "No account for Alice", 120)
    requests.add_history("dsr_a", None, "restored_from_ledger", "a restore's note", 130)
    requests.add_result(ResultRow(0, "u1", "alice.json", "application/json", 3, b"abc", 120))
    bob = add_member(repositories, 2)
    requests.insert(_request("dsr_b", bob, due_on="2027-02-15"))
    requests.add_task(_task("u2", "dsr_b", brands[0]))
    requests.update_task("u2", state="denied", reason="Bob's reason", at=120, final=True)
    requests.add_result(ResultRow(0, "u2", "bob.json", "application/json", 3, b"abc", 120))
    repositories.erasures.delete_member_rows(alice)
    kept = requests.get("dsr_a")
    assert kept is not None and kept.member_id is None and kept.principal == "member:p_dsr_a"
    assert [(t.uid, t.state, t.reason) for t in requests.tasks_for("dsr_a")] == [
        ("u1", "denied", None)]
    assert repositories.restrictions.for_member(alice) == []
    # The erasure empties the reasons and deletes the documents; the vault's own note stays.
    assert kept.extension_reason is None and kept.extended_at == 110
    assert [(h.state, h.reason) for h in requests.history("dsr_a")] == [
        ("extended", None), ("denied", None), ("restored_from_ledger", "a restore's note")]
    assert requests.results_for(["u1", "u2"])[0].name == "bob.json"
    assert len(requests.results_for(["u1", "u2"])) == 1
    assert [t.reason for t in requests.tasks_for("dsr_b")] == ["Bob's reason"]


def test_restrictions_hold_until_lifted(repositories: Repositories,
                                        brands: tuple[str, str]) -> None:
    restrictions = repositories.restrictions
    alice, bob = add_member(repositories, 1), add_member(repositories, 2)
    every = restrictions.add(Restriction(0, alice, None, RestrictionScope.SENSITIVE,
                                         RestrictionBasis.LIMIT_SENSITIVE, None, 100))
    one = restrictions.add(Restriction(0, alice, brands[0], RestrictionScope.ALL,
                                       RestrictionBasis.OBJECTION, "dsr_x", 110))
    assert [r.id for r in restrictions.live_for(alice, brands[0])] == [every, one]
    assert [r.id for r in restrictions.live_for(alice, brands[1])] == [every]
    assert restrictions.live_for(bob, brands[0]) == []
    assert restrictions.lift(bob, one, 120) is False                     # not bob's
    assert restrictions.lift(alice, one, 120) is True
    assert restrictions.lift(alice, one, 130) is False                   # once
    assert [r.id for r in restrictions.live_for(alice, brands[0])] == [every]
    assert [(r.id, r.lifted_at) for r in restrictions.for_member(alice)] == [
        (one, 120), (every, None)]


def test_a_restriction_is_reinstated_under_its_own_id_once(repositories: Repositories,
                                                           brands: tuple[str, str]) -> None:
    """A restore makes a restriction the backup lacked again, under the id the ledger names;
    ids handed out after it are past it."""
    restrictions = repositories.restrictions
    alice, bob = add_member(repositories, 1), add_member(repositories, 2)
    kept = restrictions.add(Restriction(0, alice, None, RestrictionScope.ALL,
                                        RestrictionBasis.RESTRICTION, "dsr_a", 100))
    lost = Restriction(kept + 5, alice, brands[0], RestrictionScope.ALL,
                       RestrictionBasis.OBJECTION, "dsr_b", 110)
    assert restrictions.reinstate(lost) is True
    assert restrictions.reinstate(lost) is False                         # its id is taken
    assert restrictions.reinstate(Restriction(kept, bob, None, RestrictionScope.ALL,
                                              RestrictionBasis.OBJECTION, None, 120)) is False
    assert restrictions.reinstate(Restriction(kept + 9, "nobody", None, RestrictionScope.ALL,
                                              RestrictionBasis.OBJECTION, None, 120)) is False
    assert restrictions.for_member(alice)[0] == lost
    later = restrictions.add(Restriction(0, bob, None, RestrictionScope.SENSITIVE,
                                         RestrictionBasis.LIMIT_SENSITIVE, None, 130))
    assert later > lost.id


def test_two_hosts_reading_one_request_to_change_it_take_turns(
        repositories: Repositories, brands: tuple[str, str],
        other_host: test_intents.OtherHost) -> None:
    """One host records the vault's part of a request while another records a brand's last
    task: the second reads the request, its tasks and their documents after the first
    committed, so one of them sees both parts done and closes the request (SQLite: the store's
    write lock; PostgreSQL: the request's and the task's row locks)."""
    requests = repositories.dsr_requests
    alice = add_member(repositories, 1)
    requests.insert(_request("dsr_a", alice, due_on="2027-02-15"))
    requests.add_task(_task("u1", "dsr_a", brands[0]))
    seen: list[tuple[Any, ...]] = []

    def second() -> None:
        with other_host() as database:
            theirs = test_intents.over(requests, database)
            with theirs.transaction():
                row = theirs.get("dsr_a")
                assert row is not None
                seen.append((row.fulfilled_at, theirs.result_bytes("u1")))

    other = test_intents.OtherThread(second)
    with requests.transaction():
        assert requests.get("dsr_a") is not None
        assert requests.result_bytes("u1") == 0
        requests.add_result(ResultRow(0, "u1", "a.json", "application/json", 3, b"abc", 150))
        assert requests.update("dsr_a", fulfilled=("export", 120))
        other.start_and_wait()
    other.finish()
    assert seen == [(120, 3)]
