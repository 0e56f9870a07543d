"""The outbox, fed by consent (withdrawal, expiry, ended authorizations) and by erasure:
what is queued, for whom, atomically with the change, and never a member id or address."""

from __future__ import annotations

import json
from typing import Any

import pytest

from brand_gateway.clients import ClientRegistry, OAuthClient
from brand_gateway.observers import erasure_hook
from brand_gateway.pseudonyms import PairwisePseudonyms
from brand_gateway.storage import webhook_outbox
from brand_gateway.webhooks.endpoints import WebhookRegistry
from brand_gateway.webhooks.outbox import enqueue_member_erased, outbox_entries
from brand_gateway.webhooks.signing import WebhookSigner, verify
from brand_gateway.webhooks.sqlcipher import SqlcipherWebhookOutbox
from consent.context import Consent
from consent.errors import PersonalDataError
from consent.model import AccessEnd, GrantStatus
from tests.conftest import GOOD_PASSWORD
from tests.unit.brand_gateway.webhooks.support import (
    EMAIL,
    Receiver,
    dispatcher,
    give_grant,
    independent_verify,
    make_brand,
    outbox,
)
from vault.clock import FrozenClock
from vault.home import Vault


# -- the outbox, fed by consent -------------------------------------------------------------------
def test_withdrawal_is_delivered_signed_to_a_real_receiver(
        vault: Vault, consent: Consent, registry: ClientRegistry, endpoints: WebhookRegistry,
        pseudonyms: PairwisePseudonyms, member_id: str, clock: FrozenClock,
        receiver: Receiver, signer: WebhookSigner) -> None:
    client = make_brand(registry)
    endpoints.add(client.client_id, receiver.url)
    grant = give_grant(consent, member_id, client.brand_id)
    assert outbox(vault) == []                         # a grant given is not notified
    clock.advance(3600)
    consent.grants.withdraw(member_id, grant.id)
    [row] = outbox(vault)
    assert (row["event_type"], row["status"], row["next_attempt_at"]) == (
        "consent.withdrawn", "pending", int(clock()))

    report = dispatcher(vault, clock).deliver_due()
    assert report.delivered == 1
    [request] = receiver.requests
    assert request["path"] == "/hooks/vrmvault"
    assert request["headers"]["content-type"] == "application/json"
    assert independent_verify(request["headers"], request["body"], signer.public_key_text())
    payload = verify(request["headers"], request["body"], signer.public_key_text(),
                     now=clock())
    assert payload == {
        "type": "consent.withdrawn", "timestamp": "2027-01-15T09:00:00Z",
        "data": {"subject": pseudonyms.compute(member_id, client.brand_id),
                 "grant": grant.id, "purpose": "dpv:Personalisation"}}
    assert request["headers"]["webhook-id"] == row["event_id"]
    [entry] = outbox_entries(SqlcipherWebhookOutbox(vault.data))
    assert (entry.status, entry.attempts, entry.last_result) == ("delivered", 1, "204")


def test_only_withdrawal_and_expiry_are_notified(
        vault: Vault, consent: Consent, registry: ClientRegistry, endpoints: WebhookRegistry,
        member_id: str, clock: FrozenClock) -> None:
    client = make_brand(registry)
    endpoints.add(client.client_id, "https://velo.example/a")
    endpoints.add(client.client_id, "https://velo.example/b")
    grant = give_grant(consent, member_id, client.brand_id, days=2)
    consent.grants.narrow(member_id, grant.id, fields=["given_name"])
    assert outbox(vault) == []
    clock.advance(3 * 86_400)
    assert [g.id for g in consent.grants.record_expiries()] == [grant.id]
    rows = outbox(vault)
    # One event, the same id at both of the brand's endpoints.
    assert [r["event_type"] for r in rows] == ["consent.expired"] * 2
    assert rows[0]["event_id"] == rows[1]["event_id"]
    assert {r["endpoint_id"] for r in rows} == {e.id for e in endpoints.list()}
    assert consent.grants.record_expiries() == []
    assert len(outbox(vault)) == 2


@pytest.mark.parametrize(("cause", "event", "consent_state"), [
    (AccessEnd.CODE_REPLAY, "code-replay", "stands"),
    (AccessEnd.REFRESH_REPLAY, "refresh-replay", "stands"),
    (AccessEnd.CLIENT_DISABLED, "client-disabled", "stands"),
    (AccessEnd.EXPIRED, "authorization-expired", "stands"),
    (AccessEnd.REVOKED_BY_BRAND, "revoked-by-brand", "ended"),
])
def test_an_ended_authorization_is_notified_with_its_reason(
        vault: Vault, consent: Consent, registry: ClientRegistry, endpoints: WebhookRegistry,
        pseudonyms: PairwisePseudonyms, member_id: str, cause: AccessEnd, event: str,
        consent_state: str) -> None:
    client = make_brand(registry)
    endpoints.add(client.client_id, "https://velo.example/a")
    grant = give_grant(consent, member_id, client.brand_id)
    consent.grants.end_access(grant.id, cause)
    [row] = outbox(vault)
    assert row["event_type"] == "authorization.ended"
    assert json.loads(row["payload"])["data"] == {
        "subject": pseudonyms.compute(member_id, client.brand_id), "grant": grant.id,
        "purpose": grant.purpose, "reason": event, "consent": consent_state}


def test_a_replaced_grant_is_notified_with_its_successor(
        vault: Vault, consent: Consent, registry: ClientRegistry, endpoints: WebhookRegistry,
        member_id: str) -> None:
    client = make_brand(registry)
    endpoints.add(client.client_id, "https://velo.example/a")
    first = give_grant(consent, member_id, client.brand_id)
    second = give_grant(consent, member_id, client.brand_id)
    [row] = outbox(vault)
    data = json.loads(row["payload"])["data"]
    assert (row["event_type"], data["grant"], data["replaced_by"], data["reason"],
            data["consent"]) == ("authorization.ended", first.id, second.id, "replaced",
                                 "replaced")


def test_a_refusing_ledger_leaves_no_outbox_row(
        vault: Vault, consent: Consent, registry: ClientRegistry, endpoints: WebhookRegistry,
        member_id: str, monkeypatch: pytest.MonkeyPatch) -> None:
    client = make_brand(registry)
    endpoints.add(client.client_id, "https://velo.example/hooks")
    grant = give_grant(consent, member_id, client.brand_id)

    def refuse(**event: Any) -> None:
        raise PersonalDataError("refused")

    monkeypatch.setattr(consent.ledger, "record_event", refuse)
    with pytest.raises(PersonalDataError):
        consent.grants.withdraw(member_id, grant.id)
    assert outbox(vault) == []
    assert consent.grants.get(member_id, grant.id).status is GrantStatus.ACTIVE


def test_a_failing_observer_rolls_back_the_change_and_the_outbox(
        vault: Vault, consent: Consent, registry: ClientRegistry, endpoints: WebhookRegistry,
        member_id: str) -> None:
    client = make_brand(registry)
    endpoints.add(client.client_id, "https://velo.example/hooks")
    grant = give_grant(consent, member_id, client.brand_id)
    entries = consent.ledger.size

    def broken(*args: Any) -> None:
        raise RuntimeError("observer failed")

    consent.observers.append(broken)              # after the webhook observer
    with pytest.raises(RuntimeError):
        consent.grants.withdraw(member_id, grant.id)
    assert outbox(vault) == []
    assert consent.grants.get(member_id, grant.id).status is GrantStatus.ACTIVE
    assert consent.ledger.size == entries       # nothing reached the ledger either


# -- the outbox, fed by erasure -------------------------------------------------------------------
def test_erasure_tells_every_brand_that_knew_the_member(
        vault: Vault, consent: Consent, registry: ClientRegistry, endpoints: WebhookRegistry,
        pseudonyms: PairwisePseudonyms, clock: FrozenClock, receiver: Receiver,
        signer: WebhookSigner) -> None:
    member_id = vault.members.register(EMAIL, GOOD_PASSWORD)
    vault.profile.update(member_id, {"given_name": "Alice"})
    velo, grocer, stranger = (make_brand(registry), make_brand(registry, "Green Grocer"),
                              make_brand(registry, "Never Met"))
    for client in (velo, grocer, stranger):
        endpoints.add(client.client_id, receiver.url)
    grant = give_grant(consent, member_id, velo.brand_id)        # a grant, no pseudonym yet
    consent.grants.withdraw(member_id, grant.id)                 # ... withdrawn: still knew
    pseudonyms.pairwise_id(member_id, grocer.brand_id)           # a pseudonym, no grant
    vault.data.execute("DELETE FROM webhook_outbox")
    clock.advance(60)

    vault.erasure.before_delete.append(erasure_hook(vault.data, vault.master))
    vault.erasure.erase(member_id)

    assert vault.data.one("SELECT count(*) FROM members WHERE id = ?", (member_id,))[0] == 0
    assert vault.data.one("SELECT count(*) FROM pairwise_subjects")[0] == 0
    rows = outbox(vault)                     # outlived the member's rows: nothing cascades
    assert [r["event_type"] for r in rows] == ["member.erased"] * 2
    assert {r["client_id"] for r in rows} == {velo.client_id, grocer.client_id}
    assert rows[0]["event_id"] != rows[1]["event_id"]      # nothing to join the brands on

    assert dispatcher(vault, clock).deliver_due().delivered == 2
    subjects = {}
    for request in receiver.requests:
        assert independent_verify(request["headers"], request["body"], signer.public_key_text())
        payload = verify(request["headers"], request["body"], signer.public_key_text(),
                         now=clock())
        assert payload["type"] == "member.erased"
        subjects[json.dumps(payload["data"]["grants"])] = payload["data"]["subject"]
    assert subjects == {
        json.dumps([grant.id]): pseudonyms.compute(member_id, velo.brand_id),
        "[]": pseudonyms.compute(member_id, grocer.brand_id)}
    assert len(set(subjects.values())) == 2                     # two brands, two pseudonyms
    for row in outbox(vault):
        assert member_id not in row["payload"] and EMAIL not in row["payload"]
        assert "@" not in row["payload"] and "Alice" not in row["payload"]


def test_an_erasure_that_fails_leaves_no_outbox_row(
        vault: Vault, registry: ClientRegistry, endpoints: WebhookRegistry,
        pseudonyms: PairwisePseudonyms, member_id: str) -> None:
    client = make_brand(registry)
    endpoints.add(client.client_id, "https://velo.example/hooks")
    pseudonyms.pairwise_id(member_id, client.brand_id)

    def broken(member: str, erased_at: int) -> None:
        raise RuntimeError("hook failed")

    vault.erasure.before_delete[:] = [erasure_hook(vault.data, vault.master), broken]
    with pytest.raises(RuntimeError):
        vault.erasure.delete_rows(member_id, erased_at=1)
    assert outbox(vault) == []
    assert vault.data.one("SELECT count(*) FROM members WHERE id = ?", (member_id,))[0] == 1


def _two_brands_knowing_a_member(vault: Vault, registry: ClientRegistry,
                                 endpoints: WebhookRegistry) -> tuple[OAuthClient, OAuthClient,
                                                                      str]:
    velo, grocer = make_brand(registry), make_brand(registry, "Green Grocer")
    endpoints.add(velo.client_id, "https://velo.example/hooks")
    endpoints.add(grocer.client_id, "https://grocer.example/hooks")
    return velo, grocer, vault.members.register(EMAIL, GOOD_PASSWORD)


def test_payloads_hold_no_member_id_or_address(
        vault: Vault, consent: Consent, registry: ClientRegistry, endpoints: WebhookRegistry,
        pseudonyms: PairwisePseudonyms, clock: FrozenClock) -> None:
    velo, grocer, member_id = _two_brands_knowing_a_member(vault, registry, endpoints)
    for client in (velo, grocer):
        consent.grants.withdraw(member_id, give_grant(consent, member_id, client.brand_id).id)
    enqueue_member_erased(webhook_outbox(vault.data), pseudonyms, member_id, int(clock()))
    rows = outbox(vault)
    assert len(rows) == 4
    for row in rows:
        assert member_id not in row["payload"] and EMAIL not in row["payload"]
        assert set(json.loads(row["payload"])) == {"type", "timestamp", "data"}
    by_client: dict[str, set[str]] = {}
    for row in rows:
        by_client.setdefault(row["client_id"], set()).add(
            json.loads(row["payload"])["data"]["subject"])
    # Each brand always sees the same pseudonym, and never the other brand's.
    assert all(len(subjects) == 1 for subjects in by_client.values())
    assert by_client[velo.client_id].isdisjoint(by_client[grocer.client_id])


def test_an_event_sent_to_several_brands_at_once_carries_the_day_not_the_second(
        vault: Vault, consent: Consent, registry: ClientRegistry, endpoints: WebhookRegistry,
        pseudonyms: PairwisePseudonyms, clock: FrozenClock) -> None:
    # One erasure reaches every brand that knew the member at the same second: the second in
    # each brand's copy would let two brands pair their pseudonyms of the member by it.
    velo, grocer, member_id = _two_brands_knowing_a_member(vault, registry, endpoints)
    grant = give_grant(consent, member_id, velo.brand_id)
    give_grant(consent, member_id, grocer.brand_id)
    clock.advance(3 * 3600 + 17 * 60 + 42)             # 11:17:42 on the frozen clock's day
    consent.grants.withdraw(member_id, grant.id)      # one brand's own event: its second
    enqueue_member_erased(webhook_outbox(vault.data), pseudonyms, member_id, int(clock()))
    stamps = {(json.loads(row["payload"])["type"], row["client_id"]):
              json.loads(row["payload"])["timestamp"] for row in outbox(vault)}
    assert stamps == {("consent.withdrawn", velo.client_id): "2027-01-15T11:17:42Z",
                      ("member.erased", velo.client_id): "2027-01-15T00:00:00Z",
                      ("member.erased", grocer.client_id): "2027-01-15T00:00:00Z"}
