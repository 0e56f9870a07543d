-- Webhook endpoints get a public id ('whk_' and 24 random hex digits), the only id a brand, the
-- CLI or a page shows: the integer key counted every brand's endpoints in one sequence, so a
-- brand read from its own ids how many endpoints other brands had registered, and when. The
-- integer stays the internal key that outbox rows and subscriptions point at; nothing outside
-- the store names it any more. An existing endpoint gets a random public id here; a brand that
-- kept the old integer is answered 404 for it (README, "For brands").
--
-- SQLite adds a column NOT NULL only with a default, which would leave the rule to the code:
-- the table is rebuilt instead, as 0008 and 0010 rebuilt the outbox (foreign keys off while it
-- runs; the outbox and the subscriptions keep pointing at the same ids).
CREATE TABLE webhook_endpoints_new (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id    TEXT NOT NULL REFERENCES oauth_clients(client_id),
    url          TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    disabled_at  INTEGER,
    public_id    TEXT NOT NULL UNIQUE
);
INSERT INTO webhook_endpoints_new (id, client_id, url, created_at, disabled_at, public_id)
    SELECT id, client_id, url, created_at, disabled_at, 'whk_' || lower(hex(randomblob(12)))
    FROM webhook_endpoints ORDER BY id;
DROP TABLE webhook_endpoints;
ALTER TABLE webhook_endpoints_new RENAME TO webhook_endpoints;
CREATE INDEX webhook_endpoints_by_client ON webhook_endpoints (client_id);
CREATE UNIQUE INDEX webhook_endpoints_live_url ON webhook_endpoints (client_id, url)
    WHERE disabled_at IS NULL;
