"""The aggregate beside a "you said, we did" (``community/loop.py``): made once, when the brand
posts, with the insights' OpenDP releases, paid from the brand's budget.

For a touchpoint, two releases over the feedback there of the members who count for the brand
(the counting rule, ``community/sqlcipher/loop.py``), each member bounded to one value:

- the mean rating, each member's own mean rounded to a half point (:func:`mean_plan`);
- the NPS, each member's mean score (:func:`nps_plan`), over the members who gave one;

each at half of :data:`WEDID_EPSILON`. For a survey, one release per rating or NPS question
(at most :data:`MAX_SURVEY_QUESTIONS`, the first ones), each member's answer once, the epsilon
split evenly between them. The result is what the brand is given and all that its
members are ever shown: noisy values with their 95% intervals, or nothing for a group below
the minimum cohort. If the budget cannot pay the whole epsilon, nothing is released (and
nothing spent).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from community.loop import RELEASE_KEYS
from community.repositories import RatingRow, SurveyValueRow

from ..errors import PrivacyBudgetSpentError
from .budget import PrivacyBudget
from .contributions import PerMember, Row
from .releases import Estimate, PrivateReleases, Release, mean_plan, nps_plan

WEDID_EPSILON = 1.0
MAX_SURVEY_QUESTIONS = 3
_EMPTY: dict[str, Any] = dict.fromkeys(RELEASE_KEYS)


def _estimate(estimate: Estimate | None) -> dict[str, float] | None:
    if estimate is None:
        return None
    return {"value": round(estimate.value, 2), "low": round(estimate.low, 2),
            "high": round(estimate.high, 2)}


def touchpoint_release(releases: PrivateReleases, budget: PrivacyBudget, brand_id: str,
                       rows: Sequence[RatingRow], *, now: float) -> dict[str, Any] | None:
    """The stored form of the release (see the module docstring), or ``None``;
    ``releases`` spends from ``budget``."""
    if budget.state(brand_id).remaining < WEDID_EPSILON:
        return None
    ratings: list[Row] = [(member, None, rating) for member, _day, rating, _nps in rows]
    scores: list[Row] = [(member, None, nps) for member, _day, _rating, nps in rows
                         if nps is not None]
    try:
        mean: Release = releases.release(
            brand_id, mean_plan(ratings, lower=1.0, upper=5.0, step=0.5), WEDID_EPSILON / 2)
    except PrivacyBudgetSpentError:
        return None
    [group] = mean.groups
    nps_value = None
    spent = WEDID_EPSILON / 2
    try:
        nps = releases.release(brand_id, nps_plan(scores), WEDID_EPSILON / 2)
        spent = WEDID_EPSILON
        [nps_group] = nps.groups
        nps_value = None if nps_group.suppressed else _estimate(nps_group.value)
    except PrivacyBudgetSpentError:
        pass            # spent by another release meanwhile: the mean alone
    return {**_EMPTY, "epsilon": spent, "confidence": mean.confidence,
            "minimum_cohort": mean.minimum_cohort, "suppressed": group.suppressed,
            "respondents": _estimate(group.respondents),
            "mean_rating": _estimate(group.value), "nps": nps_value,
            "made_at": int(now)}


def survey_release(releases: PrivateReleases, budget: PrivacyBudget, brand_id: str,
                   questions: Sequence[tuple[int, str, str]], rows: Sequence[SurveyValueRow],
                   *, now: float) -> dict[str, Any] | None:
    """The stored form of a survey's release (see the module docstring), or ``None``."""
    asked = list(questions)[:MAX_SURVEY_QUESTIONS]
    if not asked or budget.state(brand_id).remaining < WEDID_EPSILON:
        return None
    share = WEDID_EPSILON / len(asked)
    results, spent, last = [], 0.0, None
    for position, kind, prompt in asked:
        values: list[Row] = [(member, None, value) for member, at, value in rows
                             if at == position]
        plan = (nps_plan(values, reduce=PerMember.LATEST) if kind == "nps" else
                mean_plan(values, lower=1.0, upper=5.0, step=1.0, reduce=PerMember.LATEST))
        try:
            made = releases.release(brand_id, plan, share)
        except PrivacyBudgetSpentError:
            break           # spent by another release meanwhile: the questions made so far
        spent += share
        last = made
        [group] = made.groups
        results.append({"position": position, "kind": kind, "prompt": prompt,
                        "suppressed": group.suppressed,
                        "respondents": _estimate(group.respondents),
                        "value": _estimate(group.value)})
    if last is None:
        return None
    return {**_EMPTY, "epsilon": round(spent, 6), "confidence": last.confidence,
            "minimum_cohort": last.minimum_cohort,
            "suppressed": all(q["suppressed"] for q in results), "questions": results,
            "made_at": int(now)}


def release_for(releases: PrivateReleases, budget: PrivacyBudget, *, now: float
                ) -> Callable[[str, str, Any], dict[str, Any] | None]:
    """The release callable ``community.loop.WeDidService.post`` takes."""
    def release(brand_id: str, kind: str, rows: Any) -> dict[str, Any] | None:
        if kind == "touchpoint":
            return touchpoint_release(releases, budget, brand_id, rows, now=now)
        if kind == "survey":
            questions, values = rows
            return survey_release(releases, budget, brand_id, questions, values, now=now)
        return None

    return release
