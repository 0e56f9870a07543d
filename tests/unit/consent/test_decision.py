"""consent.decision: one default-deny function that explains itself.

Property tests build random terms, grants, fields and times and compare
:meth:`MemberPolicy.decide` with the rules written out independently (:func:`expected`); more
properties then cover withdrawal, expiry, narrowing and GPC, on the policy directly and through
the store with :class:`DecisionPoint`.
"""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from consent.context import Consent
from consent.decision import Decision, DecisionPoint, MemberPolicy
from consent.grants import DAY, BrandRequest
from consent.model import Grant, GrantStatus, Mode, PersonalTerms
from consent.sqlcipher.grants import SqlcipherGrants
from consent.vocabulary import (
    CATEGORY_PREFIX,
    FEEDBACK,
    FIELD_CATEGORY,
    FIELDS,
    PURPOSE_BY_CODE,
    PURPOSES,
    expand,
)
from vault.brands import Brand
from vault.catalog import Category
from vault.clock import FrozenClock

from .conftest import ALL_PURPOSES, Sharing

T0 = 1_800_000_000
MEMBER = "member-under-test"
PURPOSE_CODES = [p.code for p in PURPOSES]
SALE_OR_SHARING = [p.code for p in PURPOSES if p.sale_or_sharing]
SELECTORS = [*FIELDS, *(CATEGORY_PREFIX + str(c) for c in Category), CATEGORY_PREFIX + FEEDBACK]
_ids = itertools.count()


# -- strategies ---------------------------------------------------------------------------------
times = st.integers(min_value=T0 - 200 * DAY, max_value=T0 + 200 * DAY)
purposes = st.sampled_from(PURPOSE_CODES)
fields = st.sampled_from(FIELDS)
modes = st.sampled_from(list(Mode))


def make_grant(**values: Any) -> Grant:
    base: dict[str, Any] = {
        "id": f"grant_{next(_ids):024x}", "member_id": MEMBER, "brand_id": "brand_x",
        "purpose": "dpv:Personalisation", "fields": frozenset({"given_name"}),
        "mode": Mode.INDIVIDUAL, "starts_at": T0, "ends_at": T0 + 30 * DAY,
        "retention_days": 30, "onward_sharing": False, "third_party": None,
        "jurisdiction": "EU", "collection_method": "test", "agreement": "SD-BASE-ATP",
        "terms_version": 1, "status": GrantStatus.ACTIVE, "withdrawn_at": None, "version": 1,
        "created_at": T0, "updated_at": T0,
    }
    base.update(values)
    base.setdefault("covered", expand(base["fields"]))
    return Grant(**base)


@st.composite
def grants(draw: st.DrawFn, purpose: st.SearchStrategy[str] = purposes) -> Grant:
    starts = draw(times)
    withdrawn = draw(st.integers(min_value=0, max_value=3)) == 0
    onward = draw(st.integers(min_value=0, max_value=3)) == 0
    return make_grant(
        purpose=draw(purpose),
        fields=frozenset(draw(st.sets(st.sampled_from(SELECTORS), min_size=1, max_size=6))),
        mode=draw(modes), starts_at=starts,
        ends_at=starts + draw(st.integers(min_value=1, max_value=120 * DAY)),
        onward_sharing=onward, third_party="Acme Statistics Ltd" if onward else None,
        status=GrantStatus.WITHDRAWN if withdrawn else GrantStatus.ACTIVE,
        withdrawn_at=starts if withdrawn else None,
    )


@st.composite
def policies(draw: st.DrawFn) -> MemberPolicy:
    terms = PersonalTerms(
        MEMBER, "SD-BASE-ATP",
        frozenset(draw(st.sets(purposes, min_size=0))) | draw(
            st.sampled_from([frozenset(), ALL_PURPOSES])),
        max_days=365, aggregate_allowed=True, gpc_opt_out=draw(st.booleans()))
    # Bias grants towards a few purposes so that matches are common.
    chosen = st.sampled_from(draw(st.lists(purposes, min_size=1, max_size=3)))
    return MemberPolicy(terms, tuple(draw(st.lists(grants(chosen), min_size=1, max_size=5))))


queries = st.tuples(purposes, fields, modes, times)


@st.composite
def cases(draw: st.DrawFn) -> tuple[MemberPolicy, tuple]:
    """A policy and a query, often aimed at one of its grants so that allows are common."""
    policy = draw(policies())
    if not policy.grants or draw(st.integers(min_value=0, max_value=3)) == 0:
        return policy, draw(queries)
    target = draw(st.sampled_from(policy.grants))
    if draw(st.integers(min_value=0, max_value=3)):
        policy = dataclasses.replace(policy, terms=dataclasses.replace(
            policy.terms, purposes=policy.terms.purposes | {target.purpose}))
    covered = sorted(target.covered)
    field = draw(st.sampled_from(covered) if draw(st.integers(0, 3)) else fields)
    at = draw(st.integers(min_value=target.starts_at - 1, max_value=target.ends_at))
    return policy, (target.purpose, field, draw(modes), at)


@st.composite
def allowed_cases(draw: st.DrawFn) -> tuple[MemberPolicy, tuple]:
    """A policy with a live grant that allows the query (terms accept, no GPC in the way)."""
    policy, (purpose, field, mode, at) = draw(cases())
    terms = dataclasses.replace(policy.terms, purposes=policy.terms.purposes | {purpose},
                                gpc_opt_out=policy.terms.gpc_opt_out and not PURPOSE_BY_CODE[
                                    purpose].sale_or_sharing)
    grant = make_grant(purpose=purpose, fields=frozenset({field}),
                       mode=draw(st.sampled_from([mode, Mode.INDIVIDUAL])),
                       starts_at=at - draw(st.integers(0, 10 * DAY)),
                       ends_at=at + draw(st.integers(1, 10 * DAY)))
    grants = list(policy.grants)
    grants.insert(draw(st.integers(0, len(grants))), grant)
    return MemberPolicy(terms, tuple(grants)), (purpose, field, mode, at)


def live_matching(policy: MemberPolicy, purpose: str, field: str, mode: Mode, at: float
                  ) -> list[Grant]:
    """The grants that may allow this read: every rule of DESIGN.md section 3, written out."""
    return [
        g for g in policy.grants
        if g.status is GrantStatus.ACTIVE and g.starts_at <= at < g.ends_at
        and g.purpose == purpose and field in expand(g.fields)
        and not (mode is Mode.INDIVIDUAL and g.mode is Mode.AGGREGATE)
        and not (policy.terms.gpc_opt_out and g.onward_sharing)
    ]


def expected(policy: MemberPolicy, purpose: str, field: str, mode: Mode, at: float) -> bool:
    spec = PURPOSE_BY_CODE[purpose]
    if policy.terms.gpc_opt_out and spec.sale_or_sharing:
        return False
    if purpose not in policy.terms.purposes:
        return False
    return bool(live_matching(policy, purpose, field, mode, at))


def check_explained(decision: Decision, policy: MemberPolicy, query: tuple) -> None:
    assert isinstance(decision.reason, str) and decision.reason.strip()
    if decision.allowed:
        assert decision.grant_id is not None
        assert decision.grant_id in decision.reason
        assert decision.grant_id in {g.id for g in live_matching(policy, *query)}
    else:
        assert decision.grant_id is None
        assert not decision


# -- the policy, directly -----------------------------------------------------------------------
@settings(max_examples=500)
@given(cases())
def test_allowed_exactly_when_a_live_matching_grant_exists(case: tuple) -> None:
    policy, query = case
    decision = policy.decide(*query)
    assert decision.allowed is expected(policy, *query)
    check_explained(decision, policy, query)


@settings(max_examples=200)
@given(policies(), purposes, modes, times)
def test_allowed_reads_are_common_enough_to_mean_something(policy, purpose, mode, at) -> None:
    # Not a property of the product: a guard that the strategies reach the allowing branch.
    policy = dataclasses.replace(policy, terms=dataclasses.replace(
        policy.terms, purposes=ALL_PURPOSES, gpc_opt_out=False))
    grant = make_grant(purpose=purpose, fields=frozenset({"city"}), mode=mode, starts_at=at,
                       ends_at=at + 1)
    policy = dataclasses.replace(policy, grants=(*policy.grants, grant))
    decision = policy.decide(purpose, "city", mode, at)
    assert decision.allowed
    check_explained(decision, policy, (purpose, "city", mode, at))


@given(policies(), queries)
def test_without_grants_everything_is_denied(policy: MemberPolicy, query: tuple) -> None:
    decision = dataclasses.replace(policy, grants=()).decide(*query)
    assert not decision.allowed
    assert decision.reason


@given(allowed_cases())
def test_withdrawal_always_denies(case: tuple) -> None:
    policy, query = case
    before = policy.decide(*query)
    assert before.allowed
    withdrawn = tuple(
        dataclasses.replace(g, status=GrantStatus.WITHDRAWN, withdrawn_at=query[3])
        if g.id == before.grant_id else g for g in policy.grants)
    after = dataclasses.replace(policy, grants=withdrawn).decide(*query)
    assert after.grant_id != before.grant_id
    everything = tuple(dataclasses.replace(g, status=GrantStatus.WITHDRAWN)
                       for g in policy.grants)
    assert not dataclasses.replace(policy, grants=everything).decide(*query).allowed


@settings(max_examples=200)
@given(st.one_of(cases(), allowed_cases()), st.integers(min_value=0, max_value=400 * DAY))
def test_expiry_always_denies(case: tuple, later: int) -> None:
    policy, query = case
    purpose, field, mode, at = query
    decision = policy.decide(*query)
    if decision.allowed:
        [grant] = [g for g in policy.grants if g.id == decision.grant_id]
        assert at < grant.ends_at
        assert policy.decide(purpose, field, mode, grant.ends_at + later).grant_id != grant.id
    last_end = max((g.ends_at for g in policy.grants), default=at)
    assert not policy.decide(purpose, field, mode, last_end + later).allowed


@st.composite
def narrowings(draw: st.DrawFn) -> tuple[MemberPolicy, int, frozenset[str], int]:
    policy = draw(policies())
    assume(policy.grants)
    index = draw(st.integers(min_value=0, max_value=len(policy.grants) - 1))
    grant = policy.grants[index]
    covered = sorted(expand(grant.fields))
    assume(covered)
    kept = frozenset(draw(st.sets(st.sampled_from(covered), min_size=1)))
    # a category selector may stand in for fields when everything it covers is kept
    categories = {CATEGORY_PREFIX + str(FIELD_CATEGORY[f]) for f in kept}
    wholes = [c for c in categories if expand({c}) <= kept and draw(st.booleans())]
    selectors = kept - expand(frozenset(wholes)) | frozenset(wholes)
    assert expand(selectors) == kept
    end = draw(st.integers(min_value=grant.starts_at + 1, max_value=grant.ends_at))
    if draw(st.booleans()):     # mostly terms that accept the purpose, so reads get that far
        policy = dataclasses.replace(policy, terms=dataclasses.replace(
            policy.terms, purposes=policy.terms.purposes | {grant.purpose}))
    return policy, index, selectors, end


@settings(max_examples=300)
@given(narrowings(), st.data(), modes, st.lists(times, min_size=1, max_size=4))
def test_narrowing_never_widens(narrowing, data: st.DataObject, mode: Mode,
                                moments: list) -> None:
    policy, index, selectors, end = narrowing
    grant = policy.grants[index]
    purpose = data.draw(st.one_of(st.just(grant.purpose), purposes))
    narrowed = dataclasses.replace(grant, fields=selectors, covered=expand(selectors),
                                   ends_at=end, version=grant.version + 1)
    after = dataclasses.replace(
        policy, grants=(*policy.grants[:index], narrowed, *policy.grants[index + 1:]))
    for at in [*moments, grant.starts_at, end - 1, end, grant.ends_at - 1]:
        for field in FIELDS:
            if after.decide(purpose, field, mode, at).allowed:
                assert policy.decide(purpose, field, mode, at).allowed, (field, at)


@given(policies(), st.sampled_from(SALE_OR_SHARING), fields, modes, times)
def test_a_gpc_opt_out_denies_sale_and_sharing(policy, purpose, field, mode, at) -> None:
    opted_out = dataclasses.replace(policy, terms=dataclasses.replace(
        policy.terms, gpc_opt_out=True, purposes=ALL_PURPOSES))
    grant = make_grant(purpose=purpose, fields=frozenset({field}), mode=Mode.INDIVIDUAL,
                       starts_at=at - 1, ends_at=at + 1)
    opted_out = dataclasses.replace(opted_out, grants=(*opted_out.grants, grant))
    decision = opted_out.decide(purpose, field, mode, at)
    assert not decision.allowed
    assert "GPC" in decision.reason


@given(st.one_of(cases(), allowed_cases()))
def test_a_gpc_opt_out_denies_onward_sharing_grants(case: tuple) -> None:
    policy, query = case
    opted_out = dataclasses.replace(policy, terms=dataclasses.replace(
        policy.terms, gpc_opt_out=True))
    decision = opted_out.decide(*query)
    if decision.allowed:
        [grant] = [g for g in policy.grants if g.id == decision.grant_id]
        assert not grant.onward_sharing
        assert not PURPOSE_BY_CODE[query[0]].sale_or_sharing
    sharing_only = dataclasses.replace(opted_out, grants=tuple(
        g for g in opted_out.grants if g.onward_sharing))
    assert not sharing_only.decide(*query).allowed


def test_a_gpc_opt_out_names_the_onward_sharing_grant_as_the_reason() -> None:
    terms = PersonalTerms(MEMBER, purposes=ALL_PURPOSES, gpc_opt_out=True)
    grant = make_grant(purpose="dpv:ServiceOptimisation", mode=Mode.AGGREGATE,
                       onward_sharing=True, third_party="Acme Statistics Ltd")
    decision = MemberPolicy(terms, (grant,)).decide("dpv:ServiceOptimisation", "given_name",
                                                    Mode.AGGREGATE, T0)
    assert not decision.allowed and "onward" in decision.reason
    allowed = MemberPolicy(dataclasses.replace(terms, gpc_opt_out=False), (grant,))
    assert allowed.decide("dpv:ServiceOptimisation", "given_name", Mode.AGGREGATE, T0)


@given(policies(), queries,
       st.text(max_size=20).filter(lambda t: t not in PURPOSE_BY_CODE),
       st.text(max_size=20).filter(lambda t: t not in FIELD_CATEGORY),
       st.text(max_size=20).filter(lambda t: t not in {m.value for m in Mode}))
def test_unknown_purposes_fields_and_modes_are_denied(policy, query, purpose, field,
                                                      mode) -> None:
    known_purpose, known_field, known_mode, at = query
    for bad in ((purpose, known_field, known_mode, at), (known_purpose, field, known_mode, at),
                (known_purpose, known_field, mode, at)):
        decision = policy.decide(*bad)
        assert not decision.allowed
        assert decision.reason.startswith("unknown")


@settings(max_examples=300)
@given(st.one_of(cases(), allowed_cases()),
       st.lists(st.one_of(fields, st.sampled_from(["not-a-field", ""])), max_size=12),
       st.one_of(modes, st.just("no-such-mode")))
def test_deciding_many_fields_at_once_answers_as_one_by_one(case: tuple, more: list[str],
                                                            mode: Mode | str) -> None:
    # The brand API judges a token's fields in one call: each answer must be the one a call
    # for that field alone gives (same allow, same grant, same reason), whatever the others.
    policy, (purpose, field, _, at) = case
    asked = [field, *more, field]
    many = policy.decide_fields(purpose, asked, mode, at)
    assert list(many) == list(dict.fromkeys(asked))
    for name, decision in many.items():
        assert decision == policy.decide(purpose, name, mode, at), name


@pytest.mark.parametrize(("grant", "at", "mode", "reason"), [
    ({}, T0 - 1, Mode.INDIVIDUAL, "the grant has not started yet"),
    ({}, T0 + 30 * DAY, Mode.INDIVIDUAL, "the grant has expired"),
    ({"status": GrantStatus.WITHDRAWN}, T0, Mode.INDIVIDUAL, "the member withdrew the grant"),
    ({"fields": frozenset({"city"})}, T0, Mode.INDIVIDUAL,
     "the grant does not cover this field"),
    ({"fields": frozenset({"category:demographics"})}, T0, Mode.INDIVIDUAL,
     "the grant does not cover this field"),       # religion is never in a category
    ({"mode": Mode.AGGREGATE}, T0, Mode.INDIVIDUAL, "the grant allows aggregate use only"),
    ({"purpose": "dpv:Marketing"}, T0, Mode.INDIVIDUAL,
     "no grant from this member to this brand for this purpose"),
    ({}, T0, Mode.AGGREGATE, None),        # an individual grant allows aggregate use too
    ({"fields": frozenset({"religion"})}, T0, Mode.INDIVIDUAL, None),
])
def test_the_reasons(grant: dict, at: int, mode: Mode, reason: str | None) -> None:
    values = {"fields": frozenset({"religion", "given_name"})} | grant
    policy = MemberPolicy(PersonalTerms(MEMBER, purposes=ALL_PURPOSES), (make_grant(**values),))
    decision = policy.decide("dpv:Personalisation", "religion", mode, at)
    if reason is None:
        assert decision.allowed and decision.grant_id == policy.grants[0].id
        assert decision.reason == f"allowed by grant {policy.grants[0].id}"
    else:
        assert not decision.allowed and decision.reason == reason


def test_terms_that_no_longer_accept_the_purpose_deny() -> None:
    grant = make_grant()
    terms = PersonalTerms(MEMBER, purposes=frozenset({"dpv:Marketing"}))
    decision = MemberPolicy(terms, (grant,)).decide("dpv:Personalisation", "given_name",
                                                    "individual", T0)
    assert not decision.allowed
    assert decision.reason == "the member's terms do not accept this purpose"


# -- through the store --------------------------------------------------------------------------
STORE_SETTINGS = settings(max_examples=12, deadline=None,
                          suppress_health_check=[HealthCheck.function_scoped_fixture])
ASKED = ("given_name", "city", "category:interests", "feedback", "religion")


@pytest.fixture
def member(sharing: Sharing) -> str:
    member_id = sharing.member("alice@example.org")
    sharing.terms(member_id, max_days=365)
    return member_id


def fresh_brand(sharing: Sharing, member: str) -> Brand:
    """A brand of its own per example, so no earlier example's grant can answer."""
    brand = sharing.brand("Brand " + str(next(_ids)))
    sharing.agree(member, brand.id)
    return brand


def store_decides(consent: Consent, brand: Brand, member: str, purpose: str, field: str,
                  at: float, mode: Mode = Mode.INDIVIDUAL) -> Decision:
    decision = consent.decisions.decide(brand.id, purpose, member, field, mode, at)
    assert decision.reason
    return decision


@STORE_SETTINGS
@given(chosen=st.sets(st.sampled_from(ASKED), min_size=1), purpose=purposes,
       days=st.integers(min_value=1, max_value=365), offset=st.integers(0, 400 * DAY))
def test_through_the_store_a_grant_allows_what_it_covers_while_it_lasts(
        consent: Consent, sharing: Sharing, member: str, clock: FrozenClock, chosen: set,
        purpose: str, days: int, offset: int) -> None:
    brand = fresh_brand(sharing, member)
    grant, _ = consent.grants.grant(
        member, BrandRequest(brand.id, purpose, frozenset(ASKED), days=days), fields=chosen)
    at = clock() + offset
    for field in FIELDS:
        decision = store_decides(consent, brand, member, purpose, field, at)
        assert decision.allowed is (field in expand(chosen) and offset < days * DAY), field
        if decision.allowed:
            assert decision.grant_id == grant.id
        other_purpose = store_decides(consent, brand, member,
                                      next(p for p in PURPOSE_CODES if p != purpose), field, at)
        assert not other_purpose.allowed


@STORE_SETTINGS
@given(purpose=purposes, field=st.sampled_from(sorted(expand(ASKED))))
def test_through_the_store_there_is_no_window_after_withdrawal(
        consent: Consent, sharing: Sharing, member: str, clock: FrozenClock, purpose: str,
        field: str) -> None:
    brand = fresh_brand(sharing, member)
    point = DecisionPoint(grants=SqlcipherGrants(consent.vault.data), terms=consent.terms)
    grant, _ = consent.grants.grant(member, BrandRequest(brand.id, purpose, frozenset(ASKED)))
    assert point.decide(brand.id, purpose, member, field, Mode.INDIVIDUAL, clock()).allowed
    consent.grants.withdraw(member, grant.id)
    decision = point.decide(brand.id, purpose, member, field, Mode.INDIVIDUAL, clock())
    assert not decision.allowed
    assert decision.reason == "the member withdrew the grant"


@STORE_SETTINGS
@given(kept=st.sets(st.sampled_from(sorted(expand(ASKED))), min_size=1),
       shorter=st.integers(min_value=0, max_value=29 * DAY),
       moment=st.integers(min_value=0, max_value=31 * DAY))
def test_through_the_store_narrowing_never_widens(
        consent: Consent, sharing: Sharing, member: str, clock: FrozenClock, kept: set,
        shorter: int, moment: int) -> None:
    # Keeping every field until the same end changes nothing, which narrow() refuses.
    assume(kept != expand(ASKED) or shorter > 0)
    brand = fresh_brand(sharing, member)
    purpose = "dpv:CustomerCare"
    grant, _ = consent.grants.grant(member, BrandRequest(brand.id, purpose, frozenset(ASKED),
                                                         days=30))
    at = clock() + moment
    before = {f: store_decides(consent, brand, member, purpose, f, at).allowed for f in FIELDS}
    narrowed, _ = consent.grants.narrow(member, grant.id, fields=kept,
                                        ends_at=grant.ends_at - shorter)
    assert narrowed.covered == kept and narrowed.version == grant.version + 1
    for field in FIELDS:
        after = store_decides(consent, brand, member, purpose, field, at).allowed
        assert not after or before[field], field
        assert after is (field in kept and moment < 30 * DAY - shorter), field


def test_through_the_store_a_gpc_signal_denies_sale_and_sharing_at_once(
        consent: Consent, sharing: Sharing, member: str, clock: FrozenClock) -> None:
    brand = fresh_brand(sharing, member)
    consent.grants.grant(member, BrandRequest(brand.id, "dpv:Marketing", frozenset({"city"})))
    consent.grants.grant(member, BrandRequest(brand.id, "dpv:CustomerCare", frozenset({"city"})))
    assert store_decides(consent, brand, member, "dpv:Marketing", "city", clock()).allowed
    consent.terms.record_gpc(member)
    marketing = store_decides(consent, brand, member, "dpv:Marketing", "city", clock())
    assert not marketing.allowed and "GPC" in marketing.reason
    assert store_decides(consent, brand, member, "dpv:CustomerCare", "city", clock()).allowed


def test_through_the_store_a_grant_to_one_brand_answers_for_no_other(
        consent: Consent, sharing: Sharing, member: str, clock: FrozenClock) -> None:
    first, second = fresh_brand(sharing, member), fresh_brand(sharing, member)
    consent.grants.grant(member, BrandRequest(first.id, "dpv:CustomerCare", frozenset({"city"})))
    assert store_decides(consent, first, member, "dpv:CustomerCare", "city", clock()).allowed
    assert not store_decides(consent, second, member, "dpv:CustomerCare", "city",
                             clock()).allowed
    other = sharing.member("bob@example.org")
    assert not consent.decisions.decide(first.id, "dpv:CustomerCare", other, "city",
                                        Mode.INDIVIDUAL, clock()).allowed
