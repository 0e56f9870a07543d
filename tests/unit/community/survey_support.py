"""Builders for the survey tests: a brand's community (rows of the communities contract),
members who join it with grants made through the consent services, and the survey services
over the test vault."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from community.attribute_requests import AttributeRequestService
from community.audience import Cohort
from community.membership import COMMUNITY_FIELDS
from community.storage import (
    attribute_request_service,
    community_service,
    membership_service,
    survey_service,
)
from community.surveys import QuestionDraft, SurveyDraft, SurveyService
from consent.context import Consent
from consent.model import Grant, Mode
from tests.unit.consent.conftest import Sharing

PURPOSES = ("dpv:ResearchAndDevelopment", "dpv:ServiceOptimisation")
DAY = 86_400


class Community:
    """One brand's community in the test vault, and members joining it."""

    def __init__(self, consent: Consent, sharing: Sharing, *, brand_name: str = "Velo Bikes",
                 purposes: Iterable[str] = PURPOSES, minimum_cohort: int = 3,
                 brand_id: str | None = None) -> None:
        self.consent = consent
        self.sharing = sharing
        self.vault = consent.vault
        self.brand = (self.vault.brands.get(brand_id) if brand_id is not None
                      else self.vault.brands.add(brand_name, ("bikes",)))
        self.purposes = tuple(sorted(purposes))
        self.id = community_service(consent).open(
            self.brand.id, name=self.brand.name + " riders", description="Tell us about riding",
            purposes=self.purposes).id
        self.membership = membership_service(consent)
        #: What the audience measure was given: (brand, exact count) per publication.
        self.measured: list[tuple[str, int]] = []

        def measure(brand_id: str, eligible: int) -> Cohort:
            # A test double without noise, so tests see what was counted; the gateway's
            # measure is differentially private (brand_gateway/insights/audience.py).
            self.measured.append((brand_id, eligible))
            return Cohort.of(eligible, minimum_cohort)

        self.surveys: SurveyService = survey_service(consent=consent,
                                                     minimum_cohort=minimum_cohort,
                                                     audience=measure)
        self.requests: AttributeRequestService = attribute_request_service(consent=consent)

    def join(self, member_id: str | None = None, *, mode: Mode = Mode.AGGREGATE,
             fields: Iterable[str] = COMMUNITY_FIELDS, profile: dict[str, Any] | None = None
             ) -> str:
        """A member (new unless given) who joins the community through the membership
        service (one grant per purpose, with receipts), then narrows the grants to ``fields``
        if that is fewer than a community asks."""
        member_id = member_id or self.sharing.member()
        self.sharing.terms(member_id)
        if profile:
            self.vault.profile.update(member_id, profile)
        joined = self.membership.join(member_id, self.id, individual=mode is Mode.INDIVIDUAL)
        chosen = frozenset(fields)
        if chosen != frozenset(COMMUNITY_FIELDS):
            for grant in joined.grants:
                self.consent.grants.narrow(member_id, grant.id, fields=chosen)
        return member_id

    def grants(self, member_id: str) -> list[Grant]:
        return [g for g in self.consent.grants.for_member(member_id)
                if g.brand_id == self.brand.id]

    def draft(self, **changes: Any) -> SurveyDraft:
        now = int(self.vault.clock())
        values: dict[str, Any] = {
            "community_id": self.id, "title": "Riding in winter",
            "questions": (QuestionDraft("rating", "How do you rate our winter tyres?"),
                          QuestionDraft("nps", "Would you recommend us?"),
                          QuestionDraft("single", "How often do you ride?",
                                        ("Daily", "Weekly", "Rarely")),
                          QuestionDraft("multiple", "What do you ride for?",
                                        ("Commuting", "Sport", "Leisure")),
                          QuestionDraft("text", "Anything else?")),
            "closes_at": now + 7 * DAY}
        return SurveyDraft(**(values | changes))
