"""Ledger events: the tags, the event a caller records, the entry the ledger stores.

An entry's body is the canonical JSON of ``{seq, time, tag, actor, details}`` (keys sorted, no
spaces, UTF-8, no NaN) and that body's bytes are the Merkle leaf, so anyone holding a body can
recompute its leaf hash.

Invariant: entries hold pseudonymous identifiers and digests, never personal data in clear, so an
erasure never has to break the chain (DESIGN.md section 3). Callers pass pseudonyms (e.g.
``vault.keys.Pseudonymiser.subject``) and digests; as a guard, anything that looks like an e-mail
address anywhere in an entry is refused with :class:`~consent.errors.PersonalDataError`.

What each tag's details hold is stated once, as a dataclass per tag (consent/event_details.py):
its fields are the details' keys, and :meth:`EventDetails.as_details` gives exactly the mapping
the entry body is built from, so typing an event changes no stored byte.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from .errors import ConsentInputError, PersonalDataError

MAX_ACTOR_LENGTH = 256
SYSTEM_ACTOR = "ledger"                        # the actor of what the ledger records itself

# The canonical form (keys sorted, no spaces, UTF-8, no NaN), one encoder for every body:
# json.dumps with these options makes a new encoder at each call.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                              allow_nan=False)

# local@domain.tld, loosely: a guard against mistakes, not a validator of addresses.
_EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)*\.\w{2,}")


class EventTag(enum.StrEnum):
    """What happened, as ``source:subject:action``."""

    CONSENT_GRANT_GIVEN = "consent:grant:given"
    CONSENT_GRANT_NARROWED = "consent:grant:narrowed"
    CONSENT_GRANT_WITHDRAWN = "consent:grant:withdrawn"
    CONSENT_GRANT_EXPIRED = "consent:grant:expired"
    CONSENT_GRANT_RELEASED = "consent:grant:released"
    CONSENT_GRANT_REPLACED = "consent:grant:replaced"
    CONSENT_ACCESS_ENDED = "consent:access:ended"
    CONSENT_RECEIPT_ISSUED = "consent:receipt:issued"
    CONSENT_TERMS_AGREED = "consent:terms:agreed"
    CONSENT_TERMS_CHANGED = "consent:terms:changed"
    CONSENT_AGREEMENT_PROFFERED = "consent:agreement:proffered"
    CONSENT_AGREEMENT_COUNTERED = "consent:agreement:countered"
    CONSENT_AGREEMENT_REJECTED = "consent:agreement:rejected"
    CONSENT_AGREEMENT_WITHDRAWN = "consent:agreement:withdrawn"
    ACCESS_PROFILE_READ = "access:profile:read"
    ACCESS_FEEDBACK_READ = "access:feedback:read"
    SURVEY_PUBLISHED = "survey:published"
    SURVEY_DELIVERED = "survey:delivered"
    SURVEY_ANSWER_RELEASED = "survey:answer:released"
    MEMBER_DATA_ERASED = "member:data:erased"
    MEMBER_DATA_EXPORTED = "member:data:exported"
    OFFICER_ROLE_GRANTED = "officer:role:granted"
    OFFICER_ROLE_REVOKED = "officer:role:revoked"
    OFFICER_IDENTITY_REVEALED = "officer:identity:revealed"
    LEDGER_CHECKPOINT_SIGNED = "ledger:checkpoint:signed"
    LOOP_WEDID_POSTED = "loop:wedid:posted"
    CARE_CASE_OPENED = "care:case:opened"
    CARE_CASE_CLOSED = "care:case:closed"
    COMMUNITY_OPENED = "community:opened"
    COMMUNITY_CLOSED = "community:closed"
    COMMUNITY_MEMBER_JOINED = "community:member:joined"
    COMMUNITY_MEMBER_LEFT = "community:member:left"
    COMMUNITY_CHALLENGE_OPENED = "community:challenge:opened"
    COMMUNITY_IDEA_RELEASED = "community:idea:released"
    COMMUNITY_IDEA_ADOPTED = "community:idea:adopted"
    INSIGHTS_QUERY = "insights:query"
    INSIGHTS_BUDGET_EXHAUSTED = "insights:budget:exhausted"
    DSR_REQUEST_RECEIVED = "dsr:request:received"
    DSR_REQUEST_FULFILLED = "dsr:request:fulfilled"
    DSR_REQUEST_FORWARDED = "dsr:request:forwarded"
    DSR_REQUEST_UPDATED = "dsr:request:updated"
    DSR_REQUEST_EXTENDED = "dsr:request:extended"
    DSR_REQUEST_CLOSED = "dsr:request:closed"
    CONSENT_RESTRICTION_LIFTED = "consent:restriction:lifted"
    INTENT_INTENT_PUBLISHED = "intent:intent:published"
    INTENT_INTENT_CHANGED = "intent:intent:changed"
    INTENT_LISTING_RETURNED = "intent:listing:returned"
    INTENT_OFFER_RECEIVED = "intent:offer:received"
    INTENT_OFFER_ACCEPTED = "intent:offer:accepted"
    INTENT_OFFER_DECLINED = "intent:offer:declined"
    INTENT_OFFER_EXPIRED = "intent:offer:expired"
    INTENT_OFFER_WITHDRAWN = "intent:offer:withdrawn"
    INTENT_OFFER_REPORTED = "intent:offer:reported"
    INTENT_REPORT_DECIDED = "intent:report:decided"
    INTENT_BRAND_BLOCKED = "intent:brand:blocked"
    INTENT_BRAND_UNBLOCKED = "intent:brand:unblocked"
    BRAND_CLIENT_DISABLED = "brand:client:disabled"
    BRAND_SECRET_ROTATED = "brand:secret:rotated"


class Absent(enum.Enum):
    """The value of an optional detail left out of the entry (``None`` is recorded as null)."""

    ABSENT = "absent"


ABSENT = Absent.ABSENT


@dataclass(frozen=True)
class EventDetails:
    """The details of one event tag: subclasses set ``TAG`` and declare one field per key.

    Values are JSON values (lists, not sets); a field whose value is :data:`ABSENT` is left out.
    """

    TAG: ClassVar[EventTag]

    def as_details(self) -> dict[str, Any]:
        """The details mapping, key for key as the entry stores it."""
        return {name: value for name, value in vars(self).items() if value is not ABSENT}


@dataclass(frozen=True)
class Event:
    """One thing to record: ``actor`` is a pseudonym, ``details`` JSON values (no personal data)."""

    tag: EventTag
    actor: str
    details: Mapping[str, Any] = field(default_factory=dict)
    # When it happened (Unix seconds), if not when it is appended: reads merged from a worker's
    # spool (consent/spool.py) keep the time they were served.
    at: float | None = None
    # ``details`` as canonical_details wrote it, if the caller holds that text (a spool's
    # merger: the record was sealed with it): the body is then built around it.
    details_text: str | None = field(default=None, compare=False, repr=False)

    @classmethod
    def of(cls, details: EventDetails, actor: str, *, at: float | None = None) -> Event:
        """The event ``details`` describe, by ``actor``: the tag is the details' own."""
        return cls(details.TAG, actor, details.as_details(), at=at)


@dataclass(frozen=True)
class LedgerEntry:
    """A stored entry: its position ``seq``, its fields, its body (the leaf) and leaf hash."""

    seq: int
    time: str
    tag: EventTag
    actor: str
    details: Mapping[str, Any]
    body: bytes
    leaf_hash: bytes

    @classmethod
    def from_body(cls, body: bytes, leaf_hash: bytes) -> LedgerEntry:
        fields = json.loads(body)
        return cls(fields["seq"], fields["time"], EventTag(fields["tag"]), fields["actor"],
                   fields["details"], body, leaf_hash)


def utc_time(timestamp: float) -> str:
    """ISO 8601 in UTC with milliseconds, e.g. ``2027-01-15T08:00:00.000Z``."""
    moment = dt.datetime.fromtimestamp(timestamp, dt.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def canonical_body(seq: int, time: str, event: Event) -> bytes:
    """The entry body for ``event`` at ``seq``; raises ConsentInputError if it cannot be one."""
    tag = _checked(event)
    if event.details_text is None:
        text = _canonical_json({"seq": seq, "time": time, "tag": tag.value,
                                "actor": event.actor, "details": event.details})
    else:
        # The same text, byte for byte (keys in sorted order: actor, details, seq, tag, time),
        # without encoding the details again; the tests hold the two ways equal.
        encode = _CANONICAL.encode
        text = (f'{{"actor":{encode(event.actor)},"details":{event.details_text},'
                f'"seq":{encode(seq)},"tag":{encode(tag.value)},"time":{encode(time)}}}')
    _refuse_personal_data(text, event)
    return _utf8(text)


def canonical_details(event: Event) -> str:
    """``event.details`` as canonical JSON text, after every check :func:`canonical_body` makes
    of the event (for a spool that holds events before the ledger gives them a place)."""
    _checked(event)
    text = _canonical_json(event.details)
    both = event.actor + "\n" + text
    _refuse_personal_data(both, event)
    _utf8(both)
    return text


def _checked(event: Event) -> EventTag:
    tag = check_tag(event.tag)
    actor = event.actor
    if not isinstance(actor, str) or not actor or len(actor) > MAX_ACTOR_LENGTH:
        raise ConsentInputError(
            f"the actor is a pseudonym of 1 to {MAX_ACTOR_LENGTH} characters")
    if not isinstance(event.details, Mapping):
        raise ConsentInputError("event details are a mapping of names to JSON values")
    return tag


def _canonical_json(value: Any) -> str:
    try:
        return _CANONICAL.encode(value)
    except (TypeError, ValueError) as exc:        # unserialisable value, NaN
        raise ConsentInputError(f"event details are not plain JSON values: {exc}") from exc


def _utf8(text: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:             # a lone surrogate, in the actor or details
        raise ConsentInputError(f"the event is not plain text: {exc.reason}") from None


def _refuse_personal_data(text: str, event: Event) -> None:
    if "@" in text and _EMAIL.search(text):
        raise PersonalDataError(
            f"refusing to record personal data: {_where_email(event)} looks like an e-mail "
            "address; record a pseudonym or a digest instead")


def event_of(tag: EventTag | str | None, actor: str,
             details: EventDetails | Mapping[str, Any] | None) -> Event:
    """The event ``record_event`` appends: a tag's dataclass carries its tag (a ``tag`` given
    as well must be the same); a plain mapping needs its ``tag``."""
    if isinstance(details, EventDetails):
        if tag is not None and check_tag(tag) is not details.TAG:
            raise ConsentInputError(
                f"{type(details).__name__} details are recorded as {details.TAG.value}, "
                f"not {tag}")
        return Event.of(details, actor)
    if tag is None:
        raise ConsentInputError("an event with plain details needs its tag")
    return Event(check_tag(tag), actor, details or {})


def check_tag(tag: EventTag | str) -> EventTag:
    try:
        return EventTag(tag)
    except ValueError as exc:
        raise ConsentInputError(f"{tag!r} is not a ledger event tag") from exc


def _where_email(event: Event) -> str:
    """Which field holds the address (named, never quoted: the value is the personal data)."""
    if _EMAIL.search(event.actor):
        return "the actor"
    for path, text in _strings(event.details, "details"):
        if _EMAIL.search(text):
            return path
    return "a field"


def _strings(value: Any, path: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    if isinstance(value, str):
        found.append((path, value))
    elif isinstance(value, Mapping):
        for key, item in value.items():
            found.append((f"{path} (a key)", str(key)))
            found += _strings(item, f"{path}.{key}" if not _EMAIL.search(str(key)) else path)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found += _strings(item, f"{path}[{index}]")
    return found
