"""The intent service as the brand gateway and the member pages use it, with the gateway's
observers attached.

- :func:`intent_observers` (no Flask): the :class:`intents.IntentObserver` that queues signed
  webhooks. ``intent.created`` goes to the endpoints that opted in to it (for the intent's
  category or all of the brand's) of every brand registered for the category that the member
  has not blocked, each delivery also an ``intent:listing:returned`` ledger entry with
  ``via: "webhook"``; ``offer.accepted|declined|expired`` go to every live endpoint of the
  offering brand. Called inside the data store's write transaction of the change, so the
  outbox rows commit with it or not at all.
- :func:`intent_service` (no Flask): the service over a :class:`consent.context.Consent` with
  those observers and the app's limits; the web layer's member pages and keeper build theirs
  with it, so a cast or a decision on a page notifies brands as an API call would.
- :func:`intent_service_for_request`: the same over the current request's stores, the brand
  API's listing recorder being the request's access spool.
- :func:`offer_profile`: the read of what a member revealed on accepting an offer, through the
  read pipeline's rules (the grant judged now, the read recorded before it is served).
- :func:`intent_erasure_hook`: the ``before_delete`` hook of an erasure that declines the open
  offers on the member's intents, each brand sent ``offer.declined`` in the erasure's
  transaction, as a withdrawal of the intent would.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import current_app

from consent import event_details
from consent.context import Consent, member_principal
from consent.decision import MemberPolicy
from consent.events import Event, EventDetails
from consent.model import Grant, Mode
from consent.vocabulary import FIELD_CATEGORY
from intents.model import BrandOffer, Intent, Limits, ListedIntent
from intents.service import IntentService
from intents.storage import intent_service as build_intent_service
from vault.errors import NotFoundError

from .intent_views import listed_intent, offer_event
from .member_data import PurposeAccess, release_profile
from .reads import Caller, MemberDataReads, ProfileRead
from .request_stores import request_stores
from .storage import webhook_outbox
from .webhooks.outbox import (
    OFFER_ACCEPTED,
    OFFER_DECLINED,
    OFFER_EXPIRED,
    enqueue_intent_created,
    enqueue_offer_decided,
)

_OFFER_EVENTS = {"accepted": OFFER_ACCEPTED, "declined": OFFER_DECLINED,
                 "expired": OFFER_EXPIRED}


@dataclass(frozen=True)
class WebhookIntentObserver:
    """Queues the intent webhooks (see the module docstring)."""

    consent: Consent

    def intent_published(self, intent: Intent, listed_to: Callable[[str], ListedIntent]
                         ) -> None:
        vault = self.consent.vault
        outbox = webhook_outbox(vault.data)
        principal = member_principal(vault, intent.member_id)
        now = int(vault.clock())
        for brand in vault.brands.all():
            if intent.category not in brand.categories:
                continue
            if not outbox.subscribed_endpoints(brand.id, "intent.created", intent.category):
                continue
            try:
                listed = listed_to(brand.id)        # a brand the member blocked: not listed
            except NotFoundError:
                continue
            if enqueue_intent_created(outbox, brand.id, intent.category,
                                      listed_intent(listed), now):
                self.consent.ledger.record_event(
                    actor="brand:" + brand.id, details=event_details.IntentListed(
                        member=principal, brand=brand.id, intent=intent.id, via="webhook"))

    def offer_decided(self, offer: BrandOffer, brand_id: str) -> None:
        event_type = _OFFER_EVENTS.get(str(offer.status))
        if event_type is None:
            return
        vault = self.consent.vault
        enqueue_offer_decided(webhook_outbox(vault.data), brand_id, event_type,
                              offer_event(offer), int(vault.clock()))


def intent_observers(consent: Consent) -> list[WebhookIntentObserver]:
    """The gateway's observers of the intent service over ``consent``."""
    return [WebhookIntentObserver(consent)]


def intent_service(consent: Consent, config: Mapping[str, Any] | None = None,
                   **options: Any) -> IntentService:
    """The intent service over ``consent`` with the gateway's observers (and the limits of
    ``config``, an app's settings, if given). The member pages' and the keeper's service."""
    if config is not None:
        options.setdefault("limits", Limits.from_settings(config))
    return build_intent_service(consent, observers=intent_observers(consent), **options)


def intent_erasure_hook(consent: Consent) -> Callable[[str, int], None]:
    """A ``before_delete`` hook of :class:`vault.erasure.ErasureService`: the open offers on
    the member's intents are declined before the rows go (see the module docstring)."""
    service = intent_service(consent)

    def before_delete(member_id: str, erased_at: int) -> None:
        service.decline_offers_before_erasure(member_id)

    return before_delete


def intent_service_for_request() -> IntentService:
    """The intent service over the current request's stores; the intents a listing returns
    are recorded in the request's access spool (as reads are) before the answer leaves."""
    stores = request_stores()
    spool = stores.spool

    def listing_log(details: EventDetails, actor: str, at: int) -> None:
        spool().append(Event.of(details, actor), at=at)

    return intent_service(stores.consent(), current_app.config, listing_log=listing_log)


def offer_profile(pipeline: MemberDataReads, caller: Caller, member_id: str, grant_id: str
                  ) -> ProfileRead | None:
    """The fields of ``grant_id`` (the reveal of an accepted offer) that the member's policy
    allows now, the read recorded in the access spool before it is served (as every read of
    :mod:`brand_gateway.reads`: pseudonyms and field names only); ``None`` if the grant is not
    in force."""
    brand_id = caller.client.brand_id
    now = caller.now
    policy = pipeline.consent().decisions.policy(member_id, brand_id)
    own = tuple(g for g in policy.grants if g.id == grant_id)
    if not own or not own[0].live_at(now):
        return None
    grant: Grant = own[0]
    fields = tuple(f for f in FIELD_CATEGORY if f in grant.covered)
    decisions = MemberPolicy(policy.terms, own, policy.restrictions).decide_fields(
        grant.purpose, fields, Mode.INDIVIDUAL, now)
    allowed = {f: d.grant_id for f, d in decisions.items()
               if d.allowed and d.grant_id is not None}
    access = PurposeAccess(grant.purpose, fields, tuple(f for f in fields if f in allowed),
                           allowed, grant.ends_at)
    vault = caller.vault
    release = release_profile(access, None,
                              lambda wanted: vault.profile.read(member_id, wanted))
    # Counted against the client's rate when it authenticated (requires_scope).
    details = event_details.ProfileRead(
        member=member_principal(vault, member_id), client=caller.client.client_id,
        purpose=grant.purpose, fields=list(release.values), grants=release.grant_ids)
    pipeline.spool().append(Event.of(details, "brand:" + brand_id), at=now)
    return ProfileRead(pipeline.subject(member_id, brand_id), grant.purpose, release)
