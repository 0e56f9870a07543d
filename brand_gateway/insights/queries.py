"""The insights a brand may ask for, each one differentially private release paid from its
budget and recorded in the ledger: NPS and mean rating per touchpoint (the feedback journal),
survey results per question (counts per choice, mean rating, NPS; never text), and
distributions of persona attributes, each optionally broken down by one attribute.

Invariants:
- Only members who count now (the COUNTING RULE of ``repositories.py``) for the brand, the
  purpose the query names and every field it reads are counted: the journal for a touchpoint
  measure, survey answers for a survey, the attribute's field for a distribution or a
  breakdown. A member who withdraws,
  whose grant ends or who is erased stops counting on the next query, whatever the read model
  holds (its counts are kept by triggers in the transaction of the change; time is checked
  here).
- The member is the privacy unit: one value per member per touchpoint (their mean score's NPS
  class, their mean rating's half-point level), one category per member per attribute (all of
  their choices for a multiple choice); the noise is derived from that bound, never from rows.
- Touchpoints and categories are public lists; a group that does not reach the minimum cohort
  on its noisy count is suppressed.
- The ledger gets ``insights:query`` (kind, epsilon, whether anything was suppressed) for each
  release and ``insights:budget:exhausted`` for each refusal: the brand's id, never a member.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from consent.event_details import InsightsBudgetExhausted, InsightsQueried
from vault.catalog import TOUCHPOINTS
from vault.clock import Clock
from vault.errors import NotFoundError, ValidationError

from ..errors import PrivacyBudgetSpentError
from .contributions import (
    PerMember,
    bound,
    category_position,
    choice_positions,
    layout,
)
from .personas import PERSONAS, refusal
from .releases import (
    NPS_SCORES,
    Plan,
    PrivateReleases,
    Release,
    ReleaseKind,
    bounded_plan,
    mean_plan,
    nps_plan,
    rating_levels,
    tallied_plan,
)
from .repositories import (
    JOURNAL,
    InsightReadModelRepository,
    JournalValue,
    SurveyQuestion,
)

TOUCHPOINT_KEYS = tuple(key for key, _ in TOUCHPOINTS)
RATING_LEVELS = rating_levels(1.0, 5.0, 0.5)          # the read model's rating_level 0..8
MEASURES = ("nps", "rating")
SOURCES = ("journal", "surveys")
MINIMUM_EPSILON = 0.01


class Ledger(Protocol):
    def record_event(self, *, actor: str, details: Any) -> Any: ...


class Profiles(Protocol):
    def read(self, member_id: str, attributes: Iterable[str]) -> dict[str, Any]: ...


@dataclass(frozen=True)
class EpsilonLimits:
    """What one query may spend: from ``MINIMUM_EPSILON`` to ``maximum``; ``default`` when the
    brand names none."""

    maximum: float = 1.0
    default: float = 0.5

    def checked(self, epsilon: float | None) -> float:
        value = self.default if epsilon is None else epsilon
        if not (math.isfinite(value) and MINIMUM_EPSILON <= value <= self.maximum):
            raise ValidationError({"epsilon": [
                f"Epsilon is from {MINIMUM_EPSILON:g} to {self.maximum:g} per query."]})
        return min(value, self.maximum)


class InsightQueries:
    """Every insight query: checked, counted from the read model, released, recorded."""

    def __init__(self, *, read_model: InsightReadModelRepository, profiles: Profiles,
                 releases: PrivateReleases, ledger: Ledger, clock: Clock,
                 limits: EpsilonLimits | None = None) -> None:
        self._model = read_model
        self._profiles = profiles
        self._releases = releases
        self._ledger = ledger
        self._clock = clock
        self.limits = limits or EpsilonLimits()

    # -- touchpoints ------------------------------------------------------------------------
    def touchpoints(self, brand_id: str, *, purpose: str, measure: str,
                    touchpoints: Sequence[str] | None = None, by: str | None = None,
                    epsilon: float | None = None, source: str = "journal") -> Release:
        """NPS (``measure="nps"``) or mean rating (``"rating"``) per touchpoint, each member by
        one value per touchpoint (the mean of theirs there), from the journal or (``source=
        "surveys"``) from the answers to the brand's surveys and feedback requests tied to a
        touchpoint; with ``by``, per touchpoint and category."""
        if measure not in MEASURES:
            raise ValidationError({"measure": ["The measure is nps or rating."]})
        if source not in SOURCES:
            raise ValidationError({"source": ["The source is journal or surveys."]})
        chosen = tuple(touchpoints or TOUCHPOINT_KEYS)
        if not chosen or any(t not in TOUCHPOINT_KEYS for t in chosen) or \
                len(set(chosen)) != len(chosen):
            raise ValidationError({"touchpoints": ["Name touchpoints of the journal, once."]})
        spend = self.limits.checked(epsilon)
        now = int(self._clock())
        kind = ReleaseKind.NPS if measure == "nps" else ReleaseKind.MEAN
        if source == "surveys":
            plan = self._touchpoints_answered(brand_id, purpose, measure, chosen, by, now)
        elif by is not None:
            plan = self._touchpoints_by(brand_id, purpose, measure, chosen, by, now)
        else:
            counts = self._model.journal_counts(brand_id, purpose, measure, now)
            width = len(NPS_SCORES) if measure == "nps" else len(RATING_LEVELS)
            cells = [counts.get((touchpoint, cell), 0)
                     for touchpoint in chosen for cell in range(width)]
            plan = tallied_plan(kind, cells, width=width, groups=chosen,
                                max_groups=len(chosen), levels=RATING_LEVELS)
        kind_of = f"touchpoints:{measure}" + (":surveys" if source == "surveys" else "")
        return self._release(brand_id, plan, spend, kind_of)

    def _touchpoints_answered(self, brand_id: str, purpose: str, measure: str,
                              chosen: tuple[str, ...], by: str | None, now: int) -> Plan:
        """From survey answers tied to a touchpoint, read at query time (no tally is kept of
        them) and bounded by ``contributions.py`` itself: per member and touchpoint the mean of
        their answers, at most one value per touchpoint named."""
        wanted = set(chosen)
        rows: list[tuple[Hashable, Hashable, Any]] = [
            (member, touchpoint, value) for member, touchpoint, value in
                self._model.survey_touchpoint_values(brand_id, purpose, measure, now)
                if touchpoint in wanted]
        groups: list[Hashable] = list(chosen)
        if by is not None:
            persona = self._breakdown(by)
            categories = self._categories(brand_id, purpose, persona.name, now)
            rows = [(member, (touchpoint, categories[member]), value)
                    for member, touchpoint, value in rows if member in categories]
            groups = [(touchpoint, category) for touchpoint in chosen
                      for category in persona.categories]
        if measure == "nps":
            return nps_plan(rows, groups=groups, max_groups=len(chosen))
        return mean_plan(rows, lower=1.0, upper=5.0, step=0.5, groups=groups,
                         max_groups=len(chosen))

    def _touchpoints_by(self, brand_id: str, purpose: str, measure: str,
                        chosen: tuple[str, ...], by: str, now: int) -> Plan:
        """Per touchpoint and category of ``by``: members who count for the journal and for the
        breakdown's field, each one value per touchpoint in their one category."""
        persona = self._breakdown(by)
        categories = self._categories(brand_id, purpose, persona.name, now)
        wanted = set(chosen)
        rows = []
        for value in self._model.journal_values(brand_id, purpose, now):
            category = categories.get(value.member_key)
            cell = _cell(value, measure)
            if category is not None and cell is not None and value.touchpoint in wanted:
                rows.append((value.member_key, (value.touchpoint, category), cell))
        groups = [(touchpoint, category) for touchpoint in chosen
                  for category in persona.categories]
        width = len(NPS_SCORES) if measure == "nps" else len(RATING_LEVELS)
        bounded = bound(rows, layout(groups, width), reduce=PerMember.LATEST, per_group=1,
                        max_groups=len(chosen), positions=lambda cell: (cell,))
        kind = ReleaseKind.NPS if measure == "nps" else ReleaseKind.MEAN
        return bounded_plan(kind, bounded, levels=RATING_LEVELS)

    # -- profile distributions ----------------------------------------------------------------
    def distribution(self, brand_id: str, *, purpose: str, attribute: str,
                     by: str | None = None, epsilon: float | None = None) -> Release:
        """Members per category of ``attribute`` (each member once; all of their choices for a
        multiple choice), optionally per category of ``by``."""
        reason = refusal(attribute, breakdown=False)
        if reason:
            raise ValidationError({"attribute": [reason]})
        if by == attribute:
            raise ValidationError({"by": ["Break down by another attribute than the one"
                                          " counted."]})
        persona = PERSONAS[attribute]
        breakdown = self._breakdown(by) if by is not None else None
        spend = self.limits.checked(epsilon)
        now = int(self._clock())
        values = self._categories(brand_id, purpose, attribute, now)
        groups: list[Hashable] | None = None
        rows: list[tuple[Hashable, Hashable, Any]]
        if breakdown is None:
            rows = [(member, None, value) for member, value in values.items()]
        else:
            by_values = self._categories(brand_id, purpose, breakdown.name, now)
            groups = list(breakdown.categories)
            rows = [(member, by_values[member], value) for member, value in values.items()
                    if member in by_values]
        width = len(persona.categories) + (1 if persona.multiple else 0)
        if persona.multiple:
            bounded = bound(rows, layout(groups, width), reduce=PerMember.LATEST,
                            per_group=width, max_groups=1,
                            positions=choice_positions(persona.categories,
                                                       len(persona.categories)))
            plan = bounded_plan(ReleaseKind.MULTIPLE_CHOICE, bounded,
                                categories=persona.categories, respondent_cell=True)
        else:
            bounded = bound(rows, layout(groups, width), reduce=PerMember.LATEST, per_group=1,
                            max_groups=1, positions=category_position(persona.categories))
            plan = bounded_plan(ReleaseKind.HISTOGRAM, bounded, categories=persona.categories)
        return self._release(brand_id, plan, spend, f"profile:{attribute}")

    # -- survey results -----------------------------------------------------------------------
    def survey(self, brand_id: str, survey_id: str, *, purpose: str, by: str | None = None,
               epsilon: float | None = None) -> list[tuple[SurveyQuestion, Release]]:
        """Per question of the brand's survey (never a text question): counts per choice, the
        mean rating or the NPS, each member by their one answer (all of their choices for a
        multiple choice); one release per question, the epsilon shared equally among them."""
        questions = self._model.survey_questions(brand_id, survey_id)
        if questions is None:
            raise NotFoundError("No survey of yours has this id.")
        if not questions:
            raise ValidationError({"survey": [
                "This survey asks only for text, which is never counted in insights."]})
        breakdown = self._breakdown(by) if by is not None else None
        spend = self.limits.checked(epsilon)
        now = int(self._clock())
        if breakdown is None:
            counts = self._model.survey_counts(brand_id, survey_id, purpose, now)
            plans = [_question_plan(q, [counts.get((q.position, cell), 0)
                                        for cell in range(_width(q))])
                     for q in questions]
        else:
            categories = self._categories(brand_id, purpose, breakdown.name, now)
            answers: dict[tuple[int, int], list[int]] = {}
            for member, position, cell in self._model.survey_cells(brand_id, survey_id,
                                                                    purpose, now):
                if member in categories:
                    answers.setdefault((position, member), []).append(cell)
            plans = [_question_breakdown(q, breakdown.categories, [
                (member, categories[member], tuple(cells))
                for (position, member), cells in answers.items() if position == q.position])
                for q in questions]
        releases = self._release_many(brand_id, plans, spend, "survey")
        return list(zip(questions, releases, strict=True))

    # -- shared -----------------------------------------------------------------------------
    def _breakdown(self, by: str) -> Any:
        reason = refusal(by, breakdown=True)
        if reason:
            raise ValidationError({"by": [reason]})
        return PERSONAS[by]

    def _categories(self, brand_id: str, purpose: str, name: str, now: int) -> dict[int, Any]:
        """Member key -> category of ``name`` of every member who counts for its field now and
        has a value that fits one."""
        persona = PERSONAS[name]
        today = dt.datetime.fromtimestamp(now, dt.UTC).date()
        found: dict[int, Any] = {}
        for key, member_id in self._model.counting_members(brand_id, purpose, persona.field,
                                                           now).items():
            raw = self._profiles.read(member_id, [persona.field]).get(persona.field)
            category = None if raw is None else persona.categorise(raw, today)
            if category is not None:
                found[key] = category
        return found

    def _release(self, brand_id: str, plan: Plan, epsilon: float, kind: str) -> Release:
        return self._release_many(brand_id, [plan], epsilon, kind)[0]

    def _release_many(self, brand_id: str, plans: Sequence[Plan], epsilon: float,
                      kind: str) -> list[Release]:
        """Pay and measure, and record the query (or the refusal) in the ledger."""
        actor = "brand:" + brand_id
        try:
            releases = self._releases.release_many(brand_id, plans, epsilon)
        except PrivacyBudgetSpentError as exc:
            self._ledger.record_event(actor=actor, details=InsightsBudgetExhausted(
                kind=kind, epsilon=exc.requested, remaining=exc.remaining))
            raise
        self._ledger.record_event(actor=actor, details=InsightsQueried(
            kind=kind, epsilon=epsilon,
            suppressed=any(release.suppressed for release in releases)))
        return releases


SURVEY_RATINGS = (1.0, 2.0, 3.0, 4.0, 5.0)


def _width(question: SurveyQuestion) -> int:
    """Cells of one question: rating levels 1-5, NPS classes, a choice each (a multiple
    choice: the respondent cell first)."""
    if question.kind == "rating":
        return len(SURVEY_RATINGS)
    if question.kind == "nps":
        return len(NPS_SCORES)
    return len(question.choices) + (1 if question.kind == "multiple" else 0)


def _shape(question: SurveyQuestion) -> tuple[ReleaseKind, dict[str, Any], int]:
    """The kind of a question's release, how it is read, and the cells one member adds."""
    if question.kind == "rating":
        return ReleaseKind.MEAN, {"levels": SURVEY_RATINGS}, 1
    if question.kind == "nps":
        return ReleaseKind.NPS, {}, 1
    if question.kind == "single":
        return ReleaseKind.HISTOGRAM, {"categories": question.choices}, 1
    return (ReleaseKind.MULTIPLE_CHOICE,
            {"categories": question.choices, "respondent_cell": True}, _width(question))


def _question_plan(question: SurveyQuestion, counts: Sequence[int]) -> Plan:
    kind, reading, per_member = _shape(question)
    return tallied_plan(kind, counts, width=_width(question), groups=None, max_groups=1,
                        per_group=per_member, **reading)


def _question_breakdown(question: SurveyQuestion, groups: Sequence[Hashable],
                        rows: Sequence[tuple[int, Hashable, tuple[int, ...]]]) -> Plan:
    kind, reading, per_member = _shape(question)
    width = _width(question)

    def positions(cells: tuple[int, ...]) -> Sequence[int]:
        return tuple(cell for cell in cells if 0 <= cell < width)

    bounded = bound(rows, layout(groups, width), reduce=PerMember.LATEST, per_group=per_member,
                    max_groups=1, positions=positions)
    return bounded_plan(kind, bounded, **reading)


def _cell(value: JournalValue, measure: str) -> int | None:
    return value.nps_class if measure == "nps" else value.rating_level


__all__ = ["JOURNAL", "EpsilonLimits", "InsightQueries"]
