"""``vrmvault webhooks`` and the places that feed it, end to end: the real command through
click's runner, the member pages that withdraw and erase, a real receiver on 127.0.0.1, and
``vrmvault serve`` delivering in the background as a real process."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from brand_gateway.clients import ClientSecretHasher
from brand_gateway.observers import grant_observer
from brand_gateway.storage import client_registry, pairwise_pseudonyms
from brand_gateway.webhooks.signing import verify, webhook_public_jwk, webhook_public_key
from consent.context import open_consent
from consent.grants import BrandRequest
from consent.vocabulary import PURPOSES
from tests.conftest import GOOD_PASSWORD, TEST_HASHING
from tests.processes import stopped, stopped_output
from tests.unit.brand_gateway.webhooks.support import Receiver, independent_verify
from vault.home import Vault, VaultHome
from web.cli import main
from web.webhook_cli import webhooks

from .conftest import SignedIn

ALL_PURPOSES = frozenset(p.code for p in PURPOSES)


def run(home: VaultHome, *args: str) -> Result:
    return CliRunner().invoke(main, ["--home", str(home.root), "webhooks", *args],
                              env={"VRMVAULT_MASTER_KEY": ""}, catch_exceptions=False)


def brand_client(home: VaultHome, name: str = "Velo Bikes") -> str:
    """A brand registered with ``vrmvault brand create``; its client id."""
    result = CliRunner().invoke(
        main, ["--home", str(home.root), "brand", "create", "--name", name,
               "--redirect-uri", "https://velo.example/cb"],
        env={"VRMVAULT_MASTER_KEY": ""}, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["client_id"]


def brand_id_of(home: VaultHome, client_id: str) -> str:
    with home.open() as vault:
        return client_registry(database=vault.data, clock=vault.clock,
                               hasher=ClientSecretHasher.from_master(vault.master)
                               ).get(client_id).brand_id


def share_and_withdraw(home: VaultHome, client_id: str,
                       email: str = "walter@example.org") -> str:
    """A member gives the brand a grant and withdraws it, on the real clock, with the consent
    services wired as the web layer wires them; the member's id."""
    brand_id = brand_id_of(home, client_id)
    with home.open(hashing=TEST_HASHING) as vault:
        consent = open_consent(vault, home, observers=[grant_observer(vault.data, vault.master)])
        try:
            member_id = vault.members.register(email, GOOD_PASSWORD)
            consent.terms.update(member_id, agreement="SD-BASE-ATP", purposes=ALL_PURPOSES,
                                 max_days=365, aggregate_allowed=True)
            offer = consent.agreements.proffer(member_id, brand_id)
            consent.agreements.brand_accepts(offer.id, brand_id)
            grant, _ = consent.grants.grant(member_id, BrandRequest(
                brand_id, "dpv:Personalisation", frozenset({"given_name"})))
            consent.grants.withdraw(member_id, grant.id)
        finally:
            consent.close()
    return member_id


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


# -- endpoints ------------------------------------------------------------------------------------
def test_the_group_has_its_commands() -> None:
    assert set(webhooks.commands) == {"add", "list", "remove", "key", "attempts", "deliver",
                                     "redrive"}


def test_add_list_and_remove(vault_home: VaultHome) -> None:
    assert "No webhook endpoints" in run(vault_home, "list").output
    velo = brand_client(vault_home)
    grocer = brand_client(vault_home, "Green Grocer")
    result = run(vault_home, "add", velo, "https://velo.example/hooks")
    assert result.exit_code == 0, result.output
    # The id the brand's API shows it, never the store's sequence number.
    added = re.search(rf"Added webhook endpoint (whk_[0-9a-f]{{24}}) for {velo} \(Velo Bikes\)",
                      result.output)
    assert added is not None, result.output
    endpoint_id = added[1]
    assert webhook_public_key(vault_home.master_key({})) in result.output
    assert run(vault_home, "add", grocer, "http://127.0.0.1:9000/hooks").exit_code == 0

    lines = run(vault_home, "list").output.splitlines()
    assert lines[0].split() == ["ID", "CLIENT", "ID", "BRAND", "STATUS", "ADDED", "URL"]
    assert len(lines) == 3 and "https://velo.example/hooks" in lines[1] and "live" in lines[1]
    assert lines[1].startswith(endpoint_id + " ")
    assert re.match(r"whk_[0-9a-f]{24} ", lines[2]) and not lines[2].startswith(endpoint_id)
    assert len(run(vault_home, "list", grocer).output.splitlines()) == 2

    result = run(vault_home, "remove", "1")                 # the store's key is no id
    assert result.exit_code == 1 and "no webhook endpoint" in result.output
    assert "Traceback" not in result.output
    result = run(vault_home, "remove", endpoint_id)
    assert result.exit_code == 0 and f"Removed webhook endpoint {endpoint_id}" in result.output
    assert "removed" in run(vault_home, "list", velo).output.splitlines()[1]
    result = run(vault_home, "remove", endpoint_id)
    assert result.exit_code == 1 and "removed already" in result.output


@pytest.mark.parametrize(("url", "message"), [
    ("http://velo.example/hooks", "must use https"),
    ("https://velo:pw@velo.example/hooks", "user information"),
    ("https://velo.example/hooks#x", "fragment"),
    ("hooks", "absolute https"),
    ("https://[velo.example]/hooks", "invalid host"),     # was a traceback
])
def test_add_refuses_bad_urls_in_one_line(vault_home: VaultHome, url: str, message: str) -> None:
    client_id = brand_client(vault_home)
    result = run(vault_home, "add", client_id, url)
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output
    assert "No webhook endpoints" in run(vault_home, "list").output


def test_add_for_an_unknown_client_fails(vault_home: VaultHome) -> None:
    result = run(vault_home, "add", "client_nobody", "https://velo.example/hooks")
    assert result.exit_code == 1 and "no client" in result.output


@pytest.mark.parametrize("interval", ["nan", "NaN", "inf", "1e999"])
def test_deliver_refuses_an_interval_that_is_no_finite_number(vault_home: VaultHome,
                                                              interval: str) -> None:
    """nan passed the range check (no comparison with it is true): a loop with no pause
    between passes; inf, one whose second pass never came."""
    # A parent that is not ours: a loop that began would end at once, not hang the test.
    result = run(vault_home, "deliver", "--interval", interval, "--parent-pid", "99999999")
    assert result.exit_code == 2
    assert "is not a finite number of seconds" in result.output


def test_key_prints_the_verification_key(vault_home: VaultHome) -> None:
    result = run(vault_home, "key")
    assert result.exit_code == 0
    first, _, jwk = result.output.partition("\n")
    master = vault_home.master_key({})
    assert first == webhook_public_key(master)
    assert json.loads(jwk) == webhook_public_jwk(master)
    assert "\"d\"" not in jwk


def test_commands_need_a_store(tmp_path: Path) -> None:
    result = run(VaultHome(tmp_path / "nothing"), "list")
    assert result.exit_code == 1 and "vrmvault init" in result.output


# -- delivery -------------------------------------------------------------------------------------
def test_deliver_once_sends_a_signed_withdrawal(vault_home: VaultHome,
                                                receiver: Receiver) -> None:
    client_id = brand_client(vault_home)
    assert run(vault_home, "add", client_id, receiver.url).exit_code == 0
    member_id = share_and_withdraw(vault_home, client_id)

    result = run(vault_home, "deliver", "--once")
    assert result.exit_code == 0, result.output
    assert "Webhooks: 1 attempted: 1 delivered, 0 to retry, 0 given up" in result.output
    [request] = receiver.requests
    key = webhook_public_key(vault_home.master_key({}))
    assert independent_verify(request["headers"], request["body"], key)
    payload = verify(request["headers"], request["body"], key)     # on the real clock
    assert payload["type"] == "consent.withdrawn"
    with vault_home.open() as vault:
        pseudonyms = pairwise_pseudonyms(database=vault.data, master=vault.master)
        assert payload["data"]["subject"] == pseudonyms.compute(
            member_id, brand_id_of(vault_home, client_id))
    assert member_id.encode() not in request["body"]

    lines = run(vault_home, "attempts").output.splitlines()
    assert lines[0].split()[:6] == ["ID", "BRAND", "EVENT", "STATUS", "ATTEMPTS", "LAST"]
    assert lines[1].split()[:7] == ["1", "Velo", "Bikes", "consent.withdrawn", "delivered",
                                    "1", "204"]
    assert request["headers"]["webhook-id"] in lines[1]
    assert "No webhook events match" in run(vault_home, "attempts", "--status",
                                            "pending").output
    assert run(vault_home, "deliver", "--once").output.startswith("Webhooks: 0 attempted")


def test_a_failing_brand_is_retried_later(vault_home: VaultHome, receiver: Receiver) -> None:
    receiver.statuses = [500]
    client_id = brand_client(vault_home)
    run(vault_home, "add", client_id, receiver.url)
    share_and_withdraw(vault_home, client_id)

    assert "1 to retry" in run(vault_home, "deliver", "--once").output
    line = run(vault_home, "attempts", "--client", client_id,
               "--status", "pending").output.splitlines()[1]
    assert line.split()[:7] == ["1", "Velo", "Bikes", "consent.withdrawn", "pending", "1",
                                "500"]
    # Not due again for about half a minute.
    assert run(vault_home, "deliver", "--once").output.startswith("Webhooks: 0 attempted")
    assert len(receiver.requests) == 1
    other = brand_client(vault_home, "Fresh Grocer")
    assert "No webhook events match" in run(vault_home, "attempts", "--client", other).output


def test_a_given_up_event_is_queued_again_and_delivered(vault_home: VaultHome,
                                                        receiver: Receiver) -> None:
    client_id = brand_client(vault_home)
    run(vault_home, "add", client_id, receiver.url)
    share_and_withdraw(vault_home, client_id)
    receiver.statuses = [503]
    run(vault_home, "deliver", "--once")
    with vault_home.open() as vault:      # as after its 20th failed attempt, days later
        vault.data.execute("UPDATE webhook_outbox SET status = 'dead', attempts = 20")
    assert run(vault_home, "attempts", "--status", "dead").output.count("consent.withdrawn") == 1

    result = run(vault_home, "redrive", "--client", client_id)
    assert result.exit_code == 0
    assert result.output == "Queued again: 1 events (1); the next delivery pass sends them\n"
    line = run(vault_home, "attempts").output.splitlines()[1]
    assert line.split()[4:6] == ["pending", "0"]          # a fresh series of attempts
    receiver.statuses = [204]
    assert "1 delivered" in run(vault_home, "deliver", "--once").output
    assert len(receiver.requests) == 2
    with vault_home.open() as vault:      # the earlier attempt stays in the record
        assert vault.data.one("SELECT count(*) FROM webhook_attempts")[0] == 2

    again = run(vault_home, "redrive", "1", "99")
    assert again.exit_code == 1
    assert "Not queued: 1: it is delivered, not given up" in again.stderr
    assert "Not queued: 99: no such event" in again.stderr


def test_an_event_whose_endpoint_is_gone_stays_dead(vault_home: VaultHome,
                                                    receiver: Receiver) -> None:
    receiver.statuses = [410]             # the brand says: no more webhooks here
    client_id = brand_client(vault_home)
    run(vault_home, "add", client_id, receiver.url)
    share_and_withdraw(vault_home, client_id)
    run(vault_home, "deliver", "--once")
    result = run(vault_home, "redrive", "1")
    assert result.exit_code == 1
    assert "Queued again: 0 events;" in result.output
    assert "Not queued: 1: its endpoint was removed" in result.stderr


def test_redrive_of_an_id_past_any_key_is_no_such_event(vault_home: VaultHome) -> None:
    """Outbox ids are 64-bit keys: a larger one is named as missing, as a missing one is (the
    driver raised OverflowError binding it, a traceback)."""
    result = run(vault_home, "redrive", str(2**63 - 1), str(2**63), "9" * 30)
    assert result.exit_code == 1
    assert "Traceback" not in result.output and result.stdout.startswith("Queued again: 0")
    for missing in (str(2**63 - 1), str(2**63), "9" * 30):
        assert f"Not queued: {missing}: no such event" in result.stderr


@pytest.mark.parametrize("arguments", [("list", "client_nobody"),
                                       ("attempts", "--client", "client_nobody"),
                                       ("redrive", "--client", "client_nobody")])
def test_an_unknown_client_as_a_filter_is_told_not_an_empty_answer(
        vault_home: VaultHome, arguments: tuple[str, ...]) -> None:
    """A mistyped client id was "No webhook endpoints", an empty table or "Queued again: 0
    events", status 0: as if the client had none."""
    brand_client(vault_home)
    result = run(vault_home, *arguments)
    assert result.exit_code == 1
    assert "no client 'client_nobody'" in result.output and "Queued" not in result.output


@pytest.mark.parametrize(("arguments", "says"), [
    ((), "name the events (IDs) or a client (--client)\n"),     # not "..., not both"
    (("1", "--client", "client_x"), "name the events (IDs) or a client (--client), not both"),
])
def test_redrive_names_events_or_a_client(vault_home: VaultHome, arguments, says: str) -> None:
    result = run(vault_home, "redrive", *arguments)
    assert result.exit_code == 2 and says in result.output


# -- the member pages feed the outbox -------------------------------------------------------------
@pytest.fixture
def velo_hooked(vault: Vault, vault_home: VaultHome) -> str:
    """Velo Bikes with one webhook endpoint; its client id."""
    client_id = brand_client(vault_home)
    assert run(vault_home, "add", client_id, "https://velo.example/hooks").exit_code == 0
    return client_id


def test_withdrawing_on_the_consents_page_queues_the_webhook(
        alice: SignedIn, vault: Vault, vault_home: VaultHome, velo_hooked: str) -> None:
    brand_id = brand_id_of(vault_home, velo_hooked)
    consent = open_consent(vault, vault_home)
    try:
        consent.terms.update(alice.id, agreement="SD-BASE-ATP", purposes=ALL_PURPOSES,
                             max_days=365, aggregate_allowed=True)
        offer = consent.agreements.proffer(alice.id, brand_id)
        consent.agreements.brand_accepts(offer.id, brand_id)
        grant, _ = consent.grants.grant(alice.id, BrandRequest(
            brand_id, "dpv:Personalisation", frozenset({"given_name"})))
    finally:
        consent.close()
    response = alice.auth.post(f"/member/consents/{grant.id}/withdraw",
                               form_page="/member/consents")
    assert response.status_code == 302
    lines = run(vault_home, "attempts").output.splitlines()
    assert len(lines) == 2 and "consent.withdrawn" in lines[1] and "pending" in lines[1]


def test_erasing_on_the_delete_page_queues_member_erased(
        alice: SignedIn, vault: Vault, vault_home: VaultHome, velo_hooked: str) -> None:
    brand_id = brand_id_of(vault_home, velo_hooked)
    pairwise_pseudonyms(database=vault.data, master=vault.master).pairwise_id(
        alice.id, brand_id)
    response = alice.auth.post("/member/delete", {"password": GOOD_PASSWORD, "confirm": "on"})
    assert response.status_code == 303
    assert vault.data.one("SELECT count(*) FROM members WHERE id = ?", (alice.id,))[0] == 0
    lines = run(vault_home, "attempts").output.splitlines()
    assert len(lines) == 2 and "member.erased" in lines[1] and "pending" in lines[1]
    payload = vault.data.one("SELECT payload FROM webhook_outbox")[0]
    assert alice.id not in payload and alice.email not in payload


# -- vrmvault serve delivers in the background ----------------------------------------------------
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return Path(f"/proc/{pid}/stat").exists() and \
        Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"


def start_server(vault_home: VaultHome, log: Path, *, port: int | None = None,
                 workers: int = 1) -> subprocess.Popen[bytes]:
    """``vrmvault serve`` on loopback (a free port unless given), its output in ``log``."""
    environment = {k: v for k, v in os.environ.items() if k != "VRMVAULT_MASTER_KEY"}
    with open(log, "wb") as output:
        return subprocess.Popen(
            [sys.executable, "-c", "from web.cli import main; main()", "--home",
             str(vault_home.root), "serve", "--port", str(port or _free_port()),
             "--workers", str(workers)],
            stdout=output, stderr=subprocess.STDOUT, env=environment)


def test_serve_delivers_webhooks_in_the_background(vault_home: VaultHome, receiver: Receiver,
                                                    tmp_path: Path) -> None:
    client_id = brand_client(vault_home)
    run(vault_home, "add", client_id, receiver.url)
    share_and_withdraw(vault_home, client_id)
    log = tmp_path / "serve.log"
    server = start_server(vault_home, log)
    try:
        deadline = time.monotonic() + 60
        # The delivery pass's line comes after the brand has the request: wait for both.
        while not (receiver.requests and "Webhooks: 1 attempted: 1 delivered" in log.read_text()
                   ) and time.monotonic() < deadline:
            assert server.poll() is None, log.read_text()
            time.sleep(0.1)
        assert receiver.requests, log.read_text()
        key = webhook_public_key(vault_home.master_key({}))
        assert verify(receiver.requests[0]["headers"], receiver.requests[0]["body"], key)
        delivery = [pid for pid in _children(server.pid)
                    if b"vrmvault webhooks deliver " in Path(f"/proc/{pid}/cmdline").read_bytes()]
    finally:
        assert stopped(server), "serve did not stop on SIGTERM"
    assert "Webhooks: 1 attempted: 1 delivered" in log.read_text()
    if Path("/proc").exists():
        assert len(delivery) == 1
        assert _gone(delivery[0]), "the delivery process outlived the server"


_DELIVER = "from web.cli import main; main()"


def test_the_delivery_loop_stops_on_sigterm(vault_home: VaultHome) -> None:
    loop = subprocess.Popen(
        [sys.executable, "-c", _DELIVER, "--home", str(vault_home.root), "webhooks", "deliver",
         "--interval", "0.2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert loop.stderr is not None
    assert loop.stderr.readline().startswith(b"Delivering webhooks every 0.2 s")
    _, errors = stopped_output(loop)
    assert loop.returncode == 0
    assert b"Webhook delivery stopped" in errors and b"Traceback" not in errors


def test_the_delivery_loop_ends_when_its_server_is_gone(vault_home: VaultHome) -> None:
    # A stand-in for vrmvault serve: starts the loop as serve does, then dies without a word.
    parent = subprocess.Popen(
        [sys.executable, "-c",
         "import os, subprocess, sys\n"
         f"loop = subprocess.Popen([sys.executable, '-c', {_DELIVER!r}, '--home', sys.argv[1],"
         " 'webhooks', 'deliver', '--interval', '0.2', '--parent-pid', str(os.getpid())])\n"
         "print(loop.pid, flush=True)\n"
         "loop.wait()\n", str(vault_home.root)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert parent.stdout is not None and parent.stderr is not None
    loop_pid = int(parent.stdout.readline())
    assert parent.stderr.readline().startswith(b"Delivering webhooks")
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 30
    while not _gone(loop_pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _gone(loop_pid), "the delivery loop outlived its server"
    parent.stdout.close()
    parent.stderr.close()
