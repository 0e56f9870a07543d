"""The webhook outbox: what is queued for which endpoint, what compliance sees of it, and
redriving what was given up (delivery.py claims and settles rows through the same repository,
:class:`brand_gateway.webhooks.repositories.WebhookOutboxRepository`).

Invariants:
- A row is written in the transaction of the change it announces (a withdrawn grant, an
  erasure), so both commit or neither does.
- One event id per brand and event, the same on each of the brand's endpoints, never shared
  with another brand; nor the second of an event one act of a member sent to several brands
  (:data:`FANNED_OUT`: their ``timestamp`` is the day).
- A row is claimed by moving its ``next_attempt_at`` a lease ahead in one atomic step of the
  repository (SQLCipher's: under the write lock), so two workers never send it at once; a
  worker that dies mid-send leaves the row to be retried when the lease ends (delivery is at
  least once; brands dedupe on the event id).
- A row's status goes ``pending`` -> ``delivered`` or ``dead``; only :func:`redrive` turns a
  ``dead`` one ``pending`` again. Attempts are appended, never changed.
- Compliance listings show where, what and how it went, never the payload.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from consent.grants import DAY
from consent.model import Grant, GrantEvent, Mode
from vault.clock import Clock

from ..pseudonyms import PairwisePseudonyms
from .repositories import DueEvent, OutboxEntry, WebhookOutboxRepository

CONSENT_WITHDRAWN = "consent.withdrawn"
CONSENT_EXPIRED = "consent.expired"
MEMBER_ERASED = "member.erased"
AUTHORIZATION_ENDED = "authorization.ended"
# Outbox ids are 64-bit integer keys on both engines: a larger one names no event, and the
# driver cannot even bind it (SQLite's OverflowError), so it is refused before the query.
LARGEST_OUTBOX_ID = 2**63 - 1
NOTIFIED_GRANT_EVENTS = {GrantEvent.WITHDRAWN: CONSENT_WITHDRAWN,
                         GrantEvent.EXPIRED: CONSENT_EXPIRED,
                         GrantEvent.ACCESS_ENDED: AUTHORIZATION_ENDED,
                         GrantEvent.RELEASED: AUTHORIZATION_ENDED,
                         GrantEvent.REPLACED: AUTHORIZATION_ENDED}
STATUSES = ("pending", "delivered", "dead")
# Data subject requests, one event type per Ketch Forwarder dsr/v1 request kind; ``data`` is
# the dsr/v1 message itself (brand_gateway/dsr.py).
DSR_EVENTS = {"AccessRequest": "dsr.access", "DeleteRequest": "dsr.delete",
              "CorrectionRequest": "dsr.correction",
              "RestrictProcessingRequest": "dsr.restrict_processing"}
# Intent casting (issue 16): a new intent in a category, to the endpoints that opted in to it;
# the status of an offer the brand made, to every live endpoint of the brand.
INTENT_CREATED = "intent.created"
OFFER_ACCEPTED = "offer.accepted"
OFFER_DECLINED = "offer.declined"
OFFER_EXPIRED = "offer.expired"
#: Events one member's act sends to several brands at once (their erasure, a data subject
#: request to every brand holding their data): each brand's ``timestamp`` is the day of it
#: (00:00:00Z), since the second would be the same in every brand's copy and let two brands
#: match their pseudonyms of the member by it.
FANNED_OUT = frozenset({MEMBER_ERASED, *DSR_EVENTS.values()})
#: Events an endpoint receives only if it asked for them when it was registered.
OPT_IN_EVENTS = (INTENT_CREATED,)
EVENT_TYPES = (CONSENT_WITHDRAWN, CONSENT_EXPIRED, AUTHORIZATION_ENDED, MEMBER_ERASED,
               *DSR_EVENTS.values(), INTENT_CREATED, OFFER_ACCEPTED, OFFER_DECLINED,
               OFFER_EXPIRED)


# -- queueing ---------------------------------------------------------------------------------
def enqueue_grant_event(outbox: WebhookOutboxRepository, pseudonyms: PairwisePseudonyms,
                        grant: Grant, event: GrantEvent, now: int) -> int:
    """Queue ``consent.withdrawn`` / ``consent.expired`` / ``authorization.ended`` for every
    live endpoint of the grant's brand; other events are not notified. The number of rows
    queued.

    Only grants of individual use are notified. A grant of aggregate use (a community member
    who counts in totals only) gave the brand nothing of that member to delete (GDPR Art. 19
    concerns recipients of personal data), and a webhook naming its pairwise subject would
    tell the brand who was in its community, which aggregate use never does."""
    event_type = NOTIFIED_GRANT_EVENTS.get(event)
    if event_type is None or grant.mode is not Mode.INDIVIDUAL:
        return 0
    data: dict[str, Any] = {"subject": pseudonyms.compute(grant.member_id, grant.brand_id),
                            "grant": grant.id, "purpose": grant.purpose}
    if event is GrantEvent.REPLACED:
        data.update(reason="replaced", consent="replaced", replaced_by=grant.replaced_by)
    elif event_type == AUTHORIZATION_ENDED:
        data.update(reason=grant.access_ended.value if grant.access_ended else event.value,
                    consent="ended" if event is GrantEvent.RELEASED else "stands")
    return _enqueue(outbox, grant.brand_id, event_type, data, now)


def enqueue_member_erased(outbox: WebhookOutboxRepository, pseudonyms: PairwisePseudonyms,
                          member_id: str, now: int) -> int:
    """Queue ``member.erased`` for every brand that ever knew the member (a pairwise id handed
    out, or a grant of individual use, whatever its state; a community member counted in
    totals only gave the brand nothing to delete, as :func:`enqueue_grant_event` says). Call
    it before the member's rows are deleted, in the same transaction. The number of rows
    queued."""
    with outbox.transaction():
        brands = outbox.brands_knowing(member_id)
        return sum(
            _enqueue(outbox, brand_id, MEMBER_ERASED,
                     {"subject": pseudonyms.compute(member_id, brand_id),
                      "grants": sorted(grants)}, now)
            for brand_id, grants in sorted(brands.items()))


def enqueue_dsr_message(outbox: WebhookOutboxRepository, brand_id: str,
                        message: dict[str, Any], now: int) -> int:
    """Queue a data subject request's dsr/v1 ``message`` (its ``kind`` says which event type)
    for every live endpoint of ``brand_id``; the number of rows queued. The message names the
    member by the brand's pairwise subject only."""
    return _enqueue(outbox, brand_id, DSR_EVENTS[message["kind"]], message, now)


def enqueue_intent_created(outbox: WebhookOutboxRepository, brand_id: str, category: str,
                           intent: dict[str, Any], now: int) -> int:
    """Queue ``intent.created`` (``data``: the intent as the brand's listing shows it, under
    its pseudonym for the brand) for the brand's live endpoints that opted in to it for
    ``category``; the number of rows queued."""
    return _enqueue(outbox, brand_id, INTENT_CREATED, intent, now,
                    endpoints=lambda: outbox.subscribed_endpoints(brand_id, INTENT_CREATED,
                                                                  category))


def enqueue_offer_decided(outbox: WebhookOutboxRepository, brand_id: str, event_type: str,
                          data: dict[str, Any], now: int) -> int:
    """Queue ``offer.accepted`` / ``offer.declined`` / ``offer.expired`` for every live
    endpoint of the offering brand; the number of rows queued."""
    return _enqueue(outbox, brand_id, event_type, data, now)


def _enqueue(outbox: WebhookOutboxRepository, brand_id: str, event_type: str,
             data: dict[str, Any], now: int,
             endpoints: Callable[[], list[tuple[int, str]]] | None = None) -> int:
    with outbox.transaction():
        endpoints_ = (endpoints or (lambda: outbox.live_endpoints(brand_id)))()
        if not endpoints_:
            return 0
        # One id per brand and event: the same on each of the brand's endpoints (one event),
        # never shared with another brand.
        event_id = str(uuid.uuid4())
        stamp = now - now % DAY if event_type in FANNED_OUT else now
        payload = json.dumps({"type": event_type, "timestamp": _utc(stamp), "data": data},
                             sort_keys=True, separators=(",", ":"))
        outbox.queue(endpoints_, event_type=event_type, event_id=event_id, payload=payload,
                     now=now)
        return len(endpoints_)


def _utc(timestamp: int) -> str:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- what compliance sees ---------------------------------------------------------------------
def outbox_entries(outbox: WebhookOutboxRepository, *, client_id: str | None = None,
                   status: str | None = None, limit: int = 200,
                   offset: int = 0) -> list[OutboxEntry]:
    """The newest outbox rows first, optionally of one client or in one status; ``offset``
    rows skipped (for pages)."""
    return outbox.entries(client_id=client_id, status=status, limit=limit, offset=offset)


def outbox_count(outbox: WebhookOutboxRepository, *, client_id: str | None = None,
                 status: str | None = None) -> int:
    """How many rows :func:`outbox_entries` has to list with these filters."""
    return outbox.count(client_id=client_id, status=status)


@dataclass(frozen=True)
class Redrive:
    """What :func:`redrive` did: the events queued again, and those it left, with why."""

    queued: tuple[int, ...]
    refused: Mapping[int, str]          # outbox id -> reason


def redrive(outbox: WebhookOutboxRepository, *, clock: Clock, outbox_ids: Sequence[int] = (),
            client_id: str | None = None) -> Redrive:
    """Queue given-up (``dead``) events again, for delivery at the next pass: those named, or
    with ``client_id`` every dead one of that client. Each starts a fresh series of attempts
    (``attempts`` back to 0, so the full retry schedule applies again); the attempts made
    before stay in the delivery record. An event whose endpoint was removed (by its brand's
    410 Gone, or by an operator) stays dead: it has nowhere to go."""
    now = int(clock())
    queued: list[int] = []
    refused: dict[int, str] = {}
    with outbox.transaction():
        if client_id is not None:
            states = outbox.dead_of_client(client_id)
        else:
            wanted = sorted(set(outbox_ids))
            states = outbox.states([i for i in wanted if i <= LARGEST_OUTBOX_ID])
            found = {state.id for state in states}
            refused.update({i: "no such event" for i in wanted if i not in found})
        for state in states:
            if state.status != "dead":
                refused[state.id] = f"it is {state.status}, not given up"
            elif not state.endpoint_live:
                refused[state.id] = "its endpoint was removed"
            else:
                queued.append(state.id)
        outbox.requeue(queued, now)
    return Redrive(tuple(queued), dict(sorted(refused.items())))


@dataclass(frozen=True)
class OutboxTally:
    """One client's queued events, counted by status (the compliance overview)."""

    client_id: str
    brand_name: str
    counts: Mapping[str, int]          # status -> events, every status present


def outbox_tallies(outbox: WebhookOutboxRepository) -> list[OutboxTally]:
    """Per client that was ever sent an event, its events by status; by brand name."""
    tallies: dict[str, tuple[str, dict[str, int]]] = {}
    for client_id, brand_name, status, events in outbox.tallies():
        _, counts = tallies.setdefault(client_id, (brand_name, dict.fromkeys(STATUSES, 0)))
        counts[status] = events
    return [OutboxTally(client_id, name, counts) for client_id, (name, counts) in
            tallies.items()]


__all__ = ["AUTHORIZATION_ENDED", "CONSENT_EXPIRED", "CONSENT_WITHDRAWN", "DSR_EVENTS",
           "EVENT_TYPES", "FANNED_OUT", "INTENT_CREATED", "MEMBER_ERASED", "OFFER_ACCEPTED",
           "OFFER_DECLINED", "OFFER_EXPIRED", "OPT_IN_EVENTS", "enqueue_dsr_message",
           "enqueue_intent_created", "enqueue_offer_decided",
           "NOTIFIED_GRANT_EVENTS", "STATUSES", "DueEvent", "OutboxEntry", "OutboxTally",
           "Redrive", "enqueue_grant_event", "enqueue_member_erased", "outbox_count",
           "outbox_entries", "outbox_tallies", "redrive"]
