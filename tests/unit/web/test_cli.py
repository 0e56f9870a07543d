"""The vrmvault command line, through click's runner: output, exit codes, files it makes."""

from __future__ import annotations

import base64
import json
import re
import socket
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from brand_gateway.storage import authorization_store, client_registry
from tests.conftest import GOOD_PASSWORD, POSTGRESQL_MASTER_KEY, TEST_HASHING, free_port
from vault.errors import StoreError
from vault.home import VaultHome
from vault.sqlcipher.database import Database
from web.cli import main
from web.config import CONFIGURATION_ERROR_EXIT

RUNNER = CliRunner()


def run(*args: str, env: dict[str, str] | None = None, input: str | None = None):
    return RUNNER.invoke(main, list(args), env={"VRMVAULT_MASTER_KEY": "", **(env or {})},
                         input=input, catch_exceptions=False)


def test_init_creates_two_encrypted_stores_and_a_private_key_file(tmp_path: Path) -> None:
    result = run("--home", str(tmp_path / "var"), "init")
    assert result.exit_code == 0, result.output
    home = VaultHome(tmp_path / "var")
    assert "Created an encrypted store" in result.output
    for path in (home.data_path, home.keys_path):
        assert path.read_bytes()[:16] != b"SQLite format 3\x00"
    assert stat.S_IMODE(home.key_file.stat().st_mode) == 0o600
    # The key itself is never printed.
    assert home.key_file.read_text().strip() not in result.output


def test_init_makes_the_home_private_even_under_a_lax_umask(tmp_path: Path) -> None:
    import os
    old = os.umask(0o002)
    try:
        result = run("--home", str(tmp_path / "var"), "init")
    finally:
        os.umask(old)
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE((tmp_path / "var").stat().st_mode) == 0o700
    assert "made" not in result.output          # new: nothing to tighten, nothing to say


@pytest.mark.parametrize("command", ["init", "serve"])
def test_init_and_serve_tighten_an_existing_home_open_to_others(tmp_path: Path, monkeypatch,
                                                                  command: str) -> None:
    home = tmp_path / "var"
    run("--home", str(home), "init")
    home.chmod(0o755)                    # a home others may list, as an older init made
    served = []
    monkeypatch.setattr("web.server.run", lambda **kwargs: served.append(kwargs))
    result = run("--home", str(home), command,
                 *(("--port", str(free_port())) if command == "serve" else ()))
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert f"made {home} private (mode 0700)" in result.output
    assert served or command == "init"


def test_serve_on_a_port_in_use_says_so_in_one_line_and_starts_nothing(
        tmp_path: Path, monkeypatch) -> None:
    home = tmp_path / "var"
    run("--home", str(home), "init")
    served = []
    monkeypatch.setattr("web.server.run", lambda **kwargs: served.append(kwargs))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run("--home", str(home), "serve", "--port", str(port))
    assert result.exit_code == 1 and not served
    assert result.output.strip().splitlines() == [
        f"error: cannot serve on 127.0.0.1:{port}: something else is listening there; choose"
        " another port with --port (make run PORT=...)"]


def test_init_twice_is_harmless_and_says_so(tmp_path: Path) -> None:
    run("--home", str(tmp_path / "var"), "init")
    key = (tmp_path / "var" / "master.key").read_text()
    result = run("--home", str(tmp_path / "var"), "init")
    assert result.exit_code == 0
    assert "is ready" in result.output
    assert (tmp_path / "var" / "master.key").read_text() == key


def test_init_with_the_master_key_in_the_environment_writes_no_key_file(tmp_path: Path) -> None:
    key = "ab" * 32
    result = run("--home", str(tmp_path / "var"), "init", env={"VRMVAULT_MASTER_KEY": key})
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "var" / "master.key").exists()
    assert key not in result.output
    # And a different key cannot open what was made.
    result = run("--home", str(tmp_path / "var"), "init", env={"VRMVAULT_MASTER_KEY": "cd" * 32})
    assert result.exit_code == 1
    assert "does not open the store" in result.output


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("not-hex" + "0" * 57, "has characters that are not hexadecimal digits"),
        ("ab" * 16, "has 32 characters, not 64"),
    ],
)
def test_a_malformed_master_key_is_a_clear_error_that_never_shows_it(
        tmp_path: Path, key: str, message: str) -> None:
    result = run("--home", str(tmp_path / "var"), "init", env={"VRMVAULT_MASTER_KEY": key})
    assert result.exit_code == CONFIGURATION_ERROR_EXIT
    assert result.stderr == ("error: VRMVAULT_MASTER_KEY (its value is not shown) "
                             f"{message}; expected 64 hexadecimal digits (32 bytes), or unset "
                             "to use the home's master.key\n")
    assert key not in result.output
    assert not (tmp_path / "var").exists()


# Each malformed setting: one line on stderr naming the variable, the value's problem and what
# is expected; nothing written, no usage banner, the configuration exit status.
MALFORMED_SETTINGS = [
    ("VRMVAULT_SESSION_IDLE", "abc",
     "VRMVAULT_SESSION_IDLE='abc' is not a whole number; expected a whole number of seconds"
     " from 1 to 31622400 (366 days)"),
    ("VRMVAULT_SESSION_ABSOLUTE", "0", "VRMVAULT_SESSION_ABSOLUTE='0' is below 1;"),
    # Shorter than the idle limit (1800 s by default), which would then never apply.
    ("VRMVAULT_SESSION_ABSOLUTE", "600",
     "VRMVAULT_SESSION_IDLE=1800 is more than VRMVAULT_SESSION_ABSOLUTE=600, after which every"
     " session ends anyway; expected a whole number of seconds"),
    ("VRMVAULT_ARGON2_MEMORY_KIB", "1000",
     "VRMVAULT_ARGON2_MEMORY_KIB='1000' is below 19456; expected a whole number of KiB, at"
     " least 19456 (the OWASP/ASVS minimum)"),
    ("VRMVAULT_ARGON2_TIME_COST", "1",
     "VRMVAULT_ARGON2_TIME_COST='1' is below 2; expected a whole number of iterations, at"
     " least 2 (the OWASP/ASVS minimum)"),
    ("VRMVAULT_ARGON2_PARALLELISM", "0", "VRMVAULT_ARGON2_PARALLELISM='0' is below 1;"),
    ("VRMVAULT_TRUST_PROXY", "-1", "VRMVAULT_TRUST_PROXY='-1' is below 0;"),
    ("VRMVAULT_CACHE_KIB", "lots", "VRMVAULT_CACHE_KIB='lots' is not a whole number;"),
    ("VRMVAULT_API_RATE_LIMIT", "1.5", "VRMVAULT_API_RATE_LIMIT='1.5' is not a whole number;"),
    ("VRMVAULT_CHECKPOINT_INTERVAL", "99999999999",
     "VRMVAULT_CHECKPOINT_INTERVAL='99999999999' is above 31622400;"),
    ("VRMVAULT_PUBLIC_URL", "ftp://vault.example",
     "VRMVAULT_PUBLIC_URL='ftp://vault.example' is not an http:// or https:// URL"),
    ("VRMVAULT_MAIL_FROM", "no-reply", "VRMVAULT_MAIL_FROM='no-reply' is not one address"),
    ("VRMVAULT_WEBHOOK_ALLOW_LOOPBACK", "maybe",
     "VRMVAULT_WEBHOOK_ALLOW_LOOPBACK='maybe' is not a yes/no value;"),
    ("VRMVAULT_API_RATE_LIMIT", "9" * 5000,
     f"VRMVAULT_API_RATE_LIMIT='{'9' * 80}'… is above 1000000000;"),
    ("VRMVAULT_CACHE_KIB", "١٢", "VRMVAULT_CACHE_KIB='١٢' is not a whole number;"),
    ("VRMVAULT_SESSION_IDLE", "-" + "0" * 5000, "VRMVAULT_SESSION_IDLE='-000"),
    ("VRMVAULT_SMTP_URL", "smtp://user:s3cret@mail.example:port",
     "VRMVAULT_SMTP_URL (its value is not shown) is not an SMTP URL;"),
]


@pytest.mark.parametrize("command", ["init", "serve"])
@pytest.mark.parametrize(("variable", "value", "message"), MALFORMED_SETTINGS,
                         ids=[row[0] for row in MALFORMED_SETTINGS])
def test_a_malformed_setting_is_refused_before_anything_is_written_or_served(
        tmp_path: Path, monkeypatch, command: str, variable: str, value: str,
        message: str) -> None:
    served = []
    monkeypatch.setattr("web.server.run", lambda **kwargs: served.append(kwargs))
    result = run("--home", str(tmp_path / "var"), command, env={variable: value})
    assert result.exit_code == CONFIGURATION_ERROR_EXIT
    assert result.stdout == ""
    assert result.stderr.startswith(f"error: {message}")
    assert result.stderr.count("\n") == 1 and "Usage" not in result.stderr
    assert "s3cret" not in result.output
    assert not (tmp_path / "var").exists() and not served


def test_a_home_that_is_a_file_is_refused(tmp_path: Path) -> None:
    file = tmp_path / "notes.txt"
    file.write_text("not a folder")
    result = run("init", env={"VRMVAULT_HOME": str(file)})
    assert result.exit_code == CONFIGURATION_ERROR_EXIT
    # The value is shown as given, cut at 80 characters (a temporary path may be longer).
    shown = f"{str(file)[:80]!r}" + ("…" if len(str(file)) > 80 else "")
    assert result.stderr == (f"error: VRMVAULT_HOME={shown} names a file, not a folder;"
                             " expected the path of a folder (made by 'vrmvault init' if it"
                             " does not exist)\n")


@pytest.mark.parametrize("value", [" ", "var ", " var", "var\t"])
def test_a_home_with_a_space_at_its_start_or_end_is_refused(tmp_path: Path, monkeypatch,
                                                             value: str) -> None:
    """A stray space in an environment file would make a new, empty vault beside the one
    meant (and serve it)."""
    monkeypatch.chdir(tmp_path)
    result = run("init", env={"VRMVAULT_HOME": value})
    assert result.exit_code == CONFIGURATION_ERROR_EXIT
    assert result.stderr.startswith(f"error: VRMVAULT_HOME={value!r} starts or ends with a"
                                    " space")
    assert list(tmp_path.iterdir()) == []


def test_argon2_lanes_need_8_kib_of_memory_each(tmp_path: Path) -> None:
    result = run("--home", str(tmp_path / "var"), "init",
                 env={"VRMVAULT_ARGON2_MEMORY_KIB": "19456", "VRMVAULT_ARGON2_PARALLELISM": "4000"})
    assert result.exit_code == CONFIGURATION_ERROR_EXIT
    assert result.stderr.startswith("error: VRMVAULT_ARGON2_PARALLELISM=4000 is more than"
                                    " VRMVAULT_ARGON2_MEMORY_KIB / 8")


def test_the_configuration_minimum_is_the_hashers_minimum() -> None:
    from vault.passwords import ASVS_MIN_MEMORY_KIB, ASVS_MIN_TIME_COST, HashingCost
    from web.config import from_environment

    lowest = from_environment({"VRMVAULT_ARGON2_MEMORY_KIB": str(ASVS_MIN_MEMORY_KIB),
                               "VRMVAULT_ARGON2_TIME_COST": str(ASVS_MIN_TIME_COST)})
    HashingCost(time_cost=lowest["VRMVAULT_ARGON2_TIME_COST"],
                memory_kib=lowest["VRMVAULT_ARGON2_MEMORY_KIB"], parallelism=1)


def test_commands_on_a_missing_store_fail_clearly(tmp_path: Path) -> None:
    for args in (["demo", "--members", "1"], ["backup", str(tmp_path / "b.db")]):
        result = run("--home", str(tmp_path / "nothing"), *args)
        assert result.exit_code == 1, args
        assert "vrmvault init" in result.output


def test_a_readable_key_file_is_refused(tmp_path: Path) -> None:
    run("--home", str(tmp_path / "var"), "init")
    (tmp_path / "var" / "master.key").chmod(0o644)
    result = run("--home", str(tmp_path / "var"), "demo", "--members", "1")
    assert result.exit_code == 1
    assert "readable by others" in result.output


def test_demo_loads_members_and_says_how_to_sign_in(tmp_path: Path) -> None:
    result = run("--home", str(tmp_path / "var"), "init", "--demo", "30")
    assert result.exit_code == 0, result.output
    assert "Loaded 30 members" in result.output
    assert "open intents in 50 categories with" in result.output
    assert "the showcase member cast 3 of them and has 4 offers" in result.output
    assert "demo@vrmvault.example" in result.output
    with VaultHome(tmp_path / "var").open() as vault:
        assert vault.data.one("SELECT count(*) FROM members")[0] == 30 + 1   # the officer
    again = run("--home", str(tmp_path / "var"), "demo", "--members", "5")
    assert again.exit_code == 1
    assert "Traceback" not in again.output


def test_demo_registers_demo_brands_whose_credentials_work(tmp_path: Path) -> None:
    from brand_gateway.clients import ClientSecretHasher
    from demo.brand_clients import CREDENTIALS_FILE, DEMO_CLIENT_BRANDS, register_demo_clients

    result = run("--home", str(tmp_path / "var"), "init", "--demo", "5")
    assert result.exit_code == 0, result.output
    credentials_file = tmp_path / "var" / CREDENTIALS_FILE
    assert str(credentials_file) in result.output
    assert credentials_file.stat().st_mode & 0o777 == 0o600
    credentials = json.loads(credentials_file.read_text())
    assert [c["brand"] for c in credentials] == list(DEMO_CLIENT_BRANDS)
    with VaultHome(tmp_path / "var").open() as vault:
        registry = client_registry(database=vault.data, clock=vault.clock,
                                   hasher=ClientSecretHasher.from_master(vault.master))
        for entry in credentials:
            client = registry.authenticate(entry["client_id"], entry["client_secret"])
            assert client.brand_name == entry["brand"]     # the demo brand itself, not a copy
            assert client.redirect_uris == (entry["redirect_uri"],)
        assert vault.data.one("SELECT count(*) FROM brands WHERE name = ?",
                              (DEMO_CLIENT_BRANDS[0],))[0] == 1
        # Running it again rotates the secrets: the old ones stop working.
        register_demo_clients(vault, tmp_path / "var")
        rotated = json.loads(credentials_file.read_text())
        assert [c["client_id"] for c in rotated] == [c["client_id"] for c in credentials]
        with pytest.raises(Exception, match="authentication"):
            registry.authenticate(credentials[0]["client_id"], credentials[0]["client_secret"])


def test_backup_and_restore_round_trip(tmp_path: Path) -> None:
    home = tmp_path / "var"
    run("--home", str(home), "init", "--demo", "3")
    target = tmp_path / "backup.db"
    result = run("--home", str(home), "backup", str(target))
    assert result.exit_code == 0, result.output
    assert target.read_bytes()[:16] != b"SQLite format 3\x00"
    assert run("--home", str(home), "backup", str(target)).exit_code == 1  # never overwrites
    result = run("--home", str(home), "restore", str(target), input="n\n")
    assert result.exit_code == 1  # declined at the prompt
    result = run("--home", str(home), "restore", str(target), "--yes")
    assert result.exit_code == 0, result.output
    assert "re-applied 0 erasures" in result.output


def test_consent_expire_records_each_ended_grant_once(tmp_path: Path) -> None:
    import time

    from consent.context import open_consent
    from consent.grants import BrandRequest
    from tests.conftest import GOOD_PASSWORD
    from vault.clock import FrozenClock

    home_dir = tmp_path / "var"
    run("--home", str(home_dir), "init")
    home = VaultHome(home_dir)
    ten_days_ago = FrozenClock(time.time() - 10 * 86400)
    with home.open(clock=ten_days_ago) as vault:
        consent = open_consent(vault, home)
        brand = vault.brands.add("Velo Bikes")
        member = vault.members.register("erin@example.org", GOOD_PASSWORD)
        consent.terms.update(member, agreement="SD-BASE", purposes=["dpv:ServiceProvision"],
                             max_days=30, aggregate_allowed=False)
        offer = consent.agreements.proffer(member, brand.id)
        consent.agreements.brand_accepts(offer.id, brand.id)
        consent.grants.grant(member, BrandRequest(brand.id, "dpv:ServiceProvision",
                                                  frozenset({"city"}), days=1))
        consent.close()

    first = run("--home", str(home_dir), "consent", "expire")
    second = run("--home", str(home_dir), "consent", "expire")

    assert first.exit_code == 0 and "expiry of 1 grants" in first.output
    assert "expiry of 0 grants" in second.output
    with home.open() as vault:
        events = [r["event"] for r in vault.data.all("SELECT event FROM receipts")]
    assert events == ["given", "expired"]


def test_consent_expire_records_each_authorization_past_its_absolute_end_once(
        tmp_path: Path) -> None:
    import time

    from brand_gateway.authorizations import FAMILY_LIFETIME
    from brand_gateway.clients import ClientSecretHasher
    from consent.context import open_consent
    from consent.grants import BrandRequest
    from tests.conftest import GOOD_PASSWORD
    from vault.clock import FrozenClock

    home_dir = tmp_path / "var"
    run("--home", str(home_dir), "init")
    home = VaultHome(home_dir)
    then = FrozenClock(time.time() - FAMILY_LIFETIME - 86400)   # approved 31 days ago
    with home.open(clock=then) as vault:
        consent = open_consent(vault, home)
        client, _ = client_registry(database=vault.data, clock=then,
                                    hasher=ClientSecretHasher.from_master(vault.master)
                                    ).create("Velo Bikes", ["https://velo.example/cb"])
        member = vault.members.register("erin@example.org", GOOD_PASSWORD)
        consent.terms.update(member, agreement="SD-BASE", purposes=["dpv:ServiceProvision"],
                             max_days=90, aggregate_allowed=False)
        offer = consent.agreements.proffer(member, client.brand_id)
        consent.agreements.brand_accepts(offer.id, client.brand_id)
        grant, _ = consent.grants.grant(member, BrandRequest(
            client.brand_id, "dpv:ServiceProvision", frozenset({"city"}), days=90))
        authorization_store(database=vault.data, clock=then).create_family(
            client_id=client.client_id, member_id=member, grant_ids=[grant.id],
            authorization_details=[{"grant_id": grant.id}], grants_end=grant.ends_at)
        consent.close()

    first = run("--home", str(home_dir), "consent", "expire")
    second = run("--home", str(home_dir), "consent", "expire")

    assert first.exit_code == 0, first.output
    assert "expiry of 0 grants and the end of 1 authorizations" in first.output
    assert "the end of 0 authorizations" in second.output
    with home.open() as vault:
        events = [r["event"] for r in vault.data.all("SELECT event FROM receipts")]
        reason = vault.data.one("SELECT access_ended FROM grants")[0]
    assert events == ["given", "access-ended"] and reason == "authorization-expired"


def test_a_second_init_keeps_the_store_says_so_and_how_to_sign_in_to_the_demo(
        tmp_path: Path) -> None:
    first = run("--home", str(tmp_path / "var"), "init", "--demo", "1")
    # One member, one of each: counts and nouns agree.
    assert "Loaded 1 member with " in first.output and "from 1 member to" in first.output
    again = run("--home", str(tmp_path / "var"), "init", "--demo", "200")
    assert again.exit_code == 0, again.output
    assert ("kept the existing store as it is: --demo 200 loads demo members into a new store"
            " only (use another --home for a fresh store)") in again.output
    assert ("Sign in as demo@vrmvault.example with the password: guided vault tour 2026"
            in again.output)
    with VaultHome(tmp_path / "var").open() as vault:
        assert vault.data.one("SELECT count(*) FROM members")[0] == 1 + 1   # and the officer


def test_a_second_init_on_a_store_without_the_demo_says_how_to_add_it(tmp_path: Path) -> None:
    run("--home", str(tmp_path / "var"), "init")
    again = run("--home", str(tmp_path / "var"), "init", "--demo", "3")
    assert "--demo 3 loads demo members into a new store only ('vrmvault demo --members 3'" \
        " adds them to this one)" in again.output
    assert "Sign in as" not in again.output
    plain = run("--home", str(tmp_path / "var"), "init")
    assert "kept the existing store" not in plain.output


def test_a_second_init_on_postgresql_points_at_new_databases_not_another_home(
        postgresql_home: VaultHome, tmp_path: Path) -> None:
    """Every home uses the databases the URLs name: another --home is the same store."""
    from demo.members import SHOWCASE_EMAIL

    with postgresql_home.open(hashing=TEST_HASHING) as vault:
        vault.members.register(SHOWCASE_EMAIL, GOOD_PASSWORD)   # what the demo made
    again = run("--home", str(tmp_path / "h2"), "init", "--demo", "5",
                env={"VRMVAULT_MASTER_KEY": POSTGRESQL_MASTER_KEY})
    assert again.exit_code == 0, again.output
    assert ("kept the existing store as it is: --demo 5 loads demo members into a new store"
            " only (point VRMVAULT_DATABASE_URL and VRMVAULT_KEYS_DATABASE_URL at new databases"
            " for a fresh store)") in again.output
    assert "--home" not in again.output


def test_restoring_what_is_not_a_backup_is_one_line_naming_the_file(tmp_path: Path,
                                                                      capfd) -> None:
    run("--home", str(tmp_path / "var"), "init")
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(bytes(range(256)) * 32)
    capfd.readouterr()
    result = run("--home", str(tmp_path / "var"), "restore", str(garbage), "--yes")
    assert result.exit_code == 1
    assert result.stderr == (f"error: {garbage} is not a backup of this vault: its master key"
                             " does not open it (or the file was cut short or changed)\n")
    # Nothing else on the process's own stderr either (SQLCipher writes there directly).
    assert capfd.readouterr().err == ""


def test_restoring_a_damaged_backup_is_one_line_and_keeps_the_store(tmp_path: Path,
                                                                    capfd) -> None:
    home = tmp_path / "var"
    run("--home", str(home), "init")
    backup = tmp_path / "backup.db"
    run("--home", str(home), "backup", str(backup))
    damaged = bytearray(backup.read_bytes())
    damaged[len(damaged) // 2] ^= 0x01
    backup.write_bytes(damaged)
    before = VaultHome(home).data_path.read_bytes()
    capfd.readouterr()
    result = run("--home", str(home), "restore", str(backup), "--yes")
    assert result.exit_code == 1
    assert re.fullmatch(rf"error: {re.escape(str(backup))} is damaged \(HMAC verification"
                        r" failed for page \d+\); nothing was restored: restore another"
                        r" backup\n", result.stderr), result.stderr
    assert capfd.readouterr().err == ""
    assert VaultHome(home).data_path.read_bytes() == before


def test_demo_prints_how_its_officer_signs_in_once(tmp_path: Path) -> None:
    import re

    import pyotp

    from vault.errors import SecondFactorRequiredError
    from vault.members import COMPLIANCE

    result = run("--home", str(tmp_path / "var"), "init", "--demo", "2")
    assert result.exit_code == 0, result.output
    found = re.search(r"sign in as (officer@vrmvault\.example) with the password: (\S+)\n"
                      r".*the secret ([A-Z2-7]{32}) ", result.output)
    assert found, result.output
    email, password, secret = found.groups()
    assert "\u2588" in result.output or "\u2580" in result.output      # the QR code's blocks
    with VaultHome(tmp_path / "var").open() as vault:
        with pytest.raises(SecondFactorRequiredError) as step:
            vault.members.authenticate(email, password, client="192.0.2.1")
        officer = step.value.member_id
        assert vault.members.role(officer) == COMPLIANCE
        code = pyotp.TOTP(secret).at(vault.clock() + 30)     # the current one was spent
        assert vault.members.verify_totp(officer, code, client="192.0.2.1") == "totp"
    # Printed once: a second start says where it was printed, never the password again.
    again = run("--home", str(tmp_path / "var"), "init", "--demo", "2")
    assert password not in again.output and secret not in again.output
    assert "printed when the store was made" in again.output


@pytest.mark.parametrize(("options", "expected"), [
    ((), "http://127.0.0.1:8000"),
    (("--port", "8041"), "http://127.0.0.1:8041"),
    (("--host", "0.0.0.0", "--port", "8042"), "http://127.0.0.1:8042"),
])
def test_the_demo_receipts_name_where_the_store_will_be_served(
        tmp_path: Path, options: tuple[str, ...], expected: str) -> None:
    # `make run PORT=8041` serves on 8041: a receipt the demo signed must send the member to
    # withdraw there, not to the default's 8000.
    result = run("--home", str(tmp_path / "var"), "init", "--demo", "3", *options)
    assert result.exit_code == 0, result.output
    with VaultHome(tmp_path / "var").open() as vault:
        tokens = [row[0] for row in vault.data.all("SELECT token FROM receipts")]
    assert tokens
    for token in tokens:
        payload = base64.urlsafe_b64decode(token.split(".")[1] + "==").decode()
        assert f'"{expected}/member/consents"' in payload       # where to withdraw
        assert set(re.findall(r"http://127\.0\.0\.1:\d+", payload)) == {expected}


@pytest.mark.parametrize("host", ["a/b", "vault host", "vault_1"])
@pytest.mark.parametrize("command", ["init", "serve"])
def test_a_host_that_makes_no_public_url_is_a_usage_error_not_a_traceback(
        tmp_path: Path, monkeypatch, command: str, host: str) -> None:
    served = []
    monkeypatch.setattr("web.server.run", lambda **kwargs: served.append(kwargs))
    result = RUNNER.invoke(main, ["--home", str(tmp_path / "var"), command, "--host", host],
                           env={"VRMVAULT_MASTER_KEY": "", "VRMVAULT_PUBLIC_URL": ""})
    assert result.exit_code == 2, result.output
    assert "Invalid value for '--host'" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not (tmp_path / "var").exists() and not served


def _erased_member_notices(home: Path) -> list[str]:
    """The member.erased webhooks waiting in the outbox: each one's client."""
    with VaultHome(home).open() as vault:
        return sorted(row[0] for row in vault.data.all(
            "SELECT client_id FROM webhook_outbox WHERE event_type = 'member.erased'"
            " AND status = 'pending'"))


@pytest.mark.parametrize("how", ["restore", "reapply-erasures"])
def test_a_restore_older_than_an_erasure_tells_the_brands_of_it_again(tmp_path: Path,
                                                                      how: str) -> None:
    """The backup lacks the member.erased webhooks the erasure queued (GDPR Art. 19): were
    they still waiting (the brand's endpoint down), a restore would drop them for good."""
    from brand_gateway.observers import erasure_hook
    from demo.members import SHOWCASE_EMAIL

    home = tmp_path / "var"
    assert run("--home", str(home), "init", "--demo", "3").exit_code == 0
    with VaultHome(home).open() as vault:
        clients = [row[0] for row in vault.data.all("SELECT client_id FROM oauth_clients")]
    for client_id in clients:
        added = run("--home", str(home), "webhooks", "add", client_id, "http://127.0.0.1:9/")
        assert added.exit_code == 0, added.output
    backup = tmp_path / "before.db"
    assert run("--home", str(home), "backup", str(backup)).exit_code == 0
    with VaultHome(home).open() as vault:
        showcase = vault.members.find(SHOWCASE_EMAIL)
        assert showcase is not None
        vault.erasure.before_delete.append(erasure_hook(vault.data, vault.master))
        vault.erasure.erase(showcase)
    told = _erased_member_notices(home)
    assert told                                # the brands the showcase member shared with
    if how == "restore":
        result = run("--home", str(home), "restore", str(backup), "--yes")
        assert "re-applied 1 erasure (each brand that knew the member told again)" \
            in result.output
    else:                                      # the data store put back by hand, as pg_restore
        VaultHome(home).remove_wal_files(VaultHome(home).data_path)
        VaultHome(home).data_path.write_bytes(backup.read_bytes())
        result = run("--home", str(home), "reapply-erasures")
        assert "Deleted again the rows of 1 erased member" in result.output
    assert result.exit_code == 0, result.output
    assert _erased_member_notices(home) == told
    with VaultHome(home).open() as vault:
        assert vault.members.find(SHOWCASE_EMAIL) is None


@pytest.mark.parametrize("args", [("init",), ("brand", "list"), ("backup", "b.db")])
def test_a_home_that_belongs_to_another_user_is_refused_untouched(tmp_path: Path, monkeypatch,
                                                                   args: tuple[str, ...]) -> None:
    """Its owner may plant a master key they know, or a store they wrote, and loosen it again
    after init tightened it: a home someone else made beforehand (in /tmp, say) is theirs."""
    import os

    home = tmp_path / "var"
    run("--home", str(home), "init")
    home.chmod(0o777)
    monkeypatch.setattr(os, "geteuid", lambda: home.stat().st_uid + 1)    # another account
    monkeypatch.chdir(tmp_path)
    result = run("--home", str(home), *args)
    assert result.exit_code == 1, result.output
    assert result.stderr == (f"error: {home} belongs to another user (uid"
                             f" {home.stat().st_uid}); run vrmvault as the user that owns the"
                             " home, or give it a home of its own\n")
    assert stat.S_IMODE(home.stat().st_mode) == 0o777          # not tightened for its owner
    assert not (tmp_path / "b.db").exists()


def test_a_master_key_file_of_another_user_is_refused(tmp_path: Path, monkeypatch) -> None:
    import os

    home = tmp_path / "var"
    run("--home", str(home), "init")
    real = os.geteuid()
    key_file = home / "master.key"
    owner = key_file.stat().st_uid
    # The home is ours; the key file another account's (planted before init, say).
    monkeypatch.setattr(os, "geteuid", lambda: real + 1)
    monkeypatch.setattr(VaultHome, "_require_owned", lambda self: None, raising=False)
    result = run("--home", str(home), "brand", "list")
    assert result.exit_code == 1
    assert result.stderr == (f"error: {key_file} belongs to another user (uid {owner}); run"
                             " vrmvault as the user that owns the home\n")


@pytest.mark.parametrize("command", [("restore", "backup.db", "--yes"), ("reapply-erasures",)])
def test_what_replaces_the_store_is_refused_while_it_is_served(tmp_path: Path, monkeypatch,
                                                               command: tuple[str, ...]) -> None:
    """The workers' kept connections would go on reading and writing the replaced file (what
    members do meanwhile lost), and the WAL it removes under them."""
    home = tmp_path / "var"
    run("--home", str(home), "init")
    monkeypatch.chdir(tmp_path)
    assert run("--home", str(home), "backup", "backup.db").exit_code == 0
    before = VaultHome(home).data_path.read_bytes()
    outcomes = []

    def serving(**kwargs) -> None:          # what a second shell does while serve runs
        outcomes.append(run("--home", str(home), *command))

    monkeypatch.setattr("web.server.run", serving)
    served = run("--home", str(home), "serve", "--port", str(free_port()))
    assert served.exit_code == 0, served.output
    [refused] = outcomes
    assert refused.exit_code == 1
    assert refused.stderr == (f"error: 'vrmvault serve' is running on {home}: stop it first,"
                              f" then run 'vrmvault {command[0]}' again\n")
    assert VaultHome(home).data_path.read_bytes() == before
    # Once the server has stopped, it runs.
    assert run("--home", str(home), *command).exit_code == 0


def test_a_backup_damaged_where_its_schema_lies_is_told_by_page_and_quietly(
        tmp_path: Path, capfd) -> None:
    """A flipped bit in a page the schema needs failed the backup's opening itself, past its
    first page: told as "is damaged" with no page, and SQLCipher's own log lines went to the
    operator's terminal. It is told as any damaged page is."""
    home = tmp_path / "var"
    run("--home", str(home), "init")
    backup = tmp_path / "backup.db"
    run("--home", str(home), "backup", str(backup))
    sound, key = backup.read_bytes(), VaultHome(home).master_key().derive("data-store")
    damaged = tmp_path / "damaged.db"
    for page in range(1, len(sound) // 4096):      # the first page a schema read needs
        flipped = bytearray(sound)
        flipped[page * 4096 + 100] ^= 0x01
        damaged.write_bytes(flipped)
        try:
            Database.open(damaged, key).close()
        except StoreError:
            break
    else:
        pytest.fail("no page past the first is read to open the store")
    capfd.readouterr()
    result = run("--home", str(home), "restore", str(damaged), "--yes")
    assert result.exit_code == 1
    assert result.stderr == (f"error: {damaged} is damaged (HMAC verification failed for page"
                             f" {page + 1}); nothing was restored: restore another backup\n")
    assert capfd.readouterr().err == ""


@pytest.mark.parametrize(("target", "status", "told"), [
    ("", 2, "Invalid value for 'PATH': name the new file to write the backup to"),
    (".", 2, "Invalid value for 'PATH'"),
    ("missing/backup.db", 1, "error: cannot create the backup file missing/backup.db: No such"
                             " file or directory"),
])
def test_a_backup_target_that_cannot_be_a_new_file_is_told_why(
        tmp_path: Path, monkeypatch, target: str, status: int, told: str) -> None:
    run("--home", str(tmp_path / "var"), "init")
    monkeypatch.chdir(tmp_path)
    result = run("--home", str(tmp_path / "var"), "backup", target)
    assert result.exit_code == status
    assert told in result.stderr


@pytest.mark.parametrize("missing", ["keys.db", "data.db"])
@pytest.mark.parametrize("command", ["init", "serve"])
def test_init_never_makes_one_store_beside_the_other(tmp_path: Path, monkeypatch,
                                                     missing: str, command: str) -> None:
    """A new key store beside a data store holds no member's key: every member's data would
    be lost for good (a key store left behind in a move, say), under 'Created an encrypted
    store'. A new data store beside a key store is an empty vault where a restore was meant."""
    home = tmp_path / "var"
    run("--home", str(home), "init")
    (home / missing).unlink()
    monkeypatch.setattr("web.server.run", lambda **kwargs: pytest.fail("served"))
    before = sorted(path.name for path in home.iterdir())
    result = run("--home", str(home), command, "--port", str(free_port()))
    assert result.exit_code == 1
    told = ("holds a data store but no key store (keys.db)" if missing == "keys.db" else
            "holds a key store but no data store (data.db): put back a backup with"
            " 'vrmvault restore BACKUP'")
    assert result.stderr.startswith(f"error: {home} {told}"), result.stderr
    assert sorted(path.name for path in home.iterdir()) == before


@pytest.mark.parametrize("command", [("init",), ("serve",), ("ledger", "verify"),
                                     ("brand", "list")])
def test_a_lost_ledger_is_never_begun_again_unasked(tmp_path: Path, monkeypatch,
                                                     command: tuple[str, ...]) -> None:
    """A data store whose ledger.db went (deleted, left behind in a move) was served with a
    new, empty ledger, silently: the consent history, what a restore re-applies and the
    auditors' proofs begun again. Refused, with the way forward; 'init --new-ledger' is the
    operator's word that it is lost for good."""
    home = tmp_path / "var"
    run("--home", str(home), "init")
    (home / "ledger.db").unlink()
    monkeypatch.setattr("web.server.run", lambda **kwargs: pytest.fail("served"))
    before = sorted(path.name for path in home.iterdir())
    port = ("--port", str(free_port())) if command[0] in ("init", "serve") else ()
    result = run("--home", str(home), *command, *port)
    assert result.exit_code == 1
    assert result.stderr.startswith(
        f"error: {home} holds a data store but no ledger (ledger.db): put back its copy; if"
        " it is lost for good, 'vrmvault init --new-ledger' begins a new, empty one"), \
        result.stderr
    assert sorted(path.name for path in home.iterdir()) == before

    begun = run("--home", str(home), "init", "--new-ledger")
    assert begun.exit_code == 0, begun.stderr
    assert f"Began a new, empty ledger: {home / 'ledger.db'}" in begun.stdout
    assert run("--home", str(home), "ledger", "verify").exit_code == 0
    again = run("--home", str(home), "init", "--new-ledger")    # only where one is lost
    assert again.exit_code == 1
    assert f"--new-ledger: {home / 'ledger.db'} is there" in again.stderr


def test_a_new_ledger_sets_the_lost_ones_published_log_aside(tmp_path: Path) -> None:
    """The lost ledger's published checkpoint is one the new ledger can never extend: left in
    place, every verify named the new ledger damaged and nothing new was ever published."""
    home = tmp_path / "var"
    assert run("--home", str(home), "init", "--demo", "1").exit_code == 0
    assert run("--home", str(home), "ledger", "checkpoint").exit_code == 0
    assert run("--home", str(home), "ledger", "publish").exit_code == 0
    old = (home / "log" / "checkpoint").read_bytes()
    (home / "ledger.db").unlink()
    begun = run("--home", str(home), "init", "--new-ledger")
    assert begun.exit_code == 0, begun.stderr
    (kept,) = home.glob("log.before-new-ledger-*")
    assert f"its published log moved aside to {kept}" in begun.stdout
    assert (kept / "checkpoint").read_bytes() == old and not (home / "log").exists()
    verified = run("--home", str(home), "ledger", "verify")
    assert verified.exit_code == 0, verified.stderr


def test_new_ledger_is_refused_without_a_data_store(tmp_path: Path) -> None:
    result = run("--home", str(tmp_path / "var"), "init", "--new-ledger")
    assert result.exit_code == 1
    assert "holds no data store; 'vrmvault init' alone makes every store" in result.stderr
    assert not (tmp_path / "var" / "ledger.db").exists()


def test_a_restore_stopped_before_the_ledgers_changes_is_not_served_until_finished(
        tmp_path: Path, monkeypatch) -> None:
    """The swap comes first, then what the ledger recorded since (a grant withdrawn since,
    say) is made to hold again: a Ctrl-C in between left a store that gave it back, and serve
    served it."""
    import web.cli

    home = tmp_path / "var"
    run("--home", str(home), "init")
    monkeypatch.chdir(tmp_path)
    run("--home", str(home), "backup", "backup.db")
    finish = web.cli._recorded_changes

    def interrupted(ctx, home):
        raise KeyboardInterrupt

    monkeypatch.setattr(web.cli, "_recorded_changes", interrupted)
    result = RUNNER.invoke(main, ["--home", str(home), "restore", "backup.db", "--yes"],
                           env={"VRMVAULT_MASTER_KEY": ""})
    assert result.exit_code == 1                      # click's Abort, after our line
    assert "run 'vrmvault reapply-erasures' before serving" in result.stderr
    monkeypatch.setattr(web.cli, "_recorded_changes", finish)
    served = []
    monkeypatch.setattr("web.server.run", lambda **kwargs: served.append(kwargs))
    refused = run("--home", str(home), "serve", "--port", str(free_port()))
    assert refused.exit_code == 1 and not served
    assert "run 'vrmvault reapply-erasures' first" in refused.stderr
    assert run("--home", str(home), "reapply-erasures").exit_code == 0
    assert run("--home", str(home), "serve", "--port", str(free_port())).exit_code == 0
    assert served


def test_a_restore_refused_before_its_swap_leaves_nothing_to_finish(tmp_path: Path) -> None:
    home = tmp_path / "var"
    run("--home", str(home), "init")
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(bytes(range(256)) * 32)
    assert run("--home", str(home), "restore", str(garbage), "--yes").exit_code == 1
    assert not VaultHome(home).restore_unfinished()


@pytest.mark.parametrize(("stopped_in", "told"), [
    ("demo.members.load_demo", "interrupted before any demo member was loaded: the store is"
                               " as it was\n"),
    ("demo.consents.load_consent_demo",
     "interrupted: the store in {home} holds part of the demo now (members without the rest:"
     " grants, brands' clients, the officer), and 'vrmvault demo' will not load it again;"
     " load the demo into a new home instead\n"),
])
def test_a_demo_load_cut_short_says_what_it_left_in_one_line(
        tmp_path: Path, monkeypatch, stopped_in: str, told: str) -> None:
    """It said only 'Aborted!', and a second load refused the half-loaded store as 'loaded
    already'."""
    home = tmp_path / "var"
    run("--home", str(home), "init")

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(stopped_in, interrupted)
    result = RUNNER.invoke(main, ["--home", str(home), "demo", "--members", "5"],
                           env={"VRMVAULT_MASTER_KEY": ""})
    assert result.exit_code == 1
    assert result.stderr.endswith("error: " + told.format(home=home)), result.stderr
