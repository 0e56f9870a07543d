"""Sending what the outbox holds: to the checked address, signed, retried with backoff.

Invariants:
- The connection goes to the very address whose publicness was checked (no second DNS lookup
  between check and connect); no proxy from the environment, no redirect followed, no response
  body read.
- Every attempt is recorded, success or failure; a failure is an attempt, never a crash of the
  dispatcher.
- Retries back off from :data:`FIRST_RETRY` doubling to :data:`MAX_RETRY_DELAY`, with jitter; a
  ``Retry-After`` in seconds lengthens the wait (never beyond the cap). After
  :data:`MAX_ATTEMPTS`, or at once on ``410 Gone``, the row is given up (``dead``); a 410 also
  disables its endpoint.
- A claimed row is left alone for :data:`CLAIM_LEASE` seconds, longer than a request may take.
"""

from __future__ import annotations

import logging
import random
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

from vault.clock import Clock

from ..errors import DestinationRefusedError
from .endpoints import IPAddress, checked_destination, disable_endpoint, public_address
from .repositories import DueEvent, WebhookEndpointRepository, WebhookOutboxRepository
from .signing import WebhookSigner

logger = logging.getLogger(__name__)

REQUEST_TIMEOUT = 5.0                     # seconds, to connect and between bytes read
CLAIM_LEASE = 60                          # seconds a claimed row is left alone (> the timeout)
FIRST_RETRY = 30                          # seconds after the first failure, doubling ...
MAX_RETRY_DELAY = 6 * 60 * 60             # ... up to 6 h
JITTER = 0.2                              # each delay shortened by up to 20 %, at random
MAX_ATTEMPTS = 20                         # about 2.5 days of retries, then dead
USER_AGENT = "vrmvault-webhooks/1"


@dataclass(frozen=True)
class HttpResult:
    status: int
    retry_after: int | None = None       # seconds, from a Retry-After header


#: ``sender(url, body, headers, timeout)``; raises on a network failure.
Sender = Callable[[str, bytes, Mapping[str, str], float], HttpResult]


class PinnedSender:
    """POSTs each webhook to the very address that was checked: the endpoint's host is
    resolved once, every address it has must be public, and the connection is made to the
    first of them, with the host name still in the ``Host`` header, in TLS's SNI and in the
    certificate check. (Checking a name and then letting the HTTP library resolve it again
    would leave a window in which the name could be re-pointed at the vault's own network:
    DNS rebinding.) No proxy from the environment is used, no redirect is followed and the
    response body is never read. :class:`DestinationRefusedError` when the host now resolves to a
    non-public address.

    ``resolve``, ``allowed`` and ``verify`` (a CA bundle's path) are for tests, which serve
    TLS on loopback under a name of their own."""

    def __init__(self, *, resolve: Callable[..., Any] = socket.getaddrinfo,
                 allowed: Callable[[IPAddress], bool] = public_address,
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
            raise DestinationRefusedError()             # a request elsewhere: never sent
        host_params["host"] = self._address
        if host_params["scheme"] == "https":
            pool_kwargs["server_hostname"] = self._host
            pool_kwargs["assert_hostname"] = self._host
        return host_params, pool_kwargs


requests_sender: Sender = PinnedSender()


def _seconds(value: str | None) -> int | None:
    # Only the delay-seconds form (RFC 9110 sec. 10.2.3, 1*DIGIT); an HTTP-date is ignored. A
    # delay past the longest wait is that wait (and int() refuses over 4,300 digits).
    digits = (value or "").strip()
    if not (digits.isascii() and digits.isdigit()):
        return None
    return MAX_RETRY_DELAY if len(digits) > len(str(MAX_RETRY_DELAY)) else min(
        int(digits), MAX_RETRY_DELAY)


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

    def __init__(self, *, endpoints: WebhookEndpointRepository,
                 outbox: WebhookOutboxRepository, signer: WebhookSigner, clock: Clock,
                 sender: Sender = requests_sender, fraction: Callable[[], float] = random.random,
                 max_attempts: int = MAX_ATTEMPTS, timeout: float = REQUEST_TIMEOUT) -> None:
        self._endpoints = endpoints
        self._outbox = outbox
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

    def _claim(self) -> DueEvent | None:
        return self._outbox.claim_due(now=int(self._clock()), lease=CLAIM_LEASE)

    def _attempt(self, row: DueEvent) -> str:
        body = row.payload.encode()
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT,
                   **self._signer.headers(row.event_id, int(self._clock()), body)}
        status: int | None = None
        retry_after: int | None = None
        error: str | None = None
        started = time.monotonic()
        try:
            result = self._send(row.url, body, headers, self._timeout)
            status, retry_after = result.status, result.retry_after
        except Exception as exc:  # any failure to deliver is an attempt to record, not a crash
            error = type(exc).__name__
        duration_ms = round((time.monotonic() - started) * 1000)
        outcome = self._record(row, status, error, duration_ms, retry_after)
        if outcome != "delivered":
            logger.warning("webhook %d to endpoint %d: %s, %s", row.id, row.endpoint_id,
                           status if error is None else error, outcome)
        return outcome

    def _record(self, row: DueEvent, status: int | None, error: str | None, duration_ms: int,
                retry_after: int | None) -> str:
        now = int(self._clock())
        outbox = self._outbox
        with outbox.transaction():
            current, attempts = outbox.record_attempt(row.id, at=now, http_status=status,
                                                      error=error, duration_ms=duration_ms)
            if current != "pending":                 # settled meanwhile (endpoint removed)
                return current
            attempts += 1
            if status is not None and 200 <= status < 300:
                outbox.mark_delivered(row.id, attempts=attempts, at=now)
                return "delivered"
            if status == 410 or attempts >= self.max_attempts:
                outbox.mark_dead(row.id, attempts=attempts)
                if status == 410:
                    # 410 Gone: the brand asks for no more webhooks here (Standard Webhooks,
                    # "Delivery success and failure"); the endpoint is disabled with its queue.
                    disable_endpoint(self._endpoints, outbox, row.endpoint_id, now)
                return "dead"
            delay = retry_delay(attempts, self._fraction())
            if retry_after is not None:
                delay = max(delay, min(retry_after, MAX_RETRY_DELAY))
            outbox.schedule_retry(row.id, attempts=attempts, at=now + delay)
            return "retrying"
