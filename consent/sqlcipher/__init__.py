"""The SQLCipher implementations of consent's repositories (``consent/repositories.py``), over
the data store's :class:`vault.sqlcipher.database.Database` (terms, agreements, grants) and the
ledger store's (``ledger.py``): one module per aggregate, holding the statements of it that are
SQLite's own; what both engines run alike is in ``consent/sql/``. Sets of codes are stored as
sorted JSON arrays."""
