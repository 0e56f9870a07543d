"""The statements and row mappings both engines' repositories of the insight community
(``community/repositories.py``) run alike, one module per aggregate, as base classes
(``Sql<Name>``) over :class:`vault.sql.SqlRepository`; each engine's module
(``community/sqlcipher/``, ``community/postgresql/``) adds what differs.
"""
