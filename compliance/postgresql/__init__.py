"""The PostgreSQL implementations of compliance's repositories (``compliance/repositories.py``),
one module per aggregate as in ``compliance/sqlcipher/``, over the data store's
:class:`vault.postgresql.database.Database` (issue 17).
"""
