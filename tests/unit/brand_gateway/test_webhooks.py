"""Brand webhooks (GDPR Art. 19): endpoints, Standard Webhooks v1a signatures, the durable
outbox fed by consent and erasure, and delivery with backoff, against fakes and a real local
HTTP receiver.

The ``standardwebhooks`` package on PyPI (1.1.0) verifies only the symmetric ``v1`` scheme, so
signatures are checked here with ``cryptography`` directly (:func:`independent_verify`, written
from the specification, not from the code under test) and against a known answer published with
the reference implementation.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from brand_gateway.clients import ClientRegistry, OAuthClient
from brand_gateway.observers import erasure_hook, grant_observer
from brand_gateway.pseudonyms import PairwisePseudonyms
from brand_gateway.webhooks import (
    MAX_ATTEMPTS,
    MAX_ENDPOINTS_PER_CLIENT,
    MAX_RETRY_DELAY,
    HttpResult,
    WebhookDispatcher,
    WebhookRegistry,
    WebhookSigner,
    WebhookVerificationError,
    enqueue_member_erased,
    outbox_entries,
    retry_delay,
    verify,
    webhook_public_jwk,
    webhook_public_key,
    webhook_url_problem,
)
from consent.context import Consent, open_consent
from consent.errors import PersonalDataError
from consent.grants import BrandRequest
from consent.model import AccessEnd, Grant, GrantStatus
from consent.receipts import DEFAULT_CONTROLLER, ReceiptSigner
from consent.vocabulary import PURPOSES
from tests.conftest import GOOD_PASSWORD
from vault.clock import FrozenClock
from vault.errors import ConflictError, NotFoundError, ValidationError
from vault.home import Vault, VaultHome

ALL_PURPOSES = frozenset(p.code for p in PURPOSES)
EMAIL = "alice@example.org"


# -- helpers: an independent verifier and a real receiver -----------------------------------------
def independent_verify(headers: dict[str, str], body: bytes, public_key: str) -> bool:
    """Standard Webhooks v1a, from the specification: Ed25519 over ``id.timestamp.body``."""
    assert public_key.startswith("whpk_")
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key[5:]))
    content = b".".join([headers["webhook-id"].encode(), headers["webhook-timestamp"].encode(),
                         body])
    for signature in headers["webhook-signature"].split(" "):
        version, _, value = signature.partition(",")
        if version == "v1a":
            try:
                key.verify(base64.b64decode(value), content)
            except InvalidSignature:
                return False
            return True
    return False


class Receiver:
    """A brand's webhook endpoint: an HTTP server on 127.0.0.1 in a thread, recording what it
    is sent and answering with ``statuses`` in turn (the last one repeats)."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.statuses: list[int] = [204]
        self.extra_headers: dict[str, str] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length", "0"))
                receiver.requests.append({
                    "path": self.path,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": self.rfile.read(length)})
                status = receiver.statuses.pop(0) if len(receiver.statuses) > 1 \
                    else receiver.statuses[0]
                self.send_response(status)
                for name, value in receiver.extra_headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the test reads what was received, not the server's log."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hooks/vrmvault"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


# -- fixtures -------------------------------------------------------------------------------------
@pytest.fixture
def endpoints(vault: Vault, clock: FrozenClock) -> WebhookRegistry:
    return WebhookRegistry(database=vault.data, clock=clock)


@pytest.fixture
def signer(vault: Vault) -> WebhookSigner:
    return WebhookSigner.from_master(vault.master)


@pytest.fixture
def consent(vault: Vault, vault_home: VaultHome) -> Iterator[Consent]:
    """Consent services with the gateway's observer attached, as the web and CLI layers do."""
    opened = open_consent(vault, vault_home, observers=[grant_observer(vault.data, vault.master)])
    yield opened
    opened.close()


def make_brand(registry: ClientRegistry, name: str = "Velo Bikes") -> OAuthClient:
    slug = name.lower().replace(" ", "-")
    client, _ = registry.create(name, [f"https://{slug}.example/cb"], ["bikes"])
    return client


def give_grant(consent: Consent, member_id: str, brand_id: str,
               purpose: str = "dpv:Personalisation", days: int = 30) -> Grant:
    consent.terms.update(member_id, agreement="SD-BASE-ATP", purposes=ALL_PURPOSES,
                         max_days=365, aggregate_allowed=True)
    if consent.agreements.in_force(member_id, brand_id) is None:
        offer = consent.agreements.proffer(member_id, brand_id)
        consent.agreements.brand_accepts(offer.id, brand_id)
    grant, _ = consent.grants.grant(member_id, BrandRequest(
        brand_id, purpose, frozenset({"given_name", "category:interests"}), days=days))
    return grant


def outbox(vault: Vault) -> list[Any]:
    return vault.data.all("SELECT * FROM webhook_outbox ORDER BY id")


def dispatcher(vault: Vault, clock: FrozenClock, **options: Any) -> WebhookDispatcher:
    return WebhookDispatcher(database=vault.data, signer=WebhookSigner.from_master(vault.master),
                             clock=clock, **options)


class FakeSender:
    """Answers with ``results`` in turn (the last one repeats); an exception is raised."""

    def __init__(self, *results: HttpResult | Exception) -> None:
        self.results = list(results)
        self.calls: list[tuple[str, bytes, dict[str, str], float]] = []

    def __call__(self, url: str, body: bytes, headers: Any, timeout: float) -> HttpResult:
        self.calls.append((url, body, dict(headers), timeout))
        result = self.results.pop(0) if len(self.results) > 1 else self.results[0]
        if isinstance(result, Exception):
            raise result
        return result


@pytest.fixture
def queued(vault: Vault, registry: ClientRegistry, endpoints: WebhookRegistry,
           pseudonyms: PairwisePseudonyms, member_id: str, clock: FrozenClock) -> int:
    """One pending member.erased row for one endpoint; its outbox id."""
    client = make_brand(registry)
    endpoints.add(client.client_id, "https://velo-bikes.example/hooks")
    pseudonyms.pairwise_id(member_id, client.brand_id)
    assert enqueue_member_erased(vault.data, pseudonyms, member_id, int(clock())) == 1
    return int(outbox(vault)[0]["id"])


# -- endpoints ------------------------------------------------------------------------------------
@pytest.mark.parametrize("url", [
    "https://brand.example/hooks",
    "https://brand.example:8443/hooks?source=vrmvault",
    "https://192.0.2.10/hooks",
    "http://127.0.0.1:9000/hooks",
    "http://[::1]:9000/hooks",
    "http://localhost/hooks",
])
def test_acceptable_urls(url: str) -> None:
    assert webhook_url_problem(url) is None


@pytest.mark.parametrize(("url", "problem"), [
    ("", "non-empty"),
    (None, "non-empty"),
    ("/hooks", "absolute https"),
    ("brand.example/hooks", "absolute https"),
    ("ftp://brand.example/hooks", "absolute https"),
    ("HTTPS://brand.example/hooks", "absolute https"),
    ("https:///hooks", "absolute https"),
    ("http://brand.example/hooks", "must use https"),
    ("http://127.0.0.1.brand.example/hooks", "must use https"),
    ("http://10.0.0.1/hooks", "must use https"),
    ("https://user:secret@brand.example/hooks", "user information"),
    ("https://@brand.example/hooks", "user information"),
    ("https://brand.example/hooks#part", "fragment"),
    ("https://brand.example:99999/hooks", "invalid host or port"),
    ("https://brand.example:port/hooks", "invalid host or port"),
    ("https://brand.example/ho oks", "ASCII"),
    ("https://brand.example/hooks\n", "ASCII"),
    ("https://bränd.example/hooks", "ASCII"),
    ("https://brand.example/" + "h" * 2000, "at most 2000"),
])
def test_refused_urls(url: Any, problem: str) -> None:
    found = webhook_url_problem(url)
    assert found is not None and problem in found


def test_add_refuses_a_bad_url_with_a_field_error(endpoints: WebhookRegistry,
                                                  registry: ClientRegistry) -> None:
    client = make_brand(registry)
    with pytest.raises(ValidationError) as caught:
        endpoints.add(client.client_id, "http://brand.example/hooks")
    assert list(caught.value.errors) == ["url"]
    assert endpoints.list() == []


def test_add_list_and_remove(endpoints: WebhookRegistry, registry: ClientRegistry,
                             clock: FrozenClock) -> None:
    velo, grocer = make_brand(registry), make_brand(registry, "Green Grocer")
    first = endpoints.add(velo.client_id, "https://velo.example/hooks")
    second = endpoints.add(grocer.client_id, "https://grocer.example/hooks")
    assert (first.client_id, first.brand_name, first.live) == (velo.client_id, "Velo Bikes", True)
    assert endpoints.list() == [first, second]
    assert endpoints.list(grocer.client_id) == [second]
    with pytest.raises(ConflictError):
        endpoints.add(velo.client_id, "https://velo.example/hooks")
    with pytest.raises(NotFoundError):
        endpoints.add("client_nobody", "https://velo.example/hooks")
    clock.advance(60)
    removed = endpoints.remove(first.id)
    assert removed.disabled_at == int(clock()) and not removed.live
    with pytest.raises(NotFoundError):
        endpoints.remove(first.id)
    with pytest.raises(NotFoundError):
        endpoints.remove(999)
    # Removed endpoints stay listed; the same URL can be added again.
    assert [e.live for e in endpoints.list()] == [False, True]
    assert endpoints.add(velo.client_id, "https://velo.example/hooks").live


def test_a_client_has_a_few_endpoints_at_most(endpoints: WebhookRegistry,
                                              registry: ClientRegistry) -> None:
    client = make_brand(registry)
    for number in range(MAX_ENDPOINTS_PER_CLIENT):
        endpoints.add(client.client_id, f"https://velo.example/hooks/{number}")
    with pytest.raises(ValidationError):
        endpoints.add(client.client_id, "https://velo.example/hooks/more")


# -- signatures -----------------------------------------------------------------------------------
def test_a_known_answer_from_the_reference_implementation() -> None:
    # The asymmetric signing test of standard-webhooks/standard-webhooks (libraries/go):
    # this seed, id, time and body give this signature.
    seed = base64.b64decode("VEVTVFNJR05JTkdLRVlET05PVFVTRVRISVNGT1JBTlk=")
    signer = WebhookSigner(Ed25519PrivateKey.from_private_bytes(seed))
    assert signer.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, b'{"test": 2432232314}') == (
        "v1a,tQ9V2XOqn7jL/DQenEFpqIugdBVtiMmER5mhSkXBNwM0mkATuDe6KYYUuxqtaiHeYGb7KaaBRdM5WqyeFiL8"
        "Ag==")


def test_signatures_verify_independently_and_break_on_any_change(signer: WebhookSigner) -> None:
    body = b'{"data":{"subject":"abc"},"type":"member.erased"}'
    headers = signer.headers("0b6f3c1e-2f44-4c1c-9d5e-0d3f3c0b8a11", 1_800_000_000, body)
    key = signer.public_key_text()
    assert independent_verify(headers, body, key)
    assert verify(headers, body, key, now=1_800_000_000) == json.loads(body)
    for index in (0, len(body) // 2, len(body) - 1):
        changed = bytearray(body)
        changed[index] ^= 0x01
        assert not independent_verify(headers, bytes(changed), key)
        with pytest.raises(WebhookVerificationError):
            verify(headers, bytes(changed), key, now=1_800_000_000)
    for name, value in (("webhook-timestamp", "1800000001"), ("webhook-id", "another-id")):
        altered = {**headers, name: value}
        assert not independent_verify(altered, body, key)
        with pytest.raises(WebhookVerificationError, match="no valid v1a signature"):
            verify(altered, body, key, now=1_800_000_000)


def test_verify_refuses_stale_missing_and_foreign(signer: WebhookSigner) -> None:
    body = b"{}"
    headers = signer.headers("an-id", 1_800_000_000, body)
    key = signer.public_key_text()
    assert verify(headers, body, key, now=1_800_000_000 + 300) == {}
    with pytest.raises(WebhookVerificationError, match="tolerance"):
        verify(headers, body, key, now=1_800_000_000 + 301)
    with pytest.raises(WebhookVerificationError, match="tolerance"):
        verify(headers, body, key, now=1_800_000_000 - 301)
    with pytest.raises(WebhookVerificationError, match="missing"):
        verify({k: v for k, v in headers.items() if k != "webhook-signature"}, body, key,
               now=1_800_000_000)
    with pytest.raises(WebhookVerificationError, match="Unix seconds"):
        verify({**headers, "webhook-timestamp": "1.8e9"}, body, key, now=1_800_000_000)
    other = WebhookSigner(Ed25519PrivateKey.generate()).public_key_text()
    with pytest.raises(WebhookVerificationError):
        verify(headers, body, other, now=1_800_000_000)
    # Several signatures, space-separated (key rotation): any valid v1a one is enough.
    several = {**headers, "webhook-signature": "v1,AAAA v1a,!!! " + headers["webhook-signature"]}
    assert verify({k.upper(): v for k, v in several.items()}, body, key,
                  now=1_800_000_000) == {}


def test_the_public_key_as_jwk_and_whpk(vault: Vault, signer: WebhookSigner) -> None:
    jwk = webhook_public_jwk(vault.master)
    assert set(jwk) == {"kty", "crv", "x", "kid", "alg", "use"}
    assert (jwk["kty"], jwk["crv"], jwk["alg"], jwk["use"]) == ("OKP", "Ed25519", "EdDSA", "sig")
    assert jwk["kid"] == signer.kid and jwk["kid"].startswith("webhook-")
    receipts = ReceiptSigner(vault.master, controller=DEFAULT_CONTROLLER)
    assert jwk["kid"] != receipts.kid and jwk["x"] != receipts.public_jwk()["x"]
    raw = base64.urlsafe_b64decode(jwk["x"] + "=")
    assert webhook_public_key(vault.master) == "whpk_" + base64.b64encode(raw).decode()
    # The JWK's key checks a signature made by the signer.
    body = b"{}"
    headers = signer.headers("id", 1, body)
    Ed25519PublicKey.from_public_bytes(raw).verify(
        base64.b64decode(headers["webhook-signature"][4:]), b"id.1.{}")
    # The same master key gives the same key; another gives another.
    assert WebhookSigner.from_master(vault.master).kid == signer.kid


# -- backoff and dead-lettering -------------------------------------------------------------------
def test_the_retry_schedule() -> None:
    assert [retry_delay(n, 0.0) for n in range(1, 13)] == [
        30, 60, 120, 240, 480, 960, 1920, 3840, 7680, 15360, 21600, 21600]
    assert retry_delay(500, 0.0) == MAX_RETRY_DELAY
    # Jitter only shortens, by at most 20 %.
    for failures in (1, 5, 20):
        base = retry_delay(failures, 0.0)
        assert 0.8 * base <= retry_delay(failures, 0.999) < base
    # About 2.5 days from the first attempt to the last, without jitter.
    total = sum(retry_delay(n, 0.0) for n in range(1, MAX_ATTEMPTS))
    assert 2 * 86_400 < total < 3 * 86_400


def test_failures_back_off_then_the_row_is_dead(vault: Vault, clock: FrozenClock,
                                                queued: int) -> None:
    sender = FakeSender(HttpResult(503), ConnectionError("refused: secret detail"))
    worker = dispatcher(vault, clock, sender=sender, fraction=lambda: 0.0)
    for failures in range(1, MAX_ATTEMPTS):
        report = worker.deliver_due()
        assert (report.attempted, report.retrying) == (1, 1)
        row = outbox(vault)[0]
        assert row["status"] == "pending" and row["attempts"] == failures
        assert row["next_attempt_at"] == int(clock()) + retry_delay(failures, 0.0)
        clock.advance(row["next_attempt_at"] - clock() - 1)
        assert worker.deliver_due().attempted == 0          # not due yet
        clock.advance(1)
    report = worker.deliver_due()
    assert (report.attempted, report.dead) == (1, 1)
    row = outbox(vault)[0]
    assert (row["status"], row["attempts"], row["delivered_at"]) == ("dead", MAX_ATTEMPTS, None)
    clock.advance(30 * 86_400)
    assert worker.deliver_due().attempted == 0
    attempts = vault.data.all("SELECT * FROM webhook_attempts WHERE outbox_id = ?", (queued,))
    assert len(attempts) == MAX_ATTEMPTS == len(sender.calls)
    assert [a["http_status"] for a in attempts[:1]] == [503]
    # Errors are recorded by class, never by message.
    assert {a["error"] for a in attempts[1:]} == {"ConnectionError"}
    assert all("secret" not in (a["error"] or "") for a in attempts)


def test_success_after_a_failure(vault: Vault, clock: FrozenClock, queued: int) -> None:
    sender = FakeSender(TimeoutError(), HttpResult(200))
    worker = dispatcher(vault, clock, sender=sender, fraction=lambda: 0.5)
    assert worker.deliver_due().retrying == 1
    assert outbox(vault)[0]["next_attempt_at"] == int(clock()) + 27       # 30 s less 10 %
    clock.advance(27)
    assert worker.deliver_due().delivered == 1
    row = outbox(vault)[0]
    assert (row["status"], row["attempts"], row["delivered_at"]) == ("delivered", 2, clock())
    url, body, headers, timeout = sender.calls[-1]
    assert url == "https://velo-bikes.example/hooks" and timeout == 5.0
    assert headers["Content-Type"] == "application/json"
    assert headers["webhook-timestamp"] == str(int(clock()))     # the attempt's time
    assert headers["webhook-id"] == row["event_id"] == sender.calls[0][2]["webhook-id"]
    assert body == row["payload"].encode()
    clock.advance(86_400)
    assert worker.deliver_due().attempted == 0


def test_retry_after_and_gone(vault: Vault, clock: FrozenClock, queued: int,
                              endpoints: WebhookRegistry) -> None:
    worker = dispatcher(vault, clock, sender=FakeSender(HttpResult(429, retry_after=3600),
                                                        HttpResult(410)),
                        fraction=lambda: 0.0)
    worker.deliver_due()
    assert outbox(vault)[0]["next_attempt_at"] == int(clock()) + 3600
    clock.advance(3600)
    assert worker.deliver_due().dead == 1
    # 410 Gone: the brand wants no more here; the endpoint is disabled.
    assert not endpoints.list()[0].live


def test_a_claimed_row_is_not_sent_twice_at_once(vault: Vault, vault_home: VaultHome,
                                                 clock: FrozenClock, queued: int) -> None:
    seen: list[int] = []

    def slow_sender(url: str, body: bytes, headers: Any, timeout: float) -> HttpResult:
        # While this worker is sending, a second worker on its own connection finds nothing.
        with vault_home.open(clock=clock) as other:
            seen.append(dispatcher(other, clock, sender=FakeSender(HttpResult(200)))
                        .deliver_due().attempted)
        return HttpResult(500)

    dispatcher(vault, clock, sender=slow_sender, fraction=lambda: 0.0).deliver_due()
    assert seen == [0]
    assert outbox(vault)[0]["attempts"] == 1


def test_removing_an_endpoint_gives_up_its_pending_rows(vault: Vault, clock: FrozenClock,
                                                       queued: int,
                                                       endpoints: WebhookRegistry) -> None:
    endpoints.remove(endpoints.list()[0].id)
    assert outbox(vault)[0]["status"] == "dead"
    assert dispatcher(vault, clock, sender=FakeSender(HttpResult(200))).deliver_due().attempted \
        == 0


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
    [entry] = outbox_entries(vault.data)
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


def test_payloads_hold_no_member_id_or_address(
        vault: Vault, consent: Consent, registry: ClientRegistry, endpoints: WebhookRegistry,
        pseudonyms: PairwisePseudonyms, clock: FrozenClock) -> None:
    velo, grocer = make_brand(registry), make_brand(registry, "Green Grocer")
    endpoints.add(velo.client_id, "https://velo.example/hooks")
    endpoints.add(grocer.client_id, "https://grocer.example/hooks")
    member_id = vault.members.register(EMAIL, GOOD_PASSWORD)
    for client in (velo, grocer):
        consent.grants.withdraw(member_id, give_grant(consent, member_id, client.brand_id).id)
    enqueue_member_erased(vault.data, pseudonyms, member_id, int(clock()))
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
