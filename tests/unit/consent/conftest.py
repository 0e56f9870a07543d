"""Fixtures and helpers of the consent tests: ledgers in temporary vault homes, raw store access
for tampering (beneath the Ledger API, as an attacker holding the store key would), and a tiny
independent RFC 9162 implementation to check the real one against."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from consent.context import ledger_path, open_ledger
from consent.events import Event, EventTag
from consent.ledger import Ledger
from vault.clock import FrozenClock
from vault.home import VaultHome
from vault.keys import MasterKey
from vault.sqlcipher.database import Database


# -- an independent reference: RFC 9162 2.1.1, 2.1.3.1 and 2.1.4.1, written out recursively -----
def reference_leaf(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def reference_node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def reference_mth(leaves: list[bytes]) -> bytes:
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return reference_leaf(leaves[0])
    k = _k(len(leaves))
    return reference_node(reference_mth(leaves[:k]), reference_mth(leaves[k:]))


def reference_path(m: int, leaves: list[bytes]) -> list[bytes]:
    if len(leaves) <= 1:
        return []
    k = _k(len(leaves))
    if m < k:
        return reference_path(m, leaves[:k]) + [reference_mth(leaves[k:])]
    return reference_path(m - k, leaves[k:]) + [reference_mth(leaves[:k])]


def reference_subproof(m: int, leaves: list[bytes], whole: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if whole else [reference_mth(leaves)]
    k = _k(n)
    if m <= k:
        return reference_subproof(m, leaves[:k], whole) + [reference_mth(leaves[k:])]
    return reference_subproof(m - k, leaves[k:], False) + [reference_mth(leaves[:k])]


def reference_proof(m: int, leaves: list[bytes]) -> list[bytes]:
    return reference_subproof(m, leaves, True)


# -- ledgers ----------------------------------------------------------------------------------
def pseudonym(number: int) -> str:
    return hashlib.sha256(f"member-{number}".encode()).hexdigest()


def events(count: int, start: int = 0) -> list[Event]:
    return [Event(EventTag.ACCESS_PROFILE_READ, pseudonym(i),
                  {"brand": pseudonym(-1)[:16], "field": "postcode", "purpose": "dpv:Marketing",
                   "n": i})
            for i in range(start, start + count)]


def new_ledger(root: Path, *, entries: int = 0, checkpoint_every: int = 0,
               master: MasterKey | None = None) -> tuple[Ledger, VaultHome, MasterKey]:
    """A ledger in a fresh home under ``root`` holding ``entries`` events."""
    home = VaultHome(root)
    master = master or MasterKey(bytes(range(32)))
    ledger = open_ledger(home, master, clock=FrozenClock(), checkpoint_every=checkpoint_every)
    if entries:
        ledger.record_events(events(entries))
    return ledger, home, master


@contextmanager
def raw_store(home: VaultHome, master: MasterKey) -> Iterator[Database]:
    """The ledger's SQLCipher file opened directly, in one write transaction."""
    database = Database.open(ledger_path(home), master.derive("ledger-store"))
    try:
        with database.transaction():
            yield database
    finally:
        database.close()


def stored_bodies(database: Database) -> list[bytes]:
    return [bytes(r[0]) for r in database.all("SELECT body FROM entries ORDER BY seq")]


def replace_entries(database: Database, bodies: list[bytes]) -> None:
    """Rewrite the entries table as ``bodies``, numbered 0.. (the tree is left as it was)."""
    database.execute("DELETE FROM entries")
    database.executemany("INSERT INTO entries (seq, body) VALUES (?, ?)", list(enumerate(bodies)))


@pytest.fixture
def master(vault_home: VaultHome) -> MasterKey:
    return vault_home.master_key({})


@pytest.fixture
def ledger(vault_home: VaultHome, master: MasterKey, clock: FrozenClock) -> Iterator[Ledger]:
    opened = open_ledger(vault_home, master, clock=clock, checkpoint_every=0)
    yield opened
    opened.close()


# -- consent services over a real vault ---------------------------------------------
from collections.abc import Iterable  # noqa: E402
from typing import Any  # noqa: E402

from consent.context import Consent, open_consent  # noqa: E402
from consent.grants import BrandRequest, StoredReceipt  # noqa: E402
from consent.model import AgreementRecord, Grant, Mode, PersonalTerms  # noqa: E402
from consent.vocabulary import PURPOSES  # noqa: E402
from tests.conftest import GOOD_PASSWORD  # noqa: E402
from vault.brands import Brand  # noqa: E402
from vault.home import Vault  # noqa: E402

ALL_PURPOSES = frozenset(p.code for p in PURPOSES)
EVERY_USE_TERM = "SD-BASE-ATP"        # permits every purpose of the catalog


@pytest.fixture
def consent_vault(vault: Vault) -> Vault:
    """The test vault (its data store holds the consent tables, as ``vrmvault init`` makes it)."""
    return vault


@pytest.fixture
def consent(consent_vault: Vault, vault_home: VaultHome) -> Iterator[Consent]:
    opened = open_consent(consent_vault, vault_home)
    yield opened
    opened.close()


class Sharing:
    """Builds members, terms, agreements and grants through the consent services."""

    def __init__(self, consent: Consent) -> None:
        self.consent = consent
        self.vault = consent.vault
        self._members = 0

    def member(self, email: str | None = None) -> str:
        self._members += 1
        return self.vault.members.register(email or f"member{self._members}@example.org",
                                           GOOD_PASSWORD)

    def brand(self, name: str = "Fresh Grocer") -> Brand:
        return self.vault.brands.add(name, ("groceries",))

    def terms(self, member_id: str, *, agreement: str = EVERY_USE_TERM,
              purposes: Iterable[str] = ALL_PURPOSES, max_days: int = 365,
              aggregate_allowed: bool = True, **more: Any) -> PersonalTerms:
        return self.consent.terms.update(member_id, agreement=agreement, purposes=purposes,
                                         max_days=max_days,
                                         aggregate_allowed=aggregate_allowed, **more)

    def agree(self, member_id: str, brand_id: str) -> AgreementRecord:
        offer = self.consent.agreements.proffer(member_id, brand_id)
        return self.consent.agreements.brand_accepts(offer.id, brand_id)

    def ready(self, member_id: str, brand_id: str, **terms: Any) -> AgreementRecord:
        """Terms accepting every purpose, then an agreement with the brand on them."""
        self.terms(member_id, **terms)
        return self.agree(member_id, brand_id)

    def grant(self, member_id: str, brand_id: str, purpose: str = "dpv:Personalisation",
              fields: Iterable[str] = ("given_name", "category:interests"), *,
              chosen: Iterable[str] | None = None, mode: Mode = Mode.INDIVIDUAL,
              **request: Any) -> tuple[Grant, StoredReceipt]:
        return self.consent.grants.grant(
            member_id, BrandRequest(brand_id, purpose, frozenset(fields), mode=mode, **request),
            fields=chosen)


@pytest.fixture
def sharing(consent: Consent) -> Sharing:
    return Sharing(consent)
