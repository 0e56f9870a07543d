"""The records of consent: a member's standing terms, agreements with brands, grants.

Plain frozen dataclasses, shared by the services, the decision point, receipts and the pages.
Times are UTC seconds since the epoch (integers).

A grant is in exactly one :class:`GrantState` at a moment. Two things make
it up: the member's *consent* (:class:`GrantStatus`: in force, withdrawn by the member, released
by the brand, replaced by a newer grant; or expired, by its end date) and, while the consent is
in force, the brand's *access* under it (its OAuth authorization: live, or ended for an
:class:`AccessEnd` reason, in which case the consent stands and the brand must ask again).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Mode(StrEnum):
    INDIVIDUAL = "individual"    # the brand may read this member's records
    AGGREGATE = "aggregate"      # only counted into aggregates over many members


class GivenFor(StrEnum):
    """What a grant was given for, which decides what a newer grant replaces: only a grant given
    for the same thing. The brand's app (or another request of the brand's: an accepted intent
    offer) replaces its own earlier answers; a grant given for the member's membership of the
    brand's insight community, or for a care case the member opened, is held by that membership
    or case and ends only by its own path (leaving, closing the case, a withdrawal on the
    Sharing page, its end date). Otherwise an app's request for the same purpose silently
    changed aggregate-only use into individual records and ended a care case nobody closed."""

    BRAND = "brand"              # the brand asked: its app over OAuth, an intent offer accepted
    COMMUNITY = "community"      # the member joined the brand's community (or let more count)
    CARE = "care"                # the member asked the brand to get back to them


#: The ``collection_method`` of the grants given for a community or a care case, as their
#: receipts name it (consent receipts' Kantara ``collectionMethod`` and DPV
#: ``hasIndicationMethod``): kept word for word, since receipts already issued carry them.
COMMUNITY_JOINED = "vrmvault insight community (the member joined)"
COMMUNITY_ATTRIBUTE_COUNTED = "vrmvault Asked page"
CARE_ASKED = "vrmvault care request (member page)"
_GIVEN_FOR = {COMMUNITY_JOINED: GivenFor.COMMUNITY, COMMUNITY_ATTRIBUTE_COUNTED:
              GivenFor.COMMUNITY, CARE_ASKED: GivenFor.CARE}


def given_for(collection_method: str) -> GivenFor:
    """What a grant collected this way is given for (any other way: the brand's asking)."""
    return _GIVEN_FOR.get(collection_method, GivenFor.BRAND)


class GrantStatus(StrEnum):
    """The consent itself: in force, or ended by someone's act (an expiry is by the clock,
    :meth:`Grant.state`). Only ``ACTIVE`` ever allows anything; no other status goes back."""

    ACTIVE = "active"
    WITHDRAWN = "withdrawn"      # the member withdrew it
    RELEASED = "released"        # the brand gave it up (RFC 7009 revocation of its authorization)
    REPLACED = "replaced"        # a newer grant for the same brand and purpose took its place


class AccessEnd(StrEnum):
    """Why a brand's access under a grant ended while the member's consent stands."""

    CODE_REPLAY = "code-replay"            # an authorization code was presented twice
    REFRESH_REPLAY = "refresh-replay"      # a used refresh token was presented again
    CLIENT_DISABLED = "client-disabled"    # the operator disabled the brand's client
    EXPIRED = "authorization-expired"      # the authorization reached its absolute end
    REVOKED_BY_BRAND = "revoked-by-brand"  # the brand revoked it (this ends the consent too)


@dataclass(frozen=True)
class RecordedGrant:
    """A grant as the ledger last recorded it (consent/after_restore.py): what a restored
    store's row is brought to. ``updated_at``: when the newest change other than a recorded
    expiry was recorded; it, ``withdrawn_at``, ``access_ended_at``, ``access_ended`` and
    ``replaced_by`` are kept where the row has them and these are ``None``."""

    id: str
    status: GrantStatus
    fields: frozenset[str]
    ends_at: int
    version: int
    updated_at: int | None
    withdrawn_at: int | None
    access_ended_at: int | None
    access_ended: AccessEnd | None
    replaced_by: str | None
    expiry_recorded: bool


class GrantState(StrEnum):
    """What the member's Sharing page says about a grant."""

    LIVE = "live"                  # consent in force, brand's access live (or not yet used)
    ACCESS_ENDED = "access-ended"  # consent in force, the brand's access ended (see AccessEnd)
    WITHDRAWN = "withdrawn"
    RELEASED = "released"
    REPLACED = "replaced"
    EXPIRED = "expired"
    NOT_STARTED = "not-started"


class GrantEvent(StrEnum):
    """What happened to a grant; each one yields a receipt."""

    GIVEN = "given"
    NARROWED = "narrowed"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"
    ACCESS_ENDED = "access-ended"  # the brand's access ended; the consent stands
    RELEASED = "released"          # the brand gave the consent up
    REPLACED = "replaced"          # a newer grant took this one's place


@dataclass(frozen=True)
class PersonalTerms:
    """The member's standing rules, measured against every brand request (IEEE 7012 style).

    New members start with nothing: no purposes, no duration, no aggregate use (data
    protection by default, GDPR Art. 25).
    """

    member_id: str
    agreement: str = "SD-BASE"                  # the IEEE 7012 term the member proffers
    purposes: frozenset[str] = frozenset()      # DPV purpose codes accepted at all
    max_days: int = 0                           # the longest grant the member allows
    aggregate_allowed: bool = False             # may brands ask for aggregate-only use
    gpc_opt_out: bool = False                   # opted out of sale/sharing via GPC
    gpc_at: int | None = None
    version: int = 0
    updated_at: int = 0


@dataclass(frozen=True)
class BrandTerms:
    """What a member accepted for one brand beyond their standing terms: purposes
    added for this brand only, and a longest grant for this brand (0: the standing one)."""

    member_id: str
    brand_id: str
    purposes: frozenset[str] = frozenset()
    max_days: int = 0
    version: int = 0
    updated_at: int = 0


@dataclass(frozen=True)
class TermsReceipt:
    """The signed receipt (compact JWS) of one change of a member's terms for a brand."""

    id: str
    member_id: str
    brand_id: str
    version: int
    token: str
    created_at: int


class AgreementVia(StrEnum):
    """How an agreement was made; only the member's own offers are the brand's to see."""

    MEMBER = "member"            # the member offered it (Sharing page), the brand answered
    COMMUNITY = "community"      # the member's join of a community of the brand made it


class AgreementStatus(StrEnum):
    PROFFERED = "proffered"      # the member's term, waiting for the brand
    COUNTERED = "countered"      # the brand answered with one other term from the roster
    AGREED = "agreed"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"      # the member took their offer back before the brand answered


@dataclass(frozen=True)
class AgreementRecord:
    id: str
    member_id: str
    brand_id: str
    proffered: str
    countered: str | None
    status: AgreementStatus
    agreed: str | None           # the term both sides agreed to
    record: str | None           # canonical JSON both sides hold
    record_hash: str | None      # its SHA-256, hex: the same on both sides
    signature: str | None        # the vault's JWS over the record
    created_at: int
    updated_at: int
    via: AgreementVia = AgreementVia.MEMBER


@dataclass(frozen=True)
class Grant:
    id: str
    member_id: str
    brand_id: str
    purpose: str                        # DPV purpose code
    fields: frozenset[str]              # field names or "category:…" selectors
    mode: Mode
    starts_at: int
    ends_at: int
    retention_days: int                 # how long the brand promised to keep copies
    onward_sharing: bool
    third_party: str | None             # who receives onward-shared data (when allowed)
    jurisdiction: str                   # e.g. "EU"
    collection_method: str              # how consent was collected, e.g. "vrmvault web page"
    agreement: str                      # the IEEE 7012 term in force
    terms_version: int
    status: GrantStatus
    withdrawn_at: int | None            # when an act ended it: withdrawn, released, replaced
    version: int                        # +1 on every narrowing
    created_at: int
    updated_at: int
    covered: frozenset[str] = field(default=frozenset(), compare=False)  # expanded fields
    access_ended_at: int | None = None
    access_ended: AccessEnd | None = None   # why the brand's access ended (consent may stand)
    replaced_by: str | None = None          # the grant that took this one's place

    @property
    def given_for(self) -> GivenFor:
        return given_for(self.collection_method)

    def live_at(self, at: float) -> bool:
        return self.status is GrantStatus.ACTIVE and self.starts_at <= at < self.ends_at

    def state(self, at: float) -> GrantState:
        """The one state the member is shown; an act that ended the consent wins over the
        clock (a grant withdrawn before its end date stays "withdrawn")."""
        if self.status is not GrantStatus.ACTIVE:
            return GrantState(self.status.value)
        if at >= self.ends_at:
            return GrantState.EXPIRED
        if at < self.starts_at:
            return GrantState.NOT_STARTED
        if self.access_ended is not None:
            return GrantState.ACCESS_ENDED
        return GrantState.LIVE


class RestrictionScope(StrEnum):
    """What a processing restriction covers: everything, or the sensitive fields only."""

    ALL = "all"
    SENSITIVE = "sensitive"


class RestrictionBasis(StrEnum):
    """Why processing is restricted: GDPR Art. 18 (restriction), Art. 21 (objection), CPRA
    sec. 1798.121 (limit the use of sensitive personal information)."""

    RESTRICTION = "restriction"
    OBJECTION = "objection"
    LIMIT_SENSITIVE = "limit_sensitive"


@dataclass(frozen=True)
class Restriction:
    """A restriction of processing the member asked for: ``brand_id`` None covers every brand.
    It holds until ``lifted_at``."""

    id: int
    member_id: str
    brand_id: str | None
    scope: RestrictionScope
    basis: RestrictionBasis
    request_id: str | None
    since: int
    lifted_at: int | None = None
