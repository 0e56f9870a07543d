"""Membership of a community is consent: joining grants, leaving withdraws.

Joining community C of brand B records, in one data-store transaction, through consent's own
services (each step with its signed receipt and ledger entry, as the OAuth consent screen's
approval does, brand_gateway/approval.py):

1. an IEEE 7012 agreement with B permitting C's purposes, if none is in force: the member's
   standing term if it permits them, else the narrowest that does (``SD-BASE-A``, with ``-DP``
   if the member's standing term has it). B's opening of C is its standing acceptance of that
   term for C's purposes (every community purpose is one the analytics term permits,
   community/communities.py);
2. C's purposes and a one-year grant accepted for B only (consent/terms.py
   ``accept_for_brand``), where the member's terms did not accept them yet: the join page says
   so before the member joins;
3. per purpose P of C, one grant member -> B for P, fields :data:`COMMUNITY_FIELDS`, mode
   ``aggregate`` (``individual`` if the member ticked it), for :data:`DAYS` days;
4. the membership row with the member's community pseudonym, and which grants it holds.

A grant serves every community of B the member is in that is for its purpose (a member has at
most one live grant per brand and purpose given for B's communities, consent/grants.py):
joining a second such community holds the same grant, if its mode is the one the member chose.
A grant the member gave B some other way (the brand's app, over OAuth, or a care case) lives
beside the community's: joining never replaces it, and the app's asking again never replaces
the community's (consent/model.py ``GivenFor``); each ends only by its own path, so nothing
the member gave is changed behind their back.

Leaving withdraws the grants only that membership held (receipts, ledger, the brand's
webhooks, as any withdrawal; effective on the brand's next query, which reads the grants
afresh), then deletes the membership with the member's ideas and votes in C. A grant ended
on the Sharing page leaves the membership in place: the member's pages show the sharing ended,
and joining again grants anew.

Refused when the member's terms do not allow aggregate-only use and the member did not tick
"individual" (their standing terms say so, and only they change them), and when an offer of
terms to B is waiting for an answer (the Sharing page answers it).
"""

from __future__ import annotations

from dataclasses import dataclass

from consent.context import Consent
from consent.event_details import CommunityJoined, CommunityLeft
from consent.grants import BrandRequest
from consent.model import COMMUNITY_JOINED, AgreementVia, GivenFor, Grant, GrantStatus, Mode
from consent.vocabulary import AGREEMENT_BY_CODE, FEEDBACK, PURPOSE_BY_CODE, is_selector
from vault.clock import Clock
from vault.errors import ConflictError, NotFoundError, ValidationError

from .communities import NO_SUCH_COMMUNITY
from .pseudonyms import community_pseudonym
from .repositories import Community, CommunityRepository, Membership

DAYS = 365
RETENTION_DAYS = 365
COLLECTION_METHOD = COMMUNITY_JOINED

#: What a member's community grants cover: their feedback, their survey answers, and the
#: non-sensitive persona attributes (date of birth only ever as an age band). ``survey`` is
#: a field once the vocabulary has it: until then the grants cover the rest.
WANTED_FIELDS: tuple[str, ...] = (
    FEEDBACK, "survey", "interests", "purchase_drivers", "price_sensitivity", "tech_adoption",
    "life_stage", "household_size", "occupation", "country", "city", "date_of_birth")
COMMUNITY_FIELDS: tuple[str, ...] = tuple(f for f in WANTED_FIELDS if is_selector(f))

AGGREGATE_NOT_ALLOWED = ("Your terms do not allow brands aggregate-only use yet. Allow it on "
                         "your Terms page, then join.")


@dataclass(frozen=True)
class Joined:
    membership: Membership
    grants: list[Grant]          # the grants the membership holds, given now or shared


@dataclass(frozen=True)
class MemberCommunity:
    """A community as its member sees it: ``sharing`` the live grants the membership holds."""

    community: Community
    membership: Membership
    sharing: list[Grant]

    @property
    def in_force(self) -> bool:
        return bool(self.sharing)


class MembershipService:
    def __init__(self, *, communities: CommunityRepository, consent: Consent, key: bytes,
                 clock: Clock) -> None:
        self._communities = communities
        self._consent = consent
        self._key = key                      # master.derive(community.pseudonyms.PURPOSE)
        self._clock = clock

    # -- joining and leaving ---------------------------------------------------------------
    def join(self, member_id: str, community_id: str, *, individual: bool = False) -> Joined:
        """Join (see the module docstring); :class:`ValidationError`, :class:`ConflictError`
        or :class:`NotFoundError` with nothing written."""
        number = self._number(member_id)
        mode = Mode.INDIVIDUAL if individual else Mode.AGGREGATE
        terms = self._consent.terms.get(member_id)
        if mode is Mode.AGGREGATE and not terms.aggregate_allowed:
            raise ValidationError({"individual": [AGGREGATE_NOT_ALLOWED]})
        with self._communities.transaction():
            community = self._open_community(community_id)
            existing = self._communities.membership(community_id, number)
            held = {g.purpose: g for g in self._live_linked(member_id, community_id, number)}
            shared, wanted = self._plan(member_id, community, held, mode)
            if existing is not None and not shared and not wanted:
                raise ConflictError("You are in this community already.")
            if wanted:
                self._agree_terms(member_id, community, wanted)
            given = [self._consent.grants.grant(
                member_id, BrandRequest(community.brand_id, purpose,
                                        frozenset(COMMUNITY_FIELDS), mode, DAYS,
                                        RETENTION_DAYS),
                collection_method=COLLECTION_METHOD)[0] for purpose in wanted]
            membership = existing or Membership(
                community_id, number, int(self._clock()),
                community_pseudonym(self._key, member_id, community_id))
            if existing is None:
                self._communities.add_member(membership)
            for grant in [*shared, *given]:
                self._communities.link_grant(community_id, number, grant.id)
            grants = [*held.values(), *shared, *given]
            self._consent.ledger.record_event(
                actor=self._consent.principal(member_id),
                details=CommunityJoined(community=community_id, brand=community.brand_id,
                                        grants=sorted(g.id for g in grants)))
            return Joined(membership, grants)

    def leave(self, member_id: str, community_id: str) -> list[Grant]:
        """Leave: withdraw the grants only this membership held, delete the membership with
        the member's ideas and votes in it; the grants withdrawn."""
        number = self._number(member_id)
        with self._communities.transaction():
            membership = self._communities.membership(community_id, number)
            community = self._communities.get(community_id)
            if membership is None or community is None:
                raise NotFoundError("You are not in this community.")
            withdrawn = []
            for grant in self._live_linked(member_id, community_id, number):
                if [c for c in self._communities.holders(grant.id) if c != community_id]:
                    continue                 # another of the brand's communities holds it
                withdrawn.append(self._consent.grants.withdraw(member_id, grant.id)[0])
            self._communities.remove_member(community_id, number)
            self._consent.ledger.record_event(
                actor=self._consent.principal(member_id),
                details=CommunityLeft(community=community_id, brand=community.brand_id,
                                      grants=sorted(g.id for g in withdrawn)))
            return withdrawn

    # -- reading ---------------------------------------------------------------------------
    def communities(self, member_id: str) -> list[MemberCommunity]:
        """The member's communities, the latest joined first."""
        number = self._number(member_id)
        found = []
        for membership in self._communities.memberships(number):
            community = self._communities.get(membership.community_id)
            assert community is not None
            found.append(MemberCommunity(community, membership, self._live_linked(
                member_id, community.id, number)))
        return found

    def membership(self, member_id: str, community_id: str) -> MemberCommunity | None:
        for joined in self.communities(member_id):
            if joined.community.id == community_id:
                return joined
        return None

    def grant_communities(self, member_id: str) -> dict[str, list[Community]]:
        """grant id -> the member's communities whose memberships hold it (for the Sharing
        page), whatever the grant's state."""
        number = self._number(member_id)
        held: dict[str, list[Community]] = {}
        for membership in self._communities.memberships(number):
            community = self._communities.get(membership.community_id)
            assert community is not None
            for grant_id in self._communities.linked_grants(community.id, number):
                held.setdefault(grant_id, []).append(community)
        return held

    def open_to_join(self, member_id: str) -> list[Community]:
        """The open communities the member is not in, newest first."""
        number = self._number(member_id)
        mine = {m.community_id for m in self._communities.memberships(number)}
        return [c for c in self._communities.open_communities() if c.id not in mine]

    def community(self, community_id: str) -> Community:
        """Any community, open or closed (its public page); :class:`NotFoundError`."""
        community = self._communities.get(community_id)
        if community is None:
            raise NotFoundError(NO_SUCH_COMMUNITY)
        return community

    def pseudonym(self, member_id: str, community_id: str) -> str:
        return community_pseudonym(self._key, member_id, community_id)

    # -- helpers ---------------------------------------------------------------------------
    def _number(self, member_id: str) -> int:
        number = self._communities.member_number(member_id)
        if number is None:
            raise NotFoundError("There is no such member.")
        return number

    def _open_community(self, community_id: str) -> Community:
        community = self._communities.get(community_id)
        if community is None:
            raise NotFoundError(NO_SUCH_COMMUNITY)
        if community.closed_at is not None:
            raise ConflictError("This community is closed: it takes no new members.")
        return community

    def _live_linked(self, member_id: str, community_id: str, number: int) -> list[Grant]:
        now = self._clock()
        grants = [self._consent.grants.get(member_id, grant_id)
                  for grant_id in self._communities.linked_grants(community_id, number)]
        return [g for g in grants if g.status is GrantStatus.ACTIVE and g.ends_at > now]

    def _plan(self, member_id: str, community: Community, held: dict[str, Grant], mode: Mode
              ) -> tuple[list[Grant], list[str]]:
        """The live grants to share with another community of the brand, and the purposes to
        grant anew; :class:`ConflictError` where a live grant stands in the way."""
        shared: list[Grant] = []
        wanted: list[str] = []
        for purpose in community.purposes:
            if purpose in held:
                continue
            live = self._consent.grants.replaced_by_new(member_id, community.brand_id, purpose,
                                                        given_for=GivenFor.COMMUNITY)
            label = PURPOSE_BY_CODE[purpose].label.lower()
            if not live:
                wanted.append(purpose)
            elif not self._communities.holders(live[-1].id):
                raise ConflictError(
                    f"You already share with this brand for {label} (your Sharing page lists "
                    "it). Joining would replace that sharing: end it there first, then join.")
            elif live[-1].mode is not mode:
                raise ConflictError(
                    f"You share with this brand for {label} through another of its "
                    f"communities, {live[-1].mode.value} only. Join with the same choice, or "
                    "leave that community first.")
            else:
                shared.append(live[-1])
        return shared, wanted

    def _agree_terms(self, member_id: str, community: Community, purposes: list[str]) -> None:
        """Steps 1 and 2 of the module docstring, for the purposes to grant."""
        consent, brand_id = self._consent, community.brand_id
        wanted = [PURPOSE_BY_CODE[p] for p in purposes]
        agreement = consent.agreements.in_force(member_id, brand_id)
        if agreement is None or agreement.agreed is None or not all(
                AGREEMENT_BY_CODE[agreement.agreed].permits(p) for p in wanted):
            if consent.agreements.open_offer(member_id, brand_id) is not None:
                raise ConflictError("An offer of terms to this brand is waiting for an answer: "
                                    "answer it on your Sharing page first.")
            offer = consent.agreements.proffer(
                member_id, brand_id, term=community_term(consent.terms.get(member_id).agreement,
                                                         purposes), via=AgreementVia.COMMUNITY)
            agreement = consent.agreements.brand_accepts(offer.id, brand_id)
        accepted = consent.terms.for_brand(member_id, brand_id)
        missing = [p for p in purposes if p not in accepted.purposes]
        longer = DAYS if accepted.max_days < DAYS else None
        if missing or longer is not None:
            assert agreement.agreed is not None
            consent.terms.accept_for_brand(member_id, brand_id, agreement=agreement.agreed,
                                           purposes=missing, max_days=longer)


def community_term(standing: str, purposes: list[str]) -> str:
    """The IEEE 7012 term a join agrees when none in force permits ``purposes``: the member's
    standing term if it does, else the narrowest that does (portability kept if the member's
    standing term has it)."""
    wanted = [PURPOSE_BY_CODE[p] for p in purposes]
    if all(AGREEMENT_BY_CODE[standing].permits(p) for p in wanted):
        return standing
    base = "SD-BASE" if all(AGREEMENT_BY_CODE["SD-BASE"].permits(p) for p in wanted) \
        else "SD-BASE-A"
    return base + "-DP" if standing.endswith("-DP") else base
