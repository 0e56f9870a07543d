"""The insight community's part of a member's export: communities joined, ideas, votes.

How the parts of an export meet is in :mod:`vault.export`. Memberships come with the
community pseudonym and the ids of the grants each holds (consent's section has the grants
themselves); ideas with their text as the member wrote it (opened with their key) and whether
the brand received and took them up; votes by idea id.
"""

from __future__ import annotations

from typing import Any

from vault.export import DATA_STORE, NULLABLE_TIME, STRINGS, TIME, Exporter, Section, iso, list_of

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
