"""The one place the insight community chooses its storage engine: its services over SQLCipher.

Each function builds a service of ``community/`` over the SQLCipher repositories
(``community/sqlcipher/``) of an open :class:`vault.sqlcipher.database.Database` (the data
store's), as ``brand_gateway/storage.py`` does for the gateway. The services see only the
contracts of ``community/repositories.py``; building is cheap, so callers build per use.
"""

from __future__ import annotations

from collections.abc import Callable

from consent.context import Consent
from consent.sqlcipher.grants import SqlcipherGrants
from vault.sqlcipher.database import Database

from .attribute_requests import AttributeRequestService
from .audience import MINIMUM_COHORT
from .sqlcipher.surveys import SqlcipherAttributeRequests, SqlcipherSurveys
from .surveys import SurveyService

# -- Communities, membership and co-creation ----------------------------------------------

# -- Surveys, feedback requests and attribute requests ------------------------------------
def survey_service(*, consent: Consent, minimum_cohort: int = MINIMUM_COHORT) -> SurveyService:
    """Surveys over ``consent``'s vault (its data store, member keys, profile and journal)
    and ledger."""
    vault = consent.vault
    return SurveyService(surveys=SqlcipherSurveys(vault.data), grants=SqlcipherGrants(vault.data),
                         profile=vault.profile, feedback=vault.feedback, keys=vault.key_store,
                         ledger=consent.ledger, principal=consent.principal, clock=vault.clock,
                         minimum_cohort=minimum_cohort)


def survey_erasure_hook(database: Database) -> Callable[[str, int], None]:
    """A ``before_delete`` hook of :class:`vault.erasure.ErasureService`: the member's survey
    answers, skips, journal links and attribute-request responses go in the erasure's
    transaction (their foreign keys cascade as well; this says so where erasure is done)."""
    surveys = SqlcipherSurveys(database)

    def before_delete(member_id: str, erased_at: int) -> None:
        surveys.delete_member_rows(member_id)

    return before_delete


def attribute_request_service(*, consent: Consent) -> AttributeRequestService:
    vault = consent.vault
    grants = SqlcipherGrants(vault.data)
    return AttributeRequestService(requests=SqlcipherAttributeRequests(vault.data),
                                   consent=consent.grants, profile=vault.profile,
                                   clock=vault.clock, grants_of=grants.for_member_and_brand)


# -- Closing the loop: "you said, we did" and care cases ----------------------------------
