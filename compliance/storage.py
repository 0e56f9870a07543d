"""The one place compliance chooses its storage engine: its services over SQLCipher.

Each function builds a service of ``compliance/`` over the SQLCipher repositories
(``compliance/sqlcipher/``) of an open :class:`vault.sqlcipher.database.Database` (the data
store's), as ``community/storage.py`` does for the insight community. The services see only
the contracts of ``compliance/repositories.py``; building is cheap, so callers build per use.
"""

from __future__ import annotations

from collections.abc import Iterable

from consent.context import Consent

from .reports import ReportService
from .reveals import EXPOSURE_CASE, RevealService
from .sqlcipher.reports import SqlcipherReports
from .sqlcipher.reveals import SqlcipherReveals


# -- Reveals ------------------------------------------------------------------------------
def reveal_service(consent: Consent) -> RevealService:
    """Reveals over the data store of ``consent``'s vault (reasons sealed with its member
    keys) and its ledger. The members of an exposure case are those who ever granted that
    brand anything; a data subject request's case does not narrow them yet (every account is
    searched for the pseudonym) until requests are stored."""
    vault = consent.vault
    reveals = SqlcipherReveals(vault.data)

    def case_members(case: str) -> Iterable[str] | None:
        exposure = EXPOSURE_CASE.fullmatch(case)
        if exposure:
            return reveals.member_ids(granted_to=exposure.group(1))
        return None

    return RevealService(reveals=reveals, members=vault.members, keys=vault.key_store,
                         ledger=consent.ledger, principal=consent.principal,
                         case_members=case_members, clock=vault.clock)



# -- reports ------------------------------------------------------------------------------
def report_service(consent: Consent) -> ReportService:
    """The reports over the data store of ``consent``'s vault and its ledger's read index; the
    vault operator as its consent receipts name it."""
    vault = consent.vault
    return ReportService(reports=SqlcipherReports(vault.data),
                         access_index=consent.ledger.access_index,
                         principal=consent.principal, controller=consent.signer.controller,
                         clock=vault.clock)
