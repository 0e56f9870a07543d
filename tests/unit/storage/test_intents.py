"""Contract of intent casting's storage (``intents/repositories.py`` ``IntentRepository``): the
listing walks one category's open, unexpired intents newest first, under the brand's filters and
without the members who blocked the brand; an offer is decided once; a member's erasure takes
their intents, the offers on them and their blocks, and leaves a spam report without them;
spam reports page newest first, each with its offer's status; two hosts changing one intent
take turns, the second seeing what the first committed."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pytest

from intents.repositories import IntentRow, ListingFilter
from vault.brands import Brand
from vault.home import VaultHome
from vault.postgresql.database import Database as PostgresqlDatabase
from vault.sqlcipher.database import Database as SqlcipherDatabase

from .conftest import Repositories, add_member

OtherHost = Callable[[], AbstractContextManager[Any]]

NOW = 2_000_000_000


def intent(member_id: str, number: int, *, category: str = "bicycles", status: str = "open",
           budget: tuple[int, int] = (10_000, 90_000), currency: str = "EUR",
           window: tuple[str, str] = ("2033-06-01", "2033-06-30"), region: str | None = None,
           expires_at: int = NOW + 86_400) -> IntentRow:
    return IntentRow(0, f"int_{number:024x}", member_id, category, status, budget[0], budget[1],
                     currency, window[0], window[1], region and region[:2], region,
                     b"sealed description", None, "[]", NOW - 100 + number,
                     NOW - 100 + number, expires_at)


def add_brand(repositories: Repositories, brand_id: str) -> str:
    assert repositories.brands.insert(Brand(brand_id, brand_id.title(), ("bicycles",)), 1)
    return brand_id


def ids(rows: list[IntentRow]) -> list[str]:
    return [row.id for row in rows]


def listing(repositories: Repositories, brand_id: str = "brand_a", *,
            before: int | None = None, limit: int = 10, **filters: object) -> list[str]:
    return ids(repositories.intents.listing(brand_id, "bicycles", now=NOW, before=before,
                                            limit=limit, filters=ListingFilter(**filters)))


def test_the_listing_is_one_categorys_open_unexpired_intents_newest_first(
        repositories: Repositories) -> None:
    intents = repositories.intents
    alice, bob = add_member(repositories, 1), add_member(repositories, 2)
    add_brand(repositories, "brand_a")
    nums = [intents.insert(intent(alice, 1)), intents.insert(intent(bob, 2)),
            intents.insert(intent(alice, 3, category="travel")),
            intents.insert(intent(bob, 4, status="paused")),
            intents.insert(intent(alice, 5, expires_at=NOW)),
            intents.insert(intent(bob, 6))]
    assert listing(repositories) == ["int_" + f"{n:024x}" for n in (6, 2, 1)]
    assert listing(repositories, limit=2) == ["int_" + f"{n:024x}" for n in (6, 2)]
    assert listing(repositories, before=nums[1]) == ["int_" + f"{1:024x}"]
    assert intents.listable("brand_a", nums[0], now=NOW) is not None
    assert intents.listable("brand_a", nums[3], now=NOW) is None          # paused
    assert intents.listable("brand_a", nums[4], now=NOW) is None          # expired
    assert intents.set_status(nums[0], "withdrawn", NOW, only_from=("open", "paused"))
    assert not intents.set_status(nums[0], "paused", NOW, only_from=("open",))
    assert listing(repositories) == ["int_" + f"{n:024x}" for n in (6, 2)]
    assert ids(intents.due_to_expire(NOW, 10)) == ["int_" + f"{5:024x}"]
    assert ids(intents.for_member(bob)) == ["int_" + f"{n:024x}" for n in (6, 4, 2)]


def test_filters_overlap_budget_and_window_and_match_a_country_or_region(
        repositories: Repositories) -> None:
    intents = repositories.intents
    alice = add_member(repositories, 1)
    add_brand(repositories, "brand_a")
    intents.insert(intent(alice, 1, budget=(100, 200), region="DE-BE"))
    intents.insert(intent(alice, 2, budget=(300, 400), currency="USD", region="US-CA",
                          window=("2033-07-01", "2033-07-10")))
    one, two = "int_" + f"{1:024x}", "int_" + f"{2:024x}"
    assert listing(repositories, currency="EUR") == [one]
    assert listing(repositories, budget_min=250) == [two]
    assert listing(repositories, budget_max=200) == [one]
    assert listing(repositories, window_from="2033-07-05") == [two]
    assert listing(repositories, window_until="2033-06-01") == [one]
    assert listing(repositories, region="DE") == [one]
    assert listing(repositories, region="US-CA") == [two]
    assert listing(repositories, region="US-NY") == []


def test_a_member_who_blocked_a_brand_is_not_listed_to_it(repositories: Repositories) -> None:
    intents = repositories.intents
    alice, bob = add_member(repositories, 1), add_member(repositories, 2)
    add_brand(repositories, "brand_a"), add_brand(repositories, "brand_b")
    mine = intents.insert(intent(alice, 1))
    intents.insert(intent(bob, 2))
    assert intents.block(alice, "brand_a", NOW) and not intents.block(alice, "brand_a", NOW)
    assert listing(repositories, "brand_a") == ["int_" + f"{2:024x}"]
    assert len(listing(repositories, "brand_b")) == 2
    assert intents.listable("brand_a", mine, now=NOW) is None
    assert intents.blocked(alice) == [("brand_a", "Brand_A")]
    assert intents.unblock(alice, "brand_a") and not intents.unblock(alice, "brand_a")
    assert len(listing(repositories, "brand_a")) == 2


def test_an_offer_is_decided_once_and_counted_per_intent_and_day(
        repositories: Repositories) -> None:
    intents = repositories.intents
    alice = add_member(repositories, 1)
    add_brand(repositories, "brand_a"), add_brand(repositories, "brand_b")
    num = intents.insert(intent(alice, 1))
    for n, brand, at in ((1, "brand_a", NOW - 90_000), (2, "brand_a", NOW), (3, "brand_b", NOW)):
        intents.insert_offer(id=f"off_{n}", intent_num=num, brand_id=brand, price=500 * n,
                             currency="EUR", terms=b"t", message=b"m", signed=b"s",
                             valid_until=NOW + 10 * n, now=at)
    offer = intents.offer("off_2")
    assert offer is not None and (offer.intent_id, offer.member_id, offer.brand_name) == (
        "int_" + f"{1:024x}", alice, "Brand_A")
    assert intents.count_offers("brand_a", intent_num=num) == 2
    assert intents.count_offers("brand_a", since=NOW - 10) == 1
    assert intents.brand_offer_counts("brand_b", [num]) == {num: 1}
    assert intents.decide_offer("off_2", "accepted", NOW, grant_id="grant_x", fields='["email"]')
    assert not intents.decide_offer("off_2", "declined", NOW)
    assert [o.id for o in intents.open_offers_on(num)] == ["off_1", "off_3"]
    assert [o.id for o in intents.offers_due_to_expire(NOW + 15, 10)] == ["off_1"]
    assert [o.id for o in intents.offers_by_brand("brand_a", status="accepted", limit=5,
                                                  offset=0)] == ["off_2"]
    assert intents.brands_offering(alice) == [("brand_a", "Brand_A"), ("brand_b", "Brand_B")]


def test_erasure_takes_the_members_intents_offers_and_blocks_and_keeps_the_report(
        repositories: Repositories) -> None:
    intents = repositories.intents
    alice, bob = add_member(repositories, 1), add_member(repositories, 2)
    add_brand(repositories, "brand_a")
    num = intents.insert(intent(alice, 1))
    kept = intents.insert(intent(bob, 2))
    intents.insert_offer(id="off_1", intent_num=num, brand_id="brand_a", price=1,
                         currency="EUR", terms=b"t", message=b"m", signed=b"s",
                         valid_until=NOW + 10, now=NOW)
    offer = intents.offer("off_1")
    assert offer is not None
    intents.insert_report(id="spr_1", offer_num=offer.num, member_id=alice, brand_id="brand_a",
                          reason=b"sealed", now=NOW)
    intents.block(alice, "brand_a", NOW)
    assert intents.count_reports("open") == 1
    repositories.erasures.delete_member_rows(alice)
    assert intents.for_member(alice) == [] and intents.offer("off_1") is None
    assert intents.blocked(alice) == [] and intents.by_num(kept) is not None
    report = intents.report("spr_1")
    assert report is not None
    assert (report.offer_id, report.member_id, report.reason, report.offer_status) == \
        (None, None, None, None)
    assert intents.decide_report("spr_1", "upheld", "officer", NOW)
    assert not intents.decide_report("spr_1", "dismissed", "officer", NOW)


def test_an_erased_members_intent_numbers_are_never_given_again(
        repositories: Repositories) -> None:
    """An intent's num is what its pseudonyms at brands encrypt: one that an erasure freed,
    the newest included, never names another intent."""
    intents = repositories.intents
    alice, bob = add_member(repositories, 1), add_member(repositories, 2)
    intents.insert(intent(alice, 1))
    newest = intents.insert(intent(bob, 2))
    repositories.erasures.delete_member_rows(bob)
    assert intents.insert(intent(alice, 3)) > newest


def test_the_numbering_moves_above_a_floor_and_never_back(repositories: Repositories) -> None:
    """After a restore the numbering jumps past the numbers given since the backup (which
    the restore lost): above the floor given, and a lower floor later changes nothing."""
    intents = repositories.intents
    alice = add_member(repositories, 1)
    intents.number_above(1_000)             # before any intent: the numbering starts there
    assert intents.insert(intent(alice, 1)) == 1_001
    intents.number_above(5_000)
    jumped = intents.insert(intent(alice, 2))
    assert jumped == 5_001
    intents.number_above(10)
    assert intents.insert(intent(alice, 3)) == jumped + 1


def test_reports_page_newest_first_with_the_offers_status(repositories: Repositories) -> None:
    intents = repositories.intents
    alice = add_member(repositories, 1)
    add_brand(repositories, "brand_a")
    num = intents.insert(intent(alice, 1))
    for number in (1, 2, 3):
        intents.insert_offer(id=f"off_{number}", intent_num=num, brand_id="brand_a", price=1,
                             currency="EUR", terms=b"t", message=b"m", signed=b"s",
                             valid_until=NOW + 10, now=NOW)
        offer = intents.offer(f"off_{number}")
        assert offer is not None
        intents.insert_report(id=f"spr_{number}", offer_num=offer.num, member_id=alice,
                              brand_id="brand_a", reason=b"sealed", now=NOW + number)
    assert intents.decide_offer("off_2", "declined", NOW)
    assert intents.decide_report("spr_2", "dismissed", "officer", NOW + 5)
    every = intents.reports(status=None, limit=10, offset=0)
    assert [(r.id, r.offer_status) for r in every] == [
        ("spr_3", "open"), ("spr_2", "declined"), ("spr_1", "open")]
    assert [r.id for r in intents.reports(status="open", limit=1, offset=1)] == ["spr_1"]
    assert [r.id for r in intents.reports(status="dismissed", limit=10, offset=0)] == ["spr_2"]


@pytest.fixture
def other_host(repositories: Repositories, request: pytest.FixtureRequest,
               tmp_path: Path) -> OtherHost:
    """A connection of its own to the test's data store, as another host (or worker) has: open
    it in the thread that uses it."""
    engine = request.node.callspec.params["repositories"]

    @contextmanager
    def connection() -> Iterator[Any]:
        if engine == "sqlcipher":
            home = VaultHome(tmp_path / "var")
            database: Any = SqlcipherDatabase.open(home.data_path,
                                                   home.master_key({}).derive("data-store"))
        else:
            name = repositories.intents._db.one("SELECT current_database()")[0]
            database = PostgresqlDatabase.connect(request.getfixturevalue("postgresql").dsn(name))
        try:
            yield database
        finally:
            database.close()

    return connection


def over(repository: Any, database: Any) -> Any:
    """A repository of ``repository``'s class over another connection, ``database``."""
    return type(repository)(database)


class OtherThread(threading.Thread):
    """``work`` run in a thread of its own (another host's request); :meth:`finish` waits for
    it and raises what failed in it, in the test's own thread."""

    def __init__(self, work: Callable[[], None]) -> None:
        super().__init__()
        self._work = work
        self._failures: list[BaseException] = []

    def run(self) -> None:
        try:
            self._work()
        except BaseException as exc:
            self._failures.append(exc)

    def start_and_wait(self) -> None:
        """Start it, and give it time to reach what it waits for."""
        self.start()
        time.sleep(0.3)

    def finish(self) -> None:
        self.join(timeout=30)
        assert not self.is_alive() and not self._failures, self._failures


def test_two_hosts_accepting_offers_on_one_intent_take_turns(
        repositories: Repositories, other_host: OtherHost) -> None:
    """The second host reads the offer and its intent after the first host's acceptance is
    committed, so it finds the intent fulfilled (SQLite: the store's write lock; PostgreSQL:
    the intent's row lock)."""
    intents = repositories.intents
    alice = add_member(repositories, 1)
    add_brand(repositories, "brand_a")
    num = intents.insert(intent(alice, 1))
    for n in (1, 2):
        intents.insert_offer(id=f"off_{n}", intent_num=num, brand_id="brand_a", price=1,
                             currency="EUR", terms=b"t", message=b"m", signed=b"s",
                             valid_until=NOW + 10, now=NOW)
    seen: list[tuple[str, str]] = []

    def second() -> None:
        with other_host() as database:
            theirs = over(intents, database)
            with theirs.transaction():
                offer = theirs.offer("off_2")
                stored = theirs.by_num(num)
                assert offer is not None and stored is not None
                seen.append((offer.status, stored.status))

    other = OtherThread(second)
    with intents.transaction():
        assert intents.offer("off_1") is not None
        assert intents.decide_offer("off_1", "accepted", NOW, grant_id="grant_x", fields="[]")
        assert intents.set_status(num, "fulfilled", NOW, only_from=("open", "paused"))
        other.start_and_wait()
    other.finish()
    assert seen == [("open", "fulfilled")]


def test_two_hosts_offering_count_the_brands_offers_of_the_day_in_turn(
        repositories: Repositories, other_host: OtherHost) -> None:
    """A brand's daily limit holds across hosts: the second count is taken after the first
    host's offer is committed (PostgreSQL: the brand's row lock)."""
    intents = repositories.intents
    alice, bob = add_member(repositories, 1), add_member(repositories, 2)
    add_brand(repositories, "brand_a")
    nums = [intents.insert(intent(alice, 1)), intents.insert(intent(bob, 2))]
    counted: list[int] = []

    def offering(repository: Any, num: int, offer_id: str) -> None:
        counted.append(repository.count_offers("brand_a", since=NOW - 10))
        repository.insert_offer(id=offer_id, intent_num=num, brand_id="brand_a", price=1,
                                currency="EUR", terms=b"t", message=b"m", signed=b"s",
                                valid_until=NOW + 10, now=NOW)

    def second() -> None:
        with other_host() as database:
            theirs = over(intents, database)
            with theirs.transaction():
                offering(theirs, nums[1], "off_2")

    other = OtherThread(second)
    with intents.transaction():
        offering(intents, nums[0], "off_1")
        other.start_and_wait()
    other.finish()
    assert counted == [0, 1]
