"""Where the insight community's services are built over the data store, on either engine.

Each function builds a service of ``community/`` over the repositories
(``community/<engine>/``) of the data store of a vault, the store's own engine's
(:mod:`vault.engines`), as ``brand_gateway/storage.py`` does for the gateway. The services see
only the contracts of ``community/repositories.py``; building is cheap, so callers build per
use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from consent.context import Consent
from vault.engines import repository
from vault.export import Exporter
from vault.repositories import Store

from .after_restore import CommunityRestorer
from .attribute_requests import AttributeRequestService
from .audience import MINIMUM_COHORT, AudienceMeasure, unmeasured_audience
from .care import CareService
from .cocreation import CoCreationService
from .communities import UNMEASURED, CommunityService, SizeMeasure
from .export import community_exporter
from .loop import WeDidService
from .membership import MembershipService
from .pseudonyms import PURPOSE as PSEUDONYM_PURPOSE
from .survey_export import survey_exporter
from .surveys import SurveyService


def _on(database: Store, module: str, name: str) -> Any:
    """The repository ``name`` of ``community/<engine>/<module>.py`` over ``database``, for its
    engine (:mod:`vault.engines`)."""
    return repository(database, "community.{engine}." + module, name)


# -- Communities, membership and co-creation ----------------------------------------------


def community_service(consent: Consent, *, size: SizeMeasure = UNMEASURED) -> CommunityService:
    """A brand's communities, over the data store of ``consent``'s vault; ``size`` measures
    what a brand is told of a community's size (the brand gateway's differentially private
    count, paid from the brand's budget in the same data store; without it, nothing is told)."""
    vault = consent.vault
    return CommunityService(communities=_on(vault.data, "communities", "Communities"),
                            consent=consent, clock=vault.clock, size=size)


def membership_service(consent: Consent) -> MembershipService:
    """Joining and leaving, over the data store of ``consent``'s vault."""
    vault = consent.vault
    return MembershipService(communities=_on(vault.data, "communities", "Communities"),
                             consent=consent, key=vault.master.derive(PSEUDONYM_PURPOSE),
                             clock=vault.clock)


def cocreation_service(consent: Consent) -> CoCreationService:
    """Challenges, ideas and votes, over the data store of ``consent``'s vault (ideas sealed
    with the member keys of its key store)."""
    vault = consent.vault
    return CoCreationService(communities=_on(vault.data, "communities", "Communities"),
                             cocreation=_on(vault.data, "cocreation", "CoCreation"),
                             consent=consent, keys=vault.key_store, clock=vault.clock)


def community_restorer(consent: Consent) -> CommunityRestorer:
    """After a restore, the memberships left and communities closed since the backup left and
    closed again in the data store of ``consent``'s vault (community/after_restore.py)."""
    vault = consent.vault
    if consent.ledger.search_index is None:
        raise RuntimeError("this ledger was opened without its search index")
    return CommunityRestorer(search=consent.ledger.search_index,
                             communities=_on(vault.data, "communities", "Communities"),
                             member_ids=vault.accounts.ids(), principal=consent.principal)


# -- Surveys, feedback requests and attribute requests ------------------------------------
def survey_service(*, consent: Consent, minimum_cohort: int = MINIMUM_COHORT,
                   audience: AudienceMeasure = unmeasured_audience) -> SurveyService:
    """Surveys over ``consent``'s vault (its data store, member keys, profile and journal)
    and ledger; ``audience`` measures a published survey's audience (the brand gateway's
    differentially private count; without it, nothing is told)."""
    vault = consent.vault
    return SurveyService(surveys=_on(vault.data, "surveys", "Surveys"),
                         grants=repository(vault.data, "consent.{engine}.grants", "Grants"),
                         profile=vault.profile, feedback=vault.feedback, keys=vault.key_store,
                         ledger=consent.ledger, principal=consent.principal, clock=vault.clock,
                         minimum_cohort=minimum_cohort, audience=audience)


def survey_erasure_hook(database: Store) -> Callable[[str, int], None]:
    """A ``before_delete`` hook of :class:`vault.erasure.ErasureService`: the member's survey
    answers, skips, journal links and attribute-request responses go in the erasure's
    transaction (their foreign keys cascade as well; this says so where erasure is done)."""
    surveys = _on(database, "surveys", "Surveys")

    def before_delete(member_id: str, erased_at: int) -> None:
        surveys.delete_member_rows(member_id)

    return before_delete


def member_survey_export(consent: Consent) -> Exporter:
    """Surveys' part of a member's export (community/survey_export.py)."""
    return survey_exporter(surveys=survey_service(consent=consent),
                           requests=attribute_request_service(consent=consent))


def attribute_request_service(*, consent: Consent) -> AttributeRequestService:
    vault = consent.vault
    grants = repository(vault.data, "consent.{engine}.grants", "Grants")
    communities = _on(vault.data, "communities", "Communities")
    return AttributeRequestService(requests=_on(vault.data, "surveys", "AttributeRequests"),
                                   consent=consent.grants, profile=vault.profile,
                                   clock=vault.clock, grants_of=grants.for_member_and_brand,
                                   holders=communities.holders,
                                   link_grant=communities.link_grant)


# -- Closing the loop: "you said, we did" and care cases ----------------------------------


def care_service(*, consent: Consent, accepts_term: Callable[[str, str], bool]) -> CareService:
    """Care cases over the data store of ``consent``'s vault."""
    return CareService(cases=_on(consent.vault.data, "care", "CareCases"), consent=consent,
                       accepts_term=accepts_term, surveys=survey_service(consent=consent))


def wedid_service(*, consent: Consent) -> WeDidService:
    """"You said, we did" posts over the data store of ``consent``'s vault."""
    return WeDidService(posts=_on(consent.vault.data, "loop", "WeDid"), consent=consent)
def member_community_export(consent: Consent) -> Exporter:
    """The insight community's part of a member's export (community/export.py)."""
    return community_exporter(membership=membership_service(consent),
                              cocreation=cocreation_service(consent),
                              communities=_on(consent.vault.data, "communities", "Communities"))
