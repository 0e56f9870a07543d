"""Fixtures of the demo tests: consent services over the test vault."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from consent.context import Consent, open_consent
from vault.home import Vault, VaultHome


@pytest.fixture
def consent(vault: Vault, vault_home: VaultHome) -> Iterator[Consent]:
    opened = open_consent(vault, vault_home)
    yield opened
    opened.close()
