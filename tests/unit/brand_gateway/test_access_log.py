"""The brand API's access log, its migrations and the per-client rate limiter, on a real store."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pytest

from brand_gateway import access_log, token_storage
from brand_gateway import storage as gateway_storage
from brand_gateway.access_log import AccessLog
from brand_gateway.api_errors import RateLimitedError
from brand_gateway.clients import ClientRegistry
from brand_gateway.rate_limits import RateLimiter
from consent import storage as consent_storage
from vault.clock import FrozenClock
from vault.errors import StoreError
from vault.home import Vault, VaultHome
from web.access_views import CHART_BRANDS, chart

CALLBACK = "https://velo.example/oauth/callback"


@pytest.fixture
def client(registry: ClientRegistry):
    client, _ = registry.create("Velo Bikes", [CALLBACK])
    return client


@pytest.fixture
def log(vault: Vault, clock: FrozenClock) -> AccessLog:
    return AccessLog(database=vault.data, clock=clock)


def test_migrations_apply_once_in_their_own_table(tmp_path: Path) -> None:
    home = VaultHome(tmp_path / "var")
    home.initialise({})
    with home.open() as opened:
        consent_storage.initialise(opened.data)
        gateway_storage.initialise(opened.data)
        token_storage.initialise(opened.data)
        with pytest.raises(StoreError, match="vrmvault init"):
            access_log.require_current(opened.data)
        assert access_log.initialise(opened.data) == ["api_access_log_rate_limits"]
        assert access_log.initialise(opened.data) == []
        access_log.require_current(opened.data)


def test_reads_are_listed_newest_first_and_paged(log, vault, member_id, client, clock):
    for minute in range(5):
        log.record(member_id=member_id, brand_id=client.brand_id, client_id=client.client_id,
                   resource="profile", purpose="dpv:Personalisation",
                   fields=["given_name", f"f{minute}"], ledger_seq=minute)
        clock.advance(60)
    page = log.page(member_id, page=1, per_page=2)
    assert page.total == 5 and page.pages == 3
    assert [r.ledger_seq for r in page.records] == [4, 3]
    assert page.records[0].brand_name == "Velo Bikes"
    assert page.records[0].fields == ("given_name", "f4")
    assert [r.ledger_seq for r in log.page(member_id, page=3, per_page=2).records] == [0]
    assert log.page(member_id, page=9, per_page=2).records == ()
    assert log.page("someone-else").total == 0


def test_values_cannot_be_logged_as_a_resource(log, member_id, client):
    with pytest.raises(ValueError):
        log.record(member_id=member_id, brand_id=client.brand_id, client_id=client.client_id,
                   resource="everything", purpose="dpv:Personalisation", fields=[],
                   ledger_seq=None)


def test_daily_counts_and_the_chart(log, member_id, client, clock, registry):
    other, _ = registry.create("Fresh Grocer", [CALLBACK])
    for days_ago, who in ((20, client), (1, client), (1, client), (0, other)):
        clock.now = 1_800_000_000 - days_ago * 86_400
        log.record(member_id=member_id, brand_id=who.brand_id, client_id=who.client_id,
                   resource="feedback", purpose="dpv:CustomerCare", fields=["feedback"],
                   ledger_seq=None)
    clock.now = 1_800_000_000
    daily = log.daily(member_id)
    today = dt.date(2027, 1, 15)
    assert [(d.day, d.brand_name, d.reads) for d in daily] == [
        (today - dt.timedelta(days=1), "Velo Bikes", 2), (today, "Fresh Grocer", 1)]
    drawn = chart(daily, today)
    assert drawn.days[-1] == today and len(drawn.days) == 14 and drawn.peak == 2
    assert [(s.brand_name, s.reads[-2:]) for s in drawn.series] == [
        ("Velo Bikes", (2, 0)), ("Fresh Grocer", (0, 1))]


def test_the_chart_sums_the_quieter_brands_as_others():
    today = dt.date(2027, 1, 15)
    daily = [access_log.DailyReads(today, f"Brand {i:02}", i + 1)
             for i in range(CHART_BRANDS + 2)]
    drawn = chart(daily, today)
    assert len(drawn.series) == CHART_BRANDS + 1
    assert drawn.series[0].brand_name == f"Brand {CHART_BRANDS + 1:02}"
    assert drawn.series[-1] == type(drawn.series[-1])("Others", (0,) * 13 + (3,))


def test_an_erased_members_reads_go_with_them(log, vault, member_id, client):
    log.record(member_id=member_id, brand_id=client.brand_id, client_id=client.client_id,
               resource="profile", purpose="dpv:Personalisation", fields=[], ledger_seq=None)
    vault.erasure.erase(member_id)
    assert vault.data.one("SELECT count(*) FROM api_access_log")[0] == 0


# -- rate limits ----------------------------------------------------------------------------------
def test_a_fixed_window_per_client(vault, clock, client, registry):
    other, _ = registry.create("Fresh Grocer", [CALLBACK])
    limiter = RateLimiter(database=vault.data, clock=clock, limit=2)
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


def test_the_count_is_shared_by_connections(vault_home: VaultHome, clock, client):
    """Workers are processes with connections of their own; threads with their own
    connections stand in for them here."""
    limit, workers, each = 50, 4, 20
    refused = []

    def work() -> None:
        with vault_home.open(clock=clock) as opened:
            limiter = RateLimiter(database=opened.data, clock=clock, limit=limit)
            for _ in range(each):
                try:
                    limiter.hit(client.client_id)
                except RateLimitedError:
                    refused.append(1)

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(refused) == workers * each - limit


@pytest.mark.parametrize("limit", [0, -1])
def test_a_limit_is_positive(vault, clock, limit):
    with pytest.raises(ValueError):
        RateLimiter(database=vault.data, clock=clock, limit=limit)
