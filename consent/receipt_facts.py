"""What one consent receipt says, before either standard says it: the facts of a grant event,
checked and derived once, from which the Kantara view (:mod:`consent.receipt_kantara`) and the
ISO/IEC TS 27560 view (:mod:`consent.receipt_iso27560`) are both written.

Invariants:
- Built only by :meth:`consent.receipts.ReceiptSigner.build`, after its checks: the principal
  is a pseudonym, the purpose and agreement are known, the grant covers at least one field.
- Both views read the same facts, so they cannot disagree on the member, the brand, the fields,
  the purpose or the time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .model import Grant, GrantEvent
from .vocabulary import Agreement, Purpose

if TYPE_CHECKING:
    from .receipts import Controller

LANGUAGE = "en"                         # ISO 639-1, as Kantara and ISO 27560 ask
MEMBER_CONSENTS_PATH = "/member/consents"


@dataclass(frozen=True)
class ReceiptFacts:
    grant: Grant
    event: GrantEvent
    at: int                              # UTC seconds of the event
    principal_id: str                    # the member's pseudonym
    brand_name: str
    receipt_id: str                      # a UUID
    replaces: Sequence[str]              # the earlier grants a given grant took the place of
    purpose: Purpose
    agreement: Agreement
    fields: list[str]                    # the vault attributes covered, sorted
    categories: list[str]                # their DPV categories, sorted
    special: list[str]                   # the covered fields that are special-category data
    special_categories: list[str]        # the categories of those, sorted
    starts: int
    ends: int                            # the grant's end, or its earlier ending by this event
    service: str                         # the service, as both views name it
    controller: Controller
    public_key_pem: str                  # the signer's public key, which Kantara carries


def iso_time(seconds: int) -> str:
    """ISO 8601 UTC with a Z, as ISO 27560 asks for event times."""
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
