"""Insights test helpers: a brand's community of members, each with a grant made through the
consent services (receipt and ledger entry included) and journal entries made through the
vault's feedback service, in numbers a cohort needs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from brand_gateway.clients import OAuthClient
from community.storage import community_service, membership_service, survey_service
from community.surveys import QuestionDraft, SurveyDraft
from consent.context import Consent
from tests.brand_api_support import BrandApi
from vault.home import Vault

PURPOSE = "dpv:ServiceOptimisation"


@dataclass
class Community:
    """Members of one brand, each with a grant (through the consent services: receipt and
    ledger entry included) and journal entries (through the vault's feedback service).

    Members share one password hash (as the demo loader does): argon2id per member would
    make a cohort of 60 take seconds."""

    vault: Vault
    consent: Consent
    brand_id: str
    api: BrandApi
    client: OAuthClient
    _count: int = 0
    _hash: str = ""

    def member(self, *, fields: Sequence[str] | None = ("feedback",), purpose: str = PURPOSE,
               entries: Sequence[tuple[str, int, int | None]] = (), days: int = 30,
               profile: dict[str, Any] | None = None) -> str:
        """A member with ``entries`` (touchpoint, rating, nps) about the brand and, unless
        ``fields`` is None, a grant of them for ``purpose``."""
        if not self._hash:
            self._hash = self.vault.password_hasher.hash("correct horse battery staple")
        self._count += 1
        email = f"member{self._count}@example.org"
        member_id = self.vault.members.insert(
            email=email, index=self.vault.members.email_index(email), password_hash=self._hash)
        for touchpoint, rating, nps in entries:
            self.add(member_id, touchpoint, rating, nps)
        if profile:
            self.vault.profile.update(member_id, profile)
        if fields is not None:
            self.api.grant(member_id, self.client, purpose, fields, days=days)
        return member_id

    def add(self, member_id: str, touchpoint: str, rating: int, nps: int | None) -> int:
        return self.vault.feedback.add(member_id, {
            "brand_id": self.brand_id, "touchpoint": touchpoint, "rating": rating, "nps": nps,
            "comment": "", "occurred_on": self.vault.feedback.today().isoformat()})

    def grant_of(self, member_id: str, purpose: str = PURPOSE) -> str:
        return next(g.id for g in self.consent.grants.for_member(member_id)
                    if g.purpose == purpose and g.brand_id == self.brand_id
                    and g.status.value == "active")


def make_community(vault: Vault, consent: Consent, name: str = "Velo Bikes") -> Community:
    api = BrandApi(vault, consent)
    client = api.brand(name)
    return Community(vault, consent, client.brand_id, api, client)


def open_club(community: Community, purposes: Sequence[str] = (PURPOSE,)) -> str:
    """An insight community of the brand (membership is consent: a grant per purpose)."""
    return community_service(community.consent).open(
        community.brand_id, name="Riders", description="Shape our service.",
        purposes=list(purposes)).id


def joiner(community: Community, club_id: str, **profile: Any) -> str:
    """A new member who joined ``club_id`` (aggregate use), with ``profile`` values."""
    member_id = community.member(fields=None, profile=profile or None)
    community.api.accept_everything(member_id)
    membership_service(community.consent).join(member_id, club_id)
    return member_id


QUESTIONS = (QuestionDraft("rating", "How was the repair?"),
             QuestionDraft("nps", "Would you recommend us?"),
             QuestionDraft("single", "Which shop?", ("north", "south")),
             QuestionDraft("multiple", "What did we fix?", ("brakes", "gears", "tyres")),
             QuestionDraft("text", "Anything else?"))


def publish(community: Community, club_id: str) -> str:
    """A survey of :data:`QUESTIONS` to the club, open for a week."""
    ends = int(community.vault.clock()) + 7 * 86_400
    return survey_service(consent=community.consent).publish(community.brand_id, SurveyDraft(
        community_id=club_id, title="Repairs", closes_at=ends,
        questions=QUESTIONS)).survey.id


def answer(community: Community, member_id: str, survey_id: str, **raw: Any) -> None:
    survey_service(consent=community.consent).answer(member_id, survey_id, raw)
