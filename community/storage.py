"""The one place the insight community chooses its storage engine: its services over SQLCipher.

Each function builds a service of ``community/`` over the SQLCipher repositories
(``community/sqlcipher/``) of an open :class:`vault.sqlcipher.database.Database` (the data
store's), as ``brand_gateway/storage.py`` does for the gateway. The services see only the
contracts of ``community/repositories.py``; building is cheap, so callers build per use.
"""

from __future__ import annotations

from consent.context import Consent
from vault.export import Exporter

from .cocreation import CoCreationService
from .communities import CommunityService
from .export import community_exporter
from .membership import MembershipService
from .pseudonyms import PURPOSE as PSEUDONYM_PURPOSE
from .sqlcipher.cocreation import SqlcipherCoCreation
from .sqlcipher.communities import SqlcipherCommunities

# -- Communities, membership and co-creation ----------------------------------------------


def community_service(consent: Consent) -> CommunityService:
    """A brand's communities, over the data store of ``consent``'s vault."""
    vault = consent.vault
    return CommunityService(communities=SqlcipherCommunities(vault.data), consent=consent,
                            clock=vault.clock)


def membership_service(consent: Consent) -> MembershipService:
    """Joining and leaving, over the data store of ``consent``'s vault."""
    vault = consent.vault
    return MembershipService(communities=SqlcipherCommunities(vault.data), consent=consent,
                             key=vault.master.derive(PSEUDONYM_PURPOSE), clock=vault.clock)


def cocreation_service(consent: Consent) -> CoCreationService:
    """Challenges, ideas and votes, over the data store of ``consent``'s vault (ideas sealed
    with the member keys of its key store)."""
    vault = consent.vault
    return CoCreationService(communities=SqlcipherCommunities(vault.data),
                             cocreation=SqlcipherCoCreation(vault.data), consent=consent,
                             keys=vault.key_store, clock=vault.clock)


# -- Surveys, feedback requests and attribute requests ------------------------------------

# -- Closing the loop: "you said, we did" and care cases ----------------------------------


def member_community_export(consent: Consent) -> Exporter:
    """The insight community's part of a member's export (community/export.py)."""
    return community_exporter(membership=membership_service(consent),
                              cocreation=cocreation_service(consent),
                              communities=SqlcipherCommunities(consent.vault.data))
