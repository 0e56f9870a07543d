"""The PostgreSQL implementations of the brand gateway's repositories
(``brand_gateway/repositories.py``), one module per aggregate as in ``brand_gateway/sqlcipher/``,
each holding the statements of it that are PostgreSQL's own (what both engines run alike is in
``brand_gateway/sql/``): over the data store's
:class:`vault.postgresql.database.Database` (clients, tokens, token families with their codes
and refresh tokens, pairwise subjects, brand names, the member export's reads, due endings),
and the request counters over the rates database's (``rate_counts.py``). Lists are stored as
JSON arrays, as text; secrets only as hashes (``bytea``).

Clients are shared (no member owns one); pairwise subjects, token families and everything a
family holds are their member's (``member_id`` first in each key, copied from the family onto
its codes and tokens), so that Citus may distribute them by member. Lookups by the hash of a
random code or token, or by a random family id, go through plain indexes: those values are
unique by construction, not by a constraint spanning members. Where SQLCipher's write lock
serialises a redemption, the row read for it is locked here (``authorizations.py``).
"""
