"""Fixtures of the brand gateway tests: the shared vault home with the gateway's tables too."""

from __future__ import annotations

from pathlib import Path

import pytest

from brand_gateway import storage as gateway_storage
from brand_gateway.clients import ClientRegistry, ClientSecretHasher
from brand_gateway.pseudonyms import PairwisePseudonyms
from tests.conftest import initialise_home
from vault.clock import FrozenClock
from vault.home import Vault, VaultHome


def initialise_gateway_home(home: VaultHome) -> VaultHome:
    """What ``vrmvault init`` makes once the gateway's migrations are part of it."""
    initialise_home(home)
    with home.open() as opened:
        gateway_storage.initialise(opened.data)
    return home


@pytest.fixture
def vault_home(tmp_path: Path) -> VaultHome:
    return initialise_gateway_home(VaultHome(tmp_path / "var"))


@pytest.fixture
def registry(vault: Vault, clock: FrozenClock) -> ClientRegistry:
    return ClientRegistry(database=vault.data, clock=clock,
                          hasher=ClientSecretHasher.from_master(vault.master))


@pytest.fixture
def pseudonyms(vault: Vault) -> PairwisePseudonyms:
    return PairwisePseudonyms.from_master(database=vault.data, master=vault.master)
