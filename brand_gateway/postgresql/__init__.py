"""The PostgreSQL implementations of the brand gateway's repositories
(``brand_gateway/repositories.py``), one module per aggregate as in ``brand_gateway/sqlcipher/``,
over a :class:`vault.postgresql.database.Database`. So far the request counters only
(issue 17)."""
