-- The rates store as 'vrmvault init' made it at b89e8db, the last commit before the migration
-- histories were squashed: every schema object in the order sqlite_master held it, then the
-- migrations it recorded. Dumped from a fresh home; test-only, never edited (see __init__.py).

CREATE TABLE schema_migrations ( number INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL);

CREATE TABLE api_rate_limits (
            client_id     TEXT PRIMARY KEY,
            window_start  INTEGER NOT NULL,
            used          INTEGER NOT NULL
        ) WITHOUT ROWID;

INSERT INTO schema_migrations (number, name, applied_at) VALUES (1, 'api_rate_limits', 1796000000);
