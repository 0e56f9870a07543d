"""Builders for the survey tests: a brand's community (rows of the communities contract),
members who join it with grants made through the consent services, and the survey services
over the test vault."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from typing import Any

from community.attribute_requests import AttributeRequestService
from community.audience import PERSONA_ATTRIBUTES
from community.storage import attribute_request_service, survey_service
from community.surveys import QuestionDraft, SurveyDraft, SurveyService
from consent.context import Consent
from consent.model import Grant, Mode
from tests.unit.consent.conftest import Sharing

PURPOSES = ("dpv:ResearchAndDevelopment", "dpv:ServiceOptimisation")
COMMUNITY_FIELDS = ("feedback", "survey", *PERSONA_ATTRIBUTES)
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
        self.purposes = tuple(purposes)
        self.id = "com_" + os.urandom(12).hex()
        self.vault.data.execute(
            "INSERT INTO communities (id, brand_id, name, description, purposes, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (self.id, self.brand.id, brand_name + " riders", "Tell us about riding",
             json.dumps(list(self.purposes)), int(self.vault.clock())))
        self.surveys: SurveyService = survey_service(consent=consent,
                                                     minimum_cohort=minimum_cohort)
        self.requests: AttributeRequestService = attribute_request_service(consent=consent)

    def join(self, member_id: str | None = None, *, mode: Mode = Mode.AGGREGATE,
             fields: Iterable[str] = COMMUNITY_FIELDS, profile: dict[str, Any] | None = None,
             agreed: bool = False) -> str:
        """A member (new unless given) in the community, with one grant per purpose."""
        member_id = member_id or self.sharing.member()
        if not agreed:
            self.sharing.ready(member_id, self.brand.id)
        if profile:
            self.vault.profile.update(member_id, profile)
        for purpose in self.purposes:
            self.sharing.grant(member_id, self.brand.id, purpose, fields, mode=mode, days=365)
        number = self.vault.data.one("SELECT num FROM members WHERE id = ?", (member_id,))[0]
        self.vault.data.execute(
            "INSERT INTO community_members (community_id, member_num, joined_at, pseudonym)"
            " VALUES (?, ?, ?, ?)", (self.id, number, int(self.vault.clock()),
                                     "cm_" + os.urandom(8).hex()))
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
