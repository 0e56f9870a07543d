"""The SQLCipher implementations of compliance's repositories (``compliance/repositories.py``),
one module per aggregate, over the data store's :class:`vault.sqlcipher.database.Database`, as
``vault/sqlcipher/`` does for the vault.
"""
