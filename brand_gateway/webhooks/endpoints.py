"""The endpoints brands are notified at, and what an endpoint URL must be to be sent to.

Invariants:
- Endpoint URLs are absolute ``https``, or ``http`` on a loopback host only; no user
  information, no fragment; at most :data:`MAX_ENDPOINTS_PER_CLIENT` live ones per client.
- Before the vault sends anywhere, every address the host resolves to must be public, so an
  endpoint cannot point the vault at its own network (server-side request forgery); the check
  is made at registration and again before each delivery.
- Endpoints are never deleted, only disabled: outbox rows and attempts keep naming the endpoint
  they were meant for. Disabling one gives up what was still pending for it.
- Outside the vault's code an endpoint is named by its public id only (:data:`ID_PREFIX` and 24
  random hex digits): the store's integer key is one sequence across every brand, and would
  tell a brand how many endpoints the others registered.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NoReturn
from urllib.parse import urlsplit

from vault.clock import Clock
from vault.errors import ConflictError, NotFoundError, ValidationError

from ..clients import LOOPBACK_HOSTS, endpoint_url_problem
from .repositories import WebhookEndpoint, WebhookEndpointRepository, WebhookOutboxRepository

MAX_URL_LENGTH = 2000
MAX_ENDPOINTS_PER_CLIENT = 5
ID_PREFIX = "whk_"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
#: IPv6 prefixes whose last 32 bits are an IPv4 address the packet is delivered to: IPv4-
#: compatible (deprecated), IPv4-mapped and IPv4-translated (RFC 4291, 2765) and the NAT64
#: well-known prefix (RFC 6052). 6to4 (2002::/16, RFC 3056) embeds one too, after its prefix.
_EMBEDDING_IPV4 = tuple(ipaddress.IPv6Network(prefix) for prefix in (
    "::/96", "::ffff:0:0/96", "::ffff:0:0:0/96", "64:ff9b::/96"))
#: NAT64's local-use prefix (RFC 8215): a translator of the operator's own network, never global.
_LOCAL_NAT64 = ipaddress.IPv6Network("64:ff9b:1::/48")


def webhook_url_problem(url: object) -> str | None:
    """Why ``url`` may not be a webhook endpoint, or ``None`` if it may. Plain http is for
    loopback only: payloads are pseudonymous, but a brand's deletion orders are nobody else's
    business."""
    return endpoint_url_problem(url, max_length=MAX_URL_LENGTH)


class WebhookRegistry:
    """The endpoints brands are notified at: at most a few live ones per client."""

    def __init__(self, *, endpoints: WebhookEndpointRepository,
                 outbox: WebhookOutboxRepository, clock: Clock) -> None:
        self._endpoints = endpoints
        self._outbox = outbox
        self._clock = clock

    def add(self, client_id: str, url: str, *,
            subscriptions: Mapping[str, Sequence[str] | None] | None = None
            ) -> WebhookEndpoint:
        """Add an endpoint; ``subscriptions``: the opt-in events it also wants (event type ->
        the categories, or ``None`` for all of the brand's), checked by the caller."""
        problem = webhook_url_problem(url)
        if problem:
            _refuse("url", f"Webhook URL: {problem}")
        endpoints = self._endpoints
        with endpoints.transaction():
            if not endpoints.client_exists(client_id):
                raise NotFoundError(f"no client {client_id[:80]!r}")  # not all of a long one
            if endpoints.live_count(client_id) >= MAX_ENDPOINTS_PER_CLIENT:
                _refuse("url", f"A client has at most {MAX_ENDPOINTS_PER_CLIENT} endpoints; "
                               "remove one first.")
            public_id = ID_PREFIX + os.urandom(12).hex()
            endpoint_id = endpoints.insert(client_id, public_id, url, int(self._clock()))
            if endpoint_id is None:
                raise ConflictError("this client has that endpoint already")
            for event_type, categories in (subscriptions or {}).items():
                endpoints.subscribe(endpoint_id, event_type,
                                    [None] if categories is None else list(categories))
            return self.get(public_id)

    def subscriptions(self, endpoint_id: int) -> list[tuple[str, str | None]]:
        """(event type, category or ``None`` for all) the endpoint opted in to."""
        return self._endpoints.subscriptions(endpoint_id)

    def get(self, public_id: str) -> WebhookEndpoint:
        """The endpoint of that public id; an integer (the store's key, which a brand may have
        kept from before public ids) is an unknown id like any other."""
        endpoint = self._endpoints.find(public_id)
        if endpoint is None:
            raise NotFoundError(f"no webhook endpoint {public_id[:40]!r}")
        return endpoint

    def list(self, client_id: str | None = None) -> list[WebhookEndpoint]:
        """Every endpoint (removed ones too), of one client or of all."""
        return self._endpoints.list(client_id)

    def remove(self, public_id: str) -> WebhookEndpoint:
        """Stop sending to the endpoint; what was still pending for it is given up (``dead``).
        The row stays, for the outbox rows and attempts that name it."""
        with self._endpoints.transaction():
            endpoint = self.get(public_id)
            if not endpoint.live:
                raise NotFoundError(f"webhook endpoint {public_id} was removed already")
            disable_endpoint(self._endpoints, self._outbox, endpoint.id, int(self._clock()))
            return self.get(public_id)


def disable_endpoint(endpoints: WebhookEndpointRepository, outbox: WebhookOutboxRepository,
                     endpoint_id: int, now: int) -> None:
    """Send nothing more to the endpoint, and give up what was still pending for it (inside
    the caller's transaction: both repositories are the one store's)."""
    endpoints.disable(endpoint_id, now)
    outbox.give_up_pending(endpoint_id)


def public_address(address: IPAddress) -> bool:
    """Whether the vault may connect to ``address``: a global unicast address, and one whose
    IPv4 address, where it embeds one, is global too. Python's ``is_global`` alone passes
    ``[64:ff9b::a00:1]``, which a NAT64 gateway (DNS64 networks, cloud NAT gateways) delivers
    to 10.0.0.1 on the operator's own network, and the 6to4, IPv4-compatible and
    IPv4-translated forms of any address, multicast ones and NAT64's local-use prefix."""
    if not address.is_global or address.is_multicast:
        return False
    if isinstance(address, ipaddress.IPv6Address):
        if address in _LOCAL_NAT64:
            return False
        embedded = address.sixtofour or next(
            (ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF)
             for prefix in _EMBEDDING_IPV4 if address in prefix), None)
        if embedded is not None:
            return public_address(embedded)
    return True


def _refuse(field: str, message: str) -> NoReturn:
    raise ValidationError({field: [message]}, message)



def destination_problem(url: str, *, allow_loopback: bool,
                        resolve: Callable[..., Any] = socket.getaddrinfo) -> str | None:
    """Why the vault should not send to ``url`` now, or ``None``: the URL rules, then the
    host's addresses, which must all be public (:func:`public_address`), so that an endpoint
    cannot point the vault at its own network (server-side request forgery, OWASP ASVS 5.0
    V1.3). A literal loopback host (``127.0.0.1``, ``[::1]``, ``localhost``) is for local
    testing and passes only with ``allow_loopback``. Checked at registration and again before
    each delivery, since a name can be re-pointed after it was registered."""
    return checked_destination(url, allow_loopback=allow_loopback, resolve=resolve)[0]


def checked_destination(
    url: str, *, allow_loopback: bool, resolve: Callable[..., Any] = socket.getaddrinfo,
    allowed: Callable[[IPAddress], bool] = public_address,
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
