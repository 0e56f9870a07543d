"""The SQLCipher implementations of the insight community's repositories
(``community/repositories.py``), one module per aggregate, over the data store's
:class:`vault.sqlcipher.database.Database`, each adding to its base in ``community/sql/``
what differs on SQLCipher.
"""
