"""A brand's filtered listing of open intents over HTTP, on the 1,000,000-intent store.

The issue's figure: ``GET /api/v1/intents`` with a client credentials token (``intents:read``)
and filters (category, currency, a budget, a region), a page of 50, under ``vrmvault serve``
(uWSGI, two workers behind its router, the keeper merging the listing's ledger entries from
the access spool every second), loaded by ``wrk`` on loopback, each round twice:

- ``intents_http_p99_ms``: a brand's listing page, one request in flight (wrk, 1
  connection): the latency of the page itself, the keeper merging its ledger entries beside
  it; the 99th percentile as wrk reports it, the median of the rounds. Target < 30 ms.
- ``intents_http_workers_p99_ms``: the same with one request in flight per worker (2
  connections), informational: on this two-core machine the two workers, the keeper and wrk
  then share two cores, so it measures the machine's queue as much as the page.
- ``intents_http_loaded_p99_ms``: the same under 8 connections (four requests queued per
  worker, as ``bench/brand_api.py`` loads the profile read), informational.
- ``intents_http_rps``: requests per second under 8 connections, informational: each page
  writes 50 ledger entries, merged by the keeper on the same two cores.

Setup (:func:`build_store`): ``vrmvault init`` in a fresh home, 1,000 brands each registered
for three catalog categories, 2,000 members, and 1,000,000 open intents spread evenly over the
50 categories, written as the intent service writes them (description and city sealed under
the member's key, bound to member, record and field) but in bulk, without a ledger entry per
cast (what is measured is the listing); then one brand gets an OAuth client and a client
credentials token, as the token endpoint issues it. The only setting changed is
``VRMVAULT_API_RATE_LIMIT``, raised so far that the load never reaches it.

Verified, or no figure: before and after every round one request must answer 200 with a full
page (50 intents, a ``next_cursor``), every intent in the filtered category and currency; wrk
must report no non-2xx/3xx answer and no socket error; and after the load the ledger must hold
grown by at least 50 entries per request wrk counted (each returned intent is an
``intent:listing:returned`` entry, written to the access spool before the answer leaves and
merged by the keeper; nothing else writes to the ledger during the load).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from brand_gateway.clients import ClientSecretHasher, OAuthClient
from brand_gateway.storage import client_registry, token_store
from brand_gateway.tokens import new_access_token
from consent.context import open_ledger
from consent.spool import MAX_MERGE_DELAY, SpoolDirectory
from intents.catalog import CATEGORIES
from vault.home import VaultHome
from vault.sealing import associated_data

from .brand_api import Load, free_port, get, initialise, running, wait_until_serving, wrk
from .demo_100k import child_environment, command_line
from .report import BenchmarkError, Figure, Result, Target, fresh_directory, log, median
from .workload import add_members

NAME = "intents_http"
FIGURES = (
    Figure(f"{NAME}_p99_ms", "ms", Target("<", 30, " ms")),
    Figure(f"{NAME}_workers_p99_ms", "ms", Target(">=", 0, " ms", label="informational")),
    Figure(f"{NAME}_loaded_p99_ms", "ms", Target(">=", 0, " ms", label="informational")),
    Figure(f"{NAME}_rps", "req/s", Target(">=", 0, "/s", label="informational")),
)
PAGE_CONNECTIONS = 1                # one request in flight
WORKERS_CONNECTIONS = 2             # one request in flight per worker
LOADED_CONNECTIONS = 8
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


BRANDS = 1000
MEMBERS = 2000
CATEGORIES_PER_BRAND = 3
BATCH = 20_000
CURRENCY = "EUR"


def build_store(root: Path, intents: int) -> VaultHome:
    """A fresh home with ``intents`` open intents (see the module docstring)."""
    home = initialise(root)
    categories = [c.id for c in CATEGORIES]
    rng = random.Random(16)
    with home.open(home.master_key({})) as vault:
        for n in range(BRANDS):
            first = n % len(categories)
            vault.brands.add(f"Bench brand {n}", tuple(
                categories[(first + k * 17) % len(categories)]
                for k in range(CATEGORIES_PER_BRAND)))
        members = add_members(vault, MEMBERS)
        nums = {m: vault.data.one("SELECT num FROM members WHERE id = ?", (m,))[0]
                for m in members}
        ciphers = {m: vault.key_store.cipher(m) for m in members}
        now = int(time.time())
        today = dt.datetime.fromtimestamp(now, dt.UTC).date()
        window_from = (today + dt.timedelta(days=1)).isoformat()
        window_until = (today + dt.timedelta(days=60)).isoformat()
        expires_at = now + 30 * 86_400
        for start in range(0, intents, BATCH):
            rows = []
            for n in range(start, min(intents, start + BATCH)):
                member = members[n % MEMBERS]
                intent_id = "int_" + os.urandom(12).hex()
                low = rng.randrange(0, 200_000) * 100
                sealed = ciphers[member].seal_many([
                    (associated_data(member, "intents", intent_id, "description"),
                     f"Looking for something good, number {n}.".encode()),
                    (associated_data(member, "intents", intent_id, "city"), b"Utrecht")])
                rows.append((intent_id, nums[member], categories[n % len(categories)],
                             low, low + rng.randrange(0, 100_000) * 100, CURRENCY,
                             window_from, window_until, "NL", "NL-UT", sealed[0], sealed[1],
                             '["contact_email"]', now - intents + n, now - intents + n,
                             expires_at))
            with vault.data.transaction():
                vault.data.executemany(
                    "INSERT INTO intents (id, member_num, category, status, budget_min,"
                    " budget_max, currency, window_from, window_until, country, region,"
                    " description, city, reveal_fields, created_at, updated_at, expires_at)"
                    " VALUES (?, ?, ?, 'open', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        vault.data.execute("ANALYZE")
    return home


def stage(root: Path, scale: Scale) -> Staged:
    """The store, then a client and a token for one brand of its categories."""
    home = build_store(root, scale.intents)
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
    path = (f"/api/v1/intents?category={category}&currency={CURRENCY}&budget_min=100"
            f"&region=NL&limit={PAGE}")
    return Staged(home, token, path, category, CURRENCY)


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


def ledger_size(home: VaultHome, *, drained: bool = False) -> int:
    """The ledger's size; with ``drained``, once the workers' spools are merged into it."""
    deadline = time.monotonic() + 30 * MAX_MERGE_DELAY
    master = home.master_key({})
    ledger = open_ledger(home, master)
    try:
        spools = SpoolDirectory(home, master)
        while drained and spools.pending(ledger) and time.monotonic() < deadline:
            time.sleep(0.2)
        return ledger.size
    finally:
        ledger.close()


def run(*, quick: bool) -> list[Result]:
    scale = QUICK if quick else FULL
    if shutil.which("wrk") is None:
        raise BenchmarkError(f"{NAME}: wrk is not installed (Debian: apt-get install wrk)")
    log(f"{NAME}: {scale.intents:,} intents; uWSGI, {WORKERS} workers; wrk -t2 -c8;"
        f" {scale.rounds} rounds of {scale.seconds} s")
    with fresh_directory() as root:
        started = time.perf_counter()
        staged = stage(root, scale)
        home = staged.home
        log(f"  store built in {time.perf_counter() - started:.1f} s")
        environment = child_environment() | {"VRMVAULT_API_RATE_LIMIT": str(RATE_LIMIT)}
        port = free_port()
        command = [*command_line(), "--home", str(home.root), "serve", "--host", "127.0.0.1",
                   "--port", str(port), "--workers", str(WORKERS)]
        loads: list[Load] = []
        per_worker: list[Load] = []
        loaded: list[Load] = []
        before = ledger_size(home)
        with running("full", command, port, root, environment) as server:
            wait_until_serving(server, "/api/v1/openapi.json")
            check_page(server.url, staged)
            wrk(server.url + staged.path, scale.warmup, staged.token)      # not counted
            for number in range(scale.rounds):
                for connections, kept in ((PAGE_CONNECTIONS, loads),
                                          (WORKERS_CONNECTIONS, per_worker),
                                          (LOADED_CONNECTIONS, loaded)):
                    check_page(server.url, staged)
                    load = wrk(server.url + staged.path, scale.seconds, staged.token,
                               connections=connections)
                    if load.bad_status or load.socket_errors:
                        raise BenchmarkError(f"{NAME}: {load.bad_status} bad answers,"
                                             f" {load.socket_errors} socket errors")
                    log(f"  round {number + 1}, {connections} connections: {load}")
                    kept.append(load)
            check_page(server.url, staged)
            served = sum(load.requests for load in loads + per_worker + loaded)
            recorded = ledger_size(home, drained=True) - before
        if recorded < served * PAGE:
            raise BenchmarkError(f"{NAME}: the ledger grew by {recorded:,} entries for"
                                 f" {served:,} pages of {PAGE}")
        log(f"  ledger: {recorded:,} new entries for {served:,} pages")
    return [FIGURES[0].result(median([load.p99_ms for load in loads])),
            FIGURES[1].result(median([load.p99_ms for load in per_worker])),
            FIGURES[2].result(median([load.p99_ms for load in loaded])),
            FIGURES[3].result(median([load.rate for load in loaded]))]
