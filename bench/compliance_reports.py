"""Compliance reports at scale: records of processing over 100,000 grants in force, and one
brand's exposure over its 20,000 members with 100,000 brand reads in the ledger.

The store: 20,000 members made as sign-up makes them (``workload.add_members``), five brands,
and a grant of every member to every brand (purposes in turn, two fields each, one grant in
ten aggregate-only), written through consent's grant repository in large transactions
(synthetic rows: what matters is their number and the indexes); then brand reads written to the
ledger as the API's merge writes them (``access:profile:read`` entries with their read-index
rows): three per member by the first brand, two by the second. Each repetition reopens the
vault and its ledger (cold caches) and times the report as the console builds it
(``compliance.storage.report_service``). Each report is checked: every brand and grant in the
record, every member and read in the exposure. Reported: the medians.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from compliance.storage import report_service
from consent.context import open_consent
from consent.event_details import ProfileRead
from consent.events import Event
from consent.model import Grant, GrantStatus, Mode
from consent.sqlcipher.grants import SqlcipherGrants
from consent.vocabulary import PURPOSES, expand
from vault.home import VaultHome

from .report import BenchmarkError, Figure, Result, Target, fresh_directory, log, median, timed
from .workload import ENCRYPTED, add_members, batches, create_vault, reopen_vault

NAME = "compliance_reports"
FIGURES = (
    Figure("ropa_100k_grants", "ms", Target("<", 5000, " ms")),
    Figure("exposure_20k_members", "ms", Target("<", 5000, " ms")),
)
BRANDS = ("Velo Bikes", "Green Grocer", "Atlas Travel", "Nimbus Phones", "Harbour Books")
FIELDS = (("given_name", "city"), ("interests", "preferred_language"),
          ("contact_email", "phone"), ("household_size", "income_band"))
DAY = 86_400
BATCH = 5_000


@dataclass(frozen=True)
class Scale:
    members: int
    repetitions: int


FULL = Scale(members=20_000, repetitions=3)
QUICK = Scale(members=2_000, repetitions=2)


def _grants(member_ids: list[str], brand_ids: list[str], now: int) -> list[Grant]:
    grants = []
    for m, member_id in enumerate(member_ids):
        for b, brand_id in enumerate(brand_ids):
            purpose = PURPOSES[(m + b) % len(PURPOSES)].code
            fields = frozenset(FIELDS[(m + b) % len(FIELDS)])
            mode = Mode.AGGREGATE if (m + b) % 10 == 0 else Mode.INDIVIDUAL
            grants.append(Grant(
                "grant_" + os.urandom(12).hex(), member_id, brand_id, purpose, fields, mode,
                now - DAY, now + 30 * DAY, 30, False, None, "EU", "vrmvault web page",
                "SD-BASE-ATP", 1, GrantStatus.ACTIVE, None, 1, now - DAY, now - DAY,
                expand(fields)))
    return grants


def build(root: Path, scale: Scale) -> tuple[str, int, int]:
    """The store; the first brand's id, the number of grants and of the first brand's reads."""
    vault = create_vault(ENCRYPTED, root)
    consent = open_consent(vault, VaultHome(root / "var"))
    try:
        brand_ids = [vault.brands.add(name, ()).id for name in BRANDS]
        member_ids = add_members(vault, scale.members)
        now = int(vault.clock())
        grants = _grants(member_ids, brand_ids, now)
        repository = SqlcipherGrants(vault.data)
        for batch in batches(grants, BATCH):
            with vault.data.transaction():
                for grant in batch:
                    repository.insert(grant)
        by_member = {g.member_id: g for g in grants if g.brand_id == brand_ids[0]}
        reads = []
        for member_id, grant in by_member.items():
            principal = consent.principal(member_id)
            for brand_id, count in ((brand_ids[0], 3), (brand_ids[1], 2)):
                reads += [Event.of(ProfileRead(
                    member=principal, client="client_bench", purpose=grant.purpose,
                    fields=sorted(grant.fields), grants=[grant.id]), f"brand:{brand_id}")
                    for _ in range(count)]
        for batch in batches(reads, BATCH):
            consent.ledger.record_events(batch)
        return brand_ids[0], len(grants), 3 * len(by_member)
    finally:
        consent.close()
        vault.close()


def run(*, quick: bool) -> list[Result]:
    scale = QUICK if quick else FULL
    log(f"{NAME}: {scale.members:,} members, {len(BRANDS)} brands, a grant each")
    ropa_times, exposure_times = [], []
    with fresh_directory() as root:
        brand_id, grants, reads = build(root, scale)
        log(f"  built: {grants:,} grants, {reads:,} reads by the first brand")
        for repetition in range(scale.repetitions):
            vault = reopen_vault(ENCRYPTED, root)
            consent = open_consent(vault, VaultHome(root / "var"))
            try:
                reports = report_service(consent)
                seconds, ropa = timed(reports.records_of_processing)
                if ropa.grants != grants or len(ropa.brands) != len(BRANDS):
                    raise BenchmarkError(f"{NAME}: {ropa.grants} grants in the record,"
                                         f" expected {grants}")
                ropa_times.append(seconds * 1000)
                seconds, exposure = timed(partial(reports.exposure, brand_id))
                if len(exposure.members) != scale.members or exposure.reads != reads:
                    raise BenchmarkError(f"{NAME}: {len(exposure.members)} members and"
                                         f" {exposure.reads} reads, expected {scale.members}"
                                         f" and {reads}")
                exposure_times.append(seconds * 1000)
            finally:
                consent.close()
                vault.close()
            log(f"  repetition {repetition + 1}: records of processing"
                f" {ropa_times[-1]:8.1f} ms, exposure {exposure_times[-1]:8.1f} ms (verified)")
    return [FIGURES[0].result(median(ropa_times)), FIGURES[1].result(median(exposure_times))]
