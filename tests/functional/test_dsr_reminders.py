"""Deadline mail of data subject requests from the keeper's pass (web/dsr_reminders.py),
through a real SMTP server: officers and the member are told when a request crosses into
amber, red and overdue, each level once, across a restart of the keeper; an erased member's
request reaches the officers only; a mail server that refuses leaves the level to the next
pass."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from brand_gateway.dsr import dsr_service
from compliance.deadlines import HolidayCalendar
from consent.context import Consent, open_ledger
from tests.brand_api_support import BrandApi
from tests.conftest import GOOD_PASSWORD, Inbox, MailCollector, free_port, turn_on_totp
from vault.clock import FrozenClock
from vault.home import Vault, VaultHome
from vault.members import COMPLIANCE
from web.config import from_environment
from web.dsr_reminders import EVERY, DeadlineReminders
from web.keeper import Keeper

DAY = 86_400


def _settings(inbox: Inbox) -> dict[str, Any]:
    settings = dict(from_environment({}))
    settings.update(VRMVAULT_SMTP_URL=inbox.smtp_url,
                    VRMVAULT_PUBLIC_URL="https://vault.example")
    return settings


def _keeper_pass(home: VaultHome, clock: FrozenClock, settings: dict[str, Any]) -> None:
    """One keeper, as a fresh ``vrmvault serve`` starts it: one pass, then closed."""
    master = home.master_key({})
    with open_ledger(home, master, clock=clock) as ledger:
        keeper = Keeper(home, master, ledger, checkpoint_interval=60, clock=clock,
                        reminders=DeadlineReminders(settings, home.root))
        try:
            keeper.one_pass()
        finally:
            keeper.close()


def test_each_level_is_told_once_to_officers_and_the_member(
        vault_home: VaultHome, vault: Vault, consent: Consent, clock: FrozenClock,
        inbox: Inbox) -> None:
    olive = vault.members.register("olive@example.org", GOOD_PASSWORD)
    turn_on_totp(vault, olive)
    vault.members.set_role(olive, COMPLIANCE)
    mia = vault.members.register("mia@example.org", GOOD_PASSWORD)
    filed = dsr_service(consent, callback_base="https://vault.example",
                        calendar=HolidayCalendar()).file(mia, kind="access")   # due 15 Feb
    settings = _settings(inbox)

    _keeper_pass(vault_home, clock, settings)
    assert inbox.messages() == []                       # green: nothing to say
    clock.advance(23 * DAY)                             # 7 February: 8 days left, amber
    _keeper_pass(vault_home, clock, settings)
    officer_mail = inbox.last("olive@example.org")
    assert filed.id in officer_mail["Subject"] and "under 10 days" in officer_mail["Subject"]
    assert consent.principal(mia) in officer_mail.get_content()
    assert "mia@example.org" not in officer_mail.get_content()
    assert "2027-02-15" in inbox.last("mia@example.org").get_content()
    clock.advance(EVERY)
    _keeper_pass(vault_home, clock, settings)           # a restart: told already
    assert len(inbox.messages()) == 2

    clock.advance(4 * DAY)                              # 4 days left: red
    _keeper_pass(vault_home, clock, settings)
    assert "under 5 days" in inbox.last("mia@example.org")["Subject"]
    clock.advance(10 * DAY)                             # overdue
    _keeper_pass(vault_home, clock, settings)
    _keeper_pass(vault_home, clock, settings)
    subjects = [m["Subject"] for m in inbox.messages("olive@example.org")]
    assert len(subjects) == 3 and "overdue" in subjects[-1]
    assert len(inbox.messages("mia@example.org")) == 3


def test_an_erased_members_request_reaches_the_officers_only(
        vault_home: VaultHome, vault: Vault, consent: Consent, clock: FrozenClock,
        inbox: Inbox, api: BrandApi) -> None:
    olive = vault.members.register("olive@example.org", GOOD_PASSWORD)
    turn_on_totp(vault, olive)
    vault.members.set_role(olive, COMPLIANCE)
    mia = vault.members.register("mia@example.org", GOOD_PASSWORD)
    api.grant(mia, api.brand("Velo Bikes"), "dpv:ServiceProvision", ["city"])  # still open
    service = dsr_service(consent, callback_base="https://vault.example",
                          calendar=HolidayCalendar())
    filed = service.file(mia, kind="delete")
    service.fulfilled(filed.id, "erasure")
    vault.erasure.erase(mia)
    clock.advance(40 * DAY)                             # 45-day request: 5 days left, amber
    _keeper_pass(vault_home, clock, _settings(inbox))
    assert [m["To"] for m in inbox.messages()] == ["olive@example.org"]


def test_a_refused_mail_leaves_the_level_to_the_next_pass(
        vault_home: VaultHome, vault: Vault, consent: Consent, clock: FrozenClock,
        inbox: Inbox) -> None:
    mia = vault.members.register("mia@example.org", GOOD_PASSWORD)
    dsr_service(consent, callback_base="https://vault.example",
                calendar=HolidayCalendar()).file(mia, kind="access")
    clock.advance(23 * DAY)
    broken = _settings(inbox)
    broken["VRMVAULT_SMTP_URL"] = "smtp://127.0.0.1:9"     # nobody listens there
    _keeper_pass(vault_home, clock, broken)
    assert inbox.messages() == []
    clock.advance(EVERY)
    _keeper_pass(vault_home, clock, _settings(inbox))
    assert len(inbox.messages("mia@example.org")) == 1


class RefusingCollector(MailCollector):
    """A mail server that refuses one mailbox (550), as a server does an address it does not
    deliver to, and takes the others."""

    def __init__(self, refused: str) -> None:
        super().__init__()
        self.refused = refused

    async def handle_RCPT(self, server, session, envelope, address,  # noqa: N802 (aiosmtpd)
                          rcpt_options) -> str:
        if address == self.refused:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"


@pytest.fixture
def refusing_inbox() -> Iterator[Inbox]:
    collector = RefusingCollector("gone@example.org")
    controller = Controller(collector, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield Inbox(collector, f"smtp://{controller.hostname}:{controller.port}")
    finally:
        controller.stop()


def test_an_address_the_server_refuses_keeps_no_one_else_from_being_told_once(
        vault_home: VaultHome, vault: Vault, consent: Consent, clock: FrozenClock,
        refusing_inbox: Inbox) -> None:
    """The oldest officer's address is refused: the claim was given back at once, so the other
    officer and the member were never told, on any pass (and had the refused address come last,
    everyone before it would have been told again on every pass)."""
    for address in ("gone@example.org", "olive@example.org"):     # oldest first
        officer = vault.members.register(address, GOOD_PASSWORD)
        turn_on_totp(vault, officer)
        vault.members.set_role(officer, COMPLIANCE)
    mia = vault.members.register("mia@example.org", GOOD_PASSWORD)
    dsr_service(consent, callback_base="https://vault.example",
                calendar=HolidayCalendar()).file(mia, kind="access")
    clock.advance(23 * DAY)                             # amber
    settings = _settings(refusing_inbox)
    for _ in range(3):
        _keeper_pass(vault_home, clock, settings)
        clock.advance(EVERY)
    assert len(refusing_inbox.messages("olive@example.org")) == 1
    assert len(refusing_inbox.messages("mia@example.org")) == 1
    assert refusing_inbox.messages("gone@example.org") == []


def test_an_officer_whose_key_was_lost_stops_no_reminder(
        vault_home: VaultHome, vault: Vault, consent: Consent, clock: FrozenClock,
        inbox: Inbox) -> None:
    """A key store restored from before one officer's key: reading the officers' addresses
    raised for that one, and no reminder went to anyone, on any pass."""
    for address in ("lost@example.org", "olive@example.org"):
        officer = vault.members.register(address, GOOD_PASSWORD)
        turn_on_totp(vault, officer)
        vault.members.set_role(officer, COMPLIANCE)
    vault.key_store.remove(vault.members.find("lost@example.org") or "")
    mia = vault.members.register("mia@example.org", GOOD_PASSWORD)
    dsr_service(consent, callback_base="https://vault.example",
                calendar=HolidayCalendar()).file(mia, kind="access")
    clock.advance(23 * DAY)                             # amber
    _keeper_pass(vault_home, clock, _settings(inbox))
    assert [m["To"] for m in inbox.messages()] == ["olive@example.org", "mia@example.org"]
