"""The one place compliance chooses its storage engine: its services over SQLCipher.

Each function builds a service of ``compliance/`` over the SQLCipher repositories
(``compliance/sqlcipher/``) of an open :class:`vault.sqlcipher.database.Database` (the data
store's), as ``community/storage.py`` does for the insight community. The services see only
the contracts of ``compliance/repositories.py``; building is cheap, so callers build per use.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from consent.context import Consent
from vault.export import Exporter

from .deadlines import HolidayCalendar
from .export import requests_exporter
from .requests import Forwarded, RequestService
from .sqlcipher.requests import SqlcipherRequests


# -- Data subject requests -----------------------------------------------------------------
def request_service(*, consent: Consent, calendar: HolidayCalendar,
                    holders: Callable[[str], Sequence[str]],
                    forward: Callable[[Forwarded], None]) -> RequestService:
    """Data subject requests over the data store of ``consent``'s vault; ``holders`` and
    ``forward`` come from the brand gateway (brand_gateway/dsr.py), which knows the brands."""
    return RequestService(requests=SqlcipherRequests(consent.vault.data),
                          restrictions=consent.restrictions_repository, consent=consent,
                          calendar=calendar, holders=holders, forward=forward)


def member_request_export(consent: Consent) -> Exporter:
    """Compliance's part of a member's export (compliance/export.py): reading only, so the
    service forwards nothing."""
    service = RequestService(requests=SqlcipherRequests(consent.vault.data),
                             restrictions=consent.restrictions_repository, consent=consent,
                             calendar=HolidayCalendar(), holders=lambda member_id: (),
                             forward=_forward_nothing)
    return requests_exporter(requests=service)


def _forward_nothing(forwarded: Forwarded) -> None:
    raise AssertionError("an export forwards nothing")
