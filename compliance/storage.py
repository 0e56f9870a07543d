"""Where compliance's services are built over the data store, on either engine.

Each function builds a service of ``compliance/`` over the repositories
(``compliance/<engine>/``) of the data store of a vault, the store's own engine's
(:mod:`vault.engines`), as ``community/storage.py`` does for the insight community. The
services see only the contracts of ``compliance/repositories.py``; building is cheap, so
callers build per use.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from consent.context import Consent
from vault.engines import repository
from vault.export import Exporter
from vault.repositories import Store

from .after_restore import RequestRestorer
from .deadlines import DEFAULT_TIMEZONE, HolidayCalendar
from .reports import ReportService
from .request_export import requests_exporter
from .requests import Forwarded, RequestService
from .reveals import EXPOSURE_CASE, RevealService


def _on(database: Store, module: str, name: str) -> Any:
    """The repository ``name`` of ``compliance/<engine>/<module>.py`` over ``database``, for its
    engine (:mod:`vault.engines`)."""
    return repository(database, "compliance.{engine}." + module, name)


# -- Reveals ------------------------------------------------------------------------------
def reveal_service(consent: Consent) -> RevealService:
    """Reveals over the data store of ``consent``'s vault (reasons sealed with its member
    keys) and its ledger. The members of an exposure case are those who ever granted that
    brand anything; of a data subject request's case, the member who made it (none once they
    were erased, or if there is no such request)."""
    vault = consent.vault
    reveals = _on(vault.data, "reveals", "Reveals")
    requests = _on(vault.data, "requests", "Requests")

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
    return ReportService(reports=_on(vault.data, "reports", "Reports"),
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
    return RequestService(requests=_on(consent.vault.data, "requests", "Requests"),
                          restrictions=consent.restrictions_repository, consent=consent,
                          calendar=calendar, holders=holders, forward=forward, zone=zone)


def request_restorer(consent: Consent, *, calendar: HolidayCalendar,
                     forward: Callable[[Forwarded], None],
                     zone: str = DEFAULT_TIMEZONE) -> RequestRestorer:
    """After a restore, the requests and restrictions the ledger recorded since the backup
    brought back into the data store of ``consent``'s vault (compliance/after_restore.py);
    ``calendar`` and ``zone``: the deadlines' settings; ``forward``: the brand gateway's, as
    :func:`request_service` takes it."""
    vault = consent.vault
    if consent.ledger.search_index is None:
        raise RuntimeError("this ledger was opened without its search index")
    return RequestRestorer(
        search=consent.ledger.search_index, requests=_on(vault.data, "requests", "Requests"),
        restrictions=consent.restrictions_repository, member_ids=vault.accounts.ids(),
        brand_ids=[brand.id for brand in vault.brands.all()], principal=consent.principal,
        subject=consent.brand_subject, calendar=calendar, zone=zone, clock=vault.clock,
        forward=forward)


def member_request_export(consent: Consent) -> Exporter:
    """Requests' part of a member's export (compliance/request_export.py): reading only, so
    the service forwards nothing."""
    service = RequestService(requests=_on(consent.vault.data, "requests", "Requests"),
                             restrictions=consent.restrictions_repository, consent=consent,
                             calendar=HolidayCalendar(), holders=lambda member_id: (),
                             forward=_forward_nothing)
    return requests_exporter(requests=service)


def _forward_nothing(forwarded: Forwarded) -> None:
    raise AssertionError("an export forwards nothing")
