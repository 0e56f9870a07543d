"""The one place the insight community chooses its storage engine: its services over SQLCipher.

Each function builds a service of ``community/`` over the SQLCipher repositories
(``community/sqlcipher/``) of an open :class:`vault.sqlcipher.database.Database` (the data
store's), as ``brand_gateway/storage.py`` does for the gateway. The services see only the
contracts of ``community/repositories.py``; building is cheap, so callers build per use.
"""

from __future__ import annotations

# -- Communities, membership and co-creation ----------------------------------------------

# -- Surveys, feedback requests and attribute requests ------------------------------------

# -- Closing the loop: "you said, we did" and care cases ----------------------------------
