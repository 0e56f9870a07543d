"""The SQLCipher implementations of the brand gateway's repositories
(``brand_gateway/repositories.py``): one module per aggregate, holding the statements of it
that are SQLite's own (what both engines run alike is in ``brand_gateway/sql/``), over the data
store's :class:`vault.sqlcipher.database.Database` (the request counters: over ``rates.db``'s).
Lists are stored as JSON arrays; secrets only as hashes."""
