"""``/log/`` as served (web/public_log.py): what the keeper published, with the spec's content
types and caching, nothing past the published checkpoint, no entry bundles, and bad paths and
floods refused cleanly."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from consent.context import open_ledger
from consent.events import Event, EventTag
from consent.ledger import Ledger
from tests.conftest import opened_app
from vault.clock import FrozenClock
from vault.home import Vault, VaultHome
from web.keeper import Keeper


def append(ledger: Ledger, count: int) -> None:
    ledger.record_events(Event(EventTag.ACCESS_PROFILE_READ, "brand:brand_1",
                               {"member": "member:" + "c" * 32, "number": n})
                         for n in range(count))


@pytest.fixture
def ledger(vault_home: VaultHome, vault: Vault, clock: FrozenClock) -> Iterator[Ledger]:
    with open_ledger(vault_home, vault_home.master_key({}), clock=clock,
                     checkpoint_every=0) as opened:
        yield opened


@pytest.fixture
def keeper(vault_home: VaultHome, ledger: Ledger, clock: FrozenClock) -> Iterator[Keeper]:
    made = Keeper(vault_home, vault_home.master_key({}), ledger, checkpoint_interval=60,
                  clock=clock)
    yield made
    made.close()


def test_nothing_is_published_before_a_checkpoint(client: FlaskClient) -> None:
    response = client.get("/log/checkpoint")
    assert response.status_code == 404
    assert client.get("/log/tile/0/000.p/1").status_code == 404


def test_the_keeper_publishes_what_it_signs(client: FlaskClient, ledger: Ledger,
                                            keeper: Keeper) -> None:
    append(ledger, 300)
    keeper.one_pass()                                   # signs the first checkpoint, publishes
    checkpoint = client.get("/log/checkpoint")
    assert checkpoint.status_code == 200
    assert checkpoint.content_type == "text/plain; charset=utf-8"
    assert checkpoint.headers["Cache-Control"] == "public, max-age=5"
    assert checkpoint.data == ledger.latest_checkpoint().note.encode()
    assert checkpoint.data.split(b"\n")[1] == b"300"

    full = client.get("/log/tile/0/000")
    assert full.status_code == 200 and len(full.data) == 256 * 32
    assert full.content_type == "application/octet-stream"
    assert full.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert "Pragma" not in full.headers
    assert full.headers["Access-Control-Allow-Origin"] == "*"      # public, no credentials
    assert full.data[:32] == ledger.entry(0).leaf_hash
    partial = client.get("/log/tile/0/001.p/44")
    assert partial.status_code == 200 and len(partial.data) == 44 * 32
    assert client.get("/log/tile/1/000.p/1").data == ledger.root(256)

    # Entries 300 on (the checkpoint's own record among them) are past the published size.
    for path in ("/log/tile/0/001.p/45", "/log/tile/0/001", "/log/tile/1/000.p/2"):
        assert client.get(path).status_code == 404, path


def test_key_is_the_ledgers_verifier_key(client: FlaskClient, ledger: Ledger) -> None:
    response = client.get("/log/key")
    assert response.status_code == 200
    assert response.data.decode() == ledger.verifier_key + "\n"


@pytest.mark.parametrize("path", [
    "/log/tile/entries/000", "/log/tile/entries/000.p/1", "/log/tile/0/../checkpoint",
    "/log/tile/0/%2e%2e/%2e%2e/master.key", "/log/tile/00/000", "/log/tile/64/000",
    "/log/tile/0/0000", "/log/tile/0/x000/000", "/log/tile/0/000.p/0", "/log/tile/0/000.p/256",
    "/log/tile/0/" + "x999/" * 40 + "999", "/log/tile/0/" + "9" * 5000, "/log/tile/",
    "/log/tile", "/log/entries", "/log/",
])
def test_bad_paths_are_404_without_a_trace(client: FlaskClient, ledger: Ledger,
                                           keeper: Keeper, path: str) -> None:
    append(ledger, 3)
    keeper.one_pass()
    response = client.get(path)
    assert response.status_code == 404
    assert b"Traceback" not in response.data


def test_only_get_and_head(client: FlaskClient) -> None:
    assert client.post("/log/checkpoint").status_code == 405
    assert client.head("/log/key").status_code == 200


def test_a_flood_from_one_address_is_told_to_wait(vault_home: VaultHome, vault: Vault,
                                                  clock: FrozenClock) -> None:
    with opened_app({"TESTING": True, "VRMVAULT_HOME": vault_home.root,
                     "VRMVAULT_PUBLIC_URL": "http://localhost", "VRMVAULT_CLOCK": clock,
                     "VRMVAULT_LOG_RATE_LIMIT": 3}) as app:
        assert isinstance(app, Flask)
        client = app.test_client()
        assert [client.get("/log/key").status_code for _ in range(3)] == [200] * 3
        refused = client.get("/log/tile/0/000")
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
        other = client.get("/log/key", environ_base={"REMOTE_ADDR": "192.0.2.7"})
        assert other.status_code == 200
        clock.advance(60)
        assert client.get("/log/key").status_code == 200


def test_a_signed_in_member_gets_the_same_answer_and_no_session(
        app: Flask, alice, ledger: Ledger, keeper: Keeper) -> None:
    append(ledger, 5)
    keeper.one_pass()
    anonymous = app.test_client().get("/log/checkpoint")
    signed_in = alice.client.get("/log/checkpoint")
    assert signed_in.data == anonymous.data and signed_in.status_code == 200
    assert "Set-Cookie" not in signed_in.headers and "Set-Cookie" not in anonymous.headers
