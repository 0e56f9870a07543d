"""A brand's filtered listing of open intents over HTTP, on the 1,000,000-intent store.

The issue's figure: ``GET /api/v1/intents`` with a client credentials token (``intents:read``)
and filters (category, currency, a budget, a region), a page of 50, under ``vrmvault serve``
(gunicorn, two sync workers, the keeper merging the listing's ledger entries from the access
spool every second), loaded by ``wrk`` (8 connections, 2 threads) on loopback:

- ``intents_http_p99_ms``: the 99th percentile latency as wrk reports it, the median of the
  rounds. Target < 30 ms.
- ``intents_http_rps``: requests per second, the median of the rounds, informational.

Setup: the core's store builder (:func:`bench.intents.build_store`: 1,000,000 open intents
across the catalog's 50 categories, 1,000 brands) in a fresh home; then one of those brands
gets an OAuth client and a client credentials token, as the token endpoint issues it. The only
setting changed is ``VRMVAULT_API_RATE_LIMIT``, raised so far that the load never reaches it.

Verified, or no figure: before and after every round one request must answer 200 with a full
page (50 intents, a ``next_cursor``), every intent in the filtered category and currency; wrk
must report no non-2xx/3xx answer and no socket error; and after the load the ledger must hold
at least 50 ``intent:listing:returned`` entries per request wrk counted (each returned intent
is recorded, through the access spool, before the answer leaves).
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from typing import Any

from brand_gateway.clients import ClientSecretHasher, OAuthClient
from brand_gateway.storage import client_registry, token_store
from brand_gateway.tokens import new_access_token
from consent.context import open_ledger
from consent.spool import MAX_MERGE_DELAY, SpoolDirectory
from vault.home import VaultHome

from .brand_api import Load, free_port, get, running, wait_until_serving, wrk
from .demo_100k import child_environment, command_line
from .report import BenchmarkError, Figure, Result, Target, fresh_directory, log, median

NAME = "intents_http"
FIGURES = (
    Figure(f"{NAME}_p99_ms", "ms", Target("<", 30, " ms")),
    Figure(f"{NAME}_rps", "req/s", Target(">=", 0, "/s", label="informational")),
)
WORKERS = 2
PAGE = 50
RATE_LIMIT = 1_000_000_000
TOKEN_LIFETIME = 3600


@dataclass(frozen=True)
class Scale:
    intents: int
    rounds: int
    seconds: int
    warmup: int


FULL = Scale(intents=1_000_000, rounds=5, seconds=8, warmup=3)
QUICK = Scale(intents=20_000, rounds=2, seconds=3, warmup=1)


@dataclass(frozen=True)
class Staged:
    home: VaultHome
    token: str
    path: str                     # the filtered listing's path and query
    category: str
    currency: str


def stage(home: VaultHome, scale: Scale) -> Staged:
    """The core's store, then a client and a token for one brand of its categories."""
    from .intents import build_store

    built = build_store(home, intents=scale.intents)
    with home.open(home.master_key({})) as vault:
        brand = next(b for b in vault.brands.all() if b.categories)
        clients = client_registry(database=vault.data, clock=vault.clock,
                                  hasher=ClientSecretHasher.from_master(vault.master))
        client: OAuthClient
        client, _ = clients.create(brand.name, ["https://brand.example/callback"],
                                   list(brand.categories), brand_id=brand.id)
        token = new_access_token()
        token_store(database=vault.data, clock=vault.clock).save(
            token, client_id=client.client_id, grant_type="client_credentials",
            scope="intents:read", expires_in=TOKEN_LIFETIME)
        vault.data.checkpoint()
    category = brand.categories[0]
    currency = getattr(built, "currency", "EUR")
    path = (f"/api/v1/intents?category={category}&currency={currency}&budget_min=1"
            f"&limit={PAGE}")
    return Staged(home, token, path, category, currency)


def check_page(url: str, staged: Staged) -> None:
    status, body = get(url + staged.path, staged.token)
    if status != 200:
        raise BenchmarkError(f"{NAME}: the listing answered {status}: {body[:300]!r}")
    page: dict[str, Any] = json.loads(body)
    intents = page["intents"]
    if len(intents) != PAGE or page["next_cursor"] is None or any(
            i["category"] != staged.category or i["budget"]["currency"] != staged.currency
            for i in intents):
        raise BenchmarkError(f"{NAME}: not a full page of the filtered intents:"
                             f" {body[:300]!r}")


def returned_entries(home: VaultHome) -> int:
    """``intent:listing:returned`` entries in the ledger, once the spools are merged."""
    deadline = time.monotonic() + 10 * MAX_MERGE_DELAY
    with home.open(home.master_key({})) as vault, open_ledger(vault, home) as ledger:
        spools = SpoolDirectory(home, vault.master)
        while spools.pending(ledger) and time.monotonic() < deadline:
            time.sleep(0.2)
        return sum(1 for seq in range(ledger.size)
                   if ledger.entry(seq).tag.value == "intent:listing:returned")


def run(*, quick: bool) -> list[Result]:
    scale = QUICK if quick else FULL
    if shutil.which("wrk") is None:
        raise BenchmarkError(f"{NAME}: wrk is not installed (Debian: apt-get install wrk)")
    log(f"{NAME}: {scale.intents:,} intents; gunicorn, {WORKERS} sync workers; wrk -t2 -c8;"
        f" {scale.rounds} rounds of {scale.seconds} s")
    with fresh_directory() as root:
        started = time.perf_counter()
        home = VaultHome(root / "var")
        staged = stage(home, scale)
        log(f"  store built in {time.perf_counter() - started:.1f} s")
        environment = child_environment() | {"VRMVAULT_API_RATE_LIMIT": str(RATE_LIMIT)}
        port = free_port()
        command = [*command_line(), "--home", str(home.root), "serve", "--host", "127.0.0.1",
                   "--port", str(port), "--workers", str(WORKERS)]
        loads: list[Load] = []
        with running("full", command, port, root, environment) as server:
            wait_until_serving(server, "/api/v1/openapi.json")
            check_page(server.url, staged)
            wrk(server.url + staged.path, scale.warmup, staged.token)
            for number in range(scale.rounds):
                check_page(server.url, staged)
                load = wrk(server.url + staged.path, scale.seconds, staged.token)
                if load.bad_status or load.socket_errors:
                    raise BenchmarkError(f"{NAME}: {load.bad_status} bad answers,"
                                         f" {load.socket_errors} socket errors")
                log(f"  round {number + 1}: {load}")
                loads.append(load)
            check_page(server.url, staged)
        served = sum(load.requests for load in loads)
        recorded = returned_entries(home)
        if recorded < served * PAGE:
            raise BenchmarkError(f"{NAME}: {recorded:,} listing entries in the ledger for"
                                 f" {served:,} pages of {PAGE}")
        log(f"  ledger: {recorded:,} intent:listing:returned entries")
    return [FIGURES[0].result(median([load.p99_ms for load in loads])),
            FIGURES[1].result(median([load.rate for load in loads]))]
