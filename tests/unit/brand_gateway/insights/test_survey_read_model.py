"""Survey answers in the insights read model: one value per member and question (all of their
choices for a multiple choice), text never, and only members who count now."""

from __future__ import annotations

import random
from collections import Counter

from brand_gateway.insights.sqlcipher import SqlcipherInsightReadModel
from community.storage import membership_service, survey_service
from tests.insights_support import (
    PURPOSE,
    Community,
    answer,
    joiner,
    open_club,
    publish,
)
from vault.home import Vault


def counts(vault: Vault, community: Community, survey_id: str,
           purpose: str = PURPOSE) -> dict[tuple[int, int], int]:
    return SqlcipherInsightReadModel(vault.data).survey_counts(
        community.brand_id, survey_id, purpose, int(vault.clock()))


def expected(answers: dict[str, dict[str, object]]) -> dict[tuple[int, int], int]:
    """The cells of each member's answers, as the read model must count them."""
    found: Counter[tuple[int, int]] = Counter()
    for raw in answers.values():
        if "q0" in raw:
            found[(0, int(raw["q0"]) - 1)] += 1                                # type: ignore
        if "q1" in raw:
            score = int(raw["q1"])                                             # type: ignore
            found[(1, 0 if score < 7 else 1 if score < 9 else 2)] += 1
        if "q2" in raw:
            found[(2, int(raw["q2"]))] += 1                                    # type: ignore
        if raw.get("q3"):
            found[(3, 0)] += 1
            for choice in set(raw["q3"]):                                      # type: ignore
                found[(3, 1 + int(choice))] += 1
    return dict(found)


def test_the_cells_of_the_answers_of_members_who_count(vault: Vault,
                                                       community: Community) -> None:
    club = open_club(community)
    survey_id = publish(community, club)
    rng = random.Random(5)
    answers: dict[str, dict[str, object]] = {}
    for _ in range(12):
        member_id = joiner(community, club)
        raw: dict[str, object] = {"q4": "free text, never counted"}
        if rng.random() < 0.8:
            raw["q0"] = str(rng.randint(1, 5))
        raw["q1"] = str(rng.randint(0, 10))
        raw["q2"] = str(rng.randint(0, 1))
        raw["q3"] = [str(c) for c in rng.sample(range(3), rng.randint(0, 3))]
        answer(community, member_id, survey_id, **raw)
        answers[member_id] = raw
    assert counts(vault, community, survey_id) == expected(answers)
    assert all(position != 4 for position, _ in counts(vault, community, survey_id))
    # A changed answer moves its cells; a withdrawn one leaves.
    first, second = list(answers)[:2]
    answers[first] = {"q0": "5", "q1": "10", "q2": "1", "q3": ["0"]}
    answer(community, first, survey_id, **answers[first])
    survey_service(consent=community.consent).withdraw(second, survey_id)
    del answers[second]
    assert counts(vault, community, survey_id) == expected(answers)


def test_leaving_the_community_stops_the_member_counting(vault: Vault,
                                                         community: Community) -> None:
    club = open_club(community)
    survey_id = publish(community, club)
    stays, leaves = joiner(community, club), joiner(community, club)
    for member_id in (stays, leaves):
        answer(community, member_id, survey_id, q1="10")
    assert counts(vault, community, survey_id) == {(1, 2): 2}
    membership_service(community.consent).leave(leaves, club)
    assert counts(vault, community, survey_id) == {(1, 2): 1}
    vault.erasure.erase(stays)
    assert counts(vault, community, survey_id) == {}


def test_only_the_purpose_asked_counts_and_only_the_brand_s_survey(
        vault: Vault, community: Community) -> None:
    club = open_club(community, purposes=("dpv:ResearchAndDevelopment",))
    survey_id = publish(community, club)
    answer(community, joiner(community, club), survey_id, q1="3")
    assert counts(vault, community, survey_id) == {}
    assert counts(vault, community, survey_id, "dpv:ResearchAndDevelopment") == {(1, 0): 1}
    model = SqlcipherInsightReadModel(vault.data)
    other = community.api.brand("Green Grocer")
    assert model.survey_questions(other.brand_id, survey_id) is None
    assert model.survey_counts(other.brand_id, survey_id, "dpv:ResearchAndDevelopment",
                               int(vault.clock())) == {}
    assert [q.kind for q in model.survey_questions(community.brand_id, survey_id) or []] == [
        "rating", "nps", "single", "multiple"]


def test_an_ended_membership_grant_stops_counting_before_it_is_recorded(
        vault: Vault, community: Community, clock) -> None:
    club = open_club(community)
    survey_id = publish(community, club)
    answer(community, joiner(community, club), survey_id, q1="9")
    clock.advance(366 * 86_400)          # past the membership grant's year
    assert counts(vault, community, survey_id) == {}


def test_survey_cells_name_each_counting_member_once_per_cell(vault: Vault,
                                                              community: Community) -> None:
    club = open_club(community)
    survey_id = publish(community, club)
    member_id = joiner(community, club)
    answer(community, member_id, survey_id, q3=["0", "2"], q2="1")
    cells = SqlcipherInsightReadModel(vault.data).survey_cells(
        community.brand_id, survey_id, PURPOSE, int(vault.clock()))
    assert sorted((position, cell) for _, position, cell in cells) == [
        (2, 1), (3, 0), (3, 1), (3, 3)]
    assert len({member for member, _, _ in cells}) == 1


def test_a_member_whose_answers_two_grants_cover_counts_once(vault: Vault,
                                                             community: Community) -> None:
    """A grant of survey answers besides the community's (given another way, so living beside
    it) does not count the member twice in any cell: one member, one value per question."""
    club = open_club(community)
    survey_id = publish(community, club)
    member_id = joiner(community, club)
    answer(community, member_id, survey_id, q0="4", q1="9")
    community.api.grant(member_id, community.client, PURPOSE, ["survey"])
    live = [g for g in community.consent.grants.for_member(member_id)
            if g.purpose == PURPOSE and g.status.value == "active"]
    assert len(live) == 2, "two grants of the answers, side by side"
    assert counts(vault, community, survey_id) == {(0, 3): 1, (1, 2): 1}
