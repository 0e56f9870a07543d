"""What the insight community's services may ask of storage: one repository contract per
aggregate, as ``typing.Protocol`` classes.

The same seam and the same invariants as ``vault/repositories.py`` (read its docstring): the
services in ``community/`` hold no SQL and do not know the engine; SQLCipher's implementations
are in ``community/sqlcipher/``, one module per aggregate, and pass the conformance suite in
``tests/unit/storage/``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from vault.repositories import Transactional


# -- Communities, membership and co-creation ----------------------------------------------
@dataclass(frozen=True)
class Community:
    """A brand's insight community: what it is for (``purposes``, DPV codes, sorted) and
    whether it is still open (``closed_at`` None)."""

    id: str
    brand_id: str
    name: str
    description: str
    purposes: tuple[str, ...]
    created_at: int
    closed_at: int | None = None


@dataclass(frozen=True)
class Membership:
    """A member in a community, by the member's integer key; ``pseudonym`` is how the community
    knows them (community/pseudonyms.py)."""

    community_id: str
    member_num: int
    joined_at: int
    pseudonym: str


class CommunityRepository(Transactional, Protocol):
    """Communities, who is in them, and which of a member's grants each membership holds.

    A membership's rows go with the member (erasure) and with the membership (leaving): the
    grant links, ideas and votes of a membership are removed with it."""

    def insert(self, community: Community) -> None: ...

    def get(self, community_id: str) -> Community | None: ...

    def for_brand(self, brand_id: str) -> list[Community]:
        """The brand's communities, newest first."""

    def open_communities(self) -> list[Community]:
        """Every community not closed, newest first."""

    def close(self, community_id: str, now: int) -> bool:
        """Mark it closed; False if it was closed already or does not exist."""

    def member_number(self, member_id: str) -> int | None:
        """The member's integer key, if the member exists."""

    def member_id(self, member_num: int) -> str | None:
        """The member's id from their integer key, if the member exists."""

    def add_member(self, membership: Membership) -> bool:
        """False if the member is in the community already."""

    def membership(self, community_id: str, member_num: int) -> Membership | None: ...

    def memberships(self, member_num: int) -> list[Membership]:
        """The member's memberships, the latest joined first."""

    def members(self, community_id: str) -> list[int]:
        """The community's members' integer keys, in order of joining."""

    def remove_member(self, community_id: str, member_num: int) -> bool:
        """Delete the membership with its grant links, ideas and votes; False if none."""

    def member_count(self, community_id: str) -> int: ...

    def link_grant(self, community_id: str, member_num: int, grant_id: str) -> None:
        """Record that the membership holds ``grant_id`` (idempotent)."""

    def linked_grants(self, community_id: str, member_num: int) -> list[str]:
        """The grant ids the membership holds, sorted."""

    def holders(self, grant_id: str) -> list[str]:
        """The ids of the communities whose memberships hold ``grant_id``, sorted."""


@dataclass(frozen=True)
class Challenge:
    """A question a brand puts to its community."""

    id: str
    community_id: str
    title: str
    description: str
    created_at: int
    closed_at: int | None = None


@dataclass(frozen=True)
class IdeaRow:
    """An idea as stored: its text sealed with the author's member key; ``votes`` counted
    on reading (0 when written); ``released`` the version last released to the brand."""

    id: str
    challenge_id: str
    community_id: str
    member_num: int
    text_sealed: bytes
    version: int
    created_at: int
    updated_at: int
    released: int = 0
    taken_up_at: int | None = None
    votes: int = 0


class CoCreationRepository(Transactional, Protocol):
    """Challenges, ideas and votes. An idea's author and voters are members of its community
    (the store holds that: their rows go with the membership)."""

    def insert_challenge(self, challenge: Challenge) -> None: ...

    def challenge(self, challenge_id: str) -> Challenge | None: ...

    def challenges(self, community_id: str) -> list[Challenge]:
        """The community's challenges, newest first."""

    def close_challenge(self, challenge_id: str, now: int) -> bool:
        """False if it was closed already or does not exist."""

    def insert_idea(self, idea: IdeaRow) -> None: ...

    def idea(self, idea_id: str) -> IdeaRow | None:
        """The idea with its vote count."""

    def ideas(self, challenge_id: str) -> list[IdeaRow]:
        """The challenge's ideas with their vote counts, oldest first."""

    def update_idea(self, idea_id: str, member_num: int, text_sealed: bytes, now: int) -> bool:
        """Replace the author's text (the version goes up by one); False if the idea is not
        theirs or does not exist."""

    def delete_idea(self, idea_id: str, member_num: int) -> bool:
        """Delete the author's idea with its votes; False if it is not theirs."""

    def mark_released(self, idea_id: str, version: int) -> None:
        """Record that ``version`` of the idea was released to the brand."""

    def take_up(self, idea_id: str, now: int) -> bool:
        """Mark the idea taken up; False if it was already or does not exist."""

    def vote(self, idea_id: str, community_id: str, member_num: int, now: int) -> bool:
        """False if the member voted for the idea already."""

    def unvote(self, idea_id: str, member_num: int) -> bool: ...

    def voted(self, challenge_id: str, member_num: int) -> set[str]:
        """The ids of the challenge's ideas the member voted for."""

    def member_ideas(self, member_num: int) -> list[IdeaRow]:
        """Every idea of the member, in every community, oldest first."""

    def member_votes(self, member_num: int) -> list[tuple[str, int]]:
        """(idea id, when) of every vote of the member, oldest first."""

# -- Surveys, feedback requests and attribute requests ------------------------------------

# -- Closing the loop: "you said, we did" and care cases ----------------------------------
