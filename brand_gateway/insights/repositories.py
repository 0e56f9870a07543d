"""What the insights services may ask of storage: the brands' privacy budgets, and the read
model the insights queries count from (who counts now, the members' bounded tallies).

The same seam as ``vault/repositories.py`` (its docstring states the invariants every
implementation keeps: one store's repositories share its transactions, results come in a
stated order). ``budget.py`` holds no SQL; SQLCipher's implementation is
``brand_gateway/insights/sqlcipher.py`` and passes the conformance suite in
``tests/unit/storage/``.

Amounts are integers in millionths of epsilon (:data:`MICRO`), so that spends add up exactly;
the service rounds a spend up, never down, before it gets here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from vault.repositories import Transactional

MICRO = 1_000_000          # amounts are stored in millionths of epsilon


@dataclass(frozen=True)
class SpendOutcome:
    """What one check-and-spend found: whether it was granted, and the brand's spend of the
    period after it (before it, when refused)."""

    granted: bool
    spent: int


class PrivacySpendRepository(Transactional, Protocol):
    """Each brand's spend of its privacy budget, per period (by the period's start)."""

    def spend(self, brand_id: str, period_start: int, amount: int,
              allowance: int) -> SpendOutcome:
        """In one write transaction of the store (two processes can never both pass the check
        on the same remainder): the brand's spend of the period starting at ``period_start``;
        if that plus ``amount`` is at most ``allowance``, record it (and one more release) and
        grant it, else change nothing and refuse."""

    def spent(self, brand_id: str, period_start: int) -> int:
        """The brand's spend of the period (0 when it spent nothing in it)."""


# -- the insights read model (migration 6, data store) -----------------------------------------
JOURNAL = "feedback"          # the field a grant names for the feedback journal


@dataclass(frozen=True)
class JournalValue:
    """One member's bounded journal value at one touchpoint: the NPS class of their mean score
    (0 detractor, 1 passive, 2 promoter; None without a score) and the level of their mean
    rating (0 = 1.0 ... 8 = 5.0, half points)."""

    member_key: int
    touchpoint: str
    nps_class: int | None
    rating_level: int


SURVEYS = "survey"            # the field a grant names for survey answers


@dataclass(frozen=True)
class SurveyQuestion:
    """A question of a brand's survey as insights count it: its position, its kind (rating,
    nps, single, multiple; never text) and its choices."""

    position: int
    kind: str
    choices: tuple[str, ...]


class InsightReadModelRepository(Protocol):
    """What the insights queries read: who counts now, and the bounded tallies.

    COUNTING RULE: a member counts for brand B, purpose P and field F at ``now`` iff a grant of
    theirs to B for P is active (not withdrawn, released, replaced, nor deleted with the
    member), covers F, and ``starts_at <= now < ends_at``. Every method answers from one
    snapshot of the store, so a withdrawal committed before the call is never counted."""

    def journal_counts(self, brand_id: str, purpose: str, measure: str,
                       now: int) -> dict[tuple[str, int], int]:
        """(touchpoint, cell) -> members who count for the journal now, each by their one
        bounded value at that touchpoint (``measure``: "nps" classes or "rating" levels)."""

    def journal_values(self, brand_id: str, purpose: str, now: int) -> list[JournalValue]:
        """The bounded journal values of every member who counts for the journal now, by
        member key (an opaque integer that never leaves the insights package)."""

    def counting_members(self, brand_id: str, purpose: str, field: str,
                         now: int) -> dict[int, str]:
        """Member key -> member id of every member who counts for ``field`` now."""

    # -- survey answers (field ``survey``) ---------------------------------------------------
    def survey_questions(self, brand_id: str, survey_id: str) -> list[SurveyQuestion] | None:
        """The questions of ``brand_id``'s survey that insights may count (no text question),
        by position; None when the brand has no such survey."""

    def survey_counts(self, brand_id: str, survey_id: str, purpose: str,
                      now: int) -> dict[tuple[int, int], int]:
        """(position, cell) -> members who count for survey answers now, each by their one
        answer to the question."""

    def survey_cells(self, brand_id: str, survey_id: str, purpose: str,
                     now: int) -> list[tuple[int, int, int]]:
        """(member key, position, cell) of every member who counts now: one row per cell of
        their answer (a multiple choice: the respondent cell and one per choice)."""

    def survey_touchpoint_values(self, brand_id: str, purpose: str, kind: str,
                                 now: int) -> list[tuple[int, str, int]]:
        """(member key, touchpoint, value) of every answer to a ``kind`` ("rating" or "nps")
        question of the brand's surveys and feedback requests tied to a touchpoint, by members
        who count for survey answers now; oldest first (the rows ``contributions.py`` bounds)."""
