"""Intent casting's service: members cast intents, brands list them and answer with offers.

Invariants:
- A brand sees an intent only while it is open and unexpired, in a category the brand is
  registered for, and the member has not blocked the brand; always under that brand's own
  pseudonym of the intent (``intents/pseudonyms.py``), never with the member or the fields the
  member would reveal. Expiry counts at once, before the keeper records it.
- What the member wrote and what a brand wrote to the member is sealed under the member's key.
- The ledger holds ids, categories and pseudonyms, never text: publication, every change,
  every intent a brand was shown (through the brand's log: the gateway's access spool), every
  offer and what became of it, every report and block. The reveal on acceptance is a consent
  grant with its receipt and its own ledger entry, like any other.
- Acceptance is all or nothing, under the data store's write lock: the offer is claimed while
  open, the grant is given, the intent is fulfilled and its other open offers declined.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

from consent.event_details import (
    IntentBrandBlocked,
    IntentBrandUnblocked,
    IntentChanged,
    IntentListed,
    IntentPublished,
    OfferAccepted,
    OfferDeclined,
    OfferExpired,
    OfferReceived,
    OfferReported,
    OfferWithdrawn,
    SpamReportDecided,
)
from consent.events import EventDetails
from consent.grants import BrandRequest, BreachKind, ConsentService, StoredReceipt
from consent.model import AgreementStatus, Grant
from consent.terms import AgreementService, TermsService
from vault.brands import BrandDirectory
from vault.catalog import clean_text
from vault.clock import Clock
from vault.errors import ConflictError, NotFoundError, ValidationError
from vault.keys import KeyStore
from vault.sealing import associated_data

from .catalog import (
    CATEGORY_BY_ID,
    check_category,
    check_currency,
    check_region_filter,
    format_amount,
    parse_amount,
)
from .cursors import IntentCursors
from .drafts import CheckedDraft, check_draft
from .errors import LimitExceededError
from .model import (
    LIVE,
    BrandOffer,
    Intent,
    IntentDraft,
    IntentPage,
    IntentStatus,
    Limits,
    ListedIntent,
    Offer,
    OfferStatus,
    ReportStatus,
    SpamReport,
)
from .pseudonyms import IntentPseudonyms
from .repositories import IntentRepository, IntentRow, ListingFilter, OfferRow, ReportRow

DAY = 86_400
MAX_TERMS = 2000
MAX_MESSAGE = 1000
MAX_REASON = 500
MAX_OFFER_DAYS = 90
# An offer open for less than this would expire before its member could see it and act: a
# validity of a second or two was accepted once.
MIN_OFFER_SECONDS = 3600
MAX_PAGE = 100
REVEAL_PURPOSE = "dpv:ServiceProvision"
INTENT_AGREEMENT = "PDC-INTENT"
OFFER_SORTS = {"price": lambda o: (o.price, o.created_at),
               "-price": lambda o: (-o.price, o.created_at),
               "newest": lambda o: (-o.created_at, o.id),
               "valid_until": lambda o: (-o.valid_until, o.price)}
NO_INTENT = "There is no such intent, or it is not open to this brand."
NO_OFFER = "There is no such offer."
_TABLE = "intents"


class IntentObserver(Protocol):
    """Told inside the data store's write transaction (an outbox row commits with the change
    or not at all). ``listed_to(brand_id)`` is the intent as that brand would list it, or
    NotFoundError for a brand that may not see it (blocked by the member, or not of its
    category)."""

    def intent_published(self, intent: Intent,
                         listed_to: Callable[[str], ListedIntent]) -> None: ...

    def offer_decided(self, offer: BrandOffer, brand_id: str) -> None:
        """``offer`` as its brand sees it, without its terms and message (left empty: no
        event carries them, and once an erasure began the member's key that seals them is
        gone)."""


#: How the service records what a brand did or was shown: ``(details, actor, at)``. The gateway
#: passes its access spool (merged into the ledger within the spool's delay); tools the ledger.
ListingLog = Callable[[EventDetails, str, int], None]


#: Why an offer cannot be accepted or reported (again): the pages say it before a form error,
#: since the offer's form is gone from the page.
OFFER_NOT_OPEN = "This offer is no longer open."
REPORTED_ALREADY = "You reported this offer already."


class IntentService:
    def __init__(self, *, intents: IntentRepository, keys: KeyStore, brands: BrandDirectory,
                 grants: ConsentService, agreements: AgreementService, terms: TermsService,
                 ledger: Any, listing_log: ListingLog, principal: Callable[[str], str],
                 brand_subject: Callable[[str, str], str], sign: Callable[[dict[str, Any]], str],
                 issuer: str, pseudonyms: IntentPseudonyms, cursors: IntentCursors, clock: Clock,
                 limits: Limits | None = None, observers: Sequence[IntentObserver] = ()) -> None:
        self._intents = intents
        self._keys = keys
        self._brands = brands
        self._grants = grants
        self._agreements = agreements
        self._terms = terms
        self._ledger = ledger
        self._listing_log = listing_log
        self._principal = principal
        self._brand_subject = brand_subject
        self._sign = sign
        self._issuer = issuer
        self._pseudonyms = pseudonyms
        self._cursors = cursors
        self._clock = clock
        self.limits = limits or Limits()
        self._observers = observers

    # == the member's side ===================================================================
    def cast(self, member_id: str, draft: IntentDraft) -> Intent:
        now = self._now()
        row = self.prepared(member_id, draft, now=now)
        intent_id = row.id
        with self._intents.transaction():
            num = self._intents.insert(row)
            intent = self._intent(self._stored(num))
            self._record(member_id, IntentPublished(intent=intent_id, category=intent.category))
            for observer in self._observers:
                # Through the same check as the API's lookup: a brand the member blocked, or
                # not registered for the category, is refused (NotFoundError), never shown.
                observer.intent_published(intent, lambda brand_id: self._listed(
                    self._listable_num(brand_id, num), brand_id, 0))
        return intent

    def today(self) -> dt.date:
        """The UTC day the service's clock is in: the day a draft is judged against."""
        return _day(self._now())

    def prepared(self, member_id: str, draft: IntentDraft, *, now: int) -> IntentRow:
        """The row a cast of ``draft`` at ``now`` stores: checked, its texts sealed under the
        member's key (a bulk loader inserts these through the repository, as the bench does)."""
        checked = check_draft(draft, today=_day(now))
        return self._row(0, "int_" + os.urandom(12).hex(), member_id, checked,
                         IntentStatus.OPEN, now, now)

    def edit(self, member_id: str, intent_id: str, draft: IntentDraft) -> Intent:
        now = self._now()
        with self._intents.transaction():
            row = self._own(member_id, intent_id)
            if row.status not in LIVE:
                raise ConflictError(f"This intent is {row.status}: it can no longer be edited.")
            checked = check_draft(draft, today=_day(now),
                                  kept_start=dt.date.fromisoformat(row.window_from))
            self._intents.update(self._row(row.num, row.id, member_id, checked,
                                           IntentStatus(row.status), row.created_at, now))
            self._record(member_id, IntentChanged(intent=row.id, change="edited"))
            return self._intent(self._stored(row.num))

    def pause(self, member_id: str, intent_id: str) -> Intent:
        return self._move(member_id, intent_id, IntentStatus.PAUSED, (IntentStatus.OPEN,),
                          "paused")

    def resume(self, member_id: str, intent_id: str) -> Intent:
        return self._move(member_id, intent_id, IntentStatus.OPEN, (IntentStatus.PAUSED,),
                          "resumed")

    def withdraw(self, member_id: str, intent_id: str) -> Intent:
        return self._move(member_id, intent_id, IntentStatus.WITHDRAWN, LIVE, "withdrawn")

    def for_member(self, member_id: str) -> list[Intent]:
        return [self._intent(row) for row in self._intents.for_member(member_id)]

    def get(self, member_id: str, intent_id: str) -> Intent:
        return self._intent(self._own(member_id, intent_id))

    def offers(self, member_id: str, intent_id: str, *, sort: str = "price") -> list[Offer]:
        if sort not in OFFER_SORTS:
            raise ValidationError({"sort": ["Sort by " + ", ".join(OFFER_SORTS) + "."]})
        row = self._own(member_id, intent_id)
        return sorted((self._offer(o) for o in self._intents.offers_on(row.num)),
                      key=OFFER_SORTS[sort])

    def offer(self, member_id: str, offer_id: str) -> Offer:
        return self._offer(self._own_offer(member_id, offer_id))

    def signed_offer(self, member_id: str, offer_id: str) -> str:
        return self.offer(member_id, offer_id).signed

    def accept(self, member_id: str, offer_id: str, *, fields: Iterable[str], days: int = 30
               ) -> tuple[Offer, Grant, StoredReceipt]:
        """Accept an open offer, revealing ``fields`` (a non-empty subset of what the intent
        allowed) to its brand for ``days``: a consent grant with its receipt. The brand
        accepted ``PDC-INTENT`` by answering the intent: with no agreement in force between
        the two, that agreement is recorded first. The intent is fulfilled and its other open
        offers are declined."""
        now = self._now()
        chosen = tuple(dict.fromkeys(fields))
        with self._intents.transaction():
            offer = self._own_offer(member_id, offer_id)
            intent = self._stored(offer.intent_num)
            if offer.status != OfferStatus.OPEN or offer.valid_until <= now:
                raise ConflictError(OFFER_NOT_OPEN)
            if intent.status not in LIVE or intent.expires_at <= now:
                raise ConflictError(f"This intent is {intent.status}: its offers can no longer"
                                    " be accepted.")
            allowed = json.loads(intent.reveal_fields)
            if not allowed:
                raise ValidationError({"fields": ["This intent reveals nothing: edit it to "
                                                  "allow a field before you accept."]})
            if not chosen or not set(chosen) <= set(allowed):
                raise ValidationError({"fields": ["Choose at least one of the fields you "
                                                  "allowed for this intent."]})
            request = BrandRequest(offer.brand_id, REVEAL_PURPOSE, frozenset(chosen), days=days)
            self._settle_terms(member_id, request)
            grant, receipt = self._grants.grant(member_id, request,
                                                collection_method="vrmvault intent offer")
            self._intents.decide_offer(offer.id, OfferStatus.ACCEPTED, now, grant_id=grant.id,
                                       fields=json.dumps(sorted(chosen)))
            self._record(member_id, OfferAccepted(offer=offer.id, intent=intent.id,
                                                  brand=offer.brand_id, grant=grant.id))
            self._tell(offer.id)
            for other in self._intents.open_offers_on(intent.num):
                self._close_offer(other, OfferStatus.DECLINED, now, actor=self._principal(
                    member_id))
            self._intents.set_status(intent.num, IntentStatus.FULFILLED, now, only_from=LIVE)
            self._record(member_id, IntentChanged(intent=intent.id, change="fulfilled"))
            return self._offer(self._offer_row(offer.id)), grant, receipt

    def _settle_terms(self, member_id: str, request: BrandRequest) -> None:
        """What accepting an offer agrees to, recorded before the grant: ``PDC-INTENT`` with
        the brand when no agreement is in force (the brand accepted it by answering the
        intent), and, for this brand only, the purpose and duration of the reveal where the
        member's standing terms do not yet accept them (a terms change with its receipt, as
        on a first contact). Anything else the terms refuse is refused."""
        brand_id = request.brand_id
        agreement = self._agreements.in_force(member_id, brand_id)
        if agreement is None:
            self._supersede_waiting_offer(member_id, brand_id)
            proffered = self._agreements.proffer(member_id, brand_id, term=INTENT_AGREEMENT)
            agreement = self._agreements.brand_accepts(proffered.id, brand_id)
        breaches = self._grants.breaches(member_id, request)
        if any(not b.relaxable or b.kind is BreachKind.AGREEMENT for b in breaches):
            raise ValidationError({"fields": [b.reason for b in breaches]})
        kinds = {b.kind for b in breaches}
        if kinds:
            assert agreement.agreed is not None
            self._terms.accept_for_brand(
                member_id, brand_id, agreement=agreement.agreed,
                purposes=[request.purpose] if BreachKind.PURPOSE in kinds else (),
                max_days=request.days if BreachKind.DURATION in kinds else None)

    def _supersede_waiting_offer(self, member_id: str, brand_id: str) -> None:
        """Accepting an offer agrees ``PDC-INTENT`` with its brand; a negotiation of another
        term still waiting (the member's proffer, or the brand's counter-offer) is ended the
        way the member would end it by hand, each a ledger entry, so that it cannot later
        replace the agreement the reveal stands on."""
        waiting = self._agreements.open_offer(member_id, brand_id)
        if waiting is None:
            return
        if waiting.status is AgreementStatus.PROFFERED:
            self._agreements.member_withdraws(waiting.id, member_id)
        else:
            self._agreements.member_decides(waiting.id, member_id, accept=False)

    def decline(self, member_id: str, offer_id: str) -> Offer:
        now = self._now()
        with self._intents.transaction():
            offer = self._own_offer(member_id, offer_id)
            if offer.status != OfferStatus.OPEN:
                raise ConflictError(f"This offer is {offer.status} already.")
            self._close_offer(offer, OfferStatus.DECLINED, now,
                              actor=self._principal(member_id))
            return self._offer(self._offer_row(offer_id))

    def report_spam(self, member_id: str, offer_id: str, *, reason: str = "") -> SpamReport:
        """Report an offer as spam: it lands in the compliance console's queue, and an offer
        still open is declined."""
        try:
            text = clean_text(reason or "", max_length=MAX_REASON, multiline=True)
        except ValueError as exc:
            raise ValidationError({"reason": [str(exc)]}) from None
        now = self._now()
        report_id = "spr_" + os.urandom(12).hex()
        with self._intents.transaction():
            offer = self._own_offer(member_id, offer_id)
            if offer.reported:
                raise ConflictError(REPORTED_ALREADY)
            sealed = self._keys.cipher(member_id).seal_text(
                associated_data(member_id, "intent_spam_reports", report_id, "reason"), text)
            self._intents.insert_report(id=report_id, offer_num=offer.num,
                                        member_id=member_id, brand_id=offer.brand_id,
                                        reason=sealed, now=now)
            self._record(member_id, OfferReported(offer=offer.id, intent=offer.intent_id,
                                                  brand=offer.brand_id, report=report_id))
            if offer.status == OfferStatus.OPEN:
                self._close_offer(offer, OfferStatus.DECLINED, now,
                                  actor=self._principal(member_id))
            report = self._intents.report(report_id)
            assert report is not None
            return self._report(report)

    def block(self, member_id: str, brand_id: str) -> None:
        self._brands.get(brand_id)                     # NotFoundError for no such brand
        with self._intents.transaction():
            if self._intents.block(member_id, brand_id, self._now()):
                self._record(member_id, IntentBrandBlocked(brand=brand_id))

    def unblock(self, member_id: str, brand_id: str) -> bool:
        """Whether the member had blocked the brand (and now no longer does)."""
        with self._intents.transaction():
            if not self._intents.unblock(member_id, brand_id):
                return False
            self._record(member_id, IntentBrandUnblocked(brand=brand_id))
            return True

    def blocked(self, member_id: str) -> list[tuple[str, str]]:
        return self._intents.blocked(member_id)

    def decline_offers_before_erasure(self, member_id: str) -> int:
        """Before a member's erasure deletes their intents (a ``before_delete`` hook, inside
        the deletion's transaction): every open offer on them is declined, as a withdrawal of
        the intent declines them, so each brand is told its offer ended (``offer.declined``)
        and nothing more, instead of the offer vanishing. How many. Nothing sealed is opened:
        the member's key is destroyed by then."""
        now = self._now()
        declined = 0
        with self._intents.transaction():
            for row in self._intents.for_member(member_id):
                for offer in self._intents.open_offers_on(row.num):
                    self._close_offer(offer, OfferStatus.DECLINED, now,
                                      actor=self._principal(member_id))
                    declined += 1
        return declined

    def brands_offering(self, member_id: str) -> list[tuple[str, str]]:
        return self._intents.brands_offering(member_id)

    def member_reports(self, member_id: str) -> list[SpamReport]:
        return [self._report(row) for row in self._intents.reports_of(member_id)]

    # == the brand's side ====================================================================
    def categories_of(self, brand_id: str) -> tuple[str, ...]:
        return tuple(c for c in self._brands.get(brand_id).categories if c in CATEGORY_BY_ID)

    def list_for_brand(self, brand_id: str, *, category: str | None = None,
                       currency: str | None = None, budget_min: str | None = None,
                       budget_max: str | None = None, window_from: dt.date | None = None,
                       window_until: dt.date | None = None, region: str | None = None,
                       cursor: str | None = None, limit: int = 50, via: str = "api"
                       ) -> IntentPage:
        """One page of the open intents the brand may see, newest first."""
        if not 1 <= limit <= MAX_PAGE:
            raise ValidationError({"limit": [f"From 1 to {MAX_PAGE}."]})
        categories = self.categories_of(brand_id)
        if category is not None:
            check_category(category)
            if category not in categories:
                raise ValidationError({"category": ["Not a category this brand is registered "
                                                    "for."]})
            categories = (category,)
        filters = self._filters(currency, budget_min, budget_max, window_from, window_until,
                                region)
        bound = json.dumps([brand_id, categories, filters.__dict__], sort_keys=True)
        before = None if cursor is None else self._open_cursor(cursor, bound)
        now = self._now()
        found: list[IntentRow] = []
        for each in categories:
            found += self._intents.listing(brand_id, each, now=now, before=before,
                                           limit=limit + 1, filters=filters)
        found.sort(key=lambda row: -row.num)
        page, more = found[:limit], len(found) > limit
        counts = self._intents.brand_offer_counts(brand_id, [row.num for row in page])
        items = tuple(self._listed(row, brand_id, counts.get(row.num, 0)) for row in page)
        for row in page:
            self.record_listing(row.member_id, row.id, brand_id, via=via, at=now)
        return IntentPage(items, self._cursors.seal(page[-1].num, bound) if more and page else None)

    def listed(self, brand_id: str, pseudonym: str) -> ListedIntent:
        row = self._listable(brand_id, pseudonym)
        counts = self._intents.brand_offer_counts(brand_id, [row.num])
        self.record_listing(row.member_id, row.id, brand_id, via="api", at=self._now())
        return self._listed(row, brand_id, counts.get(row.num, 0))

    def record_listing(self, member_id: str, intent_id: str, brand_id: str, *, via: str,
                       at: int) -> None:
        """The ledger entry of an intent shown to a brand (the gateway calls it for the
        intents its ``intent.created`` webhooks carry)."""
        self._listing_log(IntentListed(member=self._principal(member_id), brand=brand_id,
                                     intent=intent_id, via=via), "brand:" + brand_id, at)

    def make_offer(self, brand_id: str, pseudonym: str, *, price: str, currency: str,
                   terms: str, message: str, valid_until: int) -> BrandOffer:
        now = self._now()
        errors: dict[str, list[str]] = {}
        texts: dict[str, str] = {}
        for name, value, limit, needed in (("terms", terms, MAX_TERMS, True),
                                           ("message", message, MAX_MESSAGE, False)):
            try:
                texts[name] = clean_text(value or "", max_length=limit, multiline=True)
                if needed and not texts[name]:
                    errors[name] = ["Say what the offer's terms are."]
            except ValueError as exc:
                errors[name] = [str(exc)]
        if not now + MIN_OFFER_SECONDS <= valid_until <= now + MAX_OFFER_DAYS * DAY:
            errors["valid_until"] = [f"At least {MIN_OFFER_SECONDS // 3600} hour and at most "
                                     f"{MAX_OFFER_DAYS} days ahead."]
        with self._intents.transaction():
            intent = self._listable(brand_id, pseudonym)
            amount = 0
            if currency != intent.currency:
                errors["currency"] = [f"Offers on this intent are in {intent.currency}."]
            else:
                try:
                    amount = parse_amount(price, currency, field="price", positive=True)
                except ValidationError as exc:
                    errors.update(exc.errors)
            if errors:
                raise ValidationError(errors)
            self._check_limits(brand_id, intent, now)
            offer_id = "off_" + os.urandom(12).hex()
            brand = self._brands.get(brand_id)
            signed = self._sign({
                "iss": self._issuer, "typ": "intent-offer", "offer": offer_id,
                "intent": intent.id, "brand": {"id": brand.id, "name": brand.name},
                "price": format_amount(amount, currency), "currency": currency,
                "terms": texts["terms"], "message": texts["message"],
                "valid_until": valid_until, "received_at": now})
            cipher = self._keys.cipher(intent.member_id)
            sealed = cipher.seal_many([
                (associated_data(intent.member_id, "intent_offers", offer_id, name),
                 value.encode()) for name, value in (("terms", texts["terms"]),
                                                     ("message", texts["message"]),
                                                     ("signed", signed))])
            self._intents.insert_offer(id=offer_id, intent_num=intent.num, brand_id=brand_id,
                                       price=amount, currency=currency, terms=sealed[0],
                                       message=sealed[1], signed=sealed[2],
                                       valid_until=valid_until, now=now)
            self._listing_log(OfferReceived(offer=offer_id, intent=intent.id, brand=brand_id),
                            "brand:" + brand_id, now)
            return self._brand_offer(self._offer_row(offer_id))

    def brand_offers(self, brand_id: str, *, status: str | None = None, limit: int = 50,
                     offset: int = 0) -> list[BrandOffer]:
        if status is not None and status not in OfferStatus.__members__.values():
            raise ValidationError({"status": ["One of " + ", ".join(OfferStatus) + "."]})
        return [self._brand_offer(row) for row in self._intents.offers_by_brand(
            brand_id, status=status, limit=limit, offset=offset)]

    def brand_offer(self, brand_id: str, offer_id: str) -> BrandOffer:
        return self._brand_offer(self._brands_offer(brand_id, offer_id))

    def withdraw_offer(self, brand_id: str, offer_id: str) -> BrandOffer:
        with self._intents.transaction():
            row = self._brands_offer(brand_id, offer_id)
            if row.status != OfferStatus.OPEN:
                raise ConflictError(f"This offer is {row.status}: only an open offer can be "
                                    "withdrawn.")
            self._close_offer(row, OfferStatus.WITHDRAWN, self._now(),
                              actor="brand:" + brand_id, by="brand")
            return self._brand_offer(self._offer_row(offer_id))

    def revealed(self, brand_id: str, offer_id: str) -> tuple[str, Grant]:
        """``(member id, grant)`` of an accepted offer of ``brand_id``: what the brand may
        read, through the gateway's usual read pipeline (which checks the grant is live)."""
        row = self._brands_offer(brand_id, offer_id)
        if row.status != OfferStatus.ACCEPTED or row.grant_id is None:
            raise NotFoundError("This offer was not accepted: nothing was revealed.")
        return row.member_id, self._grants.get(row.member_id, row.grant_id)

    # == the keeper ==========================================================================
    def expire(self, now: int | None = None, *, batch: int = 500) -> int:
        """Record what expired: intents past their expiry, offers past their validity; how
        many (at most ``batch`` of each: the rest on the next call).

        The keeper calls this on every pass: when nothing is due, two indexed reads find that
        out without taking the data store's write lock, which the web workers need."""
        now = self._now() if now is None else now
        if not (self._intents.due_to_expire(now, 1) or
                self._intents.offers_due_to_expire(now, 1)):
            return 0
        done = 0
        with self._intents.transaction():
            for row in self._intents.due_to_expire(now, batch):
                if self._intents.set_status(row.num, IntentStatus.EXPIRED, now, only_from=LIVE):
                    self._record(row.member_id, IntentChanged(intent=row.id, change="expired"))
                    for offer in self._intents.open_offers_on(row.num):
                        self._close_offer(offer, OfferStatus.EXPIRED, now, actor="system")
                    done += 1
            for offer in self._intents.offers_due_to_expire(now, batch):
                self._close_offer(offer, OfferStatus.EXPIRED, now, actor="system")
                done += 1
        return done

    # == the compliance console ==============================================================
    def spam_reports(self, *, status: str | None = "open", limit: int = 50,
                     offset: int = 0) -> list[SpamReport]:
        """One page of the reports in ``status`` (any if ``None``), newest first."""
        return [self._report(row) for row in self._intents.reports(
            status=status, limit=limit, offset=offset)]

    def count_reports(self, status: str | None = "open") -> int:
        return self._intents.count_reports(status)

    def decide_report(self, report_id: str, officer_id: str, *, outcome: str) -> SpamReport:
        """Dismiss a report, or uphold it: then the brand's open offers on that intent are
        withdrawn. The ledger names the officer by their pseudonym, as every officer's entry
        does (``compliance/reveals.py``), never by their member id."""
        if outcome not in (ReportStatus.DISMISSED, ReportStatus.UPHELD):
            raise ValidationError({"outcome": ["Dismiss or uphold."]})
        now = self._now()
        officer = self._principal(officer_id)
        with self._intents.transaction():
            row = self._intents.report(report_id)
            if row is None:
                raise NotFoundError("There is no such report.")
            if not self._intents.decide_report(report_id, outcome, officer_id, now):
                raise ConflictError(f"This report was {row.status} already.")
            if outcome == ReportStatus.UPHELD and row.offer_id is not None:
                reported = self._offer_row(row.offer_id)
                for offer in self._intents.open_offers_on(reported.intent_num):
                    if offer.brand_id == row.brand_id:
                        self._close_offer(offer, OfferStatus.WITHDRAWN, now,
                                          actor=officer, by="officer")
            self._ledger.record_event(actor=officer, details=SpamReportDecided(
                report=report_id, brand=row.brand_id, outcome=outcome))
            found = self._intents.report(report_id)
            assert found is not None
            return self._report(found)

    # == inside ==============================================================================
    def _now(self) -> int:
        return int(self._clock())

    def _record(self, member_id: str, details: EventDetails) -> None:
        self._ledger.record_event(actor=self._principal(member_id), details=details)

    def _move(self, member_id: str, intent_id: str, status: IntentStatus,
              only_from: Sequence[str], change: str) -> Intent:
        now = self._now()
        with self._intents.transaction():
            row = self._own(member_id, intent_id)
            if row.status in LIVE and row.expires_at <= now:
                raise ConflictError("This intent has expired.")
            if not self._intents.set_status(row.num, status, now, only_from=only_from):
                raise ConflictError(f"This intent is {row.status}: it cannot be {change}.")
            self._record(member_id, IntentChanged(intent=row.id, change=change))
            if status == IntentStatus.WITHDRAWN:
                for offer in self._intents.open_offers_on(row.num):
                    self._close_offer(offer, OfferStatus.DECLINED, now,
                                      actor=self._principal(member_id))
            return self._intent(self._stored(row.num))

    def _close_offer(self, offer: OfferRow, status: OfferStatus, now: int, *, actor: str,
                     by: str = "") -> None:
        if not self._intents.decide_offer(offer.id, status, now):
            return
        change = {"offer": offer.id, "intent": offer.intent_id, "brand": offer.brand_id}
        details: EventDetails = (
            OfferDeclined(**change) if status == OfferStatus.DECLINED else
            OfferExpired(**change) if status == OfferStatus.EXPIRED else
            OfferWithdrawn(**change, by=by))
        self._ledger.record_event(actor=actor, details=details)
        if status != OfferStatus.WITHDRAWN:
            self._tell(offer.id)

    def _tell(self, offer_id: str) -> None:
        if self._observers:
            row = self._offer_row(offer_id)
            offer = self._brand_offer(row, with_texts=False)
            for observer in self._observers:
                observer.offer_decided(offer, row.brand_id)

    def _check_limits(self, brand_id: str, intent: IntentRow, now: int) -> None:
        limits = self.limits
        if self._intents.count_offers(brand_id, intent_num=intent.num) >= \
                limits.offers_per_intent:
            raise LimitExceededError(limits.offers_per_intent, max(1, intent.expires_at - now),
                                  per="intent")
        day_start = now - now % DAY
        if self._intents.count_offers(brand_id, since=day_start) >= limits.offers_per_day:
            raise LimitExceededError(limits.offers_per_day, day_start + DAY - now)

    def _filters(self, currency: str | None, budget_min: str | None, budget_max: str | None,
                 window_from: dt.date | None, window_until: dt.date | None,
                 region: str | None) -> ListingFilter:
        errors: dict[str, list[str]] = {}
        low = high = None
        if currency is not None:
            try:
                check_currency(currency)
                if budget_min is not None:
                    low = parse_amount(budget_min, currency, field="budget_min")
                if budget_max is not None:
                    high = parse_amount(budget_max, currency, field="budget_max")
            except ValidationError as exc:
                errors.update(exc.errors)
        elif budget_min is not None or budget_max is not None:
            errors["currency"] = ["Give the currency of the budget."]
        if low is not None and high is not None and low > high:
            errors["budget_max"] = ["The highest budget must not be below the lowest."]
        if window_from and window_until and window_until < window_from:
            errors["until"] = ["The window must end on or after its start."]
        code = None
        if region is not None:
            try:
                code = check_region_filter(region)
            except ValidationError as exc:
                errors.update(exc.errors)
        if errors:
            raise ValidationError(errors)
        return ListingFilter(currency, low, high,
                             window_from.isoformat() if window_from else None,
                             window_until.isoformat() if window_until else None, code)

    def _open_cursor(self, cursor: str, bound: str) -> int:
        num = self._cursors.open(cursor, bound)
        if num is None:
            raise ValidationError({"cursor": ["Use a cursor as the previous page gave it, "
                                              "with the same filters."]})
        return num

    def _listable(self, brand_id: str, pseudonym: str) -> IntentRow:
        num = self._pseudonyms.open(pseudonym, brand_id)
        if num is None:
            raise NotFoundError(NO_INTENT)
        return self._listable_num(brand_id, num)

    def _listable_num(self, brand_id: str, num: int) -> IntentRow:
        """The intent ``num`` if the brand may see it now: open, unexpired, of a category
        the brand is registered for, its member not blocking the brand; else NotFoundError.
        Every path that shows an intent to a brand goes through here."""
        row = self._intents.listable(brand_id, num, now=self._now())
        if row is None or row.category not in self.categories_of(brand_id):
            raise NotFoundError(NO_INTENT)
        return row

    def _own(self, member_id: str, intent_id: str) -> IntentRow:
        row = self._intents.get(intent_id) if isinstance(intent_id, str) else None
        if row is None or row.member_id != member_id:
            raise NotFoundError("There is no such intent.")
        return row

    def _own_offer(self, member_id: str, offer_id: str) -> OfferRow:
        row = self._intents.offer(offer_id) if isinstance(offer_id, str) else None
        if row is None or row.member_id != member_id:
            raise NotFoundError(NO_OFFER)
        return row

    def _brands_offer(self, brand_id: str, offer_id: str) -> OfferRow:
        row = self._intents.offer(offer_id) if isinstance(offer_id, str) else None
        if row is None or row.brand_id != brand_id:
            raise NotFoundError(NO_OFFER)
        return row

    def _stored(self, num: int) -> IntentRow:
        row = self._intents.by_num(num)
        assert row is not None
        return row

    def _offer_row(self, offer_id: str) -> OfferRow:
        row = self._intents.offer(offer_id)
        assert row is not None
        return row

    def _row(self, num: int, intent_id: str, member_id: str, checked: CheckedDraft,
             status: IntentStatus, created_at: int, now: int) -> IntentRow:
        cipher = self._keys.cipher(member_id)
        description = cipher.seal_text(associated_data(member_id, _TABLE, intent_id,
                                                       "description"), checked.description)
        city = None if checked.city is None else cipher.seal_text(
            associated_data(member_id, _TABLE, intent_id, "city"), checked.city)
        expires_at = _midnight_after(checked.expires_on)
        return IntentRow(num, intent_id, member_id, checked.category, status,
                         checked.budget_min, checked.budget_max, checked.currency,
                         checked.window_from.isoformat(), checked.window_until.isoformat(),
                         checked.country, checked.region, description, city,
                         json.dumps(list(checked.reveal_fields)), created_at, now, expires_at)

    def _texts(self, row: IntentRow) -> tuple[str, str | None]:
        cipher = self._keys.cipher(row.member_id)
        description = cipher.open_text(associated_data(row.member_id, _TABLE, row.id,
                                                       "description"), row.description)
        city = None if row.city is None else cipher.open_text(
            associated_data(row.member_id, _TABLE, row.id, "city"), row.city)
        return description, city

    def _intent(self, row: IntentRow) -> Intent:
        description, city = self._texts(row)
        return Intent(row.id, row.member_id, row.category, description, row.budget_min,
                      row.budget_max, row.currency, dt.date.fromisoformat(row.window_from),
                      dt.date.fromisoformat(row.window_until), row.country, row.region, city,
                      tuple(json.loads(row.reveal_fields)), IntentStatus(row.status),
                      row.created_at, row.updated_at, row.expires_at, row.offers)

    def _listed(self, row: IntentRow, brand_id: str, your_offers: int) -> ListedIntent:
        description, city = self._texts(row)
        return ListedIntent(self._pseudonyms.name(row.num, brand_id), row.category,
                            description, format_amount(row.budget_min, row.currency),
                            format_amount(row.budget_max, row.currency), row.currency,
                            dt.date.fromisoformat(row.window_from),
                            dt.date.fromisoformat(row.window_until), row.country, row.region,
                            city, row.created_at, row.expires_at, your_offers)

    def _offer_texts(self, row: OfferRow) -> list[str]:
        opened = self._keys.cipher(row.member_id).open_many([
            (associated_data(row.member_id, "intent_offers", row.id, name), value)
            for name, value in (("terms", row.terms), ("message", row.message),
                                ("signed", row.signed))])
        return [value.decode() for value in opened]

    def _offer(self, row: OfferRow) -> Offer:
        terms, message, signed = self._offer_texts(row)
        return Offer(row.id, row.intent_id, row.brand_id, row.brand_name, row.price,
                     row.currency, terms, message, row.valid_until, OfferStatus(row.status),
                     row.created_at, row.decided_at, signed, row.reported, row.grant_id)

    def _brand_offer(self, row: OfferRow, *, with_texts: bool = True) -> BrandOffer:
        terms, message, _ = self._offer_texts(row) if with_texts else ("", "", "")
        accepted = row.status == OfferStatus.ACCEPTED
        return BrandOffer(
            row.id, self._pseudonyms.name(row.intent_num, row.brand_id),
            format_amount(row.price, row.currency), row.currency, terms, message,
            row.valid_until, OfferStatus(row.status), row.created_at, row.decided_at,
            self._brand_subject(row.member_id, row.brand_id) if accepted else None,
            row.grant_id if accepted else None,
            tuple(json.loads(row.fields)) if accepted and row.fields else ())

    def _report(self, row: ReportRow) -> SpamReport:
        reason = None
        if row.reason is not None and row.member_id is not None:
            reason = self._keys.cipher(row.member_id).open_text(
                associated_data(row.member_id, "intent_spam_reports", row.id, "reason"),
                row.reason)
        return SpamReport(row.id, row.offer_id, row.brand_id, row.brand_name, reason,
                          ReportStatus(row.status), row.reported_at, row.decided_at,
                          row.decided_by,
                          None if row.offer_status is None else OfferStatus(row.offer_status))


def _day(now: int) -> dt.date:
    return dt.datetime.fromtimestamp(now, dt.UTC).date()


def _midnight_after(day: dt.date) -> int:
    return int(dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), dt.UTC).timestamp())
