"""A restore never gives back an access that was taken away: a backup of the data store is
older than the ledger, and every withdrawal, narrowing and end of a grant, and every staff role
taken away, that the ledger recorded since is made to hold again (consent/after_restore.py):
on SQLCipher by ``vrmvault restore``, on PostgreSQL by ``pg_restore`` then ``vrmvault
reapply-erasures`` (the README's procedure). Nor does it lose a data subject request, with
its deadline, or the restrictions requests made (compliance/after_restore.py)."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from brand_gateway.clients import ClientSecretHasher
from brand_gateway.dsr import dsr_service
from brand_gateway.errors import ClientAuthenticationError, ClientDisabledError
from brand_gateway.storage import client_registry
from compliance.after_restore import LOST_REASON, RESTORED
from compliance.deadlines import HolidayCalendar
from compliance.requests import Request, RequestService
from consent.context import Consent, open_consent
from consent.model import AccessEnd, GrantStatus
from tests.conftest import GOOD_PASSWORD, TEST_HASHING, home_environment, turn_on_totp
from tests.functional.conftest import SignedIn
from tests.functional.pages import text_of
from tests.functional.test_consent_pages import allowed, share
from tests.postgresql_server import binaries
from vault.clock import FrozenClock
from vault.errors import NotFoundError
from vault.home import VaultHome
from vault.members import ADMINISTRATOR, COMPLIANCE, MEMBER
from web.cli import main


def _vrmvault(home: VaultHome, *arguments: str) -> str:
    result = CliRunner().invoke(main, ["--home", str(home.root), *arguments],
                                env={"VRMVAULT_MASTER_KEY": "", **home_environment(home)},
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def _pg(program: str, *arguments: str) -> None:
    finished = subprocess.run([str(binaries() / program), *arguments], capture_output=True,
                              text=True, check=False)
    assert finished.returncode == 0, finished.stderr


def _backed_up(home: VaultHome, folder: Path) -> Callable[[], str]:
    """A backup of the data store taken now; what restores it (the command's output)."""
    if home.database_url is None:
        target = folder / "data.backup"
        _vrmvault(home, "backup", str(target))
        return lambda: _vrmvault(home, "restore", str(target), "--yes")
    dump = folder / "data.dump"
    _pg("pg_dump", "--format=custom", "--file", str(dump), "--dbname", home.database_url)

    def restore() -> str:
        assert home.database_url
        _pg("pg_restore", "--clean", "--if-exists", "--schema=public", "--dbname",
            home.database_url, str(dump))
        return _vrmvault(home, "reapply-erasures")
    return restore


@contextlib.contextmanager
def _consent(home: VaultHome, clock: FrozenClock) -> Iterator[Consent]:
    with home.open(clock=clock, hashing=TEST_HASHING) as vault:
        consent = open_consent(vault, home)
        try:
            yield consent
        finally:
            consent.close()


def test_what_a_member_took_away_after_the_backup_stays_away_after_a_restore(
        vault_home: VaultHome, tmp_path: Path) -> None:
    home, clock = vault_home, FrozenClock()
    with _consent(home, clock) as consent:
        vault = consent.vault
        alice = vault.members.register("alice@example.org", GOOD_PASSWORD)
        velo = vault.brands.add("Velo Bikes", ("bikes",))
        grocer = vault.brands.add("Greenleaf Grocers", ("groceries",))
        withdrawn, _, _ = share(consent, alice, velo)
        narrowed, _, _ = share(consent, alice, velo, purpose="dpv:CustomerCare",
                               fields=frozenset({"given_name", "city"}))
        ended, _, _ = share(consent, alice, grocer)
        untouched, _, _ = share(consent, alice, grocer, purpose="dpv:CustomerCare")
        expiring, _, _ = share(consent, alice, grocer, purpose="dpv:ServiceOptimisation",
                               days=1)
        released, _, _ = share(consent, alice, velo, purpose="dpv:ServiceOptimisation")
        replaced, _, _ = share(consent, alice, grocer, purpose="dpv:ServiceProvision")
    restore = _backed_up(home, tmp_path)
    clock.advance(3_600)
    with _consent(home, clock) as consent:
        consent.grants.withdraw(alice, withdrawn.id)
        clock.advance(60)
        consent.grants.narrow(alice, narrowed.id, fields=frozenset({"given_name"}))
        consent.grants.end_access(ended.id, AccessEnd.CLIENT_DISABLED)
        consent.grants.end_access(released.id, AccessEnd.REVOKED_BY_BRAND)
        given_since, _, _ = share(consent, alice, velo, purpose="dpv:ServiceProvision")
        # The member's newer choice replaced it; the restore loses that choice, and the older
        # one stays ended all the same (never more than the member's latest will).
        replacing, _, _ = share(consent, alice, grocer, purpose="dpv:ServiceProvision",
                                fields=frozenset({"given_name"}))
        clock.advance(86_400)
        assert [g.id for g in consent.grants.record_expiries()] == [expiring.id]
        now = {g: consent.grants.get(alice, g)
               for g in (withdrawn.id, narrowed.id, ended.id, untouched.id, expiring.id,
                         released.id, replaced.id)}
    assert now[withdrawn.id].status is GrantStatus.WITHDRAWN
    assert now[narrowed.id].fields == {"given_name"} and now[narrowed.id].version == 2
    assert now[ended.id].access_ended is AccessEnd.CLIENT_DISABLED
    assert now[released.id].status is GrantStatus.RELEASED
    assert now[replaced.id].replaced_by == replacing.id

    assert "brought 6 grants to what the ledger recorded since" in restore()

    with _consent(home, clock) as consent:
        for grant_id, before in now.items():
            assert consent.grants.get(alice, grant_id) == before, grant_id
        for lost in (given_since, replacing):               # consent given since: asked again
            with pytest.raises(NotFoundError):
                consent.grants.get(alice, lost.id)
        assert not allowed(consent, withdrawn, "given_name")
        assert allowed(consent, narrowed, "given_name") and not allowed(consent, narrowed,
                                                                        "city")
        assert consent.grants.record_expiries() == []       # its expiry is on record
        assert consent.reapply_recorded_changes().grants == 0   # once is enough


def test_a_staff_role_taken_away_after_the_backup_stays_taken_away_after_a_restore(
        vault_home: VaultHome, tmp_path: Path) -> None:
    home, clock = vault_home, FrozenClock()
    with home.open(clock=clock, hashing=TEST_HASHING) as vault:
        for name in ("revoked", "kept", "changed", "promoted"):
            account = vault.members.register(f"{name}@example.org", GOOD_PASSWORD)
            turn_on_totp(vault, account)
    for name in ("revoked", "kept", "changed"):
        _vrmvault(home, "officer", "grant", f"{name}@example.org")
    restore = _backed_up(home, tmp_path)
    _vrmvault(home, "officer", "revoke", "revoked@example.org")
    _vrmvault(home, "officer", "revoke", "changed@example.org")
    _vrmvault(home, "officer", "grant", "changed@example.org", "--role", ADMINISTRATOR)
    _vrmvault(home, "officer", "grant", "promoted@example.org")

    assert "took back 2 staff roles revoked since" in restore()

    with home.open(clock=clock, hashing=TEST_HASHING) as vault:
        roles = {name: vault.members.role(vault.members.find(f"{name}@example.org") or "")
                 for name in ("revoked", "kept", "changed", "promoted")}
    # Nothing is given back, nor given: a role given since is the operator's to give again.
    assert roles == {"revoked": MEMBER, "kept": COMPLIANCE, "changed": MEMBER,
                     "promoted": MEMBER}


def test_a_brand_client_disabled_or_given_a_new_secret_after_the_backup_stays_so(
        vault_home: VaultHome, tmp_path: Path) -> None:
    home = vault_home

    def create(name: str) -> tuple[str, str]:
        made = json.loads(_vrmvault(home, "brand", "create", "--name", name, "--redirect-uri",
                                    "https://example.org/callback"))
        return made["client_id"], made["client_secret"]

    (disabled, _), (rotated, old_secret), (kept, kept_secret) = (
        create("Velo Bikes"), create("Greenleaf Grocers"), create("Northwave Mobile"))
    restore = _backed_up(home, tmp_path)
    _vrmvault(home, "brand", "disable", disabled)
    # A rotation is told from the one the backup holds by its second: the next one.
    time.sleep(1.05)
    new_secret = json.loads(_vrmvault(home, "brand", "rotate-secret", rotated))["client_secret"]

    told = restore()
    assert "disabled again 1 brand client disabled since" in told
    assert f"rotate each again ('vrmvault brand rotate-secret CLIENT_ID') and hand the brand" \
           f" the new one: {rotated}" in told

    def authenticates(client_id: str, secret: str) -> bool:
        with home.open(hashing=TEST_HASHING) as vault:
            registry = client_registry(database=vault.data, clock=vault.clock,
                                       hasher=ClientSecretHasher.from_master(vault.master))
            try:
                registry.authenticate(client_id, secret)
            except (ClientAuthenticationError, ClientDisabledError):
                return False
            return True

    with home.open(hashing=TEST_HASHING) as vault:
        statuses = {client.client_id: client.status for client in client_registry(
            database=vault.data, clock=vault.clock,
            hasher=ClientSecretHasher.from_master(vault.master)).list()}
    assert statuses == {disabled: "disabled", rotated: "active", kept: "active"}
    # Neither the secret the backup knew nor the one the restore lost opens the client...
    assert not authenticates(rotated, old_secret) and not authenticates(rotated, new_secret)
    assert authenticates(kept, kept_secret)
    # ...until the operator rotates it again.
    again = json.loads(_vrmvault(home, "brand", "rotate-secret", rotated))["client_secret"]
    assert authenticates(rotated, again)
    assert "disabled again 0 brand clients" in _vrmvault(home, "reapply-erasures")
    assert authenticates(rotated, again)              # nothing voided twice


def test_a_members_latest_standing_terms_hold_after_a_restore(vault_home: VaultHome,
                                                              tmp_path: Path) -> None:
    home, clock = vault_home, FrozenClock()
    with _consent(home, clock) as consent:
        alice = consent.vault.members.register("alice@example.org", GOOD_PASSWORD)
        bob = consent.vault.members.register("bob@example.org", GOOD_PASSWORD)
        for member in (alice, bob):
            consent.terms.update(member, agreement="SD-BASE-ATP",
                                 purposes=["dpv:Personalisation", "dpv:CustomerCare"],
                                 max_days=365, aggregate_allowed=True)
        restored = consent.terms.get(bob)
    restore = _backed_up(home, tmp_path)
    with _consent(home, clock) as consent:
        clock.advance(600)
        consent.terms.update(alice, agreement="SD-BASE", purposes=["dpv:CustomerCare"],
                             max_days=30, aggregate_allowed=False)
        clock.advance(600)
        assert consent.terms.record_gpc(alice)       # her browser's GPC: sale/sharing opt-out
        latest = consent.terms.get(alice)
    assert not latest.aggregate_allowed and latest.gpc_opt_out and latest.gpc_at is not None

    assert "saved again the standing terms of 1 member changed since" in restore()

    with _consent(home, clock) as consent:
        assert consent.terms.get(alice) == latest
        assert consent.terms.get(bob) == restored               # unchanged since


def _requests(consent: Consent) -> RequestService:
    return dsr_service(consent, callback_base="http://localhost", calendar=HolidayCalendar())


def _as_restored(request: Request, *, received_since: bool = True) -> Request:
    """``request`` as a restore brings it back from the ledger, which holds what the member
    wrote and the reasons given only as digests, if at all: those are marked lost. (Of a
    request the backup holds, only what changed since.)"""
    row = dataclasses.replace(
        request.row, text_sealed=None if received_since else request.row.text_sealed,
        extension_reason=LOST_REASON if request.row.extension_reason else None,
        extension_reason_sealed=None)
    tasks = tuple(dataclasses.replace(t, reason=LOST_REASON if t.reason else None,
                                      reason_sealed=None)
                  for t in request.tasks)
    return Request(row, tasks, history=tuple(
        dataclasses.replace(h, id=0, reason=LOST_REASON if h.reason and h.state in (
            "extended", "denied") else h.reason, reason_sealed=None)
        for h in request.history))


def _seen(service: RequestService, request_id: str) -> Request:
    """A request as its officer sees it, its restore's own history step left out (ids
    renumbered: a restored history's rows are new)."""
    found = service.officer_view(request_id)
    return Request(found.row, found.tasks, history=tuple(
        dataclasses.replace(h, id=0) for h in found.history if h.state != RESTORED))


def test_data_subject_requests_received_since_the_backup_come_back_with_their_deadlines(
        vault_home: VaultHome, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    home, clock = vault_home, FrozenClock()
    with _consent(home, clock) as consent:
        vault, service = consent.vault, _requests(consent)
        alice = vault.members.register("alice@example.org", GOOD_PASSWORD)
        bob = vault.members.register("bob@example.org", GOOD_PASSWORD)
        olga = vault.members.register("olga@example.org", GOOD_PASSWORD)     # an officer
        velo = vault.brands.add("Velo Bikes", ("bikes",))
        grocer = vault.brands.add("Greenleaf Grocers", ("groceries",))
        alice_velo, _, _ = share(consent, alice, velo)
        alice_grocer, _, _ = share(consent, alice, grocer)
        share(consent, bob, velo)
        advanced = service.file(alice, kind="access", text="My bike orders, please.")
        service.fulfilled(advanced.id, "export")
        objection = service.file(bob, kind="objection")
        service.fulfil(bob, objection)                  # every brand, until bob lifts it
        old_objection = service.restrictions(bob)[0]
    restore = _backed_up(home, tmp_path)
    clock.advance(3_600)
    with _consent(home, clock) as consent:
        service = _requests(consent)
        for task in advanced.tasks:                     # open at the backup, closed since
            service.brand_update(task.brand_id, task.uid, state="completed")
        restricting = service.file(alice, kind="restriction", brands=[velo.id],
                                   text="Velo only, while I dispute my invoice.")
        service.fulfil(alice, restricting)              # Velo only: Grocer may read on
        clock.advance(60)
        forwarded = service.file(alice, kind="know", brands=[velo.id, grocer.id])
        service.fulfilled(forwarded.id, "export")
        by_brand = {t.brand_id: t.uid for t in forwarded.tasks}
        service.brand_update(velo.id, by_brand[velo.id], state="in_progress")
        service.brand_update(grocer.id, by_brand[grocer.id], state="denied",
                             reason="We hold nothing of this customer.")
        extended = service.file(bob, kind="access")
        service.extend(extended.id, officer_id=olga,
                       reason="Velo's archive is on tape: we need more time to read it.")
        closed = service.file(bob, kind="limit_sensitive", brands=[])
        service.fulfil(bob, closed)                     # no brand: closed at once
        clock.advance(60)
        for restriction in service.restrictions(bob):   # the old objection and the new limit
            service.lift(bob, restriction.id)
        ids = [advanced.id, restricting.id, forwarded.id, extended.id, closed.id]
        before = {request_id: _as_restored(service.officer_view(request_id),
                                           received_since=request_id != advanced.id)
                  for request_id in ids}
        restrictions = {member: service.restrictions(member) for member in (alice, bob)}
        queue = [r.id for r in service.queue(limit=50)]
        entries = consent.ledger.size
    listed = _vrmvault(home, "dsr", "list", "--format", "json")
    assert before[advanced.id].row.state == "closed"
    assert before[extended.id].row.extended_at is not None
    assert [r.lifted_at is not None for r in restrictions[bob]] == [True, True]
    assert old_objection in [dataclasses.replace(r, lifted_at=None) for r in restrictions[bob]]

    told = restore()
    assert ("brought back 4 data subject requests received since and brought 1 older one"
            " to what the ledger recorded since") in told
    assert "made again 2 processing restrictions they made and lifted again 2" in told

    def as_before() -> None:
        with _consent(home, clock) as consent:
            service = _requests(consent)
            for request_id in ids:
                assert _seen(service, request_id) == before[request_id], request_id
            assert {m: service.restrictions(m) for m in (alice, bob)} == restrictions
            assert [r.id for r in service.queue(limit=50)] == queue
            assert not allowed(consent, alice_velo, "given_name")     # restricted again
            assert allowed(consent, alice_grocer, "given_name")
            steps = {request_id: [h.reason for h in service.officer_view(request_id).history
                                  if h.state == RESTORED] for request_id in ids}
            assert consent.ledger.size == entries         # the entries were there already
        assert _vrmvault(home, "dsr", "list", "--format", "json") == listed
        # Each request the restore touched says so once, and what the ledger did not hold.
        assert all(len(found) == 1 for found in steps.values()), steps
        assert "what the member wrote" in steps[restricting.id][0]
        assert f"the reason {grocer.id} gave (denied)" in steps[forwarded.id][0]
        assert "the reason of its extension" in steps[extended.id][0]
        assert steps[advanced.id][0].startswith("brought forward from the ledger")

    as_before()
    again = _vrmvault(home, "reapply-erasures")
    assert ("brought back 0 data subject requests received since and brought 0 older ones"
            in again), again
    assert "made again 0 processing restrictions they made and lifted again 0" in again
    as_before()
    # The officer sees on the request's page that it came from the ledger, and what is lost.
    officer: SignedIn = request.getfixturevalue("officer")
    page = text_of(officer.client.get(f"/console/requests/{forwarded.id}").get_data(
        as_text=True))
    assert "Restored" in page and "made again from the ledger" in page
    assert "Refused" in page and LOST_REASON in page
