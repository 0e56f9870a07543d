"""``vrmvault officer``: the real command through click's runner, on a real store."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from consent.context import Consent, open_ledger
from consent.events import EventTag
from tests.conftest import GOOD_PASSWORD, TEST_HASHING, turn_on_totp
from vault.errors import ConflictError
from vault.home import VaultHome
from vault.members import ADMINISTRATOR, COMPLIANCE, MEMBER
from web.cli import main
from web.officer_cli import officer


def run(home: VaultHome, *args: str) -> Result:
    return CliRunner().invoke(main, ["--home", str(home.root), "officer", *args],
                              env={"VRMVAULT_MASTER_KEY": ""}, catch_exceptions=False)


def register(home: VaultHome, email: str, *, second_factor: bool = True) -> str:
    """An account, with two-step sign-in on unless told otherwise (officers need it)."""
    with home.open(hashing=TEST_HASHING) as vault:
        member_id = vault.members.register(email, GOOD_PASSWORD)
        if second_factor:
            turn_on_totp(vault, member_id)
        return member_id


def role_of(home: VaultHome, member_id: str) -> str | None:
    with home.open() as vault:
        return vault.members.role(member_id)


def test_the_group_has_its_commands() -> None:
    assert set(officer.commands) == {"grant", "revoke", "list"}


def test_grant_list_and_revoke(vault_home: VaultHome) -> None:
    olive = register(vault_home, "olive@example.org")
    register(vault_home, "alice@example.org")
    assert "No compliance officers" in run(vault_home, "list").output

    result = run(vault_home, "grant", "Olive@Example.org")     # addresses are normalised
    assert result.exit_code == 0, result.output
    assert result.output == "Olive@Example.org is now a compliance officer\n"
    assert role_of(vault_home, olive) == COMPLIANCE
    assert "is already a compliance officer" in run(vault_home, "grant",
                                                    "olive@example.org").output

    lines = run(vault_home, "list").output.splitlines()
    assert lines[0].split() == ["E-MAIL", "ROLE", "SIGNED", "UP", "TWO-STEP", "SIGN-IN"]
    with vault_home.open() as vault:
        signed_up = dt.datetime.fromtimestamp(vault.members.get(olive).created_at, dt.UTC)
    assert [line.split() for line in lines[1:]] == [
        ["olive@example.org", "compliance", signed_up.date().isoformat(), "on"]]

    result = run(vault_home, "revoke", "olive@example.org")
    assert result.exit_code == 0
    assert result.output == "olive@example.org is no longer a compliance officer\n"
    assert role_of(vault_home, olive) == MEMBER
    assert "is not a compliance officer" in run(vault_home, "revoke",
                                                "olive@example.org").output
    assert "No compliance officers" in run(vault_home, "list").output


@pytest.mark.parametrize("command", ["grant", "revoke"])
def test_an_unknown_address_fails_in_one_line(vault_home: VaultHome, command: str) -> None:
    result = run(vault_home, command, "nobody@example.org")
    assert result.exit_code == 1
    assert result.output == ("error: no account has that e-mail address; the officer signs up"
                             " first\n")


def test_a_malformed_address_is_a_usage_error(vault_home: VaultHome) -> None:
    result = run(vault_home, "grant", "not an address")
    assert result.exit_code == 2
    assert "Invalid value for EMAIL" in result.output and "Traceback" not in result.output


def test_commands_need_a_store(tmp_path: Path) -> None:
    result = run(VaultHome(tmp_path / "nothing"), "list")
    assert result.exit_code == 1 and "vrmvault init" in result.output


def test_the_role_outlives_nothing_it_should_not(vault_home: VaultHome) -> None:
    # An erased officer is gone from the list with the rest of the account.
    olive = register(vault_home, "olive@example.org")
    run(vault_home, "grant", "olive@example.org")
    with vault_home.open() as vault:
        vault.erasure.erase(olive)
    assert "No compliance officers" in run(vault_home, "list").output


def test_each_role_change_is_in_the_ledger_by_pseudonym(vault_home: VaultHome) -> None:
    olive = register(vault_home, "olive@example.org")
    master = vault_home.master_key({})
    with open_ledger(vault_home, master) as ledger:
        before = ledger.size
    run(vault_home, "grant", "olive@example.org")
    run(vault_home, "grant", "olive@example.org")          # no change: nothing recorded
    run(vault_home, "revoke", "olive@example.org")
    run(vault_home, "revoke", "olive@example.org")
    run(vault_home, "grant", "--role", "administrator", "olive@example.org")
    with vault_home.open() as vault, open_ledger(vault_home, master) as ledger:
        entries = [ledger.entry(seq) for seq in range(before, ledger.size)]
        principal = Consent(vault, ledger, signer=None).principal(olive)  # type: ignore[arg-type]
    assert [(e.tag, e.actor, dict(e.details)) for e in entries] == [
        (EventTag.OFFICER_ROLE_GRANTED, "operator", {"member": principal, "role": COMPLIANCE}),
        (EventTag.OFFICER_ROLE_REVOKED, "operator", {"member": principal, "role": COMPLIANCE}),
        (EventTag.OFFICER_ROLE_GRANTED, "operator",
         {"member": principal, "role": ADMINISTRATOR})]
    assert all(b"olive" not in e.body and olive.encode() not in e.body for e in entries)


def test_an_account_without_two_step_sign_in_is_refused_the_role(vault_home: VaultHome) -> None:
    olive = register(vault_home, "olive@example.org", second_factor=False)
    result = run(vault_home, "grant", "olive@example.org")
    assert result.exit_code == 1
    assert result.output.startswith("error: that account has no two-step sign-in;")
    assert "a compliance officer must turn it on" in result.output
    assert role_of(vault_home, olive) == MEMBER
    result = run(vault_home, "grant", "--role", "administrator", "olive@example.org")
    assert result.exit_code == 1 and "an administrator must turn it on" in result.output


def test_an_officer_cannot_turn_two_step_sign_in_off(vault_home: VaultHome) -> None:
    olive = register(vault_home, "olive@example.org")
    assert run(vault_home, "grant", "olive@example.org").exit_code == 0
    with vault_home.open() as vault:
        with pytest.raises(ConflictError, match="officers must keep two-step sign-in on"):
            vault.members.disable_totp(olive)
        assert vault.members.has_second_factor(olive)
    assert run(vault_home, "revoke", "olive@example.org").exit_code == 0
    with vault_home.open() as vault:
        vault.members.disable_totp(olive)         # an ordinary member may
        assert not vault.members.has_second_factor(olive)


def test_an_administrator_is_made_listed_and_revoked_apart_from_officers(
        vault_home: VaultHome) -> None:
    adam = register(vault_home, "adam@example.org")
    register(vault_home, "olive@example.org")
    run(vault_home, "grant", "olive@example.org")
    result = run(vault_home, "grant", "--role", "administrator", "adam@example.org")
    assert result.output == "adam@example.org is now an administrator\n"
    assert role_of(vault_home, adam) == ADMINISTRATOR
    rows = [line.split()[:2] for line in run(vault_home, "list").output.splitlines()[1:]]
    assert sorted(rows) == [["adam@example.org", "administrator"],
                            ["olive@example.org", "compliance"]]
    # Revoking the role the account does not hold changes nothing, and says which it holds.
    assert run(vault_home, "revoke", "adam@example.org").output == (
        "adam@example.org is not a compliance officer (it is an administrator, which it keeps:"
        " --role administrator revokes that)\n")
    assert role_of(vault_home, adam) == ADMINISTRATOR
    # One account holds one of the two roles: the other is refused until this one is revoked.
    result = run(vault_home, "grant", "adam@example.org")
    assert result.exit_code == 1 and "revoke that one first" in result.output
    assert "that account is an administrator;" in result.output
    with vault_home.open() as vault:
        with pytest.raises(ConflictError, match="administrators must keep two-step sign-in"):
            vault.members.disable_totp(adam)
    assert run(vault_home, "revoke", "--role", "administrator", "adam@example.org").output == (
        "adam@example.org is no longer an administrator\n")
    assert role_of(vault_home, adam) == MEMBER


def test_an_unknown_role_is_a_usage_error(vault_home: VaultHome) -> None:
    register(vault_home, "olive@example.org")
    result = run(vault_home, "grant", "--role", "root", "olive@example.org")
    assert result.exit_code == 2 and "Invalid value for '--role'" in result.output


def test_the_list_goes_on_past_an_account_whose_key_was_lost(vault_home: VaultHome) -> None:
    """A key store restored from before one officer's key: 'officer list' failed on that
    account and listed no one."""
    lost = register(vault_home, "lost@example.org")
    register(vault_home, "olive@example.org")
    run(vault_home, "grant", "lost@example.org")
    run(vault_home, "grant", "olive@example.org")
    with vault_home.open() as vault:
        vault.key_store.remove(lost)
    result = run(vault_home, "list")
    assert result.exit_code == 0, result.output
    assert [line.split()[:2] for line in result.stdout.splitlines()[1:]] == [
        ["olive@example.org", "compliance"]]
    assert "1 account with a role is not listed: its key was lost" in result.stderr
