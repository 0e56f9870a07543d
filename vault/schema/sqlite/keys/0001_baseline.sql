-- The key store: every member's data key, wrapped, and the list of erased members. Its own file
-- with its own key, never in a backup.

CREATE TABLE member_keys (
    member_id   TEXT PRIMARY KEY,
    wrapped     BLOB NOT NULL,                -- AES-256-GCM under the key-encryption key
    created_at  INTEGER NOT NULL
) WITHOUT ROWID;

-- The erasure list outlives any data backup: restore re-applies it.
CREATE TABLE erased_members (
    member_id   TEXT PRIMARY KEY,
    erased_at   INTEGER NOT NULL
) WITHOUT ROWID;
