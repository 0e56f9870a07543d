"""The PostgreSQL implementation of intent casting's repository (``intents/repositories.py``),
over the data store's :class:`vault.postgresql.database.Database` (issue 17).
"""
