"""vault.migrations and vault.schema: one history per store, numbered, recorded in one table,
each migration in its own transaction, applied once; the pre-release stores taken over whole."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from tests import pre_release_stores
from vault import migrations, schema
from vault.errors import ConstraintViolationError, StoreError
from vault.home import VaultHome
from vault.migrations import Migration, Store
from vault.sqlcipher.database import Database

KEY = bytes(range(32))
SQL = Path(schema.__file__).parent / migrations.ENGINE


@pytest.fixture
def database(tmp_path):
    db = Database.open(tmp_path / "m.db", KEY, create=True)
    yield db
    db.close()


def store(*steps: Migration) -> Store:
    return Store("test", "test.db", "test-store", steps)


def recorded(db: Database) -> list[tuple[int, str]]:
    return [(r["number"], r["name"])
            for r in db.all("SELECT number, name FROM store_migrations ORDER BY number")]


def tables(db: Database) -> set[str]:
    return {r["name"] for r in db.all("SELECT name FROM sqlite_master WHERE type = 'table'")}


def pre_release(tmp_path: Path, name: str) -> Database:
    return pre_release_stores.create(tmp_path / f"{name}.db", KEY, name)


# -- the histories -------------------------------------------------------------------------------
@pytest.mark.parametrize("wanted", schema.STORES, ids=lambda s: s.name)
def test_applying_twice_applies_nothing_the_second_time(database, wanted):
    applies_once(migrations, database, wanted)


def applies_once(runner, database, wanted: Store) -> None:
    """``runner`` (an engine's migration runner) applies every migration of ``wanted`` once,
    and records each."""
    assert runner.pending(database, wanted) == list(wanted.migrations)
    with pytest.raises(StoreError, match="needs migrations"):
        runner.require_current(database, wanted)
    assert runner.apply(database, wanted) == [
        f"applied migration {m.number} {m.name}" for m in wanted.migrations]
    assert runner.pending(database, wanted) == []
    assert runner.apply(database, wanted) == []
    assert recorded(database) == [(m.number, m.name) for m in wanted.migrations]
    runner.require_current(database, wanted)


@pytest.mark.parametrize("wanted", schema.STORES, ids=lambda s: s.name)
def test_each_history_is_numbered_from_1_and_stated_once(wanted):
    numbers = [m.number for m in wanted.migrations]
    assert numbers == list(range(1, len(numbers) + 1))
    assert len({m.name for m in wanted.migrations}) == len(numbers)
    # Every SQL file of the store is in its list, and nothing else is.
    files = sorted(path.name for path in (SQL / wanted.name).iterdir())
    assert files == [f"{m.number:04d}_{m.name}.sql" for m in wanted.migrations]


def test_the_stores_are_four_files_with_keys_of_their_own():
    assert [(s.name, s.file) for s in schema.STORES] == [
        ("data", "data.db"), ("keys", "keys.db"), ("ledger", "ledger.db"),
        ("rates", "rates.db")]
    assert len({s.key_purpose for s in schema.STORES}) == 4
    assert {path.name for path in SQL.iterdir()} == {s.name for s in schema.STORES}


def test_each_store_holds_its_own_tables(tmp_path):
    made = {}
    for wanted in schema.STORES:
        db = Database.open(tmp_path / wanted.file, KEY, create=True)
        migrations.apply(db, wanted)
        made[wanted.name] = tables(db)
        db.close()
    assert {"members", "brands", "profile_values", "feedback", "web_sessions",
            "login_throttle", "erasures", "grants", "receipts", "oauth_clients",
            "oauth_access_tokens", "webhook_outbox", "store_migrations"} <= made["data"]
    assert made["keys"] == {"member_keys", "erased_members", "store_migrations"}
    assert made["ledger"] == {"entries", "tree_nodes", "checkpoints", "spool_marks",
                              "search_index", "search_purposes", "search_recent",
                              "store_migrations"}
    assert made["rates"] == {"api_rate_limits", "store_migrations"}


def test_a_staff_role_is_compliance_or_administrator_and_one_per_account(vault):
    member = vault.members.register("alice@example.org", "correct horse battery staple")
    num = vault.data.one("SELECT num FROM members WHERE id = ?", (member,))[0]
    assert vault.data.one("SELECT 1 FROM member_roles") is None     # a member has no row
    for role in ("root", "member"):
        with pytest.raises(ConstraintViolationError):
            vault.data.execute("INSERT INTO member_roles (member_num, role) VALUES (?, ?)",
                               (num, role))
    vault.data.execute("INSERT INTO member_roles (member_num, role) VALUES (?, 'compliance')",
                       (num,))
    with pytest.raises(ConstraintViolationError):
        vault.data.execute("INSERT INTO member_roles (member_num, role)"
                           " VALUES (?, 'administrator')", (num,))
    vault.data.execute("DELETE FROM members")
    assert vault.data.one("SELECT 1 FROM member_roles") is None     # gone with the account


def test_officers_keep_their_role_when_roles_move_to_their_own_table(database):
    before = replace(schema.DATA, migrations=tuple(
        m for m in schema.DATA.migrations if m.number < 9))
    migrations.apply(database, before)
    for num, role in ((1, "member"), (2, "compliance"), (3, "member")):
        database.execute(
            "INSERT INTO members (num, id, email_index, email_sealed, password_hash, created_at,"
            " role) VALUES (?, ?, ?, x'00', 'h', 0, ?)",
            (num, f"{num:032x}", bytes([num]), role))
    migrations.apply(database, schema.DATA)
    assert [tuple(row) for row in database.all("SELECT member_num, role FROM member_roles")] \
        == [(2, "compliance")]
    assert "role" not in {row["name"] for row in database.all("PRAGMA table_info(members)")}


def endpoints_get_public_ids(runner, database, wanted: Store) -> None:
    """Shared with the PostgreSQL tests (``runner``: an engine's migration runner, ``wanted``:
    its data store's history): migration 11 gives every existing webhook endpoint a random
    public id of its own, and leaves its key, its outbox rows and its subscriptions as they
    were; from then on an endpoint without a public id is refused."""
    runner.apply(database, replace(wanted, migrations=tuple(
        m for m in wanted.migrations if m.number < 11)))
    for brand in ("velo", "grocer"):
        database.execute("INSERT INTO brands (id, name, created_at) VALUES (?, ?, 0)",
                         (brand, brand))
        database.execute(
            "INSERT INTO oauth_clients (client_id, brand_id, client_secret_hash, redirect_uris,"
            " grant_types, status, created_at, secret_rotated_at)"
            " VALUES (?, ?, ?, '[]', '[]', 'active', 0, 0)", (f"client_{brand}", brand, b"h"))
    for client, url in (("velo", "a"), ("grocer", "b"), ("velo", "c")):
        database.execute("INSERT INTO webhook_endpoints (client_id, url, created_at)"
                         " VALUES (?, ?, 0)", (f"client_{client}", f"https://{url}.example/"))
    keys = {row[1]: row[0] for row in database.all("SELECT id, url FROM webhook_endpoints")}
    database.execute("INSERT INTO webhook_endpoint_events (endpoint_id, event_type, category)"
                     " VALUES (?, 'intent.created', NULL)", (keys["https://c.example/"],))
    database.execute(
        "INSERT INTO webhook_outbox (endpoint_id, client_id, event_type, event_id, payload,"
        " next_attempt_at, created_at) VALUES (?, 'client_grocer', 'member.erased', 'e', '{}',"
        " 0, 0)", (keys["https://b.example/"],))
    runner.apply(database, wanted)
    rows = database.all("SELECT id, url, public_id FROM webhook_endpoints ORDER BY id")
    assert {row[1]: row[0] for row in rows} == keys
    assert all(re.fullmatch(r"whk_[0-9a-f]{24}", row[2]) for row in rows)
    assert len({row[2] for row in rows}) == 3
    assert [tuple(row) for row in database.all(
        "SELECT e.url, s.event_type FROM webhook_endpoint_events AS s"
        " JOIN webhook_endpoints AS e ON e.id = s.endpoint_id")] == [
        ("https://c.example/", "intent.created")]
    assert [row[0] for row in database.all(
        "SELECT e.url FROM webhook_outbox AS o"
        " JOIN webhook_endpoints AS e ON e.id = o.endpoint_id")] == ["https://b.example/"]
    with pytest.raises(ConstraintViolationError):
        database.execute("INSERT INTO webhook_endpoints (client_id, url, created_at)"
                         " VALUES ('client_velo', 'https://d.example/', 0)")
    database.execute("INSERT INTO webhook_endpoints (client_id, url, created_at, public_id)"
                     " VALUES ('client_velo', 'https://d.example/', 0, ?)", (rows[0][2] + "x",))
    assert database.one("SELECT max(id) FROM webhook_endpoints")[0] > max(keys.values())
    with pytest.raises(ConstraintViolationError):      # one endpoint's only
        database.execute("INSERT INTO webhook_endpoints (client_id, url, created_at, public_id)"
                         " VALUES ('client_velo', 'https://e.example/', 0, ?)", (rows[0][2],))


def test_existing_endpoints_get_public_ids(database):
    endpoints_get_public_ids(migrations, database, schema.DATA)


def joins_agreements_become_the_members(runner, database, wanted: Store) -> None:
    """Shared with the PostgreSQL tests: migration 12 marks as a join's (``via``
    'community') an existing agreement agreed the second it was offered by a member who joined
    one of the brand's communities within a second of it; every other stays the member's."""
    runner.apply(database, replace(wanted, migrations=tuple(
        m for m in wanted.migrations if m.number < 12)))
    for brand in ("velo", "grocer"):
        database.execute("INSERT INTO brands (id, name, created_at) VALUES (?, ?, 0)",
                         (brand, brand))
    database.execute("INSERT INTO communities (id, brand_id, name, description, purposes,"
                     " created_at) VALUES ('club', 'velo', 'Club', 'd', '[]', 0)")
    joined_at = {"alice": 100, "bob": 500, "carol": 100}
    for number, name in enumerate(("alice", "bob", "carol"), start=1):
        database.execute(
            "INSERT INTO members (id, email_index, email_sealed, password_hash, created_at)"
            " VALUES (?, ?, ?, 'h', 0)", (name, bytes([number]), b"\0"))
        num = database.one("SELECT num FROM members WHERE id = ?", (name,))[0]
        member = ("member_id, ", f"'{name}', ") if database.engine == "postgresql" else ("", "")
        database.execute(
            f"INSERT INTO community_members ({member[0]}community_id, member_num, joined_at,"
            f" pseudonym) VALUES ({member[1]}'club', ?, ?, ?)", (num, joined_at[name], name))
    for agreement, member, brand, status, made, changed in (
            ("agr_join", "alice", "velo", "agreed", 101, 101),     # the join's, a second on
            ("agr_grocer", "alice", "grocer", "agreed", 100, 100),  # no community of grocer's
            ("agr_own", "bob", "velo", "agreed", 200, 200),        # offered long before joining
            ("agr_answered", "carol", "velo", "agreed", 100, 160),  # answered a minute later
            ("agr_waiting", "carol", "velo", "proffered", 100, 100)):
        database.execute(
            "INSERT INTO agreements (id, member_id, brand_id, proffered, status, created_at,"
            " updated_at) VALUES (?, ?, ?, 'SD-BASE', ?, ?, ?)",
            (agreement, member, brand, status, made, changed))
    runner.apply(database, wanted)
    assert {row[0]: row[1] for row in database.all("SELECT id, via FROM agreements")} == {
        "agr_join": "community", "agr_grocer": "member", "agr_own": "member",
        "agr_answered": "member", "agr_waiting": "member"}
    with pytest.raises(ConstraintViolationError):
        database.execute("UPDATE agreements SET via = 'brand' WHERE id = 'agr_own'")


def test_agreements_a_join_made_are_told_apart(database):
    joins_agreements_become_the_members(migrations, database, schema.DATA)


def intent_numbers_are_never_reused(runner, database, wanted: Store) -> None:
    """Shared with the PostgreSQL tests: after migration 14 an intent's ``num`` (what its
    pseudonyms at brands encrypt) is never given again, not even once the member who had the
    newest intents was erased; the intents and the offers on them come through as they were."""
    runner.apply(database, replace(wanted, migrations=tuple(
        m for m in wanted.migrations if m.number < 14)))
    postgresql = database.engine == "postgresql"
    database.execute("INSERT INTO brands (id, name, created_at) VALUES ('velo', 'Velo', 0)")

    def cast(member: str, intent: str) -> int:
        num = database.one("SELECT num FROM members WHERE id = ?", (member,))[0]
        owner = ("member_id, ", "?, ", (member,)) if postgresql else ("", "", ())
        database.execute(
            f"INSERT INTO intents ({owner[0]}id, member_num, category, status, budget_min,"
            " budget_max, currency, window_from, window_until, description, reveal_fields,"
            f" created_at, updated_at, expires_at) VALUES ({owner[1]}?, ?, 'bicycles', 'open',"
            " 1, 2, 'EUR', '2030-01-01', '2030-02-01', ?, '[]', 0, 0, 1)",
            (*owner[2], intent, num, b"sealed"))
        return int(database.one("SELECT num FROM intents WHERE id = ?", (intent,))[0])

    for number, name in enumerate(("alice", "bob"), start=1):
        database.execute(
            "INSERT INTO members (id, email_index, email_sealed, password_hash, created_at)"
            " VALUES (?, ?, ?, 'h', 0)", (name, bytes([number]), b"\0"))
    cast("alice", "int_a")
    cast("bob", "int_b")
    owner = ("member_id, ", "'alice', ") if postgresql else ("", "")
    database.execute(
        f"INSERT INTO intent_offers ({owner[0]}id, intent_num, brand_id, price, currency, terms,"
        f" message, signed, valid_until, status, created_at) SELECT {owner[1]}'off_a', num,"
        " 'velo', 5, 'EUR', ?, ?, ?, 9, 'open', 0 FROM intents WHERE id = 'int_a'",
        (b"t", b"m", b"s"))
    before = [tuple(row) for row in database.all("SELECT * FROM intents ORDER BY num")]
    runner.apply(database, wanted)
    assert [tuple(row) for row in database.all("SELECT * FROM intents ORDER BY num")] == before
    assert [tuple(row) for row in database.all(
        "SELECT o.id, i.id FROM intent_offers AS o JOIN intents AS i ON i.num = o.intent_num"
    )] == [("off_a", "int_a")]
    erased = cast("bob", "int_b2")                     # the newest intent, then its member goes
    database.execute("DELETE FROM members WHERE id = 'bob'")
    assert cast("alice", "int_a2") > erased


def test_intent_numbers_are_never_reused(database):
    intent_numbers_are_never_reused(migrations, database, schema.DATA)


def community_sizes_are_kept_from_now_on(runner, database, wanted: Store) -> None:
    """Shared with the PostgreSQL tests: migration 15 keeps nothing of the exact count a
    community's brand was told before (it was not private): every existing community comes
    through as it was, its size not measured yet (measured on its brand's next read); a kept
    figure is never negative, nor kept without its period."""
    runner.apply(database, replace(wanted, migrations=tuple(
        m for m in wanted.migrations if m.number < 15)))
    database.execute("INSERT INTO brands (id, name, created_at) VALUES ('velo', 'Velo', 0)")
    for community, closed in (("club", None), ("old", 50)):
        database.execute(
            "INSERT INTO communities (id, brand_id, name, description, purposes, created_at,"
            " closed_at) VALUES (?, 'velo', 'Club', 'd', '[]', 10, ?)", (community, closed))
    database.execute("INSERT INTO members (id, email_index, email_sealed, password_hash,"
                     " created_at) VALUES ('alice', ?, ?, 'h', 0)", (b"\1", b"\0"))
    num = database.one("SELECT num FROM members WHERE id = 'alice'")[0]
    member = ("member_id, ", "'alice', ") if database.engine == "postgresql" else ("", "")
    database.execute(
        f"INSERT INTO community_members ({member[0]}community_id, member_num, joined_at,"
        f" pseudonym) VALUES ({member[1]}'club', ?, 20, 'p')", (num,))
    columns = "id, brand_id, name, description, purposes, created_at, closed_at"
    before = [tuple(row) for row in database.all(f"SELECT {columns} FROM communities"
                                                 " ORDER BY id")]
    runner.apply(database, wanted)
    assert [tuple(row) for row in database.all(f"SELECT {columns} FROM communities"
                                               " ORDER BY id")] == before
    assert [tuple(row) for row in database.all(
        "SELECT size_period, size_reported FROM communities")] == [(None, None)] * 2
    assert database.one("SELECT count(*) FROM community_members")[0] == 1
    database.execute("UPDATE communities SET size_period = 0, size_reported = 60"
                     " WHERE id = 'club'")
    for period, reported in ((0, -10), (None, 60)):
        with pytest.raises(ConstraintViolationError):
            database.execute("UPDATE communities SET size_period = ?, size_reported = ?"
                             " WHERE id = 'old'", (period, reported))


def test_community_sizes_are_kept_from_now_on(database):
    community_sizes_are_kept_from_now_on(migrations, database, schema.DATA)


def request_reasons_of_erased_members_are_emptied(runner, database, wanted: Store) -> None:
    """Shared with the PostgreSQL tests: migration 16 empties the reasons officers and brands
    gave in clear on the data subject requests of members erased before it (their erasure
    would have left them unreadable had they been sealed), and deletes the documents brands
    returned to those members; a member still there keeps theirs, and a restore's note on a
    request's own step stays."""
    runner.apply(database, replace(wanted, migrations=tuple(
        m for m in wanted.migrations if m.number < 16)))
    database.execute("INSERT INTO brands (id, name, created_at) VALUES ('velo', 'Velo', 0)")
    database.execute("INSERT INTO members (id, email_index, email_sealed, password_hash,"
                     " created_at) VALUES ('alice', ?, ?, 'h', 0)", (b"\1", b"\0"))
    alice = database.one("SELECT num FROM members WHERE id = 'alice'")[0]
    for request, member in (("dsr_kept", alice), ("dsr_erased", None)):
        database.execute(
            "INSERT INTO dsr_requests (id, member_num, principal, regime, kind, source, state,"
            " received_at, received_on, due_on, extended_at, extension_reason)"
            " VALUES (?, ?, 'member:p', 'gdpr', 'access', 'member', 'in_progress', 0,"
            " '2027-01-01', '2027-03-01', 5, 'Archives of Jane Roe to search')",
            (request, member))
        database.execute(
            "INSERT INTO dsr_tasks (uid, request_id, brand_id, subject, message, state, reason,"
            " created_at, updated_at) VALUES (?, ?, 'velo', 's', 'AccessRequest', 'denied',"
            " 'No customer named Jane Roe', 0, 6)", ("u_" + request, request))
        for task, state, reason in ((None, "extended", "Archives of Jane Roe to search"),
                                    ("u_" + request, "denied", "No customer named Jane Roe"),
                                    (None, "restored_from_ledger", "a restore's note")):
            database.execute(
                "INSERT INTO dsr_history (request_id, task_uid, state, reason, at)"
                " VALUES (?, ?, ?, ?, 7)", (request, task, state, reason))
        database.execute(
            "INSERT INTO dsr_results (task_uid, name, media_type, size, document_sealed,"
            " created_at) VALUES (?, 'jane-roe.json', 'application/json', 1, ?, 8)",
            ("u_" + request, b"\1"))
    before = [tuple(row) for row in database.all(
        "SELECT state, reason FROM dsr_history WHERE request_id = 'dsr_kept' ORDER BY id")]
    runner.apply(database, wanted)

    def reasons(request: str) -> tuple[object, ...]:
        return (database.one("SELECT extension_reason FROM dsr_requests WHERE id = ?",
                             (request,))[0],
                database.one("SELECT reason FROM dsr_tasks WHERE request_id = ?",
                             (request,))[0],
                [tuple(row) for row in database.all(
                    "SELECT state, reason FROM dsr_history WHERE request_id = ? ORDER BY id",
                    (request,))],
                database.one("SELECT count(*) FROM dsr_results WHERE task_uid = ?",
                             ("u_" + request,))[0])

    assert reasons("dsr_kept") == ("Archives of Jane Roe to search",
                                   "No customer named Jane Roe", before, 1)
    assert reasons("dsr_erased") == (None, None, [
        ("extended", None), ("denied", None), ("restored_from_ledger", "a restore's note")], 0)
    assert [tuple(row) for row in database.all(
        "SELECT extension_reason_sealed FROM dsr_requests"
        " UNION ALL SELECT reason_sealed FROM dsr_tasks"
        " UNION ALL SELECT reason_sealed FROM dsr_history")] == [(None,)] * 10


def test_request_reasons_of_erased_members_are_emptied(database):
    request_reasons_of_erased_members_are_emptied(migrations, database, schema.DATA)


def test_reset_links_and_recovery_codes_go_with_the_account(vault):
    """Member-owned: reset links and recovery codes; pending sign-ups and request counts are
    not (no member exists for them)."""
    owned = {table for table in ("password_resets", "totp_recovery_codes", "signup_requests",
                                 "request_limits")
             if any(row["table"] == "members" for row in
                    vault.data.all(f"PRAGMA foreign_key_list({table})"))}
    assert owned == {"password_resets", "totp_recovery_codes"}
    member = vault.members.register("alice@example.org", "correct horse battery staple")
    vault.data.execute("INSERT INTO totp_recovery_codes (member_id, code_hash, created_at)"
                       " VALUES (?, x'01', 0)", (member,))
    vault.data.execute("DELETE FROM members")
    assert vault.data.one("SELECT count(*) FROM totp_recovery_codes")[0] == 0


# -- the runner ------------------------------------------------------------------------------------
def test_migrations_apply_in_number_order_and_only_missing_ones(database):
    first = Migration(1, "one", "CREATE TABLE a (x)")
    second = Migration(2, "two", "CREATE TABLE b (x REFERENCES a)")
    assert migrations.apply(database, store(first)) == ["applied migration 1 one"]
    assert migrations.apply(database, store(first, second)) == ["applied migration 2 two"]
    assert recorded(database) == [(1, "one"), (2, "two")]


def test_a_failing_migration_leaves_nothing_half_applied(database):
    good = Migration(1, "good", "CREATE TABLE a (x)")
    broken = Migration(2, "broken", "CREATE TABLE b (x); CREATE TABLE c (x); CREATE TABLE b (y)")
    with pytest.raises(StoreError):
        migrations.apply(database, store(good, broken))
    assert recorded(database) == [(1, "good")]
    assert "b" not in tables(database) and "c" not in tables(database)
    assert not database.in_transaction
    fixed = Migration(2, "fixed", "CREATE TABLE b (x)")
    assert migrations.apply(database, store(good, fixed)) == ["applied migration 2 fixed"]


def test_a_table_rebuild_runs_without_foreign_keys_and_checks_them_before_it_commits(database):
    parent = Migration(1, "parent", "CREATE TABLE p (id INTEGER PRIMARY KEY);"
                                    " CREATE TABLE c (p INTEGER REFERENCES p(id));"
                                    " INSERT INTO p VALUES (1); INSERT INTO c VALUES (1)")
    migrations.apply(database, store(parent))
    # Dropping the parent would cascade or fail with foreign keys on; the check finds the orphan.
    orphaning = Migration(2, "orphaning", "CREATE TABLE p2 (id INTEGER PRIMARY KEY);"
                                          " DROP TABLE p; ALTER TABLE p2 RENAME TO p",
                          rebuilds_tables=True)
    with pytest.raises(StoreError, match="broke a foreign key"):
        migrations.apply(database, store(parent, orphaning))
    assert recorded(database) == [(1, "parent")]
    rebuild = Migration(2, "rebuild", "CREATE TABLE p2 (id INTEGER PRIMARY KEY, n INTEGER);"
                                      " INSERT INTO p2 (id) SELECT id FROM p;"
                                      " DROP TABLE p; ALTER TABLE p2 RENAME TO p",
                        rebuilds_tables=True)
    migrations.apply(database, store(parent, rebuild))
    assert database.all("SELECT p FROM c")[0][0] == 1
    assert database.one("PRAGMA foreign_keys")[0] == 1


def test_comments_and_semicolons_are_handled(database):
    script = """
        CREATE TABLE a (
            x TEXT  -- a comment; with a semicolon
        );
        -- a whole-line comment
        CREATE TABLE b (y);
    """
    migrations.apply(database, store(Migration(1, "commented", script)))
    assert {"a", "b"} <= tables(database)


def test_a_migration_another_process_applied_meanwhile_is_skipped(tmp_path, monkeypatch):
    # Two workers opening a new store at once: both look, one applies, then the other must
    # neither fail on "table already exists" nor record the migration twice.
    first = Database.open(tmp_path / "racy.db", KEY, create=True)
    second = Database.open(tmp_path / "racy.db", KEY)
    steps = store(Migration(1, "t", "CREATE TABLE t (a INTEGER)"))
    real_all = Database.all

    def looked_before(self, sql, parameters=()):
        if self is second and sql.startswith("SELECT number FROM store_migrations"):
            migrations.apply(first, steps)            # the other one wins the race here
            return []
        return real_all(self, sql, parameters)

    monkeypatch.setattr(Database, "all", looked_before)
    assert migrations.apply(second, steps) == []
    monkeypatch.undo()
    assert recorded(second) == [(1, "t")]
    first.close()
    second.close()


def test_a_store_of_a_newer_version_is_refused(database):
    migrations.apply(database, schema.RATES)
    database.execute("INSERT INTO store_migrations VALUES (999, 'from_the_future', 0)")
    with pytest.raises(StoreError, match="newer version"):
        migrations.apply(database, schema.RATES)


def test_a_store_missing_migrations_is_refused_on_open(tmp_path):
    home = VaultHome(tmp_path / "var")
    home.initialise({})
    master = home.master_key({})
    data = Database.open(home.data_path, master.derive("data-store"))
    data.execute("DELETE FROM store_migrations WHERE number = ?", (schema.DATA.latest,))
    data.close()
    with pytest.raises(StoreError, match="run 'vrmvault init'"):
        home.open(master)


def test_initialise_makes_every_store_at_its_baseline_once(tmp_path):
    home = VaultHome(tmp_path / "var")
    first = home.initialise({})
    assert first.created_key and first.created_store
    assert first.migrations_applied == [
        f"{s.file}: applied migration {m.number} {m.name}" for s in schema.STORES
        for m in s.migrations]
    for wanted in schema.STORES:
        assert (home.root / wanted.file).exists()
    second = home.initialise({})
    assert not second.created_key and not second.created_store
    assert second.migrations_applied == []


# -- the stores of the pre-release history ---------------------------------------------------------
@pytest.mark.parametrize("wanted", schema.STORES, ids=lambda s: s.name)
def test_a_pre_release_store_is_taken_over_at_the_baseline(tmp_path, wanted):
    old = pre_release(tmp_path, wanted.name)
    assert migrations.pending(old, wanted) == list(wanted.migrations)
    with pytest.raises(StoreError, match="vrmvault init"):
        migrations.require_current(old, wanted)
    steps = migrations.apply(old, wanted)
    assert steps[0].startswith("upgraded from the migration tables of vrmvault b89e8db")
    assert recorded(old) == [(m.number, m.name) for m in wanted.migrations]
    assert steps[1:] == [f"applied migration {m.number} {m.name}" for m in wanted.migrations[1:]]
    assert not tables(old) & set(wanted.squashed.tables)
    fresh = Database.open(tmp_path / "fresh.db", KEY, create=True)
    migrations.apply(fresh, wanted)
    assert migrations.schema_of(old) == migrations.schema_of(fresh)
    assert tables(old) == tables(fresh)
    assert migrations.apply(old, wanted) == []
    fresh.close()
    old.close()


def test_the_comparison_of_schemas_sees_what_text_alone_would_miss(tmp_path):
    fresh = Database.open(tmp_path / "fresh.db", KEY, create=True)
    migrations.apply(fresh, replace(schema.DATA, migrations=schema.DATA.migrations[:1]))
    baseline = migrations.schema_of(fresh)
    assert baseline == migrations.baseline_schema(schema.DATA)
    fresh.execute("CREATE INDEX grants_by_purpose ON grants (purpose)")
    assert migrations.schema_of(fresh) - baseline == {
        ("index", "grants_by_purpose", "create index grants_by_purpose on grants(purpose)")}
    fresh.close()


def _lacks_the_last_consent_migration(db: Database) -> None:
    db.execute("DELETE FROM consent_migrations WHERE number = 3")


def _lacks_a_layer_table(db: Database) -> None:
    db.execute("DROP TABLE gateway_webhook_migrations")


def _records_an_unknown_migration(db: Database) -> None:
    db.execute("INSERT INTO gateway_migrations VALUES (4, 'from_a_branch', 0)")


def _has_a_bookkeeping_table_of_another_store(db: Database) -> None:
    db.execute("CREATE TABLE consent_migrations (number INTEGER PRIMARY KEY, name TEXT,"
               " applied_at INTEGER)")


def _was_changed_by_hand(db: Database) -> None:
    db.execute("CREATE INDEX grants_by_purpose ON grants (purpose)")


def _lost_a_table(db: Database) -> None:
    db.execute("DROP TABLE terms_receipts")


@pytest.mark.parametrize("change, error", [
    (_lacks_the_last_consent_migration, "older than b89e8db: it lacks consent_migrations 3"),
    (_lacks_a_layer_table, "older than b89e8db: it lacks gateway_webhook_migrations 1"),
    (_records_an_unknown_migration, "never had \\(gateway_migrations: 4 from_a_branch\\)"),
    (_was_changed_by_hand, "index grants_by_purpose should not be there"),
    (_lost_a_table, "table terms_receipts is missing"),
])
def test_a_data_store_not_exactly_at_b89e8db_is_refused_and_left_as_it_is(tmp_path, change,
                                                                           error):
    old = pre_release(tmp_path, "data")
    change(old)
    before = (migrations.schema_of(old), tables(old))
    with pytest.raises(StoreError, match=error):
        migrations.apply(old, schema.DATA)
    assert (migrations.schema_of(old), tables(old)) == before
    assert "store_migrations" not in tables(old)
    old.close()


def test_a_ledger_with_another_stores_bookkeeping_is_refused(tmp_path):
    old = pre_release(tmp_path, "ledger")
    _has_a_bookkeeping_table_of_another_store(old)
    with pytest.raises(StoreError, match="consent_migrations, which a ledger store"):
        migrations.apply(old, schema.LEDGER)
    old.close()


def test_a_store_with_tables_and_no_record_of_migrations_is_refused(database):
    database.execute("CREATE TABLE notes (body TEXT)")
    with pytest.raises(StoreError, match="not a vrmvault keys store"):
        migrations.apply(database, schema.KEYS)
    assert tables(database) == {"notes"}


def test_a_pre_release_home_is_not_opened_before_init(tmp_path):
    home = VaultHome(tmp_path / "var")
    home.initialise({})
    master = home.master_key({})
    for wanted in (schema.DATA, schema.KEYS):
        (home.root / wanted.file).unlink()
        pre_release_stores.create(home.root / wanted.file, master.derive(wanted.key_purpose),
                                  wanted.name).close()
    with pytest.raises(StoreError, match="run 'vrmvault init'"):
        home.open(master)
    report = home.initialise({})
    assert {step.split(":")[0] for step in report.migrations_applied} == {"data.db", "keys.db"}
    home.open(master).close()
