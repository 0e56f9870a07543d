"""Contract of compliance's report queries (``compliance/repositories.py``
``ReportRepository``): brands with their clients, grants in force, a brand's every grant, and
grant activity per UTC month and ISO week."""

from __future__ import annotations

from datetime import UTC, datetime

from compliance.repositories import ActivityRow, Period, PurposeTally
from consent.model import Grant, GrantStatus, Mode
from consent.vocabulary import expand
from vault.brands import Brand

from .conftest import Repositories, add_member


def _at(*when: int) -> int:
    return int(datetime(*when, tzinfo=UTC).timestamp())   # type: ignore[misc]


def _grant(grant_id: str, member_id: str, brand_id: str, *, purpose: str = "dpv:Marketing",
           starts_at: int, ends_at: int, status: GrantStatus = GrantStatus.ACTIVE,
           withdrawn_at: int | None = None, fields: frozenset[str] = frozenset(
               {"city", "category:interests"}), mode: Mode = Mode.INDIVIDUAL,
           retention_days: int = 30, third_party: str | None = None) -> Grant:
    return Grant(grant_id, member_id, brand_id, purpose, fields, mode, starts_at, ends_at,
                 retention_days, third_party is not None, third_party, "EU",
                 "vrmvault member page", "SD-BASE", 1, status, withdrawn_at, 1, starts_at,
                 starts_at, expand(fields))


def test_brands_by_name_with_their_clients(repositories: Repositories) -> None:
    assert repositories.brands.insert(Brand("brand_z", "Zeta", ("bikes", "repairs")), 5)
    client_id, atlas = repositories.gateway.add_client("Atlas")
    reports = repositories.reports
    listed = reports.brands()
    assert [(b.name, b.clients, b.active_clients) for b in listed] == [("Atlas", 1, 1),
                                                                      ("Zeta", 0, 0)]
    zeta = reports.brand("brand_z")
    assert zeta is not None and zeta.categories == ("bikes", "repairs")
    assert zeta.registered_at == 5
    assert reports.brand(atlas) == listed[0]
    assert reports.brand("brand_nosuch") is None


def test_grants_in_force_and_a_brands_every_grant(repositories: Repositories) -> None:
    for brand_id in ("brand_a", "brand_b"):
        assert repositories.brands.insert(Brand(brand_id, brand_id, ()), 1)
    alice, bob = add_member(repositories, 1), add_member(repositories, 2)
    grants = repositories.grants
    made = [
        _grant("g1", bob, "brand_b", starts_at=100, ends_at=1_000),
        _grant("g2", alice, "brand_b", starts_at=100, ends_at=1_000),
        _grant("g3", alice, "brand_a", purpose="dpv:Personalisation", starts_at=100,
               ends_at=1_000),
        _grant("g4", alice, "brand_a", starts_at=100, ends_at=500),          # ended by 500
        _grant("g5", alice, "brand_a", starts_at=600, ends_at=1_000),        # not started
        _grant("g6", bob, "brand_a", starts_at=100, ends_at=1_000,
               status=GrantStatus.WITHDRAWN, withdrawn_at=200),
    ]
    for grant in made:
        grants.insert(grant)
    reports = repositories.reports
    tallies = reports.purposes_in_force(500)
    assert [(t.brand_id, t.purpose, t.members, t.grants) for t in tallies] == [
        ("brand_a", "dpv:Personalisation", 1, 1), ("brand_b", "dpv:Marketing", 2, 2)]
    assert tallies[1] == PurposeTally(
        "brand_b", "dpv:Marketing", frozenset({"city", "category:interests"}), 2, 2, 2, 30, 30,
        0, frozenset(), frozenset({"EU"}), frozenset({"SD-BASE"}),
        frozenset({"vrmvault member page"}))
    assert reports.members_in_force(500) == {"brand_a": 1, "brand_b": 2}
    assert reports.live_grant_count(500) == 3
    assert reports.live_grant_count(1_000) == 0
    assert reports.purposes_in_force(1_000) == [] and reports.members_in_force(1_000) == {}
    every = reports.brand_grants("brand_a")
    assert {g.id for g in every} == {"g3", "g4", "g5", "g6"}
    assert [g.member_id for g in every] == sorted(g.member_id for g in every)
    assert reports.brand_grants("brand_nosuch") == []


def test_a_purposes_tally_sums_up_its_grants(repositories: Repositories) -> None:
    assert repositories.brands.insert(Brand("brand_a", "A", ()), 1)
    alice, bob = add_member(repositories, 1), add_member(repositories, 2)
    grants = repositories.grants
    grants.insert(_grant("g1", alice, "brand_a", starts_at=100, ends_at=1_000,
                         fields=frozenset({"given_name"}), retention_days=10))
    grants.insert(_grant("g2", bob, "brand_a", starts_at=100, ends_at=1_000,
                         fields=frozenset({"given_name", "city"}), mode=Mode.AGGREGATE,
                         retention_days=90, third_party="Atlas, Inc."))
    [tally] = repositories.reports.purposes_in_force(500)
    assert tally.selectors == frozenset({"given_name", "city"})
    assert (tally.members, tally.grants, tally.individual_grants) == (2, 2, 1)
    assert (tally.retention_days_min, tally.retention_days_max) == (10, 90)
    assert tally.onward_sharing_grants == 1
    assert tally.third_parties == frozenset({"Atlas, Inc."})      # a comma stays in its name


def test_activity_per_month_and_week(repositories: Repositories) -> None:
    assert repositories.brands.insert(Brand("brand_a", "A", ()), 1)
    alice = add_member(repositories, 1)
    grants = repositories.grants
    grants.insert(_grant("g1", alice, "brand_a", starts_at=_at(2027, 1, 31, 23, 59),
                         ends_at=_at(2027, 3, 2)))                           # expires in March
    grants.insert(_grant("g2", alice, "brand_a", purpose="dpv:Personalisation",
                         starts_at=_at(2027, 2, 1), ends_at=_at(2027, 5, 1),
                         status=GrantStatus.WITHDRAWN, withdrawn_at=_at(2027, 2, 14, 12)))
    grants.insert(_grant("g3", alice, "brand_a", purpose="dpv:CustomerCare",
                         starts_at=_at(2027, 2, 3), ends_at=_at(2027, 12, 1)))  # in force
    reports = repositories.reports
    assert reports.activity(Period.MONTH, _at(2027, 6, 1)) == [
        ActivityRow("2027-01-01", 1, 0, 0), ActivityRow("2027-02-01", 2, 1, 0),
        ActivityRow("2027-03-01", 0, 0, 1)]
    # Sunday 31 January is in the week of Monday 25 January; 14 February is a Sunday too.
    assert reports.activity(Period.WEEK, _at(2027, 6, 1)) == [
        ActivityRow("2027-01-25", 1, 0, 0), ActivityRow("2027-02-01", 2, 0, 0),
        ActivityRow("2027-02-08", 0, 1, 0), ActivityRow("2027-03-01", 0, 0, 1)]
    # Nothing after "now": at 10 February, g1 has not expired and g2 not been withdrawn.
    assert reports.activity(Period.MONTH, _at(2027, 2, 10)) == [
        ActivityRow("2027-01-01", 1, 0, 0), ActivityRow("2027-02-01", 2, 0, 0)]
    assert reports.activity(Period.MONTH, _at(2027, 1, 1)) == []
