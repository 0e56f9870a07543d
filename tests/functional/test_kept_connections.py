"""The app keeps its store connections across requests (web/vaults.py); nothing else carries over.

Each app stands for one web worker: its pool is warmed by earlier requests, and changes are
made through another connection (the test's own vault, or a second app) as another worker or a
command would make them. The very next request must see them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

import web.vaults
from brand_gateway.clients import ClientSecretHasher
from brand_gateway.storage import access_log, client_registry, token_store
from consent.context import Consent
from consent.spool import SpoolDirectory, SpoolWriter
from tests.apps import opened_app
from tests.brand_api_support import BrandApi, IssuedToken
from vault.home import Vault
from vault.keys import KeyStore
from vault.sql.keys import SqlMemberKeys
from web.vaults import VaultAccess

PROFILE = "/api/v1/member/profile"
ALICE = {"given_name": "Alice", "city": "Leiden"}


@pytest.fixture
def api(vault: Vault, consent) -> BrandApi:
    return BrandApi(vault, consent)


@pytest.fixture
def issued(api: BrandApi, alice, vault: Vault) -> IssuedToken:
    vault.profile.update(alice.id, ALICE)
    return api.member_token(alice.id, api.brand("Velo Bikes"),
                            {"dpv:Personalisation": ["given_name", "city"]})


@pytest.fixture
def other_worker(app: Flask) -> Iterator[Flask]:
    """A second app on the same home and clock: another worker's process (closed, as the
    ``app`` fixture is, once the test is done)."""
    with opened_app(app.config) as worker:
        yield worker


def read(app: Flask, issued: IssuedToken) -> Any:
    return app.test_client().get(PROFILE, headers=issued.headers)


def pool(app: Flask) -> VaultAccess:
    access: VaultAccess = app.extensions["vrmvault"]
    return access


def test_an_erasure_elsewhere_shows_on_the_very_next_request(app, issued, vault, alice):
    """At each of the erasure's steps (vault/erasure.py), made elsewhere, the very next read
    is refused, although the worker remembers the member's sealed rows and wrapped key: the
    first step commits to the data store before the key is destroyed, and a crash after the
    key's destruction leaves rows that no read opens."""
    for _ in range(3):
        assert read(app, issued).get_json()["profile"] == ALICE  # keys, pages, ledger: warm
    pending = vault.erasure.begin(alice.id)                 # 0: recorded, the member stopped
    begun = read(app, issued)
    assert begun.status_code == 401
    assert "Alice" not in begun.get_data(as_text=True)
    assert vault.erasure.destroy_key(pending)               # 1: crypto-shredded (then a crash)
    shredded = read(app, issued)
    assert shredded.status_code == 401
    assert "Alice" not in shredded.get_data(as_text=True)
    vault.erasure.carry_out(pending)                        # 2: the rows deleted
    vault.erasure.done(pending)
    erased = read(app, issued)
    assert erased.status_code == 401
    assert "Alice" not in erased.get_data(as_text=True)


def test_a_warm_worker_reads_the_wrapped_key_once_while_nothing_is_committed(
        app, issued, monkeypatch):
    """The member's wrapped key (never the key) is remembered with the sealed rows: a warm
    worker's read sends the key store no statement (on PostgreSQL a round trip to another
    database saved on every read), and still unwraps the key and opens the values each time."""
    for _ in range(3):
        assert read(app, issued).get_json()["profile"] == ALICE
    fetched: list[str] = []
    unwrapped: list[str] = []
    wrapped = SqlMemberKeys.wrapped
    cipher = KeyStore.cipher
    monkeypatch.setattr(SqlMemberKeys, "wrapped",
                        lambda keys, member_id: fetched.append(member_id) or wrapped(keys,
                                                                                     member_id))
    monkeypatch.setattr(KeyStore, "cipher",
                        lambda keys, member_id, **kw: unwrapped.append(member_id) or cipher(
                            keys, member_id, **kw))
    for _ in range(5):
        assert read(app, issued).get_json()["profile"] == ALICE
    assert fetched == []
    assert unwrapped == [issued.member_id] * 5


def test_a_withdrawal_in_one_worker_fails_the_next_read_in_another(app, other_worker, issued,
                                                                   alice):
    for _ in range(3):
        assert read(other_worker, issued).status_code == 200
    response = alice.auth.post(f"/member/consents/{issued.grant.id}/withdraw",
                               form_page="/member/consents")
    assert response.status_code == 302
    assert read(other_worker, issued).status_code == 401


def _narrow(vault: Vault, consent: Consent, issued: IssuedToken) -> None:
    consent.grants.narrow(issued.member_id, issued.grants[0].id, fields=["city"])


def _revoke_token(vault: Vault, consent: Consent, issued: IssuedToken) -> None:
    tokens = token_store(database=vault.data, clock=vault.clock)
    record = tokens.find(issued.token)
    assert record is not None
    tokens.revoke(record)


def _disable_client(vault: Vault, consent: Consent, issued: IssuedToken) -> None:
    client_registry(database=vault.data, clock=vault.clock,
                    hasher=ClientSecretHasher.from_master(vault.master)
                    ).disable(issued.client.client_id)


def _change_profile(vault: Vault, consent: Consent, issued: IssuedToken) -> None:
    vault.profile.update(issued.member_id, {"city": "Delft"})


@pytest.mark.parametrize(("change", "status", "profile"), [
    (_narrow, 200, {"city": "Leiden"}),
    (_change_profile, 200, {"given_name": "Alice", "city": "Delft"}),
    (_revoke_token, 401, None),
    (_disable_client, 401, None),
])
def test_what_a_warm_worker_remembers_gives_way_to_any_change_elsewhere(
        app, issued, vault, consent, change, status, profile):
    """A worker remembers the token, client, policy, subject and sealed profile rows it read
    while nothing has been committed since (Database.memoized): a change made through another
    connection (another worker, a command) shows on the very next request."""
    for _ in range(3):
        assert read(app, issued).get_json()["profile"] == ALICE
    change(vault, consent, issued)
    response = read(app, issued)
    assert response.status_code == status
    if profile is not None:
        assert response.get_json()["profile"] == profile


def test_what_a_warm_worker_judged_holds_for_its_second_only(app, api, alice, vault, clock):
    """A worker remembers what a token may read for the whole second it judged it in (grants
    start and end on whole seconds), never into the next: a grant that ends while nothing is
    committed still ends on its very second, the token's other grant still reading."""
    vault.profile.update(alice.id, ALICE)
    velo = api.brand("Velo Bikes")
    ending = api.grant(alice.id, velo, "dpv:Personalisation", ["given_name", "city"], days=1)
    staying = api.grant(alice.id, velo, "dpv:CustomerCare", ["city"], days=10)
    issued = api.token_for(alice.id, velo, [ending, staying], lifetime=3 * 24 * 3600)
    url = PROFILE + "?purpose=dpv:Personalisation"
    worker = app.test_client()
    clock.now = ending.ends_at - 0.75
    for _ in range(3):
        assert worker.get(url, headers=issued.headers).get_json()["profile"] == ALICE
    clock.now = ending.ends_at - 0.001
    assert worker.get(url, headers=issued.headers).get_json()["profile"] == ALICE
    clock.now = ending.ends_at
    body = worker.get(url, headers=issued.headers).get_json()
    assert body["profile"] == {}
    assert body["withheld"] == ["given_name", "city"]
    care = worker.get(PROFILE + "?purpose=dpv:CustomerCare", headers=issued.headers)
    assert care.get_json()["profile"] == {"city": "Leiden"}


def test_a_read_through_one_worker_is_recorded_for_the_other(app, other_worker, issued, vault,
                                                            alice, consent):
    read(app, issued)
    read(other_worker, issued)
    # Each worker spooled its read; the member's page merges every spool before it shows them.
    page = alice.client.get("/member/access").get_data(as_text=True)
    assert "Reads (2)" in page
    log = access_log(ledger=consent.ledger, database=vault.data, clock=vault.clock)
    assert log.page(consent.principal(alice.id)).total == 2


def test_a_failed_request_hands_its_connections_back_clean(app, issued, vault, vault_home,
                                                           consent, monkeypatch):
    assert read(app, issued).status_code == 200
    spools = SpoolDirectory(vault_home, vault_home.master_key({}))
    spools.merge_all(consent.ledger)
    size = consent.ledger.size

    def broken(self: SpoolWriter, event: Any, at: float) -> None:
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(SpoolWriter, "append", broken)
    assert read(app, issued).status_code == 500
    idle = pool(app)._idle
    assert idle, "the connections were not given back"
    for connections in idle:
        assert connections.stores.data.end_use() is False      # nothing was left open
        assert connections.stores.keys.end_use() is False
        assert connections.consent is not None
        assert connections.consent.ledger.database.end_use() is False
    # Not recorded, so not served: nothing pending, nothing in the ledger.
    assert spools.pending(consent.ledger) == 0
    assert spools.merge_all(consent.ledger) == 0 and consent.ledger.size == size
    monkeypatch.undo()
    for database in (vault.data, consent.ledger.database):
        with database.transaction():                            # no lock is held elsewhere
            assert database.in_transaction
    assert read(app, issued).status_code == 200
    assert spools.merge_all(consent.ledger) == 1 and consent.ledger.size == size + 1


def test_connections_are_never_shared_across_a_fork(app, issued, monkeypatch):
    assert read(app, issued).status_code == 200
    access = pool(app)
    kept = access._idle[0]
    monkeypatch.setattr("web.vaults._process_id", -1)    # as the fork hook sets it in a child
    borrowed = access.borrow()
    assert borrowed is not kept and access._idle == []
    access.give_back(borrowed)
    borrowed.close()
    kept.close()        # the "parent's": a real child leaves them to the parent


def test_a_forked_child_knows_its_own_process_id():
    child = os.fork()
    if child == 0:      # the child: report whether the fork hook updated the id, and leave
        os._exit(0 if web.vaults._process_id == os.getpid() else 1)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert web.vaults._process_id == os.getpid() != child


@pytest.fixture
def limited(app: Flask) -> Flask:
    app.config["VRMVAULT_API_RATE_LIMIT"] = 3
    return app


def test_a_read_that_fails_after_authentication_still_counts(limited, issued):
    client = limited.test_client()
    for _ in range(3):
        bad = client.get(PROFILE, headers=issued.headers, query_string={"fields": "password"})
        assert bad.status_code == 400
    refused = client.get(PROFILE, headers=issued.headers)
    assert refused.status_code == 429
    # Past the limit, a bad query is refused for the rate first, as before.
    again = client.get(PROFILE, headers=issued.headers, query_string={"fields": "password"})
    assert again.status_code == 429
