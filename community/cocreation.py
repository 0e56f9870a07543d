"""Co-creation: a brand's challenges, its members' ideas and votes.

A brand opens a challenge in its own open community ("How should our repair service work?");
members of the community post ideas and vote for other members' ideas, each under their
*community pseudonym* (community/pseudonyms.py): the brand never learns who wrote or voted,
and cannot link a member's ideas to its pairwise id for them or across its communities.

An idea's text is sealed with its author's member key (vault/sealing.py), so an erasure makes
it unreadable everywhere; it is content the member chose to post to the brand, so the brand
reads it through the API: each version of an idea the brand receives is *released* once, with
a ``community:idea:released`` ledger entry holding the pseudonym and a SHA-256 digest of the
text, never the text. Members of the community see each other's ideas the same way, under
pseudonyms.

Rules: posting and voting need a membership in force (a live grant held for the community) in
an open community and an open challenge; one vote per member per idea, never on one's own
idea; only the author edits or withdraws an idea, and a withdrawn idea is deleted, its votes
with it, so the brand no longer sees it. Leaving the community or an erasure deletes the
member's ideas and votes (the store's cascades). A brand sees ideas with their vote counts and
marks ideas it takes up (``community:idea:adopted``).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

from consent.context import Consent
from consent.event_details import ChallengeOpened, IdeaReleased, IdeaTakenUp
from consent.model import GrantStatus
from vault.catalog import typed_length
from vault.clock import Clock
from vault.errors import ConflictError, MemberKeyMissingError, NotFoundError, ValidationError
from vault.keys import KeyStore
from vault.sealing import associated_data

from .communities import NO_SUCH_COMMUNITY, brand_actor, unreadable
from .repositories import (
    Challenge,
    CoCreationRepository,
    Community,
    CommunityRepository,
    IdeaRow,
    Membership,
)

TITLE_MAX = 120
DESCRIPTION_MAX = 2000
IDEA_MAX = 2000
NO_SUCH_CHALLENGE = "There is no such challenge."
NO_SUCH_IDEA = "There is no such idea."
NOT_A_MEMBER = "Join this community to post and vote."
SHARING_ENDED = ("Your sharing with this community ended: join it again to post and vote.")


@dataclass(frozen=True)
class Idea:
    """An idea as read: ``author`` the community pseudonym; ``mine``/``voted`` from the reading
    member's side (False for the brand)."""

    id: str
    challenge_id: str
    author: str
    text: str
    votes: int
    version: int
    created_at: int
    updated_at: int
    taken_up_at: int | None
    mine: bool = False
    voted: bool = False


class CoCreationService:
    def __init__(self, *, communities: CommunityRepository, cocreation: CoCreationRepository,
                 consent: Consent, keys: KeyStore, clock: Clock) -> None:
        self._communities = communities
        self._cocreation = cocreation
        self._consent = consent
        self._keys = keys
        self._clock = clock

    # -- the brand's side ------------------------------------------------------------------
    def open_challenge(self, brand_id: str, community_id: str, *, title: str,
                       description: str) -> Challenge:
        errors = _text_errors("title", title, TITLE_MAX, "A title", one_line=True) | _text_errors(
            "description", description, DESCRIPTION_MAX, "Say what you ask")
        if errors:
            raise ValidationError(errors)
        with self._cocreation.transaction():
            community = self._brands_community(brand_id, community_id)
            if community.closed_at is not None:
                raise ConflictError("This community is closed.")
            challenge = Challenge("chl_" + os.urandom(12).hex(), community_id, title.strip(),
                                  description.strip(), int(self._clock()))
            self._cocreation.insert_challenge(challenge)
            self._consent.ledger.record_event(
                actor=brand_actor(brand_id),
                details=ChallengeOpened(challenge=challenge.id, community=community_id,
                                        brand=brand_id))
            return challenge

    def brand_challenges(self, brand_id: str, community_id: str) -> list[Challenge]:
        return self._cocreation.challenges(self._brands_community(brand_id, community_id).id)

    def brand_challenge(self, brand_id: str, challenge_id: str) -> Challenge:
        challenge = self._cocreation.challenge(challenge_id)
        if challenge is None:
            raise NotFoundError(NO_SUCH_CHALLENGE)
        community = self._communities.get(challenge.community_id)
        if community is None or community.brand_id != brand_id:
            raise NotFoundError(NO_SUCH_CHALLENGE)
        return challenge

    def close_challenge(self, brand_id: str, challenge_id: str) -> Challenge:
        with self._cocreation.transaction():
            self.brand_challenge(brand_id, challenge_id)
            if not self._cocreation.close_challenge(challenge_id, int(self._clock())):
                raise ConflictError("This challenge is closed already.")
            closed = self._cocreation.challenge(challenge_id)
            assert closed is not None
            return closed

    def release_ideas(self, brand_id: str, challenge_id: str) -> list[Idea]:
        """The challenge's ideas for the brand, oldest first; each version the brand had not
        received yet is released now, with its ledger entry (see the module docstring)."""
        with self._cocreation.transaction():
            challenge = self.brand_challenge(brand_id, challenge_id)
            ideas = []
            for row in self._cocreation.ideas(challenge.id):
                idea = self._read(row)
                if idea is None:
                    continue
                if row.released < row.version:
                    self._cocreation.mark_released(row.id, row.version)
                    self._consent.ledger.record_event(
                        actor=brand_actor(brand_id),
                        details=IdeaReleased(idea=row.id, challenge=challenge.id,
                                             brand=brand_id, author=idea.author,
                                             version=row.version,
                                             digest=hashlib.sha256(
                                                 idea.text.encode()).hexdigest()))
                ideas.append(idea)
            return ideas

    def take_up(self, brand_id: str, idea_id: str) -> Idea:
        """Mark the idea taken up; :class:`ConflictError` if it was already."""
        with self._cocreation.transaction():
            row = self._cocreation.idea(idea_id)
            if row is None:
                raise NotFoundError(NO_SUCH_IDEA)
            challenge = self.brand_challenge(brand_id, row.challenge_id)
            if not self._cocreation.take_up(idea_id, int(self._clock())):
                raise ConflictError("This idea is taken up already.")
            self._consent.ledger.record_event(
                actor=brand_actor(brand_id),
                details=IdeaTakenUp(idea=idea_id, challenge=challenge.id, brand=brand_id))
            taken = self._cocreation.idea(idea_id)
            assert taken is not None
            idea = self._read(taken)
            if idea is None:
                raise NotFoundError(NO_SUCH_IDEA)
            return idea

    # -- the member's side -----------------------------------------------------------------
    def challenges(self, member_id: str, community_id: str) -> list[Challenge]:
        """The community's challenges, for one of its members."""
        self._member_of(member_id, community_id)
        return self._cocreation.challenges(community_id)

    def challenge(self, member_id: str, challenge_id: str) -> tuple[Challenge, Community]:
        challenge = self._cocreation.challenge(challenge_id)
        if challenge is None:
            raise NotFoundError(NO_SUCH_CHALLENGE)
        self._member_of(member_id, challenge.community_id)
        community = self._communities.get(challenge.community_id)
        assert community is not None
        return challenge, community

    def ideas(self, member_id: str, challenge_id: str) -> list[Idea]:
        """The challenge's ideas as a member of its community sees them, oldest first."""
        challenge, _ = self.challenge(member_id, challenge_id)
        membership = self._member_of(member_id, challenge.community_id)
        voted = self._cocreation.voted(challenge_id, membership.member_num)
        ideas = []
        for row in self._cocreation.ideas(challenge_id):
            idea = self._read(row, reader=membership.member_num, voted=voted)
            if idea is not None:
                ideas.append(idea)
        return ideas

    def post(self, member_id: str, challenge_id: str, text: str) -> Idea:
        errors = _text_errors("text", text, IDEA_MAX, "Your idea")
        if errors:
            raise ValidationError(errors)
        with self._cocreation.transaction():
            challenge, membership = self._may_take_part(member_id, challenge_id)
            now = int(self._clock())
            idea_id = "idea_" + os.urandom(12).hex()
            sealed = self._seal(member_id, idea_id, text.strip())
            row = IdeaRow(idea_id, challenge.id, challenge.community_id,
                          membership.member_num, sealed, 1, now, now)
            self._cocreation.insert_idea(row)
            return Idea(idea_id, challenge.id, membership.pseudonym, text.strip(), 0, 1, now,
                        now, None, mine=True)

    def edit(self, member_id: str, idea_id: str, text: str) -> None:
        errors = _text_errors("text", text, IDEA_MAX, "Your idea")
        if errors:
            raise ValidationError(errors)
        with self._cocreation.transaction():
            row = self._own_idea(member_id, idea_id)
            self._may_take_part(member_id, row.challenge_id)
            self._cocreation.update_idea(idea_id, row.member_num,
                                         self._seal(member_id, idea_id, text.strip()),
                                         int(self._clock()))

    def withdraw(self, member_id: str, idea_id: str) -> None:
        """Delete the member's idea with its votes: the brand no longer sees it."""
        with self._cocreation.transaction():
            row = self._own_idea(member_id, idea_id)
            self._cocreation.delete_idea(idea_id, row.member_num)

    def vote(self, member_id: str, idea_id: str) -> None:
        with self._cocreation.transaction():
            row = self._cocreation.idea(idea_id)
            if row is None:
                raise NotFoundError(NO_SUCH_IDEA)
            _, membership = self._may_take_part(member_id, row.challenge_id)
            if row.member_num == membership.member_num:
                raise ConflictError("You cannot vote for your own idea.")
            if not self._cocreation.vote(idea_id, row.community_id, membership.member_num,
                                         int(self._clock())):
                raise ConflictError("You voted for this idea already.")

    def unvote(self, member_id: str, idea_id: str) -> None:
        with self._cocreation.transaction():
            row = self._cocreation.idea(idea_id)
            if row is None:
                raise NotFoundError(NO_SUCH_IDEA)
            membership = self._member_of(member_id, row.community_id)
            if not self._cocreation.unvote(idea_id, membership.member_num):
                raise ConflictError("You have not voted for this idea.")

    def member_ideas(self, member_id: str) -> list[Idea]:
        """Every idea of the member, in every community, oldest first (their export)."""
        number = self._communities.member_number(member_id)
        if number is None:
            return []
        return [idea for idea in (self._read(row, reader=number)
                                  for row in self._cocreation.member_ideas(number))
                if idea is not None]

    def member_votes(self, member_id: str) -> list[tuple[str, int]]:
        number = self._communities.member_number(member_id)
        return [] if number is None else self._cocreation.member_votes(number)

    # -- helpers ---------------------------------------------------------------------------
    def _brands_community(self, brand_id: str, community_id: str) -> Community:
        community = self._communities.get(community_id)
        if community is None or community.brand_id != brand_id:
            raise NotFoundError(NO_SUCH_COMMUNITY)
        return community

    def _member_of(self, member_id: str, community_id: str) -> Membership:
        number = self._communities.member_number(member_id)
        membership = None if number is None else self._communities.membership(community_id,
                                                                               number)
        if membership is None:
            raise NotFoundError(NOT_A_MEMBER)
        return membership

    def _may_take_part(self, member_id: str, challenge_id: str
                       ) -> tuple[Challenge, Membership]:
        challenge = self._cocreation.challenge(challenge_id)
        if challenge is None:
            raise NotFoundError(NO_SUCH_CHALLENGE)
        membership = self._member_of(member_id, challenge.community_id)
        community = self._communities.get(challenge.community_id)
        assert community is not None
        if community.closed_at is not None or challenge.closed_at is not None:
            raise ConflictError("This challenge is closed: it takes no new ideas or votes.")
        now = self._clock()
        live = [g for g in (self._consent.grants.get(member_id, grant_id) for grant_id in
                            self._communities.linked_grants(community.id,
                                                            membership.member_num))
                if g.status is GrantStatus.ACTIVE and g.ends_at > now]
        if not live:
            raise ConflictError(SHARING_ENDED)
        return challenge, membership

    def _own_idea(self, member_id: str, idea_id: str) -> IdeaRow:
        row = self._cocreation.idea(idea_id)
        number = self._communities.member_number(member_id)
        if row is None or number is None or row.member_num != number:
            raise NotFoundError(NO_SUCH_IDEA)
        return row

    def _seal(self, member_id: str, idea_id: str, text: str) -> bytes:
        return self._keys.cipher(member_id).seal_text(
            associated_data(member_id, "ideas", idea_id, "text"), text)

    def _read(self, row: IdeaRow, *, reader: int | None = None,
              voted: set[str] | frozenset[str] = frozenset()) -> Idea | None:
        """The idea opened with its author's key; ``None`` if the author is gone (an erasure
        under way: the key is destroyed before the rows) or their key was lost in a restore."""
        author_id = self._communities.member_id(row.member_num)
        membership = self._communities.membership(row.community_id, row.member_num)
        if author_id is None or membership is None:
            return None
        try:
            text = self._keys.cipher(author_id).open_text(
                associated_data(author_id, "ideas", row.id, "text"), row.text_sealed)
        except MemberKeyMissingError:
            return None
        return Idea(row.id, row.challenge_id, membership.pseudonym, text, row.votes,
                    row.version, row.created_at, row.updated_at, row.taken_up_at,
                    mine=reader == row.member_num, voted=row.id in voted)


def _text_errors(field: str, text: str, limit: int, what: str, *, one_line: bool = False
                 ) -> dict[str, list[str]]:
    """``limit`` counts a line break as one character, CR LF included: a browser counts it so
    against a textarea's ``maxlength`` and sends it as CR LF (HTML's form submission), so an
    idea the page let through over several lines would otherwise be refused as too long.
    ``one_line``: a title, shown on one line (no line breaks)."""
    if reason := unreadable(text, one_line=one_line):
        return {field: [f"{what}: {reason}"]}
    stripped = text.strip()
    if not stripped or typed_length(stripped) > limit:
        return {field: [f"{what}: write 1 to {limit} characters."]}
    return {}
