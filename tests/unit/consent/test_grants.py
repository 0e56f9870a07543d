"""consent.grants.ConsentService: requests checked against terms, grants, narrowing, withdrawal,
expiry, receipts and ledger entries, and erasure of a member's consent records."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import pytest
from jsonschema import Draft4Validator

from consent.context import Consent
from consent.errors import LedgerIntegrityError
from consent.events import EventTag
from consent.grants import DAY, BrandRequest, StoredReceipt
from consent.model import GrantEvent, GrantStatus, Mode
from consent.receipt_position import LedgerPosition, position_of, receipt_entry
from vault.brands import Brand
from vault.clock import FrozenClock
from vault.errors import NotFoundError, ValidationError

from .conftest import ALL_PURPOSES, Sharing
from .receipt_support import STANDARDS, strip_json_comments
from .test_receipts import authlib_verify
from .test_terms import ledger_entries

EMAIL = "alice@example.org"
CONSENT_TABLES = ("member_terms", "agreements", "grants", "receipts")
S3P = {"onward_sharing": True, "third_party": "Acme Statistics Ltd", "mode": Mode.AGGREGATE}


@pytest.fixture(scope="module")
def kantara() -> Draft4Validator:
    schema = json.loads(strip_json_comments(
        (STANDARDS / "kantara-consent-receipt-v1_1-schema.json").read_text()))
    return Draft4Validator(schema)


@pytest.fixture
def member(sharing: Sharing) -> str:
    return sharing.member(EMAIL)


def rows(consent: Consent, table: str, member_id: str | None = None) -> int:
    if member_id is None:
        return consent.vault.data.one(f"SELECT count(*) FROM {table}")[0]
    return consent.vault.data.one(f"SELECT count(*) FROM {table} WHERE member_id = ?",
                                  (member_id,))[0]


def decide(consent: Consent, grant_brand: str, member_id: str, field: str,
           purpose: str = "dpv:Personalisation", mode: Mode = Mode.INDIVIDUAL,
           at: float | None = None) -> bool:
    at = consent.vault.clock() if at is None else at
    return consent.decisions.decide(grant_brand, purpose, member_id, field, mode, at).allowed


# -- the request, measured against the terms before the member is asked ----------------------
def request(brand: Brand, **changes: Any) -> BrandRequest:
    values: dict[str, Any] = {"purpose": "dpv:Personalisation",
                              "fields": frozenset({"given_name", "category:interests"}),
                              "days": 30, "retention_days": 30}
    return BrandRequest(brand.id, **(values | changes))


def setup_terms(sharing: Sharing, member: str, brand: Brand, case: str) -> None:
    """The member's terms and agreement for one case of the table below."""
    terms: dict[str, Any] = {"agreement": "SD-BASE-ATP", "purposes": ALL_PURPOSES,
                             "max_days": 365, "aggregate_allowed": True}
    if case == "no agreement":
        sharing.terms(member, **terms)
        return
    if case == "narrower agreement":
        # agreed on SD-BASE-A; the member's terms widened later, the agreement did not
        sharing.terms(member, agreement="SD-BASE-A",
                      purposes=["dpv:ServiceOptimisation"], max_days=365)
        sharing.agree(member, brand.id)
        sharing.terms(member, **terms)
        return
    if case == "s3p":
        terms["agreement"] = "SD-BASE-ATP-S3P"
    if case == "no aggregate":
        terms["aggregate_allowed"] = False
    if case == "purpose not accepted":
        terms["purposes"] = ALL_PURPOSES - {"dpv:Personalisation"}
    sharing.terms(member, **terms)
    sharing.agree(member, brand.id)
    if case in ("gpc", "s3p+gpc"):
        sharing.consent.terms.record_gpc(member)


CHECKS = [
    ("ok", {}, None),
    ("purpose not accepted", {}, "Your terms do not accept personalisation at all."),
    ("no agreement", {}, "There is no agreement on terms (IEEE 7012) with this brand yet."),
    ("narrower agreement", {},
     "Personalisation needs more than the agreed term SD-BASE-A allows."),
    ("gpc", {"purpose": "dpv:Marketing"},
     "You opted out of the sale and sharing of your data (GPC)."),
    ("gpc", {"purpose": "dpv:PersonalisedAdvertising"},
     "You opted out of the sale and sharing of your data (GPC)."),
    ("ok", {"fields": frozenset({"given_name", "bogus"})},
     "The request names no fields, or fields that do not exist: bogus."),
    ("ok", {"fields": frozenset({"category:secrets"})},
     "The request names no fields, or fields that do not exist: category:secrets."),
    ("ok", {"fields": frozenset()}, "The request names no fields, or fields that do not exist."),
    ("ok", {"days": 366}, "It asks for 366 days; your terms allow at most 365."),
    ("ok", {"days": 0}, "It asks for 0 days; grants last 1 to 3650 days."),
    ("ok", {"retention_days": -1}, "The promised retention is out of range."),
    ("ok", {"retention_days": 3651}, "The promised retention is out of range."),
    ("no aggregate", {"mode": Mode.AGGREGATE}, "Your terms do not allow aggregate-only use."),
    ("ok", S3P, "Onward sharing needs an agreed S3P term."),
    ("s3p", S3P | {"mode": Mode.INDIVIDUAL},
     "Onward sharing is only for anonymised (aggregate) use."),
    ("s3p", S3P | {"third_party": None}, "Onward sharing must name the third party."),
    ("s3p", S3P | {"third_party": ""}, "Onward sharing must name the third party."),
    ("s3p+gpc", S3P, "You opted out of the sale and sharing of your data (GPC)."),
    ("s3p", S3P, None),
    ("gpc", {"purpose": "dpv:Personalisation"}, None),     # not a sale/sharing purpose
    ("no aggregate", {}, None),                              # individual mode needs no permission
]


@pytest.mark.parametrize(("case", "changes", "reason"), CHECKS,
                         ids=[f"{c}-{r or 'allowed'}" for c, _, r in CHECKS])
def test_check_gives_the_reason_for_each_rule(consent: Consent, sharing: Sharing, member: str,
                                              brand: Brand, case: str, changes: dict,
                                              reason: str | None) -> None:
    setup_terms(sharing, member, brand, case)
    reasons = consent.grants.check(member, request(brand, **changes))
    if reason is None:
        assert reasons == []
    else:
        assert reason in reasons


@pytest.mark.parametrize(("case", "changes", "reason"),
                         [c for c in CHECKS if c[2] is not None],
                         ids=[f"{c}-{r}" for c, _, r in CHECKS if r is not None])
def test_grant_refuses_what_check_refuses_and_stores_nothing(
        consent: Consent, sharing: Sharing, member: str, brand: Brand, case: str,
        changes: dict, reason: str) -> None:
    setup_terms(sharing, member, brand, case)
    entries = consent.ledger.size
    with pytest.raises(ValidationError) as caught:
        consent.grants.grant(member, request(brand, **changes))
    assert reason in caught.value.errors["request"]
    assert rows(consent, "grants") == rows(consent, "receipts") == 0
    assert consent.ledger.size == entries


def test_a_new_member_is_refused_everything(consent: Consent, member: str, brand: Brand
                                            ) -> None:
    reasons = consent.grants.check(member, request(brand))
    assert "Your terms do not accept personalisation at all." in reasons
    assert "It asks for 30 days; your terms allow at most 0." in reasons
    assert "There is no agreement on terms (IEEE 7012) with this brand yet." in reasons


def test_an_unknown_purpose_is_one_reason(consent: Consent, sharing: Sharing, member: str,
                                          brand: Brand) -> None:
    sharing.ready(member, brand.id)
    assert consent.grants.check(member, request(brand, purpose="dpv:Spying")) == [
        "Unknown purpose 'dpv:Spying'."]


def test_an_agreement_with_another_brand_does_not_count(consent: Consent, sharing: Sharing,
                                                        member: str, brand: Brand) -> None:
    sharing.ready(member, brand.id)
    other = sharing.brand("Fresh Grocer")
    assert "There is no agreement on terms (IEEE 7012) with this brand yet." in (
        consent.grants.check(member, request(other)))


# -- giving -----------------------------------------------------------------------------------
def test_a_grant_records_everything_the_design_names(consent: Consent, sharing: Sharing,
                                                     member: str, brand: Brand,
                                                     clock: FrozenClock) -> None:
    sharing.ready(member, brand.id, agreement="SD-BASE-ATP-S3P")
    terms_version = consent.terms.get(member).version
    grant, receipt = consent.grants.grant(
        member, request(brand, purpose="dpv:ServiceOptimisation", days=90, retention_days=60,
                        **S3P), jurisdiction="BE", collection_method="vrmvault test")
    now = int(clock())
    assert (grant.member_id, grant.brand_id, grant.purpose) == (
        member, brand.id, "dpv:ServiceOptimisation")
    assert grant.fields == {"given_name", "category:interests"}
    assert grant.covered == {"given_name", "interests", "hobbies"}
    assert grant.mode is Mode.AGGREGATE
    assert (grant.starts_at, grant.ends_at) == (now, now + 90 * DAY)
    assert grant.retention_days == 60
    assert grant.onward_sharing and grant.third_party == "Acme Statistics Ltd"
    assert (grant.jurisdiction, grant.collection_method) == ("BE", "vrmvault test")
    assert grant.agreement == "SD-BASE-ATP-S3P" and grant.terms_version == terms_version
    assert grant.status is GrantStatus.ACTIVE and grant.version == 1
    assert consent.grants.get(member, grant.id) == grant
    assert consent.grants.for_member(member) == [grant]
    assert receipt.event == "given" and receipt.grant_id == grant.id
    assert consent.grants.receipts(member) == [receipt]


def test_the_third_party_is_not_kept_without_onward_sharing(consent: Consent, sharing: Sharing,
                                                            member: str, brand: Brand) -> None:
    sharing.ready(member, brand.id)
    grant, _ = consent.grants.grant(member, request(brand, third_party="Acme Statistics Ltd"))
    assert grant.third_party is None and not grant.onward_sharing


def test_the_member_can_untick_fields_and_the_grant_covers_only_those(
        consent: Consent, sharing: Sharing, member: str, brand: Brand) -> None:
    sharing.ready(member, brand.id)
    asked = frozenset({"given_name", "city", "category:interests"})
    grant, _ = consent.grants.grant(member, request(brand, fields=asked),
                                    fields=["given_name", "interests"])
    assert grant.fields == {"given_name", "interests"}
    assert grant.covered == {"given_name", "interests"}
    assert decide(consent, brand.id, member, "interests")
    assert decide(consent, brand.id, member, "given_name")
    assert not decide(consent, brand.id, member, "hobbies")
    assert not decide(consent, brand.id, member, "city")


@pytest.mark.parametrize("chosen", [
    ["phone"],                          # not asked for
    ["given_name", "religion"],         # sensitive: a category never covers it
    [],                                 # nothing left
    ["given_name", "bogus"],            # not a field at all
    ["bogus"],
], ids=["not-asked", "sensitive", "nothing", "unknown-beside-a-field", "unknown-only"])
def test_the_member_can_only_leave_ticked_what_was_asked(
        consent: Consent, sharing: Sharing, member: str, brand: Brand, chosen: list) -> None:
    sharing.ready(member, brand.id)
    asked = frozenset({"given_name", "category:demographics", "category:interests"})
    entries = consent.ledger.size
    with pytest.raises(ValidationError) as caught:
        consent.grants.grant(member, request(brand, fields=asked), fields=chosen)
    assert "fields" in caught.value.errors
    assert rows(consent, "grants") == rows(consent, "receipts") == 0
    assert consent.ledger.size == entries


# -- narrowing ----------------------------------------------------------------------------------
@pytest.fixture
def given(consent: Consent, sharing: Sharing, member: str, brand: Brand):
    sharing.ready(member, brand.id)
    grant, _ = consent.grants.grant(member, request(brand, days=30))
    return grant


def test_narrowing_removes_fields_bumps_the_version_and_issues_a_receipt(
        consent: Consent, member: str, brand: Brand, given, clock: FrozenClock) -> None:
    clock.advance(DAY)
    narrowed, receipt = consent.grants.narrow(member, given.id, fields=["given_name", "hobbies"],
                                              ends_at=given.ends_at - DAY)
    assert narrowed.covered == {"given_name", "hobbies"}
    assert narrowed.ends_at == given.ends_at - DAY
    assert narrowed.version == given.version + 1
    assert narrowed.status is GrantStatus.ACTIVE
    assert receipt.event == "narrowed" and receipt.grant_id == given.id
    assert [r.event for r in consent.grants.receipts(member)] == ["narrowed", "given"]
    assert not decide(consent, brand.id, member, "interests")
    assert decide(consent, brand.id, member, "hobbies")
    assert not decide(consent, brand.id, member, "hobbies", at=given.ends_at - DAY)


@pytest.mark.parametrize(("fields", "ends", "error"), [
    (["given_name", "city"], None, "fields"),                 # adds a field
    (["category:contact"], None, "fields"),                   # a wider category
    (["religion"], None, "fields"),                           # sensitive, never covered
    ([], None, "fields"),
    (["bogus"], None, "fields"),
    (["given_name", "bogus"], None, "fields"),
    (None, DAY, "ends_at"),                                   # later end
    (None, -31 * DAY, "ends_at"),                             # in the past
    (None, -30 * DAY, "ends_at"),                             # now: nothing left
])
def test_narrowing_never_adds(consent: Consent, member: str, given, fields: list | None,
                              ends: int | None, error: str) -> None:
    entries = consent.ledger.size
    with pytest.raises(ValidationError) as caught:
        consent.grants.narrow(member, given.id, fields=fields,
                              ends_at=None if ends is None else given.ends_at + ends)
    assert error in caught.value.errors
    assert consent.grants.get(member, given.id) == given
    assert rows(consent, "receipts") == 1
    assert consent.ledger.size == entries


def test_checking_a_narrowing_names_every_broken_rule_and_writes_nothing(
        consent: Consent, member: str, given) -> None:
    entries = consent.ledger.size
    with pytest.raises(ValidationError) as caught:
        consent.grants.check_narrowing(member, given.id, fields=[], ends_at=given.ends_at + DAY)
    assert set(caught.value.errors) == {"fields", "ends_at"}
    # Unchanged is no broken rule: "nothing changed" is left to narrow() itself.
    consent.grants.check_narrowing(member, given.id, fields=given.fields)
    assert consent.grants.get(member, given.id) == given
    assert rows(consent, "receipts") == 1 and consent.ledger.size == entries


def test_what_narrowing_removed_cannot_come_back(consent: Consent, member: str, given) -> None:
    consent.grants.narrow(member, given.id, fields=["given_name"])
    with pytest.raises(ValidationError):
        consent.grants.narrow(member, given.id, fields=["given_name", "category:interests"])
    consent.grants.narrow(member, given.id, ends_at=given.ends_at - 10 * DAY)
    with pytest.raises(ValidationError):
        consent.grants.narrow(member, given.id, ends_at=given.ends_at)
    assert consent.grants.get(member, given.id).covered == {"given_name"}


def test_a_category_may_replace_the_fields_it_stands_for(consent: Consent, member: str,
                                                         given) -> None:
    narrowed, _ = consent.grants.narrow(member, given.id, fields=["category:interests"])
    assert narrowed.covered == {"interests", "hobbies"}


# -- withdrawing and expiring -------------------------------------------------------------------
def test_withdrawal_issues_a_receipt_and_is_final(consent: Consent, member: str, brand: Brand,
                                                  given, clock: FrozenClock) -> None:
    clock.advance(3600)
    withdrawn, receipt = consent.grants.withdraw(member, given.id)
    assert withdrawn.status is GrantStatus.WITHDRAWN
    assert withdrawn.withdrawn_at == int(clock())
    assert receipt.event == "withdrawn"
    assert not decide(consent, brand.id, member, "given_name")

    for action in (lambda: consent.grants.withdraw(member, given.id),
                   lambda: consent.grants.narrow(member, given.id, fields=["given_name"])):
        with pytest.raises(ValidationError):
            action()
    assert rows(consent, "receipts") == 2
    assert consent.grants.get(member, given.id).status is GrantStatus.WITHDRAWN


def test_an_expired_grant_cannot_be_withdrawn_or_narrowed(consent: Consent, member: str, given,
                                                          clock: FrozenClock) -> None:
    clock.advance(30 * DAY)
    with pytest.raises(ValidationError):
        consent.grants.withdraw(member, given.id)
    with pytest.raises(ValidationError):
        consent.grants.narrow(member, given.id, fields=["given_name"])


def test_expiries_get_one_receipt_each_exactly_once(consent: Consent, sharing: Sharing,
                                                    member: str, brand: Brand,
                                                    clock: FrozenClock) -> None:
    sharing.ready(member, brand.id)
    short, _ = consent.grants.grant(member, request(brand, days=10))
    # Other purposes: a second grant for the same purpose would replace the first.
    long, _ = consent.grants.grant(member, request(brand, days=20,
                                                   purpose="dpv:ServiceProvision"))
    gone, _ = consent.grants.grant(member, request(brand, days=5,
                                                   purpose="dpv:ServiceOptimisation"))
    consent.grants.withdraw(member, gone.id)

    assert consent.grants.record_expiries() == []
    clock.advance(10 * DAY - 1)
    assert consent.grants.record_expiries() == []
    assert decide(consent, brand.id, member, "given_name")
    clock.advance(1)
    assert [g.id for g in consent.grants.record_expiries()] == [short.id]
    assert consent.grants.record_expiries() == []
    clock.advance(10 * DAY)
    assert [g.id for g in consent.grants.record_expiries()] == [long.id]
    clock.advance(100 * DAY)
    assert consent.grants.record_expiries() == []

    expired = [r for r in consent.grants.receipts(member) if r.event == "expired"]
    assert sorted(r.grant_id for r in expired) == sorted([short.id, long.id])
    assert len(ledger_entries(consent, EventTag.CONSENT_GRANT_EXPIRED)) == 2
    assert not decide(consent, brand.id, member, "given_name")


def test_an_expired_grant_denies_before_its_expiry_is_recorded(
        consent: Consent, member: str, brand: Brand, given, clock: FrozenClock) -> None:
    clock.advance(30 * DAY)
    assert not decide(consent, brand.id, member, "given_name")
    assert [r.event for r in consent.grants.receipts(member)] == ["given"]


# -- receipts and the ledger --------------------------------------------------------------------
def all_events(consent: Consent, member: str, brand: Brand, clock: FrozenClock
               ) -> list[StoredReceipt]:
    grant, given = consent.grants.grant(member, request(brand, days=30))
    clock.advance(DAY)
    _, narrowed = consent.grants.narrow(member, grant.id, fields=["given_name"])
    clock.advance(DAY)
    _, withdrawn = consent.grants.withdraw(member, grant.id)
    other, _ = consent.grants.grant(member, request(brand, days=1))
    clock.advance(DAY)
    [expired] = [r for r in (consent.grants.record_expiries() and consent.grants.receipts(member))
                 if r.event == "expired"]
    assert expired.grant_id == other.id
    return [given, narrowed, withdrawn, expired]


def test_every_event_yields_a_grant_entry_and_a_receipt_entry(
        consent: Consent, sharing: Sharing, member: str, brand: Brand,
        clock: FrozenClock) -> None:
    sharing.ready(member, brand.id)
    start = consent.ledger.size
    receipts = all_events(consent, member, brand, clock)

    tags = [consent.ledger.entry(seq).tag for seq in range(start, consent.ledger.size)]
    assert tags == [
        EventTag.CONSENT_GRANT_GIVEN, EventTag.CONSENT_RECEIPT_ISSUED,
        EventTag.CONSENT_GRANT_NARROWED, EventTag.CONSENT_RECEIPT_ISSUED,
        EventTag.CONSENT_GRANT_WITHDRAWN, EventTag.CONSENT_RECEIPT_ISSUED,
        EventTag.CONSENT_GRANT_GIVEN, EventTag.CONSENT_RECEIPT_ISSUED,
        EventTag.CONSENT_GRANT_EXPIRED, EventTag.CONSENT_RECEIPT_ISSUED,
    ]
    issued = ledger_entries(consent, EventTag.CONSENT_RECEIPT_ISSUED)
    stored = consent.grants.receipts(member)
    assert len(stored) == 5 and set(receipts) <= set(stored)
    assert sorted(e.details["receipt"] for e in issued) == sorted(r.id for r in stored)
    by_id = {r.id: r for r in stored}
    for entry in ledger_entries(consent):
        if entry.tag is EventTag.CONSENT_RECEIPT_ISSUED:
            # The receipt's own principal (handed to the brand with the receipt), its digest,
            # and the index the signed receipt names.
            receipt = by_id[entry.details["receipt"]]
            assert entry.actor == consent.brand_subject(member, brand.id)
            assert entry.details["sha256"] == hashlib.sha256(receipt.token.encode()).hexdigest()
            assert position_of(receipt.token) == LedgerPosition(consent.ledger.origin, entry.seq)
            assert receipt_entry(consent.ledger, receipt.token)["entry"] == entry.body.decode()
        else:
            assert entry.actor == consent.principal(member)
        assert member not in entry.body.decode() and EMAIL not in entry.body.decode()
    assert consent.ledger.verify().ok


def test_a_receipt_whose_entry_does_not_match_is_refused(
        consent: Consent, sharing: Sharing, member: str, brand: Brand) -> None:
    sharing.ready(member, brand.id)
    _, receipt = sharing.grant(member, brand.id)
    assert receipt_entry(consent.ledger, receipt.token) is not None
    header, payload, signature = receipt.token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["ledgerPosition"]["index"] -= 1                  # the grant's entry, not the receipt's
    forged = ".".join([header, base64.urlsafe_b64encode(json.dumps(claims).encode()).decode()
                       .rstrip("="), signature])
    with pytest.raises(LedgerIntegrityError):
        receipt_entry(consent.ledger, forged)
    del claims["ledgerPosition"]
    older = ".".join([header, base64.urlsafe_b64encode(json.dumps(claims).encode()).decode()
                      .rstrip("="), signature])
    assert position_of(older) is None and receipt_entry(consent.ledger, older) is None
    assert position_of("not a token") is None


def test_receipts_validate_against_kantara_and_verify(
        consent: Consent, sharing: Sharing, member: str, brand: Brand, clock: FrozenClock,
        kantara: Draft4Validator) -> None:
    sharing.ready(member, brand.id)
    receipts = all_events(consent, member, brand, clock)
    states = ["dpv:ConsentGiven", "dpv:RenewedConsentGiven", "dpv:ConsentWithdrawn",
              "dpv:ConsentExpired"]
    events = [GrantEvent.GIVEN, GrantEvent.NARROWED, GrantEvent.WITHDRAWN, GrantEvent.EXPIRED]
    for stored, event, state in zip(receipts, events, states, strict=True):
        assert stored.event == event.value
        document = consent.signer.verify(stored.token)
        assert [e.message for e in kantara.iter_errors(document)] == []
        assert document["consentReceiptID"] == stored.id
        subject = consent.brand_subject(member, brand.id)
        assert document["piiPrincipalId"] == subject
        record = document["iso27560"]["dpv:hasRecordOfActivity"]
        assert record["dpv:hasDataSubject"] == subject
        assert consent.principal(member) not in json.dumps(document)
        assert document["services"][0]["service"] == "Data shared with Velo Bikes through vrmvault"
        record = document["iso27560"]["dpv:hasRecordOfActivity"]
        assert record["dct:identifier"] == stored.grant_id
        assert record["dpv:hasConsentStatus"]["@type"] == state
        assert record["vrmvault:grant"]["vrmvault:event"] == event.value
        assert authlib_verify(stored.token, consent.signer.jwks()) == document
        assert member not in stored.token and EMAIL not in json.dumps(document)


def test_receipts_belong_to_their_member(consent: Consent, sharing: Sharing, member: str,
                                         brand: Brand, given) -> None:
    mallory = sharing.member("mallory@example.org")
    [receipt] = consent.grants.receipts(member)
    assert consent.grants.receipt(member, receipt.id) == receipt
    with pytest.raises(NotFoundError):
        consent.grants.receipt(mallory, receipt.id)
    with pytest.raises(NotFoundError):
        consent.grants.get(mallory, given.id)
    with pytest.raises(NotFoundError):
        consent.grants.withdraw(mallory, given.id)
    with pytest.raises(NotFoundError):
        consent.grants.narrow(mallory, given.id, fields=["given_name"])
    assert consent.grants.get(member, given.id) == given


# -- erasure ------------------------------------------------------------------------------------
def test_erasure_removes_consent_rows_and_keeps_the_ledger_good(
        consent: Consent, sharing: Sharing, member: str, brand: Brand,
        clock: FrozenClock) -> None:
    sharing.ready(member, brand.id)
    all_events(consent, member, brand, clock)
    other = sharing.member("bob@example.org")
    sharing.ready(other, brand.id)
    sharing.grant(other, brand.id)
    for table in CONSENT_TABLES:
        assert rows(consent, table, member) > 0, table

    consent.vault.erasure.erase(member)

    for table in CONSENT_TABLES:
        assert rows(consent, table, member) == 0, table
        assert rows(consent, table, other) > 0, table
    assert consent.decisions.policy(member, brand.id).grants == ()
    report = consent.ledger.verify()
    assert report.ok, report.summary()
    for entry in ledger_entries(consent):
        body = entry.body.decode()
        assert member not in body and other not in body
        assert EMAIL not in body and "bob@example.org" not in body
