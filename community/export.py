"""The insight community's part of a member's export: communities joined, ideas, votes.

How the parts of an export meet is in :mod:`vault.export`. Memberships come with the
community pseudonym and the ids of the grants each holds (consent's section has the grants
themselves); ideas with their text as the member wrote it (opened with their key) and whether
the brand received and took them up; votes by idea id. Care cases (:func:`care_exporter`)
with the brand's answers opened.
"""

from __future__ import annotations

from typing import Any

from vault.export import (
    DATA_STORE,
    NULLABLE_TIME,
    STRINGS,
    TIME,
    CsvFile,
    Exporter,
    Section,
    iso,
    list_of,
)

from .care import CareService
from .cocreation import CoCreationService
from .membership import MembershipService
from .repositories import CommunityRepository


def community_exporter(*, membership: MembershipService, cocreation: CoCreationService,
                       communities: CommunityRepository) -> Exporter:
    def joined(member_id: str) -> list[dict[str, Any]]:
        found = []
        for mine in reversed(membership.communities(member_id)):
            community, held = mine.community, mine.membership
            found.append({
                "community": community.id, "brand": community.brand_id, "name": community.name,
                "purposes": list(community.purposes), "joined_at": iso(held.joined_at),
                "pseudonym": held.pseudonym,
                "grants": communities.linked_grants(community.id, held.member_num),
                "in_force": mine.in_force})
        return found

    def ideas(member_id: str) -> list[dict[str, Any]]:
        return [{"idea": idea.id, "challenge": idea.challenge_id, "author": idea.author,
                 "text": idea.text, "version": idea.version, "votes": idea.votes,
                 "created_at": iso(idea.created_at), "updated_at": iso(idea.updated_at),
                 "taken_up_at": iso(idea.taken_up_at)}
                for idea in cocreation.member_ideas(member_id)]

    def votes(member_id: str) -> list[dict[str, Any]]:
        return [{"idea": idea, "voted_at": iso(at)}
                for idea, at in cocreation.member_votes(member_id)]

    return Exporter("community", (
        Section("communities", list_of({
            "community": {"type": "string"}, "brand": {"type": "string"},
            "name": {"type": "string"}, "purposes": STRINGS, "joined_at": TIME,
            "pseudonym": {"type": "string"}, "grants": STRINGS,
            "in_force": {"type": "boolean"}},
            description="The insight communities you are in, with your pseudonym in each and "
                        "the grants your membership holds."),
            joined, (f"{DATA_STORE}:community_members", f"{DATA_STORE}:community_grants")),
        Section("community_ideas", list_of({
            "idea": {"type": "string"}, "challenge": {"type": "string"},
            "author": {"type": "string"}, "text": {"type": "string"},
            "version": {"type": "integer"}, "votes": {"type": "integer"},
            "created_at": TIME, "updated_at": TIME, "taken_up_at": NULLABLE_TIME},
            description="Your ideas in communities' challenges, as you wrote them."),
            ideas, (f"{DATA_STORE}:ideas",)),
        Section("community_votes", list_of({"idea": {"type": "string"}, "voted_at": TIME},
                                           description="Your votes for other members' ideas."),
                votes, (f"{DATA_STORE}:idea_votes",)),
    ))



_TEXT = {"type": "string"}
_NULLABLE_TEXT = {"type": ["string", "null"]}


def care_exporter(*, care: CareService) -> Exporter:
    def cases(member_id: str) -> list[dict[str, Any]]:
        return [{"id": c.id, "brand_id": c.brand_id, "grant_id": c.grant_id,
                 "source": c.source, "source_ref": c.source_ref,
                 "contact_field": c.contact_field, "state": c.state.value,
                 "opened_at": iso(c.opened_at), "ends_at": iso(c.ends_at),
                 "answered_at": iso(c.answered_at), "closed_at": iso(c.closed_at),
                 "closed_by": c.closed_by, "answer": c.answer}
                for c in care.for_member(member_id)]

    return Exporter("community care", (Section(
        "care_cases", list_of({
            "id": _TEXT, "brand_id": _TEXT, "grant_id": _TEXT, "source": _TEXT,
            "source_ref": _TEXT, "contact_field": _NULLABLE_TEXT, "state": _TEXT,
            "opened_at": TIME, "ends_at": TIME, "answered_at": NULLABLE_TIME,
            "closed_at": NULLABLE_TIME, "closed_by": _NULLABLE_TEXT,
            "answer": _NULLABLE_TEXT},
            description="The times you asked a brand to get back to you after a low score,"
                        " and what the brand answered."),
        cases, tables=(f"{DATA_STORE}:care_cases",),
        csv=CsvFile("care_cases.csv", ("id", "brand_id", "state", "opened_at", "closed_at",
                                       "closed_by", "answer"),
                    "the brands you asked to get back to you, and their answers")),))
