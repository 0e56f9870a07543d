"""Demo surveys: Spokesmith Cycles asks its insight community.

Goes through the product's services: the community (the brand's first, or one opened here),
demo members who join it (grants with receipts, some for individual use), two surveys (one
about a touchpoint), a feedback request about delivery and an attribute request for household
size; then most joined members answer through :meth:`SurveyService.answer` (their text sealed,
the feedback request's rating in their journal) with realistic, skewed distributions. The
showcase member joins too and finds the newest survey and the attribute request waiting on the
Asked page.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from community.membership import MembershipService
from community.storage import (
    attribute_request_service,
    community_service,
    membership_service,
    survey_service,
)
from community.surveys import QuestionDraft, SurveyDraft, SurveyService
from consent.context import Consent
from vault.errors import ConflictError, ValidationError

from .members import SHOWCASE_EMAIL

BRAND = "Spokesmith Cycles"
JOINERS = 300                  # demo members who join (besides the showcase member)
ANSWER_SHARE = 0.7             # of those asked, who answer each survey
INDIVIDUAL_SHARE = 0.2         # of those who join, who also allow individual use
DAY = 86_400
OPENED_MARGIN = 3_600         # seconds
WINTER = (QuestionDraft("rating", "How do you rate riding your e-bike through winter?"),
          QuestionDraft("nps", "How likely are you to recommend Spokesmith to a friend?"),
          QuestionDraft("single", "How often do you ride in winter?",
                        ("Every day", "A few times a week", "Now and then", "Not at all")),
          QuestionDraft("multiple", "What would make winter riding better?",
                        ("Better lights", "Mudguards", "Winter tyres", "Heated grips",
                         "A service check in autumn")),
          QuestionDraft("text", "Anything else we should know?"))
NEXT_BIKE = (QuestionDraft("single", "What will your next bike be?",
                           ("E-bike", "Cargo bike", "Road bike", "City bike", "No new bike")),
             QuestionDraft("multiple", "What matters most when you choose?",
                           ("Price", "Range", "Weight", "Service nearby", "Looks")),
             QuestionDraft("rating", "How happy are you with your current bike?"))
TEXTS = ("The lights are too dim on dark mornings.", "Salt eats the chain; a winter kit please.",
         "Battery range drops a lot below zero.", "Great bike, the shop was very helpful.",
         "Mudguards should come as standard.")


@dataclass(frozen=True)
class SurveyDemoReport:
    members: int
    surveys: int
    answers: int


def load_survey_demo(consent: Consent, *, seed: int = 2026) -> SurveyDemoReport:
    vault = consent.vault
    brand = next((b for b in vault.brands.all() if b.name == BRAND), None)
    if brand is None:
        raise ValueError("load the vault demo first: it makes the demo brands")
    rng = random.Random(seed)
    communities = community_service(consent)
    club = next(iter(communities.for_brand(brand.id)), None) or communities.open(
        brand.id, name="Spokesmith riders",
        description="Help us shape our bikes and our service, in your own words.",
        purposes=["dpv:ResearchAndDevelopment", "dpv:ServiceOptimisation"])
    membership = membership_service(consent)
    showcase_id = vault.members.find(SHOWCASE_EMAIL)
    others = [m for m in vault.accounts.ids() if m != showcase_id]
    joined = [m for m in rng.sample(others, min(JOINERS, len(others)))
              if _join(consent, membership, m, club.id, rng.random() < INDIVIDUAL_SHARE)]
    if showcase_id is not None:
        _join(consent, membership, showcase_id, club.id, True)
    surveys = survey_service(consent=consent)
    # Opened most of a day ago: publishing checks "not before yesterday" against its own clock,
    # which has moved on by the time a large community has been told of the first survey.
    now = int(vault.clock())
    opened = now - DAY + OPENED_MARGIN
    published = [surveys.publish(brand.id, SurveyDraft(
        community_id=club.id, title=title, questions=questions, touchpoint=touchpoint,
        kind=kind, opens_at=opened, closes_at=now + days * DAY)).survey
        for title, questions, touchpoint, kind, days in (
            ("Riding through winter", WINTER, "usage", "survey", 21),
            ("How was delivery?", (QuestionDraft("rating", "How was the delivery of your"
                                                 " bike?"),), "delivery", "feedback_request", 14),
            ("Your next bike", NEXT_BIKE, None, "survey", 30))]
    answers = sum(_answer_all(surveys, survey.id, joined, rng) for survey in published[:2])
    attribute_request_service(consent=consent).ask(
        brand.id, community_id=club.id, attribute="household_size",
        reason="To know how many family and cargo bikes our riders need.",
        closes_at=now + 30 * DAY)
    return SurveyDemoReport(len(joined) + (showcase_id is not None), len(published) + 1, answers)


def _join(consent: Consent, membership: MembershipService, member_id: str, club: str,
          individual: bool) -> bool:
    """The member is in the community: already, or by joining now."""
    if membership.membership(member_id, club) is not None:
        return True
    if consent.terms.get(member_id).version == 0:
        consent.terms.update(member_id, agreement="SD-BASE", purposes=[], max_days=30,
                             aggregate_allowed=True)
    try:
        membership.join(member_id, club, individual=individual)
    except (ConflictError, ValidationError):      # a member who shares otherwise already
        return False
    return True


def _answer_all(surveys: SurveyService, survey_id: str, members: list[str],
                rng: random.Random) -> int:
    questions = surveys.for_member(members[0], survey_id).survey.questions if members else ()
    answered = 0
    for member_id in members:
        if rng.random() >= ANSWER_SHARE:
            continue
        raw: dict[str, object] = {}
        for q in questions:
            key = f"q{q.position}"
            if q.kind == "rating":
                raw[key] = str(rng.choices((1, 2, 3, 4, 5), weights=(4, 7, 18, 41, 30))[0])
            elif q.kind == "nps":
                raw[key] = str(rng.choices(range(11),
                                           weights=(2, 1, 1, 2, 3, 5, 7, 14, 22, 22, 21))[0])
            elif q.kind == "single":
                raw[key] = str(rng.choices(range(len(q.choices)),
                                           weights=range(len(q.choices) + 1, 1, -1))[0])
            elif q.kind == "multiple":
                raw[key] = [str(i) for i in range(len(q.choices))
                            if rng.random() < 0.55 - 0.08 * i] or ["0"]
            elif rng.random() < 0.3:
                raw[key] = rng.choice(TEXTS)
        surveys.answer(member_id, survey_id, raw)
        answered += 1
    return answered
