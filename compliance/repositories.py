"""What compliance's services may ask of storage: one repository contract per aggregate, as
``typing.Protocol`` classes.

The same seam and the same invariants as ``vault/repositories.py`` (read its docstring): the
services in ``compliance/`` hold no SQL and do not know the engine; SQLCipher's implementations
are in ``compliance/sqlcipher/``, one module per aggregate, and pass the conformance suite in
``tests/unit/storage/``.
"""

from __future__ import annotations
