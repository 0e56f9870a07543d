"""The one place compliance chooses its storage engine: its services over SQLCipher.

Each function builds a service of ``compliance/`` over the SQLCipher repositories
(``compliance/sqlcipher/``) of an open :class:`vault.sqlcipher.database.Database` (the data
store's), as ``community/storage.py`` does for the insight community. The services see only
the contracts of ``compliance/repositories.py``; building is cheap, so callers build per use.
"""

from __future__ import annotations

from consent.context import Consent

from .reports import ReportService
from .sqlcipher.reports import SqlcipherReports

# -- reports -------------------------------------------------------------------------------------


def report_service(consent: Consent) -> ReportService:
    """The reports over the data store of ``consent``'s vault and its ledger's read index; the
    vault operator as its consent receipts name it."""
    vault = consent.vault
    return ReportService(reports=SqlcipherReports(vault.data),
                         access_index=consent.ledger.access_index,
                         principal=consent.principal, controller=consent.signer.controller,
                         clock=vault.clock)
