"""Contract of surveys, feedback requests and attribute requests
(``community/repositories.py``: SurveyRepository, AttributeRequestRepository): surveys with
their questions in order, a member's answer replaced whole, withdrawn as deleted rows,
respondents by member, skips, journal links, attribute-request responses, and everything of a
member gone with the member (erasure) or with their rows' deletion.

Each engine's repositories come from :data:`SURVEY_REPOSITORIES`, over the same store as the
shared fixture's (each over its data store's connection)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from community.postgresql.communities import PostgresqlCommunities
from community.postgresql.surveys import PostgresqlAttributeRequests, PostgresqlSurveys
from community.repositories import (
    AnswerRow,
    AttributeRequestRecord,
    AttributeRequestRepository,
    Community,
    CommunityFacts,
    CommunityRepository,
    Membership,
    QuestionRecord,
    SurveyRecord,
    SurveyRepository,
)
from community.sqlcipher.communities import SqlcipherCommunities
from community.sqlcipher.surveys import SqlcipherAttributeRequests, SqlcipherSurveys
from consent.model import Grant, GrantStatus, Mode
from consent.vocabulary import expand
from vault.brands import Brand

from .conftest import Repositories, add_member


@dataclass(frozen=True)
class Stores:
    surveys: SurveyRepository
    requests: AttributeRequestRepository
    communities: CommunityRepository


def _sqlcipher(repositories: Repositories) -> Stores:
    data = repositories.members._db        # type: ignore[attr-defined]  # the data store
    return Stores(SqlcipherSurveys(data), SqlcipherAttributeRequests(data),
                  SqlcipherCommunities(data))


def _postgresql(repositories: Repositories) -> Stores:
    data = repositories.care_cases._db     # type: ignore[attr-defined]  # the data store
    return Stores(PostgresqlSurveys(data), PostgresqlAttributeRequests(data),
                  PostgresqlCommunities(data))


SURVEY_REPOSITORIES: dict[str, Callable[[Repositories], Stores]] = {
    "sqlcipher": _sqlcipher, "postgresql": _postgresql}
QUESTIONS = (QuestionRecord(0, "rating", "Rate", ()),
             QuestionRecord(1, "multiple", "Why", ("a", "b", "c")),
             QuestionRecord(2, "text", "Say", ()))


@pytest.fixture
def stores(repositories: Repositories, request: pytest.FixtureRequest) -> Stores:
    assert repositories.brands.insert(Brand("brand_1", "Velo", ()), 1)
    made = SURVEY_REPOSITORIES[request.node.callspec.params["repositories"]](repositories)
    made.communities.insert(Community("c1", "brand_1", "Club", "For.",
                                      ("dpv:ResearchAndDevelopment",), 10))
    return made


def _member(stores: Stores, repositories: Repositories, number: int) -> tuple[str, int]:
    member_id = add_member(repositories, number)
    num = stores.surveys.member_number(member_id)
    assert num is not None
    assert stores.communities.add_member(Membership("c1", num, 20, f"m-{number}"))
    return member_id, num


def _survey(sid: str, *, published: int = 10, closes: int = 100) -> SurveyRecord:
    return SurveyRecord(sid, "brand_1", "c1", "Title " + sid, None, "survey", 5, closes, "[]",
                        published)


def test_surveys_with_questions_in_order_and_the_communities_they_read(
        stores: Stores, repositories: Repositories) -> None:
    repo = stores.surveys
    repo.insert(_survey("s1", published=10, closes=50), QUESTIONS)
    repo.insert(_survey("s2", published=20, closes=40), QUESTIONS[:1])
    assert repo.get("s1") == _survey("s1", published=10, closes=50) and repo.get("x") is None
    assert repo.questions("s1") == list(QUESTIONS)
    assert [s.id for s in repo.for_brand("brand_1", limit=10, offset=0)] == ["s2", "s1"]
    assert [s.id for s in repo.for_brand("brand_1", limit=1, offset=1)] == ["s1"]
    assert [s.id for s in repo.for_communities(["c1"], closes_after=0)] == ["s2", "s1"]
    assert [s.id for s in repo.for_communities(["c1"], closes_after=45)] == ["s1"]
    assert repo.for_communities([], closes_after=0) == []
    assert repo.community("c1") == CommunityFacts("c1", "brand_1",
                                                  ("dpv:ResearchAndDevelopment",), None)
    alice, num = _member(stores, repositories, 1)
    assert repo.community_members("c1") == [(num, alice)]
    assert repo.member_communities(alice) == ["c1"]
    assert repo.member_number("nobody") is None


def test_an_answer_is_replaced_whole_and_withdrawn_as_deleted_rows(
        stores: Stores, repositories: Repositories) -> None:
    repo = stores.surveys
    repo.insert(_survey("s1"), QUESTIONS)
    alice, a = _member(stores, repositories, 1)
    bob, b = _member(stores, repositories, 2)
    first = [AnswerRow(0, 4, None, None, 30), AnswerRow(1, None, 0b101, None, 30),
             AnswerRow(2, None, None, b"sealed", 30)]
    repo.replace_answers("s1", a, first)
    assert repo.answers("s1", a) == first
    repo.replace_answers("s1", a, [AnswerRow(0, 2, None, None, 31)])
    assert repo.answers("s1", a) == [AnswerRow(0, 2, None, None, 31)]
    repo.insert_answers([("s1", b, AnswerRow(0, 5, None, None, 32))])
    assert repo.answered(a) == {"s1": 31}
    assert [(r.member_num, r.member_id, len(r.rows)) for r in repo.respondents("s1")] == [
        (a, alice, 1), (b, bob, 1)]
    assert repo.delete_answers("s1", a) == 1 and repo.delete_answers("s1", a) == 0
    assert repo.answers("s1", a) == [] and repo.answered(a) == {}


def test_skips_journal_links_and_a_members_rows_go_with_the_member(
        stores: Stores, repositories: Repositories) -> None:
    repo = stores.surveys
    repo.insert(_survey("s1"), QUESTIONS)
    alice, a = _member(stores, repositories, 1)
    repo.skip("s1", a, 40)
    repo.skip("s1", a, 41)                                  # once
    assert repo.skipped(a) == {"s1"}
    repo.unskip("s1", a)
    assert repo.skipped(a) == set()
    repo.skip("s1", a, 42)
    repo.replace_answers("s1", a, [AnswerRow(0, 3, None, None, 40)])
    stores.requests.insert(AttributeRequestRecord("r1", "brand_1", "c1", "household_size",
                                                  "Why", 10, 100))
    stores.requests.respond("r1", a, "kept", 50)
    assert repo.delete_member_rows(alice) == 3
    assert repo.answers("s1", a) == [] and repo.skipped(a) == set()
    assert stores.requests.responses(a) == {}
    assert repo.delete_member_rows("nobody") == 0


def test_attribute_requests_latest_first_and_one_response_per_member(
        stores: Stores, repositories: Repositories) -> None:
    requests = stores.requests
    one = AttributeRequestRecord("r1", "brand_1", "c1", "household_size", "Why", 10, 100)
    two = AttributeRequestRecord("r2", "brand_1", "c1", "country", "Where", 20, 50)
    requests.insert(one)
    requests.insert(two)
    assert requests.get("r1") == one and requests.get("nope") is None
    assert [r.id for r in requests.for_brand("brand_1", limit=10, offset=0)] == ["r2", "r1"]
    assert [r.id for r in requests.for_communities(["c1"], closes_after=60)] == ["r1"]
    _, a = _member(stores, repositories, 1)
    requests.respond("r1", a, "declined", 30)
    requests.respond("r1", a, "shared", 31)
    assert requests.responses(a) == {"r1": "shared"}


def test_an_erased_members_answers_leave_the_insights_counts(
        stores: Stores, repositories: Repositories) -> None:
    """Erasing a member deletes their answers and grants in one go (foreign keys): the survey
    counts of the insights read model lose them, whichever of the two goes first."""
    purpose = "dpv:ResearchAndDevelopment"
    model = repositories.insight_read_model
    stores.surveys.insert(_survey("s1"), QUESTIONS)
    members = [_member(stores, repositories, number) for number in (1, 2)]
    for (member_id, num), rating in zip(members, (4, 5), strict=True):
        fields = frozenset({"survey"})
        repositories.grants.insert(Grant(
            f"g{num}", member_id, "brand_1", purpose, fields, Mode.AGGREGATE, 1, 1_000, 30,
            False, None, "EU", "test", "SD-BASE", 1, GrantStatus.ACTIVE, None, 1, 1, 1,
            expand(fields)))
        stores.surveys.replace_answers("s1", num, [AnswerRow(0, rating, None, None, 30),
                                                    AnswerRow(1, None, 0b011, None, 30)])
    assert model.survey_counts("brand_1", "s1", purpose, 50) == {
        (0, 3): 1, (0, 4): 1, (1, 0): 2, (1, 1): 2, (1, 2): 2}
    assert repositories.erasures.delete_member_rows(members[0][0]) > 0
    assert model.survey_counts("brand_1", "s1", purpose, 50) == {
        (0, 4): 1, (1, 0): 1, (1, 1): 1, (1, 2): 1}


@pytest.mark.parametrize(("contract", "implementation"), [
    (SurveyRepository, SqlcipherSurveys), (AttributeRequestRepository, SqlcipherAttributeRequests),
    (SurveyRepository, PostgresqlSurveys),
    (AttributeRequestRepository, PostgresqlAttributeRequests)])
def test_each_implementation_has_its_contracts_methods(contract: type, implementation: type
                                                       ) -> None:
    for klass in contract.__mro__:
        for name, member in vars(klass).items():
            if not callable(member) or name.startswith("_"):
                continue
            offered = getattr(implementation, name, None)
            assert callable(offered), f"{implementation.__name__} lacks {name}"
            assert [(p.name, p.kind) for p in inspect.signature(offered).parameters.values()] \
                == [(p.name, p.kind) for p in inspect.signature(member).parameters.values()], \
                f"{implementation.__name__}.{name}"
