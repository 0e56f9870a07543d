"""Grants: what a member shares with a brand, for a purpose, for how long.

A brand's request is measured against the member's personal terms (with what they accepted for
that brand only) and the IEEE 7012 agreement in force *before* the member is asked
(:meth:`ConsentService.breaches`); what breaks them is refused with the reasons. Some breaches
are the member's to relax for this brand (a purpose not accepted yet, a longer grant, no agreed
term or one too narrow for the purpose); the rest are absolute and never reach the member.

A grant, a narrowing, a withdrawal and an expiry each yield a signed consent receipt and a
ledger entry, in that order, after the grant row is written; the service's observers are told
in between, inside the same data-store transaction.

How a grant ends (the states are :class:`consent.model.GrantState`), each with its
receipt, ledger entry and observers (the brand gateway queues the brand's webhook):

- the member withdraws it (``withdrawn``), or its end date passes (``expired``, recorded by
  :meth:`ConsentService.record_expiries`);
- a new grant to the brand for the same purpose, given for the same thing
  (:class:`consent.model.GivenFor`: the brand's asking, a community membership, a care case),
  *replaces* the earlier live one (``replaced``, its receipt naming the new grant; the new
  grant's receipt names the one it replaces), so a member has at most one live grant per brand,
  purpose and thing given for. Grants given for different things live side by side, each ended
  only by its own path: the brand's app never replaces what a community membership or a care
  case holds, nor the other way round;
- the brand's *access* ends while the consent stands (:meth:`ConsentService.end_access`): an
  authorization code or refresh token used twice (the server cannot tell the brand from a thief,
  so it ends the authorization, RFC 9700 sec. 4.5.3 and 4.14.2), the operator disabled the
  brand's client, or the authorization reached its absolute end. None of these is the member
  changing their mind, so their consent stands and the page says the brand must ask again.
- the brand revokes its authorization (RFC 7009): the brand gave the access up of its own
  accord, so the consent ends with it (``released``): keeping a consent in force that its only
  holder renounced would show the member a sharing that no longer happens.

Invariants: narrowing only removes (fields a subset of what was covered, the end no later);
a grant that is no longer active (withdrawn, released, replaced) never becomes active again;
at most one active, unexpired grant per member, brand, purpose and thing given for; onward
sharing only under an S3P term, only in aggregate (anonymised) mode and only to a named third
party; ledger entries carry pseudonyms, grant ids and codes, never personal data.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from vault.clock import Clock
from vault.errors import NotFoundError, ValidationError
from vault.repositories import BrandRepository

from .errors import LedgerIntegrityError
from .event_details import (
    AccessEnded,
    GrantChange,
    GrantExpired,
    GrantGiven,
    GrantNarrowed,
    GrantReleased,
    GrantReplaced,
    GrantWithdrawn,
    ReceiptIssued,
)
from .events import EventDetails, LedgerEntry
from .model import AccessEnd, GivenFor, Grant, GrantEvent, GrantStatus, Mode, given_for
from .receipt_position import LedgerPosition, token_digest
from .repositories import GrantRepository
from .terms import MAX_DAYS, NO_SUCH_RECEIPT, AgreementService, TermsService
from .vocabulary import AGREEMENT_BY_CODE, PURPOSE_BY_CODE, expand, is_selector

#: Told of every grant event inside its data-store transaction (``consent`` imports nothing of
#: its observers: the brand gateway's webhook outbox is one, attached by the web and CLI layers).
GrantObserver = Callable[[Grant, GrantEvent, int], None]

DAY = 86_400
MAX_RETENTION_DAYS = 3650
_EVENT_DETAILS: dict[GrantEvent, type[GrantChange]] = {
    GrantEvent.GIVEN: GrantGiven,
    GrantEvent.NARROWED: GrantNarrowed,
    GrantEvent.WITHDRAWN: GrantWithdrawn,
    GrantEvent.EXPIRED: GrantExpired,
    GrantEvent.ACCESS_ENDED: AccessEnded,
    GrantEvent.RELEASED: GrantReleased,
    GrantEvent.REPLACED: GrantReplaced,
}


@dataclass(frozen=True)
class BrandRequest:
    """What a brand asks a member for."""

    brand_id: str
    purpose: str
    fields: frozenset[str]
    mode: Mode = Mode.INDIVIDUAL
    days: int = 30
    retention_days: int = 30
    onward_sharing: bool = False
    third_party: str | None = None


class BreachKind(StrEnum):
    """What a request breaks: the first three the member may relax for the brand."""

    PURPOSE = "purpose"          # a purpose the member's terms do not accept (yet)
    DURATION = "duration"        # longer than the member's longest grant
    AGREEMENT = "agreement"      # no agreed IEEE 7012 term, or one too narrow for the purpose
    ABSOLUTE = "absolute"        # anything else: refused before the member is asked


RELAXABLE = frozenset({BreachKind.PURPOSE, BreachKind.DURATION, BreachKind.AGREEMENT})


@dataclass(frozen=True)
class Breach:
    kind: BreachKind
    reason: str                  # in plain words, for the member

    @property
    def relaxable(self) -> bool:
        return self.kind in RELAXABLE


@dataclass(frozen=True)
class StoredReceipt:
    id: str
    grant_id: str
    brand_id: str
    event: str
    token: str
    created_at: int


class ReceiptLog(Protocol):
    """What grants need of the ledger (consent/ledger.py): appends, in one transaction, and the
    next index, which receipts name before they are signed."""

    @property
    def origin(self) -> str: ...

    @property
    def size(self) -> int: ...

    def record_event(self, *, actor: str, details: EventDetails) -> LedgerEntry: ...

    def transaction(self) -> AbstractContextManager[Any]: ...


class ReceiptIssuer(Protocol):
    def build(self, grant: Grant, event: GrantEvent, *, at: int, principal_id: str,
              brand_name: str, receipt_id: str | None = None,
              replaces: Sequence[str] = (),
              ledger: LedgerPosition | None = None) -> dict[str, Any]: ...

    def sign(self, receipt: dict[str, Any]) -> str: ...


class ConsentService:
    def __init__(self, *, grants: GrantRepository, brands: BrandRepository, terms: TermsService,
                 agreements: AgreementService, receipts: ReceiptIssuer, ledger: ReceiptLog,
                 principal: Callable[[str], str], brand_subject: Callable[[str, str], str],
                 clock: Clock, observers: Sequence[GrantObserver] = ()) -> None:
        self._grants = grants
        self._brands = brands
        self._terms = terms
        self._agreements = agreements
        self._receipts = receipts
        self._ledger = ledger
        self.principal = principal              # the member in the ledger
        self._brand_subject = brand_subject     # (member, brand) -> the member in receipts
        self._clock = clock
        # Read at each event, so observers appended to the caller's list later are told too.
        self._observers = observers

    # -- the request, measured against the member's terms ------------------------------------
    def check(self, member_id: str, request: BrandRequest, *,
              assume_agreement: str | None = None) -> list[str]:
        """Why ``request`` breaks the member's terms; empty if the member may be asked."""
        return [b.reason for b in self.breaches(member_id, request,
                                                assume_agreement=assume_agreement)]

    def breaches(self, member_id: str, request: BrandRequest, *,
                 assume_agreement: str | None = None) -> list[Breach]:
        """What ``request`` breaks, each with its kind and reason; empty if the member may be
        asked. ``assume_agreement``: judge as if this IEEE 7012 term were agreed with the brand
        (one the brand accepts as standing policy, or one the member is about to agree)."""
        terms = self._terms.for_brand(member_id, request.brand_id)
        purpose = PURPOSE_BY_CODE.get(request.purpose)
        if purpose is None:
            return [Breach(BreachKind.ABSOLUTE, f"Unknown purpose {request.purpose!r}.")]
        found: list[Breach] = []

        def breach(kind: BreachKind, reason: str) -> None:
            found.append(Breach(kind, reason))

        if request.purpose not in terms.purposes:
            breach(BreachKind.PURPOSE, f"Your terms do not accept {purpose.label.lower()} "
                                       "at all.")
        term = AGREEMENT_BY_CODE.get(assume_agreement or "")
        if term is None:
            agreement = self._agreements.in_force(member_id, request.brand_id)
            term = AGREEMENT_BY_CODE[agreement.agreed] if agreement and agreement.agreed \
                else None
        if term is None:
            breach(BreachKind.AGREEMENT,
                   "There is no agreement on terms (IEEE 7012) with this brand yet.")
        elif not term.permits(purpose):
            breach(BreachKind.AGREEMENT,
                   f"{purpose.label} needs more than the agreed term {term.code} allows.")
        if terms.gpc_opt_out and purpose.sale_or_sharing:
            breach(BreachKind.ABSOLUTE, "You opted out of the sale and sharing of your data "
                                        "(GPC).")
        bad = sorted(s for s in request.fields if not is_selector(s))
        if bad or not request.fields:
            breach(BreachKind.ABSOLUTE, "The request names no fields, or fields that do not "
                                        "exist" + (f": {', '.join(bad[:3])}." if bad else "."))
        if not 1 <= request.days <= MAX_DAYS:
            breach(BreachKind.ABSOLUTE, f"It asks for {request.days} days; grants last 1 to "
                                        f"{MAX_DAYS} days.")
        elif request.days > terms.max_days:
            breach(BreachKind.DURATION, f"It asks for {request.days} days; your terms allow "
                                        f"at most {terms.max_days}.")
        if not 0 <= request.retention_days <= MAX_RETENTION_DAYS:
            breach(BreachKind.ABSOLUTE, "The promised retention is out of range.")
        if request.mode is Mode.AGGREGATE and not terms.aggregate_allowed:
            breach(BreachKind.ABSOLUTE, "Your terms do not allow aggregate-only use.")
        if request.onward_sharing:
            if term is None or not term.anonymised_third_party:
                breach(BreachKind.ABSOLUTE, "Onward sharing needs an agreed S3P term.")
            if request.mode is not Mode.AGGREGATE:
                breach(BreachKind.ABSOLUTE,
                       "Onward sharing is only for anonymised (aggregate) use.")
            if not request.third_party:
                breach(BreachKind.ABSOLUTE, "Onward sharing must name the third party.")
            if terms.gpc_opt_out:
                breach(BreachKind.ABSOLUTE, "You opted out of the sale and sharing of your "
                                            "data (GPC).")
        return found

    # -- giving, narrowing, withdrawing, expiring ----------------------------------------------
    def grant(self, member_id: str, request: BrandRequest, *, fields: Iterable[str] | None = None,
              jurisdiction: str = "EU", collection_method: str = "vrmvault member page"
              ) -> tuple[Grant, StoredReceipt]:
        """Record the member's grant (``fields``: what they left ticked, a subset)."""
        reasons = self.check(member_id, request)
        if reasons:
            raise ValidationError({"request": reasons})
        chosen = frozenset(request.fields if fields is None else fields)
        if not chosen or not all(is_selector(s) for s in chosen) or \
                not expand(chosen) <= expand(request.fields):
            raise ValidationError({"fields": ["Choose at least one of the fields asked for."]})
        agreement = self._agreements.in_force(member_id, request.brand_id)
        assert agreement is not None and agreement.agreed is not None
        now = int(self._clock())
        grant_id = "grant_" + os.urandom(12).hex()
        with self._grants.transaction():
            return self._insert(grant_id, member_id, request, chosen, agreement.agreed,
                                jurisdiction, collection_method, now)

    def _insert(self, grant_id: str, member_id: str, request: BrandRequest,
                chosen: frozenset[str], agreed: str, jurisdiction: str,
                collection_method: str, now: int) -> tuple[Grant, StoredReceipt]:
        # The live grants this one replaces (one live grant per member, brand, purpose and
        # thing given for).
        earlier = [g.id for g in self.replaced_by_new(
            member_id, request.brand_id, request.purpose,
            given_for=given_for(collection_method), now=now)]
        self._grants.insert(Grant(
            grant_id, member_id, request.brand_id, request.purpose, chosen, request.mode, now,
            now + request.days * DAY, request.retention_days, request.onward_sharing,
            request.third_party if request.onward_sharing else None, jurisdiction,
            collection_method, agreed, self._terms.get(member_id).version, GrantStatus.ACTIVE,
            None, 1, now, now))
        for old_id in earlier:
            self._replace(member_id, old_id, grant_id, now)
        grant = self.get(member_id, grant_id)
        return grant, self._issue(grant, GrantEvent.GIVEN, now, replaces=earlier,
                                  extra={"replaces": earlier} if earlier else None)

    def narrow(self, member_id: str, grant_id: str, *, fields: Iterable[str] | None = None,
               ends_at: int | None = None) -> tuple[Grant, StoredReceipt]:
        # Read, check and write under the write lock (BEGIN IMMEDIATE): two tabs or workers
        # narrowing one grant at once cannot each undo what the other removed.
        with self._grants.transaction():
            return self._narrow(member_id, grant_id, fields, ends_at)

    def _narrow(self, member_id: str, grant_id: str, fields: Iterable[str] | None,
                ends_at: int | None) -> tuple[Grant, StoredReceipt]:
        grant = self._active(member_id, grant_id)
        now = int(self._clock())
        new_fields = grant.fields if fields is None else frozenset(fields)
        new_end = grant.ends_at if ends_at is None else int(ends_at)
        errors = _narrowing_errors(grant, new_fields, new_end, now)
        if not errors and expand(new_fields) == grant.covered and new_end == grant.ends_at:
            errors["fields"] = ["Nothing changed: untick a field or choose an earlier end."]
        if errors:
            raise ValidationError(errors)
        self._grants.narrow(grant_id, fields=new_fields, ends_at=new_end, now=now)
        grant = self.get(member_id, grant_id)
        return grant, self._issue(grant, GrantEvent.NARROWED, now)

    def check_narrowing(self, member_id: str, grant_id: str, *,
                        fields: Iterable[str] | None = None, ends_at: int | None = None) -> None:
        """:class:`ValidationError` naming every rule a narrowing to these values breaks
        (that it changes nothing is left to :meth:`narrow`). Writes nothing."""
        grant = self._active(member_id, grant_id)
        errors = _narrowing_errors(
            grant, grant.fields if fields is None else frozenset(fields),
            grant.ends_at if ends_at is None else int(ends_at), int(self._clock()))
        if errors:
            raise ValidationError(errors)

    def withdraw(self, member_id: str, grant_id: str) -> tuple[Grant, StoredReceipt]:
        now = int(self._clock())
        with self._grants.transaction():   # checked and changed under the write lock
            self._active(member_id, grant_id)
            self._grants.withdraw(grant_id, now)
            grant = self.get(member_id, grant_id)
            return grant, self._issue(grant, GrantEvent.WITHDRAWN, now)

    def end_access(self, grant_id: str, cause: AccessEnd) -> StoredReceipt | None:
        """Record that the brand's access under ``grant_id`` ended for ``cause``; its receipt,
        or ``None`` if there was nothing to end (the grant is gone, no longer active, past its
        end, or its access had ended already). ``REVOKED_BY_BRAND`` ends the consent too
        (``released``, see the module docstring); any other cause leaves it standing."""
        now = int(self._clock())
        with self._grants.transaction():
            grant = self._grants.get(grant_id)
            if grant is None:
                return None
            if grant.status is not GrantStatus.ACTIVE or grant.ends_at <= now or \
                    grant.access_ended is not None:
                return None
            if cause is AccessEnd.REVOKED_BY_BRAND:
                self._grants.release(grant_id, cause, now)
                event = GrantEvent.RELEASED
            else:
                self._grants.end_access(grant_id, cause, now)
                event = GrantEvent.ACCESS_ENDED
            return self._issue(self.get(grant.member_id, grant_id), event, now,
                               extra={"reason": cause.value})

    def settle_duplicates(self) -> list[Grant]:
        """Replace every live grant that a newer live grant for the same member, brand,
        purpose and thing given for duplicates (approvals never make such pairs; a store
        written by an older approval may hold them), each with its receipt and ledger entry as
        an approval's replacement has; the grants replaced. Idempotent. A grant given for a
        community or a care case and one the brand's app holds are no duplicates: they live
        side by side (the module docstring)."""
        now = int(self._clock())
        replaced: list[Grant] = []
        for member_id, brand_id, purpose in self._grants.duplicated(now):
            with self._grants.transaction():
                by_what: dict[GivenFor, list[str]] = {}
                for grant in self._grants.live(member_id, brand_id, purpose, now):
                    by_what.setdefault(grant.given_for, []).append(grant.id)
                for live in by_what.values():   # oldest first; none left if settled meanwhile
                    replaced.extend(self._replace(member_id, old_id, live[-1], now)
                                    for old_id in live[:-1])
        return replaced

    def record_expiries(self) -> list[Grant]:
        """Give every grant that ended a receipt and a ledger entry, once. (Decisions deny
        expired grants by their end time whether or not this has run.)"""
        now = int(self._clock())
        recorded = []
        for grant in self._grants.ended_unrecorded(now):
            with self._grants.transaction():
                # Only the run that flips the flag issues the receipt (concurrent sweeps).
                if self._grants.record_expiry(grant.id):
                    self._issue(grant, GrantEvent.EXPIRED, now)
                    recorded.append(grant)
        return recorded

    # -- reading ------------------------------------------------------------------------------
    def get(self, member_id: str, grant_id: str) -> Grant:
        grant = self._grants.get(grant_id, member_id)
        if grant is None:
            raise NotFoundError("There is no such grant among yours.")
        return grant

    def replaced_by_new(self, member_id: str, brand_id: str, purpose: str, *,
                        given_for: GivenFor, now: float | None = None) -> list[Grant]:
        """The grants a new grant to ``brand_id`` for ``purpose``, given for ``given_for``,
        would replace: the member's live ones given for the same (consent in force and not
        past its end, the brand's access live or not)."""
        return [g for g in self._grants.live(member_id, brand_id, purpose,
                                             int(self._clock() if now is None else now))
                if g.given_for is given_for]

    def for_member(self, member_id: str) -> list[Grant]:
        return self._grants.for_member(member_id)

    def receipts(self, member_id: str) -> list[StoredReceipt]:
        return self._grants.receipts(member_id)

    def receipt(self, member_id: str, receipt_id: str) -> StoredReceipt:
        for receipt in self.receipts(member_id):
            if receipt.id == receipt_id:
                return receipt
        raise NotFoundError(NO_SUCH_RECEIPT)

    # -- helpers ------------------------------------------------------------------------------
    def _replace(self, member_id: str, old_id: str, new_id: str, now: int) -> Grant:
        self._grants.replace(old_id, new_id, now)
        old = self.get(member_id, old_id)
        self._issue(old, GrantEvent.REPLACED, now, extra={"replaced_by": new_id})
        return old

    def _active(self, member_id: str, grant_id: str) -> Grant:
        grant = self.get(member_id, grant_id)
        if grant.status is not GrantStatus.ACTIVE or grant.ends_at <= self._clock():
            raise ValidationError({"grant": ["This grant is no longer active."]})
        return grant

    def _issue(self, grant: Grant, event: GrantEvent, now: int, *, replaces: Sequence[str] = (),
               extra: dict[str, Any] | None = None) -> StoredReceipt:
        """Append the grant change to the ledger, sign and store the receipt, tell the
        observers, then append the receipt's own ledger entry (details: grant ids and reason
        codes, the receipt's id and digest). Called inside the data transaction, and all of it
        inside one ledger transaction: if an observer or the ledger refuses, the grant change,
        its receipt, the observers' writes and both entries roll back.

        The receipt is signed under the ledger's write lock, so it names the index its entry
        gets (``ledgerPosition``, consent/receipt_position.py); that entry's actor is the
        receipt's principal (the brand's pairwise pseudonym), since the entry is handed to
        the receipt's holders, the brand included."""
        brand = self._brands.get(grant.brand_id)
        receipt_id = str(uuid.uuid4())   # Kantara: consentReceiptID is a UUID
        subject = self._brand_subject(grant.member_id, grant.brand_id)   # never the ledger's
        actor = self.principal(grant.member_id)
        details = _EVENT_DETAILS[event](
            grant=grant.id, brand=grant.brand_id, purpose=grant.purpose,
            fields=sorted(grant.fields), mode=grant.mode.value, ends_at=grant.ends_at,
            version=grant.version, **(extra or {}))
        with self._ledger.transaction():
            self._ledger.record_event(actor=actor, details=details)
            position = LedgerPosition(self._ledger.origin, self._ledger.size)
            document = self._receipts.build(grant, event, at=now, principal_id=subject,
                                            brand_name=brand.name if brand else grant.brand_id,
                                            receipt_id=receipt_id, replaces=replaces,
                                            ledger=position)
            token = self._receipts.sign(document)
            receipt = StoredReceipt(receipt_id, grant.id, grant.brand_id, event.value, token,
                                    now)
            self._grants.add_receipt(grant.member_id, receipt)
            for observer in self._observers:
                observer(grant, event, now)
            entry = self._ledger.record_event(actor=subject, details=ReceiptIssued(
                receipt=receipt_id, grant=grant.id, sha256=token_digest(token)))
            if entry.seq != position.index:
                raise LedgerIntegrityError(
                    f"the receipt's ledger entry went to {entry.seq}, not {position.index}",
                    seq=entry.seq)
        return receipt


def _narrowing_errors(grant: Grant, new_fields: frozenset[str], new_end: int, now: int
                      ) -> dict[str, list[str]]:
    """Narrowing only takes away: fewer fields, an earlier end (not in the past)."""
    errors: dict[str, list[str]] = {}
    if not new_fields or not expand(new_fields) <= grant.covered or \
            not all(is_selector(s) for s in new_fields):
        errors["fields"] = ["Keep at least one field ticked; you can only remove fields."]
    if not now < new_end <= grant.ends_at:
        errors["ends_at"] = ["Choose an end no later than the current one, and not in the past."]
    return errors
