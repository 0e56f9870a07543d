"""What the insight community's services may ask of storage: one repository contract per
aggregate, as ``typing.Protocol`` classes.

The same seam and the same invariants as ``vault/repositories.py`` (read its docstring): the
services in ``community/`` hold no SQL and do not know the engine; SQLCipher's implementations
are in ``community/sqlcipher/``, one module per aggregate, and pass the conformance suite in
``tests/unit/storage/``.
"""

from __future__ import annotations


# -- Communities, membership and co-creation ----------------------------------------------

# -- Surveys, feedback requests and attribute requests ------------------------------------

# -- Closing the loop: "you said, we did" and care cases ----------------------------------
