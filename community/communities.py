"""A brand's insight communities: opening, reading, closing; what it may learn of their size.

A community is a standing invitation to the brand's members-to-be: a name, what it is for in
plain words, and the DPV purposes its members' grants will be for (:data:`COMMUNITY_PURPOSES`
only: service and the brand's own analytics, never profiling, tracking, sale or sharing).
Joining is the member's consent (community/membership.py); the brand never learns who is in
it.

What it learns of the size is a :class:`CommunitySize`, measured by a :class:`SizeMeasure` at
most once per privacy budget period and kept with the community: the brand gateway's measure
is one differentially private count of the members (brand_gateway/insights/audience.py: the
member as the privacy unit, paid from the brand's insights budget), suppressed below the
minimum cohort on its noisy count and rounded down to tens. The figure of a period is the one
measured on the brand's first read of the community in it (alone or in the list); every other
read of that period returns it, costs nothing and tells nothing new. The answer to opening a
community is :data:`JUST_OPENED` (no one can be in it yet: nothing is measured or kept).
Rounding or thresholding the exact count, recounted on every read, would not do: at a step's
edge one member joining or leaving changed the figure, for free, as often as the brand looked
(one it invited, say, could be seen to join). When the budget cannot pay, the brand is told
nothing (``measured`` false) and nothing is kept: the next read tries again (a refusal depends
on the brand's spending only). A closed community takes no one new and is never measured
again: it keeps the last figure measured while it was open (none, if it never was).

Closing a community ends what it held: each member's grants that no other open community of the
brand holds are *released* (``consent:grant:released``, the brand giving the access up of its
own accord, RFC 7009's meaning: the consent ends with it, receipts and webhooks as for any
release). The memberships stay, for the members' pages; a closed community takes no one new.

Invariants: ledger entries carry ids and codes, never a name or description; a brand sees and
changes only its own communities (another brand's are "not found"); the exact count of a
community's members never leaves this module but to the :class:`SizeMeasure`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from consent.context import Consent
from consent.event_details import CommunityClosed, CommunityOpened
from consent.model import AccessEnd
from consent.vocabulary import AGREEMENT_BY_CODE, PURPOSE_BY_CODE, PURPOSES, Purpose
from vault.clock import Clock
from vault.errors import ConflictError, NotFoundError, ValidationError

from .repositories import Community, CommunityRepository

NAME_MAX = 80
DESCRIPTION_MAX = 1000
_ANALYTICS_TERM = AGREEMENT_BY_CODE["SD-BASE-A"]

#: What a community may be for: what the brand's own analytics term (SD-BASE-A) permits, and
#: never a purpose that sells or shares.
COMMUNITY_PURPOSES: tuple[Purpose, ...] = tuple(
    p for p in PURPOSES if _ANALYTICS_TERM.permits(p) and not p.sale_or_sharing)
COMMUNITY_PURPOSE_CODES = frozenset(p.code for p in COMMUNITY_PURPOSES)
NO_SUCH_COMMUNITY = "There is no such community."


@dataclass(frozen=True)
class CommunitySize:
    """What a brand is told of a community's size: ``at_least`` members (a noisy count rounded
    down to tens), None below the threshold or when it was not ``measured`` (the brand's
    privacy budget could not pay)."""

    at_least: int | None
    measured: bool = True


NOT_MEASURED = CommunitySize(None, measured=False)
#: A community just opened: no one can have joined it yet, so there is nothing to measure or
#: keep (its brand's first read measures it).
JUST_OPENED = CommunitySize(None)


@dataclass(frozen=True)
class SizeMeasure:
    """How a community's size is measured for its brand: ``count`` takes ``(brand_id,
    members)``, the exact count, and says what the brand is told (paying for it);
    ``period`` is the start of the brand's privacy budget period now (the figure is kept per
    period)."""

    count: Callable[[str, int], CommunitySize]
    period: Callable[[], int]


#: Where no budget is wired (the members' side, which never tells a brand): nothing is told.
UNMEASURED = SizeMeasure(count=lambda brand_id, members: NOT_MEASURED, period=lambda: 0)


def kept_size(community: Community) -> CommunitySize:
    """The size kept with the community, or :data:`NOT_MEASURED` if it never was measured."""
    if community.size_period is None:
        return NOT_MEASURED
    return CommunitySize(community.size_reported)


def brand_actor(brand_id: str) -> str:
    """The actor of a brand's acts in the ledger (as consent/terms.py names brands)."""
    return "brand:" + brand_id


class CommunityService:
    """The brand's side: open, list, read and close its communities."""

    def __init__(self, *, communities: CommunityRepository, consent: Consent,
                 clock: Clock, size: SizeMeasure = UNMEASURED) -> None:
        self._communities = communities
        self._consent = consent
        self._clock = clock
        self._size = size

    def open(self, brand_id: str, *, name: str, description: str,
             purposes: Iterable[str]) -> Community:
        """Open a community; :class:`ValidationError` naming each field that breaks a rule."""
        codes = sorted(set(purposes))
        errors = community_errors(name, description, codes)
        if errors:
            raise ValidationError(errors)
        now = int(self._clock())
        community = Community("com_" + os.urandom(12).hex(), brand_id, name.strip(),
                              description.strip(), tuple(codes), now)
        with self._communities.transaction():
            self._communities.insert(community)
            self._consent.ledger.record_event(
                actor=brand_actor(brand_id),
                details=CommunityOpened(community=community.id, brand=brand_id,
                                        purposes=list(codes)))
        return community

    def for_brand(self, brand_id: str) -> list[Community]:
        return self._communities.for_brand(brand_id)

    def get(self, brand_id: str, community_id: str) -> Community:
        """The brand's community; :class:`NotFoundError` for another brand's."""
        community = self._communities.get(community_id)
        if community is None or community.brand_id != brand_id:
            raise NotFoundError(NO_SUCH_COMMUNITY)
        return community

    def size(self, community: Community) -> CommunitySize:
        """What the brand is told of the community's size (see the module docstring): the
        figure kept for the current budget period, else measured now (paid from the brand's
        budget) and kept; a closed community's last figure."""
        period = self._size.period()
        if community.closed_at is not None or community.size_period == period:
            return kept_size(community)
        # Checked again under the community's lock: two workers' first reads measure once. The
        # measure (tens of milliseconds of OpenDP, and its import once a process) runs under
        # that lock (SQLCipher's: the store's write lock), once per community and period.
        with self._communities.transaction():
            current = self._communities.locked(community.id)
            if current is None:
                raise NotFoundError(NO_SUCH_COMMUNITY)
            if current.closed_at is not None or current.size_period == period:
                return kept_size(current)
            told = self._size.count(current.brand_id, self._communities.member_count(
                current.id, int(self._clock())))
            if told.measured:
                self._communities.keep_size(current.id, period, told.at_least)
            return told

    def close(self, brand_id: str, community_id: str) -> Community:
        """Close the brand's community and release the grants only it held (see the module
        docstring); :class:`ConflictError` if it was closed already."""
        with self._communities.transaction():
            self.get(brand_id, community_id)
            now = int(self._clock())
            if not self._communities.close(community_id, now):
                raise ConflictError("This community is closed already.")
            released = 0
            for member_num in self._communities.members(community_id):
                for grant_id in self._communities.linked_grants(community_id, member_num):
                    if any(self._open(other) for other in self._communities.holders(grant_id)
                           if other != community_id):
                        continue
                    if self._consent.grants.end_access(grant_id, AccessEnd.REVOKED_BY_BRAND):
                        released += 1
            self._consent.ledger.record_event(
                actor=brand_actor(brand_id),
                details=CommunityClosed(community=community_id, brand=brand_id,
                                        released=released))
            closed = self._communities.get(community_id)
            assert closed is not None
            return closed

    def _open(self, community_id: str) -> bool:
        community = self._communities.get(community_id)
        return community is not None and community.closed_at is None


# C0 controls but tabs and line breaks, DEL and the C1 controls (U+009B is a terminal's CSI);
# the text direction controls (as vault/catalog.py's clean_text refuses them).
_CONTROL = frozenset(chr(c) for c in (*range(0, 9), 11, 12, *range(14, 32), *range(127, 160)))
_DIRECTION = frozenset(chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))


def unreadable(text: str, *, one_line: bool = False) -> str | None:
    """Why people could not read ``text`` or the store hold it, if so, in the words a form or
    a problem shows: not valid Unicode (a lone surrogate, which JSON can carry), a control
    character but tabs and line breaks (and those too in ``one_line`` text, a name or a title
    shown on one line), a text direction control; else None."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "Use valid Unicode text: this holds half of a character (a lone surrogate)."
    if one_line and ("\n" in text or "\r" in text):
        return "Write it on one line: line breaks are not allowed."
    if any(c in _DIRECTION for c in text):
        return ("Remove the invisible characters that change the text's direction: they are"
                " not allowed.")
    if any(c in _CONTROL for c in text):
        return "Remove the control characters: they are not allowed."
    return None


def community_errors(name: str, description: str, purposes: list[str]) -> dict[str, list[str]]:
    """Every rule a new community's values break, by field."""
    errors: dict[str, list[str]] = {}
    if reason := unreadable(name, one_line=True):
        errors["name"] = [reason]
    elif not name.strip() or len(name.strip()) > NAME_MAX:
        errors["name"] = [f"A name of 1 to {NAME_MAX} characters."]
    if reason := unreadable(description):
        errors["description"] = [reason]
    elif not description.strip() or len(description.strip()) > DESCRIPTION_MAX:
        errors["description"] = [f"Say what the community is for, in 1 to {DESCRIPTION_MAX} "
                                 "characters."]
    unknown = [p for p in purposes if p not in COMMUNITY_PURPOSE_CODES]
    if not purposes or unknown:
        allowed = ", ".join(sorted(COMMUNITY_PURPOSE_CODES))
        errors["purposes"] = [f"One or more of {allowed}" + (
            f" ({', '.join(unknown[:3])} is not one)." if unknown else ".")]
    return errors


def purpose_labels(community: Community) -> list[str]:
    return [PURPOSE_BY_CODE[p].label for p in community.purposes if p in PURPOSE_BY_CODE]
