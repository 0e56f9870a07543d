"""The one place compliance chooses its storage engine: its services over SQLCipher.

Each function builds a service of ``compliance/`` over the SQLCipher repositories
(``compliance/sqlcipher/``) of an open :class:`vault.sqlcipher.database.Database` (the data
store's), as ``community/storage.py`` does for the insight community. The services see only
the contracts of ``compliance/repositories.py``; building is cheap, so callers build per use.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from consent.context import Consent
from vault.export import Exporter

from .deadlines import DEFAULT_TIMEZONE, HolidayCalendar
from .reports import ReportService
from .request_export import requests_exporter
from .requests import Forwarded, RequestService
from .reveals import EXPOSURE_CASE, RevealService
from .sqlcipher.reports import SqlcipherReports
from .sqlcipher.requests import SqlcipherRequests
from .sqlcipher.reveals import SqlcipherReveals


# -- Reveals ------------------------------------------------------------------------------
def reveal_service(consent: Consent) -> RevealService:
    """Reveals over the data store of ``consent``'s vault (reasons sealed with its member
    keys) and its ledger. The members of an exposure case are those who ever granted that
    brand anything; of a data subject request's case, the member who made it (none once they
    were erased, or if there is no such request)."""
    vault = consent.vault
    reveals = SqlcipherReveals(vault.data)
    requests = SqlcipherRequests(vault.data)

    def case_members(case: str) -> Iterable[str] | None:
        exposure = EXPOSURE_CASE.fullmatch(case)
        if exposure:
            return reveals.member_ids(granted_to=exposure.group(1))
        request = requests.get(case)
        return [] if request is None or request.member_id is None else [request.member_id]

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


# -- Data subject requests -----------------------------------------------------------------
def request_service(*, consent: Consent, calendar: HolidayCalendar,
                    holders: Callable[[str], Sequence[str]],
                    forward: Callable[[Forwarded], None],
                    zone: str = DEFAULT_TIMEZONE) -> RequestService:
    """Data subject requests over the data store of ``consent``'s vault; ``holders`` and
    ``forward`` come from the brand gateway (brand_gateway/dsr.py), which knows the brands."""
    return RequestService(requests=SqlcipherRequests(consent.vault.data),
                          restrictions=consent.restrictions_repository, consent=consent,
                          calendar=calendar, holders=holders, forward=forward, zone=zone)


def member_request_export(consent: Consent) -> Exporter:
    """Requests' part of a member's export (compliance/request_export.py): reading only, so
    the service forwards nothing."""
    service = RequestService(requests=SqlcipherRequests(consent.vault.data),
                             restrictions=consent.restrictions_repository, consent=consent,
                             calendar=HolidayCalendar(), holders=lambda member_id: (),
                             forward=_forward_nothing)
    return requests_exporter(requests=service)


def _forward_nothing(forwarded: Forwarded) -> None:
    raise AssertionError("an export forwards nothing")
