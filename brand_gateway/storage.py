"""Where the brand gateway's services are built over its stores, on either engine.

Each function builds a service of the gateway over the repositories (``brand_gateway/<engine>/``)
of an open store: the data store's, or the rates store's for the rate limiter. Which engine's
repositories is the store's own (:mod:`vault.engines`); the services see only the contracts of
``brand_gateway/repositories.py``, so no service changes with the engine. Building is cheap (no
statement runs), so callers build what they need per use.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from consent.ledger import Ledger
from consent.repositories import GrantRepository
from vault.clock import Clock
from vault.engines import repository
from vault.export import Exporter
from vault.home import VaultHome
from vault.keys import MasterKey
from vault.repositories import Store
from vault.schema import RATES

from . import export
from .access_log import AccessLog
from .authorizations import AuthorizationStore, FamilyEndHook
from .clients import ClientRegistry, ClientSecretHasher
from .insights.budget import BudgetSettings, PrivacyBudget
from .insights.queries import EpsilonLimits, InsightQueries, Profiles
from .insights.releases import PrivateReleases, ReleaseSettings
from .pseudonyms import PURPOSE, PairwisePseudonyms
from .rate_limits import DEFAULT_LIMIT, WINDOW, Leases, RateLimiter, SpentWindows
from .repositories import EndingRepository
from .tokens import TokenStore
from .webhooks.delivery import (
    MAX_ATTEMPTS,
    REQUEST_TIMEOUT,
    Sender,
    WebhookDispatcher,
    requests_sender,
)
from .webhooks.endpoints import WebhookRegistry
from .webhooks.repositories import WebhookOutboxRepository
from .webhooks.signing import WebhookSigner


def _on(database: Store, module: str, name: str) -> Any:
    """The repository ``name`` of ``brand_gateway/<engine>/<module>.py`` over ``database``,
    for its engine (:mod:`vault.engines`)."""
    return repository(database, "brand_gateway.{engine}." + module, name)


def token_store(*, database: Store, clock: Clock) -> TokenStore:
    return TokenStore(tokens=_on(database, "tokens", "Tokens"), clock=clock)


def authorization_store(*, database: Store, clock: Clock,
                        on_end: FamilyEndHook | None = None) -> AuthorizationStore:
    return AuthorizationStore(families=_on(database, "authorizations", "Authorizations"),
                              clock=clock, on_end=on_end)


def client_registry(*, database: Store, clock: Clock,
                    hasher: ClientSecretHasher) -> ClientRegistry:
    return ClientRegistry(clients=_on(database, "clients", "Clients"),
                          brands=repository(database, "vault.{engine}.brands", "Brands"),
                          tokens=_on(database, "tokens", "Tokens"),
                          families=_on(database, "authorizations", "Authorizations"),
                          clock=clock, hasher=hasher)


def pairwise_pseudonyms(*, database: Store, master: MasterKey) -> PairwisePseudonyms:
    return PairwisePseudonyms(subjects=_on(database, "pseudonyms", "PairwiseSubjects"),
                              key=master.derive(PURPOSE))


def open_rate_counts(home: VaultHome, master: MasterKey) -> Store:
    """The rates store of ``home`` (``rates.db``, mode 0600, its own subkey of the master key;
    on PostgreSQL the schema ``rates`` of the data database), made and migrated as needed.
    Close it."""
    return home.open_store(RATES, master, migrate=True)


def rate_limiter(*, database: Store, clock: Clock, limit: int = DEFAULT_LIMIT,
                 window: int = WINDOW, spent: SpentWindows | None = None,
                 leases: Leases | None = None) -> RateLimiter:
    """Over the rates store (:func:`open_rate_counts`)."""
    return RateLimiter(counts=_on(database, "rate_counts", "RateCounts"), clock=clock,
                       limit=limit, window=window, spent=spent, leases=leases)


def privacy_budget(*, database: Store, clock: Clock,
                   settings: BudgetSettings | None = None) -> PrivacyBudget:
    """The brands' privacy budgets in the data store (``PrivateReleases`` in
    ``brand_gateway/insights/releases.py`` spends from it)."""
    return PrivacyBudget(spends=_on_insights(database, "PrivacySpends"), clock=clock,
                         settings=settings)


def insight_queries(*, database: Store, clock: Clock, profiles: Profiles, ledger: Ledger,
                    budget: BudgetSettings | None = None,
                    releases: ReleaseSettings | None = None,
                    limits: EpsilonLimits | None = None) -> InsightQueries:
    """The insights queries over the data store's read model (migration 6) and budgets."""
    return InsightQueries(
        read_model=_on_insights(database, "InsightReadModel"), profiles=profiles,
        releases=PrivateReleases(budget=privacy_budget(database=database, clock=clock,
                                                       settings=budget), settings=releases),
        ledger=ledger, clock=clock, limits=limits)


def access_log(*, ledger: Ledger, database: Store, clock: Clock) -> AccessLog:
    return AccessLog(ledger=ledger, names=_on(database, "brand_names", "BrandNames"),
                     clock=clock)


def gateway_exporter(*, database: Store, ledger: Ledger, clock: Clock,
                     principal: Callable[[str], str],
                     subject: Callable[[str, str], str]) -> Exporter:
    """The gateway's part of a member's export (``brand_gateway/export.py``)."""
    return export.gateway_exporter(
        rows=_on(database, "export", "GatewayExport"),
        names=_on(database, "brand_names", "BrandNames"),
        log=access_log(ledger=ledger, database=database, clock=clock), principal=principal,
        subject=subject)


def endings(database: Store) -> EndingRepository:
    return _on(database, "endings", "Endings")


def stored_grants(database: Store) -> GrantRepository:
    """Consent's grants, as the gateway's observers check them."""
    return repository(database, "consent.{engine}.grants", "Grants")


def webhook_outbox(database: Store) -> WebhookOutboxRepository:
    """The outbox the gateway's observers queue webhooks in, in the data store."""
    return _on_webhooks(database, "WebhookOutbox")


def accepts_term(*, database: Store, clock: Clock,
                 master: MasterKey) -> Callable[[str, str], bool]:
    """Whether a brand accepts an IEEE 7012 term as standing policy: one of its active
    clients lists it among its accepted agreements (what a consent screen relies on)."""
    registry = client_registry(database=database, clock=clock,
                               hasher=ClientSecretHasher.from_master(master))

    def accepts(brand_id: str, term: str) -> bool:
        return any(client.active and client.brand_id == brand_id
                   and term in client.accepted_agreements for client in registry.list())

    return accepts


def webhook_registry(*, database: Store, clock: Clock) -> WebhookRegistry:
    """Brands' webhook endpoints over the data store ``database``."""
    return WebhookRegistry(endpoints=_on_webhooks(database, "WebhookEndpoints"),
                           outbox=_on_webhooks(database, "WebhookOutbox"), clock=clock)


def webhook_dispatcher(*, database: Store, signer: WebhookSigner, clock: Clock,
                       sender: Sender = requests_sender,
                       fraction: Callable[[], float] = random.random,
                       max_attempts: int = MAX_ATTEMPTS,
                       timeout: float = REQUEST_TIMEOUT) -> WebhookDispatcher:
    """Webhook delivery over the data store ``database``'s outbox and endpoints."""
    return WebhookDispatcher(endpoints=_on_webhooks(database, "WebhookEndpoints"),
                             outbox=_on_webhooks(database, "WebhookOutbox"), signer=signer,
                             clock=clock, sender=sender, fraction=fraction,
                             max_attempts=max_attempts, timeout=timeout)


def _on_webhooks(database: Store, name: str) -> Any:
    return repository(database, "brand_gateway.webhooks.{engine}", name)


def _on_insights(database: Store, name: str) -> Any:
    return repository(database, "brand_gateway.insights.{engine}", name)
