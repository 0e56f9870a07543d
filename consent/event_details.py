"""What each ledger event records: one frozen dataclass per :class:`~consent.events.EventTag`.

A class's fields are the keys of its entries' details, named as stored; ``as_details`` gives
that mapping (a field left :data:`~consent.events.ABSENT` is not in it), so an entry recorded
through a class is byte for byte the entry the same mapping would make. Identifiers are
pseudonyms, ids and digests, never personal data in clear (consent/events.py).
``DETAILS_BY_TAG`` holds every tag's class; a test holds it complete and the README's tag table
in step with it.
"""

from __future__ import annotations

from dataclasses import dataclass

from .events import ABSENT, Absent, EventDetails, EventTag


# -- a member's grants to a brand ------------------------------------------------------------
@dataclass(frozen=True)
class GrantChange(EventDetails):
    """The grant as it stands after the change (``mode`` a GrantMode value, ``ends_at`` Unix
    seconds)."""

    grant: str
    brand: str
    purpose: str
    fields: list[str]
    mode: str
    ends_at: int
    version: int


@dataclass(frozen=True)
class GrantGiven(GrantChange):
    TAG = EventTag.CONSENT_GRANT_GIVEN
    replaces: list[str] | Absent = ABSENT     # the grants this one replaced, if any


@dataclass(frozen=True)
class GrantNarrowed(GrantChange):
    TAG = EventTag.CONSENT_GRANT_NARROWED


@dataclass(frozen=True)
class GrantWithdrawn(GrantChange):
    TAG = EventTag.CONSENT_GRANT_WITHDRAWN


@dataclass(frozen=True)
class GrantExpired(GrantChange):
    TAG = EventTag.CONSENT_GRANT_EXPIRED


@dataclass(frozen=True)
class GrantReleased(GrantChange):
    TAG = EventTag.CONSENT_GRANT_RELEASED
    reason: str                               # an AccessEnd value


@dataclass(frozen=True)
class GrantReplaced(GrantChange):
    TAG = EventTag.CONSENT_GRANT_REPLACED
    replaced_by: str                          # the new grant's id


@dataclass(frozen=True)
class AccessEnded(GrantChange):
    TAG = EventTag.CONSENT_ACCESS_ENDED
    reason: str                               # an AccessEnd value


@dataclass(frozen=True)
class ReceiptIssued(EventDetails):
    """Its actor is the receipt's principal, the brand's pairwise pseudonym of the member (the
    entry is handed to the receipt's holders, brand included: consent/receipt_position.py)."""

    TAG = EventTag.CONSENT_RECEIPT_ISSUED
    receipt: str
    grant: str
    sha256: str                               # of the receipt JWT as delivered


# -- terms and agreements (IEEE 7012) ----------------------------------------------------------
@dataclass(frozen=True)
class TermsAgreed(EventDetails):
    TAG = EventTag.CONSENT_TERMS_AGREED
    agreement: str
    brand: str
    term: str
    sha256: str                               # of the signed agreement record


@dataclass(frozen=True)
class TermsChanged(EventDetails):
    """Either the member's standing terms (the GPC and aggregate fields set) or one brand's
    exception (``brand``, ``receipt`` and ``sha256`` set; ``removed`` when taken back)."""

    TAG = EventTag.CONSENT_TERMS_CHANGED
    version: int
    purposes: list[str]
    max_days: int
    brand: str | Absent = ABSENT
    agreement: str | None | Absent = ABSENT
    removed: bool | Absent = ABSENT
    receipt: str | Absent = ABSENT
    sha256: str | Absent = ABSENT             # of the signed terms receipt
    aggregate_allowed: bool | Absent = ABSENT
    sale_sharing_opt_out: bool | Absent = ABSENT
    via_gpc: bool | Absent = ABSENT


@dataclass(frozen=True)
class AgreementProffered(EventDetails):
    """``via``: "community" when a join of one of the brand's communities made it (absent when
    the member offered it)."""

    TAG = EventTag.CONSENT_AGREEMENT_PROFFERED
    agreement: str
    brand: str
    term: str
    via: str | Absent = ABSENT


@dataclass(frozen=True)
class AgreementCountered(EventDetails):
    TAG = EventTag.CONSENT_AGREEMENT_COUNTERED
    agreement: str
    brand: str
    term: str


@dataclass(frozen=True)
class AgreementRejected(EventDetails):
    TAG = EventTag.CONSENT_AGREEMENT_REJECTED
    agreement: str
    brand: str
    by: str                                   # "brand" or "member"


@dataclass(frozen=True)
class AgreementWithdrawn(EventDetails):
    TAG = EventTag.CONSENT_AGREEMENT_WITHDRAWN
    agreement: str
    brand: str
    term: str


# -- brand reads -------------------------------------------------------------------------------
@dataclass(frozen=True)
class BrandRead(EventDetails):
    """Who was read (``member``: the ledger's pseudonym), by which client, under which grants;
    names only, never values."""

    member: str
    client: str
    purpose: str
    fields: list[str]
    grants: list[str]


@dataclass(frozen=True)
class ProfileRead(BrandRead):
    TAG = EventTag.ACCESS_PROFILE_READ


@dataclass(frozen=True)
class FeedbackRead(BrandRead):
    TAG = EventTag.ACCESS_FEEDBACK_READ
    entries: int


# -- surveys and feedback requests (community/surveys.py) ------------------------------------
@dataclass(frozen=True)
class SurveyPublished(EventDetails):
    """A brand published a survey or feedback request to one of its communities: ids, counts
    and the digest of its audience criteria, never the criteria's values in clear."""

    TAG = EventTag.SURVEY_PUBLISHED
    survey: str
    community: str
    kind: str                                 # survey | feedback_request
    questions: int
    touchpoint: str | None
    opens_at: int
    closes_at: int
    criteria: str                             # SHA-256 (hex) of the canonical criteria JSON


@dataclass(frozen=True)
class SurveyDelivered(EventDetails):
    """The survey reached the community's vaults: how many members it was put to (their
    number only; ``reported`` is what the brand was told, None below the minimum cohort)."""

    TAG = EventTag.SURVEY_DELIVERED
    survey: str
    community: str
    eligible: int
    reported: int | None


@dataclass(frozen=True)
class SurveyAnswerReleased(EventDetails):
    """One member's answers to a survey released to the brand individually (the member
    granted individual use): the member as the ledger's pseudonym, the purpose and grants that
    allowed it (``fields`` is ``["survey"]``, so the member's "Who read what" shows it as a
    read), which questions, whether a text answer was among them; never the answers."""

    TAG = EventTag.SURVEY_ANSWER_RELEASED
    member: str
    client: str
    purpose: str
    fields: list[str]
    grants: list[str]
    survey: str
    questions: list[int]
    text: bool


# -- members, officers, the ledger itself ------------------------------------------------------
@dataclass(frozen=True)
class DataErased(EventDetails):
    TAG = EventTag.MEMBER_DATA_ERASED
    subject: str
    rows_deleted: int
    key_destroyed: bool


@dataclass(frozen=True)
class DataExported(EventDetails):
    TAG = EventTag.MEMBER_DATA_EXPORTED
    format: str
    bytes: int


@dataclass(frozen=True)
class RoleGranted(EventDetails):
    """An account was given a staff role (``role``: compliance or administrator; entries made
    before there were two roles have none, and mean compliance)."""

    TAG = EventTag.OFFICER_ROLE_GRANTED
    member: str
    role: str | Absent = ABSENT


@dataclass(frozen=True)
class RoleRevoked(EventDetails):
    """An account's staff role was taken away (``role`` as in :class:`RoleGranted`)."""

    TAG = EventTag.OFFICER_ROLE_REVOKED
    member: str
    role: str | Absent = ABSENT


@dataclass(frozen=True)
class IdentityRevealed(EventDetails):
    """An officer (the entry's actor and ``officer``, a pseudonym) was shown the address of
    ``member`` (a pseudonym) for ``case``; ``reason_sha256`` is the digest of the reason
    written, whose text is sealed under the member's key in the data store."""

    TAG = EventTag.OFFICER_IDENTITY_REVEALED
    officer: str
    member: str
    case: str
    reason_sha256: str


@dataclass(frozen=True)
class CheckpointSigned(EventDetails):
    TAG = EventTag.LEDGER_CHECKPOINT_SIGNED
    tree_size: int
    root_hash: str                            # base64


# -- closing the loop (community/loop.py, community/care.py) ------------------------------------
@dataclass(frozen=True)
class WeDidPosted(EventDetails):
    """A brand's "you said, we did": its subject (a touchpoint key, or a survey or idea id),
    the SHA-256 of its text, and what its release spent and whether it was suppressed
    (``None``: nothing was released)."""

    TAG = EventTag.LOOP_WEDID_POSTED
    post: str
    brand: str
    subject_kind: str
    subject: str
    sha256: str
    epsilon: float
    suppressed: bool | None


@dataclass(frozen=True)
class CareCaseOpened(EventDetails):
    """A member asked a brand to get back to them, under ``grant``; ``contact``: the name of
    the contact field they chose (never its value), or ``None``."""

    TAG = EventTag.CARE_CASE_OPENED
    case: str
    brand: str
    grant: str
    source: str
    contact: str | None


@dataclass(frozen=True)
class CareCaseClosed(EventDetails):
    """A care case closed, ``by`` the member, the brand or its end date (``expiry``)."""

    TAG = EventTag.CARE_CASE_CLOSED
    case: str
    brand: str
    grant: str
    by: str
# -- the insight community (community/) --------------------------------------------------------
@dataclass(frozen=True)
class CommunityOpened(EventDetails):
    """A brand opened a community for these DPV purposes (its name stays in the data store)."""

    TAG = EventTag.COMMUNITY_OPENED
    community: str
    brand: str
    purposes: list[str]


@dataclass(frozen=True)
class CommunityClosed(EventDetails):
    TAG = EventTag.COMMUNITY_CLOSED
    community: str
    brand: str
    released: int                             # the members' grants the closing released


@dataclass(frozen=True)
class CommunityMembership(EventDetails):
    """A member joined or left (the actor: the ledger's pseudonym); ``grants``: the grants the
    membership holds, given or withdrawn with their own entries."""

    community: str
    brand: str
    grants: list[str]


@dataclass(frozen=True)
class CommunityJoined(CommunityMembership):
    TAG = EventTag.COMMUNITY_MEMBER_JOINED


@dataclass(frozen=True)
class CommunityLeft(CommunityMembership):
    TAG = EventTag.COMMUNITY_MEMBER_LEFT


@dataclass(frozen=True)
class ChallengeOpened(EventDetails):
    TAG = EventTag.COMMUNITY_CHALLENGE_OPENED
    challenge: str
    community: str
    brand: str


@dataclass(frozen=True)
class IdeaReleased(EventDetails):
    """A version of an idea's text released to the brand: ``author`` is the community
    pseudonym, ``digest`` the SHA-256 of the text released (hex), never the text."""

    TAG = EventTag.COMMUNITY_IDEA_RELEASED
    idea: str
    challenge: str
    brand: str
    author: str
    version: int
    digest: str


@dataclass(frozen=True)
class IdeaTakenUp(EventDetails):
    TAG = EventTag.COMMUNITY_IDEA_ADOPTED
    idea: str
    challenge: str
    brand: str


# -- insights (brand_gateway/insights/queries.py): the brand's query, never a member ----------
@dataclass(frozen=True)
class InsightsQueried(EventDetails):
    """One differentially private release: what was asked (``kind``, e.g.
    ``touchpoints:nps``), the ``epsilon`` it spent, whether any group was suppressed."""

    TAG = EventTag.INSIGHTS_QUERY
    kind: str
    epsilon: float
    suppressed: bool


@dataclass(frozen=True)
class InsightsBudgetExhausted(EventDetails):
    """A query refused: the ``epsilon`` it asked for and what was ``remaining`` of the
    period's budget."""

    TAG = EventTag.INSIGHTS_BUDGET_EXHAUSTED
    kind: str
    epsilon: float
    remaining: float


# -- data subject requests (compliance/requests.py): ids, codes and digests, never text ------
@dataclass(frozen=True)
class DsrReceived(EventDetails):
    """A member's request (``source`` ``member``, or ``gpc``: an opt-out preference signal),
    with its legal due date (``due``, YYYY-MM-DD)."""

    TAG = EventTag.DSR_REQUEST_RECEIVED
    request: str
    regime: str
    kind: str
    source: str
    due: str


@dataclass(frozen=True)
class DsrFulfilled(EventDetails):
    """The vault's own part of a request done at once: ``fulfilment`` says what it did
    (``export``, ``erasure``, ``restriction``, ``opt_out``, ``profile``...). ``restrictions``:
    the processing restrictions it made, each ``{"id": int, "brand": brand id or None for
    every brand}``, so a restore can make them again (left out by entries older than it, and
    where none was made)."""

    TAG = EventTag.DSR_REQUEST_FULFILLED
    request: str
    fulfilment: str
    restrictions: list[dict[str, int | str | None]] | Absent = ABSENT


@dataclass(frozen=True)
class DsrForwarded(EventDetails):
    """A request sent to a brand as a Ketch Forwarder ``message`` (``task``: the brand's own
    handle of it, never shared with another brand)."""

    TAG = EventTag.DSR_REQUEST_FORWARDED
    request: str
    brand: str
    task: str
    message: str


@dataclass(frozen=True)
class DsrUpdated(EventDetails):
    """A brand's status event; ``reason_sha256``: the SHA-256 of the reason it gave, if any."""

    TAG = EventTag.DSR_REQUEST_UPDATED
    request: str
    brand: str
    task: str
    state: str
    reason_sha256: str | None
    results: int


@dataclass(frozen=True)
class DsrExtended(EventDetails):
    """An officer extended the deadline with a reasoned notice (its SHA-256) to the member."""

    TAG = EventTag.DSR_REQUEST_EXTENDED
    request: str
    due: str
    reason_sha256: str


@dataclass(frozen=True)
class DsrClosed(EventDetails):
    """A request closed: its vault part done and every brand's task in a final state
    (``tasks``: state -> how many)."""

    TAG = EventTag.DSR_REQUEST_CLOSED
    request: str
    tasks: dict[str, int]


@dataclass(frozen=True)
class RestrictionLifted(EventDetails):
    """A member lifted a restriction of processing (``brand``: None for every brand)."""

    TAG = EventTag.CONSENT_RESTRICTION_LIFTED
    restriction: int
    basis: str
    brand: str | None


# -- intent casting (intents/) -----------------------------------------------------------------
@dataclass(frozen=True)
class IntentPublished(EventDetails):
    """A member cast an intent (its id and category; never its text or place)."""

    TAG = EventTag.INTENT_INTENT_PUBLISHED
    intent: str
    category: str


@dataclass(frozen=True)
class IntentChanged(EventDetails):
    """An intent was edited, paused, resumed, withdrawn, expired or fulfilled."""

    TAG = EventTag.INTENT_INTENT_CHANGED
    intent: str
    change: str


@dataclass(frozen=True)
class IntentListed(EventDetails):
    """A brand was shown an intent (``via`` the API or an ``intent.created`` webhook);
    ``member`` is the ledger principal of the intent's member."""

    TAG = EventTag.INTENT_LISTING_RETURNED
    member: str
    brand: str
    intent: str
    via: str


@dataclass(frozen=True)
class OfferChange(EventDetails):
    offer: str
    intent: str
    brand: str


@dataclass(frozen=True)
class OfferReceived(OfferChange):
    TAG = EventTag.INTENT_OFFER_RECEIVED


@dataclass(frozen=True)
class OfferAccepted(OfferChange):
    """The member accepted: ``grant`` is the consent grant of what they revealed."""

    TAG = EventTag.INTENT_OFFER_ACCEPTED
    grant: str


@dataclass(frozen=True)
class OfferDeclined(OfferChange):
    TAG = EventTag.INTENT_OFFER_DECLINED


@dataclass(frozen=True)
class OfferExpired(OfferChange):
    TAG = EventTag.INTENT_OFFER_EXPIRED


@dataclass(frozen=True)
class OfferWithdrawn(OfferChange):
    """Withdrawn ``by`` the brand, or by an officer upholding a spam report."""

    TAG = EventTag.INTENT_OFFER_WITHDRAWN
    by: str


@dataclass(frozen=True)
class OfferReported(OfferChange):
    TAG = EventTag.INTENT_OFFER_REPORTED
    report: str


@dataclass(frozen=True)
class SpamReportDecided(EventDetails):
    TAG = EventTag.INTENT_REPORT_DECIDED
    report: str
    brand: str
    outcome: str


@dataclass(frozen=True)
class IntentBrandBlocked(EventDetails):
    TAG = EventTag.INTENT_BRAND_BLOCKED
    brand: str


@dataclass(frozen=True)
class IntentBrandUnblocked(EventDetails):
    TAG = EventTag.INTENT_BRAND_UNBLOCKED
    brand: str


@dataclass(frozen=True)
class ClientDisabled(EventDetails):
    """A brand's OAuth client was disabled: it can no longer authenticate (each authorization
    it held ended, recorded with its grants)."""

    TAG = EventTag.BRAND_CLIENT_DISABLED
    client: str
    brand: str


@dataclass(frozen=True)
class ClientSecretRotated(EventDetails):
    """A brand's OAuth client was given a new secret at ``rotated_at`` (Unix seconds, as the
    client's record holds it); the old one stopped working. Never the secret, nor its hash."""

    TAG = EventTag.BRAND_SECRET_ROTATED
    client: str
    brand: str
    rotated_at: int


DETAILS_BY_TAG: dict[EventTag, type[EventDetails]] = {
    details.TAG: details for details in (
        GrantGiven, GrantNarrowed, GrantWithdrawn, GrantExpired, GrantReleased, GrantReplaced,
        AccessEnded, ReceiptIssued, TermsAgreed, TermsChanged, AgreementProffered,
        AgreementCountered, AgreementRejected, AgreementWithdrawn, ProfileRead, FeedbackRead,
        SurveyPublished, SurveyDelivered, SurveyAnswerReleased, DataErased, DataExported,
        RoleGranted, RoleRevoked, IdentityRevealed, CheckpointSigned, CommunityOpened,
        CommunityClosed, CommunityJoined, CommunityLeft, ChallengeOpened, IdeaReleased, IdeaTakenUp,
        InsightsQueried, InsightsBudgetExhausted, WeDidPosted, CareCaseOpened,
        CareCaseClosed, DsrReceived, DsrFulfilled, DsrForwarded, DsrUpdated, DsrExtended,
        DsrClosed, RestrictionLifted, IntentPublished, IntentChanged, IntentListed,
        OfferReceived, OfferAccepted, OfferDeclined, OfferExpired, OfferWithdrawn, OfferReported,
        SpamReportDecided, IntentBrandBlocked, IntentBrandUnblocked, ClientDisabled,
        ClientSecretRotated)}
