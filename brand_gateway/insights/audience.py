"""How many members a survey is put to, and how many a community has, as their brand is told
it: one differentially private count each, made with the insights' own machinery and paid from
the same privacy budget.

The exact count (of the members a survey is put to: community/audience.py counts it inside the
vault; of a community's members: community/communities.py) is released as a
:data:`~.releases.ReleaseKind.COUNT` release of :class:`~.releases.PrivateReleases`: OpenDP's
discrete Laplace with the member as the privacy unit (a member is in an audience or a
community or not: one cell, L1 sensitivity 1) at :data:`AUDIENCE_EPSILON`, suppressed below the
minimum cohort as every insights group is (on its one noisy count,
:meth:`~.releases.ReleaseSettings.threshold`), and then rounded down to tens
(:class:`~community.audience.Cohort`). A survey's audience is measured once, when the survey
is published, and kept with it; a community's size at most once per budget period, on the
brand's first read in it, and kept with the community for that period
(:func:`community_size_measure`). Nothing counts again in between.

Why the insights budget: the count is a release over the same members (those whose grants let
the brand count them, who joined its community) to the same brand, so by sequential
composition its loss adds to theirs; a separate budget would let a brand spend twice the loss
its members were promised. A brand whose budget of the period cannot pay still publishes the
survey and still reads its community; it is told nothing of their size
(:meth:`~community.audience.Cohort.unmeasured`).
"""

from __future__ import annotations

from community.audience import AudienceMeasure, Cohort
from community.communities import CommunitySize, SizeMeasure
from vault.errors import ValidationError

from ..errors import PrivacyBudgetSpentError
from .releases import PrivateReleases, ReleaseKind, tallied_plan

#: What one audience count or community size spends of the brand's budget (a tenth of an
#: insights query at the most, the default 10 per period paying for 40 of them): discrete
#: Laplace of scale 4, a 95% accuracy of about +/- 12 members.
AUDIENCE_EPSILON = 0.25


def audience_measure(releases: PrivateReleases, *,
                     epsilon: float = AUDIENCE_EPSILON) -> AudienceMeasure:
    """An :data:`~community.audience.AudienceMeasure` over ``releases`` (its budget and
    minimum cohort)."""
    minimum = releases.settings.minimum_cohort

    def measure(brand_id: str, eligible: int) -> Cohort:
        plan = tallied_plan(ReleaseKind.COUNT, [eligible], width=1, groups=None, max_groups=1)
        try:
            release = releases.release(brand_id, plan, epsilon)
        except (PrivacyBudgetSpentError, ValidationError):
            # Spent, or a period's budget smaller than one count: published, not told.
            return Cohort.unmeasured(minimum)
        (group,) = release.groups
        if group.suppressed or group.respondents is None:
            return Cohort(None, minimum)
        return Cohort.of(int(group.respondents.value), minimum)

    return measure


def community_size_measure(releases: PrivateReleases, *,
                           epsilon: float = AUDIENCE_EPSILON) -> SizeMeasure:
    """A :class:`~community.communities.SizeMeasure` over ``releases``: the audience's count
    of a community's members, kept per period of the budget ``releases`` pays from."""
    measure = audience_measure(releases, epsilon=epsilon)

    def count(brand_id: str, members: int) -> CommunitySize:
        cohort = measure(brand_id, members)
        return CommunitySize(cohort.reported, measured=cohort.measured)

    return SizeMeasure(count=count, period=releases.budget.period_start)
