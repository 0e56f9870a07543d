"""Reveals at scale: an officer reveals one member's address in a brand's exposure report of
100,000 members.

A member is named to the officer by their ledger pseudonym, a keyed hash with no stored
inverse, so :meth:`compliance.reveals.RevealService.reveal` finds the account by computing the
pseudonym of each member of the case (one HMAC each) until it matches; the member revealed
here is the last one made, the worst case. The store: 100,000 members made as sign-up makes
them (``workload.add_members``), each with a grant to one brand (written through consent's
grant repository in large transactions: the exposure case holds them all), and one officer
with two-step sign-in on. Each repetition reopens the vault and its ledger (cold caches),
reveals for a new reason and times it, then times :meth:`RevealService.revealed` for the case.
Each reveal is checked: the right address, one more row and ledger entry. Reported: medians.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import pyotp

from compliance.storage import reveal_service
from consent.context import open_consent
from consent.model import Grant, GrantStatus, Mode
from consent.sqlcipher.grants import SqlcipherGrants
from consent.vocabulary import expand
from vault.home import VaultHome
from vault.members import COMPLIANCE

from .report import BenchmarkError, Figure, Result, Target, fresh_directory, log, median, timed
from .workload import ENCRYPTED, add_members, batches, create_vault, reopen_vault

NAME = "reveals"
FIGURES = (
    Figure("reveal_in_100k_exposure", "ms", Target("<", 1000, " ms")),
    Figure("revealed_for_a_case", "ms", Target("<", 50, " ms")),
)
DAY = 86_400
BATCH = 5_000


@dataclass(frozen=True)
class Scale:
    members: int
    repetitions: int


FULL = Scale(members=100_000, repetitions=5)
QUICK = Scale(members=5_000, repetitions=3)


def build(vault_root: Path, scale: Scale) -> tuple[str, str, str, str]:
    """The store; the officer's id, the case, the revealed member's id and address."""
    vault = create_vault(ENCRYPTED, vault_root)
    try:
        brand = vault.brands.add("Velo Bikes", ("bikes",))
        member_ids = add_members(vault, scale.members)
        target = member_ids[-1]
        now = int(vault.clock())
        fields = frozenset({"city"})
        repository = SqlcipherGrants(vault.data)
        for batch in batches(member_ids, BATCH):
            with vault.data.transaction():
                for member_id in batch:
                    repository.insert(Grant(
                        "grant_" + os.urandom(12).hex(), member_id, brand.id,
                        "dpv:ServiceProvision", fields, Mode.INDIVIDUAL, now - DAY,
                        now + 30 * DAY, 30, False, None, "EU", "vrmvault web page", "SD-BASE",
                        1, GrantStatus.ACTIVE, None, 1, now - DAY, now - DAY, expand(fields)))
        officer = vault.members.register("officer@bench.vrmvault.example",
                                         secrets.token_urlsafe(24))
        secret = vault.members.new_totp_secret()
        vault.members.enable_totp(officer, secret, pyotp.TOTP(secret).at(vault.clock()))
        vault.members.set_role(officer, COMPLIANCE)
        return officer, f"exposure:{brand.id}", target, vault.members.get(target).email
    finally:
        vault.close()


def run(*, quick: bool) -> list[Result]:
    scale = QUICK if quick else FULL
    log(f"{NAME}: {scale.members:,} members, the last one revealed")
    reveal_times, revealed_times = [], []
    with fresh_directory() as root:
        officer, case, target, address = build(root, scale)
        for repetition in range(scale.repetitions):
            vault = reopen_vault(ENCRYPTED, root)
            consent = open_consent(vault, VaultHome(root / "var"))
            try:
                service = reveal_service(consent)
                principal = consent.principal(target)
                entries, rows = consent.ledger.size, service.count()
                reason = f"Bench repetition {repetition}: the brand's breach notice."
                seconds, shown = timed(lambda service=service, principal=principal,
                                       reason=reason: service.reveal(
                                           officer_id=officer, case=case, principal=principal,
                                           reason=reason))
                if shown != address or service.count() != rows + 1 or \
                        consent.ledger.size != entries + 1:
                    raise BenchmarkError(f"{NAME}: the reveal was not recorded as it must be")
                reveal_times.append(seconds * 1000)
                seconds, found = timed(lambda service=service: service.revealed(
                    officer_id=officer, case=case), collect=False)
                if found != {principal: address}:
                    raise BenchmarkError(f"{NAME}: revealed() gave {len(found)} addresses")
                revealed_times.append(seconds * 1000)
            finally:
                consent.close()
                vault.close()
            log(f"  repetition {repetition + 1}: reveal {reveal_times[-1]:8.1f} ms,"
                f" revealed {revealed_times[-1]:6.2f} ms (verified)")
    return [FIGURES[0].result(median(reveal_times)), FIGURES[1].result(median(revealed_times))]
