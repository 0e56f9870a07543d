"""The member's access log (served from the ledger's access index), its migrations and the
per-client rate limiter (counters in ledger.db), on real stores."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from brand_gateway.access_log import AccessLog, DailyReads
from brand_gateway.api_errors import RateLimitedError
from brand_gateway.clients import ClientRegistry
from brand_gateway.rate_limits import (
    LEASE_MAX,
    SpentWindows,
    lease_size,
)
from brand_gateway.storage import access_log, open_rate_counts, rate_limiter
from consent.context import Consent
from consent.events import EventTag
from consent.ledger import Ledger
from vault.clock import FrozenClock
from vault.errors import StoreError
from vault.home import Vault, VaultHome
from vault.sqlcipher.database import Database
from web.access_views import CHART_BRANDS, chart

CALLBACK = "https://velo.example/oauth/callback"


@pytest.fixture
def client(registry: ClientRegistry):
    client, _ = registry.create("Velo Bikes", [CALLBACK])
    return client


@pytest.fixture(params=["recent", "folded"])
def ledger(request: pytest.FixtureRequest, consent: Consent) -> Ledger:
    """The consent ledger, its search rows waiting in ``search_recent`` as appended (the first
    16,384) or folded into the index at once, beyond the first few: both are read."""
    if request.param == "folded":
        consent.ledger.store.fold_rows = 3            # type: ignore[attr-defined]
    return consent.ledger


@pytest.fixture
def rates(vault_home: VaultHome):
    database = open_rate_counts(vault_home, vault_home.master_key({}))
    yield database
    database.close()


@pytest.fixture
def log(vault: Vault, ledger: Ledger, clock: FrozenClock) -> AccessLog:
    return access_log(ledger=ledger, database=vault.data, clock=clock)


@pytest.fixture
def principal(consent: Consent, member_id: str) -> str:
    return consent.principal(member_id)


def record(ledger: Ledger, principal: str, client, *, tag=EventTag.ACCESS_PROFILE_READ,
           purpose: str = "dpv:Personalisation", fields=("given_name",)) -> int:
    """A read as the brand API records it."""
    return ledger.record_event(tag=tag, actor="brand:" + client.brand_id, details={
        "member": principal, "client": client.client_id, "purpose": purpose,
        "fields": list(fields), "grants": ["g-1"]}).seq


def test_reads_are_listed_newest_first_and_paged(log, ledger, principal, client, clock):
    seqs = []
    for minute in range(5):
        seqs.append(record(ledger, principal, client, fields=["given_name", f"f{minute}"]))
        clock.advance(60)
    page = log.page(principal, page=1, per_page=2)
    assert page.total == 5 and page.pages == 3
    assert [r.ledger_seq for r in page.records] == [seqs[4], seqs[3]]
    first = page.records[0]
    assert (first.brand_name, first.client_id, first.resource, first.purpose) == (
        "Velo Bikes", client.client_id, "profile", "dpv:Personalisation")
    assert first.fields == ("given_name", "f4")
    assert first.read_at == int(clock()) - 60
    assert [r.ledger_seq for r in log.page(principal, page=3, per_page=2).records] == [seqs[0]]
    assert log.page(principal, page=9, per_page=2).records == ()
    assert log.page("member:someone-else").total == 0


def test_only_brand_reads_of_a_member_are_indexed(log, ledger, principal, client):
    ledger.record_event(tag=EventTag.ACCESS_PROFILE_READ, actor="brand:" + client.brand_id,
                        details={"fields": []})                       # no member
    ledger.record_event(tag=EventTag.ACCESS_PROFILE_READ, actor="someone",
                        details={"member": principal})                # not a brand
    ledger.record_event(tag=EventTag.CONSENT_GRANT_GIVEN, actor=principal,
                        details={"member": principal})                # not a read
    assert log.page(principal).total == 0
    seq = record(ledger, principal, client, tag=EventTag.ACCESS_FEEDBACK_READ, fields=[])
    assert [(r.ledger_seq, r.resource) for r in log.page(principal).records] == [
        (seq, "feedback")]


def test_daily_counts_and_the_chart(log, ledger, principal, client, clock, registry):
    other, _ = registry.create("Fresh Grocer", [CALLBACK])
    for days_ago, who in ((20, client), (1, client), (1, client), (0, other)):
        clock.now = 1_800_000_000 - days_ago * 86_400
        record(ledger, principal, who, tag=EventTag.ACCESS_FEEDBACK_READ,
               purpose="dpv:CustomerCare", fields=["feedback"])
    clock.now = 1_800_000_000
    daily = log.daily(principal)
    today = dt.date(2027, 1, 15)
    assert [(d.day, d.brand_name, d.reads) for d in daily] == [
        (today - dt.timedelta(days=1), "Velo Bikes", 2), (today, "Fresh Grocer", 1)]
    drawn = chart(daily, today)
    assert drawn.days[-1] == today and len(drawn.days) == 14 and drawn.peak == 2
    assert [(s.brand_name, s.reads[-2:]) for s in drawn.series] == [
        ("Velo Bikes", (2, 0)), ("Fresh Grocer", (0, 1))]


def test_the_chart_sums_the_quieter_brands_as_others():
    today = dt.date(2027, 1, 15)
    daily = [DailyReads(today, f"Brand {i:02}", i + 1)
             for i in range(CHART_BRANDS + 2)]
    drawn = chart(daily, today)
    assert len(drawn.series) == CHART_BRANDS + 1
    assert drawn.series[0].brand_name == f"Brand {CHART_BRANDS + 1:02}"
    assert drawn.series[-1] == type(drawn.series[-1])("Others", (0,) * 13 + (3,))


def test_an_erased_members_reads_stay_pseudonymous_in_the_ledger(log, ledger, vault, member_id,
                                                                 principal, client):
    """Erasure never touches the ledger: the index, like the entries, holds the principal only
    (no member id), and with the member gone nobody can sign in to be shown those reads."""
    record(ledger, principal, client)
    vault.erasure.erase(member_id)
    rows = ledger.database.all(
        "SELECT principal, brand FROM search_index WHERE tag = 'access:profile:read'"
        " UNION ALL SELECT principal, brand FROM search_recent WHERE tag = 'access:profile:read'")
    assert [tuple(r) for r in rows] == [(principal, client.brand_id)]
    assert member_id not in principal
    assert log.page(principal).total == 1


# -- rate limits ----------------------------------------------------------------------------------
def test_a_fixed_window_per_client(rates, clock, client, registry):
    other, _ = registry.create("Fresh Grocer", [CALLBACK])
    limiter = rate_limiter(database=rates, clock=clock, limit=2)
    clock.now = 1_800_000_010                          # 10 s into a minute
    assert limiter.hit(client.client_id).remaining == 1
    assert limiter.hit(client.client_id).remaining == 0
    with pytest.raises(RateLimitedError) as refused:
        limiter.hit(client.client_id)
    assert refused.value.retry_after == 50 and refused.value.status == 429
    assert limiter.hit(other.client_id).remaining == 1
    clock.advance(50)
    allowance = limiter.hit(client.client_id)
    assert allowance.remaining == 1 and allowance.reset_in == 60


def test_the_count_is_shared_by_connections(vault_home: VaultHome, clock, client, rates):
    """Workers are processes with connections of their own; threads with their own
    connections stand in for them here (on a ledger made and migrated before, as by init)."""
    limit, workers, each = 50, 4, 20
    refused = []

    def work() -> None:
        opened = open_rate_counts(vault_home, vault_home.master_key({}))
        try:
            limiter = rate_limiter(database=opened, clock=clock, limit=limit)
            for _ in range(each):
                try:
                    limiter.hit(client.client_id)
                except RateLimitedError:
                    refused.append(1)
        finally:
            opened.close()

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    served = workers * each - len(refused)
    # Never over the limit; short of it by at most what the workers' last leases still held
    # when their client stopped (brand_gateway.rate_limits: leases).
    assert limit - workers * lease_size(limit) <= served <= limit
    granted = rates.one("SELECT used FROM api_rate_limits WHERE client_id = ?",
                        (client.client_id,))[0]
    assert granted >= served


def test_a_lease_serves_without_a_statement_and_the_last_requests_one_by_one(rates, clock,
                                                                            client):
    statements: list[str] = []
    rates._connection.set_trace_callback(statements.append)
    limiter = rate_limiter(database=rates, clock=clock, limit=600)
    clock.now = 1_800_000_000
    for _ in range(LEASE_MAX):
        limiter.hit(client.client_id)
    writes = [s for s in statements if s.startswith("INSERT INTO api_rate_limits")]
    assert len(writes) == 1                              # one lease of LEASE_MAX
    # Another process (a fresh limiter) spends the window down to its last few requests,
    # which then go out one lease of one each: nobody is served past the limit.
    other = rate_limiter(database=rates, clock=clock, limit=600)
    served = LEASE_MAX
    with pytest.raises(RateLimitedError):
        while True:
            other.hit(client.client_id)
            served += 1
    assert served == 600
    assert lease_size(7) == 1 and lease_size(600) == LEASE_MAX
    with pytest.raises(RateLimitedError):
        limiter.hit(client.client_id)                    # its lease is spent, and so is the window


def test_a_process_remembers_whom_it_refused_until_the_window_ends(rates, clock, client,
                                                                 registry):
    other, _ = registry.create("Fresh Grocer", [CALLBACK])
    spent = SpentWindows()
    limiter = rate_limiter(database=rates, clock=clock, limit=1, spent=spent)
    clock.now = 1_800_000_010
    limiter.hit(client.client_id)
    assert spent.until(client.client_id, clock.now) is None     # at the limit, not past it
    with pytest.raises(RateLimitedError):
        limiter.hit(client.client_id)
    # The next request's limiter in this process knows it, without a statement.
    assert spent.until(client.client_id, clock.now) == 1_800_000_060
    assert spent.until(other.client_id, clock.now) is None
    clock.advance(49)
    assert spent.until(client.client_id, clock.now) == 1_800_000_060
    clock.advance(1)                                    # the next window
    assert spent.until(client.client_id, clock.now) is None
    again = rate_limiter(database=rates, clock=clock, limit=1, spent=spent)
    assert again.hit(client.client_id).remaining == 0


def test_what_a_process_remembers_is_bounded():
    spent = SpentWindows()
    for number in range(SpentWindows.MAX_CLIENTS):
        spent.mark(f"client_{number}", 100)
    assert spent.until("client_0", 50) == 100
    spent.mark("client_new", 100)                       # full: forgets the others first
    assert spent.until("client_0", 50) is None and spent.until("client_new", 50) == 100


@pytest.mark.parametrize("limit", [0, -1])
def test_a_limit_is_positive(rates, clock, limit):
    with pytest.raises(ValueError):
        rate_limiter(database=rates, clock=clock, limit=limit)


def test_the_counters_have_a_file_and_key_of_their_own(vault_home: VaultHome, rates, ledger,
                                                       clock, client):
    rate_limiter(database=rates, clock=clock, limit=5).hit(client.client_id)
    path = vault_home.root / "rates.db"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert b"SQLite format 3" not in path.read_bytes()[:16]
    with pytest.raises(StoreError):
        Database.open(path, vault_home.master_key({}).derive("ledger-store")).one(
            "SELECT count(*) FROM api_rate_limits")
    # Not in the ledger any more (ledger migration 5): the keeper's merges hold its lock.
    tables = {r[0] for r in ledger.database.all("SELECT name FROM sqlite_master")}
    assert "api_rate_limits" not in tables and "spool_marks" in tables
