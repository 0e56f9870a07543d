"""Contract of the reveals' storage (``compliance/repositories.py`` ``RevealRepository``): a
reveal is found by its officer and case only, listed newest first, and goes with either
account."""

from __future__ import annotations

from compliance.repositories import RevealRecord

from .conftest import Repositories, add_member


def reveal(number: int, officer: str, case: str, member: str, at: int) -> RevealRecord:
    return RevealRecord(f"reveal_{number:024x}", officer, case, member, f"member:{number:032x}",
                        b"sealed reason %d" % number, f"{number:064x}", at)


def test_reveals_by_officer_and_case_newest_first_and_counted(
        repositories: Repositories) -> None:
    reveals = repositories.reveals
    olive, otto = add_member(repositories, 1), add_member(repositories, 2)
    alice, bob = add_member(repositories, 3), add_member(repositories, 4)
    first = reveal(1, olive, "exposure:brand_a", alice, 100)
    second = reveal(2, olive, "exposure:brand_a", bob, 200)
    other_case = reveal(3, olive, "dsr_" + "0" * 24, alice, 300)
    other_officer = reveal(4, otto, "exposure:brand_a", alice, 400)
    with reveals.transaction():
        for record in (first, second, other_case, other_officer):
            reveals.insert(record)
    assert reveals.for_case(olive, "exposure:brand_a") == [first, second]
    assert reveals.for_case(otto, "exposure:brand_a") == [other_officer]
    assert reveals.for_case(olive, "exposure:brand_b") == []
    assert reveals.for_case("f" * 32, "exposure:brand_a") == []
    assert reveals.latest(limit=2) == [other_officer, other_case]
    assert reveals.latest(limit=10, offset=3) == [first]
    assert reveals.count() == 4
    assert list(reveals.member_ids()) == [olive, otto, alice, bob]


def test_a_reveal_goes_with_the_member_or_the_officer(repositories: Repositories) -> None:
    reveals = repositories.reveals
    olive, alice, bob = (add_member(repositories, n) for n in (1, 2, 3))
    kept = reveal(3, olive, "exposure:brand_a", bob, 100)
    reveals.insert(reveal(1, olive, "exposure:brand_a", alice, 100))
    reveals.insert(reveal(2, bob, "exposure:brand_b", alice, 100))     # bob as an officer
    reveals.insert(kept)
    repositories.erasures.delete_member_rows(alice)          # about alice: both go
    assert reveals.count() == 1 and reveals.latest(limit=5) == [kept]
    repositories.erasures.delete_member_rows(olive)          # made by olive: it goes
    assert reveals.count() == 0


def test_the_members_of_an_exposure_are_those_who_ever_granted_the_brand(
        repositories: Repositories) -> None:
    from consent.model import GrantStatus
    from vault.brands import Brand

    from .test_compliance_reports import _grant

    for brand_id in ("brand_a", "brand_b"):
        assert repositories.brands.insert(Brand(brand_id, brand_id, ()), 1)
    alice, bob, carol = (add_member(repositories, n) for n in (1, 2, 3))
    grants = repositories.grants
    grants.insert(_grant("grant_1", alice, "brand_a", starts_at=10, ends_at=20))
    grants.insert(_grant("grant_2", alice, "brand_a", purpose="dpv:Personalisation",
                         starts_at=10, ends_at=20))
    grants.insert(_grant("grant_3", bob, "brand_a", starts_at=10, ends_at=20,
                         status=GrantStatus.WITHDRAWN, withdrawn_at=15))
    grants.insert(_grant("grant_4", carol, "brand_b", starts_at=10, ends_at=20))
    reveals = repositories.reveals
    assert sorted(reveals.member_ids(granted_to="brand_a")) == sorted([alice, bob])
    assert list(reveals.member_ids(granted_to="brand_c")) == []
    assert list(reveals.member_ids()) == [alice, bob, carol]
