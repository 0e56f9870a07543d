"""brand_gateway.reads: the read pipeline without Flask. A read releases only granted fields,
is in the access spool (and so the ledger) before it is answered, and counts against the
client's rate; an unknown token is never counted; past the rate nothing is recorded, and once
refused nothing is read until the window ends."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from brand_gateway.api_errors import InvalidTokenError, RateLimitedError
from brand_gateway.rate_limits import SpentWindows
from brand_gateway.reads import MemberDataReads
from brand_gateway.storage import open_rate_counts, rate_limiter
from consent.context import Consent, open_ledger
from consent.events import EventTag
from consent.ledger import Ledger
from consent.spool import SpoolDirectory, SpoolWriter
from tests.brand_api_support import BrandApi
from tests.conftest import GOOD_PASSWORD
from vault.clock import FrozenClock
from vault.home import Vault, VaultHome
from vault.sqlcipher.database import Database

PURPOSE = "dpv:Personalisation"


@pytest.fixture
def spools(vault_home: VaultHome) -> SpoolDirectory:
    return SpoolDirectory(vault_home, vault_home.master_key({}))


@pytest.fixture
def spool(spools: SpoolDirectory) -> Iterator[SpoolWriter]:
    writer = spools.writer()
    yield writer
    writer.close()


@pytest.fixture
def rate_counts(vault_home: VaultHome) -> Iterator[Database]:
    database = open_rate_counts(vault_home, vault_home.master_key({}))
    yield database
    database.close()


@pytest.fixture
def ledger(vault_home: VaultHome, clock: FrozenClock) -> Iterator[Ledger]:
    with open_ledger(vault_home, vault_home.master_key({}), clock=clock) as opened:
        yield opened


def pipeline(vault: Vault, consent: Consent, spool: SpoolWriter, rate_counts: Database,
             clock: FrozenClock, *, limit: int = 100) -> MemberDataReads:
    spent = SpentWindows()
    return MemberDataReads(
        vault=vault, clock=clock, consent=lambda: consent, spool=lambda: spool,
        limiter=lambda: rate_limiter(database=rate_counts, clock=clock, limit=limit,
                                     spent=spent),
        spent=spent)


@pytest.fixture
def member(vault: Vault) -> str:
    member_id = vault.members.register("alice@example.org", GOOD_PASSWORD)
    vault.profile.update(member_id, {"given_name": "Alice", "city": "Ghent",
                                     "family_name": "Liddell"})
    return member_id


def test_a_read_releases_the_granted_fields_and_is_recorded_before_it_is_answered(
        vault: Vault, consent: Consent, spool: SpoolWriter, spools: SpoolDirectory,
        rate_counts: Database, ledger: Ledger, clock: FrozenClock, member: str) -> None:
    api = BrandApi(vault, consent)
    velo = api.brand()
    issued = api.member_token(member, velo, {PURPOSE: ["given_name", "city"]})
    reads = pipeline(vault, consent, spool, rate_counts, clock)

    read = reads.profile(issued.token, lambda: {"field_names": ["given_name", "family_name"]})

    assert read.release.values == {"given_name": "Alice"}
    assert read.release.withheld == ("family_name",)
    assert read.purpose == PURPOSE and read.subject == api.subject(member, velo)
    first = ledger.size
    assert spools.merge_all(ledger) == 1
    entry = ledger.entry(first)
    assert entry.tag is EventTag.ACCESS_PROFILE_READ
    assert entry.actor == "brand:" + velo.brand_id
    assert dict(entry.details)["fields"] == ["given_name"]
    assert dict(entry.details)["grants"] == [issued.grant.id]


def test_an_unknown_token_is_refused_and_never_counted(
        vault: Vault, consent: Consent, spool: SpoolWriter, spools: SpoolDirectory,
        rate_counts: Database, ledger: Ledger, clock: FrozenClock, member: str) -> None:
    api = BrandApi(vault, consent)
    velo = api.brand()
    issued = api.member_token(member, velo, {PURPOSE: ["given_name"]})
    reads = pipeline(vault, consent, spool, rate_counts, clock, limit=1)
    with pytest.raises(InvalidTokenError):
        reads.profile("not-a-token", lambda: {})
    # The one request of the minute is still the brand's to make.
    assert reads.profile(issued.token, lambda: {}).release.values == {"given_name": "Alice"}


def test_a_withdrawal_shows_on_the_very_next_read(
        vault: Vault, consent: Consent, spool: SpoolWriter, rate_counts: Database,
        clock: FrozenClock, member: str) -> None:
    api = BrandApi(vault, consent)
    issued = api.member_token(member, api.brand(), {PURPOSE: ["given_name"]})
    reads = pipeline(vault, consent, spool, rate_counts, clock)
    reads.profile(issued.token, lambda: {})
    consent.grants.withdraw(member, issued.grant.id)
    with pytest.raises(InvalidTokenError):
        reads.profile(issued.token, lambda: {})


def test_past_the_rate_nothing_is_read_or_recorded(
        vault: Vault, consent: Consent, spool: SpoolWriter, spools: SpoolDirectory,
        rate_counts: Database, ledger: Ledger, clock: FrozenClock, member: str) -> None:
    api = BrandApi(vault, consent)
    issued = api.member_token(member, api.brand(), {PURPOSE: ["given_name"]})
    reads = pipeline(vault, consent, spool, rate_counts, clock, limit=2)
    for _ in range(2):
        reads.profile(issued.token, lambda: {})
    queried: list[bool] = []

    def query() -> dict[str, object]:
        queried.append(True)
        return {}

    with pytest.raises(RateLimitedError):
        reads.profile(issued.token, lambda: {})     # counted past the limit: not recorded
    with pytest.raises(RateLimitedError):
        reads.profile(issued.token, query)
    assert queried == [], "a client refused in this window is refused before anything is read"
    assert spools.merge_all(ledger) == 2
