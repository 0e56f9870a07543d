"""Contracts of the webhook repositories (``brand_gateway/webhooks/repositories.py``): the
endpoints brands are notified at, and the outbox with its attempts."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from psycopg.conninfo import make_conninfo

from brand_gateway.webhooks.endpoints import ID_PREFIX
from brand_gateway.webhooks.postgresql import PostgresqlWebhookOutbox
from brand_gateway.webhooks.repositories import OutboxState
from consent.model import Grant, GrantStatus, Mode
from consent.vocabulary import expand
from vault.postgresql.database import Database as PostgresqlDatabase

from .conftest import Repositories, add_member

HOOK = "https://hooks.example.com/vault"


def public_id() -> str:
    """A fresh public id, as the registry makes them."""
    return ID_PREFIX + os.urandom(12).hex()


@pytest.fixture
def clients(repositories: Repositories) -> tuple[tuple[str, str], tuple[str, str]]:
    """Two brands' clients: ``(client id, brand id)`` each (Atlas, then Velo by name)."""
    return repositories.gateway.add_client("Velo"), repositories.gateway.add_client("Atlas")


def test_endpoints_are_added_listed_and_disabled(
        repositories: Repositories, clients: tuple[tuple[str, str], tuple[str, str]]) -> None:
    endpoints = repositories.webhook_endpoints
    (velo, _), (atlas, _) = clients
    assert endpoints.client_exists(velo) and not endpoints.client_exists("nobody")
    first = endpoints.insert(velo, public_id(), HOOK, 100)
    second = endpoints.insert(velo, public_id(), HOOK + "/2", 101)
    other = endpoints.insert(atlas, public_id(), HOOK, 102)   # another client: the same URL
    assert first is not None and second is not None and other is not None
    assert endpoints.insert(velo, public_id(), HOOK, 103) is None   # the same client and URL
    assert endpoints.live_count(velo) == 2
    endpoint = endpoints.get(first)
    assert endpoint is not None
    assert (endpoint.client_id, endpoint.brand_name, endpoint.url, endpoint.created_at,
            endpoint.live) == (velo, "Velo", HOOK, 100, True)
    assert endpoints.get(first + second + other) is None
    # Found by its public id too; an integer key is no public id, nor is another's.
    assert endpoints.find(endpoint.public_id) == endpoint
    assert endpoints.find(str(first)) is None and endpoints.find(public_id()) is None
    assert [e.id for e in endpoints.list(velo)] == sorted([first, second])
    assert [e.id for e in endpoints.list()] == sorted([first, second, other])
    with endpoints.transaction():
        endpoints.disable(first, 200)
    disabled = endpoints.get(first)
    assert disabled is not None and disabled.disabled_at == 200 and not disabled.live
    assert endpoints.live_count(velo) == 1
    assert endpoints.insert(velo, public_id(), HOOK, 300) is not None   # free once disabled
    # A public id is one endpoint's only: a second with it is refused, nothing written.
    assert endpoints.insert(atlas, endpoint.public_id, HOOK + "/3", 301) is None
    assert len(endpoints.list()) == 4


@pytest.fixture
def hooks(repositories: Repositories,
          clients: tuple[tuple[str, str], tuple[str, str]]) -> tuple[int, int]:
    """One endpoint each for Velo's client and Atlas's, at the same URL."""
    velo = repositories.webhook_endpoints.insert(clients[0][0], public_id(), HOOK, 1)
    atlas = repositories.webhook_endpoints.insert(clients[1][0], public_id(), HOOK, 1)
    assert velo is not None and atlas is not None
    return velo, atlas


def _queue(repositories: Repositories, brand_id: str, event_id: str, now: int) -> int:
    outbox = repositories.webhook_outbox
    with outbox.transaction():
        live = outbox.live_endpoints(brand_id)
        outbox.queue(live, event_type="consent.withdrawn", event_id=event_id,
                     payload='{"type":"consent.withdrawn"}', now=now)
    return len(live)


def test_events_are_queued_on_live_endpoints_and_listed_newest_first(
        repositories: Repositories, clients: tuple[tuple[str, str], tuple[str, str]]) -> None:
    endpoints, outbox = repositories.webhook_endpoints, repositories.webhook_outbox
    (velo, velo_brand), (atlas, atlas_brand) = clients
    one = endpoints.insert(velo, public_id(), HOOK, 1)
    gone = endpoints.insert(velo, public_id(), HOOK + "/old", 1)
    two = endpoints.insert(atlas, public_id(), HOOK, 1)
    assert one is not None and gone is not None and two is not None
    endpoints.disable(gone, 2)
    assert outbox.live_endpoints(velo_brand) == [(one, velo)]
    assert outbox.live_endpoints("no brand") == []
    assert _queue(repositories, velo_brand, "event-1", 10) == 1
    assert _queue(repositories, atlas_brand, "event-2", 11) == 1
    entries = outbox.entries(client_id=None, status=None, limit=10, offset=0)
    assert [(e.client_id, e.brand_name, e.url, e.event_id, e.status, e.attempts,
             e.next_attempt_at, e.created_at, e.delivered_at, e.last_result)
            for e in entries] == [
        (atlas, "Atlas", HOOK, "event-2", "pending", 0, 11, 11, None, None),
        (velo, "Velo", HOOK, "event-1", "pending", 0, 10, 10, None, None)]
    assert [e.event_id for e in outbox.entries(client_id=velo, status=None, limit=10,
                                               offset=0)] == ["event-1"]
    assert outbox.entries(client_id=None, status="dead", limit=10, offset=0) == []
    assert [e.event_id for e in outbox.entries(client_id=None, status="pending", limit=1,
                                               offset=1)] == ["event-1"]
    assert outbox.count(client_id=None, status=None) == 2
    assert outbox.count(client_id=velo, status="pending") == 1
    assert outbox.count(client_id=atlas, status="dead") == 0
    assert outbox.tallies() == [(atlas, "Atlas", "pending", 1), (velo, "Velo", "pending", 1)]


def test_a_claim_takes_the_next_due_event_and_leases_it(
        repositories: Repositories, clients: tuple[tuple[str, str], tuple[str, str]],
        hooks: tuple[int, int]) -> None:
    endpoints, outbox = repositories.webhook_endpoints, repositories.webhook_outbox
    (_, velo_brand), (_, atlas_brand) = clients
    one, two = hooks
    _queue(repositories, atlas_brand, "later", 20)
    _queue(repositories, velo_brand, "first", 10)
    assert outbox.claim_due(now=5, lease=60) is None              # nothing due yet
    claimed = outbox.claim_due(now=30, lease=60)
    assert claimed is not None
    assert (claimed.endpoint_id, claimed.event_id, claimed.url, claimed.payload) == (
        one, "first", HOOK, '{"type":"consent.withdrawn"}')
    again = outbox.claim_due(now=30, lease=60)                      # leased: the next one
    assert again is not None and again.event_id == "later"
    assert outbox.claim_due(now=30, lease=60) is None
    assert outbox.claim_due(now=90, lease=60) is not None          # the lease ran out
    endpoints.disable(two, 95)
    assert outbox.claim_due(now=1_000, lease=60) is not None       # the live endpoint's
    assert outbox.claim_due(now=1_000, lease=60) is None           # not the disabled one's


def test_attempts_settle_an_event(
        repositories: Repositories, clients: tuple[tuple[str, str], tuple[str, str]]) -> None:
    endpoints, outbox = repositories.webhook_endpoints, repositories.webhook_outbox
    (velo, velo_brand), _ = clients
    endpoint = endpoints.insert(velo, public_id(), HOOK, 1)
    assert endpoint is not None
    for n in range(3):
        _queue(repositories, velo_brand, f"event-{n}", 10)
    delivered, retried, dead = (e.id for e in sorted(
        outbox.entries(client_id=None, status=None, limit=10, offset=0), key=lambda e: e.id))
    with outbox.transaction():
        assert outbox.record_attempt(delivered, at=20, http_status=204, error=None,
                                     duration_ms=5) == ("pending", 0)
        outbox.mark_delivered(delivered, attempts=1, at=20)
        assert outbox.record_attempt(retried, at=20, http_status=None, error="Timeout",
                                     duration_ms=9) == ("pending", 0)
        outbox.schedule_retry(retried, attempts=1, at=80)
        outbox.record_attempt(dead, at=20, http_status=500, error=None, duration_ms=3)
        outbox.mark_dead(dead, attempts=1)
    by_id = {e.id: e for e in outbox.entries(client_id=None, status=None, limit=10,
                                             offset=0)}
    assert (by_id[delivered].status, by_id[delivered].attempts,
            by_id[delivered].delivered_at, by_id[delivered].last_result) == (
        "delivered", 1, 20, "204")
    assert (by_id[retried].status, by_id[retried].attempts, by_id[retried].next_attempt_at,
            by_id[retried].last_result) == ("pending", 1, 80, "Timeout")
    assert (by_id[dead].status, by_id[dead].last_result) == ("dead", "500")
    assert outbox.record_attempt(retried, at=90, http_status=503, error=None,
                                 duration_ms=1) == ("pending", 1)
    assert outbox.entries(client_id=None, status="pending", limit=1,
                          offset=0)[0].last_result == "503"          # the last attempt's
    assert outbox.tallies() == [(velo, "Velo", "dead", 1), (velo, "Velo", "delivered", 1),
                                (velo, "Velo", "pending", 1)]
    outbox.give_up_pending(endpoint)
    assert outbox.count(client_id=velo, status="pending") == 0
    assert outbox.count(client_id=velo, status="delivered") == 1      # settled ones stay


def test_given_up_events_are_found_and_queued_again(
        repositories: Repositories, clients: tuple[tuple[str, str], tuple[str, str]],
        hooks: tuple[int, int]) -> None:
    endpoints, outbox = repositories.webhook_endpoints, repositories.webhook_outbox
    (velo, velo_brand), (atlas, atlas_brand) = clients
    removed = hooks[1]
    _queue(repositories, velo_brand, "a", 10)
    _queue(repositories, velo_brand, "b", 10)
    _queue(repositories, atlas_brand, "c", 10)
    a, b, c = sorted(e.id for e in outbox.entries(client_id=None, status=None, limit=10,
                                                  offset=0))
    outbox.mark_dead(a, attempts=8)
    endpoints.disable(removed, 20)
    outbox.give_up_pending(removed)
    assert outbox.dead_of_client(velo) == [OutboxState(a, "dead", True)]
    assert outbox.dead_of_client(atlas) == [OutboxState(c, "dead", False)]
    assert outbox.states([c, b, a + b + c]) == [OutboxState(b, "pending", True),
                                                OutboxState(c, "dead", False)]
    assert outbox.states([]) == []
    with outbox.transaction():
        outbox.requeue([a], 50)
    [again] = [e for e in outbox.entries(client_id=velo, status=None, limit=10, offset=0)
               if e.id == a]
    assert (again.status, again.attempts, again.next_attempt_at) == ("pending", 0, 50)


def test_the_brands_that_knew_a_member(repositories: Repositories,
                                       clients: tuple[tuple[str, str], tuple[str, str]]) -> None:
    (_, velo_brand), (_, atlas_brand) = clients
    alice, bob = add_member(repositories, 1), add_member(repositories, 2)
    assert repositories.webhook_outbox.brands_knowing(alice) == {}
    repositories.gateway.add_pairwise_subject(alice, velo_brand)
    fields = frozenset({"city"})
    for grant_id, member, mode, status in (
            ("g1", alice, Mode.INDIVIDUAL, GrantStatus.WITHDRAWN),
            ("g2", alice, Mode.INDIVIDUAL, GrantStatus.ACTIVE),
            ("g3", alice, Mode.AGGREGATE, GrantStatus.ACTIVE),
            ("g4", bob, Mode.AGGREGATE, GrantStatus.ACTIVE)):
        repositories.grants.insert(Grant(
            grant_id, member, atlas_brand, "dpv:Marketing", fields, mode, 1, 100, 30,
            False, None, "EU", "vrmvault member page", "SD-BASE", 1, status, None, 1, 1, 1,
            expand(fields)))
    knowing = repositories.webhook_outbox.brands_knowing(alice)
    assert {brand: sorted(grants) for brand, grants in knowing.items()} == {
        velo_brand: [], atlas_brand: ["g1", "g2"]}
    # A grant of aggregate use alone (a member counted in totals only) makes no one known.
    assert repositories.webhook_outbox.brands_knowing(bob) == {}


@contextmanager
def _another_host(database: PostgresqlDatabase) -> Iterator[PostgresqlDatabase]:
    """A connection of its own to the same PostgreSQL database, as another host has."""
    info = database._connection.info
    other = PostgresqlDatabase.connect(make_conninfo(info.dsn, password=info.password))
    try:
        yield other
    finally:
        other.close()


@pytest.mark.parametrize("repositories", ["postgresql"], indirect=True)
def test_deliverers_on_several_hosts_never_claim_one_event_twice(
        repositories: Repositories, clients: tuple[tuple[str, str], tuple[str, str]],
        hooks: tuple[int, int]) -> None:
    """On PostgreSQL a claim not committed yet on one host does not hold up another host's,
    which takes the next due event instead (SQLCipher's claims take turns: one writer at a
    time)."""
    outbox = repositories.webhook_outbox
    assert isinstance(outbox, PostgresqlWebhookOutbox)
    (_, velo_brand), (_, atlas_brand) = clients
    _queue(repositories, velo_brand, "first", 10)
    _queue(repositories, atlas_brand, "second", 20)
    with _another_host(outbox._db) as database:
        elsewhere = PostgresqlWebhookOutbox(database)
        with outbox.transaction():
            here = outbox.claim_due(now=30, lease=60)
            there = elsewhere.claim_due(now=30, lease=60)
            assert here is not None and there is not None
            assert (here.event_id, there.event_id) == ("first", "second")
            assert elsewhere.claim_due(now=30, lease=60) is None
        assert outbox.claim_due(now=30, lease=60) is None
        assert elsewhere.claim_due(now=30, lease=60) is None
