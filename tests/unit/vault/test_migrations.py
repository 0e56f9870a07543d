"""vault.migrations: numbered, recorded, each in its own transaction, applied once."""

from __future__ import annotations

import pytest

from vault import migrations
from vault.errors import StoreError
from vault.home import VaultHome
from vault.migrations import DATA_MIGRATIONS, KEY_MIGRATIONS, Migration
from vault.storage import ConstraintViolation, Database

KEY = bytes(range(32))


@pytest.fixture
def database(tmp_path):
    db = Database.open(tmp_path / "m.db", KEY, create=True)
    yield db
    db.close()


def recorded(db: Database) -> list[tuple[int, str]]:
    return [(r["number"], r["name"])
            for r in db.all("SELECT number, name FROM schema_migrations ORDER BY number")]


def tables(db: Database) -> set[str]:
    return {r["name"] for r in db.all("SELECT name FROM sqlite_master WHERE type = 'table'")}


@pytest.mark.parametrize("wanted", [DATA_MIGRATIONS, KEY_MIGRATIONS], ids=["data", "keys"])
def test_applying_twice_applies_nothing_the_second_time(database, wanted):
    assert migrations.pending(database, wanted) == list(wanted)
    assert migrations.apply(database, wanted) == list(wanted)
    assert migrations.pending(database, wanted) == []
    assert migrations.apply(database, wanted) == []
    assert recorded(database) == [(m.number, m.name) for m in wanted]


def test_schema_migrations_records_every_migration(vault):
    assert recorded(vault.data) == [(m.number, m.name) for m in DATA_MIGRATIONS]
    assert recorded(vault.keys_database) == [(m.number, m.name) for m in KEY_MIGRATIONS]
    assert migrations.apply(vault.data, DATA_MIGRATIONS) == []


def test_the_data_and_key_schemas(database, tmp_path):
    migrations.apply(database, DATA_MIGRATIONS)
    assert {"members", "brands", "profile_values", "feedback", "web_sessions",
            "login_throttle", "erasures", "schema_migrations"} <= tables(database)
    assert "member_keys" not in tables(database)
    keys = Database.open(tmp_path / "k.db", KEY, create=True)
    migrations.apply(keys, KEY_MIGRATIONS)
    assert {"member_keys", "erased_members"} <= tables(keys)
    keys.close()


def test_numbers_are_unique_and_increasing():
    for wanted in (DATA_MIGRATIONS, KEY_MIGRATIONS):
        numbers = [m.number for m in wanted]
        assert numbers == sorted(set(numbers)) and numbers[0] == 1
        assert len({m.name for m in wanted}) == len(wanted)


def test_migrations_apply_in_number_order_and_only_missing_ones(database):
    first = Migration(1, "one", "CREATE TABLE a (x)")
    second = Migration(2, "two", "CREATE TABLE b (x REFERENCES a)")
    assert migrations.apply(database, (first,)) == [first]
    assert migrations.apply(database, (second, first)) == [second]
    assert recorded(database) == [(1, "one"), (2, "two")]


def test_a_failing_migration_leaves_nothing_half_applied(database):
    good = Migration(1, "good", "CREATE TABLE a (x)")
    broken = Migration(2, "broken", "CREATE TABLE b (x); CREATE TABLE c (x); CREATE TABLE b (y)")
    with pytest.raises(StoreError):
        migrations.apply(database, (good, broken))
    assert recorded(database) == [(1, "good")]
    assert "b" not in tables(database) and "c" not in tables(database)
    assert not database.in_transaction
    fixed = Migration(2, "fixed", "CREATE TABLE b (x)")
    assert migrations.apply(database, (good, fixed)) == [fixed]


def test_comments_and_semicolons_are_handled(database):
    script = """
        CREATE TABLE a (
            x TEXT  -- a comment; with a semicolon
        );
        -- a whole-line comment
        CREATE TABLE b (y);
    """
    migrations.apply(database, (Migration(1, "commented", script),))
    assert {"a", "b"} <= tables(database)


def test_a_store_missing_migrations_is_refused_on_open(tmp_path):
    home = VaultHome(tmp_path / "var")
    home.initialise({})
    master = home.master_key({})
    data = Database.open(home.data_path, master.derive("data-store"))
    data.execute("DELETE FROM schema_migrations WHERE number = ?", (DATA_MIGRATIONS[-1].number,))
    data.close()
    with pytest.raises(StoreError, match="migrations"):
        home.open(master)


def test_initialise_applies_everything_once(tmp_path):
    home = VaultHome(tmp_path / "var")
    first = home.initialise({})
    assert first.created_key and first.created_store
    assert first.migrations_applied == [m.name for m in DATA_MIGRATIONS + KEY_MIGRATIONS]
    second = home.initialise({})
    assert not second.created_key and not second.created_store
    assert second.migrations_applied == []


def test_migration_3_moves_feedback_to_integer_member_keys_without_losing_anything(
        tmp_path, clock):
    """A store made before migration 3, with sealed data, comes through it readable."""
    from vault import migrations as m
    from vault.home import VaultHome
    from vault.keys import KeyStore
    from vault.sealing import associated_data
    from vault.sqlcipher.keys import SqlcipherMemberKeys
    from vault.storage import Database

    home = VaultHome(tmp_path / "var")
    home.initialise({})
    master = home.master_key({})
    # Rebuild the data store as it was at migration 2.
    home.data_path.unlink()
    data = Database.open(home.data_path, master.derive("data-store"), create=True)
    m.apply(data, m.DATA_MIGRATIONS[:2])
    key_database = Database.open(home.keys_path, master.derive("key-store"))
    keys = KeyStore(SqlcipherMemberKeys(key_database), master.derive("kek"))
    members = ["a" * 32, "b" * 32]
    data.execute("INSERT INTO brands (id, name, created_at) VALUES ('brand_x', 'X', 0)")
    for n, member in enumerate(members):
        cipher = keys.create(member)
        data.execute(
            "INSERT INTO members (id, email_index, email_sealed, password_hash, created_at)"
            " VALUES (?, ?, ?, 'h', ?)", (member, bytes([n]) * 32, b"sealed", n))
        for entry in range(3):
            entry_id = n * 10 + entry + 1
            comment = cipher.seal(associated_data(member, "feedback", entry_id, "comment"),
                                  f"comment {entry_id}".encode())
            data.execute(
                "INSERT INTO feedback (id, member_id, brand_id, touchpoint, rating, nps,"
                " comment_sealed, occurred_on, updated_at)"
                " VALUES (?, ?, 'brand_x', 'usage', 4, NULL, ?, '2026-01-01', 0)",
                (entry_id, member, comment))
    data.close()
    key_database.close()

    applied = m.apply(Database.open(home.data_path, master.derive("data-store")),
                      m.DATA_MIGRATIONS)

    assert [x.number for x in applied] == [3, 4, 5, 6]   # 4: member roles, then later ones
    with home.open(clock=clock) as vault:
        for n, member in enumerate(members):
            entries = vault.feedback.for_member(member)
            assert sorted(e.comment for e in entries) == [
                f"comment {n * 10 + i + 1}" for i in range(3)]
        assert vault.data.one("PRAGMA foreign_keys")[0] == 1
        assert vault.data.all("PRAGMA foreign_key_check") == []
        # New ids continue after the old ones: sqlite_sequence came along.
        new = vault.feedback.add(members[0], {"brand_id": "brand_x", "touchpoint": "usage",
                                              "rating": 5})
        assert new == 14


def test_migration_4_makes_every_existing_account_a_member(tmp_path):
    """A store made before migration 4 keeps its accounts, each with the member role."""
    home = VaultHome(tmp_path / "var")
    home.initialise({})
    master = home.master_key({})
    home.data_path.unlink()
    data = Database.open(home.data_path, master.derive("data-store"), create=True)
    migrations.apply(data, DATA_MIGRATIONS[:3])
    for n in range(2):
        data.execute("INSERT INTO members (id, email_index, email_sealed, password_hash,"
                     " created_at) VALUES (?, ?, x'00', 'h', 0)", (str(n) * 32, bytes([n]) * 32))

    applied = migrations.apply(data, DATA_MIGRATIONS)

    assert [m.name for m in applied] == ["member_roles", "erasure_intents", "account_recovery"]
    assert [r["role"] for r in data.all("SELECT role FROM members ORDER BY num")] == [
        "member", "member"]
    with pytest.raises(ConstraintViolation):
        data.execute("UPDATE members SET role = 'root'")
    data.close()


def test_a_migration_another_process_applied_meanwhile_is_skipped(tmp_path, monkeypatch):
    # Two workers opening a new store at once: both look, one applies, then the other must
    # neither fail on "table already exists" nor record the migration twice.
    key = b"k" * 32
    first = Database.open(tmp_path / "racy.db", key, create=True)
    second = Database.open(tmp_path / "racy.db", key)
    steps = (Migration(1, "t", "CREATE TABLE t (a INTEGER)"),)
    migrations.apply(second, ())                      # its table of migrations, empty
    real_all = Database.all

    def looked_before(self, sql, parameters=()):
        if self is second and sql.startswith("SELECT number FROM"):
            migrations.apply(first, steps)            # the other one wins the race here
            return []
        return real_all(self, sql, parameters)

    monkeypatch.setattr(Database, "all", looked_before)
    assert migrations.apply(second, steps) == []
    monkeypatch.undo()
    assert recorded(second) == [(1, "t")]
    first.close()
    second.close()


def test_migration_6_adds_the_recovery_tables_to_a_store_with_accounts(tmp_path):
    """A store made before migration 6 keeps its accounts; reset links and recovery codes are
    member-owned (they go with the account), pending sign-ups and request counts are not."""
    home = VaultHome(tmp_path / "var")
    home.initialise({})
    master = home.master_key({})
    home.data_path.unlink()
    data = Database.open(home.data_path, master.derive("data-store"), create=True)
    migrations.apply(data, DATA_MIGRATIONS[:5])
    data.execute("INSERT INTO members (id, email_index, email_sealed, password_hash,"
                 " created_at) VALUES (?, ?, x'00', 'h', 0)", ("a" * 32, b"i" * 32))

    applied = migrations.apply(data, DATA_MIGRATIONS)

    assert [m.name for m in applied][:1] == ["account_recovery"]
    owned = {table for table in ("password_resets", "totp_recovery_codes", "signup_requests",
                                 "request_limits")
             if any(row["table"] == "members" for row in
                    data.all(f"PRAGMA foreign_key_list({table})"))}
    assert owned == {"password_resets", "totp_recovery_codes"}
    data.execute("INSERT INTO totp_recovery_codes (member_id, code_hash, created_at)"
                 " VALUES (?, x'01', 0)", ("a" * 32,))
    data.execute("DELETE FROM members")
    assert data.one("SELECT count(*) FROM totp_recovery_codes")[0] == 0
