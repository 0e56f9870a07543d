"""A member's personal terms and the IEEE 7012 (MyTerms) agreements made under them.

The member is the first party and proffers a term from the P7012 roster; a brand accepts it,
makes at most one counter-offer from the same roster, or rejects it; the member accepts or
rejects a counter-offer, and may withdraw their offer while it waits for the brand. On
agreement both sides hold one canonical record with one SHA-256 hash, signed by the vault. The
record names the member by the brand's pairwise pseudonym (the id the brand API gives the
brand), never by an id another brand also receives. Every offer, answer and withdrawal is a
ledger entry.

Beyond the standing terms a member may accept, for one brand only, a purpose or a longer grant
that a request from that brand needs (the first contact with a brand). Such a change
is recorded with a signed receipt and a ``consent:terms:changed`` entry naming the brand, and
is measured against the term agreed with that brand (:meth:`TermsService.for_brand`).

Invariants: new members have nothing accepted (data protection by default); terms can only
name purposes the proffered agreement permits (a purpose needing profiling cannot stand under
SD-BASE-A); a GPC signal sets the sale/sharing opt-out and later settings cannot silently clear
it, only an explicit change by the member.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
import uuid
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from vault.brands import Brand
from vault.clock import Clock
from vault.errors import ConflictError, NotFoundError, ValidationError
from vault.repositories import BrandRepository

from .event_details import (
    AgreementCountered,
    AgreementProffered,
    AgreementRejected,
    AgreementWithdrawn,
    TermsAgreed,
    TermsChanged,
)
from .events import ABSENT, EventDetails
from .model import (
    AgreementRecord,
    AgreementStatus,
    AgreementVia,
    BrandTerms,
    PersonalTerms,
    TermsReceipt,
)
from .repositories import AgreementRepository, TermsRepository
from .vocabulary import (
    AGREEMENT_BY_CODE,
    DEFAULT_AGREEMENT,
    PURPOSE_BY_CODE,
    VOCABULARY_VERSION,
)

MAX_DAYS = 3650
#: What a member is told of a receipt id that is none of theirs (or none at all).
NO_SUCH_RECEIPT = "There is no such receipt among yours."
Signer = Callable[[dict[str, Any]], str]


class EventLog(Protocol):
    def record_event(self, *, actor: str, details: EventDetails) -> Any: ...


def canonical(document: dict[str, Any]) -> str:
    """The one byte-exact JSON form both sides hash: sorted keys, no spaces, UTF-8."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class TermsService:
    def __init__(self, *, terms: TermsRepository, brands: BrandRepository, clock: Clock,
                 ledger: EventLog, principal: Callable[[str], str],
                 signer: Signer | None = None) -> None:
        self._terms = terms
        self._brands = brands
        self._clock = clock
        self._ledger = ledger
        self._principal = principal
        self._signer = signer          # signs the receipts of changes for one brand

    def get(self, member_id: str) -> PersonalTerms:
        return self._terms.standing(member_id) or PersonalTerms(member_id)

    def for_brand(self, member_id: str, brand_id: str) -> PersonalTerms:
        """The terms a request of ``brand_id`` is measured against: the standing terms with
        what the member accepted for this brand only (its purposes added, the longer of the two
        longest grants). One query, as :meth:`get`: the decision point reads these."""
        standing, for_brand = self._terms.for_brand(member_id, brand_id)
        terms = standing or PersonalTerms(member_id)
        if for_brand is None:
            return terms
        return dataclasses.replace(terms, purposes=terms.purposes | for_brand.purposes,
                                   max_days=max(terms.max_days, for_brand.max_days))

    def brand_terms(self, member_id: str) -> list[BrandTerms]:
        """What the member accepted for single brands, one record per brand."""
        return self._terms.brand_terms(member_id)

    def receipts(self, member_id: str) -> list[TermsReceipt]:
        return self._terms.receipts(member_id)

    def receipt(self, member_id: str, receipt_id: str) -> TermsReceipt:
        for receipt in self.receipts(member_id):
            if receipt.id == receipt_id:
                return receipt
        raise NotFoundError(NO_SUCH_RECEIPT)

    def accept_for_brand(self, member_id: str, brand_id: str, *, agreement: str,
                         purposes: Iterable[str] = (), max_days: int | None = None
                         ) -> TermsReceipt:
        """Accept ``purposes`` and grants of up to ``max_days`` from ``brand_id`` only, under
        the IEEE 7012 term ``agreement`` agreed (or being agreed) with that brand, which must
        permit each purpose. Issues a signed receipt and a ``consent:terms:changed`` entry;
        :class:`ValidationError` if nothing would change or a value breaks a rule."""
        if self._signer is None:
            raise RuntimeError("accept_for_brand needs a receipt signer")
        added = frozenset(purposes)
        term, errors, refused = _term_and_purposes(agreement, added)
        if term is not None and refused:
            errors["purposes"] = [f"{', '.join(refused)} needs more than the term "
                                  f"{term.code} allows."]
        if max_days is not None and (isinstance(max_days, bool) or not isinstance(max_days, int)
                                     or not 1 <= max_days <= MAX_DAYS):
            errors["max_days"] = [f"A whole number of days from 1 to {MAX_DAYS}."]
        if errors:
            raise ValidationError(errors)
        with self._terms.transaction():   # read-modify-write under the write lock
            brand = self._brands.get(brand_id)
            if brand is None:
                raise NotFoundError("no such brand")
            old = self._terms.brand_terms_for(member_id, brand_id) or BrandTerms(member_id,
                                                                                 brand_id)
            new_purposes = old.purposes | added
            new_days = max(old.max_days, max_days or 0)
            if new_purposes == old.purposes and new_days == old.max_days:
                raise ValidationError({"terms": ["You accepted this for the brand already."]})
            version = old.version + 1
            now = int(self._clock())
            self._terms.save_brand_terms(BrandTerms(member_id, brand_id, new_purposes, new_days,
                                                    version, now))
            assert term is not None
            return self._brand_receipt(member_id, brand, version, now, {
                "purposes": [{"code": p, "iri": PURPOSE_BY_CODE[p].iri,
                              "label": PURPOSE_BY_CODE[p].label} for p in sorted(new_purposes)],
                "purposes_added": sorted(new_purposes - old.purposes),
                "max_days": new_days,
                "agreement": {"code": term.code, "iri": term.iri},
            }, purposes=sorted(new_purposes), max_days=new_days, agreement=term.code)

    def remove_for_brand(self, member_id: str, brand_id: str) -> TermsReceipt:
        """Take back everything accepted for ``brand_id`` only: its requests (and reads) are
        measured against the standing terms again from the next one. A signed receipt and a
        ``consent:terms:changed`` entry; :class:`NotFoundError` if nothing was accepted."""
        if self._signer is None:
            raise RuntimeError("remove_for_brand needs a receipt signer")
        with self._terms.transaction():
            old = self._terms.brand_terms_for(member_id, brand_id)
            brand = self._brands.get(brand_id)
            if old is None or brand is None:
                raise NotFoundError("nothing accepted for this brand")
            self._terms.remove_brand_terms(member_id, brand_id)
            return self._brand_receipt(member_id, brand, old.version + 1, int(self._clock()), {
                "purposes": [],
                "purposes_removed": sorted(old.purposes),
                "max_days": 0,
            }, purposes=[], max_days=0, removed=True)

    def _brand_receipt(self, member_id: str, brand: Brand, version: int, now: int,
                       claims: dict[str, Any], **entry: Any) -> TermsReceipt:
        """Sign, keep and record a change of what the member accepted for ``brand`` only:
        the receipt holds ``claims`` (what was accepted or taken back), the ledger entry
        ``entry`` (the same, as codes), both the version and the receipt's hash. The
        caller's transaction holds the write lock."""
        assert self._signer is not None
        receipt_id = str(uuid.uuid4())
        token = self._signer({
            "type": "vrmvault-terms-receipt",
            "receipt_id": receipt_id,
            "issued_at": _iso(now),
            "member": self._principal(member_id),
            "brand": {"id": brand.id, "name": brand.name},
            "scope": "this brand only",
            **claims,
            "version": version,
            "vocabulary": VOCABULARY_VERSION,
        })
        receipt = TermsReceipt(receipt_id, member_id, brand.id, version, token, now)
        self._terms.add_receipt(receipt)
        self._ledger.record_event(actor=self._principal(member_id), details=TermsChanged(
            brand=brand.id, version=version, receipt=receipt_id,
            sha256=hashlib.sha256(token.encode()).hexdigest(), **entry))
        return receipt

    def update(self, member_id: str, *, agreement: str, purposes: Iterable[str], max_days: Any,
               aggregate_allowed: bool, sale_sharing_opt_out: bool | None = None
               ) -> PersonalTerms:
        """Replace the member's standing terms, all or nothing; :class:`ValidationError`."""
        purpose_set = set(purposes)
        days = self.check(agreement=agreement, purposes=purpose_set, max_days=max_days)
        with self._terms.transaction():   # read-modify-write under the write lock
            current = self.get(member_id)
            opt_out = current.gpc_opt_out if sale_sharing_opt_out is None \
                else sale_sharing_opt_out
            return self._save(current, agreement=agreement, purposes=frozenset(purpose_set),
                              max_days=days, aggregate_allowed=bool(aggregate_allowed),
                              gpc_opt_out=opt_out,
                              gpc_at=current.gpc_at if opt_out else None)

    @staticmethod
    def check(*, agreement: Any, purposes: Iterable[str], max_days: Any) -> int:
        """The longest grant in days if these terms may be saved, else one
        :class:`ValidationError` naming every field that breaks a rule. Writes nothing."""
        purpose_set = set(purposes)
        chosen, errors, refused = _term_and_purposes(agreement, purpose_set)
        if refused:
            errors["purposes"] = [
                f"{', '.join(refused)} needs more than the term you offer allows. "
                "Choose a broader term or untick it."]
        try:
            if isinstance(max_days, bool) or not isinstance(max_days, int | str):
                raise TypeError
            days = int(max_days)   # a str must be a whole number; int("12.9") raises
            if not 0 <= days <= MAX_DAYS:
                raise ValueError
        except (TypeError, ValueError):
            errors["max_days"] = [f"Enter a whole number of days from 0 to {MAX_DAYS}."]
            days = 0
        if errors:
            raise ValidationError(errors)
        return days

    def record_gpc(self, member_id: str) -> bool:
        """A GPC signal from this member's browser: opt out of sale/sharing. True if new."""
        with self._terms.transaction():
            current = self.get(member_id)
            if current.gpc_opt_out and current.gpc_at is not None:
                return False   # already opted out by GPC
            # New, or an opt-out the member set by hand: from now on it stands via GPC too.
            self._save(current, agreement=current.agreement, purposes=current.purposes,
                       max_days=current.max_days,
                       aggregate_allowed=current.aggregate_allowed,
                       gpc_opt_out=True, gpc_at=int(self._clock()), via_gpc=True)
            return True

    def _save(self, current: PersonalTerms, *, via_gpc: bool = False, **values: Any
              ) -> PersonalTerms:
        now = int(self._clock())
        terms = PersonalTerms(current.member_id, version=current.version + 1, updated_at=now,
                              **values)
        self._terms.save_standing(terms)
        self._ledger.record_event(actor=self._principal(terms.member_id), details=TermsChanged(
            version=terms.version, agreement=terms.agreement, purposes=sorted(terms.purposes),
            max_days=terms.max_days, aggregate_allowed=terms.aggregate_allowed,
            sale_sharing_opt_out=terms.gpc_opt_out, via_gpc=via_gpc))
        return terms


class AgreementService:
    """The MyTerms exchange between a member and a brand."""

    def __init__(self, *, agreements: AgreementRepository, brands: BrandRepository,
                 terms: TermsService, clock: Clock, signer: Signer,
                 principal: Callable[[str], str], ledger: EventLog,
                 subject: Callable[[str, str], str]) -> None:
        self._agreements = agreements
        self._brands = brands
        self._terms = terms
        self._clock = clock
        self._signer = signer
        self._principal = principal   # member id -> the pseudonym of the ledger
        self._subject = subject       # (member id, brand id) -> the brand's pairwise pseudonym
        self._ledger = ledger

    def proffer(self, member_id: str, brand_id: str, *, term: str | None = None,
                via: AgreementVia = AgreementVia.MEMBER) -> AgreementRecord:
        """The member offers ``brand_id`` a term: their standing one unless ``term`` names
        another from the roster (a term offered to this brand only); ``via`` a join of one of
        the brand's communities, the offer and the agreement it makes are never the brand's
        to list or answer (:meth:`for_brand`), and its ledger entry says so (a restore makes it
        again the same way)."""
        code = self._terms.get(member_id).agreement if term is None else term
        if code not in AGREEMENT_BY_CODE:
            raise ValidationError({"agreement": ["Choose one of the terms on the list."]})
        with self._agreements.transaction():   # checked and written under the write lock
            if not self._brands.exists(brand_id):
                raise NotFoundError("no such brand")
            if self.open_offer(member_id, brand_id) is not None:
                raise ConflictError("An offer to this brand is already waiting for an answer.")
            # Offering the term the brand agreed already would only ask it to sign the same
            # thing twice (and list a pending offer above the agreement it repeats).
            agreed = self.in_force(member_id, brand_id)
            if agreed is not None and agreed.agreed == code:
                raise ConflictError("This brand has agreed these terms with you already.")
            now = int(self._clock())
            agreement_id = "agr_" + os.urandom(12).hex()
            self._agreements.insert(agreement_id, member_id, brand_id, code, now, via=via)
            self._ledger.record_event(
                actor=self._principal(member_id),
                details=AgreementProffered(
                    agreement=agreement_id, brand=brand_id, term=code,
                    via=ABSENT if via is AgreementVia.MEMBER else via.value))
            return self.get(agreement_id)

    def open_offer(self, member_id: str, brand_id: str) -> AgreementRecord | None:
        """The member's offer to ``brand_id`` still waiting for an answer (theirs or the
        brand's), if there is one: at most one is open at a time."""
        return self._agreements.open_offer(member_id, brand_id)

    def for_brand(self, brand_id: str, *, status: AgreementStatus | None = None,
                  limit: int = 50, offset: int = 0) -> list[AgreementRecord]:
        """The brand's agreements with members, newest change first: those the members
        offered it (never one a community join made)."""
        return self._agreements.for_brand(brand_id, status=status, limit=limit, offset=offset)

    def subject(self, record: AgreementRecord) -> str:
        """How the record's brand knows its member: the brand's pairwise pseudonym."""
        return self._subject(record.member_id, record.brand_id)

    # Each answer checks the offer's state and changes it under the write lock, so two
    # answers to one offer (a second counter-offer, accept racing reject) cannot both win.
    def brand_accepts(self, agreement_id: str, brand_id: str) -> AgreementRecord:
        with self._agreements.transaction():
            record = self._brands_open(agreement_id, brand_id, AgreementStatus.PROFFERED)
            return self._agree(record, record.proffered)

    def brand_counters(self, agreement_id: str, brand_id: str, code: str) -> AgreementRecord:
        with self._agreements.transaction():
            record = self._brands_open(agreement_id, brand_id, AgreementStatus.PROFFERED)
            if code not in AGREEMENT_BY_CODE:
                raise ValidationError(
                    {"agreement": ["A counter-offer must come from the roster."]})
            if code == record.proffered:
                raise ValidationError({"agreement": ["That is the term offered: accept it."]})
            self._agreements.counter(agreement_id, code, int(self._clock()))
            self._ledger.record_event(
                actor="brand:" + brand_id,
                details=AgreementCountered(agreement=agreement_id, brand=brand_id, term=code))
            return self.get(agreement_id)

    def brand_rejects(self, agreement_id: str, brand_id: str) -> AgreementRecord:
        with self._agreements.transaction():
            self._brands_open(agreement_id, brand_id, AgreementStatus.PROFFERED)
            self._agreements.reject(agreement_id, int(self._clock()))
            self._ledger.record_event(
                actor="brand:" + brand_id,
                details=AgreementRejected(agreement=agreement_id, brand=brand_id, by="brand"))
            return self.get(agreement_id)

    def member_decides(self, agreement_id: str, member_id: str, *, accept: bool
                       ) -> AgreementRecord:
        with self._agreements.transaction():   # accept and reject cannot both win
            return self._member_decides(agreement_id, member_id, accept)

    def _member_decides(self, agreement_id: str, member_id: str, accept: bool
                        ) -> AgreementRecord:
        try:
            record = self.get(agreement_id)
        except NotFoundError:
            record = None
        # A missing agreement and another member's answer alike: nothing tells them apart.
        if record is None or record.member_id != member_id \
                or record.status is not AgreementStatus.COUNTERED:
            raise NotFoundError("no counter-offer waiting for you")
        if not accept:
            self._agreements.reject(agreement_id, int(self._clock()))
            self._ledger.record_event(
                actor=self._principal(member_id),
                details=AgreementRejected(agreement=agreement_id, brand=record.brand_id,
                                          by="member"))
            return self.get(agreement_id)
        assert record.countered is not None
        return self._agree(record, record.countered)

    def member_withdraws(self, agreement_id: str, member_id: str) -> AgreementRecord:
        """The member takes back their offer while it waits for the brand's answer; the brand
        can no longer answer it (it sees it ``withdrawn``). An offer the brand answered already
        is the member's to answer in turn, not to withdraw: :class:`ConflictError`."""
        with self._agreements.transaction():   # the brand's answer or the withdrawal, not both
            record = self.get(agreement_id)
            if record.member_id != member_id:
                raise NotFoundError("no such agreement")
            if record.status is not AgreementStatus.PROFFERED:
                raise ConflictError(f"This offer is {record.status} already: only an offer "
                                    "still waiting for the brand's answer can be withdrawn.")
            self._agreements.withdraw(agreement_id, int(self._clock()))
            self._ledger.record_event(
                actor=self._principal(member_id),
                details=AgreementWithdrawn(agreement=agreement_id, brand=record.brand_id,
                                           term=record.proffered))
            return self.get(agreement_id)

    def get(self, agreement_id: str) -> AgreementRecord:
        record = self._agreements.get(agreement_id)
        if record is None:
            raise NotFoundError("no such agreement")
        return record

    def for_member(self, member_id: str) -> list[AgreementRecord]:
        return self._agreements.for_member(member_id)

    def in_force(self, member_id: str, brand_id: str) -> AgreementRecord | None:
        """The latest agreement stands; of two in one second, the one written last."""
        return self._agreements.in_force(member_id, brand_id)

    def _brands_open(self, agreement_id: str, brand_id: str, status: AgreementStatus
                     ) -> AgreementRecord:
        record = self.get(agreement_id)
        if record.brand_id != brand_id:
            raise NotFoundError("no such agreement")
        if record.status is not status:
            raise ConflictError(f"This offer is {record.status}; it cannot be answered again.")
        return record

    def _agree(self, record: AgreementRecord, code: str) -> AgreementRecord:
        now = int(self._clock())
        document = agreement_document(record, code, self._subject(record.member_id,
                                                                  record.brand_id), now)
        text = canonical(document)
        digest = hashlib.sha256(text.encode()).hexdigest()
        signature = self._signer(document | {"sha256": digest})
        with self._agreements.transaction():
            self._agreements.agree(record.id, term=code, record=text, record_hash=digest,
                                   signature=signature, now=now)
            self._ledger.record_event(
                actor=self._principal(record.member_id),
                details=TermsAgreed(agreement=record.id, brand=record.brand_id, term=code,
                                    sha256=digest))
        return self.get(record.id)



def agreement_document(record: AgreementRecord, code: str, first_party: str,
                       agreed_at: int) -> dict[str, Any]:
    """The record both sides of an agreement hold, as agreed on ``code`` at ``agreed_at``
    (``first_party``: the brand's pairwise pseudonym of the member); its canonical form's
    SHA-256 is the one the ledger's ``consent:terms:agreed`` entry holds."""
    term = AGREEMENT_BY_CODE[code]
    return {
        "type": "ieee-7012-agreement",
        "agreement_id": record.id,
        "first_party": first_party,
        "second_party": record.brand_id,
        "term": {"code": term.code, "iri": term.iri, "summary": term.summary},
        "proffered": record.proffered,
        "countered": record.countered,
        "vocabulary": VOCABULARY_VERSION,
        "agreed_at": agreed_at,
    }


def _term_and_purposes(agreement: Any, purposes: Iterable[str]
                       ) -> tuple[Any, dict[str, list[str]], list[str]]:
    """The IEEE 7012 term named ``agreement`` (or ``None``), the errors of an unknown term or
    purpose, and the labels of the known purposes that term does not permit (for the caller to
    word, empty when the term or a purpose is unknown)."""
    errors: dict[str, list[str]] = {}
    term = AGREEMENT_BY_CODE.get(agreement) if isinstance(agreement, str) else None
    if term is None:
        errors["agreement"] = ["Choose one of the terms on the list."]
    unknown = sorted(p for p in purposes if p not in PURPOSE_BY_CODE)
    if unknown:
        errors["purposes"] = ["Unknown purpose: " + ", ".join(unknown[:3])]
        return term, errors, []
    refused = [] if term is None else [PURPOSE_BY_CODE[p].label for p in sorted(purposes)
                                       if not term.permits(PURPOSE_BY_CODE[p])]
    return term, errors, refused


def _iso(seconds: int) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def default_terms(member_id: str) -> PersonalTerms:
    return PersonalTerms(member_id, DEFAULT_AGREEMENT)
