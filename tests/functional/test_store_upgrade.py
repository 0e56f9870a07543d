"""A home made before the migration histories were squashed (b89e8db) upgrades losing nothing.

The world is made by the product: demo members, brands and grants, sign-ins, a sign-up and a
reset waiting, two-step sign-in, an agreement and terms for one brand, authorizations with a
code, a refresh token and access tokens, brand reads through the API (spooled, merged, counted),
a webhook endpoint with a failed delivery, an erasure done and one begun, signed checkpoints:
a row in every table of every store. Its rows are then copied into stores made exactly as
b89e8db made them (``tests/pre_release_stores``), next to the same master key, and that home
is upgraded. Every row must come through unchanged, every wrapped key must still open its
member's data, the ledger must still verify and prove, and the product must go on serving.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient

from brand_gateway.dsr import dsr_service
from brand_gateway.intents_wiring import intent_service
from brand_gateway.observers import grant_observer
from brand_gateway.storage import privacy_budget, webhook_dispatcher, webhook_registry
from brand_gateway.webhooks.signing import WebhookSigner
from community.storage import (
    attribute_request_service,
    care_service,
    cocreation_service,
    community_service,
    membership_service,
    survey_service,
    wedid_service,
)
from community.surveys import QuestionDraft, SurveyDraft
from compliance.deadlines import HolidayCalendar
from compliance.storage import reveal_service
from consent.context import Consent, open_consent, open_ledger
from consent.merkle import verify_consistency, verify_inclusion
from consent.spool import SpoolDirectory
from consent.sqlcipher.ledger import SqlcipherLedger
from demo.consents import load_consent_demo
from demo.members import DEMO_PASSWORD, SHOWCASE_EMAIL, load_demo
from intents.model import IntentDraft
from tests import pre_release_stores
from tests.apps import opened_app
from tests.brand_api_support import BrandApi
from tests.conftest import GOOD_PASSWORD, TEST_HASHING, AuthActions, free_port, turn_on_totp
from vault import migrations, schema
from vault.clock import FrozenClock
from vault.home import Vault, VaultHome
from vault.members import COMPLIANCE
from vault.sqlcipher.database import Database
from web.cli import main
from web.erasures import finish_erasure
from web.mailing import maildir_path

PROFILE = "/api/v1/member/profile"


@dataclass
class World:
    """What the product made in the home, and what to check it by after the upgrade."""

    home: VaultHome
    members: dict[str, tuple[str, dict[str, Any], list[Any]]]   # id -> email, profile, journal
    token: str                                                  # a brand's access token
    read: dict[str, Any]                                        # what the token read


def fill(app, vault: Vault, vault_home: VaultHome, consent: Consent, client: FlaskClient,
         clock: FrozenClock) -> World:
    """A row in every table of every store, each written by the product."""
    load_demo(vault, members=3, seed=7)
    load_consent_demo(consent, seed=7)
    consent.ledger.checkpoint()
    clock.advance(60)
    api = BrandApi(vault, consent)
    velo = api.brand("Velo Bikes Gateway")
    # A member who signs in with two steps, agrees terms with one brand, and is read by it.
    alice = vault.members.register("alice@example.org", GOOD_PASSWORD)
    vault.profile.update(alice, {"given_name": "Alice", "city": "Ghent"})
    vault.feedback.add(alice, {"brand_id": velo.brand_id, "touchpoint": "purchase",
                               "rating": 4, "comment": "Quick fitting."})
    turn_on_totp(vault, alice)
    consent.terms.accept_for_brand(alice, velo.brand_id, agreement="SD-BASE-ATP", max_days=400)
    issued = api.member_token(alice, velo, {"dpv:Personalisation": ["given_name", "city"]})
    api.authorizations.save_code("a-code-never-exchanged", family_id=issued.family.id,
                                 client_id=velo.client_id, redirect_uri="https://x.example/cb",
                                 code_challenge="E" * 43, code_challenge_method="S256")
    api.authorizations.save_refresh_token("a-refresh-token", issued.family.id)
    read = client.get(PROFILE, headers=issued.headers)
    assert read.status_code == 200, read.get_data(as_text=True)
    # An insight community with two members, a challenge, an idea and a vote.
    club = community_service(consent).open(velo.brand_id, name="Repair club",
                                           description="Shape repairs.",
                                           purposes=["dpv:ResearchAndDevelopment"])
    dora = vault.members.register("dora@example.org", GOOD_PASSWORD)
    for joiner in (alice, dora):
        membership_service(consent).join(joiner, club.id, individual=True)
    # Alice grants Velo's app her journal for the club's purpose as well: two grants side by
    # side, and she counts once in the insights (data migration 17 lists her).
    api.grant(alice, velo, "dpv:ResearchAndDevelopment", ["feedback"])
    cocreation = cocreation_service(consent)
    challenge = cocreation.open_challenge(velo.brand_id, club.id, title="How?",
                                          description="Tell us.")
    cocreation.vote(dora, cocreation.post(alice, challenge.id, "Loan bikes.").id)
    # A survey and a feedback request answered (the journal entry linked), one skipped, and
    # an attribute request answered.
    surveys = survey_service(consent=consent)
    ends = int(vault.clock()) + 7 * 86_400
    asked = surveys.publish(velo.brand_id, SurveyDraft(
        community_id=club.id, title="Repairs", closes_at=ends,
        questions=(QuestionDraft("text", "What breaks?"),))).survey
    surveys.answer(alice, asked.id, {"q0": "The chain."})
    surveys.skip(dora, asked.id)
    delivery = surveys.publish(velo.brand_id, SurveyDraft(
        community_id=club.id, title="Delivery", closes_at=ends, kind="feedback_request",
        touchpoint="delivery", questions=(QuestionDraft("rating", "How was delivery?"),))).survey
    surveys.answer(dora, delivery.id, {"q0": "4"})
    requests = attribute_request_service(consent=consent)
    household = requests.ask(velo.brand_id, community_id=club.id, attribute="household_size",
                             reason="Family bikes.", closes_at=ends)
    requests.respond(dora, household.id, value="2", count=False)
    # Closing the loop: Velo's "we did" about delivery, and dora's care case after a low score.
    wedid_service(consent=consent).post(velo.brand_id, {
        "subject_kind": "touchpoint", "subject": "delivery", "said": "Late.",
        "did": "Earlier vans.", "changed_on": "2027-01-01"}, release=lambda b, k, r: None)
    low = vault.feedback.add(dora, {"brand_id": velo.brand_id, "touchpoint": "delivery",
                                    "rating": 1})
    care_service(consent=consent, accepts_term=lambda b, t: True).ask(dora, entry_id=low)
    # Intent casting: alice's intent, a bicycle shop's offer on it she reported as spam, a brand
    # she blocks; then the shop's endpoint opts in to intent.created (after the offer was
    # declined: the outbox of the pre-release schema takes none of the intent events).
    shop, _ = api.clients.create("Spoke Shop", ["https://spoke.example/cb"], ["bicycles"])
    intents = intent_service(consent)
    today = dt.datetime.fromtimestamp(vault.clock(), dt.UTC).date()
    intents.cast(alice, IntentDraft(
        category="bicycles", description="A cargo bike.", budget_min="900",
        budget_max="2000", currency="EUR", window_from=today + dt.timedelta(days=1),
        window_until=today + dt.timedelta(days=30), country="BE", city="Ghent",
        reveal_fields=("given_name",)))
    [listed] = intents.list_for_brand(shop.brand_id).items
    offered = intents.make_offer(shop.brand_id, listed.pseudonym, price="1500",
                                 currency="EUR", terms="Ready in a week.", message="",
                                 valid_until=int(vault.clock()) + 7 * 86_400)
    intents.report_spam(alice, offered.id, reason="Pushy.")
    intents.block(alice, velo.brand_id)
    webhook_registry(database=vault.data, clock=clock).add(
        shop.client_id, "https://spoke.example/hooks", subscriptions={"intent.created": None})
    # Data subject requests: dora's access request answered by Velo with a document; alice's
    # restriction of processing, in force.
    requests_ = dsr_service(consent, callback_base="http://localhost",
                            calendar=HolidayCalendar())
    access = requests_.file(dora, kind="access", text="What do you keep?")
    requests_.brand_update(velo.brand_id, access.tasks[0].uid, state="completed",
                           results=[("orders.json", "application/json", b"{}")])
    requests_.fulfil(alice, requests_.file(alice, kind="restriction"))
    # Sign-ins: a session, a failed attempt, a sign-up and a reset waiting for their links.
    auth = AuthActions(app.test_client())
    assert auth.login("alice@example.org", GOOD_PASSWORD).status_code == 302
    assert auth.login("nobody@example.org", "not the password at all").status_code == 401
    vault.signups.request("carol@example.org", GOOD_PASSWORD, client="192.0.2.1")
    vault.password_resets.request("alice@example.org", client="192.0.2.1")
    # A brand told of an erasure, and failing to take the webhook.
    webhook_registry(database=vault.data, clock=clock).add(
        velo.client_id, f"http://127.0.0.1:{free_port()}/hooks")
    erin = vault.members.register("erin@example.org", GOOD_PASSWORD)
    api.member_token(erin, velo)
    client.get(PROFILE, headers=api.member_token(erin, velo, {
        "dpv:ServiceProvision": ["city"]}).headers)
    # The search rows so far folded into the ledger's index (as every 16,384 appends); the rest
    # stay recent.
    with consent.ledger.store.transaction():
        consent.ledger.store.fold_recent()            # type: ignore[attr-defined]
    SpoolDirectory(vault_home, vault.master).merge_all(consent.ledger)
    finish_erasure(vault, consent, vault.erasure.begin(erin),
                   maildir=maildir_path(vault_home.root))
    webhook_dispatcher(database=vault.data, signer=WebhookSigner.from_master(vault.master),
                      clock=clock, timeout=2).deliver_due()
    # A withdrawal its brand is to be told of, an erasure a stop cut short, a checkpoint.
    observed = open_consent(vault, vault_home,
                            observers=[grant_observer(vault.data, vault.master)])
    try:
        observed.grants.withdraw(alice, api.grant(alice, velo, "dpv:ServiceProvision",
                                                  ["city"]).id)
    finally:
        observed.close()
    frank = vault.members.register("frank@example.org", GOOD_PASSWORD)
    vault.erasure.begin(frank)
    # An officer, who revealed alice's address for an exposure case of Velo's.
    olive = vault.members.register("olive@example.org", GOOD_PASSWORD)
    turn_on_totp(vault, olive)
    vault.members.set_role(olive, COMPLIANCE)
    reveal_service(consent).reveal(officer_id=olive, case=f"exposure:{velo.brand_id}",
                                   principal=consent.principal(alice),
                                   reason="Velo reported a breach of its fitting records.")
    # A brand that spent some of its privacy budget.
    privacy_budget(database=vault.data, clock=clock).spend(velo.brand_id, 0.5)
    consent.ledger.checkpoint()
    members = {}
    for row in vault.data.all("SELECT id FROM members ORDER BY num"):
        member = row["id"]
        members[member] = (vault.members.get(member).email, vault.profile.get(member),
                           vault.feedback.for_member(member))
    return World(vault_home, members, issued.token, read.get_json())


# Columns of the baseline a later migration dropped, by store and table: members.role moved to
# member_roles (data migration 9).
DROPPED = {"data": {"members": ("role",)}}
# Columns a later migration added to a table of the baseline: copies into the old schema leave
# them out, and the upgrade fills them, with values that may differ from the new home's, so
# comparisons leave them out too: webhook endpoints' random public ids (data migration 11),
# checked for their form below; how an agreement was made (12), told from the community
# memberships a pre-release home cannot hold (tests/unit/vault/test_migrations.py checks it).
ADDED = {"data": {"webhook_endpoints": ("public_id",), "agreements": ("via",)}}
# Tables of the baseline a later migration dropped, by store, each with the rows the pre-release
# home held, from what the new home holds instead: the ledger's brand-read index, whose rows
# are the search index's reads (ledger migration 3).
DROPPED_TABLES = {"ledger": {"access_index": (
    "SELECT principal, seq, brand, at FROM (SELECT * FROM search_index UNION ALL"
    " SELECT * FROM search_recent) WHERE tag IN"
    " ('access:profile:read', 'access:feedback:read', 'survey:answer:released')"
    " AND brand IS NOT NULL AND principal IS NOT NULL ORDER BY seq")}}


def rows_of(database: Database, without: Mapping[str, tuple[str, ...]] | None = None
            ) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table but the bookkeeping, in a stable order (``without``: columns
    to leave out, by table)."""
    names = [row[0] for row in database.all(
        "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    found = {}
    for name in names:
        if name == migrations.TABLE or name in _old_bookkeeping():
            continue
        columns = [row[1] for row in database.all(f"PRAGMA table_info({name})")
                   if row[1] not in (without or {}).get(name, ())]
        order = ", ".join(str(n) for n in range(1, len(columns) + 1))
        found[name] = [tuple(row) for row in database.all(
            f"SELECT {', '.join(columns)} FROM {name} ORDER BY {order}")]
    return found


def _old_bookkeeping() -> set[str]:
    return {table for store in schema.STORES if store.squashed
            for table in store.squashed.tables}


def copy_into_pre_release_home(source: VaultHome, target: VaultHome) -> None:
    """``target``: stores made as b89e8db made them, holding every row of ``source``'s that
    such a store has a table for (a table a later migration made is left out), under the same
    master key (foreign keys checked when each store's copy commits)."""
    target.root.mkdir(mode=0o700)
    shutil.copy2(source.key_file, target.key_file)
    master = source.master_key({})
    for store in schema.STORES:
        key = master.derive(store.key_purpose)
        reader = Database.open(source.root / store.file, key)
        writer = pre_release_stores.create(target.root / store.file, key, store.name)
        try:
            tables = {row[0] for row in writer.all(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
            with writer.transaction():
                writer.execute("PRAGMA defer_foreign_keys = ON")
                for table, query in DROPPED_TABLES.get(store.name, {}).items():
                    writer.executemany(f"INSERT INTO {table} VALUES (?, ?, ?, ?)",
                                       [tuple(r) for r in reader.all(query)])
                added = ADDED.get(store.name, {})
                for table, rows in rows_of(reader, added).items():
                    if table not in tables:
                        continue
                    if table == "sqlite_sequence":
                        writer.execute("DELETE FROM sqlite_sequence")
                        rows = [r for r in rows if r[0] in tables]   # as tables are
                    if rows:
                        marks = ", ".join("?" * len(rows[0]))
                        columns = [r[1] for r in reader.all(f"PRAGMA table_info({table})")
                                   if r[1] not in added.get(table, ())]
                        writer.executemany(f"INSERT INTO {table} ({', '.join(columns)})"
                                           f" VALUES ({marks})", rows)
        finally:
            reader.close()
            writer.close()


@pytest.fixture
def engine() -> str:
    """The pre-release history and its upgrade are SQLCipher's: no PostgreSQL store
    predates the baselines."""
    return "sqlcipher"


@pytest.fixture
def world(app, vault: Vault, vault_home: VaultHome, consent: Consent, client: FlaskClient,
          clock: FrozenClock) -> World:
    return fill(app, vault, vault_home, consent, client, clock)


# The read model's tables migrations 6 and 17 fill from the baseline's rows (survey cells come from
# the answers of migration 5, empty in an upgraded home), and the ledger's search index, which
# ledger migration 2 fills from the entries by the rules the ledger applies to new ones (so an
# upgraded home must hold exactly the rows the new home's appends wrote).
DERIVED = frozenset({"insight_fields", "insight_bits", "insight_eligibility",
                     "insight_feedback_tallies", "insight_feedback_cells",
                     "insight_eligibility_repeats", "search_index", "search_purposes"})


def without_sequences_of(later: set[str], store_rows: dict[str, list[tuple[Any, ...]]]
                         ) -> dict[str, list[tuple[Any, ...]]]:
    """A store's rows without the ``sqlite_sequence`` rows of the tables in ``later`` (made
    by a migration after the baseline): as such a table's rows, its sequence is not the
    pre-release home's to carry (an upgrade starts it afresh, a rebuild into AUTOINCREMENT
    as data migration 14 made of ``intents`` included)."""
    return {table: [r for r in rows if r[0] not in later] if table == "sqlite_sequence"
            else rows for table, rows in store_rows.items()}


def uncounted(table: str, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """A cell table's rows without the cells that count no member (its last column)."""
    return [r for r in rows if r[-1] != 0] if table.endswith("_cells") else rows


def stores_rows(home: VaultHome, *, without_dropped: bool = False, folded: bool = False
                ) -> dict[str, dict[str, list[tuple[Any, ...]]]]:
    """Every row of every store of ``home``; ``folded``: the ledger's recent search rows as
    they would be once folded into its index (read in a transaction rolled back), so that a
    home is compared by what its searches find, not by how far it has folded."""
    master = home.master_key({})
    found = {}
    for store in schema.STORES:
        database = Database.open(home.root / store.file, master.derive(store.key_purpose))
        try:
            if folded and store is schema.LEDGER:
                with contextlib.suppress(RolledBack), database.transaction():
                    SqlcipherLedger(database).fold_recent()
                    found[store.name] = rows_of(database, ADDED.get(store.name))
                    raise RolledBack
                continue
            found[store.name] = rows_of(database, {
                **ADDED.get(store.name, {}),
                **(DROPPED.get(store.name, {}) if without_dropped else {})})
            if without_dropped:
                for table in DROPPED_TABLES.get(store.name, {}):
                    assert found[store.name].pop(table), f"no rows in {store.name}.{table}"
        finally:
            database.close()
    return found


class RolledBack(Exception):
    """Leaves a transaction that only looked."""


def test_the_world_has_a_row_in_every_table_of_every_store(world: World) -> None:
    empty = [f"{store}.{table}" for store, tables in stores_rows(world.home).items()
             for table, rows in tables.items() if not rows]
    assert empty == []


def test_a_pre_release_home_upgrades_without_losing_a_row_key_or_proof(
        world: World, tmp_path: Path, clock: FrozenClock) -> None:
    before = stores_rows(world.home, folded=True)
    old = VaultHome(tmp_path / "old")
    copy_into_pre_release_home(world.home, old)
    copied = stores_rows(old, without_dropped=True)
    # Tables the migrations after the baseline made cannot be in the old schema; the copy
    # holds every other row, and the upgrade makes those tables (empty).
    later = {store: set(tables) - set(copied[store]) for store, tables in before.items()}
    before = {store: without_sequences_of(later[store], tables)
              for store, tables in before.items()}
    assert copied == {store: {table: rows for table, rows in tables.items()
                              if table not in later[store]}
                      for store, tables in before.items()}
    # Except the insights read model (migration 6), derived from the rows: the upgrade
    # computes it from what it finds, so it holds what the triggers kept in the new home.
    # A cell a trigger counted down to no member stays as a row of 0, which a count made
    # afresh never writes: the same count either way.
    before = {store: {table: [] if table in later[store] and table not in DERIVED else
                      uncounted(table, rows) for table, rows in tables.items()}
              for store, tables in before.items()}

    report = old.initialise({})                  # what 'vrmvault init' runs first

    assert report.migrations_applied == [
        line for store in schema.STORES for line in (
            f"{store.file}: upgraded from the migration tables of vrmvault b89e8db"
            f" ({', '.join(store.squashed.tables)}) to migration 1",
            *(f"{store.file}: applied migration {m.number} {m.name}"
              for m in store.migrations[1:]))]
    # Every row, of every table of every store, as it was; the schema a fresh home has.
    upgraded_rows = stores_rows(old, folded=True)
    assert {store: {table: uncounted(table, rows) for table, rows in without_sequences_of(
        later[store], tables).items()} for store, tables in upgraded_rows.items()} == before
    # intents took AUTOINCREMENT (data migration 14): its sequence is kept from now on.
    assert "intents" in {row[0] for row in upgraded_rows["data"]["sqlite_sequence"]}
    master = old.master_key({})
    for store in schema.STORES:
        upgraded = Database.open(old.root / store.file, master.derive(store.key_purpose))
        made = Database.open(world.home.root / store.file, master.derive(store.key_purpose))
        try:
            assert migrations.schema_of(upgraded) == migrations.schema_of(made)
            assert [tuple(r) for r in upgraded.all(
                f"SELECT number, name FROM {migrations.TABLE}")] == [
                (m.number, m.name) for m in store.migrations]
            assert upgraded.all("PRAGMA foreign_key_check") == []
            if store is schema.DATA:        # each endpoint a public id of its own
                values = [row[0] for row in upgraded.all(
                    "SELECT public_id FROM webhook_endpoints")]
                assert values and all(re.fullmatch(r"whk_[0-9a-f]{24}", v) for v in values)
                assert len(set(values)) == len(values)
                assert {row[0] for row in upgraded.all("SELECT via FROM agreements")} == {
                    "member"}                # no community in a pre-release home
        finally:
            upgraded.close()
            made.close()
    # Every wrapped key still opens its member's data.
    with old.open(clock=clock, hashing=TEST_HASHING) as vault:
        for member, (email, profile, journal) in world.members.items():
            assert vault.members.get(member).email == email
            assert vault.profile.get(member) == profile
            assert vault.feedback.for_member(member) == journal
        assert vault.members.authenticate(SHOWCASE_EMAIL, DEMO_PASSWORD, client="192.0.2.9")
        # New rows take the ids after the old ones (sqlite_sequence came along).
        member = next(iter(world.members))
        added = vault.feedback.add(member, {"brand_id": vault.brands.all()[0].id,
                                            "touchpoint": "purchase", "rating": 5})
        assert added == dict(before["data"]["sqlite_sequence"])["feedback"] + 1
    # The ledger verifies, proves every entry against every checkpoint, and they are consistent.
    with open_ledger(world.home, master) as made, open_ledger(old, master, clock=clock) as ledger:
        assert ledger.verify().ok
        checkpoints = ledger.checkpoints()
        assert len(checkpoints) >= 2 and checkpoints == made.checkpoints()
        for checkpoint in checkpoints:
            for seq in range(checkpoint.tree_size):
                proof = ledger.prove_entry(seq, checkpoint)
                assert verify_inclusion(proof.entry.leaf_hash, seq, checkpoint.tree_size,
                                        proof.proof, checkpoint.root_hash)
        for older, newer in zip(checkpoints, checkpoints[1:], strict=False):
            proof = ledger.consistency_proof(older.tree_size, newer.tree_size)
            assert verify_consistency(older.tree_size, newer.tree_size, proof,
                                      older.root_hash, newer.root_hash)
    # The product goes on: the brand's token reads what it read before.
    with opened_app({"TESTING": True, "VRMVAULT_HOME": old.root,
                     "VRMVAULT_PUBLIC_URL": "http://localhost", "VRMVAULT_CLOCK": clock}
                    ) as served:
        again = served.test_client().get(
            PROFILE, headers={"Authorization": f"Bearer {world.token}"})
    assert (again.status_code, again.get_json()) == (200, world.read)
    # 'vrmvault init' then has nothing to apply, and finishes the erasure a stop cut short.
    result = CliRunner().invoke(main, ["--home", str(old.root), "init"],
                                env={"VRMVAULT_MASTER_KEY": ""})
    assert result.exit_code == 0, result.output
    assert "is ready" in result.output and "upgraded" not in result.output
    assert "finished 1 erasure a stop" in result.output


def test_init_says_which_steps_it_applied_to_a_pre_release_home(world: World,
                                                                tmp_path: Path) -> None:
    old = VaultHome(tmp_path / "old")
    copy_into_pre_release_home(world.home, old)
    result = CliRunner().invoke(main, ["--home", str(old.root), "init"],
                                env={"VRMVAULT_MASTER_KEY": ""})
    assert result.exit_code == 0, result.output
    for store in schema.STORES:
        assert f"  {store.file}: upgraded from the migration tables of vrmvault b89e8db" in (
            result.output)


def test_init_refuses_a_home_older_than_b89e8db_and_leaves_it_as_it_is(tmp_path: Path) -> None:
    home = VaultHome(tmp_path / "older")
    home.initialise({})
    master = home.master_key({})
    (home.root / "data.db").unlink()
    older = pre_release_stores.create(home.root / "data.db", master.derive("data-store"), "data")
    older.execute("DELETE FROM gateway_token_migrations WHERE number = 3")
    older.close()
    before = (home.root / "data.db").read_bytes()
    result = CliRunner().invoke(main, ["--home", str(home.root), "init"],
                                env={"VRMVAULT_MASTER_KEY": ""})
    assert result.exit_code == 1
    assert "older than b89e8db" in result.stderr and "gateway_token_migrations 3" in (
        result.stderr)
    assert "Traceback" not in result.output + result.stderr
    assert (home.root / "data.db").read_bytes() == before


def test_init_on_a_fresh_home_makes_every_baseline(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["--home", str(tmp_path / "new"), "init"],
                                env={"VRMVAULT_MASTER_KEY": ""})
    assert result.exit_code == 0, result.output
    assert [line.strip() for line in result.output.splitlines() if "migration" in line] == [
        f"{store.file}: applied migration {m.number} {m.name}" for store in schema.STORES
        for m in store.migrations]
