"""Who a survey is put to, decided inside the vault: the counting rule over grants, and the
audience criteria over the members' own (sealed) profiles.

The counting rule: a member counts for brand B and field F now iff they have a grant to B, for
one of the community's purposes, whose consent is in force (not withdrawn, released, replaced
or erased), ``starts_at <= now < ends_at``, and that covers F (aggregate or individual mode:
individual includes aggregate). Nothing else counts, no token is needed, and a sensitive field
never counts. Individual answers are released only under a grant in individual mode.

Criteria narrow a community by non-sensitive persona attributes. A criterion is met only by a
member whose grant to the brand covers that attribute too (so a brand cannot select members
by data they did not let it count) and whose value matches; profile values are sealed, so
criteria are evaluated here, member by member, never in SQL.

What the brand learns of the audience is :class:`Cohort`, never who: one differentially private
count of the eligible members (the member as the privacy unit), paid from the brand's privacy
budget by an :data:`AudienceMeasure` once, when the survey is published, and kept with it; it
is thresholded and rounded on that noisy count. Rounding or thresholding an exact count would
not do: at a step's or the threshold's edge one member more or less changes what is told, so
criteria (or a member leaving) one member apart could be told apart, and probing would cost
nothing. Reads return the kept figure and never count again. When the budget cannot pay, the
survey is still published and its audience is not told (``measured`` false).

A criterion, as the brand API takes it and ``surveys.criteria`` stores it (a JSON list, all of
them must hold)::

    {"attribute": "country", "any_of": ["NL", "BE"]}      choice, choices, country, text
    {"attribute": "household_size", "min": 2, "max": 4}   whole numbers, bounds inclusive
    {"attribute": "date_of_birth", "min": 25, "max": 40}  age in whole years (an age band)
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from consent.model import Grant, Mode
from consent.vocabulary import FEEDBACK, SENSITIVE_FIELDS, SURVEY
from vault.catalog import BY_KEY, DataType, is_country_code
from vault.errors import ValidationError

from .membership import COMMUNITY_FIELDS

#: The persona attributes a community counts (its fields less the feedback journal and the
#: survey answers): non-sensitive by construction (a test holds it so).
PERSONA_ATTRIBUTES: tuple[str, ...] = tuple(f for f in COMMUNITY_FIELDS
                                            if f not in (FEEDBACK, SURVEY))
MAX_CRITERIA = 5
MAX_VALUES = 20
MAX_VALUE = 60
#: The smallest group whose size the brand is told; smaller ones are "fewer than" this.
MINIMUM_COHORT = 50
#: Noisy sizes at or above the minimum are told rounded down to this step (post-processing of
#: the differentially private count: it is the noise that hides one member, not the step).
COHORT_STEP = 10


@dataclass(frozen=True)
class Criterion:
    attribute: str
    any_of: tuple[Any, ...] = ()
    minimum: int | None = None
    maximum: int | None = None

    def as_json(self) -> dict[str, Any]:
        if self.any_of:
            return {"attribute": self.attribute, "any_of": list(self.any_of)}
        bounds = {"min": self.minimum, "max": self.maximum}
        return {"attribute": self.attribute, **{k: v for k, v in bounds.items() if v is not None}}

    def matches(self, value: Any, *, today: dt.date) -> bool:
        if value is None:
            return False
        spec = BY_KEY[self.attribute]
        if spec.type is DataType.DATE:
            try:
                born = dt.date.fromisoformat(str(value))
            except ValueError:
                return False
            age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
            return _within(age, self.minimum, self.maximum)
        if spec.type is DataType.INTEGER:
            return isinstance(value, int) and _within(value, self.minimum, self.maximum)
        wanted = {_folded(v) for v in self.any_of}
        if spec.type is DataType.CHOICES:
            return isinstance(value, list) and any(_folded(v) in wanted for v in value)
        return _folded(value) in wanted


def _within(value: int, low: int | None, high: int | None) -> bool:
    return (low is None or value >= low) and (high is None or value <= high)


def _folded(value: Any) -> Any:
    return value.strip().casefold() if isinstance(value, str) else value


def parse_criteria(raw: Any) -> tuple[Criterion, ...]:
    """Criteria from their JSON form, or one :class:`ValidationError` (key ``criteria``) naming
    what is wrong. A sensitive attribute, or one a community does not count, is refused."""
    if raw is None:
        return ()
    if not isinstance(raw, list) or len(raw) > MAX_CRITERIA:
        raise ValidationError({"criteria": [f"Give a list of at most {MAX_CRITERIA} criteria."]})
    parsed: list[Criterion] = []
    for index, item in enumerate(raw):
        parsed.append(_criterion(item, f"criteria.{index}"))
    attributes = [c.attribute for c in parsed]
    if len(set(attributes)) != len(attributes):
        raise ValidationError({"criteria": ["Name each attribute in one criterion only."]})
    return tuple(parsed)


def _criterion(item: Any, where: str) -> Criterion:
    def fail(message: str) -> ValidationError:
        return ValidationError({where: [message]})

    if not isinstance(item, Mapping) or not isinstance(item.get("attribute"), str):
        raise fail("A criterion names an attribute.")
    attribute = item["attribute"]
    if attribute in SENSITIVE_FIELDS:
        raise fail(f"{attribute} is sensitive data (GDPR Art. 9): it is never used to choose"
                   " an audience.")
    if attribute not in PERSONA_ATTRIBUTES:
        raise fail("Criteria may use only these attributes: " + ", ".join(PERSONA_ATTRIBUTES)
                   + ".")
    unknown = set(item) - {"attribute", "any_of", "min", "max"}
    if unknown:
        raise fail("Unknown member: " + sorted(unknown)[0][:40] + ".")
    spec = BY_KEY[attribute]
    if spec.type in (DataType.INTEGER, DataType.DATE):
        bounds = [item.get("min"), item.get("max")]
        if "any_of" in item or all(b is None for b in bounds) or any(
                b is not None and (isinstance(b, bool) or not isinstance(b, int)
                                   or not 0 <= b <= 150) for b in bounds):
            unit = "an age in years" if spec.type is DataType.DATE else "a whole number"
            raise fail(f"{attribute} takes min and/or max, each {unit} from 0 to 150.")
        low, high = bounds
        if low is not None and high is not None and low > high:
            raise fail("min must not be larger than max.")
        return Criterion(attribute, minimum=low, maximum=high)
    values = item.get("any_of")
    if "min" in item or "max" in item or not isinstance(values, list) or not values \
            or len(values) > MAX_VALUES or any(not isinstance(v, str) or not v.strip()
                                               or len(v) > MAX_VALUE for v in values):
        raise fail(f"{attribute} takes any_of: a list of 1 to {MAX_VALUES} values.")
    if spec.choices and any(v not in spec.choices for v in values):
        raise fail(f"{attribute} takes values from: " + ", ".join(spec.choices) + ".")
    if spec.type is DataType.COUNTRY:
        values = [v.strip().upper() for v in values]
        if not all(is_country_code(v) for v in values):
            raise fail(f"{attribute} takes ISO 3166-1 alpha-2 codes of countries (NL, BE).")
    return Criterion(attribute, any_of=tuple(dict.fromkeys(values)))


def criteria_json(criteria: Sequence[Criterion]) -> str:
    """The stored form: canonical JSON (sorted keys, no spaces), so its digest is stable."""
    return json.dumps([c.as_json() for c in criteria], sort_keys=True, separators=(",", ":"))


def criteria_digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def load_criteria(text: str) -> tuple[Criterion, ...]:
    return parse_criteria(json.loads(text))


# -- the counting rule -------------------------------------------------------------------------
def counting_grants(grants: Iterable[Grant], brand_id: str, purposes: Iterable[str],
                    now: float) -> list[Grant]:
    """The member's grants that count for ``brand_id`` under one of ``purposes`` now."""
    wanted = frozenset(purposes)
    return [g for g in grants
            if g.brand_id == brand_id and g.purpose in wanted and g.live_at(now)]


def counts(grants: Sequence[Grant], field: str) -> bool:
    """Whether ``field`` counts under these (already counting) grants: never if sensitive."""
    return field not in SENSITIVE_FIELDS and any(field in g.covered for g in grants)


def individual_grants(grants: Sequence[Grant], field: str = SURVEY) -> list[Grant]:
    """The counting grants that allow ``field`` individually (mode 'individual')."""
    return [g for g in grants if g.mode is Mode.INDIVIDUAL and field in g.covered
            and field not in SENSITIVE_FIELDS]


def eligible(grants: Sequence[Grant], criteria: Sequence[Criterion],
             profile: Mapping[str, Any], *, today: dt.date) -> bool:
    """Whether a member with these counting grants and this profile is asked: survey answers
    count, and every criterion's attribute counts and matches."""
    if not counts(grants, SURVEY):
        return False
    return all(counts(grants, c.attribute) and c.matches(profile.get(c.attribute), today=today)
               for c in criteria)


@dataclass(frozen=True)
class Cohort:
    """How many members a brand is told are eligible: ``reported`` is the noisy count rounded
    down to :data:`COHORT_STEP`, or None when fewer than ``minimum`` (then only "fewer than")
    or when it was not measured (``measured`` false: the brand's privacy budget was spent)."""

    reported: int | None
    minimum: int
    measured: bool = True

    @classmethod
    def of(cls, noisy_count: int, minimum: int = MINIMUM_COHORT) -> Cohort:
        """What a brand is told of ``noisy_count``, a differentially private count (never an
        exact one: see the module's docstring)."""
        if noisy_count < minimum:
            return cls(None, minimum)
        return cls(max(minimum, noisy_count - noisy_count % COHORT_STEP), minimum)

    @classmethod
    def unmeasured(cls, minimum: int = MINIMUM_COHORT) -> Cohort:
        return cls(None, minimum, measured=False)

    @property
    def text(self) -> str:
        if not self.measured:
            return "not told: the privacy budget of the period was spent"
        return (f"fewer than {self.minimum}" if self.reported is None
                else f"at least {self.reported}")


#: ``(brand_id, eligible) -> Cohort``: measures the exact count of eligible members once,
#: differentially privately, paying from the brand's privacy budget (the insights'; built by
#: the brand gateway), and says what the brand is told.
AudienceMeasure = Callable[[str, int], Cohort]


def unmeasured_audience(brand_id: str, eligible: int) -> Cohort:
    """An :data:`AudienceMeasure` that tells nothing (where no budget is wired, e.g. on the
    members' side, which never publishes)."""
    return Cohort.unmeasured()
