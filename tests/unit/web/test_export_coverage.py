"""The export accounts for every member-owned table of every store, and leaks no secret.

The list of member-owned tables is derived from the stores themselves (``sqlite_master``): a
table with a ``member_id`` column, or a foreign key to ``members`` or to another member-owned
table (a code belongs to its token family, which belongs to its member). Every SQLCipher file
of the home is examined, so a table added later, or a new store, cannot be forgotten: the test
fails until an exporter names it (exported, or withheld with the reason why).
"""

from __future__ import annotations

import base64
import io
import json
import zipfile
from collections.abc import Iterator

import pyotp
import pytest
from jsonschema import Draft202012Validator, FormatChecker

from brand_gateway.storage import open_rate_counts, webhook_registry
from consent.context import Consent
from tests.brand_api_support import BrandApi
from tests.conftest import GOOD_PASSWORD
from vault.export import DATA_STORE, KEY_STORE, MemberExport, Section
from vault.home import Vault, VaultHome
from vault.sqlcipher.database import Database
from web.exports import member_export

LEDGER_STORE = "ledger.db"
RATES_STORE = "rates.db"


@pytest.fixture
def stores(vault: Vault, consent: Consent, vault_home: VaultHome) -> Iterator[dict[str, Database]]:
    """Every SQLCipher store of the home, open."""
    rates = open_rate_counts(vault_home, vault.master)
    yield {DATA_STORE: vault.data, KEY_STORE: vault.keys_database,
           LEDGER_STORE: consent.ledger.database, RATES_STORE: rates}
    rates.close()


def tables_of(database: Database) -> list[str]:
    return [r[0] for r in database.all(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]


def member_owned(database: Database) -> set[str]:
    """Tables holding a member's rows: a member id column, or a foreign key (however long the
    chain) to ``members``."""
    tables = tables_of(database)
    columns = {t: {r["name"] for r in database.all(f"PRAGMA table_info({t})")} for t in tables}
    targets = {t: {r["table"] for r in database.all(f"PRAGMA foreign_key_list({t})")}
               for t in tables}
    owned = {t for t in tables if t == "members" or "member_id" in columns[t]}
    while True:
        more = {t for t in tables if t not in owned and targets[t] & owned}
        if not more:
            return owned
        owned |= more


def test_the_home_holds_no_store_this_test_does_not_examine(stores, vault_home):
    assert {p.name for p in vault_home.root.glob("*.db")} == set(stores)


def test_every_member_owned_table_is_exported_or_withheld_for_a_reason(stores, consent):
    derived = {f"{name}:{table}" for name, database in stores.items()
               for table in member_owned(database)}
    assert f"{DATA_STORE}:grants" in derived and f"{KEY_STORE}:member_keys" in derived
    assert f"{DATA_STORE}:oauth_refresh_tokens" in derived      # through its token family
    covered = member_export(consent).tables()
    assert sorted(derived - covered) == [], "member-owned tables no exporter names"
    assert sorted(covered - derived) == [], "exporters name tables that are not member-owned"


def test_every_withheld_column_exists(stores, consent):
    for name in member_export(consent).withheld():
        store, _, rest = name.partition(":")
        table, _, column = rest.partition(".")
        assert table in tables_of(stores[store]), name
        if column:
            columns = {r["name"] for r in stores[store].all(f"PRAGMA table_info({table})")}
            assert column in columns, name


def test_the_schema_says_what_is_left_out_and_why(consent):
    description = member_export(consent).schema()["description"]
    for name, why in member_export(consent).withheld().items():
        assert f"{name}: {why}" in description
    assert "members.password_hash" in description and "keys.db:member_keys" in description


def test_two_exporters_may_not_claim_one_key_or_table(vault):
    section = Section("profile", {}, lambda _: [])
    with pytest.raises(ValueError, match="section named by two exporters: profile"):
        MemberExport([vault.export, type(vault.export)("again", (section,))], clock=vault.clock)


# -- no secret leaves ------------------------------------------------------------------------
@pytest.fixture
def everything(vault: Vault, consent: Consent):
    """A member with a second factor, a session, a grant, a token family and a notification."""
    member_id = vault.members.register("alice@example.org", GOOD_PASSWORD)
    secret = vault.members.new_totp_secret()
    vault.members.enable_totp(member_id, secret, _totp_code(vault, member_id, secret))
    vault.sessions.create(member_id=member_id, data={"csrf": "s3cret-csrf"}, device="Firefox")
    api = BrandApi(vault, consent)
    velo = api.brand("Velo Bikes")
    webhook_registry(database=vault.data, clock=vault.clock).add(
        velo.client_id, "https://hooks.velo.example/vrmvault")
    issued = api.member_token(member_id, velo)
    return member_id, secret, issued


def _totp_code(vault: Vault, member_id: str, secret: str) -> str:
    return pyotp.TOTP(secret).at(vault.clock())


def test_the_zip_holds_no_hash_secret_or_key(vault, consent, everything):
    member_id, secret, issued = everything
    archive = zipfile.ZipFile(io.BytesIO(member_export(consent).zip_bytes(member_id)))
    text = "".join(archive.read(name).decode() for name in archive.namelist())
    data = vault.data
    forbidden = {"the TOTP secret": secret, "the access token": issued.token,
                 "the session's CSRF value": "s3cret-csrf",
                 "the password hash": data.one("SELECT password_hash FROM members")[0]}
    for label, table, column in [
            ("a session cookie hash", "web_sessions", "id_hash"),
            ("an access token hash", "oauth_access_tokens", "token_hash"),
            ("the sealed TOTP secret", "members", "totp_sealed"),
            ("the blind index", "members", "email_index")]:
        for (value,) in data.all(f"SELECT {column} FROM {table}"):
            forbidden |= _encodings(label, bytes(value))
    for (wrapped,) in vault.keys_database.all("SELECT wrapped FROM member_keys"):
        forbidden |= _encodings("the wrapped key", bytes(wrapped))
    for label, value in forbidden.items():
        assert value not in text, f"the export holds {label}"
    document = json.loads(archive.read("vrmvault-export.json"))
    Draft202012Validator(json.loads(archive.read("vrmvault-export.schema.json")),
                         format_checker=FormatChecker()).validate(document)
    [authorization] = document["authorizations"]
    assert authorization["access_tokens"]["issued"] == 1


def _encodings(label: str, value: bytes) -> dict[str, str]:
    return {f"{label} (hex)": value.hex(),
            f"{label} (base64)": base64.b64encode(value).decode().rstrip("="),
            f"{label} (base64url)": base64.urlsafe_b64encode(value).decode().rstrip("=")}
