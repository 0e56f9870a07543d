"""The statements and row mappings both engines' repositories of the brand gateway
(``brand_gateway/repositories.py``) run alike, one module per aggregate, as base classes
(``Sql<Name>``) over :class:`vault.sql.SqlRepository`; each engine's module
(``brand_gateway/sqlcipher/``, ``brand_gateway/postgresql/``) adds what differs. Lists are
stored as JSON arrays; secrets only as hashes.
"""
