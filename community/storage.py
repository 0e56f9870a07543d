"""The one place the insight community chooses its storage engine: its services over SQLCipher.

Each function builds a service of ``community/`` over the SQLCipher repositories
(``community/sqlcipher/``) of an open :class:`vault.sqlcipher.database.Database` (the data
store's), as ``brand_gateway/storage.py`` does for the gateway. The services see only the
contracts of ``community/repositories.py``; building is cheap, so callers build per use.
"""

from __future__ import annotations

from collections.abc import Callable

from consent.context import Consent

from .care import CareService
from .loop import WeDidService
from .sqlcipher.care import SqlcipherCareCases
from .sqlcipher.loop import SqlcipherWeDid

# -- Communities, membership and co-creation ----------------------------------------------

# -- Surveys, feedback requests and attribute requests ------------------------------------

# -- Closing the loop: "you said, we did" and care cases ----------------------------------


def care_service(*, consent: Consent, accepts_term: Callable[[str, str], bool]) -> CareService:
    """Care cases over the data store of ``consent``'s vault."""
    return CareService(cases=SqlcipherCareCases(consent.vault.data), consent=consent,
                       accepts_term=accepts_term)


def wedid_service(*, consent: Consent) -> WeDidService:
    """"You said, we did" posts over the data store of ``consent``'s vault."""
    return WeDidService(posts=SqlcipherWeDid(consent.vault.data), consent=consent)
