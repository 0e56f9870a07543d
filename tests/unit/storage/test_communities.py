"""Contract of the insight community's communities, memberships and co-creation
(``community/repositories.py``): a brand's communities newest first, a membership once per
member, and everything of a membership (grant links, ideas, votes) gone with it or with the
member.

Each engine's community repositories come from :data:`COMMUNITY_REPOSITORIES`, over the same
store as the shared fixture's (each over its data store's connection)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace

import pytest

from community.postgresql.cocreation import PostgresqlCoCreation
from community.postgresql.communities import PostgresqlCommunities
from community.repositories import (
    Challenge,
    CoCreationRepository,
    Community,
    CommunityRepository,
    IdeaRow,
    Membership,
)
from community.sqlcipher.cocreation import SqlcipherCoCreation
from community.sqlcipher.communities import SqlcipherCommunities
from consent.model import Grant, GrantStatus, Mode
from tests.postgresql_server import Server
from vault.brands import Brand
from vault.errors import ConstraintViolationError
from vault.postgresql.database import Database

from .conftest import Repositories, add_member, postgresql_data_template
from .test_contracts import conforms


@dataclass(frozen=True)
class Stores:
    communities: CommunityRepository
    cocreation: CoCreationRepository


def _sqlcipher(repositories: Repositories) -> Stores:
    data = repositories.members._db        # type: ignore[attr-defined]  # the data store
    return Stores(SqlcipherCommunities(data), SqlcipherCoCreation(data))


def _postgresql(repositories: Repositories) -> Stores:
    data = repositories.care_cases._db     # type: ignore[attr-defined]  # the data store
    return Stores(PostgresqlCommunities(data), PostgresqlCoCreation(data))


COMMUNITY_REPOSITORIES: dict[str, Callable[[Repositories], Stores]] = {
    "sqlcipher": _sqlcipher, "postgresql": _postgresql}


@pytest.fixture
def stores(repositories: Repositories, request: pytest.FixtureRequest) -> Stores:
    assert repositories.brands.insert(Brand("brand_1", "Velo", ()), 1)
    assert repositories.brands.insert(Brand("brand_2", "Atlas", ()), 1)
    return COMMUNITY_REPOSITORIES[request.node.callspec.params["repositories"]](repositories)


def _community(cid: str, brand: str = "brand_1", at: int = 10) -> Community:
    return Community(cid, brand, "Club " + cid, "What it is for.",
                     ("dpv:ResearchAndDevelopment",), at)


def _join(stores: Stores, repositories: Repositories, cid: str, number: int) -> int:
    member_id = add_member(repositories, number)
    num = stores.communities.member_number(member_id)
    assert num is not None
    assert stores.communities.add_member(Membership(cid, num, 20 + number, f"m-{number}"))
    return num


def test_communities_per_brand_newest_first_and_closing_once(stores: Stores) -> None:
    repo = stores.communities
    repo.insert(_community("c1", at=10))
    repo.insert(_community("c2", at=10))
    repo.insert(_community("c3", brand="brand_2", at=5))
    assert [c.id for c in repo.for_brand("brand_1")] == ["c2", "c1"]
    assert repo.get("c1") == _community("c1")
    assert repo.get("nope") is None
    assert repo.close("c1", 30) and not repo.close("c1", 31) and not repo.close("nope", 1)
    assert repo.get("c1").closed_at == 30                    # type: ignore[union-attr]
    assert [c.id for c in repo.open_communities()] == ["c2", "c3"]


def test_the_size_its_brand_was_told_is_kept_with_the_community(stores: Stores) -> None:
    repo = stores.communities
    repo.insert(_community("c1"))
    repo.insert(_community("c2"))
    assert repo.get("c1") == _community("c1") and _community("c1").size_period is None
    with repo.transaction():
        assert repo.locked("c1") == _community("c1") and repo.locked("nope") is None
        repo.keep_size("c1", 86_400, 60)
    assert repo.get("c1") == replace(_community("c1"), size_period=86_400, size_reported=60)
    repo.keep_size("c1", 172_800, None)          # measured, below the threshold: told nothing
    assert repo.for_brand("brand_1")[1] == replace(_community("c1"), size_period=172_800)
    assert repo.get("c2") == _community("c2")
    with pytest.raises(ConstraintViolationError):
        repo.keep_size("c2", 0, -10)


def test_a_hosts_first_read_of_a_period_waits_for_anothers_measure(postgresql: Server) -> None:
    """On PostgreSQL (SQLCipher's write lock holds the whole store): while one host holds a
    community :meth:`locked`, another's ``locked`` waits, and then reads the size the first
    kept, so the second never measures the same period again."""
    with postgresql.database(postgresql_data_template(postgresql)) as dsn:
        first, second = Database.connect(dsn), Database.connect(dsn)
        try:
            first.execute("INSERT INTO brands (id, name, categories, created_at)"
                          " VALUES ('brand_1', 'Velo', '[]', 1)")
            PostgresqlCommunities(first).insert(_community("c1"))
            seen: list[Community | None] = []
            with first.transaction():
                assert PostgresqlCommunities(first).locked("c1") == _community("c1")

                def other_host() -> None:
                    with second.transaction():
                        seen.append(PostgresqlCommunities(second).locked("c1"))

                waiting = threading.Thread(target=other_host)
                waiting.start()
                waiting.join(timeout=0.5)
                assert waiting.is_alive() and seen == []           # it waits for the lock
                PostgresqlCommunities(first).keep_size("c1", 86_400, 60)
            waiting.join(timeout=10)
            assert seen == [replace(_community("c1"), size_period=86_400, size_reported=60)]
        finally:
            first.close()
            second.close()


def test_a_membership_once_and_its_links_go_with_it(stores: Stores,
                                                    repositories: Repositories) -> None:
    repo = stores.communities
    repo.insert(_community("c1"))
    repo.insert(_community("c2"))
    alice = _join(stores, repositories, "c1", 1)
    assert not repo.add_member(Membership("c1", alice, 99, "m-x"))
    assert repo.membership("c1", alice) == Membership("c1", alice, 21, "m-1")
    assert repo.members("c1") == [alice]
    assert repo.add_member(Membership("c2", alice, 40, "m-2"))
    assert [m.community_id for m in repo.memberships(alice)] == ["c2", "c1"]
    grant = Grant("g1", f"{1:032x}", "brand_1", "dpv:ResearchAndDevelopment",
                  frozenset({"feedback"}), Mode.AGGREGATE, 1, 2, 30, False, None, "EU", "t",
                  "SD-BASE-A", 1, GrantStatus.ACTIVE, None, 1, 1, 1)
    repositories.grants.insert(grant)
    repo.link_grant("c1", alice, "g1")
    repo.link_grant("c1", alice, "g1")                        # idempotent
    repo.link_grant("c2", alice, "g1")
    assert repo.linked_grants("c1", alice) == ["g1"] and repo.holders("g1") == ["c1", "c2"]
    assert repo.remove_member("c1", alice) and not repo.remove_member("c1", alice)
    assert repo.holders("g1") == ["c2"] and repo.member_count("c1", 1) == 0


def _grant(grant_id: str, number: int, *, status: GrantStatus = GrantStatus.ACTIVE,
           ends_at: int = 100) -> Grant:
    return Grant(grant_id, f"{number:032x}", "brand_1", "dpv:ResearchAndDevelopment",
                 frozenset({"feedback"}), Mode.AGGREGATE, 1, ends_at, 30, False, None, "EU",
                 "t", "SD-BASE-A", 1, status, None, 1, 1, 1)


def test_the_size_counts_the_members_whose_sharing_for_it_is_in_force(
        stores: Stores, repositories: Repositories) -> None:
    """The members a community's size counts are those it may count now, as every insight:
    a member whose grant for it was withdrawn on the Sharing page, or ended, stays a member
    (their pages say the sharing ended) and counts no more."""
    repo = stores.communities
    repo.insert(_community("c1"))
    repo.insert(_community("c2"))
    members = [_join(stores, repositories, "c1", n) for n in (1, 2, 3, 4)]
    repositories.grants.insert(_grant("g1", 1))
    repositories.grants.insert(_grant("g2", 2, ends_at=60))
    repositories.grants.insert(_grant("g3", 3, status=GrantStatus.WITHDRAWN))
    repositories.grants.insert(_grant("g4", 4))
    for number, grant_id in zip(members, ("g1", "g2", "g3"), strict=False):
        repo.link_grant("c1", number, grant_id)
    assert repo.add_member(Membership("c2", members[3], 30, "m-4b"))
    repo.link_grant("c2", members[3], "g4")         # in force, for another community only
    assert repo.member_count("c1", 50) == 2
    assert repo.member_count("c1", 60) == 1 and repo.member_count("c1", 100) == 0
    assert repo.member_count("c2", 50) == 1


def test_ideas_and_votes_counted_and_gone_with_the_membership(
        stores: Stores, repositories: Repositories) -> None:
    stores.communities.insert(_community("c1"))
    alice = _join(stores, repositories, "c1", 1)
    bob = _join(stores, repositories, "c1", 2)
    co = stores.cocreation
    co.insert_challenge(Challenge("ch1", "c1", "How?", "Tell us.", 30))
    assert co.challenges("c1") == [Challenge("ch1", "c1", "How?", "Tell us.", 30)]
    co.insert_idea(IdeaRow("i1", "ch1", "c1", alice, b"sealed-1", 1, 40, 40))
    co.insert_idea(IdeaRow("i2", "ch1", "c1", bob, b"sealed-2", 1, 41, 41))
    assert co.vote("i1", "c1", bob, 50) and not co.vote("i1", "c1", bob, 51)
    assert co.vote("i2", "c1", alice, 50)
    assert [(i.id, i.votes) for i in co.ideas("ch1")] == [("i1", 1), ("i2", 1)]
    assert co.voted("ch1", bob) == {"i1"}
    assert not co.update_idea("i1", bob, b"not mine", 60)      # only the author's
    assert co.update_idea("i1", alice, b"sealed-1b", 60)
    idea = co.idea("i1")
    assert idea is not None and idea.version == 2 and idea.text_sealed == b"sealed-1b"
    co.mark_released("i1", 2)
    co.mark_released("i1", 1)                                 # never goes back
    assert co.take_up("i1", 70) and not co.take_up("i1", 71)
    idea = co.idea("i1")
    assert idea is not None and idea.released == 2 and idea.taken_up_at == 70
    assert co.unvote("i1", bob) and not co.unvote("i1", bob)
    assert not co.delete_idea("i2", alice) and co.delete_idea("i2", bob)
    assert [i.id for i in co.ideas("ch1")] == ["i1"] and co.voted("ch1", alice) == set()
    co.vote("i1", "c1", bob, 80)
    assert stores.communities.remove_member("c1", alice)       # leaving: her idea goes
    assert co.ideas("ch1") == [] and co.close_challenge("ch1", 90)
    assert not co.close_challenge("ch1", 91)


def test_a_deleted_member_takes_every_row_along(stores: Stores,
                                                repositories: Repositories) -> None:
    stores.communities.insert(_community("c1"))
    _join(stores, repositories, "c1", 1)
    assert repositories.erasures.delete_member_rows(f"{1:032x}") > 0
    assert stores.communities.member_count("c1", 50) == 0


def test_each_implementation_offers_its_contracts_methods(stores: Stores) -> None:
    for contract, implementation in ((CommunityRepository, stores.communities),
                                     (CoCreationRepository, stores.cocreation)):
        assert conforms(implementation, contract) > 10, contract
