"""The insights read model (migration 6) counts exactly what contributions.py would, and only
the members who count now: a withdrawal, an expiry, a narrowing or an erasure is honoured on the
very next query, whatever the triggers precomputed."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from brand_gateway.insights.contributions import layout
from brand_gateway.insights.queries import RATING_LEVELS, TOUCHPOINT_KEYS
from brand_gateway.insights.releases import mean_plan, nps_plan
from brand_gateway.insights.repositories import JOURNAL
from brand_gateway.insights.sqlcipher import SqlcipherInsightReadModel
from consent.vocabulary import FIELD_CATEGORY, SENSITIVE_FIELDS, expand
from tests.insights_support import PURPOSE, Community
from vault.clock import FrozenClock
from vault.home import Vault


def counts(vault: Vault, community: Community, measure: str = "nps",
           purpose: str = PURPOSE) -> dict[tuple[str, int], int]:
    return SqlcipherInsightReadModel(vault.data).journal_counts(
        community.brand_id, purpose, measure, int(vault.clock()))


def recomputed(vault: Vault, brand_id: str, measure: str, now: int) -> dict[tuple[str, int], int]:
    """The same counts straight from the journal and the grants, no read model."""
    column = "nps" if measure == "nps" else "rating"
    rows = vault.data.all(
        "SELECT f.member_num, f.touchpoint, f." + column + " FROM feedback AS f"
        " JOIN members AS m ON m.num = f.member_num"
        " WHERE f.brand_id = ? AND f." + column + " IS NOT NULL AND EXISTS ("
        "  SELECT 1 FROM grants AS g, json_each(g.fields) AS s WHERE g.member_id = m.id"
        "  AND g.brand_id = f.brand_id AND g.purpose = ? AND g.status = 'active'"
        "  AND g.starts_at <= ? AND g.ends_at > ? AND s.value IN ('feedback',"
        "  'category:feedback')) ORDER BY f.id", (brand_id, PURPOSE, now, now))
    data = [(row[0], row[1], row[2]) for row in rows]
    if measure == "nps":
        plan = nps_plan(data, groups=TOUCHPOINT_KEYS, max_groups=len(TOUCHPOINT_KEYS))
    else:
        plan = mean_plan(data, lower=1, upper=5, step=0.5, groups=TOUCHPOINT_KEYS,
                         max_groups=len(TOUCHPOINT_KEYS))
    shape = layout(TOUCHPOINT_KEYS, plan.bounded.layout.width)
    assert shape == plan.bounded.layout
    return {(TOUCHPOINT_KEYS[cell // shape.width], cell % shape.width): count
            for cell, count in Counter(plan.bounded.cells).items()}


def test_the_read_model_counts_what_contributions_py_counts(vault: Vault,
                                                             community: Community) -> None:
    rng = random.Random(14)
    members = []
    for _ in range(40):
        entries = [(rng.choice(TOUCHPOINT_KEYS[:4]), rng.randint(1, 5),
                    rng.choice([None, *range(11)])) for _ in range(rng.randint(0, 6))]
        fields = rng.choice([("feedback",), ("category:feedback", "city"), ("city",), None])
        members.append(community.member(fields=fields, entries=entries))
    # Changes after the grants: entries added, changed and deleted move the cells as well.
    for member_id in members[:10]:
        entry = community.add(member_id, "delivery", rng.randint(1, 5), rng.randint(0, 10))
        vault.feedback.update(member_id, entry, {
            "brand_id": community.brand_id, "touchpoint": "support", "rating": 2, "nps": 3,
            "comment": "", "occurred_on": vault.feedback.today().isoformat()})
    for member_id in members[10:15]:
        entry = community.add(member_id, "returns", 5, 10)
        vault.feedback.delete(member_id, entry)
    now = int(vault.clock())
    for measure in ("nps", "rating"):
        expected = recomputed(vault, community.brand_id, measure, now)
        assert expected, "the test data must count somewhere"
        assert counts(vault, community, measure) == expected


def test_a_member_with_500_entries_counts_once_per_touchpoint(vault: Vault,
                                                              community: Community) -> None:
    community.member(entries=[("delivery", 5, 10)] * 500 + [("support", 1, 0)] * 3)
    assert counts(vault, community) == {("delivery", 2): 1, ("support", 0): 1}
    # The mean rating 1.0 is level 0; 5.0 is level 8 (half points).
    assert counts(vault, community, "rating") == {("delivery", 8): 1, ("support", 0): 1}
    assert RATING_LEVELS[0] == 1.0 and RATING_LEVELS[8] == 5.0


def test_a_member_s_mean_is_rounded_as_contributions_py_rounds_it(vault: Vault,
                                                                  community: Community) -> None:
    # Scores 6 and 8: mean 7.0, a passive; ratings 4 and 5: mean 4.5, level 7; ratings 2 and 3
    # with a 3: mean 2.67, level 3 (2.5).
    community.member(entries=[("delivery", 4, 6), ("delivery", 5, 8)])
    community.member(entries=[("usage", 2, None), ("usage", 3, None), ("usage", 3, None)])
    assert counts(vault, community) == {("delivery", 1): 1}
    assert counts(vault, community, "rating") == {("delivery", 7): 1, ("usage", 3): 1}


def test_a_withdrawal_stops_the_member_counting_on_the_next_query(
        vault: Vault, community: Community) -> None:
    member_id = community.member(entries=[("delivery", 5, 10)])
    community.member(entries=[("delivery", 5, 9)])
    assert counts(vault, community) == {("delivery", 2): 2}
    community.consent.grants.withdraw(member_id, community.grant_of(member_id))
    assert counts(vault, community) == {("delivery", 2): 1}


def test_an_ended_grant_stops_counting_before_its_expiry_is_recorded(
        vault: Vault, community: Community, clock: FrozenClock) -> None:
    community.member(entries=[("delivery", 5, 10)], days=1)
    community.member(entries=[("delivery", 5, 10)], days=30)
    assert counts(vault, community) == {("delivery", 2): 2}
    clock.advance(86_400)                   # the first grant's end: nothing recorded it
    assert counts(vault, community) == {("delivery", 2): 1}
    assert community.consent.grants.record_expiries()     # recorded: the same answer
    assert counts(vault, community) == {("delivery", 2): 1}
    # ... and the ended grant has left the read model: queries no longer subtract it.
    assert vault.data.one("SELECT count(*) FROM insight_eligibility WHERE ends_at <= ?",
                          (int(clock()),))[0] == 0


def test_an_erased_member_stops_counting(vault: Vault, community: Community) -> None:
    member_id = community.member(entries=[("delivery", 1, 0)])
    community.member(entries=[("delivery", 5, 10)])
    vault.erasure.erase(member_id)
    assert counts(vault, community) == {("delivery", 2): 1}
    assert counts(vault, community, "rating") == {("delivery", 8): 1}


def test_only_a_grant_of_the_journal_for_that_brand_and_purpose_counts(
        vault: Vault, community: Community) -> None:
    community.member(fields=None, entries=[("delivery", 5, 10)])           # no grant
    community.member(fields=("city", "interests"), entries=[("delivery", 5, 10)])
    community.member(purpose="dpv:Marketing", entries=[("delivery", 5, 10)])
    other = community.api.brand("Green Grocer")
    lone = community.member(fields=None, entries=[("delivery", 5, 10)])
    community.api.grant(lone, other, PURPOSE, ["feedback"])                # another brand
    assert counts(vault, community) == {}
    assert counts(vault, community, purpose="dpv:Marketing") == {("delivery", 2): 1}


def test_narrowing_the_journal_out_stops_the_member_counting(vault: Vault,
                                                             community: Community) -> None:
    member_id = community.member(fields=("feedback", "city"), entries=[("delivery", 5, 10)])
    community.consent.grants.narrow(member_id, community.grant_of(member_id),
                                    fields=["city"])
    assert counts(vault, community) == {}


def test_a_new_grant_for_the_purpose_counts_the_member_once(vault: Vault,
                                                            community: Community) -> None:
    member_id = community.member(entries=[("delivery", 5, 10)])
    community.api.grant(member_id, community.client, PURPOSE, ["feedback", "city"])
    assert counts(vault, community) == {("delivery", 2): 1}


def test_counting_members_of_a_field_follows_the_same_rule(vault: Vault,
                                                           community: Community) -> None:
    counted = community.member(fields=("category:motivations",))
    community.member(fields=("city",))
    model = SqlcipherInsightReadModel(vault.data)
    now = int(vault.clock())
    found = model.counting_members(community.brand_id, PURPOSE, "life_stage", now)
    assert list(found.values()) == [counted]
    community.consent.grants.withdraw(counted, community.grant_of(counted))
    assert model.counting_members(community.brand_id, PURPOSE, "life_stage", now) == {}


def test_the_selectors_of_the_read_model_are_those_consent_expands(vault: Vault) -> None:
    """``insight_fields`` (migration 6) says which selectors cover which countable field; it
    must agree with consent's ``expand`` and hold no sensitive field."""
    rows = vault.data.all("SELECT selector, field FROM insight_fields")
    table: dict[str, set[str]] = {}
    for selector, field in rows:
        table.setdefault(selector, set()).add(field)
    countable = {field for fields in table.values() for field in fields}
    assert not countable & SENSITIVE_FIELDS
    assert JOURNAL in countable
    categories = {f"category:{category}" for category in map(str, FIELD_CATEGORY.values())}
    for selector in [*FIELD_CATEGORY, *categories]:
        expected = expand(frozenset({selector})) & countable
        assert table.get(selector, set()) == expected, selector


@pytest.mark.parametrize("measure", ["nps", "rating"])
def test_the_migration_s_backfill_matches_the_triggers(vault: Vault, community: Community,
                                                       measure: str) -> None:
    """What the triggers keep equals what migration 6 computes from scratch on an old store."""
    rng = random.Random(6)
    for _ in range(15):
        community.member(entries=[(rng.choice(TOUCHPOINT_KEYS), rng.randint(1, 5),
                                   rng.randint(0, 10)) for _ in range(3)])
    kept = vault.data.all("SELECT brand_id, purpose, touchpoint, measure, cell, members"
                          " FROM insight_feedback_cells WHERE members <> 0 ORDER BY 1, 2, 3, 4,"
                          " 5")
    vault.data.execute("DELETE FROM insight_feedback_cells")
    from vault.migrations import statements
    from vault.schema import DATA
    migration = next(m for m in DATA.migrations if m.name == "insights_read_model")
    backfill = [s for s in statements(migration.sql)
                if s.startswith("INSERT INTO insight_feedback_cells")]
    assert len(backfill) == 1
    vault.data.execute(backfill[0])
    rebuilt = vault.data.all("SELECT brand_id, purpose, touchpoint, measure, cell, members"
                             " FROM insight_feedback_cells WHERE members <> 0 ORDER BY 1, 2, 3,"
                             " 4, 5")
    assert [tuple(r) for r in rebuilt] == [tuple(r) for r in kept]
    assert any(row[3] == measure for row in kept)


def test_a_member_with_500_entries_moves_the_counts_no_more_than_one_member_may(
        vault: Vault, community: Community) -> None:
    rng = random.Random(500)
    for _ in range(20):
        community.member(entries=[(rng.choice(TOUCHPOINT_KEYS), rng.randint(1, 5),
                                   rng.randint(0, 10)) for _ in range(3)])
    without = counts(vault, community)
    community.member(entries=[(rng.choice(TOUCHPOINT_KEYS), rng.randint(1, 5),
                               rng.randint(0, 10)) for _ in range(500)])
    with_them = counts(vault, community)
    moved = sum(abs(with_them.get(k, 0) - without.get(k, 0)) for k in with_them | without)
    # One cell per touchpoint at most: the bound the noise of a release is derived from.
    assert 1 <= moved <= len(TOUCHPOINT_KEYS)


def test_a_care_case_s_grant_counts_the_member_in_no_insight(vault: Vault,
                                                               community: Community) -> None:
    """A care case is a one-time individual grant of one journal entry, for the brand to get
    back to the member: it must not put their whole journal about the brand into the
    aggregates of a query naming its purpose (those who complained, at every touchpoint)."""
    from community.storage import care_service
    from consent.vocabulary import FEEDBACK

    member_id = community.member(fields=None, entries=[("support", 4, 8)])
    community.api.accept_everything(member_id)
    low = community.add(member_id, "delivery", 1, 0)
    case = care_service(consent=community.consent, accepts_term=lambda b, t: True).ask(
        member_id, entry_id=low)
    grant = community.consent.grants.get(member_id, case.grant_id)
    assert grant.live_at(vault.clock()) and FEEDBACK in grant.covered
    assert counts(vault, community, purpose=grant.purpose) == {}
    assert counts(vault, community, "rating", purpose=grant.purpose) == {}
    model = SqlcipherInsightReadModel(vault.data)
    assert model.counting_members(community.brand_id, grant.purpose, FEEDBACK,
                                  int(vault.clock())) == {}
