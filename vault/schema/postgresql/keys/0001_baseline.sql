-- The key store on PostgreSQL (vault/keys.py): every member's data key, wrapped, and the list of
-- erased members, as in sqlite/keys/0001_baseline.sql. Its own database, reached with its own
-- credentials, so that a dump of the data is not a dump of the keys. Times are Unix seconds.
--
-- The wrapped keys are spread over 64 hash partitions. PostgreSQL's DELETE leaves the row's bytes
-- in its page, and a plain VACUUM frees the space without overwriting it; only a rewrite of the
-- table (VACUUM FULL) drops them from its files. An erasure rewrites the one partition that
-- held the key (vault/postgresql/keys.py): about 1/64 of the keys, never the whole table.

CREATE TABLE member_keys (
    member_id   TEXT NOT NULL,
    wrapped     BYTEA NOT NULL,               -- AES-256-GCM under the key-encryption key
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (member_id)
) PARTITION BY HASH (member_id);

DO $$
BEGIN
    FOR remainder IN 0..63 LOOP
        EXECUTE format('CREATE TABLE member_keys_%s PARTITION OF member_keys'
                       ' FOR VALUES WITH (MODULUS 64, REMAINDER %s)', remainder, remainder);
    END LOOP;
END
$$;

-- The erasure list outlives any data backup: restore re-applies it.
CREATE TABLE erased_members (
    member_id   TEXT PRIMARY KEY,
    erased_at   BIGINT NOT NULL
);
