"""Exporting a member with 10,000 feedback entries (GDPR Art. 20): ``MemberExport.zip_bytes``.

Each repetition builds a fresh encrypted store (the member with 10,000 entries, a full profile
and a session, among other members) with every layer's tables, reopens the vault (cold page
cache, no member key unwrapped yet) and its ledger, and times one export as the member's page
makes it (``web.exports.member_export``: every layer's part, consent and the gateway's
included). The zip is then checked: its JSON document must hold every entry and profile value
of the member.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass

from consent.context import open_consent
from vault.export import DOCUMENT
from vault.home import VaultHome
from web.exports import member_export

from .report import BenchmarkError, Figure, Result, Target, fresh_directory, log, median, timed
from .workload import ENCRYPTED, MemberStore, create_vault, fill_member_store, reopen_vault

NAME = "export_10k"
FIGURES = (Figure(NAME, "s", Target("<", 1, " s")),)


@dataclass(frozen=True)
class Scale:
    entries: int
    other_members: int
    entries_per_other: int
    repetitions: int


FULL = Scale(entries=10_000, other_members=50, entries_per_other=100, repetitions=5)
QUICK = Scale(entries=10_000, other_members=10, entries_per_other=100, repetitions=3)


def export_once(scale: Scale, seed: int) -> tuple[float, int]:
    with fresh_directory() as root:
        vault = create_vault(ENCRYPTED, root)
        try:
            store = fill_member_store(vault, entries_of_member=scale.entries,
                                      other_members=scale.other_members,
                                      entries_per_other=scale.entries_per_other, seed=seed)
        finally:
            vault.close()
        vault = reopen_vault(ENCRYPTED, root)
        consent = open_consent(vault, VaultHome(root / "var"))
        try:
            seconds, archive = timed(lambda: member_export(consent).zip_bytes(store.member_id))
        finally:
            consent.close()
            vault.close()
    verify(archive, store)
    return seconds, len(archive)


def verify(archive: bytes, store: MemberStore) -> None:
    with zipfile.ZipFile(io.BytesIO(archive)) as opened:
        document = json.loads(opened.read(DOCUMENT))
    problems = []
    if document["member"]["id"] != store.member_id:
        problems.append("the export is of another member")
    if len(document["feedback"]) != store.member_entries:
        problems.append(f"{len(document['feedback'])} entries, expected {store.member_entries}")
    if len(document["profile"]) != store.profile_values:
        problems.append(f"{len(document['profile'])} profile values,"
                        f" expected {store.profile_values}")
    if problems:
        raise BenchmarkError(f"{NAME}: export not verified: " + "; ".join(problems))


def run(*, quick: bool) -> list[Result]:
    scale = QUICK if quick else FULL
    log(f"{NAME}: {scale.repetitions} exports of a member with {scale.entries:,} entries")
    times = []
    for repetition in range(scale.repetitions):
        seconds, size = export_once(scale, seed=200 + repetition)
        log(f"  export {repetition + 1}: {seconds:6.3f} s, {size / 1e6:.2f} MB zip (verified)")
        times.append(seconds)
    return [FIGURES[0].result(median(times))]
