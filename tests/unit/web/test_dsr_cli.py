"""``vrmvault dsr list``: the real command through click's runner on a real store: open
requests by time left, overdue first, pseudonyms only; ``--overdue`` and JSON."""

from __future__ import annotations

import json
import time

import pytest
from click.testing import CliRunner, Result

from brand_gateway.dsr import dsr_service
from compliance.deadlines import HolidayCalendar
from consent.context import open_consent
from tests.unit.consent.conftest import Sharing
from vault.clock import FrozenClock
from vault.home import VaultHome
from web.cli import main

DAY = 86_400


def run(home: VaultHome, *args: str) -> Result:
    return CliRunner().invoke(main, ["--home", str(home.root), "dsr", "list", *args],
                              env={"VRMVAULT_MASTER_KEY": ""}, catch_exceptions=False)


@pytest.fixture
def world(vault_home: VaultHome) -> dict[str, str]:
    """Alice's access request made 40 days ago (overdue) and her know request made today;
    Velo holds her data."""
    ids: dict[str, str] = {}
    for age, kind in ((40 * DAY, "access"), (0, "know")):
        with vault_home.open(clock=FrozenClock(time.time() - age)) as vault:
            consent = open_consent(vault, vault_home)
            try:
                sharing = Sharing(consent)
                if not ids:
                    velo = sharing.brand("Velo Bikes")
                    ids["alice"] = sharing.member("alice@example.org")
                    sharing.ready(ids["alice"], velo.id)
                    sharing.grant(ids["alice"], velo.id)
                    ids["principal"] = consent.principal(ids["alice"])
                filed = dsr_service(consent, callback_base="http://localhost",
                                    calendar=HolidayCalendar()).file(ids["alice"], kind=kind)
                ids[kind] = filed.id
            finally:
                consent.close()
    return ids


def test_the_queue_by_time_left_with_pseudonyms_only(vault_home: VaultHome,
                                                     world: dict[str, str]) -> None:
    result = run(vault_home)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split()[:4] == ["urgency", "days_left", "due_on", "request"]
    assert world["access"] in lines[1] and lines[1].startswith("overdue")
    assert world["know"] in lines[2] and lines[2].startswith("green")
    assert world["principal"] in result.stdout and "alice@example.org" not in result.output
    assert "0/1" in lines[1]


def test_overdue_only_and_json(vault_home: VaultHome, world: dict[str, str]) -> None:
    result = run(vault_home, "--overdue", "--format", "json")
    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout)["requests"]
    assert [r["request"] for r in listed] == [world["access"]]
    assert listed[0]["urgency"] == "overdue" and listed[0]["days_left"] < 0
    assert listed[0]["member"] == world["principal"]


def test_an_empty_queue_says_so(vault_home: VaultHome) -> None:
    assert run(vault_home).stdout.strip() == "No open request."
    assert run(vault_home, "--overdue").stdout.strip() == "No open request is overdue."
