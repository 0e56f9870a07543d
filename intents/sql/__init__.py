"""The statements and row mappings both engines' repositories of intent casting
(``intents/repositories.py``) run alike, as a base class (``Sql<Name>``) over
:class:`vault.sql.SqlRepository`; each engine's module (``intents/sqlcipher/``,
``intents/postgresql/``) adds what differs.
"""
