"""Everything consent needs, wired over one open vault: terms, agreements, grants, decisions.

The CLI builds one per command (:func:`open_consent`: its own ledger connection, closed with it).
The web layer keeps a :class:`ConsentResources` per set of kept connections (the ledger's
connection, its migrations checked once, and the receipt signer) and wires a :class:`Consent` over
it for each request; closing that one leaves the ledger open for the next request. The ledger and
the receipt signer both derive their keys from the vault's master key.

Consent's services get the repositories of the vault's data store on its engine
(``consent/<engine>/``, :mod:`vault.engines`); :func:`open_ledger` opens the ledger store.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from vault.clock import Clock, system_clock
from vault.engines import repository
from vault.export import Exporter
from vault.home import Vault, VaultHome
from vault.keys import MasterKey
from vault.repositories import BrandRepository, Store
from vault.schema import LEDGER

from .after_restore import (
    end_agreement_offers,
    make_narrower_agreements_again,
    narrow_brand_exceptions,
    reapply_grant_changes,
    reapply_standing_terms,
    revoke_lapsed_roles,
)
from .checkpoints import Ed25519NoteSigner
from .decision import DecisionPoint
from .export import consent_exporter
from .grants import ConsentService, GrantObserver
from .ledger import DEFAULT_CHECKPOINT_EVERY, SIGNING_KEY_PURPOSE, Ledger
from .pseudonyms import pairwise_key, pairwise_pseudonym
from .receipts import DEFAULT_CONTROLLER, Controller, ReceiptSigner
from .repositories import (
    AgreementRepository,
    GrantRepository,
    RestrictionRepository,
    TermsRepository,
)
from .terms import AgreementService, TermsService


def _on(database: Store, module: str, name: str) -> Any:
    """The repository ``name`` of ``consent/<engine>/<module>.py`` over ``database``, for its
    engine (:mod:`vault.engines`)."""
    return repository(database, "consent.{engine}." + module, name)

# The ledger's WAL is copied back every 10,000 pages (40 MiB) rather than SQLite's 1,000: an
# append of 1,000 brand reads writes about 1,300 pages, most of them the same member-ordered
# index pages as the batch before, so at 1,000 every commit paid a checkpoint and a sync
# (measured with bench/ledger.py: 9,100 entries/s at 1,000 pages, 12,400 at 10,000, 13,300 at
# 40,000 over the first 300,000 entries).
LEDGER_CHECKPOINT_PAGES = 10_000


def ledger_path(home: VaultHome) -> Path:
    """Where the ledger store of ``home`` is, with SQLCipher (on PostgreSQL: the schema
    ``ledger`` of the data database, vault/postgresql/stores.py)."""
    return home.root / LEDGER.file


def open_ledger(
    home: VaultHome,
    master: MasterKey,
    *,
    clock: Clock = system_clock,
    checkpoint_every: int = DEFAULT_CHECKPOINT_EVERY,
    origin: str | None = None,
) -> Ledger:
    """Open the ledger store of ``home`` (``ledger.db``, or its schema on PostgreSQL), making
    it and applying pending migrations as needed: the ledger over its engine's repositories."""
    database = home.open_store(LEDGER, master, migrate=True,
                               checkpoint_pages=LEDGER_CHECKPOINT_PAGES)
    signer = Ed25519NoteSigner(master.derive(SIGNING_KEY_PURPOSE), origin)
    return Ledger(_on(database, "ledger", "Ledger"), _on(database, "ledger", "AccessIndex"),
                  signer=signer, clock=clock, checkpoint_every=checkpoint_every,
                  search_index=_on(database, "ledger_search", "LedgerSearch"))


@dataclass(frozen=True)
class RestoredChanges:
    """How many grants, staff roles, members' standing terms, exceptions for one brand, offers
    of terms ended and agreements that narrowed the one in force a restore's reapplication
    changed or made again."""

    grants: int
    roles: int
    terms: int
    exceptions: int
    agreements: int
    narrower_agreements: int


def member_principal(vault: Vault, member_id: str) -> str:
    """The pseudonym that stands for a member in the ledger: the same whatever the brand, so
    never in anything a brand receives (those carry :meth:`Consent.brand_subject`)."""
    return "member:" + vault.pseudonyms.subject(member_id)[:32]


@dataclass
class Consent:
    vault: Vault
    ledger: Ledger
    signer: ReceiptSigner
    # Told of every grant event inside its transaction (see ConsentService); append before or
    # after first use of ``grants``: the service reads this very list at each event.
    observers: list[GrantObserver] = field(default_factory=list)
    owns_ledger: bool = True      # False: the ledger belongs to a ConsentResources
    _closed: bool = field(default=False, repr=False)

    def principal(self, member_id: str) -> str:
        """The pseudonym that stands for a member inside the vault: the ledger, and the
        member's own pages. Never handed to a brand (:meth:`brand_subject` is)."""
        return member_principal(self.vault, member_id)

    def brand_subject(self, member_id: str, brand_id: str) -> str:
        """How a member is named in what ``brand_id`` receives: receipts, agreement records
        (consent/pseudonyms.py); the same id as the brand API's ``subject``."""
        return pairwise_pseudonym(self._pairwise_key, member_id, brand_id)

    @cached_property
    def _pairwise_key(self) -> bytes:
        return pairwise_key(self.vault.master)

    @cached_property
    def terms(self) -> TermsService:
        return TermsService(terms=self._terms, brands=self._brands,
                            clock=self.vault.clock,
                            ledger=self.ledger, principal=self.principal,
                            signer=self._sign_record)

    @cached_property
    def agreements(self) -> AgreementService:
        return AgreementService(agreements=self._agreements,
                                brands=self._brands, terms=self.terms,
                                clock=self.vault.clock, signer=self._sign_record,
                                principal=self.principal, ledger=self.ledger,
                                subject=self.brand_subject)

    @cached_property
    def grants(self) -> ConsentService:
        return ConsentService(grants=self._grants, brands=self._brands, terms=self.terms,
                              agreements=self.agreements, receipts=self.signer,
                              ledger=self.ledger, principal=self.principal,
                              brand_subject=self.brand_subject,
                              clock=self.vault.clock, observers=self.observers)

    @cached_property
    def decisions(self) -> DecisionPoint:
        return DecisionPoint(grants=self._grants, terms=self.terms,
                             restrictions=self.restrictions_repository)

    @cached_property
    def export(self) -> Exporter:
        """Consent's part of a member's export (vault/export.py says how the parts meet)."""
        return consent_exporter(terms=self._terms, agreements=self._agreements,
                                grants=self._grants, brands=self._brands, ledger=self.ledger,
                                principal=self.principal)

    # The repositories of the vault's data store, on its engine.
    @cached_property
    def _terms(self) -> TermsRepository:
        return _on(self.vault.data, "terms", "Terms")

    @cached_property
    def _agreements(self) -> AgreementRepository:
        return _on(self.vault.data, "agreements", "Agreements")

    @cached_property
    def _grants(self) -> GrantRepository:
        return _on(self.vault.data, "grants", "Grants")

    @cached_property
    def restrictions_repository(self) -> RestrictionRepository:
        """Processing restrictions (consent/restrictions.py), which the decision point reads."""
        return _on(self.vault.data, "restrictions", "Restrictions")

    @cached_property
    def _brands(self) -> BrandRepository:
        return repository(self.vault.data, "vault.{engine}.brands", "Brands")

    def reapply_recorded_changes(self) -> RestoredChanges:
        """After the data store was restored from a backup: every withdrawal, narrowing and end
        of a grant, every staff role taken away, every member's standing terms, every exception
        for one brand narrowed or taken back, every offer of terms withdrawn or rejected and
        every agreement that narrowed the one in force that the ledger recorded since, made to
        hold again (consent/after_restore.py)."""
        if self.ledger.search_index is None:
            raise RuntimeError("this ledger was opened without its search index")
        search = self.ledger.search_index
        member_ids = self.vault.accounts.ids()
        return RestoredChanges(
            grants=reapply_grant_changes(search, self._grants),
            roles=len(revoke_lapsed_roles(search, self.vault.members, self.principal)),
            terms=reapply_standing_terms(search, self._terms, member_ids, self.principal),
            exceptions=narrow_brand_exceptions(search, self._terms, member_ids,
                                               self.principal),
            agreements=end_agreement_offers(search, self._agreements),
            narrower_agreements=make_narrower_agreements_again(
                search, self._agreements, member_ids, self.principal,
                subject=self.brand_subject, sign=self._sign_record))

    def _sign_record(self, document: dict[str, Any]) -> str:
        return self.signer.sign(document)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            if self.owns_ledger:
                self.ledger.close()
            else:
                self.ledger.end_use()


def open_consent(vault: Vault, home: VaultHome,
                 observers: Iterable[GrantObserver] = (), *,
                 controller: Controller = DEFAULT_CONTROLLER) -> Consent:
    """Consent over ``vault`` with a ledger connection of its own, closed with it; receipts
    name ``controller`` (the operator's settings, from the web layer; the demo operator in
    tests and tools)."""
    resources = ConsentResources.open(
        vault, home, signer=ReceiptSigner(vault.master, controller=controller))
    return Consent(vault, resources.ledger, resources.signer, observers=list(observers))


class ConsentResources:
    """What consent keeps between requests: the ledger's connection (its migrations applied
    or checked once, here) and the receipt signer.

    Nothing else is kept: the ledger re-reads its tree frontier under the write lock whenever
    another process appended, and every decision reads the grants afresh.
    """

    def __init__(self, ledger: Ledger, signer: ReceiptSigner) -> None:
        self.ledger = ledger
        self.signer = signer

    @classmethod
    def open(cls, vault: Vault, home: VaultHome, *,
             signer: ReceiptSigner | None = None) -> ConsentResources:
        ledger = open_ledger(home, vault.master, clock=vault.clock)
        return cls(ledger, signer or ReceiptSigner(vault.master, controller=DEFAULT_CONTROLLER))

    def consent(self, vault: Vault, observers: Iterable[GrantObserver] = ()) -> Consent:
        """Consent over ``vault`` (one request's) and the kept ledger; closing it ends the
        request's use of the ledger and leaves it open."""
        return Consent(vault, self.ledger, self.signer, observers=list(observers),
                       owns_ledger=False)

    def close(self) -> None:
        self.ledger.close()
