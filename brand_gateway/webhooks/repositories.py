"""What the webhook services may ask of the data store: the endpoints, and the outbox with its
attempts, as two repository contracts.

The same seam as ``vault/repositories.py`` (its docstring states the invariants every
implementation keeps: one store's repositories share its transactions, a broken constraint the
caller handles is a return value, results come in a stated order). ``endpoints.py``,
``outbox.py`` and ``delivery.py`` hold no SQL; SQLCipher's implementations are in
``brand_gateway/webhooks/sqlcipher.py`` and pass the conformance suite in
``tests/unit/storage/``. The records below are what the services and pages see.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from vault.repositories import Transactional


@dataclass(frozen=True)
class WebhookEndpoint:
    """An endpoint. ``id`` is the store's key, which outbox rows and subscriptions point at: one
    sequence across every brand, so it stays inside the vault (its code, and the operator's
    delivery log); ``public_id`` ('whk_' and 24 random hex digits) is what a brand and the
    ``vrmvault webhooks`` commands name it by."""

    id: int
    public_id: str
    client_id: str
    brand_name: str
    url: str
    created_at: int
    disabled_at: int | None

    @property
    def live(self) -> bool:
        return self.disabled_at is None


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


@dataclass(frozen=True)
class OutboxState:
    """Where one queued event stands, and whether its endpoint still takes events."""

    id: int
    status: str
    endpoint_live: bool


@dataclass(frozen=True)
class DueEvent:
    """A claimed event, with what sending it takes."""

    id: int
    endpoint_id: int
    event_id: str
    payload: str
    url: str


class WebhookEndpointRepository(Transactional, Protocol):
    def client_exists(self, client_id: str) -> bool:
        """Whether ``client_id`` is a registered OAuth client (whatever its state)."""

    def live_count(self, client_id: str) -> int:
        """How many of the client's endpoints are not disabled."""

    def insert(self, client_id: str, public_id: str, url: str, created_at: int) -> int | None:
        """A new live endpoint's id; ``None`` (nothing written) when a live endpoint of the
        client has that URL already, or an endpoint has that public id."""

    def get(self, endpoint_id: int) -> WebhookEndpoint | None: ...

    def find(self, public_id: str) -> WebhookEndpoint | None:
        """The endpoint of that public id, disabled or not."""

    def list(self, client_id: str | None = None) -> list[WebhookEndpoint]:
        """Every endpoint (disabled ones too), of one client or of all, by id."""

    def disable(self, endpoint_id: int, now: int) -> None: ...

    def subscribe(self, endpoint_id: int, event_type: str,
                  categories: Sequence[str | None]) -> None:
        """Opt the endpoint in to ``event_type``, for each category (``None``: every one)."""

    def subscriptions(self, endpoint_id: int) -> builtins.list[tuple[str, str | None]]:
        """(event type, category or ``None``) the endpoint opted in to."""


class WebhookOutboxRepository(Transactional, Protocol):
    # queueing
    def subscribed_endpoints(self, brand_id: str, event_type: str, category: str
                             ) -> list[tuple[int, str]]:
        """(endpoint id, client id) of the brand's live endpoints opted in to ``event_type``
        for ``category`` (or for every category)."""

    def live_endpoints(self, brand_id: str) -> list[tuple[int, str]]:
        """``(endpoint id, client id)`` of every live endpoint of the brand's clients, by id."""

    def brands_knowing(self, member_id: str) -> dict[str, list[str]]:
        """Every brand that ever knew the member (a pairwise subject handed out, or a grant of
        individual use in any state), with the ids of those grants (unordered). A grant of
        aggregate use alone never made the member known to the brand."""

    def queue(self, endpoints: Sequence[tuple[int, str]], *, event_type: str, event_id: str,
              payload: str, now: int) -> None:
        """One ``pending`` row per ``(endpoint id, client id)``, due at ``now``, in one batch."""

    # what compliance sees
    def entries(self, *, client_id: str | None, status: str | None, limit: int,
                offset: int) -> list[OutboxEntry]:
        """Rows of the client and status (each filter only when given), newest first."""

    def count(self, *, client_id: str | None, status: str | None) -> int:
        """How many rows :meth:`entries` has to list with the same filters."""

    def tallies(self) -> list[tuple[str, str, str, int]]:
        """``(client id, brand name, status, events)`` per client and status present, by brand
        name, then client id."""

    # redriving
    def dead_of_client(self, client_id: str) -> list[OutboxState]:
        """The client's given-up (``dead``) rows, by id."""

    def states(self, outbox_ids: Sequence[int]) -> list[OutboxState]:
        """The rows among ``outbox_ids`` that exist, by id."""

    def requeue(self, outbox_ids: Sequence[int], now: int) -> None:
        """Each row ``pending`` again, its attempts back to 0, due at ``now``."""

    # delivering
    def claim_due(self, *, now: int, lease: int) -> DueEvent | None:
        """The next ``pending`` row due at ``now`` of a live endpoint (by due time, then id),
        its due time moved ``lease`` seconds ahead in one atomic step, so no other process
        claims it until then; ``None`` when nothing is due."""

    def record_attempt(self, outbox_id: int, *, at: int, http_status: int | None,
                       error: str | None, duration_ms: int) -> tuple[str, int]:
        """Append an attempt; the row's status and attempt count as they stand now."""

    def mark_delivered(self, outbox_id: int, *, attempts: int, at: int) -> None: ...

    def mark_dead(self, outbox_id: int, *, attempts: int) -> None: ...

    def schedule_retry(self, outbox_id: int, *, attempts: int, at: int) -> None: ...

    def give_up_pending(self, endpoint_id: int) -> None:
        """Every row still ``pending`` for the endpoint becomes ``dead``."""
