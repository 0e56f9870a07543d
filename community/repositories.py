"""What the insight community's services may ask of storage: one repository contract per
aggregate, as ``typing.Protocol`` classes.

The same seam and the same invariants as ``vault/repositories.py`` (read its docstring): the
services in ``community/`` hold no SQL and do not know the engine; SQLCipher's implementations
are in ``community/sqlcipher/``, one module per aggregate, and pass the conformance suite in
``tests/unit/storage/``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from vault.repositories import Transactional

# -- Communities, membership and co-creation ----------------------------------------------

# -- Surveys, feedback requests and attribute requests ------------------------------------

# -- Closing the loop: "you said, we did" and care cases ----------------------------------


@dataclass(frozen=True)
class WeDidRow:
    """A "you said, we did" post as stored. ``release``: the JSON of the aggregate made when
    it was posted (``None``: none was released)."""

    id: str
    brand_id: str
    subject_kind: str            # 'touchpoint' | 'survey' | 'idea'
    subject_ref: str             # the touchpoint key, survey id or idea id
    said: str
    did: str
    changed_on: str              # YYYY-MM-DD
    release: str | None
    posted_at: int
    withdrawn_at: int | None


#: One member's rating and score at a touchpoint, keyed by an opaque member key: what a
#: release is computed from (``(member key, occurred_on, rating, nps)``, oldest first).
RatingRow = tuple[int, str, int, "int | None"]


class WeDidRepository(Transactional, Protocol):
    def insert(self, post: WeDidRow) -> None: ...

    def get(self, post_id: str) -> WeDidRow | None: ...

    def for_brand(self, brand_id: str, *, withdrawn: bool, limit: int,
                  offset: int) -> list[WeDidRow]:
        """The brand's posts, newest first; withdrawn ones only if ``withdrawn``."""

    def withdraw(self, post_id: str, brand_id: str, now: int) -> bool:
        """Mark the brand's live post withdrawn; False if it is not one."""

    def for_member(self, member_id: str) -> list[WeDidRow]:
        """The live posts about what the member took part in (a touchpoint of a brand they
        gave feedback on), newest first."""

    def touchpoint_ratings(self, brand_id: str, touchpoint: str, purpose: str,
                           now: int) -> list[RatingRow]:
        """The feedback at ``touchpoint`` about ``brand_id`` of the members who count for the
        brand, ``purpose`` and the ``feedback`` field now (the counting rule: an active grant,
        started and not ended, covering the journal, in either mode), oldest first."""


@dataclass(frozen=True)
class CareCaseRow:
    """A care case as stored; ``state`` is as written (an open case past ``ends_at`` is
    closed by expiry whether or not the sweep has written it)."""

    id: str
    member_id: str
    brand_id: str
    grant_id: str
    source: str                  # 'feedback' | 'survey'
    source_ref: str              # the feedback entry id or the survey id
    contact_field: str | None
    state: str                   # 'open' | 'answered' | 'closed'
    answer_sealed: bytes | None
    opened_at: int
    ends_at: int
    answered_at: int | None
    closed_at: int | None
    closed_by: str | None        # 'member' | 'brand' | 'expiry'


class CareCaseRepository(Transactional, Protocol):
    def insert(self, case: CareCaseRow) -> None: ...

    def get(self, case_id: str) -> CareCaseRow | None: ...

    def for_member(self, member_id: str) -> list[CareCaseRow]:
        """The member's cases, newest first."""

    def for_brand(self, brand_id: str, *, live_at: int | None, limit: int,
                  offset: int) -> list[CareCaseRow]:
        """The brand's cases, newest first; with ``live_at``, only those not closed and not
        ended at that time."""

    def live_for(self, member_id: str, brand_id: str, now: int) -> list[CareCaseRow]:
        """The member's cases with the brand that are neither closed nor past their end."""

    def answer(self, case_id: str, answer_sealed: bytes, now: int) -> bool:
        """Record the brand's answer on a case not closed and not ended; False otherwise."""

    def close(self, case_id: str, by: str, now: int) -> bool:
        """Close a case not closed yet; False if it was."""

    def ended_unclosed(self, now: int) -> Sequence[CareCaseRow]:
        """Cases past their end that no one closed (for the expiry sweep)."""
