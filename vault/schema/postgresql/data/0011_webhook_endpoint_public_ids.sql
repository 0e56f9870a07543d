-- Webhook endpoints get a public id, as on SQLite (sqlite/data/0011_webhook_endpoint_public_ids
-- .sql says why): 'whk_' and 24 random hex digits, the only id a brand, the CLI or a page shows;
-- the identity stays the internal key outbox rows and subscriptions point at. The table stays
-- shared (no member owns an endpoint), so its uniqueness is a constraint of its own. Existing
-- endpoints get theirs from gen_random_uuid() (a strong random source, built in since
-- PostgreSQL 13): two of them hashed, so no version or variant digit shows in the id.
ALTER TABLE webhook_endpoints ADD COLUMN public_id TEXT;
UPDATE webhook_endpoints SET public_id = 'whk_' || substr(encode(sha256(convert_to(
    gen_random_uuid()::text || gen_random_uuid()::text, 'UTF8')), 'hex'), 1, 24);
ALTER TABLE webhook_endpoints ALTER COLUMN public_id SET NOT NULL;
ALTER TABLE webhook_endpoints ADD CONSTRAINT webhook_endpoints_public_id_key UNIQUE (public_id);
