"""The registry of webhook endpoints: which URLs are accepted, how many per client, and
that removing one gives up what was pending for it."""

from __future__ import annotations

from typing import Any

import pytest

from brand_gateway.clients import ClientRegistry
from brand_gateway.webhooks.delivery import HttpResult
from brand_gateway.webhooks.endpoints import (
    MAX_ENDPOINTS_PER_CLIENT,
    WebhookRegistry,
    webhook_url_problem,
)
from tests.unit.brand_gateway.webhooks.support import FakeSender, dispatcher, make_brand, outbox
from vault.clock import FrozenClock
from vault.errors import ConflictError, NotFoundError, ValidationError
from vault.home import Vault


# -- endpoints ------------------------------------------------------------------------------------
@pytest.mark.parametrize("url", [
    "https://brand.example/hooks",
    "https://brand.example:8443/hooks?source=vrmvault",
    "https://192.0.2.10/hooks",
    "http://127.0.0.1:9000/hooks",
    "http://[::1]:9000/hooks",
    "http://localhost/hooks",
])
def test_acceptable_urls(url: str) -> None:
    assert webhook_url_problem(url) is None


@pytest.mark.parametrize(("url", "problem"), [
    ("", "non-empty"),
    (None, "non-empty"),
    ("/hooks", "absolute https"),
    ("brand.example/hooks", "absolute https"),
    ("ftp://brand.example/hooks", "absolute https"),
    ("HTTPS://brand.example/hooks", "scheme in lower case"),
    ("https:///hooks", "absolute https"),
    ("http://brand.example/hooks", "must use https"),
    ("http://127.0.0.1.brand.example/hooks", "must use https"),
    ("http://10.0.0.1/hooks", "must use https"),
    ("https://user:secret@brand.example/hooks", "user information"),
    ("https://@brand.example/hooks", "user information"),
    ("https://brand.example/hooks#part", "fragment"),
    ("https://brand.example:99999/hooks", "invalid host or port"),
    ("https://brand.example:port/hooks", "invalid host or port"),
    ("https://brand.example/ho oks", "ASCII"),
    ("https://brand.example/hooks\n", "ASCII"),
    ("https://bränd.example/hooks", "ASCII"),
    ("https://brand.example/" + "h" * 2000, "at most 2000"),
])
def test_refused_urls(url: Any, problem: str) -> None:
    found = webhook_url_problem(url)
    assert found is not None and problem in found


def test_add_refuses_a_bad_url_with_a_field_error(endpoints: WebhookRegistry,
                                                  registry: ClientRegistry) -> None:
    client = make_brand(registry)
    with pytest.raises(ValidationError) as caught:
        endpoints.add(client.client_id, "http://brand.example/hooks")
    assert list(caught.value.errors) == ["url"]
    assert endpoints.list() == []


def test_add_list_and_remove(endpoints: WebhookRegistry, registry: ClientRegistry,
                             clock: FrozenClock) -> None:
    velo, grocer = make_brand(registry), make_brand(registry, "Green Grocer")
    first = endpoints.add(velo.client_id, "https://velo.example/hooks")
    second = endpoints.add(grocer.client_id, "https://grocer.example/hooks")
    assert (first.client_id, first.brand_name, first.live) == (velo.client_id, "Velo Bikes", True)
    assert endpoints.list() == [first, second]
    assert endpoints.list(grocer.client_id) == [second]
    with pytest.raises(ConflictError):
        endpoints.add(velo.client_id, "https://velo.example/hooks")
    with pytest.raises(NotFoundError):
        endpoints.add("client_nobody", "https://velo.example/hooks")
    clock.advance(60)
    removed = endpoints.remove(first.public_id)
    assert removed.disabled_at == int(clock()) and not removed.live
    with pytest.raises(NotFoundError):
        endpoints.remove(first.public_id)
    for unknown in (str(second.id), "whk_" + "0" * 24):     # the store's key is no id either
        with pytest.raises(NotFoundError):
            endpoints.remove(unknown)
    assert endpoints.get(second.public_id) == second
    # Removed endpoints stay listed; the same URL can be added again.
    assert [e.live for e in endpoints.list()] == [False, True]
    assert endpoints.add(velo.client_id, "https://velo.example/hooks").live


def test_a_client_has_a_few_endpoints_at_most(endpoints: WebhookRegistry,
                                              registry: ClientRegistry) -> None:
    client = make_brand(registry)
    for number in range(MAX_ENDPOINTS_PER_CLIENT):
        endpoints.add(client.client_id, f"https://velo.example/hooks/{number}")
    with pytest.raises(ValidationError):
        endpoints.add(client.client_id, "https://velo.example/hooks/more")


def test_removing_an_endpoint_gives_up_its_pending_rows(vault: Vault, clock: FrozenClock,
                                                       queued: int,
                                                       endpoints: WebhookRegistry) -> None:
    endpoints.remove(endpoints.list()[0].public_id)
    assert outbox(vault)[0]["status"] == "dead"
    assert dispatcher(vault, clock, sender=FakeSender(HttpResult(200))).deliver_due().attempted \
        == 0
