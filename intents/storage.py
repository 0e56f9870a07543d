"""Where intent casting's service is built over the data store, on either engine.

:func:`intent_service` builds :class:`intents.service.IntentService` over the repository
(``intents/<engine>/``) of the data store of ``consent``'s vault, its engine's, as
``community/storage.py`` and ``compliance/storage.py`` do. Building is cheap: callers build per
use. ``listing_log`` records what brands are shown and do, ``(details, actor, at)``: the brand
gateway passes its access spool's writer; by default (tools, tests) the ledger itself.
:func:`intent_restorer` builds the reapplication after a restore (intents/after_restore.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from consent.context import Consent
from consent.events import EventDetails
from vault.engines import repository
from vault.export import Exporter
from vault.repositories import Store

from .after_restore import IntentRestorer
from .cursors import PURPOSE as CURSOR_PURPOSE
from .cursors import IntentCursors
from .export import intents_exporter
from .model import Limits
from .pseudonyms import PURPOSE, IntentPseudonyms
from .service import IntentObserver, IntentService, ListingLog


def _on(database: Store, module: str, name: str) -> Any:
    """The repository ``name`` of ``intents/<engine>/<module>.py`` over ``database``, for its
    engine (:mod:`vault.engines`)."""
    return repository(database, "intents.{engine}." + module, name)

DEFAULT_LIMITS = Limits()


def intent_service(consent: Consent, *, observers: Sequence[IntentObserver] = (),
                   limits: Limits = DEFAULT_LIMITS, listing_log: ListingLog | None = None
                   ) -> IntentService:
    vault = consent.vault

    def to_ledger(details: EventDetails, actor: str, at: int) -> None:
        consent.ledger.record_event(actor=actor, details=details)

    return IntentService(
        intents=_on(vault.data, "intents", "Intents"), keys=vault.key_store, brands=vault.brands,
        grants=consent.grants, agreements=consent.agreements,
        terms=consent.terms, ledger=consent.ledger,
        listing_log=listing_log or to_ledger, principal=consent.principal,
        brand_subject=consent.brand_subject, sign=consent.signer.sign,
        issuer=consent.signer.controller.url,
        pseudonyms=IntentPseudonyms(vault.master.derive(PURPOSE)),
        cursors=IntentCursors(vault.master.derive(CURSOR_PURPOSE)), clock=vault.clock,
        limits=limits, observers=observers)


def member_intent_export(consent: Consent) -> Exporter:
    """Intent casting's part of a member's export (intents/export.py): reading only."""
    return intents_exporter(intents=intent_service(consent))


def intent_restorer(consent: Consent) -> IntentRestorer:
    """After a restore, what was taken away in intent casting since the backup made to hold
    again in the data store of ``consent``'s vault (intents/after_restore.py)."""
    vault = consent.vault
    if consent.ledger.search_index is None:
        raise RuntimeError("this ledger was opened without its search index")
    return IntentRestorer(search=consent.ledger.search_index,
                          intents=_on(vault.data, "intents", "Intents"),
                          member_ids=vault.accounts.ids(),
                          brand_ids=[brand.id for brand in vault.brands.all()],
                          principal=consent.principal, clock=vault.clock)
