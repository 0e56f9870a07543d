"""Fixtures of the brand gateway tests (the shared ``vault_home`` already has the gateway's
tables: ``tests.conftest.initialise_home`` applies them as ``vrmvault init`` does)."""

from __future__ import annotations

import pytest

from brand_gateway.clients import ClientRegistry, ClientSecretHasher
from brand_gateway.pseudonyms import PairwisePseudonyms
from vault.clock import FrozenClock
from vault.home import Vault


@pytest.fixture
def registry(vault: Vault, clock: FrozenClock) -> ClientRegistry:
    return ClientRegistry(database=vault.data, clock=clock,
                          hasher=ClientSecretHasher.from_master(vault.master))


@pytest.fixture
def pseudonyms(vault: Vault) -> PairwisePseudonyms:
    return PairwisePseudonyms.from_master(database=vault.data, master=vault.master)
