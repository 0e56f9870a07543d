"""The endpoints brands are notified at, and what an endpoint URL must be to be sent to.

Invariants:
- Endpoint URLs are absolute ``https``, or ``http`` on a loopback host only; no user
  information, no fragment; at most :data:`MAX_ENDPOINTS_PER_CLIENT` live ones per client.
- Before the vault sends anywhere, every address the host resolves to must be public, so an
  endpoint cannot point the vault at its own network (server-side request forgery); the check
  is made at registration and again before each delivery.
- Endpoints are never deleted, only disabled: outbox rows and attempts keep naming the endpoint
  they were meant for. Disabling one gives up what was still pending for it.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn
from urllib.parse import urlsplit

from vault.clock import Clock
from vault.errors import ConflictError, ConstraintViolationError, NotFoundError, ValidationError
from vault.storage import Database

from ..clients import LOOPBACK_HOSTS, endpoint_url_problem
from .outbox import give_up_pending

MAX_URL_LENGTH = 2000
MAX_ENDPOINTS_PER_CLIENT = 5

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


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
            disable_endpoint(self._db, endpoint_id, int(self._clock()))
            return self.get(endpoint_id)


_ENDPOINTS = (
    "SELECT e.*, b.name AS brand_name FROM webhook_endpoints AS e"
    " JOIN oauth_clients AS c ON c.client_id = e.client_id JOIN brands AS b ON b.id = c.brand_id"
)


def _endpoint(row: Any) -> WebhookEndpoint:
    return WebhookEndpoint(row["id"], row["client_id"], row["brand_name"], row["url"],
                           row["created_at"], row["disabled_at"])


def disable_endpoint(database: Database, endpoint_id: int, now: int) -> None:
    """Send nothing more to the endpoint, and give up what was still pending for it."""
    database.execute("UPDATE webhook_endpoints SET disabled_at = ? WHERE id = ?",
                     (now, endpoint_id))
    give_up_pending(database, endpoint_id)


def _refuse(field: str, message: str) -> NoReturn:
    raise ValidationError({field: [message]}, message)



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
