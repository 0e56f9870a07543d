"""community/loop.py with brand_gateway/insights/wedid.py: a "we did" is validated, its release
made once from the members who count and paid from the brand's budget, stored, shown to those
who took part and only them, withdrawn, and recorded in the ledger without its text."""

from __future__ import annotations

import hashlib
import json

import pytest

from brand_gateway.insights.budget import BudgetSettings
from brand_gateway.insights.releases import PrivateReleases, ReleaseSettings
from brand_gateway.insights.wedid import WEDID_EPSILON, release_for
from brand_gateway.storage import privacy_budget
from community.loop import WeDidService
from community.storage import wedid_service
from consent.events import EventTag
from consent.model import Mode
from vault.errors import ConflictError, NotFoundError, ValidationError

from .conftest import IMPROVING, feedback

GOOD = {"subject_kind": "touchpoint", "subject": "delivery", "said": "Deliveries came late.",
        "did": "Saturday slots.", "changed_on": "2027-01-20"}


def _releaser(sharing, *, minimum_cohort: int = 1, epsilon_per_period: float = 10.0):
    vault = sharing.vault
    budget = privacy_budget(database=vault.data, clock=vault.clock,
                            settings=BudgetSettings(epsilon_per_period=epsilon_per_period))
    releases = PrivateReleases(budget=budget,
                               settings=ReleaseSettings(minimum_cohort=minimum_cohort))
    return release_for(releases, budget, now=vault.clock())


def _members_sharing(sharing, brand_id: str, count: int, *, rating: int = 4) -> list[str]:
    made = []
    for _ in range(count):
        member = sharing.member()
        sharing.ready(member, brand_id)
        sharing.grant(member, brand_id, "dpv:ServiceOptimisation", ("feedback",),
                      mode=Mode.AGGREGATE)
        feedback(sharing, member, brand_id, rating=rating, nps=9)
        made.append(member)
    return made


@pytest.mark.parametrize(("change", "field"), [
    ({"subject_kind": "poll"}, "subject_kind"), ({"subject": "moon"}, "subject"),
    ({"subject_kind": "survey", "subject": "delivery"}, "subject"),
    ({"subject_kind": "idea", "subject": "idea_" + "0" * 24, "purpose": IMPROVING},
     "purpose"),
    ({"said": ""}, "said"), ({"did": "x" * 2001}, "did"), ({"did": 3}, "did"),
    ({"changed_on": "2027-13-01"}, "changed_on"), ({"changed_on": "1999-12-31"}, "changed_on"),
    ({"purpose": "dpv:Marketing"}, "purpose"), ({"colour": "red"}, "colour")])
def test_a_bad_post_names_each_field(sharing, shop, change, field):
    service = wedid_service(consent=sharing.consent)
    with pytest.raises(ValidationError) as refused:
        service.post(shop.id, {**GOOD, **change}, release=_releaser(sharing))
    assert field in refused.value.errors


def test_the_release_is_made_once_from_members_who_count_and_shown_as_stored(sharing, shop):
    sharing_members = _members_sharing(sharing, shop.id, 3, rating=4)
    outsider = sharing.member()                    # gave feedback, granted nothing: no count
    feedback(sharing, outsider, shop.id, rating=1, nps=0)
    calls = []

    def counting(brand_id, kind, rows):
        calls.append(sorted(row[2] for row in rows))
        return _releaser(sharing)(brand_id, kind, rows)

    service = wedid_service(consent=sharing.consent)
    post = service.post(shop.id, GOOD, release=counting)
    assert calls == [[4, 4, 4]]                    # the outsider's 1 is not in it
    release = post.release
    assert release is not None and release["epsilon"] == WEDID_EPSILON
    # Noisy (three members may even fall below a cohort of one), so only its shape is
    # certain: either suppressed with nothing in it, or a value within its own interval.
    mean = release["mean_rating"]
    assert (release["suppressed"] and mean is None) or mean["low"] <= mean["value"] <= \
        mean["high"]
    # Members see the stored release: the same numbers every time, no new spend.
    for member in (*sharing_members, outsider):
        [seen] = service.for_member(member)
        assert seen.release == release
    assert len(calls) == 1


def test_a_small_cohort_stays_suppressed_for_members_too(sharing, shop):
    _members_sharing(sharing, shop.id, 2)
    post = wedid_service(consent=sharing.consent).post(
        shop.id, GOOD, release=_releaser(sharing, minimum_cohort=50))
    assert post.release is not None and post.release["suppressed"] is True
    assert post.release["mean_rating"] is None and post.release["nps"] is None


def test_a_spent_budget_releases_nothing_and_the_post_says_so(sharing, shop):
    _members_sharing(sharing, shop.id, 1)
    releaser = _releaser(sharing, epsilon_per_period=1.5)
    service = wedid_service(consent=sharing.consent)
    assert service.post(shop.id, GOOD, release=releaser).release is not None
    second = service.post(shop.id, GOOD, release=releaser)
    assert second.release is None                  # 0.5 left: not enough for a whole release


def test_only_members_who_took_part_see_it_and_a_withdrawal_hides_it(sharing, shop):
    there, elsewhere, other_brand = sharing.member(), sharing.member(), sharing.member()
    feedback(sharing, there, shop.id, rating=2, touchpoint="delivery")
    feedback(sharing, elsewhere, shop.id, rating=2, touchpoint="purchase")
    grocer = sharing.brand("Fresh Grocer")
    feedback(sharing, other_brand, grocer.id, rating=2, touchpoint="delivery")
    service = wedid_service(consent=sharing.consent)
    post = service.post(shop.id, GOOD, release=lambda b, k, r: None)
    assert [p.id for p in service.for_member(there)] == [post.id]
    assert service.for_member(elsewhere) == [] and service.for_member(other_brand) == []

    with pytest.raises(NotFoundError):
        service.withdraw(grocer.id, post.id)       # another brand's post: unknown
    assert service.withdraw(shop.id, post.id).withdrawn_at is not None
    assert service.for_member(there) == []
    with pytest.raises(ConflictError):
        service.withdraw(shop.id, post.id)
    assert [p.id for p in service.for_brand(shop.id, withdrawn=True)] == [post.id]
    assert service.for_brand(shop.id) == []


def test_the_ledger_holds_a_digest_never_the_text(sharing, shop):
    service: WeDidService = wedid_service(consent=sharing.consent)
    post = service.post(shop.id, GOOD, release=lambda b, k, r: None)
    ledger = sharing.consent.ledger
    [entry] = [ledger.entry(seq) for seq in range(ledger.size)
               if ledger.entry(seq).tag is EventTag.LOOP_WEDID_POSTED]
    details = entry.details
    assert details["post"] == post.id and details["epsilon"] == 0.0
    assert details["suppressed"] is None and entry.actor == "brand:" + shop.id
    text = json.dumps([GOOD["said"], GOOD["did"], GOOD["changed_on"]], ensure_ascii=False)
    assert details["sha256"] == hashlib.sha256(text.encode()).hexdigest()
    assert "Saturday" not in json.dumps(details)
