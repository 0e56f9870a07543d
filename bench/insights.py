"""Insights at scale: NPS per touchpoint over 1,000,000 members and 10,000,000 journal
entries, and one survey's results over 1,000,000 answering members, each in under a second,
with a withdrawal made just before each query honoured.

Why the design keeps the guarantees at that speed (migration 6,
``vault/schema/sqlite/data/0006_insights_read_model.sql``; ``brand_gateway/insights/``):

- Nothing a query counts is computed outside the transaction that changes it. Triggers keep
  three things in the transaction of every change to what they derive from: an eligibility row
  per active grant and countable field (a grant given, narrowed, withdrawn, replaced, released
  or deleted with its erased member moves it), each member's bounded tally per brand and
  touchpoint (one value: the NPS class of their mean score, the half-point level of their
  mean rating, however many entries), and per brand, purpose, touchpoint and cell the count
  of (eligibility row, tally) pairs; survey answers keep per survey, purpose, question and cell
  counts the same way. A withdrawal that has committed is therefore already out of the counts
  the next query reads, and an erasure's cascades take the member's rows, eligibility and cell
  contributions with them in the erasure's own transaction.
- Time is never precomputed: the counts include every eligibility row whatever its window, and
  each query subtracts, in the same read snapshot, the pairs whose grant has ended (its expiry
  perhaps not yet recorded) or not yet started, found through indexes on the window's ends.
  Its cost follows the touchpoints (or questions) and the grants ended since the expiry pass
  last ran, never the number of members or entries.
- The member is still the privacy unit: the tallies reduce a member's rows exactly as
  ``contributions.py`` does (a test compares the two on random journals), each member adds at
  most one cell per touchpoint or question (all of their choices for a multiple choice), and
  OpenDP calibrates the noise to that bound (``TalliedCells``: ``unit_of(l1=k)`` over the
  counts, the same scale as ``contributions=k`` over the cells).

The store: members, grants, journal entries and survey answers bulk-loaded by SQL into a store
at migration 5 (synthetic rows: what matters is their number and the indexes), then migration
6 applied as ``vrmvault init`` would apply it to an existing store (its set-based backfill is
reported); then real members made through the product's services (terms, a community joined,
entries written, the survey answered) whose leaving is the withdrawal timed against. Each
repetition: one of them leaves the community (its grants withdrawn, with receipts and ledger
entries), then the query is timed through :class:`~brand_gateway.insights.queries.
InsightQueries` (budget spend, OpenDP release, ledger entry); that the member no longer counts
is checked on the exact counts of the read model before and after. Reported: the medians.
"""

from __future__ import annotations

import dataclasses
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from brand_gateway.insights.budget import BudgetSettings
from brand_gateway.insights.queries import TOUCHPOINT_KEYS
from brand_gateway.insights.sqlcipher import SqlcipherInsightReadModel
from brand_gateway.storage import insight_queries
from community.storage import membership_service, survey_service
from consent.context import open_consent
from vault import migrations, schema
from vault.home import VaultHome
from vault.keys import MasterKey
from vault.sqlcipher.database import Database

from . import report
from .workload import add_members

NAME = "insights"
FIGURES = (
    report.Figure("insights_nps_1m", "ms", report.Target("<", 1000, " ms")),
    report.Figure("survey_results_1m", "ms", report.Target("<", 1000, " ms")),
)
PURPOSE = "dpv:ServiceOptimisation"
BRAND = "brand_bench_insights"
CLUB = "com_bench_insights"
SURVEY = "srv_" + "0" * 24
DAY = 86_400


@dataclass(frozen=True)
class Scale:
    members: int
    entries: int
    answering: int
    repetitions: int


FULL = Scale(members=1_000_000, entries=10_000_000, answering=1_000_000, repetitions=5)
QUICK = Scale(members=20_000, entries=200_000, answering=20_000, repetitions=3)


def _bulk_load(data: Database, scale: Scale, now: int) -> None:
    """Synthetic rows by set-based SQL: 90% of members with a live grant of the journal and
    survey answers, 2% with one that ended (its expiry unrecorded), the rest none."""
    # A recursive CTE of n numbers, and a cheap deterministic mix of them (no RNG state).
    numbers = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)"
    mix = "((i * 2654435761) % 4294967296)"
    with data.transaction():
        data.execute("INSERT INTO brands (id, name, categories, created_at) VALUES (?, ?, ?, ?)",
                     (BRAND, "Spokesmith Cycles", '["bikes"]', now))
        data.execute(
            f"{numbers} INSERT INTO members (num, id, email_index, email_sealed, password_hash,"
            " created_at) SELECT i, printf('mem_%020d', i), CAST(printf('%032d', i) AS BLOB),"
            " x'00', 'x', ? FROM n", (scale.members, now))
        data.execute(
            f"{numbers} INSERT INTO grants (id, member_id, brand_id, purpose, fields, mode,"
            " starts_at, ends_at, retention_days, onward_sharing, third_party, jurisdiction,"
            " collection_method, agreement, terms_version, status, withdrawn_at, version,"
            " created_at, updated_at) SELECT printf('grant_%020d', i), printf('mem_%020d', i),"
            " ?, ?, '[\"feedback\",\"survey\"]', 'aggregate', ? - 30 * 86400,"
            f" CASE WHEN {mix} % 100 < 2 THEN ? - 86400 ELSE ? + 300 * 86400 END, 30, 0, NULL,"
            " 'EU', 'bench', 'SD-BASE', 1, 'active', NULL, 1, ?, ? FROM n"
            f" WHERE {mix} % 100 < 92", (scale.members, BRAND, PURPOSE, now, now, now, now, now))
        data.execute(
            f"{numbers} INSERT INTO feedback (member_num, brand_id, touchpoint, rating, nps,"
            " comment_sealed, occurred_on, updated_at)"
            f" SELECT 1 + {mix} % ?, ?, CASE {mix} / 7 % 10 "
            + " ".join(f"WHEN {k} THEN '{t}'" for k, t in enumerate(TOUCHPOINT_KEYS))
            + f" END, 1 + {mix} / 71 % 5, CASE WHEN {mix} / 13 % 2 = 0 THEN NULL"
            f" ELSE {mix} / 131 % 11 END, NULL, '2026-11-01', ? FROM n",
            (scale.entries, scale.members, BRAND, now))
        data.execute("INSERT INTO communities (id, brand_id, name, description, purposes,"
                     " created_at) VALUES (?, ?, 'Riders', 'Riding.', ?, ?)",
                     (CLUB, BRAND, f'["{PURPOSE}"]', now))
        data.execute("INSERT INTO surveys (id, brand_id, community_id, title, touchpoint, kind,"
                     " opens_at, closes_at, criteria, published_at) VALUES"
                     " (?, ?, ?, 'Repairs', 'usage', 'survey', ?, ?, '[]', ?)",
                     (SURVEY, BRAND, CLUB, now - DAY, now + 30 * DAY, now - DAY))
        for position, kind, choices in ((0, "rating", "[]"), (1, "nps", "[]"),
                                        (2, "single", '["north","south","east","west"]'),
                                        (3, "multiple", '["brakes","gears","tyres","lights"]'),
                                        (4, "text", "[]")):
            data.execute("INSERT INTO survey_questions (survey_id, position, kind, prompt,"
                         " choices) VALUES (?, ?, ?, 'Q', ?)", (SURVEY, position, kind, choices))
        data.execute(
            f"{numbers} INSERT INTO survey_answers (survey_id, member_num, position, value,"
            " choices, text_sealed, answered_at)"
            f" SELECT ?, i, p.position, CASE p.position WHEN 0 THEN 1 + {mix} % 5"
            f" WHEN 1 THEN {mix} / 11 % 11 WHEN 2 THEN {mix} / 3 % 4 END,"
            f" CASE p.position WHEN 3 THEN 1 + {mix} / 17 % 15 END, NULL, ? FROM n,"
            " (SELECT 0 AS position UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3)"
            " AS p", (scale.answering, SURVEY, now))


def _store(root: Path, scale: Scale) -> tuple[VaultHome, float]:
    """The home: every store made, the data store at migration 5, bulk-loaded, then brought
    to the last migration; the seconds migration 6 took."""
    home = VaultHome(root / "var")
    home.make_private()
    MasterKey.generate().write_new_file(home.key_file)
    master = home.master_key({})
    before_insights = dataclasses.replace(
        schema.DATA, migrations=tuple(m for m in schema.DATA.migrations if m.number < 6))
    for store in schema.STORES:
        database = Database.open(home.root / store.file, master.derive(store.key_purpose),
                                 create=True)
        try:
            migrations.apply(database, before_insights if store is schema.DATA else store)
            if store is schema.DATA:
                started = time.perf_counter()
                _bulk_load(database, scale, int(time.time()))
                report.log(f"  bulk load {time.perf_counter() - started:.1f} s")
                started = time.perf_counter()
                migrations.apply(database, store)
                backfill = time.perf_counter() - started
        finally:
            database.close()
    return home, backfill


def run(*, quick: bool) -> list[report.Result]:
    scale = QUICK if quick else FULL
    report.log(f"{NAME}: {scale.members:,} members, {scale.entries:,} journal entries,"
               f" {scale.answering:,} members answering a survey")
    with report.fresh_directory() as root:
        home, backfill = _store(root, scale)
        report.log(f"  migration 6 (read model from the store) {backfill:.1f} s")
        vault = home.open(home.master_key({}))
        consent = open_consent(vault, home)
        try:
            # Real members, through the services: they join, write entries, answer.
            leavers = add_members(vault, scale.repetitions * 2, first=scale.members + 1)
            membership = membership_service(consent)
            surveys = survey_service(consent=consent)
            for n, member_id in enumerate(leavers):
                consent.terms.update(member_id, agreement="SD-BASE", purposes=[], max_days=365,
                                     aggregate_allowed=True)
                membership.join(member_id, CLUB)
                for touchpoint in ("delivery", "support"):
                    vault.feedback.add(member_id, {
                        "brand_id": BRAND, "touchpoint": touchpoint, "rating": 1 + n % 5,
                        "nps": 10, "comment": "", "occurred_on": "2026-11-01"})
                surveys.answer(member_id, SURVEY, {"q0": "5", "q1": "10", "q2": "1",
                                                   "q3": ["0", "3"], "q4": "Fine."})
            queries = insight_queries(
                database=vault.data, clock=vault.clock, profiles=vault.profile,
                ledger=consent.ledger, budget=BudgetSettings(epsilon_per_period=1_000.0))
            model = SqlcipherInsightReadModel(vault.data)
            nps: list[float] = []
            results: list[float] = []
            for n in range(scale.repetitions):
                now = int(vault.clock())
                before = model.journal_counts(BRAND, PURPOSE, "nps", now)
                membership.leave(leavers[2 * n], CLUB)              # the withdrawal
                seconds, release = report.timed(lambda: queries.touchpoints(
                    BRAND, purpose=PURPOSE, measure="nps", epsilon=1.0), collect=False)
                nps.append(seconds * 1000)
                after = model.journal_counts(BRAND, PURPOSE, "nps", int(vault.clock()))
                _check_withdrawn(before, after, {("delivery", 2): 1, ("support", 2): 1})
                if not any(not group.suppressed for group in release.groups):
                    raise report.BenchmarkError("every touchpoint was suppressed")
                before_answers = model.survey_counts(BRAND, SURVEY, PURPOSE, now)
                membership.leave(leavers[2 * n + 1], CLUB)
                seconds, answered = report.timed(lambda: queries.survey(
                    BRAND, SURVEY, purpose=PURPOSE, epsilon=1.0), collect=False)
                results.append(seconds * 1000)
                after_answers = model.survey_counts(BRAND, SURVEY, PURPOSE,
                                                    int(vault.clock()))
                _check_withdrawn(before_answers, after_answers, {
                    (0, 4): 1, (1, 2): 1, (2, 1): 1, (3, 0): 1, (3, 1): 1, (3, 4): 1})
                if len(answered) != 4:
                    raise report.BenchmarkError("the survey's four questions were not answered")
            respondents = sum(before.values())
        finally:
            consent.close()
            vault.close()
    report.log(f"  NPS per touchpoint: median {statistics.median(nps):.1f} ms over"
               f" {respondents:,} member-touchpoints; survey: median"
               f" {statistics.median(results):.1f} ms")
    return [FIGURES[0].result(statistics.median(nps)),
            FIGURES[1].result(statistics.median(results))]


def _check_withdrawn(before: dict[tuple[object, int], int], after: dict[tuple[object, int], int],
                     cells: dict[tuple[object, int], int]) -> None:
    """The member who left took exactly their cells out of the counts, nothing else."""
    expected = {key: count - cells.get(key, 0) for key, count in before.items()}
    if {k: v for k, v in expected.items() if v} != after:
        raise report.BenchmarkError("a withdrawal made before the query was not honoured")
