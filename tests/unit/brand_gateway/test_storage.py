"""The gateway's tables in the data store: what their constraints refuse."""

from __future__ import annotations

import pytest

from vault.home import Vault


def test_the_tables_refuse_unknown_statuses(vault: Vault, brand) -> None:
    from vault.errors import ConstraintViolationError

    with pytest.raises(ConstraintViolationError):
        vault.data.execute(
            "INSERT INTO oauth_clients (client_id, brand_id, client_secret_hash, redirect_uris,"
            " grant_types, status, created_at, secret_rotated_at)"
            " VALUES ('c', ?, x'00', '[]', '[]', 'sleeping', 0, 0)", (brand.id,))
