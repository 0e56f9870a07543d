"""The gateway's own migrations, recorded in ``gateway_migrations`` in the data store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from brand_gateway import storage as gateway_storage
from vault.errors import StoreError
from vault.home import Vault, VaultHome
from vault.migrations import apply


def test_initialise_applies_once_and_records_in_its_own_table(tmp_path: Path) -> None:
    home = VaultHome(tmp_path / "var")
    home.initialise({})          # the vault's stores only, as before the gateway existed
    with home.open() as opened:
        with pytest.raises(StoreError, match="vrmvault init"):
            gateway_storage.require_current(opened.data)
        assert gateway_storage.initialise(opened.data) == [
            "oauth_clients_pairwise_subjects", "client_scopes_and_accepted_agreements",
            "retire_scopes_without_endpoints"]
        assert gateway_storage.initialise(opened.data) == []
        gateway_storage.require_current(opened.data)
        recorded = opened.data.all("SELECT number, name FROM gateway_migrations")
        assert [tuple(r) for r in recorded] == [
            (1, "oauth_clients_pairwise_subjects"), (2, "client_scopes_and_accepted_agreements"),
            (3, "retire_scopes_without_endpoints")]
        # The vault's own migration table knows nothing of the gateway's.
        assert "oauth_clients_pairwise_subjects" not in {
            r["name"] for r in opened.data.all("SELECT name FROM schema_migrations")}


def test_scopes_no_endpoint_served_are_taken_from_registered_clients(tmp_path: Path) -> None:
    home = VaultHome(tmp_path / "var")
    home.initialise({})
    with home.open() as opened:
        database = opened.data
        apply(database, gateway_storage.GATEWAY_MIGRATIONS[:2], table=gateway_storage.TABLE)
        brand = opened.brands.add("Velo Bikes")
        registered = {"all": ["intents:read", "offers:write", "insights:read",
                              "webhooks:manage"],
                      "retired only": ["intents:read"], "none": [],
                      "served only": ["webhooks:manage"]}
        for client_id, scopes in registered.items():
            database.execute(
                "INSERT INTO oauth_clients (client_id, brand_id, client_secret_hash,"
                " redirect_uris, grant_types, status, created_at, secret_rotated_at, scopes)"
                " VALUES (?, ?, x'00', '[]', '[]', 'active', 0, 0, ?)",
                (client_id, brand.id, json.dumps(scopes)))
        assert gateway_storage.initialise(database) == ["retire_scopes_without_endpoints"]
        after = {r["client_id"]: json.loads(r["scopes"])
                 for r in database.all("SELECT client_id, scopes FROM oauth_clients")}
        assert after == {"all": ["webhooks:manage"], "retired only": [], "none": [],
                         "served only": ["webhooks:manage"]}


def test_the_tables_refuse_unknown_statuses(vault: Vault, brand) -> None:
    from vault.errors import ConstraintViolationError

    with pytest.raises(ConstraintViolationError):
        vault.data.execute(
            "INSERT INTO oauth_clients (client_id, brand_id, client_secret_hash, redirect_uris,"
            " grant_types, status, created_at, secret_rotated_at)"
            " VALUES ('c', ?, x'00', '[]', '[]', 'sleeping', 0, 0)", (brand.id,))
