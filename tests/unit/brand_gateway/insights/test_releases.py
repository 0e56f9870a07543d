"""Releases (brand_gateway/insights/releases.py): small groups are suppressed on a noisy count,
values are right up to the noise, and nothing in a result names a member.

OpenDP draws its noise from a CSPRNG that cannot be seeded, so every assertion about a noisy
value holds with a probability stated beside it, each failure chance below 1e-9.
"""

from __future__ import annotations

import itertools
import math
import random
import uuid
from collections.abc import Callable, Iterable

import pytest

from brand_gateway.insights.budget import PrivacyBudget
from brand_gateway.insights.contributions import PerMember, Row
from brand_gateway.insights.releases import (
    GroupResult,
    Plan,
    PrivateReleases,
    ReleaseKind,
    ReleaseSettings,
    count_plan,
    histogram_plan,
    mean_plan,
    mean_range,
    multiple_choice_plan,
    nps_plan,
)

GROUPS = ("north", "south")
COLOURS = ("red", "green", "blue")


def rows(members: Iterable[object], group: str | None, value: Callable[[int], object]
         ) -> list[Row]:
    return [(member, group, value(number)) for number, member in enumerate(members)]


def plans(data: list[Row], groups: tuple[str, ...] | None = GROUPS) -> dict[ReleaseKind, Plan]:
    """One plan of every kind over ``data``, whose values are numbers 0-10 (and choices)."""
    return {
        ReleaseKind.COUNT: count_plan(data, groups=groups),
        ReleaseKind.HISTOGRAM: histogram_plan(
            [(m, g, COLOURS[int(v) % 3]) for m, g, v in data], categories=COLOURS,
            groups=groups),
        ReleaseKind.MULTIPLE_CHOICE: multiple_choice_plan(
            [(m, g, COLOURS[: int(v) % 3 + 1]) for m, g, v in data], categories=COLOURS,
            choices=2, groups=groups),
        ReleaseKind.MEAN: mean_plan([(m, g, min(5, 1 + int(v) // 2)) for m, g, v in data],
                                    lower=1, upper=5, step=1, groups=groups),
        ReleaseKind.NPS: nps_plan(data, groups=groups),
    }


def test_a_cohort_below_the_minimum_gives_nothing_usable(releases: PrivateReleases,
                                                         brand) -> None:
    # 5 members in the north, 400 in the south, epsilon 4: the north's noisy respondents reach
    # 50 only if noise of scale 0.75 or less adds 45 or more (below 1e-20), and the south's
    # fall below 50 only if it takes 350 away.
    data = (rows(range(5), "north", lambda n: n) + rows(range(5, 405), "south", lambda n: n))
    for kind, plan in plans(data).items():
        release = releases.release(brand.id, plan, epsilon=4.0)
        north, south = release.groups
        assert release.kind is kind
        assert north == GroupResult("north", suppressed=True)        # nothing, not padded
        assert north.respondents is north.value is north.counts is None
        assert not south.suppressed and south.respondents is not None
        assert south.respondents.value > 300
        assert release.suppressed == 1


def test_a_release_without_breakdown_is_suppressed_as_a_whole(releases: PrivateReleases,
                                                              brand) -> None:
    release = releases.release(brand.id, nps_plan(rows(range(5), None, lambda n: 10),
                                                  groups=None), epsilon=4.0)
    assert release.groups == (GroupResult(None, suppressed=True),)


def test_the_suppression_is_decided_on_the_noisy_count(releases: PrivateReleases,
                                                       brand) -> None:
    # Exactly the minimum (50) of members: a noise-free count would never suppress them. With
    # discrete Laplace noise of scale 4 (epsilon 0.25), a release falls below 50 with
    # probability e^-0.25 / (1 + e^-0.25) = 0.4378, so 40 releases all on one side happen
    # with probability 0.5622^40 + 0.4378^40 < 1e-9.
    plan = count_plan(rows(range(50), None, lambda n: None))
    outcomes = {releases.release(brand.id, plan, epsilon=0.25).groups[0].suppressed
                for _ in range(40)}
    assert outcomes == {True, False}


def test_the_minimum_cohort_is_a_setting(make_budget: Callable[..., PrivacyBudget],
                                         brand) -> None:
    releases = PrivateReleases(budget=make_budget(), settings=ReleaseSettings(minimum_cohort=3))
    # 10 members at epsilon 8 (scale 0.125): below 3 only if the noise takes 7 away (< 1e-20).
    group = releases.release(brand.id, count_plan(rows(range(10), None, lambda n: None)),
                             epsilon=8.0).groups[0]
    assert not group.suppressed and group.value is not None


def test_values_are_right_up_to_the_noise(releases: PrivateReleases, brand) -> None:
    # Epsilon 20 and one cell per member: scale 0.05, so a cell is off by 2 or more with
    # probability 2e^-40 / (1 + e^-20) < 1e-17; the bounds below allow 1 per cell.
    scores = [10] * 120 + [8] * 50 + [3] * 30            # NPS (120 - 30) / 200 = 45
    nps = releases.release(brand.id, nps_plan(rows(range(200), None, scores.__getitem__),
                                              groups=None), epsilon=20.0).groups[0]
    assert nps.value is not None and abs(nps.value.value - 45.0) <= 1.5
    assert nps.value.low <= nps.value.value <= nps.value.high
    assert nps.respondents is not None and abs(nps.respondents.value - 200) <= 3

    ratings = [5] * 100 + [1] * 100                      # mean 3
    mean = releases.release(brand.id, mean_plan(rows(range(200), None, ratings.__getitem__),
                                                lower=1, upper=5, step=1), epsilon=20.0)
    value = mean.groups[0].value
    assert value is not None and abs(value.value - 3.0) <= 0.1
    assert 1 <= value.low <= value.value <= value.high <= 5

    picks = rows(range(60), None, lambda n: ("red", "blue") if n % 2 else ("green",))
    choice = releases.release(brand.id, multiple_choice_plan(
        picks, categories=COLOURS, choices=2), epsilon=20.0).groups[0]
    assert choice.counts is not None and choice.respondents is not None
    assert [category for category, _ in choice.counts] == list(COLOURS)
    for (_, estimate), expected in zip(choice.counts, (30, 30, 30), strict=True):
        assert abs(estimate.value - expected) <= 1
    assert abs(choice.respondents.value - 60) <= 1


def test_a_member_s_own_mean_or_latest_value_stands_for_them(releases: PrivateReleases,
                                                             brand) -> None:
    # 100 members rate 1 then 5 (mean 3, latest 5); scale 0.05 as above: a cell is off by 2
    # or more with probability below 1e-17.
    data = [(member, None, rating) for rating in (1, 5) for member in range(100)]
    own_mean = releases.release(brand.id, mean_plan(data, lower=1, upper=5, step=1),
                                epsilon=20.0).groups[0].value
    latest = releases.release(brand.id, mean_plan(data, lower=1, upper=5, step=1,
                                                  reduce=PerMember.LATEST),
                              epsilon=20.0).groups[0].value
    assert own_mean is not None and abs(own_mean.value - 3.0) <= 0.1
    assert latest is not None and abs(latest.value - 5.0) <= 0.1


def test_every_result_says_what_it_spent_and_how_noisy_it_is(releases: PrivateReleases,
                                                             brand) -> None:
    data = rows(range(300), "south", lambda n: n % 11)
    for kind, plan in plans(data).items():
        release = releases.release(brand.id, plan, epsilon=0.5)
        assert (release.epsilon, release.delta, release.confidence) == (0.5, 0.0, 0.95)
        # The library's scale is the bound over epsilon (to its search's precision).
        assert release.noise_scale == pytest.approx(release.contributions / 0.5, rel=1e-6)
        # A count and a multiple choice have their group count already; a histogram, a mean
        # and an NPS get one, a second cell per member.
        assert release.sensitivity == release.contributions == {
            ReleaseKind.MULTIPLE_CHOICE: 3, ReleaseKind.COUNT: 1}.get(kind, 2)
        assert release.accuracy > 0 and release.budget.spent > 0


def test_no_member_key_leaves_in_a_result(releases: PrivateReleases, brand) -> None:
    keys = [f"member-key-{uuid.uuid4()}" for _ in range(300)]
    data = rows(keys[:150], "north", lambda n: n % 11) + rows(keys[150:], "south",
                                                              lambda n: n % 11)
    for plan in plans(data).values():
        shown = repr(releases.release(brand.id, plan, epsilon=0.5))
        assert "member-key-" not in shown
    with pytest.raises(ValueError) as refused:
        histogram_plan([(keys[0], None, "purple")], categories=COLOURS)
    assert "member-key-" not in str(refused.value)


@pytest.mark.parametrize("make, message", [
    (lambda: count_plan([(1, "west", None)], groups=GROUPS), "group"),
    (lambda: histogram_plan([(1, None, "purple")], categories=COLOURS), "categories"),
    (lambda: histogram_plan([], categories=("red", "red")), "distinct"),
    (lambda: multiple_choice_plan([(1, None, "red")], categories=COLOURS, choices=1),
     "collection"),
    (lambda: multiple_choice_plan([], categories=COLOURS, choices=4), "at most"),
    (lambda: mean_plan([(1, None, float("nan"))], lower=1, upper=5, step=1), "finite"),
    (lambda: mean_plan([], lower=5, upper=1, step=1), "bounds"),
    (lambda: nps_plan([(1, None, None)]), "number"),
    (lambda: nps_plan([(1, "a", None)], groups=("a",)), "number"),
    (lambda: count_plan([], groups=()), "one group"),
])
def test_bad_input_is_refused_before_anything_is_spent(make: Callable[[], Plan], message: str,
                                                       make_budget, brand) -> None:
    with pytest.raises(ValueError, match=message):
        make()
    assert make_budget().state(brand.id).spent == 0


def test_the_interval_of_a_mean_is_its_least_and_greatest_within_the_cells_accuracy() -> None:
    # Against every corner of the box of counts (a weighted mean is extreme at a corner).
    chance = random.Random(14)
    for _ in range(200):
        size = chance.randint(2, 6)
        scores = sorted(chance.sample(range(-100, 101), size))
        lows = [float(chance.randint(0, 40)) for _ in range(size)]
        highs = [low + chance.randint(0, 30) for low in lows]
        corners = []
        for corner in itertools.product(*zip(lows, highs, strict=True)):
            if sum(corner) > 0:
                corners.append(sum(s * w for s, w in zip(scores, corner, strict=True))
                               / sum(corner))
        low, high = mean_range(scores, lows, highs)
        if sum(lows) > 0:
            assert low == pytest.approx(min(corners)) and high == pytest.approx(max(corners))
        else:                                   # no respondents at all is possible: anything
            assert (low, high) == (min(scores), max(scores))


def test_groups_of_noise_alone_are_never_released(make_budget, brand) -> None:
    # Nobody contributes: epsilon 0.5 over ten groups of a histogram of 11 categories, so a
    # cell's 95% accuracy is about +/- 100 against a minimum of 50 (the sum of a group's noisy
    # cells, which decided before, passed 50 in a good part of the groups). Each group is
    # released with probability at most false_release = 1e-12 (ReleaseSettings.threshold):
    # over 50 releases of 10 groups, below 1e-9 that any is.
    releases = PrivateReleases(budget=make_budget(), settings=ReleaseSettings(
        false_release=1e-12))
    groups = [f"g{n}" for n in range(10)]
    categories = [f"c{n}" for n in range(11)]
    for plan in (histogram_plan([], categories=categories, groups=groups, max_groups=10),
                 nps_plan([], groups=groups, max_groups=10)):
        for _ in range(25):
            release = releases.release(brand.id, plan, epsilon=0.5)
            assert release.suppressed == len(groups), release.groups


def test_the_threshold_is_where_noise_alone_stops(releases: PrivateReleases) -> None:
    # P(Z >= t) for discrete Laplace of scale b is exp(-t / b) / (1 + exp(-1 / b)): at the
    # threshold at most false_release, one below it more (unless the minimum decides).
    settings = releases.settings
    for scale in (0.5, 4.0, 20.0, 40.0):
        threshold = settings.threshold(scale)
        tail = math.exp(-threshold / scale) / (1 + math.exp(-1 / scale))
        assert threshold >= settings.minimum_cohort and tail <= settings.false_release
        if threshold > settings.minimum_cohort:
            below = math.exp(-(threshold - 1) / scale) / (1 + math.exp(-1 / scale))
            assert below > settings.false_release / 10
    assert settings.threshold(0.5) == settings.minimum_cohort
