"""Erasing a member with 10,000 feedback entries and a full profile (GDPR Art. 17).

Each repetition builds a fresh encrypted store: the member (10,000 entries, every profile
attribute, a web session) among other members with 100 entries each, their rows interleaved.
The vault is then reopened (cold page cache) and ``vault.erasure.erase`` is timed: destroying
the member's key (commit and checkpoint of the key store), deleting their rows with
``secure_delete`` on, and checkpointing the data store. After each erasure the benchmark checks
that the key row and every row of the member are gone and the others' rows are all there;
otherwise it fails rather than report a time for an erasure that did not happen.
"""

from __future__ import annotations

from dataclasses import dataclass

from vault.erasure import ErasureReport
from vault.home import Vault

from .report import BenchmarkError, Figure, Result, Target, fresh_directory, log, median, timed
from .workload import ENCRYPTED, MemberStore, create_vault, fill_member_store, reopen_vault

NAME = "erasure_10k"
FIGURES = (Figure(NAME, "ms", Target("<", 100, " ms")),)
MEMBER_TABLES = ("feedback", "profile_values", "web_sessions")


@dataclass(frozen=True)
class Scale:
    entries: int
    other_members: int
    entries_per_other: int
    repetitions: int


FULL = Scale(entries=10_000, other_members=50, entries_per_other=100, repetitions=7)
QUICK = Scale(entries=10_000, other_members=10, entries_per_other=100, repetitions=3)


def erase_once(scale: Scale, seed: int) -> float:
    with fresh_directory() as root:
        vault = create_vault(ENCRYPTED, root)
        try:
            store = fill_member_store(vault, entries_of_member=scale.entries,
                                      other_members=scale.other_members,
                                      entries_per_other=scale.entries_per_other, seed=seed)
        finally:
            vault.close()
        vault = reopen_vault(ENCRYPTED, root)
        try:
            # Feedback rows point at the member by its integer key; noted (untimed) before the
            # member row goes, so the check below looks for exactly this member's rows.
            number = vault.data.one("SELECT num FROM members WHERE id = ?",
                                    (store.member_id,))[0]
            seconds, report = timed(lambda: vault.erasure.erase(store.member_id))
            verify(vault, store, report, number)
        finally:
            vault.close()
    return seconds


def verify(vault: Vault, store: MemberStore, report: ErasureReport, number: int) -> None:
    """Raise unless the erasure did everything it reports and nothing more."""
    member = store.member_id
    problems = []
    if vault.keys_database.one(
        "SELECT count(*) FROM member_keys WHERE member_id = ?", (member,)
    )[0]:
        problems.append("the member's key row is still in the key store")
    if not report.key_destroyed:
        problems.append("the erasure report says no key was destroyed")
    for table in MEMBER_TABLES:
        column, key = ("member_num", number) if table == "feedback" else ("member_id", member)
        left = vault.data.one(f"SELECT count(*) FROM {table} WHERE {column} = ?", (key,))[0]
        if left:
            problems.append(f"{left} rows of the member left in {table}")
    if vault.data.one("SELECT count(*) FROM members WHERE id = ?", (member,))[0]:
        problems.append("the member row is still there")
    # The member's sessions end when the erasure begins (vault/erasure.py, step 0: no sign-in
    # and no session survives it), so the rows step counts entries, values and the account;
    # that no session is left is checked above with the member's other tables.
    expected = store.member_entries + store.profile_values + 1
    if report.rows_deleted != expected:
        problems.append(f"{report.rows_deleted} rows deleted, expected {expected}")
    others = vault.data.one("SELECT count(*) FROM feedback")[0]
    if others != store.other_entries:
        problems.append(f"{others} entries of other members left, expected {store.other_entries}")
    keys_left = vault.keys_database.one("SELECT count(*) FROM member_keys")[0]
    if keys_left != store.other_members:
        problems.append(f"{keys_left} keys of other members left, expected {store.other_members}")
    if problems:
        raise BenchmarkError(f"{NAME}: erasure not verified: " + "; ".join(problems))


def run(*, quick: bool) -> list[Result]:
    scale = QUICK if quick else FULL
    log(f"{NAME}: {scale.repetitions} fresh members with {scale.entries:,} entries each, among"
        f" {scale.other_members} others x {scale.entries_per_other}")
    times = []
    for repetition in range(scale.repetitions):
        seconds = erase_once(scale, seed=100 + repetition)
        log(f"  erase {repetition + 1}: {seconds * 1000:7.1f} ms (verified)")
        times.append(seconds * 1000)
    return [FIGURES[0].result(median(times))]
