"""The storage conformance suite's fixtures: every repository implementation, over a fresh store.

Each engine adds one factory to :data:`IMPLEMENTATIONS` (a PostgreSQL one: a fresh database per
test); every test in this folder then runs against each of them, through the contracts of
``vault/repositories.py``, ``consent/repositories.py``, ``brand_gateway/repositories.py``,
``brand_gateway/webhooks/repositories.py``, ``brand_gateway/insights/repositories.py`` and
``community/repositories.py``, ``intents/repositories.py`` and ``compliance/repositories.py`` only
(the OAuth clients and pairwise subjects the webhook contracts read are made through
:class:`GatewayRows`, the gateway's services over the implementation's own repositories).

The rates store, which shares no transaction with any other, has its own engines
(:data:`RATE_STORES`: SQLCipher's ``rates.db`` and PostgreSQL, the first store PostgreSQL
holds, issue 17) and its own fixture, :func:`rates`, whose connections are each a worker's.
So has the key store (:data:`KEY_STORES`, fixture :func:`member_keys_store`): ``keys.db``,
and on PostgreSQL a database of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from brand_gateway.clients import ClientRegistry, ClientSecretHasher
from brand_gateway.insights.postgresql import PostgresqlInsightReadModel, PostgresqlPrivacySpends
from brand_gateway.insights.repositories import (
    InsightReadModelRepository,
    PrivacySpendRepository,
)
from brand_gateway.insights.sqlcipher import SqlcipherInsightReadModel, SqlcipherPrivacySpends
from brand_gateway.postgresql.authorizations import PostgresqlAuthorizations
from brand_gateway.postgresql.brand_names import PostgresqlBrandNames
from brand_gateway.postgresql.clients import PostgresqlClients
from brand_gateway.postgresql.endings import PostgresqlEndings
from brand_gateway.postgresql.export import PostgresqlGatewayExport
from brand_gateway.postgresql.pseudonyms import PostgresqlPairwiseSubjects
from brand_gateway.postgresql.rate_counts import PostgresqlRateCounts
from brand_gateway.postgresql.rate_counts import open_rate_counts as open_postgresql_rates
from brand_gateway.postgresql.tokens import PostgresqlTokens
from brand_gateway.pseudonyms import PairwisePseudonyms
from brand_gateway.repositories import (
    AuthorizationRepository,
    BrandNameRepository,
    ClientRepository,
    EndingRepository,
    GatewayExportRepository,
    PairwiseSubjectRepository,
    RateCountRepository,
    TokenRepository,
)
from brand_gateway.sqlcipher.authorizations import SqlcipherAuthorizations
from brand_gateway.sqlcipher.brand_names import SqlcipherBrandNames
from brand_gateway.sqlcipher.clients import SqlcipherClients
from brand_gateway.sqlcipher.endings import SqlcipherEndings
from brand_gateway.sqlcipher.export import SqlcipherGatewayExport
from brand_gateway.sqlcipher.pseudonyms import SqlcipherPairwiseSubjects
from brand_gateway.sqlcipher.rate_counts import SqlcipherRateCounts
from brand_gateway.sqlcipher.tokens import SqlcipherTokens
from brand_gateway.storage import open_rate_counts
from brand_gateway.webhooks.postgresql import PostgresqlWebhookEndpoints, PostgresqlWebhookOutbox
from brand_gateway.webhooks.repositories import (
    WebhookEndpointRepository,
    WebhookOutboxRepository,
)
from brand_gateway.webhooks.sqlcipher import SqlcipherWebhookEndpoints, SqlcipherWebhookOutbox
from community.postgresql.care import PostgresqlCareCases
from community.postgresql.loop import PostgresqlWeDid
from community.repositories import CareCaseRepository, WeDidRepository
from community.sqlcipher.care import SqlcipherCareCases
from community.sqlcipher.loop import SqlcipherWeDid
from compliance.postgresql.reports import PostgresqlReports
from compliance.postgresql.requests import PostgresqlRequests
from compliance.postgresql.reveals import PostgresqlReveals
from compliance.repositories import ReportRepository, RequestRepository, RevealRepository
from compliance.sqlcipher.reports import SqlcipherReports
from compliance.sqlcipher.requests import SqlcipherRequests
from compliance.sqlcipher.reveals import SqlcipherReveals
from consent.context import ledger_path
from consent.postgresql.agreements import PostgresqlAgreements
from consent.postgresql.grants import PostgresqlGrants
from consent.postgresql.ledger import SCHEMA as LEDGER_SCHEMA
from consent.postgresql.ledger import (
    PostgresqlAccessIndex,
    PostgresqlLedger,
    open_ledger_store,
)
from consent.postgresql.ledger_search import PostgresqlLedgerSearch
from consent.postgresql.restrictions import PostgresqlRestrictions
from consent.postgresql.terms import PostgresqlTerms
from consent.repositories import (
    AccessIndexRepository,
    AgreementRepository,
    GrantRepository,
    LedgerRepository,
    LedgerSearchRepository,
    RestrictionRepository,
    TermsRepository,
)
from consent.sqlcipher.agreements import SqlcipherAgreements
from consent.sqlcipher.grants import SqlcipherGrants
from consent.sqlcipher.ledger import SqlcipherAccessIndex, SqlcipherLedger
from consent.sqlcipher.ledger_search import SqlcipherLedgerSearch
from consent.sqlcipher.restrictions import SqlcipherRestrictions
from consent.sqlcipher.terms import SqlcipherTerms
from intents.postgresql.intents import PostgresqlIntents
from intents.repositories import IntentRepository
from intents.sqlcipher.intents import SqlcipherIntents
from tests.postgresql_server import Server
from vault import migrations
from vault.home import VaultHome
from vault.postgresql.brands import PostgresqlBrands
from vault.postgresql.data import open_data_store
from vault.postgresql.database import Database as PostgresqlDatabase
from vault.postgresql.database import Pool, in_schema
from vault.postgresql.erasure import PostgresqlErasures
from vault.postgresql.feedback import PostgresqlFeedback
from vault.postgresql.keys import PostgresqlMemberKeys, open_member_keys
from vault.postgresql.members import PostgresqlMembers
from vault.postgresql.password_resets import PostgresqlPasswordResets
from vault.postgresql.profile import PostgresqlProfileValues
from vault.postgresql.recovery_codes import PostgresqlRecoveryCodes
from vault.postgresql.sessions import PostgresqlSessions
from vault.postgresql.signups import PostgresqlSignups
from vault.postgresql.throttle import PostgresqlLoginAttempts, PostgresqlRequestCounts
from vault.repositories import (
    BrandRepository,
    ErasureRepository,
    FeedbackRepository,
    LoginAttemptRepository,
    MemberKeyRepository,
    MemberRepository,
    PasswordResetRepository,
    ProfileRepository,
    RecoveryCodeRepository,
    RequestCountRepository,
    SessionRepository,
    SignupRepository,
)
from vault.schema import LEDGER
from vault.sqlcipher.brands import SqlcipherBrands
from vault.sqlcipher.database import Database
from vault.sqlcipher.erasure import SqlcipherErasures
from vault.sqlcipher.feedback import SqlcipherFeedback
from vault.sqlcipher.keys import SqlcipherMemberKeys
from vault.sqlcipher.members import SqlcipherMembers
from vault.sqlcipher.password_resets import SqlcipherPasswordResets
from vault.sqlcipher.profile import SqlcipherProfileValues
from vault.sqlcipher.recovery_codes import SqlcipherRecoveryCodes
from vault.sqlcipher.sessions import SqlcipherSessions
from vault.sqlcipher.signups import SqlcipherSignups
from vault.sqlcipher.throttle import SqlcipherLoginAttempts, SqlcipherRequestCounts


@dataclass(frozen=True)
class GatewayRows:
    """The gateway rows the webhook contracts read: an OAuth client of a brand (its id), and a
    pairwise subject handed out to a brand."""

    add_client: Callable[[str], tuple[str, str]]    # brand name -> (client id, brand id)
    add_pairwise_subject: Callable[[str, str], None]    # member id, brand id


@dataclass(frozen=True)
class Repositories:
    """One implementation's repositories: the data store's, the key store's and the ledger's
    (the request counters' are :class:`RateStore`'s)."""

    members: MemberRepository
    recovery_codes: RecoveryCodeRepository
    sessions: SessionRepository
    login_attempts: LoginAttemptRepository
    request_counts: RequestCountRepository
    signups: SignupRepository
    password_resets: PasswordResetRepository
    brands: BrandRepository
    profile: ProfileRepository
    feedback: FeedbackRepository
    erasures: ErasureRepository
    member_keys: MemberKeyRepository
    terms: TermsRepository
    agreements: AgreementRepository
    grants: GrantRepository
    ledger: LedgerRepository
    access_index: AccessIndexRepository
    webhook_endpoints: WebhookEndpointRepository
    webhook_outbox: WebhookOutboxRepository
    tokens: TokenRepository
    clients: ClientRepository
    authorizations: AuthorizationRepository
    pairwise_subjects: PairwiseSubjectRepository
    brand_names: BrandNameRepository
    gateway_export: GatewayExportRepository
    endings: EndingRepository
    privacy_spends: PrivacySpendRepository
    gateway: GatewayRows
    insight_read_model: InsightReadModelRepository
    care_cases: CareCaseRepository
    wedid: WeDidRepository
    reports: ReportRepository
    reveals: RevealRepository
    ledger_search: LedgerSearchRepository
    dsr_requests: RequestRepository
    restrictions: RestrictionRepository
    intents: IntentRepository


@contextmanager
def sqlcipher(root: Path) -> Iterator[Repositories]:
    """The SQLCipher repositories over the data and key stores ``vrmvault init`` makes, and
    a ledger store made as ``open_ledger`` makes it."""
    home = VaultHome(root / "var")
    home.initialise({})
    master = home.master_key({})
    data = Database.open(home.data_path, master.derive("data-store"))
    keys = Database.open(home.keys_path, master.derive("key-store"))
    ledger = Database.open(ledger_path(home), master.derive(LEDGER.key_purpose), create=True)
    migrations.apply(ledger, LEDGER)
    clients = ClientRegistry(
        clients=SqlcipherClients(data), brands=SqlcipherBrands(data),
        tokens=SqlcipherTokens(data), families=SqlcipherAuthorizations(data),
        clock=lambda: 1_000.0, hasher=ClientSecretHasher(bytes(32)))
    pseudonyms = PairwisePseudonyms(subjects=SqlcipherPairwiseSubjects(data), key=bytes(32))

    def add_client(name: str) -> tuple[str, str]:
        client = clients.create(name, ["https://example.com/callback"])[0]
        return client.client_id, client.brand_id

    def add_pairwise_subject(member_id: str, brand_id: str) -> None:
        pseudonyms.record(member_id, brand_id)

    try:
        yield Repositories(
            SqlcipherMembers(data), SqlcipherRecoveryCodes(data), SqlcipherSessions(data),
            SqlcipherLoginAttempts(data), SqlcipherRequestCounts(data), SqlcipherSignups(data),
            SqlcipherPasswordResets(data), SqlcipherBrands(data), SqlcipherProfileValues(data),
            SqlcipherFeedback(data), SqlcipherErasures(data), SqlcipherMemberKeys(keys),
            SqlcipherTerms(data), SqlcipherAgreements(data), SqlcipherGrants(data),
            SqlcipherLedger(ledger), SqlcipherAccessIndex(ledger),
            SqlcipherWebhookEndpoints(data), SqlcipherWebhookOutbox(data),
            SqlcipherTokens(data), SqlcipherClients(data), SqlcipherAuthorizations(data),
            SqlcipherPairwiseSubjects(data), SqlcipherBrandNames(data),
            SqlcipherGatewayExport(data), SqlcipherEndings(data),
            SqlcipherPrivacySpends(data), GatewayRows(add_client, add_pairwise_subject),
            SqlcipherInsightReadModel(data), care_cases=SqlcipherCareCases(data),
            wedid=SqlcipherWeDid(data), reports=SqlcipherReports(data),
            reveals=SqlcipherReveals(data), ledger_search=SqlcipherLedgerSearch(ledger),
            dsr_requests=SqlcipherRequests(data), restrictions=SqlcipherRestrictions(data),
            intents=SqlcipherIntents(data))
    finally:
        data.close()
        keys.close()
        ledger.close()


def postgresql_data_template(server: Server) -> str:
    """The run's data database migrated once, with the ledger's schema in it, that each test's
    database copies."""
    def migrate(dsn: str) -> None:
        open_data_store(dsn).close()
        open_ledger_store(dsn).close()

    return server.template("data", migrate)


@contextmanager
def postgresql(root: Path, request: pytest.FixtureRequest) -> Iterator[Repositories]:
    """The PostgreSQL repositories over a new data database and a new key database of the
    run's server, each migrated as the product migrates them."""
    server: Server = request.getfixturevalue("postgresql")
    keys_template = server.template("keys", lambda dsn: open_member_keys(dsn).close())
    with ExitStack() as stack:
        data_dsn = stack.enter_context(server.database(postgresql_data_template(server)))
        data = stack.enter_context(_connected(data_dsn))
        ledger = stack.enter_context(_connected(in_schema(data_dsn, LEDGER_SCHEMA)))
        keys = stack.enter_context(_connected(stack.enter_context(
            server.database(keys_template))))

        clients = ClientRegistry(
            clients=PostgresqlClients(data),
            brands=PostgresqlBrands(data),
            tokens=PostgresqlTokens(data),
            families=PostgresqlAuthorizations(data),
            clock=lambda: 1_000.0, hasher=ClientSecretHasher(bytes(32)))
        pseudonyms = PairwisePseudonyms(
            subjects=PostgresqlPairwiseSubjects(data),
            key=bytes(32))

        def add_client(name: str) -> tuple[str, str]:
            client = clients.create(name, ["https://example.com/callback"])[0]
            return client.client_id, client.brand_id

        def add_pairwise_subject(member_id: str, brand_id: str) -> None:
            pseudonyms.record(member_id, brand_id)

        yield Repositories(
            PostgresqlMembers(data),
            PostgresqlRecoveryCodes(data),
            PostgresqlSessions(data),
            PostgresqlLoginAttempts(data),
            PostgresqlRequestCounts(data),
            PostgresqlSignups(data),
            PostgresqlPasswordResets(data),
            PostgresqlBrands(data),
            PostgresqlProfileValues(data),
            PostgresqlFeedback(data),
            PostgresqlErasures(data),
            PostgresqlMemberKeys(keys),
            PostgresqlTerms(data),
            PostgresqlAgreements(data),
            PostgresqlGrants(data),
            PostgresqlLedger(ledger), PostgresqlAccessIndex(ledger),
            PostgresqlWebhookEndpoints(data),
            PostgresqlWebhookOutbox(data),
            PostgresqlTokens(data),
            PostgresqlClients(data),
            PostgresqlAuthorizations(data),
            PostgresqlPairwiseSubjects(data),
            PostgresqlBrandNames(data),
            PostgresqlGatewayExport(data),
            PostgresqlEndings(data),
            PostgresqlPrivacySpends(data),
            GatewayRows(add_client, add_pairwise_subject),
            PostgresqlInsightReadModel(data),
            care_cases=PostgresqlCareCases(data),
            wedid=PostgresqlWeDid(data),
            reports=PostgresqlReports(data),
            reveals=PostgresqlReveals(data),
            ledger_search=PostgresqlLedgerSearch(ledger),
            dsr_requests=PostgresqlRequests(data),
            restrictions=PostgresqlRestrictions(data),
            intents=PostgresqlIntents(data))


@contextmanager
def _connected(dsn: str) -> Iterator[PostgresqlDatabase]:
    database = PostgresqlDatabase.connect(dsn)
    try:
        yield database
    finally:
        database.close()


IMPLEMENTATIONS: dict[str, Callable[[Path, pytest.FixtureRequest],
                                    AbstractContextManager[Repositories]]] = {
    "sqlcipher": lambda root, request: sqlcipher(root),
    "postgresql": postgresql,
}


@pytest.fixture(params=sorted(IMPLEMENTATIONS))
def repositories(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Repositories]:
    with IMPLEMENTATIONS[request.param](tmp_path, request) as made:
        yield made


@dataclass(frozen=True)
class RateStore:
    """One engine's rates store, made afresh for a test: each :meth:`connection` is one of its
    own, as a worker (or a host) has, with the repository over it."""

    engine: str
    connection: Callable[[], AbstractContextManager[RateCountRepository]]


@contextmanager
def sqlcipher_rates(root: Path, request: pytest.FixtureRequest) -> Iterator[RateStore]:
    """``rates.db`` in a new home, opened anew for each connection."""
    home = VaultHome(root / "var")
    home.initialise({})
    master = home.master_key({})

    @contextmanager
    def connection() -> Iterator[RateCountRepository]:
        database = open_rate_counts(home, master)
        try:
            yield SqlcipherRateCounts(database)
        finally:
            database.close()

    yield RateStore("sqlcipher", connection)


def postgresql_rates_template(server: Server) -> str:
    """The run's rates database migrated once, that each test's database copies."""
    return server.template("rates", lambda dsn: open_postgresql_rates(dsn).close())


@contextmanager
def postgresql_rates(root: Path, request: pytest.FixtureRequest) -> Iterator[RateStore]:
    """A new database of the run's PostgreSQL server, its connections lent by a pool."""
    server: Server = request.getfixturevalue("postgresql")
    with ExitStack() as stack:
        dsn = stack.enter_context(server.database(postgresql_rates_template(server)))
        pool = Pool(dsn, min_size=1, max_size=4)
        stack.callback(pool.close)

        @contextmanager
        def connection() -> Iterator[RateCountRepository]:
            with pool.connection() as database:
                yield PostgresqlRateCounts(database)

        yield RateStore("postgresql", connection)


RATE_STORES: dict[str, Callable[[Path, pytest.FixtureRequest],
                                AbstractContextManager[RateStore]]] = {
    "sqlcipher": sqlcipher_rates,
    "postgresql": postgresql_rates,
}


@dataclass
class KeyStore:
    """One engine's key store, made afresh for a test, and the repository over it."""

    engine: str
    keys: MemberKeyRepository
    postgresql: PostgresqlDatabase | None = None    # the connection, on PostgreSQL


@contextmanager
def sqlcipher_keys(root: Path, request: pytest.FixtureRequest) -> Iterator[KeyStore]:
    """``keys.db`` as ``vrmvault init`` makes it."""
    home = VaultHome(root / "var")
    home.initialise({})
    keys = Database.open(home.keys_path, home.master_key({}).derive("key-store"))
    try:
        yield KeyStore("sqlcipher", SqlcipherMemberKeys(keys))
    finally:
        keys.close()


@contextmanager
def postgresql_keys(root: Path, request: pytest.FixtureRequest) -> Iterator[KeyStore]:
    """A new key database of the run's PostgreSQL server, migrated as the product does."""
    server: Server = request.getfixturevalue("postgresql")
    template = server.template("keys", lambda dsn: open_member_keys(dsn).close())
    with server.database(template) as dsn:
        database = open_member_keys(dsn)
        try:
            yield KeyStore("postgresql", PostgresqlMemberKeys(database), database)
        finally:
            database.close()


KEY_STORES: dict[str, Callable[[Path, pytest.FixtureRequest],
                               AbstractContextManager[KeyStore]]] = {
    "sqlcipher": sqlcipher_keys,
    "postgresql": postgresql_keys,
}


@pytest.fixture(params=sorted(KEY_STORES))
def member_keys_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[KeyStore]:
    with KEY_STORES[request.param](tmp_path, request) as made:
        yield made


@pytest.fixture(params=sorted(RATE_STORES))
def rates(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RateStore]:
    with RATE_STORES[request.param](tmp_path, request) as made:
        yield made


@pytest.fixture
def rate_counts(rates: RateStore) -> Iterator[RateCountRepository]:
    """The repository over one connection of the test's rates store."""
    with rates.connection() as counts:
        yield counts


def add_member(repositories: Repositories, number: int = 1) -> str:
    """An account made through the contract (``number`` tells members apart)."""
    member_id = f"{number:032x}"
    assert repositories.members.insert(member_id, email_index=bytes([number]) * 32,
                                       email_sealed=b"sealed address", password_hash="hash",
                                       created_at=1_000 + number)
    return member_id
