"""The one place the brand gateway chooses its storage engine: its services over SQLCipher.

Each function builds a service of the gateway over the SQLCipher repositories
(``brand_gateway/sqlcipher/``) of an open :class:`vault.sqlcipher.database.Database`, the data
store's (the rate limiter: ``rates.db``'s). The services themselves see only the contracts of
``brand_gateway/repositories.py``; another engine brings its repositories and its own version
of these functions, and no service changes. Building is cheap (no statement runs), so callers
build what they need per use.
"""

from __future__ import annotations

from collections.abc import Callable

from consent.ledger import Ledger
from consent.repositories import GrantRepository
from consent.sqlcipher.grants import SqlcipherGrants
from vault.clock import Clock
from vault.export import Exporter
from vault.keys import MasterKey
from vault.sqlcipher.brands import SqlcipherBrands
from vault.sqlcipher.database import Database

from . import export
from .access_log import AccessLog
from .authorizations import AuthorizationStore, FamilyEndHook
from .clients import ClientRegistry, ClientSecretHasher
from .insights.budget import BudgetSettings, PrivacyBudget
from .insights.queries import EpsilonLimits, InsightQueries, Profiles
from .insights.releases import PrivateReleases, ReleaseSettings
from .insights.sqlcipher import SqlcipherInsightReadModel, SqlcipherPrivacySpends
from .pseudonyms import PURPOSE, PairwisePseudonyms
from .rate_limits import DEFAULT_LIMIT, WINDOW, Leases, RateLimiter, SpentWindows
from .repositories import EndingRepository
from .sqlcipher.authorizations import SqlcipherAuthorizations
from .sqlcipher.brand_names import SqlcipherBrandNames
from .sqlcipher.clients import SqlcipherClients
from .sqlcipher.endings import SqlcipherEndings
from .sqlcipher.export import SqlcipherGatewayExport
from .sqlcipher.pseudonyms import SqlcipherPairwiseSubjects
from .sqlcipher.rate_counts import SqlcipherRateCounts
from .sqlcipher.tokens import SqlcipherTokens
from .tokens import TokenStore
from .webhooks.repositories import WebhookOutboxRepository
from .webhooks.sqlcipher import SqlcipherWebhookOutbox


def token_store(*, database: Database, clock: Clock) -> TokenStore:
    return TokenStore(tokens=SqlcipherTokens(database), clock=clock)


def authorization_store(*, database: Database, clock: Clock,
                        on_end: FamilyEndHook | None = None) -> AuthorizationStore:
    return AuthorizationStore(families=SqlcipherAuthorizations(database), clock=clock,
                              on_end=on_end)


def client_registry(*, database: Database, clock: Clock,
                    hasher: ClientSecretHasher) -> ClientRegistry:
    return ClientRegistry(clients=SqlcipherClients(database), brands=SqlcipherBrands(database),
                          tokens=SqlcipherTokens(database),
                          families=SqlcipherAuthorizations(database), clock=clock,
                          hasher=hasher)


def pairwise_pseudonyms(*, database: Database, master: MasterKey) -> PairwisePseudonyms:
    return PairwisePseudonyms(subjects=SqlcipherPairwiseSubjects(database),
                              key=master.derive(PURPOSE))


def rate_limiter(*, database: Database, clock: Clock, limit: int = DEFAULT_LIMIT,
                 window: int = WINDOW, spent: SpentWindows | None = None,
                 leases: Leases | None = None) -> RateLimiter:
    """Over ``rates.db`` (``brand_gateway/sqlcipher/rate_counts.py``: ``open_rate_counts``)."""
    return RateLimiter(counts=SqlcipherRateCounts(database), clock=clock, limit=limit,
                       window=window, spent=spent, leases=leases)


def privacy_budget(*, database: Database, clock: Clock,
                   settings: BudgetSettings | None = None) -> PrivacyBudget:
    """The brands' privacy budgets in the data store (``PrivateReleases`` in
    ``brand_gateway/insights/releases.py`` spends from it)."""
    return PrivacyBudget(spends=SqlcipherPrivacySpends(database), clock=clock,
                         settings=settings)


def insight_queries(*, database: Database, clock: Clock, profiles: Profiles, ledger: Ledger,
                    budget: BudgetSettings | None = None,
                    releases: ReleaseSettings | None = None,
                    limits: EpsilonLimits | None = None) -> InsightQueries:
    """The insights queries over the data store's read model (migration 6) and budgets."""
    return InsightQueries(
        read_model=SqlcipherInsightReadModel(database), profiles=profiles,
        releases=PrivateReleases(budget=privacy_budget(database=database, clock=clock,
                                                       settings=budget), settings=releases),
        ledger=ledger, clock=clock, limits=limits)


def access_log(*, ledger: Ledger, database: Database, clock: Clock) -> AccessLog:
    return AccessLog(ledger=ledger, names=SqlcipherBrandNames(database), clock=clock)


def gateway_exporter(*, database: Database, ledger: Ledger, clock: Clock,
                     principal: Callable[[str], str],
                     subject: Callable[[str, str], str]) -> Exporter:
    """The gateway's part of a member's export (``brand_gateway/export.py``)."""
    return export.gateway_exporter(
        rows=SqlcipherGatewayExport(database), names=SqlcipherBrandNames(database),
        log=access_log(ledger=ledger, database=database, clock=clock), principal=principal,
        subject=subject)


def endings(database: Database) -> EndingRepository:
    return SqlcipherEndings(database)


def stored_grants(database: Database) -> GrantRepository:
    """Consent's grants, as the gateway's observers check them."""
    return SqlcipherGrants(database)


def webhook_outbox(database: Database) -> WebhookOutboxRepository:
    """The outbox the gateway's observers queue webhooks in, in the data store."""
    return SqlcipherWebhookOutbox(database)


def accepts_term(*, database: Database, clock: Clock,
                 master: MasterKey) -> Callable[[str, str], bool]:
    """Whether a brand accepts an IEEE 7012 term as standing policy: one of its active
    clients lists it among its accepted agreements (what a consent screen relies on)."""
    registry = client_registry(database=database, clock=clock,
                               hasher=ClientSecretHasher.from_master(master))

    def accepts(brand_id: str, term: str) -> bool:
        return any(client.active and client.brand_id == brand_id
                   and term in client.accepted_agreements for client in registry.list())

    return accepts
