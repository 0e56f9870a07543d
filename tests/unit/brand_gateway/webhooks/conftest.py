"""Fixtures of the webhook tests: a registry, the signer, consent with the gateway's observer,
a running receiver and one queued event."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from brand_gateway.clients import ClientRegistry
from brand_gateway.observers import grant_observer
from brand_gateway.pseudonyms import PairwisePseudonyms
from brand_gateway.storage import webhook_outbox, webhook_registry
from brand_gateway.webhooks.endpoints import WebhookRegistry
from brand_gateway.webhooks.outbox import enqueue_member_erased
from brand_gateway.webhooks.signing import WebhookSigner
from consent.context import Consent, open_consent
from tests.unit.brand_gateway.webhooks.support import Receiver, make_brand, outbox
from vault.clock import FrozenClock
from vault.home import Vault, VaultHome


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


@pytest.fixture
def endpoints(vault: Vault, clock: FrozenClock) -> WebhookRegistry:
    return webhook_registry(database=vault.data, clock=clock)


@pytest.fixture
def signer(vault: Vault) -> WebhookSigner:
    return WebhookSigner.from_master(vault.master)


@pytest.fixture
def consent(vault: Vault, vault_home: VaultHome) -> Iterator[Consent]:
    """Consent services with the gateway's observer attached, as the web and CLI layers do."""
    opened = open_consent(vault, vault_home, observers=[grant_observer(vault.data, vault.master)])
    yield opened
    opened.close()


@pytest.fixture
def queued(vault: Vault, registry: ClientRegistry, endpoints: WebhookRegistry,
           pseudonyms: PairwisePseudonyms, member_id: str, clock: FrozenClock) -> int:
    """One pending member.erased row for one endpoint; its outbox id."""
    client = make_brand(registry)
    endpoints.add(client.client_id, "https://velo-bikes.example/hooks")
    pseudonyms.pairwise_id(member_id, client.brand_id)
    queued = enqueue_member_erased(webhook_outbox(vault.data), pseudonyms, member_id,
                                   int(clock()))
    assert queued == 1
    return int(outbox(vault)[0]["id"])
