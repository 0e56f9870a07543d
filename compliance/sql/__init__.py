"""The statements and row mappings both engines' repositories of compliance
(``compliance/repositories.py``) run alike, one module per aggregate, as base classes
(``Sql<Name>``) over :class:`vault.sql.SqlRepository`; each engine's module
(``compliance/sqlcipher/``, ``compliance/postgresql/``) adds what differs.
"""
