"""Data subject requests as brands see them: the brands a request goes to, and the signed
webhook that carries it, shaped as the open Ketch Forwarder ``dsr/v1`` messages.

A request goes to every brand that holds the member's data (a grant of individual use, or a
pairwise subject handed out: the brands a ``member.erased`` goes to) or has read it (the
ledger's index of brand reads). Each brand gets its own message: ``metadata.uid`` is the
brand's task uid (the vault's request id never leaves it), the member is named only by the
brand's pairwise pseudonym (``identities``), ``request.subject`` carries no e-mail address or
name and never the member's own words, so two brands receive nothing in common.
``request.callbacks`` names the brand API's endpoint for its status events
(brand_gateway/api/requests.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from compliance.deadlines import DEFAULT_TIMEZONE, HolidayCalendar, holiday_calendar
from compliance.requests import Forwarded, Regime, RequestService
from compliance.storage import request_service
from consent.context import Consent

from .storage import webhook_outbox
from .webhooks.outbox import enqueue_dsr_message

API_VERSION = "dsr/v1"
TENANT = "vrmvault"
IDENTITY_SPACE = "vrmvault_pairwise_subject"
JURISDICTION = {Regime.GDPR: "eugdpr", Regime.CCPA: "uscacpra"}
#: The brand API's path of a request's status events (``{uid}``: the task uid).
EVENTS_PATH = "/api/v1/requests/{uid}/events"


def dsr_message(forwarded: Forwarded, *, callback_base: str) -> dict[str, Any]:
    """The dsr/v1 request message for one brand's task."""
    task = forwarded.task
    return {
        "apiVersion": API_VERSION,
        "kind": task.message,
        "metadata": {"uid": task.uid, "tenant": TENANT},
        "request": {
            "controller": TENANT,
            "property": TENANT,
            "environment": "production",
            "regulation": forwarded.regime.value,
            "jurisdiction": JURISDICTION[forwarded.regime],
            "identities": [{"identitySpace": IDENTITY_SPACE, "identityFormat": "raw",
                            "identityValue": task.subject}],
            "callbacks": [{"url": callback_base + EVENTS_PATH.format(uid=task.uid)}],
            "subject": {"type": "member"},
            "claims": {"right": forwarded.kind.value},
            "submittedTimestamp": forwarded.submitted_at,
            "dueTimestamp": forwarded.due_at,
        },
    }


def holders_of(consent: Consent) -> Callable[[str], list[str]]:
    """The brands holding or having read a member's data."""
    vault = consent.vault

    def holders(member_id: str) -> list[str]:
        brands = set(webhook_outbox(vault.data).brands_knowing(member_id))
        reads = consent.ledger.access_index.daily(consent.principal(member_id), since=0,
                                                  day=1 << 40)
        brands.update(r.brand_id for r in reads)
        return sorted(brands)

    return holders


def calendar_of(settings: Mapping[str, Any]) -> HolidayCalendar:
    """The holiday calendar of the settings ``VRMVAULT_HOLIDAYS`` and
    ``VRMVAULT_HOLIDAYS_EXTRA``."""
    return holiday_calendar(settings["VRMVAULT_HOLIDAYS"], settings["VRMVAULT_HOLIDAYS_EXTRA"])


def dsr_service(consent: Consent, *, callback_base: str, calendar: HolidayCalendar,
                zone: str = DEFAULT_TIMEZONE) -> RequestService:
    """Data subject requests, forwarded through the webhook outbox; ``callback_base``: the
    vault's public URL (the brand API's ``issuer``); ``zone``: the deadline time zone."""
    return request_service(consent=consent, calendar=calendar, holders=holders_of(consent),
                           forward=dsr_forwarder(consent, callback_base=callback_base),
                           zone=zone)


def dsr_forwarder(consent: Consent, *, callback_base: str) -> Callable[[Forwarded], None]:
    """Queue one brand's ``dsr/v1`` message in the webhook outbox of ``consent``'s data store,
    inside the caller's transaction; ``callback_base``: the vault's public URL."""
    vault = consent.vault
    outbox = webhook_outbox(vault.data)

    def forward(forwarded: Forwarded) -> None:
        enqueue_dsr_message(outbox, forwarded.task.brand_id,
                            dsr_message(forwarded, callback_base=callback_base),
                            int(vault.clock()))

    return forward
