"""The webhook tables: a migration layer of their own, refused until applied."""

from __future__ import annotations

from pathlib import Path

import pytest

from brand_gateway import webhook_storage
from brand_gateway.observers import erasure_hook
from vault.errors import StoreError
from vault.home import VaultHome


def test_the_tables_are_a_layer_of_their_own(tmp_path: Path) -> None:
    from brand_gateway import storage as gateway_storage
    from consent import storage as consent_storage

    home = VaultHome(tmp_path / "var")
    home.initialise({})
    with home.open() as opened:
        consent_storage.initialise(opened.data)
        gateway_storage.initialise(opened.data)
        with pytest.raises(StoreError, match="webhook migrations; run 'vrmvault init'"):
            webhook_storage.require_current(opened.data)
        with pytest.raises(StoreError):
            erasure_hook(opened.data, opened.master)      # refused before anything happens
        assert webhook_storage.initialise(opened.data) == ["webhook_endpoints_outbox_attempts",
                                                           "outbox_authorization_ended"]
        assert webhook_storage.initialise(opened.data) == []
        webhook_storage.require_current(opened.data)
        assert [tuple(r) for r in opened.data.all(
            "SELECT number, name FROM gateway_webhook_migrations")] == [
            (1, "webhook_endpoints_outbox_attempts"), (2, "outbox_authorization_ended")]
