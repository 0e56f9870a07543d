"""Fixtures of the brand gateway tests (the shared ``vault_home`` already has the gateway's
tables: ``tests.conftest.initialise_home`` applies them as ``vrmvault init`` does)."""

from __future__ import annotations

import pytest

from brand_gateway.clients import ClientRegistry, ClientSecretHasher
from brand_gateway.pseudonyms import PairwisePseudonyms
from brand_gateway.storage import client_registry, pairwise_pseudonyms
from vault.clock import FrozenClock
from vault.home import Vault


@pytest.fixture
def registry(vault: Vault, clock: FrozenClock) -> ClientRegistry:
    return client_registry(database=vault.data, clock=clock,
                           hasher=ClientSecretHasher.from_master(vault.master))


@pytest.fixture
def pseudonyms(vault: Vault) -> PairwisePseudonyms:
    return pairwise_pseudonyms(database=vault.data, master=vault.master)
