"""Signed webhooks that tell brands to delete their copies (DESIGN.md sec. 4, GDPR Art. 19).

Four events: ``consent.withdrawn``, ``consent.expired`` and ``authorization.ended`` (to the
grant's brand) and ``member.erased`` (to every brand that ever knew the member). A giving or a
narrowing is not notified. ``authorization.ended`` says the brand's access under a grant ended
and why (``reason``: ``code-replay``, ``refresh-replay``, ``client-disabled``,
``authorization-expired``, ``revoked-by-brand``, ``replaced``) and whether the member's consent
``stands`` (the brand may ask again), ``ended`` (it revoked the authorization itself) or was
``replaced`` (by ``replaced_by``, the grant of its newer authorization). Each event is written
to a durable outbox in the transaction of the change it announces, then sent by
:class:`WebhookDispatcher`, retried with backoff, and every attempt is recorded for compliance
(``vrmvault webhooks attempts``).

Wire format, per the Standard Webhooks specification (https://www.standardwebhooks.com):
``POST`` of a minified JSON body ``{"type", "timestamp", "data"}`` with the headers
``webhook-id`` (the event's UUID: the brand's idempotency key, the same on every retry),
``webhook-timestamp`` (Unix seconds of the attempt) and ``webhook-signature``:
``v1a,<base64 Ed25519 signature of "{webhook-id}.{webhook-timestamp}.{body}">``. The asymmetric
scheme ``v1a`` needs no secret shared with the brand: one key pair, derived from the master key
(``master.derive("webhook-signing")``), whose public half is published as a JWK and in the
spec's ``whpk_`` form. :func:`verify` is what a brand's receiver does.

Invariants:
- Payloads are pseudonymous: the brand's own pairwise id of the member
  (:class:`~brand_gateway.pseudonyms.PairwisePseudonyms`), grant ids, a purpose code and a time.
  Never a member id, an e-mail address or a profile value.
- An event id is per brand: two brands told of the same erasure get unrelated ids, so they can
  join on neither the subject nor the event.
- Every live endpoint of the brand's clients is told, a disabled client's too: the brand still
  holds the copies Art. 19 is about.
- Endpoint URLs are absolute ``https``, or ``http`` on a loopback host only; no user
  information, no fragment. Redirects are not followed and response bodies are not read.
- A row is claimed under the write lock (``BEGIN IMMEDIATE``) by moving its ``next_attempt_at``
  a lease ahead, so two workers never send it at once; a worker that dies mid-send leaves the
  row to be retried when the lease ends (delivery is at least once; brands dedupe on the id).
- Logs name outbox and endpoint ids and error classes; never payloads or error messages.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import ipaddress
import json
import logging
import random
import socket
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn
from urllib.parse import urlsplit

import requests
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from joserfc.jwk import OKPKey
from requests.adapters import HTTPAdapter

from consent.model import Grant, GrantEvent
from vault.clock import Clock
from vault.errors import ConflictError, ConstraintViolationError, NotFoundError, ValidationError
from vault.keys import MasterKey
from vault.storage import Database

from .clients import LOOPBACK_HOSTS, endpoint_url_problem
from .errors import DestinationRefusedError, WebhookVerificationError
from .pseudonyms import PairwisePseudonyms

logger = logging.getLogger(__name__)

CONSENT_WITHDRAWN = "consent.withdrawn"
CONSENT_EXPIRED = "consent.expired"
MEMBER_ERASED = "member.erased"
AUTHORIZATION_ENDED = "authorization.ended"
NOTIFIED_GRANT_EVENTS = {GrantEvent.WITHDRAWN: CONSENT_WITHDRAWN,
                         GrantEvent.EXPIRED: CONSENT_EXPIRED,
                         GrantEvent.ACCESS_ENDED: AUTHORIZATION_ENDED,
                         GrantEvent.RELEASED: AUTHORIZATION_ENDED,
                         GrantEvent.REPLACED: AUTHORIZATION_ENDED}
STATUSES = ("pending", "delivered", "dead")

MAX_URL_LENGTH = 2000
MAX_ENDPOINTS_PER_CLIENT = 5

SIGNING_PURPOSE = "webhook-signing"
SIGNATURE_VERSION = "v1a"                 # Standard Webhooks: asymmetric (Ed25519)
PUBLIC_KEY_PREFIX = "whpk_"
TIMESTAMP_TOLERANCE = 5 * 60              # what a receiver accepts either side of its clock

REQUEST_TIMEOUT = 5.0                     # seconds, to connect and between bytes read
CLAIM_LEASE = 60                          # seconds a claimed row is left alone (> the timeout)
FIRST_RETRY = 30                          # seconds after the first failure, doubling ...
MAX_RETRY_DELAY = 6 * 60 * 60             # ... up to 6 h
JITTER = 0.2                              # each delay shortened by up to 20 %, at random
MAX_ATTEMPTS = 20                         # about 2.5 days of retries, then dead
USER_AGENT = "vrmvault-webhooks/1"


# -- endpoints --------------------------------------------------------------------------------
@dataclass(frozen=True)
class WebhookEndpoint:
    id: int
    client_id: str
    brand_name: str
    url: str
    created_at: int
    disabled_at: int | None

    @property
    def live(self) -> bool:
        return self.disabled_at is None


def webhook_url_problem(url: object) -> str | None:
    """Why ``url`` may not be a webhook endpoint, or ``None`` if it may. Plain http is for
    loopback only: payloads are pseudonymous, but a brand's deletion orders are nobody else's
    business."""
    return endpoint_url_problem(url, max_length=MAX_URL_LENGTH)


class WebhookRegistry:
    """The endpoints brands are notified at: at most a few live ones per client."""

    def __init__(self, *, database: Database, clock: Clock) -> None:
        self._db = database
        self._clock = clock

    def add(self, client_id: str, url: str) -> WebhookEndpoint:
        problem = webhook_url_problem(url)
        if problem:
            _refuse("url", f"Webhook URL: {problem}")
        with self._db.transaction():
            if self._db.one("SELECT 1 FROM oauth_clients WHERE client_id = ?",
                            (client_id,)) is None:
                raise NotFoundError(f"no client {client_id!r}")
            live = self._db.one("SELECT count(*) FROM webhook_endpoints WHERE client_id = ?"
                                " AND disabled_at IS NULL", (client_id,))[0]
            if live >= MAX_ENDPOINTS_PER_CLIENT:
                _refuse("url", f"A client has at most {MAX_ENDPOINTS_PER_CLIENT} endpoints; "
                               "remove one first.")
            try:
                cursor = self._db.execute(
                    "INSERT INTO webhook_endpoints (client_id, url, created_at) VALUES (?, ?, ?)",
                    (client_id, url, int(self._clock())))
            except ConstraintViolationError:
                raise ConflictError("this client has that endpoint already") from None
            return self.get(int(cursor.lastrowid))

    def get(self, endpoint_id: int) -> WebhookEndpoint:
        row = self._db.one(f"{_ENDPOINTS} WHERE e.id = ?", (endpoint_id,))
        if row is None:
            raise NotFoundError(f"no webhook endpoint {endpoint_id}")
        return _endpoint(row)

    def list(self, client_id: str | None = None) -> list[WebhookEndpoint]:
        """Every endpoint (removed ones too), of one client or of all."""
        return [_endpoint(r) for r in self._db.all(
            f"{_ENDPOINTS} WHERE ? IS NULL OR e.client_id = ? ORDER BY e.id",
            (client_id, client_id))]

    def remove(self, endpoint_id: int) -> WebhookEndpoint:
        """Stop sending to the endpoint; what was still pending for it is given up (``dead``).
        The row stays, for the outbox rows and attempts that name it."""
        with self._db.transaction():
            endpoint = self.get(endpoint_id)
            if not endpoint.live:
                raise NotFoundError(f"webhook endpoint {endpoint_id} was removed already")
            _disable(self._db, endpoint_id, int(self._clock()))
            return self.get(endpoint_id)


_ENDPOINTS = (
    "SELECT e.*, b.name AS brand_name FROM webhook_endpoints AS e"
    " JOIN oauth_clients AS c ON c.client_id = e.client_id JOIN brands AS b ON b.id = c.brand_id"
)


def _endpoint(row: Any) -> WebhookEndpoint:
    return WebhookEndpoint(row["id"], row["client_id"], row["brand_name"], row["url"],
                           row["created_at"], row["disabled_at"])


def _disable(database: Database, endpoint_id: int, now: int) -> None:
    database.execute("UPDATE webhook_endpoints SET disabled_at = ? WHERE id = ?",
                     (now, endpoint_id))
    database.execute("UPDATE webhook_outbox SET status = 'dead' WHERE endpoint_id = ?"
                     " AND status = 'pending'", (endpoint_id,))


def _refuse(field: str, message: str) -> NoReturn:
    raise ValidationError({field: [message]}, message)


# -- signing and verifying --------------------------------------------------------------------
def signed_content(msg_id: str, timestamp: str, body: bytes) -> bytes:
    """What is signed: ``{webhook-id}.{webhook-timestamp}.{body}``, the body byte for byte."""
    return f"{msg_id}.{timestamp}.".encode() + body


class WebhookSigner:
    """Signs deliveries with the vault's webhook key (Ed25519, Standard Webhooks ``v1a``)."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._private = private_key
        self.public_key = private_key.public_key()
        # An RFC 7638 thumbprint, prefixed so the key is told apart in a shared JWK Set.
        self.kid = "webhook-" + OKPKey.import_key(self.public_key).thumbprint()

    @classmethod
    def from_master(cls, master: MasterKey) -> WebhookSigner:
        return cls(Ed25519PrivateKey.from_private_bytes(master.derive(SIGNING_PURPOSE)))

    def __repr__(self) -> str:
        return f"WebhookSigner(kid={self.kid!r})"

    def sign(self, msg_id: str, timestamp: int, body: bytes) -> str:
        signature = self._private.sign(signed_content(msg_id, str(timestamp), body))
        return f"{SIGNATURE_VERSION},{base64.b64encode(signature).decode('ascii')}"

    def headers(self, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
        return {"webhook-id": msg_id, "webhook-timestamp": str(timestamp),
                "webhook-signature": self.sign(msg_id, timestamp, body)}

    def public_jwk(self) -> dict[str, Any]:
        """The public key as a JWK (RFC 8037 sec. 2) with its own ``kid``; never ``d``."""
        jwk = dict(OKPKey.import_key(self.public_key, {"kid": self.kid, "alg": "EdDSA",
                                                       "use": "sig"}).as_dict(private=False))
        jwk.pop("d", None)
        return jwk

    def public_key_text(self) -> str:
        """The public key in the spec's serialisation: ``whpk_`` and base64 of its 32 bytes."""
        raw = self.public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
        return PUBLIC_KEY_PREFIX + base64.b64encode(raw).decode("ascii")



def webhook_public_jwk(master: MasterKey) -> dict[str, Any]:
    """The webhook verification key as a JWK, for ``/.well-known/jwks.json``."""
    return WebhookSigner.from_master(master).public_jwk()


def webhook_public_key(master: MasterKey) -> str:
    """The webhook verification key as ``whpk_…``, to hand to brands."""
    return WebhookSigner.from_master(master).public_key_text()


def verify(headers: Mapping[str, str], body: bytes | str, public_key: str | Ed25519PublicKey,
           *, now: float | None = None, tolerance: int = TIMESTAMP_TOLERANCE) -> Any:
    """Check a delivery as a brand's receiver would; the parsed JSON body if it is genuine.

    ``public_key`` is the vault's key as ``whpk_…`` (or a key object). The timestamp must be
    within ``tolerance`` seconds of ``now`` (replays), and one ``v1a`` signature in the header
    must verify over the exact body bytes; :class:`WebhookVerificationError` otherwise.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    msg_id = lowered.get("webhook-id")
    timestamp = lowered.get("webhook-timestamp")
    signatures = lowered.get("webhook-signature")
    if not (msg_id and timestamp and signatures):
        raise WebhookVerificationError("missing webhook headers")
    if not (timestamp.isascii() and timestamp.isdigit()):
        raise WebhookVerificationError("the webhook timestamp is not Unix seconds")
    current = time.time() if now is None else now
    if abs(current - int(timestamp)) > tolerance:
        raise WebhookVerificationError("the webhook timestamp is outside the tolerance")
    key = _public_key(public_key)
    data = body.encode() if isinstance(body, str) else body
    content = signed_content(msg_id, timestamp, data)
    for item in signatures.split(" "):
        version, _, encoded = item.partition(",")
        if version != SIGNATURE_VERSION:
            continue
        try:
            key.verify(base64.b64decode(encoded, validate=True), content)
        except (binascii.Error, ValueError, InvalidSignature):
            continue
        return json.loads(data)
    raise WebhookVerificationError("no valid v1a signature")


def _public_key(key: str | Ed25519PublicKey) -> Ed25519PublicKey:
    if isinstance(key, Ed25519PublicKey):
        return key
    if not key.startswith(PUBLIC_KEY_PREFIX):
        raise ValueError("a webhook public key starts with whpk_")
    try:
        return Ed25519PublicKey.from_public_bytes(
            base64.b64decode(key[len(PUBLIC_KEY_PREFIX):], validate=True))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not an Ed25519 public key in whpk_ form") from exc


# -- the outbox -------------------------------------------------------------------------------
def enqueue_grant_event(database: Database, pseudonyms: PairwisePseudonyms, grant: Grant,
                        event: GrantEvent, now: int) -> int:
    """Queue ``consent.withdrawn`` / ``consent.expired`` / ``authorization.ended`` for every
    live endpoint of the grant's brand; other events are not notified. The number of rows
    queued."""
    event_type = NOTIFIED_GRANT_EVENTS.get(event)
    if event_type is None:
        return 0
    data: dict[str, Any] = {"subject": pseudonyms.compute(grant.member_id, grant.brand_id),
                            "grant": grant.id, "purpose": grant.purpose}
    if event is GrantEvent.REPLACED:
        data.update(reason="replaced", consent="replaced", replaced_by=grant.replaced_by)
    elif event_type == AUTHORIZATION_ENDED:
        data.update(reason=grant.access_ended.value if grant.access_ended else event.value,
                    consent="ended" if event is GrantEvent.RELEASED else "stands")
    return _enqueue(database, grant.brand_id, event_type, data, now)


def enqueue_member_erased(database: Database, pseudonyms: PairwisePseudonyms, member_id: str,
                          now: int) -> int:
    """Queue ``member.erased`` for every brand that ever knew the member (a pairwise id handed
    out, or a grant, whatever its state). Call it before the member's rows are deleted, in the
    same transaction. The number of rows queued."""
    with database.transaction():
        brands: dict[str, list[str]] = {}
        for row in database.all(
                "SELECT brand_id, NULL AS grant_id FROM pairwise_subjects WHERE member_id = ?"
                " UNION SELECT brand_id, id FROM grants WHERE member_id = ?",
                (member_id, member_id)):
            grants = brands.setdefault(row["brand_id"], [])
            if row["grant_id"] is not None:
                grants.append(row["grant_id"])
        return sum(
            _enqueue(database, brand_id, MEMBER_ERASED,
                     {"subject": pseudonyms.compute(member_id, brand_id),
                      "grants": sorted(grants)}, now)
            for brand_id, grants in sorted(brands.items()))


def _enqueue(database: Database, brand_id: str, event_type: str, data: dict[str, Any],
             now: int) -> int:
    with database.transaction():
        endpoints = database.all(
            "SELECT e.id, e.client_id FROM webhook_endpoints AS e"
            " JOIN oauth_clients AS c ON c.client_id = e.client_id"
            " WHERE c.brand_id = ? AND e.disabled_at IS NULL ORDER BY e.id", (brand_id,))
        if not endpoints:
            return 0
        # One id per brand and event: the same on each of the brand's endpoints (one event),
        # never shared with another brand.
        event_id = str(uuid.uuid4())
        payload = json.dumps({"type": event_type, "timestamp": _utc(now), "data": data},
                             sort_keys=True, separators=(",", ":"))
        database.executemany(
            "INSERT INTO webhook_outbox (endpoint_id, client_id, event_type, event_id, payload,"
            " next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(e["id"], e["client_id"], event_type, event_id, payload, now, now)
             for e in endpoints])
        return len(endpoints)


def _utc(timestamp: int) -> str:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class OutboxEntry:
    """One queued event as compliance sees it: where, what, how it went (never the payload)."""

    id: int
    client_id: str
    brand_name: str
    url: str
    event_type: str
    event_id: str
    status: str
    attempts: int
    next_attempt_at: int
    created_at: int
    delivered_at: int | None
    last_result: str | None        # the last attempt's HTTP status or error class


# Shared by the listing and its count, so a page and "of N" always agree.
_OUTBOX_FILTER = " WHERE (? IS NULL OR o.client_id = ?) AND (? IS NULL OR o.status = ?)"


def outbox_entries(database: Database, *, client_id: str | None = None,
                   status: str | None = None, limit: int = 200,
                   offset: int = 0) -> list[OutboxEntry]:
    """The newest outbox rows first, optionally of one client or in one status; ``offset``
    rows skipped (for pages)."""
    rows = database.all(
        "SELECT o.*, e.url, b.name AS brand_name,"
        " (SELECT coalesce(CAST(a.http_status AS TEXT), a.error) FROM webhook_attempts AS a"
        "  WHERE a.outbox_id = o.id ORDER BY a.id DESC LIMIT 1) AS last_result"
        " FROM webhook_outbox AS o JOIN webhook_endpoints AS e ON e.id = o.endpoint_id"
        " JOIN oauth_clients AS c ON c.client_id = o.client_id"
        " JOIN brands AS b ON b.id = c.brand_id"
        + _OUTBOX_FILTER + " ORDER BY o.id DESC LIMIT ? OFFSET ?",
        (client_id, client_id, status, status, limit, offset))
    return [OutboxEntry(r["id"], r["client_id"], r["brand_name"], r["url"], r["event_type"],
                        r["event_id"], r["status"], r["attempts"], r["next_attempt_at"],
                        r["created_at"], r["delivered_at"], r["last_result"]) for r in rows]


def outbox_count(database: Database, *, client_id: str | None = None,
                 status: str | None = None) -> int:
    """How many rows :func:`outbox_entries` has to list with these filters."""
    return int(database.one("SELECT count(*) FROM webhook_outbox AS o" + _OUTBOX_FILTER,
                            (client_id, client_id, status, status))[0])


@dataclass(frozen=True)
class Redrive:
    """What :func:`redrive` did: the events queued again, and those it left, with why."""

    queued: tuple[int, ...]
    refused: Mapping[int, str]          # outbox id -> reason


def redrive(database: Database, *, clock: Clock, outbox_ids: Sequence[int] = (),
            client_id: str | None = None) -> Redrive:
    """Queue given-up (``dead``) events again, for delivery at the next pass: those named, or
    with ``client_id`` every dead one of that client. Each starts a fresh series of attempts
    (``attempts`` back to 0, so the full retry schedule applies again); the attempts made
    before stay in the delivery record. An event whose endpoint was removed (by its brand's
    410 Gone, or by an operator) stays dead: it has nowhere to go."""
    now = int(clock())
    queued: list[int] = []
    refused: dict[int, str] = {}
    with database.transaction():
        if client_id is not None:
            rows = database.all("SELECT o.id, o.status, e.disabled_at FROM webhook_outbox AS o"
                                " JOIN webhook_endpoints AS e ON e.id = o.endpoint_id"
                                " WHERE o.client_id = ? AND o.status = 'dead' ORDER BY o.id",
                                (client_id,))
        else:
            wanted = sorted(set(outbox_ids))
            rows = database.all("SELECT o.id, o.status, e.disabled_at FROM webhook_outbox AS o"
                                " JOIN webhook_endpoints AS e ON e.id = o.endpoint_id"
                                f" WHERE o.id IN ({','.join('?' * len(wanted))}) ORDER BY o.id",
                                wanted) if wanted else []
            found = {row["id"] for row in rows}
            refused.update({i: "no such event" for i in wanted if i not in found})
        for row in rows:
            if row["status"] != "dead":
                refused[row["id"]] = f"it is {row['status']}, not given up"
            elif row["disabled_at"] is not None:
                refused[row["id"]] = "its endpoint was removed"
            else:
                queued.append(row["id"])
        database.executemany("UPDATE webhook_outbox SET status = 'pending', attempts = 0,"
                             " next_attempt_at = ? WHERE id = ?",
                             [(now, outbox_id) for outbox_id in queued])
    return Redrive(tuple(queued), dict(sorted(refused.items())))


@dataclass(frozen=True)
class OutboxTally:
    """One client's queued events, counted by status (the compliance overview)."""

    client_id: str
    brand_name: str
    counts: Mapping[str, int]          # status -> events, every status present


def outbox_tallies(database: Database) -> list[OutboxTally]:
    """Per client that was ever sent an event, its events by status; by brand name."""
    tallies: dict[str, tuple[str, dict[str, int]]] = {}
    for row in database.all(
            "SELECT o.client_id, b.name AS brand_name, o.status, count(*) AS events"
            " FROM webhook_outbox AS o JOIN oauth_clients AS c ON c.client_id = o.client_id"
            " JOIN brands AS b ON b.id = c.brand_id"
            " GROUP BY o.client_id, o.status ORDER BY b.name, o.client_id"):
        _, counts = tallies.setdefault(row["client_id"],
                                       (row["brand_name"], dict.fromkeys(STATUSES, 0)))
        counts[row["status"]] = row["events"]
    return [OutboxTally(client_id, name, counts) for client_id, (name, counts) in
            tallies.items()]


# -- delivery ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class HttpResult:
    status: int
    retry_after: int | None = None       # seconds, from a Retry-After header


IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: ``sender(url, body, headers, timeout)``; raises on a network failure.
Sender = Callable[[str, bytes, Mapping[str, str], float], HttpResult]


def destination_problem(url: str, *, allow_loopback: bool,
                        resolve: Callable[..., Any] = socket.getaddrinfo) -> str | None:
    """Why the vault should not send to ``url`` now, or ``None``: the URL rules, then the
    host's addresses, which must all be public (``is_global``), so that an endpoint cannot point
    the vault at its own network (server-side request forgery, OWASP ASVS 5.0 V1.3). A literal
    loopback host (``127.0.0.1``, ``[::1]``, ``localhost``) is for local testing and passes only
    with ``allow_loopback``. Checked at registration and again before each delivery, since a
    name can be re-pointed after it was registered."""
    return checked_destination(url, allow_loopback=allow_loopback, resolve=resolve)[0]


def checked_destination(
    url: str, *, allow_loopback: bool, resolve: Callable[..., Any] = socket.getaddrinfo,
    allowed: Callable[[IPAddress], bool] = lambda address: address.is_global,
) -> tuple[str | None, str | None]:
    """``(problem, address)``: as :func:`destination_problem`, and the address to connect to
    (the first the host resolved to, all of them ``allowed``), or ``None`` for a literal
    loopback host, which is connected to as it is."""
    problem = webhook_url_problem(url)
    if problem:
        return problem, None
    parts = urlsplit(url)
    host = parts.hostname or ""
    if host in LOOPBACK_HOSTS:
        return (None if allow_loopback else
                "must be a public https URL (loopback endpoints are for the operator's"
                " tests)."), None
    try:
        infos = resolve(host, parts.port or 443, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return "its host does not resolve.", None
    addresses = [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]
    if not addresses or not all(allowed(address) for address in addresses):
        return "its host resolves to a private, loopback or reserved address.", None
    return None, str(addresses[0])


class PinnedSender:
    """POSTs each webhook to the very address that was checked: the endpoint's host is
    resolved once, every address it has must be public, and the connection is made to the
    first of them, with the host name still in the ``Host`` header, in TLS's SNI and in the
    certificate check. (Checking a name and then letting the HTTP library resolve it again
    left a window in which the name could be re-pointed at the vault's own network: DNS
    rebinding.) No proxy from the environment is used, no redirect is followed and the
    response body is never read. :class:`DestinationRefusedError` when the host now resolves to
    a non-public address.

    ``resolve``, ``allowed`` and ``verify`` (a CA bundle's path) are for tests, which serve
    TLS on loopback under a name of their own."""

    def __init__(self, *, resolve: Callable[..., Any] = socket.getaddrinfo,
                 allowed: Callable[[IPAddress], bool] = lambda address: address.is_global,
                 verify: bool | str = True) -> None:
        self._resolve = resolve
        self._allowed = allowed
        self._verify = verify

    def __call__(self, url: str, body: bytes, headers: Mapping[str, str],
                 timeout: float) -> HttpResult:
        problem, address = checked_destination(url, allow_loopback=True,
                                               resolve=self._resolve, allowed=self._allowed)
        if problem:
            raise DestinationRefusedError()
        parts = urlsplit(url)
        sent = dict(headers)
        with requests.Session() as session:
            session.trust_env = False              # no proxy, no .netrc: straight there
            if address is not None:
                session.mount(f"{parts.scheme}://", _PinnedAdapter(parts.hostname or "",
                                                                     address))
                sent["Host"] = parts.netloc
            with session.post(url, data=body, headers=sent, timeout=timeout,
                              allow_redirects=False, stream=True,
                              verify=self._verify) as response:
                return HttpResult(response.status_code,
                                  _seconds(response.headers.get("Retry-After")))


class _PinnedAdapter(HTTPAdapter):
    """Connects to ``address`` for requests to ``host``; TLS still names and checks ``host``."""

    def __init__(self, host: str, address: str) -> None:
        super().__init__(max_retries=0)
        self._host = host
        self._address = address

    def build_connection_pool_key_attributes(
            self, request: requests.PreparedRequest, verify: bool | str,
            cert: Any = None) -> tuple[dict[str, Any], dict[str, Any]]:
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(
            request, verify, cert)
        if host_params["host"] != self._host:
            raise DestinationRefusedError()        # a request elsewhere: never sent
        host_params["host"] = self._address
        if host_params["scheme"] == "https":
            pool_kwargs["server_hostname"] = self._host
            pool_kwargs["assert_hostname"] = self._host
        return host_params, pool_kwargs


requests_sender: Sender = PinnedSender()


def _seconds(value: str | None) -> int | None:
    # Only the delay-seconds form (RFC 9110 sec. 10.2.3); an HTTP-date is ignored.
    if value and value.strip().isdigit():
        return int(value.strip())
    return None


def retry_delay(failures: int, fraction: float) -> int:
    """Seconds before the next attempt after ``failures`` failed ones: 30 s doubling to a 6 h
    cap, shortened by ``JITTER * fraction`` (``fraction`` in [0, 1)) so retries spread out."""
    base = min(FIRST_RETRY * 2 ** min(failures - 1, 32), MAX_RETRY_DELAY)
    return max(1, round(base * (1 - JITTER * fraction)))


@dataclass
class DeliveryReport:
    attempted: int = 0
    delivered: int = 0
    retrying: int = 0
    dead: int = 0

    def summary(self) -> str:
        return (f"{self.attempted} attempted: {self.delivered} delivered, "
                f"{self.retrying} to retry, {self.dead} given up")


class WebhookDispatcher:
    """Sends what is due from the outbox, records every attempt, schedules retries."""

    def __init__(self, *, database: Database, signer: WebhookSigner, clock: Clock,
                 sender: Sender = requests_sender, fraction: Callable[[], float] = random.random,
                 max_attempts: int = MAX_ATTEMPTS, timeout: float = REQUEST_TIMEOUT) -> None:
        self._db = database
        self._signer = signer
        self._clock = clock
        self._send = sender
        self._fraction = fraction
        self.max_attempts = max_attempts
        self._timeout = timeout

    def deliver_due(self, limit: int = 50) -> DeliveryReport:
        """Attempt up to ``limit`` due rows, one claim at a time."""
        report = DeliveryReport()
        for _ in range(limit):
            row = self._claim()
            if row is None:
                break
            outcome = self._attempt(row)
            report.attempted += 1
            if outcome == "delivered":
                report.delivered += 1
            elif outcome == "dead":
                report.dead += 1
            else:
                report.retrying += 1
        return report

    def _claim(self) -> Any:
        now = int(self._clock())
        with self._db.transaction():
            row = self._db.one(
                "SELECT o.id, o.endpoint_id, o.event_id, o.payload, e.url"
                " FROM webhook_outbox AS o JOIN webhook_endpoints AS e ON e.id = o.endpoint_id"
                " WHERE o.status = 'pending' AND o.next_attempt_at <= ?"
                " AND e.disabled_at IS NULL ORDER BY o.next_attempt_at, o.id LIMIT 1", (now,))
            if row is not None:
                self._db.execute("UPDATE webhook_outbox SET next_attempt_at = ? WHERE id = ?",
                                 (now + CLAIM_LEASE, row["id"]))
        return row

    def _attempt(self, row: Any) -> str:
        body = row["payload"].encode()
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT,
                   **self._signer.headers(row["event_id"], int(self._clock()), body)}
        status: int | None = None
        retry_after: int | None = None
        error: str | None = None
        started = time.monotonic()
        try:
            result = self._send(row["url"], body, headers, self._timeout)
            status, retry_after = result.status, result.retry_after
        except Exception as exc:  # any failure to deliver is an attempt to record, not a crash
            error = type(exc).__name__
        duration_ms = round((time.monotonic() - started) * 1000)
        outcome = self._record(row, status, error, duration_ms, retry_after)
        if outcome != "delivered":
            logger.warning("webhook %d to endpoint %d: %s, %s", row["id"], row["endpoint_id"],
                           status if error is None else error, outcome)
        return outcome

    def _record(self, row: Any, status: int | None, error: str | None, duration_ms: int,
                retry_after: int | None) -> str:
        now = int(self._clock())
        with self._db.transaction():
            self._db.execute(
                "INSERT INTO webhook_attempts (outbox_id, attempted_at, http_status, error,"
                " duration_ms) VALUES (?, ?, ?, ?, ?)",
                (row["id"], now, status, error, duration_ms))
            current = self._db.one("SELECT status, attempts FROM webhook_outbox WHERE id = ?",
                                   (row["id"],))
            if current["status"] != "pending":       # settled meanwhile (endpoint removed)
                return str(current["status"])
            attempts = current["attempts"] + 1
            if status is not None and 200 <= status < 300:
                self._db.execute(
                    "UPDATE webhook_outbox SET status = 'delivered', attempts = ?,"
                    " delivered_at = ? WHERE id = ?", (attempts, now, row["id"]))
                return "delivered"
            if status == 410 or attempts >= self.max_attempts:
                self._db.execute("UPDATE webhook_outbox SET status = 'dead', attempts = ?"
                                 " WHERE id = ?", (attempts, row["id"]))
                if status == 410:
                    # 410 Gone: the brand asks for no more webhooks here (Standard Webhooks,
                    # "Delivery success and failure"); the endpoint is disabled with its queue.
                    _disable(self._db, row["endpoint_id"], now)
                return "dead"
            delay = retry_delay(attempts, self._fraction())
            if retry_after is not None:
                delay = max(delay, min(retry_after, MAX_RETRY_DELAY))
            self._db.execute("UPDATE webhook_outbox SET attempts = ?, next_attempt_at = ?"
                             " WHERE id = ?", (attempts, now + delay, row["id"]))
            return "retrying"
