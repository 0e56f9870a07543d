"""The records of intent casting, as the member, a brand and an officer see them.

A member's :class:`Intent` is theirs alone; a brand sees a :class:`ListedIntent` under a
pseudonym of its own for that intent (``intents/pseudonyms.py``) and never the member, nor which
fields the member would reveal. An :class:`Offer` is the member's view of a brand's answer, a
:class:`BrandOffer` the brand's view of its own: the member's pairwise subject and the fields
revealed appear in it only once the member accepted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class IntentStatus(StrEnum):
    OPEN = "open"              # listed to the brands of its category
    PAUSED = "paused"          # kept, listed to nobody
    WITHDRAWN = "withdrawn"    # ended by the member
    EXPIRED = "expired"        # past its expiry
    FULFILLED = "fulfilled"    # the member accepted an offer


LIVE = (IntentStatus.OPEN, IntentStatus.PAUSED)


class OfferStatus(StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"    # by the brand, or on an upheld spam report


class ReportStatus(StrEnum):
    OPEN = "open"
    DISMISSED = "dismissed"
    UPHELD = "upheld"


@dataclass(frozen=True)
class IntentDraft:
    """What a member submits, as typed: the service validates every part."""

    category: str
    description: str
    budget_min: str
    budget_max: str
    currency: str
    window_from: dt.date | str
    window_until: dt.date | str
    country: str | None = None
    region: str | None = None
    city: str | None = None
    reveal_fields: tuple[str, ...] = ()
    expires_on: dt.date | str | None = None


@dataclass(frozen=True)
class Intent:
    id: str
    member_id: str
    category: str
    description: str
    budget_min: int               # minor units of the currency
    budget_max: int
    currency: str
    window_from: dt.date
    window_until: dt.date
    country: str | None
    region: str | None
    city: str | None
    reveal_fields: tuple[str, ...]
    status: IntentStatus
    created_at: int
    updated_at: int
    expires_at: int
    offers: int = 0               # offers received, in any state


@dataclass(frozen=True)
class ListedIntent:
    pseudonym: str
    category: str
    description: str
    budget_min: str
    budget_max: str
    currency: str
    window_from: dt.date
    window_until: dt.date
    country: str | None
    region: str | None
    city: str | None
    published_at: int
    expires_at: int
    your_offers: int


@dataclass(frozen=True)
class IntentPage:
    items: tuple[ListedIntent, ...]
    next_cursor: str | None


@dataclass(frozen=True)
class Offer:
    id: str
    intent_id: str
    brand_id: str
    brand_name: str
    price: int                    # minor units
    currency: str
    terms: str
    message: str
    valid_until: int
    status: OfferStatus
    created_at: int
    decided_at: int | None
    signed: str                   # the compact JWS the vault signed on receipt
    reported: bool
    grant_id: str | None


@dataclass(frozen=True)
class BrandOffer:
    id: str
    intent: str                   # the brand's pseudonym of the intent
    price: str
    currency: str
    terms: str
    message: str
    valid_until: int
    status: OfferStatus
    created_at: int
    decided_at: int | None
    subject: str | None           # accepted only: the brand's pairwise pseudonym of the member
    grant_id: str | None          # accepted only
    fields: tuple[str, ...]       # accepted only: what the member revealed


@dataclass(frozen=True)
class SpamReport:
    id: str
    offer_id: str | None          # None once the member was erased
    brand_id: str
    brand_name: str
    reason: str | None            # None once the member was erased (it was sealed)
    status: ReportStatus
    reported_at: int
    decided_at: int | None
    decided_by: str | None        # the officer's member id
    offer_status: OfferStatus | None = None     # None once the member was erased


@dataclass(frozen=True)
class Limits:
    """Per brand: offers on one intent, and offers per UTC day."""

    offers_per_intent: int = 3
    offers_per_day: int = 1000

    @classmethod
    def from_settings(cls, config: Mapping[str, Any]) -> Limits:
        """From the parsed settings ``VRMVAULT_OFFERS_PER_INTENT`` and
        ``VRMVAULT_OFFERS_PER_DAY`` (web/config.py), each defaulting to the class's."""
        return cls(int(config.get("VRMVAULT_OFFERS_PER_INTENT", cls.offers_per_intent)),
                   int(config.get("VRMVAULT_OFFERS_PER_DAY", cls.offers_per_day)))
