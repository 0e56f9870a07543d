"""Every way a grant, or the brand's access under it, ends: the state the member is
shown, the receipt (signed, verified), the ledger entry and what the observers are told, each
transition on an injected clock."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from consent.context import Consent
from consent.events import EventTag
from consent.grants import DAY
from consent.model import AccessEnd, Grant, GrantEvent, GrantState, GrantStatus, Mode
from consent.sqlcipher.grants import grant_from_row
from tests.conftest import GOOD_PASSWORD
from vault.brands import Brand
from vault.clock import FrozenClock
from vault.errors import ValidationError
from vault.home import VaultHome

from .conftest import Sharing
from .test_receipts import authlib_verify
from .test_terms import ledger_entries

BRAND_SIDE = [AccessEnd.CODE_REPLAY, AccessEnd.REFRESH_REPLAY, AccessEnd.CLIENT_DISABLED,
              AccessEnd.EXPIRED]


@pytest.fixture
def told(consent: Consent) -> list[tuple[str, GrantEvent]]:
    """What the grant observers (the brand gateway, in the app) are told."""
    calls: list[tuple[str, GrantEvent]] = []
    consent.observers.append(lambda grant, event, now: calls.append((grant.id, event)))
    return calls


@pytest.fixture
def member(sharing: Sharing, brand: Brand) -> str:
    member_id = sharing.member()
    sharing.ready(member_id, brand.id)
    return member_id


def receipt_document(consent: Consent, member: str, event: str) -> dict:
    [stored] = [r for r in consent.grants.receipts(member) if r.event == event]
    return authlib_verify(stored.token, consent.signer.jwks())


def allowed(consent: Consent, brand: Brand, member: str, purpose: str = "dpv:Personalisation",
            ) -> bool:
    return consent.decisions.decide(brand.id, purpose, member, "given_name", Mode.INDIVIDUAL,
                                    consent.vault.clock()).allowed


def test_a_new_grant_is_live_until_its_end_then_expired(
        consent: Consent, sharing: Sharing, member: str, brand: Brand,
        clock: FrozenClock) -> None:
    grant, _ = sharing.grant(member, brand.id, days=10)
    assert grant.state(clock()) is GrantState.LIVE
    assert grant.state(grant.starts_at - 1) is GrantState.NOT_STARTED
    clock.advance(10 * DAY)
    assert consent.grants.get(member, grant.id).state(clock()) is GrantState.EXPIRED


@pytest.mark.parametrize("cause", BRAND_SIDE)
def test_an_ended_access_leaves_the_consent_standing(
        consent: Consent, sharing: Sharing, member: str, brand: Brand, clock: FrozenClock,
        told: list[tuple[str, GrantEvent]], cause: AccessEnd) -> None:
    grant, _ = sharing.grant(member, brand.id, days=30)
    clock.advance(DAY)
    receipt = consent.grants.end_access(grant.id, cause)
    assert receipt is not None and receipt.event == "access-ended"
    ended = consent.grants.get(member, grant.id)
    assert ended.status is GrantStatus.ACTIVE and ended.access_ended is cause
    assert ended.access_ended_at == int(clock())
    assert ended.state(clock()) is GrantState.ACCESS_ENDED
    assert ended.version == grant.version                 # what was consented to is unchanged
    assert told[-1] == (grant.id, GrantEvent.ACCESS_ENDED)
    document = receipt_document(consent, member, "access-ended")
    extension = document["iso27560"]["dpv:hasRecordOfActivity"]["vrmvault:grant"]
    assert extension["vrmvault:accessEnded"] == cause.value
    assert extension["vrmvault:grantId"] == grant.id
    [entry] = ledger_entries(consent, EventTag.CONSENT_ACCESS_ENDED)
    assert entry.details["grant"] == grant.id and entry.details["reason"] == cause.value
    # Nothing to end twice; the member can still withdraw the consent that stands.
    assert consent.grants.end_access(grant.id, AccessEnd.CODE_REPLAY) is None
    consent.grants.withdraw(member, grant.id)
    withdrawn = consent.grants.get(member, grant.id)
    assert withdrawn.state(clock()) is GrantState.WITHDRAWN
    assert [e for _, e in told] == [GrantEvent.GIVEN, GrantEvent.ACCESS_ENDED,
                                    GrantEvent.WITHDRAWN]
    # ... and it expires at its end like any other.
    assert consent.grants.end_access(grant.id, AccessEnd.EXPIRED) is None


def test_a_brand_that_revokes_releases_the_consent(
        consent: Consent, sharing: Sharing, member: str, brand: Brand, clock: FrozenClock,
        told: list[tuple[str, GrantEvent]]) -> None:
    grant, _ = sharing.grant(member, brand.id, days=30)
    assert allowed(consent, brand, member)
    clock.advance(DAY)
    receipt = consent.grants.end_access(grant.id, AccessEnd.REVOKED_BY_BRAND)
    assert receipt is not None and receipt.event == "released"
    released = consent.grants.get(member, grant.id)
    assert released.status is GrantStatus.RELEASED
    assert released.state(clock()) is GrantState.RELEASED
    assert released.withdrawn_at == int(clock())
    assert not allowed(consent, brand, member)
    decision = consent.decisions.decide(brand.id, "dpv:Personalisation", member, "given_name",
                                        Mode.INDIVIDUAL, clock())
    assert decision.reason == "the brand gave the grant up"
    document = receipt_document(consent, member, "released")
    status = document["iso27560"]["dpv:hasRecordOfActivity"]["dpv:hasConsentStatus"]
    assert status["@type"] == "dpv:ConsentRevoked"
    assert [e.details["grant"] for e in ledger_entries(
        consent, EventTag.CONSENT_GRANT_RELEASED)] == [grant.id]
    assert told[-1] == (grant.id, GrantEvent.RELEASED)
    # A released grant is over: it cannot be withdrawn, narrowed or ended again.
    with pytest.raises(ValidationError):
        consent.grants.withdraw(member, grant.id)
    assert consent.grants.end_access(grant.id, AccessEnd.CODE_REPLAY) is None


def test_asking_again_for_the_same_purpose_replaces_the_live_grant(
        consent: Consent, sharing: Sharing, member: str, brand: Brand, clock: FrozenClock,
        told: list[tuple[str, GrantEvent]]) -> None:
    first, _ = sharing.grant(member, brand.id, days=30)
    other, _ = sharing.grant(member, brand.id, "dpv:ServiceProvision", days=30)
    clock.advance(DAY)
    consent.grants.end_access(first.id, AccessEnd.REFRESH_REPLAY)   # consent stood
    second, given = sharing.grant(member, brand.id, fields=("given_name",), days=60)
    old = consent.grants.get(member, first.id)
    assert old.status is GrantStatus.REPLACED and old.replaced_by == second.id
    assert old.state(clock()) is GrantState.REPLACED and old.withdrawn_at == int(clock())
    live = [g for g in consent.grants.for_member(member) if g.live_at(clock())]
    assert sorted(g.id for g in live) == sorted([second.id, other.id])  # one per purpose
    # The decision point answers from the new grant only.
    assert allowed(consent, brand, member)
    assert consent.decisions.decide(brand.id, "dpv:Personalisation", member, "given_name",
                                    Mode.INDIVIDUAL, clock()).grant_id == second.id
    # Receipts: the old grant's says by which grant; the new one's which grant it replaces.
    replaced = receipt_document(consent, member, "replaced")
    extension = replaced["iso27560"]["dpv:hasRecordOfActivity"]["vrmvault:grant"]
    assert extension["vrmvault:grantId"] == first.id
    assert extension["vrmvault:replacedBy"] == second.id
    renewed = authlib_verify(given.token, consent.signer.jwks())
    record = renewed["iso27560"]["dpv:hasRecordOfActivity"]
    assert record["vrmvault:grant"]["vrmvault:replaces"] == [first.id]
    assert record["dpv:hasConsentStatus"]["@type"] == "dpv:RenewedConsentGiven"
    [entry] = ledger_entries(consent, EventTag.CONSENT_GRANT_REPLACED)
    assert entry.details == entry.details | {"grant": first.id, "replaced_by": second.id}
    assert told[-2:] == [(first.id, GrantEvent.REPLACED), (second.id, GrantEvent.GIVEN)]
    # A replaced grant is over: no withdrawal, no expiry receipt later.
    with pytest.raises(ValidationError):
        consent.grants.withdraw(member, first.id)
    clock.advance(100 * DAY)
    assert first.id not in {g.id for g in consent.grants.record_expiries()}


def test_an_expired_or_withdrawn_grant_is_not_replaced(
        consent: Consent, sharing: Sharing, member: str, brand: Brand,
        clock: FrozenClock) -> None:
    withdrawn, _ = sharing.grant(member, brand.id, days=30)
    consent.grants.withdraw(member, withdrawn.id)
    short, _ = sharing.grant(member, brand.id, days=1)
    assert consent.grants.get(member, withdrawn.id).status is GrantStatus.WITHDRAWN
    clock.advance(DAY)
    new, _ = sharing.grant(member, brand.id, days=1)
    assert consent.grants.get(member, short.id).state(clock()) is GrantState.EXPIRED
    assert consent.grants.get(member, new.id).state(clock()) is GrantState.LIVE
    assert ledger_entries(consent, EventTag.CONSENT_GRANT_REPLACED) == []


def test_ending_the_access_of_an_unknown_or_ended_grant_does_nothing(
        consent: Consent, sharing: Sharing, member: str, brand: Brand,
        clock: FrozenClock) -> None:
    assert consent.grants.end_access("grant_unknown", AccessEnd.CODE_REPLAY) is None
    grant, _ = sharing.grant(member, brand.id, days=1)
    clock.advance(DAY)
    assert consent.grants.end_access(grant.id, AccessEnd.EXPIRED) is None
    assert ledger_entries(consent, EventTag.CONSENT_ACCESS_ENDED) == []


def test_the_state_of_a_grant_follows_its_fields() -> None:
    base = Grant("g", "m", "b", "dpv:Personalisation", frozenset({"given_name"}),
                 Mode.INDIVIDUAL, 100, 200, 30, False, None, "EU", "test", "SD-BASE", 1,
                 GrantStatus.ACTIVE, None, 1, 100, 100)
    ended = replace(base, access_ended=AccessEnd.CODE_REPLAY, access_ended_at=120)
    cases = [
        (base, 150, GrantState.LIVE),
        (base, 99, GrantState.NOT_STARTED),
        (base, 200, GrantState.EXPIRED),
        (ended, 150, GrantState.ACCESS_ENDED),
        (ended, 250, GrantState.EXPIRED),
        (replace(base, status=GrantStatus.WITHDRAWN, withdrawn_at=120), 250,
         GrantState.WITHDRAWN),
        (replace(base, status=GrantStatus.RELEASED), 150, GrantState.RELEASED),
        (replace(base, status=GrantStatus.REPLACED), 150, GrantState.REPLACED),
    ]
    for grant, at, state in cases:
        assert grant.state(at) is state, (grant, at)


def test_a_grant_row_holds_every_state_and_refuses_unknown_endings(tmp_path: Path) -> None:
    """``grants`` takes every status of the consent and every access ending, nothing else."""
    home = VaultHome(tmp_path / "var")
    home.initialise({})
    with home.open() as opened:
        member_id = opened.members.register("old@example.org", GOOD_PASSWORD)
        brand = opened.brands.add("Velo Bikes", ("bikes",))
        opened.data.execute(
            "INSERT INTO grants (id, member_id, brand_id, purpose, fields, mode, starts_at,"
            " ends_at, retention_days, onward_sharing, jurisdiction, collection_method,"
            " agreement, terms_version, status, withdrawn_at, version, created_at, updated_at)"
            " VALUES ('grant_old', ?, ?, 'dpv:Personalisation', '[\"given_name\"]',"
            " 'individual', 1, 2, 30, 0, 'EU', 'test', 'SD-BASE', 1, 'withdrawn', 2, 2, 1, 2)",
            (member_id, brand.id))
        grant = grant_from_row(opened.data.one("SELECT * FROM grants"))
        assert (grant.id, grant.status, grant.withdrawn_at, grant.version) == (
            "grant_old", GrantStatus.WITHDRAWN, 2, 2)
        assert grant.access_ended is None and grant.replaced_by is None
        opened.data.execute("UPDATE grants SET status = 'replaced', replaced_by = 'grant_new'")
        for status in ("active", "released"):
            opened.data.execute("UPDATE grants SET status = ?", (status,))
        for ending in ("code-replay", "refresh-replay", "client-disabled",
                       "authorization-expired", "revoked-by-brand"):
            opened.data.execute("UPDATE grants SET access_ended = ?", (ending,))
        with pytest.raises(Exception, match="CHECK"):
            opened.data.execute("UPDATE grants SET access_ended = 'bogus'")
        with pytest.raises(Exception, match="CHECK"):
            opened.data.execute("UPDATE grants SET status = 'expired'")


def test_duplicates_left_by_older_versions_are_settled_once(
        consent: Consent, sharing: Sharing, member: str, brand: Brand, clock: FrozenClock,
        told: list[tuple[str, GrantEvent]]) -> None:
    older, _ = sharing.grant(member, brand.id, days=30)
    other, _ = sharing.grant(member, brand.id, "dpv:ServiceProvision", days=30)
    # A second live grant for the same purpose, as a store written by an older approval holds.
    clock.advance(60)
    consent.vault.data.execute(
        "INSERT INTO grants SELECT 'grant_newer', member_id, brand_id, purpose, fields, mode,"
        " starts_at, ends_at, retention_days, onward_sharing, third_party, jurisdiction,"
        " collection_method, agreement, terms_version, status, withdrawn_at,"
        " expiry_recorded, version, created_at + 60, updated_at, replaced_by,"
        " access_ended_at, access_ended FROM grants WHERE id = ?", (older.id,))
    clock.advance(60)
    [settled] = consent.grants.settle_duplicates()
    assert settled.id == older.id and settled.replaced_by == "grant_newer"
    assert settled.status is GrantStatus.REPLACED
    assert consent.grants.get(member, other.id).status is GrantStatus.ACTIVE
    assert told[-1] == (older.id, GrantEvent.REPLACED)
    assert grant_extension_of(consent, member, "replaced")["vrmvault:replacedBy"] == \
        "grant_newer"
    assert consent.grants.settle_duplicates() == []


def grant_extension_of(consent: Consent, member: str, event: str) -> dict:
    document = receipt_document(consent, member, event)
    return dict(document["iso27560"]["dpv:hasRecordOfActivity"]["vrmvault:grant"])
