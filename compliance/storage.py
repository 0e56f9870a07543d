"""The one place compliance chooses its storage engine: its services over SQLCipher.

Each function builds a service of ``compliance/`` over the SQLCipher repositories
(``compliance/sqlcipher/``) of an open :class:`vault.sqlcipher.database.Database` (the data
store's), as ``community/storage.py`` does for the insight community. The services see only
the contracts of ``compliance/repositories.py``; building is cheap, so callers build per use.
"""

from __future__ import annotations

from consent.context import Consent
from consent.sqlcipher.grants import SqlcipherGrants

from .reports import ReportService
from .reveals import EXPOSURE_CASE, RevealService
from .sqlcipher.reports import SqlcipherReports
from .sqlcipher.reveals import SqlcipherReveals


# -- Reveals ------------------------------------------------------------------------------
def reveal_service(consent: Consent) -> RevealService:
    """Reveals over the data store of ``consent``'s vault (reasons sealed with its member
    keys) and its ledger. A member is in an exposure case when they ever granted that brand
    anything; data subject request cases are taken as given until requests are stored."""
    vault = consent.vault
    grants = SqlcipherGrants(vault.data)

    def in_case(case: str, member_id: str) -> bool:
        exposure = EXPOSURE_CASE.fullmatch(case)
        if exposure:
            return bool(grants.for_member_and_brand(member_id, exposure.group(1)))
        return True

    return RevealService(reveals=SqlcipherReveals(vault.data), members=vault.members,
                         keys=vault.key_store, ledger=consent.ledger,
                         principal=consent.principal, in_case=in_case, clock=vault.clock)

# -- reports -------------------------------------------------------------------------------------


def report_service(consent: Consent) -> ReportService:
    """The reports over the data store of ``consent``'s vault and its ledger's read index; the
    vault operator as its consent receipts name it."""
    vault = consent.vault
    return ReportService(reports=SqlcipherReports(vault.data),
                         access_index=consent.ledger.access_index,
                         principal=consent.principal, controller=consent.signer.controller,
                         clock=vault.clock)
