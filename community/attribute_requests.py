"""Progressive profiling: a brand asks its community for one profile attribute it lacks.

The member sees the request on their Asked page, fills the attribute in their own profile if
they wish, and chooses whether it counts in that brand's aggregates. Counting is consent: it is
a new grant to the brand for each of the community's purposes, with the attribute added to
what the member's live community grant there covered and everything else kept (its mode and
its end), issued by the consent service with its receipt and ledger entry (the earlier grant is
replaced, as a brand's new request replaces its own; a grant the brand's app holds for the same
purpose is left as it is). The memberships that held the replaced grant
hold the new one, so leaving the community still withdraws it. The response row only keeps the
request off the member's list.

Invariants: only a non-sensitive persona attribute can be asked for
(:data:`community.audience.PERSONA_ATTRIBUTES`); the brand never learns who answered, nor
what: the value stays in the member's sealed profile.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from consent.grants import DAY, BrandRequest, ConsentService
from consent.model import COMMUNITY_ATTRIBUTE_COUNTED, GivenFor, Grant
from consent.vocabulary import SENSITIVE_FIELDS
from vault.catalog import BY_KEY, clean_text
from vault.clock import Clock
from vault.errors import NotFoundError, ValidationError
from vault.profile import ProfileService

from .audience import PERSONA_ATTRIBUTES, counting_grants
from .repositories import AttributeRequestRecord, AttributeRequestRepository, CommunityFacts

ID_PREFIX = "atr_"
MAX_REASON = 300
MAX_DAYS_OPEN = 366
OUTCOMES = ("shared", "kept", "declined")
NO_SUCH_REQUEST = "There is no such request, or it is not put to you."


@dataclass(frozen=True)
class AskedAttribute:
    """A request as a member sees it: the attribute's value in their profile (None: not
    filled in), whether it counts for the brand now, and their earlier outcome, if any."""

    request: AttributeRequestRecord
    value: Any
    counted: bool
    outcome: str | None


class AttributeRequestService:
    def __init__(self, *, requests: AttributeRequestRepository, consent: ConsentService,
                 profile: ProfileService, clock: Clock,
                 grants_of: Callable[[str, str], list[Grant]],
                 holders: Callable[[str], list[str]],
                 link_grant: Callable[[str, int, str], None]) -> None:
        self._requests = requests
        self._consent = consent
        self._profile = profile
        self._clock = clock
        self._grants_of = grants_of          # (member, brand) -> every grant, any state
        self._holders = holders              # grant -> the communities whose membership holds it
        self._link_grant = link_grant        # (community, member_num, grant): membership holds it

    # -- the brand's side ----------------------------------------------------------------------
    def ask(self, brand_id: str, *, community_id: str, attribute: str, reason: str,
            closes_at: int) -> AttributeRequestRecord:
        now = int(self._clock())
        errors: dict[str, list[str]] = {}
        community = self._requests.community(community_id)
        if community is None or community.brand_id != brand_id:
            errors["community_id"] = ["None of this brand's communities has this id."]
        elif community.closed_at is not None:
            errors["community_id"] = ["This community is closed."]
        if attribute in SENSITIVE_FIELDS:
            errors["attribute"] = [f"{attribute} is sensitive data (GDPR Art. 9): it cannot"
                                   " be asked for here."]
        elif attribute not in PERSONA_ATTRIBUTES:
            errors["attribute"] = ["One of: " + ", ".join(PERSONA_ATTRIBUTES) + "."]
        try:
            reason = clean_text(reason, max_length=MAX_REASON)
            if not reason:
                errors["reason"] = ["Say why you ask: members read it."]
        except ValueError as exc:
            errors["reason"] = [str(exc)]
        if not now < closes_at <= now + MAX_DAYS_OPEN * DAY:
            errors["closes_at"] = [f"Close it in the future, within {MAX_DAYS_OPEN} days."]
        if errors:
            raise ValidationError(errors)
        record = AttributeRequestRecord(ID_PREFIX + os.urandom(12).hex(), brand_id,
                                        community_id, attribute, reason, now, closes_at)
        self._requests.insert(record)
        return record

    def for_brand(self, brand_id: str, *, limit: int, offset: int
                  ) -> list[AttributeRequestRecord]:
        return self._requests.for_brand(brand_id, limit=limit, offset=offset)

    # -- the member's side ---------------------------------------------------------------------
    def asked(self, member_id: str) -> list[AskedAttribute]:
        """Open requests of the member's communities, answered or not (a member may change
        their mind until the request closes)."""
        number = self._number(member_id)
        now = int(self._clock())
        responses = self._requests.responses(number)
        found = []
        for request in self._requests.for_communities(
                self._requests.member_communities(member_id), closes_after=now):
            found.append(self._asked(member_id, request, responses.get(request.id), now))
        return found

    def for_member(self, member_id: str, request_id: str) -> AskedAttribute:
        number = self._number(member_id)
        request = self._requests.get(request_id)
        now = int(self._clock())
        if request is None or request.closes_at <= now or request.community_id not in \
                self._requests.member_communities(member_id):
            raise NotFoundError(NO_SUCH_REQUEST)
        return self._asked(member_id, request, self._requests.responses(number).get(request_id),
                           now)

    def respond(self, member_id: str, request_id: str, *, value: Any, count: bool
                ) -> AskedAttribute:
        """Fill the attribute with ``value`` (None or empty: leave the profile as it is) and,
        if ``count``, let it count in the brand's aggregates (new grants, with receipts)."""
        asked = self.for_member(member_id, request_id)
        request = asked.request
        if value not in (None, "", []):
            self._profile.update(member_id, {request.attribute: value})
        if count and not asked.counted:
            self._count(member_id, request)
        filled = value not in (None, "", []) or asked.value is not None
        outcome = "shared" if count and filled else "kept" if filled else "declined"
        self._requests.respond(request_id, self._number(member_id), outcome,
                               int(self._clock()))
        return self.for_member(member_id, request_id)

    def responses(self, member_id: str) -> dict[str, str]:
        """request id -> the member's outcome, open or closed (their export)."""
        return self._requests.responses(self._number(member_id))

    def decline(self, member_id: str, request_id: str) -> None:
        self.for_member(member_id, request_id)
        self._requests.respond(request_id, self._number(member_id), "declined",
                               int(self._clock()))

    # -- helpers -------------------------------------------------------------------------------
    def _number(self, member_id: str) -> int:
        number = self._requests.member_number(member_id)
        if number is None:
            raise NotFoundError("no such member")
        return number

    def _community(self, community_id: str) -> CommunityFacts:
        community = self._requests.community(community_id)
        if community is None:
            raise NotFoundError(NO_SUCH_REQUEST)
        return community

    def _live(self, member_id: str, request: AttributeRequestRecord, now: float) -> list[Grant]:
        """The live grants the member gave for the brand's communities: a grant the brand's app
        holds beside them is the app's, and counting never replaces it (consent/model.py
        ``GivenFor``)."""
        community = self._community(request.community_id)
        return [g for g in counting_grants(self._grants_of(member_id, request.brand_id),
                                           request.brand_id, community.purposes, now)
                if g.given_for is GivenFor.COMMUNITY]

    def _asked(self, member_id: str, request: AttributeRequestRecord, outcome: str | None,
               now: float) -> AskedAttribute:
        live = self._live(member_id, request, now)
        counted = bool(live) and all(request.attribute in g.covered for g in live)
        value = self._profile.read(member_id, [request.attribute]).get(request.attribute)
        return AskedAttribute(request, value, counted, outcome)

    def _count(self, member_id: str, request: AttributeRequestRecord) -> None:
        """Each live grant to the brand for the community's purposes that does not cover the
        attribute is replaced by one that does (same mode, same end, a receipt each)."""
        now = int(self._clock())
        live = self._live(member_id, request, now)
        if not live:
            raise ValidationError({"count": [
                "You share nothing with this brand through its community now, so nothing can"
                " count: join the community again first."]})
        number = self._number(member_id)
        with self._requests.transaction():
            for grant in live:
                if request.attribute in grant.covered:
                    continue
                days = max(1, (grant.ends_at - now) // DAY)
                holders = self._holders(grant.id)
                new, _ = self._consent.grant(member_id, BrandRequest(
                    brand_id=grant.brand_id, purpose=grant.purpose,
                    fields=frozenset(grant.fields | {request.attribute}), mode=grant.mode,
                    days=days, retention_days=grant.retention_days,
                    onward_sharing=grant.onward_sharing, third_party=grant.third_party),
                    collection_method=COMMUNITY_ATTRIBUTE_COUNTED)
                # The memberships that held the replaced grant hold its successor, so leaving
                # a community still withdraws it.
                for community_id in holders:
                    self._link_grant(community_id, number, new.id)


def attribute_label(attribute: str) -> str:
    spec = BY_KEY.get(attribute)
    return spec.label if spec else attribute
