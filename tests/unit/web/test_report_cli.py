"""``vrmvault report``: the real commands through click's runner, on a real store, with brand
reads spooled by the API's workers (merged by the command before it reports)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from consent.context import open_consent
from consent.event_details import ProfileRead
from consent.events import Event
from consent.spool import SpoolDirectory
from tests.unit.consent.conftest import Sharing
from vault.home import VaultHome
from web.cli import main
from web.report_cli import report

SECRETS = ("alice@example.org", "bob@example.org", "Alicia", "Zanzibar")


def run(home: VaultHome, *args: str) -> Result:
    return CliRunner().invoke(main, ["--home", str(home.root), "report", *args],
                              env={"VRMVAULT_MASTER_KEY": ""}, catch_exceptions=False)


@pytest.fixture
def world(vault_home: VaultHome) -> dict[str, str]:
    """Velo: Alice's name (read once, the read still in a worker's spool) and Bob's city;
    Grocer: nothing."""
    with vault_home.open() as vault:
        consent = open_consent(vault, vault_home)
        try:
            sharing = Sharing(consent)
            velo, grocer = sharing.brand("Velo Bikes"), sharing.brand("Green Grocer")
            alice = sharing.member("alice@example.org")
            bob = sharing.member("bob@example.org")
            vault.profile.update(alice, {"given_name": "Alicia", "city": "Zanzibar"})
            for member in (alice, bob):
                sharing.ready(member, velo.id)
            named, _ = sharing.grant(alice, velo.id, "dpv:Personalisation", ("given_name",))
            sharing.grant(bob, velo.id, "dpv:Personalisation", ("city",))
            spool = SpoolDirectory(vault_home, vault.master).writer()
            spool.append(Event.of(ProfileRead(
                member=consent.principal(alice), client="client_x", purpose=named.purpose,
                fields=["given_name"], grants=[named.id]), f"brand:{velo.id}"), vault.clock())
            spool.close()
            return {"velo": velo.id, "grocer": grocer.id, "alice": consent.principal(alice),
                    "bob": consent.principal(bob), "alice_id": alice, "bob_id": bob}
        finally:
            consent.close()


def test_the_group_has_its_commands() -> None:
    assert set(report.commands) == {"ropa", "exposure"}


def test_ropa_as_csv_by_default_with_a_progress_bar(vault_home: VaultHome, world) -> None:
    result = run(vault_home, "ropa")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["brand"], r["purpose"], r["members"]) for r in rows] == [
        ("Green Grocer", "", "0"), ("Velo Bikes", "dpv:Personalisation", "2")]
    assert "Reading brands" in result.stderr
    for secret in SECRETS:
        assert secret not in result.output


@pytest.mark.parametrize("chosen", [("--format", "json"), ()], ids=["--format", "name"])
def test_ropa_as_json_to_a_file(vault_home: VaultHome, world, tmp_path: Path,
                                chosen: tuple[str, ...]) -> None:
    """JSON when asked, or when the file's name ends in .json (it held CSV), as ``vrmvault
    ledger export`` chooses by the name too."""
    target = tmp_path / "ropa.json"
    result = run(vault_home, "ropa", *chosen, "--output", str(target))
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert f"wrote {target}" in result.stderr
    document = json.loads(target.read_text())
    assert document["basis"].startswith("GDPR Art. 30(1)")
    assert [b["name"] for b in document["brands"]] == ["Green Grocer", "Velo Bikes"]


def test_a_file_named_for_json_still_gets_csv_when_asked(vault_home: VaultHome, world,
                                                         tmp_path: Path) -> None:
    target = tmp_path / "exposure.JSON"
    result = run(vault_home, "exposure", world["velo"], "--format", "csv", "--output",
                 str(target))
    assert result.exit_code == 0, result.output
    assert target.read_text().startswith("principal,email,")
    named = tmp_path / "exposure.json"
    assert run(vault_home, "exposure", world["velo"], "--output", str(named)).exit_code == 0
    assert json.loads(named.read_text())["case"] == f"exposure:{world['velo']}"


def test_exposure_merges_spooled_reads_and_names_members_by_pseudonym(
        vault_home: VaultHome, world) -> None:
    result = run(vault_home, "exposure", world["velo"])
    assert result.exit_code == 0, result.output
    rows = {r["principal"]: r for r in csv.DictReader(io.StringIO(result.stdout))}
    assert set(rows) == {world["alice"], world["bob"]}
    assert rows[world["alice"]]["reads"] == "1"          # the spooled read, merged first
    assert rows[world["alice"]]["fields_read"] == "given_name"
    assert rows[world["bob"]]["reads"] == "0"
    assert all(r["email"] == "" for r in rows.values())
    assert "Reading members" in result.stderr
    for secret in (*SECRETS, world["alice_id"], world["bob_id"]):
        assert secret not in result.output


def test_exposure_as_json(vault_home: VaultHome, world) -> None:
    result = run(vault_home, "exposure", world["velo"], "--format", "json")
    document = json.loads(result.stdout)
    assert document["case"] == f"exposure:{world['velo']}"
    assert document["totals"]["members"] == 2 and document["totals"]["reads"] == 1
    assert all("email" not in m for m in document["members"])


def test_a_brand_with_no_member_has_an_empty_report(vault_home: VaultHome, world) -> None:
    result = run(vault_home, "exposure", world["grocer"])
    assert result.exit_code == 0
    assert result.stdout.strip() == ",".join(
        ["principal", "email", "since", "fields", "aggregate_only", "grant_ids", "purposes",
         "modes", "states", "reads", "fields_read", "first_read", "last_read"])


@pytest.mark.parametrize(("args", "status", "says"), [
    (("exposure", "brand_nosuch"), 1, "no such brand"),
    (("ropa", "--format", "xml"), 2, "'xml' is not one of 'csv', 'json'"),
    (("exposure",), 2, "Missing argument 'BRAND'"),
])
def test_failures_are_one_line(vault_home: VaultHome, world, args, status: int,
                               says: str) -> None:
    result = run(vault_home, *args)
    assert result.exit_code == status
    assert says in result.output


def test_a_missing_store_is_refused(tmp_path: Path) -> None:
    result = run(VaultHome(tmp_path / "nothing"), "ropa")
    assert result.exit_code == 1
    assert "run 'vrmvault init' first" in result.output
