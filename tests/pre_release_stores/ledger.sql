-- The ledger store as 'vrmvault init' made it at b89e8db, the last commit before the migration
-- histories were squashed: every schema object in the order sqlite_master held it, then the
-- migrations it recorded. Dumped from a fresh home; test-only, never edited (see __init__.py).

CREATE TABLE schema_migrations ( number INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL);

CREATE TABLE entries (
            seq         INTEGER PRIMARY KEY,       
            body        BLOB NOT NULL              
        );

CREATE TABLE tree_nodes (
            position    INTEGER PRIMARY KEY,       
            hash        BLOB NOT NULL              
        );

CREATE TABLE checkpoints (
            tree_size   INTEGER PRIMARY KEY,
            root_hash   BLOB NOT NULL,
            signed_at   TEXT NOT NULL,             
            note        TEXT NOT NULL              
        );

CREATE TABLE access_index (
            principal   TEXT NOT NULL,             
            seq         INTEGER NOT NULL,          
            brand_id    TEXT NOT NULL,             
            read_at     INTEGER NOT NULL,          
            PRIMARY KEY (principal, seq)
        ) WITHOUT ROWID;

CREATE TABLE spool_marks (
            spool           TEXT PRIMARY KEY,   
            merged_through  INTEGER NOT NULL    
        ) WITHOUT ROWID;

CREATE INDEX access_index_by_time ON access_index (principal, read_at, seq);

INSERT INTO schema_migrations (number, name, applied_at) VALUES (1, 'ledger_entries_tree_checkpoints', 1796000000);
INSERT INTO schema_migrations (number, name, applied_at) VALUES (2, 'access_index_rate_limits', 1796000000);
INSERT INTO schema_migrations (number, name, applied_at) VALUES (3, 'spool_marks', 1796000000);
INSERT INTO schema_migrations (number, name, applied_at) VALUES (4, 'access_index_by_time', 1796000000);
INSERT INTO schema_migrations (number, name, applied_at) VALUES (5, 'rate_limits_moved_out', 1796000000);
