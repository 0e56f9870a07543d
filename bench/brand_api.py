"""The brand API under load: a member's shared profile through the full stack, against bare Flask.

The issue's figure: a brand reading a member's shared profile (``GET /api/v1/member/profile``:
token check, rate limit, decision point, decryption, the read's record, JSON) as
``vrmvault serve`` serves it (uWSGI, ``web/server.py``) on this machine, against a bare Flask
JSON endpoint served the same way in the same run, loaded by ``wrk`` (a separate process, on
loopback, 8 connections, 2 threads). Figures:

- ``brand_api_throughput_ratio``: full-stack req/s over bare req/s, the median of the per-round
  ratios (each round runs both, back to back). Target >= 0.35 (issue 18's, under the server
  ``vrmvault serve`` uses; issue 13's 0.5 was against gunicorn's slower bare endpoint).
- ``brand_api_p99_ms``: the full stack's 99th percentile latency as wrk reports it, median of
  the rounds (baseline column: the bare endpoint's). Target < 10 ms (issue 18's; 15 before).
- ``brand_api_full_rps`` and ``brand_api_bare_rps``: the raw medians, informational.
- ``brand_api_merge_delay_s``: the longest a read waited in a worker's spool before the
  server's keeper merged it into the Merkle ledger (``consent/spool.py``), over every full-stack
  load: this process looks at the spools (never merging) every :data:`_LOOK_EVERY` seconds
  during the load and until they are empty after it, and takes the age of the oldest read
  waiting. A look can miss at most that interval of a wait. Target: the promise itself,
  :data:`consent.spool.MAX_MERGE_DELAY`.
- ``brand_api_withdrawal_window``: reads that still returned data after a committed withdrawal,
  over all trials. Each trial: a new grant and token, reads that must succeed (so both workers
  hold warm connections), then the grant is withdrawn through the consent services with the
  gateway's observer attached (as the member's consents page does, from this process, while the
  server's workers keep their connections), then the brand's next reads at once. Target 0.

Setup: a fresh home made by ``vrmvault --home TMP init`` (a child process: every layer's
migrations and the ledger, exactly as an operator runs it); then, through the product's
services in this process, a few hundred members with short profiles and one member with every
catalog attribute filled and feedback, standing terms, an IEEE 7012 agreement with the brand, a
grant of :data:`GRANTED` for ``dpv:Personalisation``, the brand's OAuth client, a token family
over the grant and a live access token (as the authorization code flow leaves them).

Served: the full stack by ``vrmvault --home TMP serve --workers 2`` (uWSGI: its router and two
workers, the product's own serving code in ``web/server.py``, access log on; its two children
run too: the ledger keeper, which merges the workers' spooled reads every second, and webhook
delivery, with no endpoint registered, so its passes find nothing to send). The only setting changed
is ``VRMVAULT_API_RATE_LIMIT``, raised so far that the load never reaches it: the rate-limit
statement still runs on every request. The bare app is one Flask route returning a small JSON
document, served by the same ``web.server`` uWSGI configuration (only the app it loads
differs). Both are child processes, on their own ports, stopped at the end.

Verified, or no figure: before and after every round one request to each server must answer
200 with exactly the expected document; wrk must report no non-2xx/3xx answer and no socket
error; and after each full-stack round the ledger must hold one ``access:profile:read`` entry
per request served (at least wrk's count, at most that plus the requests still in flight when
wrk stopped), each naming exactly the granted fields, the grant and the client, each in the
member's access index (what their "Who read what" page lists). At the end ``Ledger.verify``
must find the ledger, written by two workers and this process at once, sound.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from brand_gateway.clients import ClientSecretHasher, OAuthClient
from brand_gateway.observers import grant_observer
from brand_gateway.rar import MemberDataDetail
from brand_gateway.storage import (
    authorization_store,
    client_registry,
    pairwise_pseudonyms,
    token_store,
)
from brand_gateway.tokens import ACCESS_TOKEN_LIFETIME, new_access_token
from consent.context import Consent, open_consent, open_ledger
from consent.events import EventTag
from consent.grants import BrandRequest
from consent.model import Grant
from consent.spool import MAX_MERGE_DELAY, SpoolDirectory
from consent.vocabulary import FIELD_CATEGORY, PURPOSES
from vault.clock import system_clock
from vault.home import Vault, VaultHome

from .demo_100k import child_environment, command_line
from .report import BenchmarkError, Figure, Result, Target, fresh_directory, log, median
from .workload import add_members, drafts, entries, full_profile

NAME = "brand_api"
INFORMATIONAL = Target(">=", 0, "/s", label="informational")
FIGURES = (
    # Issue 18's: at least 0.35x the bare endpoint under the server vrmvault serve uses.
    # (Issue 13's 0.5x was against gunicorn's bare endpoint; uWSGI serves that 1.6x as fast.)
    Figure(f"{NAME}_throughput_ratio", "x", Target(">=", 0.35, "x")),
    Figure(f"{NAME}_p99_ms", "ms", Target("<", 10, " ms")),
    Figure(f"{NAME}_full_rps", "req/s", INFORMATIONAL),
    Figure(f"{NAME}_bare_rps", "req/s", INFORMATIONAL),
    Figure(f"{NAME}_withdrawal_window", "reads", Target("<=", 0, " reads")),
    # Our own bound (consent/spool.py): every read in the Merkle ledger within the maximum merge
    # delay.
    Figure(f"{NAME}_merge_delay_s", "s", Target("<=", MAX_MERGE_DELAY, " s")),
)
PROFILE_PATH = "/api/v1/member/profile"
BARE_PATH = "/bare"
PURPOSE = "dpv:Personalisation"
TRIAL_PURPOSE = "dpv:CustomerCare"
# Ten of the member's 29 filled attributes: the rest must stay sealed and unread.
GRANTED = ("given_name", "family_name", "date_of_birth", "city", "country", "household_size",
           "preferred_language", "clothing_size", "interests", "life_stage")
TRIAL_FIELDS = ("given_name", "city")
WORKERS = 2
CONNECTIONS = 8
THREADS = 2
OTHER_MEMBERS = 300
FEEDBACK_ENTRIES = 12
RATE_LIMIT = 1_000_000_000          # never reached: the statement runs, the refusal never does
BARE_DOCUMENT = {"subject": "2jmj7l5rSw0yVb_vlWAYkK_YBwk", "purpose": PURPOSE,
                 "profile": {"given_name": "Robin", "city": "Amsterdam"}, "withheld": []}
ROOT = Path(__file__).resolve().parent.parent
_START_TIMEOUT = 60.0
_STOP_TIMEOUT = 15.0
_SETTLE = 0.3                        # seconds for requests in flight when wrk stops to finish
_DRAIN_TIMEOUT = 30.0                # seconds: the keeper has not merged by then, no figure
_LOOK_EVERY = 0.2                    # seconds between looks at the spools


@dataclass(frozen=True)
class Scale:
    rounds: int
    seconds: int                     # one wrk run
    warmup: int
    trials: int                      # withdrawal trials
    reads: int                       # reads before and after each withdrawal


FULL = Scale(rounds=5, seconds=8, warmup=3, trials=20, reads=4)
QUICK = Scale(rounds=3, seconds=3, warmup=1, trials=5, reads=4)


@dataclass(frozen=True)
class Load:
    """What one wrk run reported."""

    requests: int
    seconds: float
    rate: float                      # requests per second
    p99_ms: float
    bad_status: int                  # non-2xx/3xx answers
    socket_errors: int

    def __str__(self) -> str:
        return f"{self.rate:8,.0f} req/s, p99 {self.p99_ms:6.2f} ms ({self.requests:,} requests)"


@dataclass
class Stage:
    """The vault as set up for the run, with the services this process keeps open."""

    home: VaultHome
    vault: Vault
    consent: Consent
    client: OAuthClient
    member_id: str
    grant: Grant
    token: str
    expected: dict[str, Any]         # the profile response body, exactly


# -- the vault ------------------------------------------------------------------------------------
def initialise(root: Path) -> VaultHome:
    """``vrmvault --home ROOT/var init``, as an operator runs it."""
    home = VaultHome(root / "var")
    done = subprocess.run([*command_line(), "--home", str(home.root), "init"],
                          env=child_environment(), capture_output=True, text=True)
    if done.returncode:
        raise BenchmarkError(f"vrmvault init failed: {done.stderr.strip()[-800:]}")
    return home


def stage(home: VaultHome) -> Stage:
    vault = home.open(home.master_key({}))
    consent = open_consent(vault, home, observers=[grant_observer(vault.data, vault.master)])
    try:
        clients = client_registry(database=vault.data, clock=vault.clock,
                                  hasher=ClientSecretHasher.from_master(vault.master))
        client, _ = clients.create("Spokesmith Cycles", ["https://brand.example/callback"])
        others = add_members(vault, OTHER_MEMBERS + 1)
        member_id = others.pop()
        for other in others:
            vault.profile.update(other, {"city": "Utrecht", "country": "NL",
                                         "interests": ["cycling", "books"]})
        profile = vault.profile.update(member_id, full_profile())
        rows = drafts(FEEDBACK_ENTRIES, members=1, seed=5, member=0)
        vault.feedback.add_many(entries(rows, [member_id], [client.brand_id] * 8))
        consent.terms.update(member_id, agreement="SD-BASE-ATP",
                             purposes=[p.code for p in PURPOSES], max_days=365,
                             aggregate_allowed=True)
        offer = consent.agreements.proffer(member_id, client.brand_id)
        consent.agreements.brand_accepts(offer.id, client.brand_id)
        grant, token = grant_and_token(vault, consent, client, member_id, PURPOSE, GRANTED)
        subject = pairwise_pseudonyms(database=vault.data, master=vault.master
                                      ).compute(member_id, client.brand_id)
        expected = {"subject": subject, "purpose": PURPOSE,
                    "profile": {f: profile[f] for f in GRANTED}, "withheld": []}
        if vault.data.engine == "sqlcipher":
            vault.data.checkpoint()
    except BaseException:
        consent.close()
        vault.close()
        raise
    return Stage(home, vault, consent, client, member_id, grant, token, expected)


def grant_and_token(vault: Vault, consent: Consent, client: OAuthClient, member_id: str,
                    purpose: str, fields: tuple[str, ...]) -> tuple[Grant, str]:
    """A grant through the consent services, then a token family and an access token over it,
    the authorization details as the consent screen grants them."""
    grant, _ = consent.grants.grant(member_id, BrandRequest(client.brand_id, purpose,
                                                            frozenset(fields), days=30))
    granted = tuple(f for f in FIELD_CATEGORY if f in grant.covered)
    detail = MemberDataDetail(purpose, granted).as_granted(granted, grant_id=grant.id,
                                                           ends_at=grant.ends_at)
    family = authorization_store(database=vault.data, clock=vault.clock).create_family(
        client_id=client.client_id, member_id=member_id, grant_ids=[grant.id],
        authorization_details=[detail], grants_end=grant.ends_at)
    token = new_access_token()
    token_store(database=vault.data, clock=vault.clock).save(
        token, client_id=client.client_id, grant_type="authorization_code", scope="",
        expires_in=ACCESS_TOKEN_LIFETIME, family_id=family.id)
    return grant, token


# -- the servers ----------------------------------------------------------------------------------
def bare_app() -> Any:
    """The baseline: one Flask route answering a small JSON document, nothing else."""
    from flask import Flask, jsonify

    app = Flask("bare")

    @app.get(BARE_PATH)
    def bare() -> Any:
        return jsonify(BARE_DOCUMENT)

    return app


def serve_bare(port: int, home: str, workers: int = WORKERS) -> None:
    """Run in a child process: the bare app served as ``vrmvault serve`` serves the product
    (``web.server``'s uWSGI configuration; only the app is swapped)."""
    from web import server

    raise SystemExit(server.serve_app(bare_app(), host="127.0.0.1", port=port, workers=workers))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    label: str
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def tail(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-1500:]
        except OSError:
            return ""


@contextlib.contextmanager
def running(label: str, command: list[str], port: int, logs: Path,
            environment: dict[str, str]) -> Iterator[Server]:
    log_path = logs / f"{label}.log"
    with open(log_path, "wb") as output:
        process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=output,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    server = Server(label, f"http://127.0.0.1:{port}", process, log_path)
    try:
        yield server
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM (the server stops its workers; ``vrmvault serve`` then its children), then
    SIGKILL to the process group it leads if it did not stop in time."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wait_until_serving(server: Server, path: str) -> None:
    deadline = time.monotonic() + _START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise BenchmarkError(f"{NAME}: the {server.label} server exited with"
                                 f" {server.process.returncode}: {server.tail()}")
        with contextlib.suppress(OSError):
            get(server.url + path)
            return
        time.sleep(0.2)
    raise BenchmarkError(f"{NAME}: the {server.label} server did not answer in"
                         f" {_START_TIMEOUT:.0f} s: {server.tail()}")


def get(url: str, token: str | None = None) -> tuple[int, bytes]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers),
                                    timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def check(url: str, expected: dict[str, Any], token: str | None = None) -> None:
    status, body = get(url, token)
    if status != 200 or json.loads(body) != expected:
        raise BenchmarkError(f"{NAME}: {url} answered {status}, not the expected document:"
                             f" {body[:300]!r}")


# -- load -----------------------------------------------------------------------------------------
_RATE = re.compile(r"^Requests/sec:\s+([0-9.]+)", re.M)
_TOTAL = re.compile(r"^\s*(\d+) requests in ([0-9.]+)(us|ms|s|m)", re.M)
_P99 = re.compile(r"^\s*99%\s+([0-9.]+)(us|ms|s)\s*$", re.M)
_NON_2XX = re.compile(r"Non-2xx or 3xx responses: (\d+)")
_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def wrk(url: str, seconds: int, token: str | None = None, *,
        connections: int = CONNECTIONS) -> Load:
    command = ["wrk", f"-t{min(THREADS, connections)}", f"-c{connections}", f"-d{seconds}s",
               "--latency",
               "--timeout", "5s"]
    if token:
        command += ["-H", f"Authorization: Bearer {token}"]
    done = subprocess.run([*command, url], capture_output=True, text=True,
                          timeout=seconds + 30)
    out = done.stdout
    rate, total, p99 = _RATE.search(out), _TOTAL.search(out), _P99.search(out)
    if done.returncode or not (rate and total and p99):
        raise BenchmarkError(f"{NAME}: wrk failed ({done.returncode}): {out[-800:]}"
                             f" {done.stderr[-400:]}")
    non_2xx = _NON_2XX.search(out)
    sockets = _SOCKET.search(out)
    return Load(int(total[1]), float(total[2]) * _MS[total[3]] / 1000, float(rate[1]),
                float(p99[1]) * _MS[p99[2]], int(non_2xx[1]) if non_2xx else 0,
                sum(int(n) for n in sockets.groups()) if sockets else 0)


class Reads:
    """Counts the reads the full stack recorded, in the ledger and in its access index."""

    def __init__(self, staged: Stage) -> None:
        self.staged = staged
        self.ledger_size = staged.consent.ledger.size
        self.spools = SpoolDirectory(staged.home, staged.vault.master)
        # The looks' own connection: they run in a thread of their own, beside the checks.
        self.marks = open_ledger(staged.home, staged.vault.master, clock=system_clock)
        self.waits: list[float] = []        # per full-stack load: the longest wait seen

    def watched(self) -> contextlib.AbstractContextManager[None]:
        """Look at the spools during the block and then until they are empty (the server's
        keeper merges; this process never does), noting the longest any read waited."""
        return watched_spools(self._backlog, self.waits)

    def _backlog(self) -> tuple[int, float | None]:
        backlog = self.spools.backlog(self.marks)
        return backlog.reads, backlog.oldest_at

    def close(self) -> None:
        self.marks.close()

    def since(self) -> int:
        """Reads recorded since the last call, each checked; the count."""
        staged = self.staged
        ledger = staged.consent.ledger
        # Whatever is still spooled (the checking requests'): merged here, as any reader does.
        self.spools.merge_all(ledger)
        reads = checkpoints = 0
        size = ledger.size                  # one bound for both counts
        principal = staged.consent.principal(staged.member_id)
        want = {"member": principal,
                "client": staged.client.client_id, "purpose": PURPOSE,
                "fields": list(GRANTED), "grants": [staged.grant.id]}
        for (body,) in ledger.database.execute(
                "SELECT body FROM entries WHERE seq >= ? AND seq < ? ORDER BY seq",
                (self.ledger_size, size)):
            entry = json.loads(bytes(body))
            if entry["tag"] == EventTag.ACCESS_PROFILE_READ and entry["details"] == want:
                reads += 1
            elif entry["tag"] == EventTag.LEDGER_CHECKPOINT_SIGNED:
                checkpoints += 1
            else:
                raise BenchmarkError(f"{NAME}: an unexpected ledger entry during the load:"
                                     f" {entry['tag']} {entry['details']}")
        indexed, other = ledger.database.one(
            "SELECT count(*) FILTER (WHERE principal = ? AND brand = ?),"
            " count(*) FILTER (WHERE principal IS NOT ? OR brand IS NOT ?)"
            " FROM (SELECT * FROM search_index UNION ALL SELECT * FROM search_recent)"
            " WHERE tag = 'access:profile:read' AND seq >= ? AND seq < ?",
            (principal, staged.client.brand_id, principal, staged.client.brand_id,
             self.ledger_size, size))
        if indexed != reads or other:
            raise BenchmarkError(f"{NAME}: {reads} reads in the ledger but {indexed} in the"
                                 f" member's reads in the search index ({other} elsewhere)")
        self.ledger_size = size
        return reads


@contextlib.contextmanager
def watched_spools(backlog: Callable[[], tuple[int, float | None]], waits: list[float]
                   ) -> Iterator[None]:
    """Look at spools (``backlog``: the reads waiting and when the oldest was spooled) every
    :data:`_LOOK_EVERY` seconds during the block, then until none waits; append to ``waits``
    the longest any read was seen waiting. Nothing is merged here: the servers' keepers do."""
    longest = 0.0
    stop = threading.Event()

    def look() -> int:
        nonlocal longest
        waiting, oldest_at = backlog()
        if oldest_at is not None:
            longest = max(longest, time.time() - oldest_at)
        return waiting

    def keep_looking() -> None:
        while not stop.wait(_LOOK_EVERY):
            look()

    looker = threading.Thread(target=keep_looking, daemon=True)
    looker.start()
    try:
        yield
    finally:
        stop.set()
        looker.join()
    deadline = time.perf_counter() + _DRAIN_TIMEOUT
    while look():
        if time.perf_counter() > deadline:
            raise BenchmarkError(f"{NAME}: spooled reads still unmerged after"
                                 f" {_DRAIN_TIMEOUT:g} s")
        time.sleep(_LOOK_EVERY)
    waits.append(longest)


def measure(staged: Stage, full: Server, bare: Server, scale: Scale
            ) -> tuple[dict[str, list[Load]], list[float]]:
    """The rounds' loads, and for each full-stack load the longest a read was seen waiting in
    a spool."""
    full_url, bare_url = full.url + PROFILE_PATH, bare.url + BARE_PATH
    with contextlib.closing(Reads(staged)) as reads:
        return _measure(staged, full_url, bare_url, scale, reads)


def _measure(staged: Stage, full_url: str, bare_url: str, scale: Scale, reads: Reads
             ) -> tuple[dict[str, list[Load]], list[float]]:

    def checked(label: str, seconds: int) -> Load:
        url, token, expected = ((full_url, staged.token, staged.expected) if label == "full"
                                else (bare_url, None, BARE_DOCUMENT))
        check(url, expected, token)
        if label == "full":
            reads.since()
        with reads.watched() if label == "full" else contextlib.nullcontext():
            load = wrk(url, seconds, token)
            time.sleep(_SETTLE)
        if load.bad_status or load.socket_errors:
            raise BenchmarkError(f"{NAME}: {label}: {load.bad_status} answers were not 2xx/3xx,"
                                 f" {load.socket_errors} socket errors")
        if label == "full":
            recorded = reads.since()
            if not load.requests <= recorded <= load.requests + CONNECTIONS:
                raise BenchmarkError(f"{NAME}: wrk counted {load.requests:,} answers, the"
                                     f" ledger recorded {recorded:,} reads")
        check(url, expected, token)
        if label == "full":
            reads.since()
        return load

    log(f"  warm-up ({scale.warmup} s each, not counted)")
    checked("bare", scale.warmup)
    checked("full", scale.warmup)
    loads: dict[str, list[Load]] = {"bare": [], "full": []}
    for number in range(scale.rounds):
        order = ("bare", "full") if number % 2 == 0 else ("full", "bare")
        for label in order:
            loads[label].append(checked(label, scale.seconds))
        ratio = loads["full"][-1].rate / loads["bare"][-1].rate
        log(f"  round {number + 1}: bare {loads['bare'][-1]}; full {loads['full'][-1]};"
            f" ratio {ratio:.2f} (verified; reads waited at most {reads.waits[-1]:.2f} s to be"
            " merged)")
    return loads, reads.waits


def withdrawal_window(staged: Stage, full: Server, scale: Scale) -> int:
    """Reads that returned data after the withdrawal committed, over all trials."""
    url = full.url + PROFILE_PATH
    leaked = 0
    for _ in range(scale.trials):
        grant, token = grant_and_token(staged.vault, staged.consent, staged.client,
                                       staged.member_id, TRIAL_PURPOSE, TRIAL_FIELDS)
        for _ in range(scale.reads):
            status, body = get(url, token)
            if status != 200 or set(json.loads(body)["profile"]) != set(TRIAL_FIELDS):
                raise BenchmarkError(f"{NAME}: a trial token read {status} before withdrawal:"
                                     f" {body[:200]!r}")
        staged.consent.grants.withdraw(staged.member_id, grant.id)   # committed on return
        for _ in range(scale.reads):
            status, body = get(url, token)
            if status == 200:
                leaked += 1
            elif status != 401:
                raise BenchmarkError(f"{NAME}: a read after withdrawal answered {status}:"
                                     f" {body[:200]!r}")
    return leaked


def run(*, quick: bool) -> list[Result]:
    scale = QUICK if quick else FULL
    if shutil.which("wrk") is None:
        raise BenchmarkError(f"{NAME}: wrk is not installed (Debian: apt-get install wrk)")
    log(f"{NAME}: uWSGI, {WORKERS} workers each; wrk -t{THREADS} -c{CONNECTIONS};"
        f" {scale.rounds} interleaved rounds of {scale.seconds} s; {scale.trials} withdrawal"
        " trials")
    with fresh_directory() as root:
        started = time.perf_counter()
        home = initialise(root)
        staged = stage(home)
        try:
            log(f"  home initialised and filled in {time.perf_counter() - started:.1f} s")
            environment = child_environment() | {"VRMVAULT_API_RATE_LIMIT": str(RATE_LIMIT)}
            full_port, bare_port = free_port(), free_port()
            full_command = [*command_line(), "--home", str(home.root), "serve", "--host",
                            "127.0.0.1", "--port", str(full_port), "--workers", str(WORKERS)]
            bare_command = [sys.executable, "-c",
                            f"from bench.brand_api import serve_bare;"
                            f" serve_bare({bare_port}, {str(root)!r})"]
            with running("full", full_command, full_port, root, environment) as full, \
                    running("bare", bare_command, bare_port, root, environment) as bare:
                wait_until_serving(full, "/api/v1/openapi.json")
                wait_until_serving(bare, BARE_PATH)
                loads, waits = measure(staged, full, bare, scale)
                leaked = withdrawal_window(staged, full, scale)
                log(f"  withdrawal: {leaked} of {scale.trials * scale.reads} reads after"
                    f" {scale.trials} committed withdrawals returned data")
            report = staged.consent.ledger.verify()
            if not report.ok:
                raise BenchmarkError(f"{NAME}: the ledger does not verify: {report.summary()}")
            log(f"  ledger verified: {report.entries:,} entries")
        finally:
            staged.consent.close()
            staged.vault.close()
    full_rates = [load.rate for load in loads["full"]]
    bare_rates = [load.rate for load in loads["bare"]]
    ratios = [f / b for f, b in zip(full_rates, bare_rates, strict=True)]
    return [
        FIGURES[0].result(median(ratios)),
        FIGURES[1].result(median([load.p99_ms for load in loads["full"]]),
                          median([load.p99_ms for load in loads["bare"]])),
        FIGURES[2].result(median(full_rates), median(bare_rates)),
        FIGURES[3].result(median(bare_rates)),
        FIGURES[4].result(leaked),
        FIGURES[5].result(max(waits)),
    ]
