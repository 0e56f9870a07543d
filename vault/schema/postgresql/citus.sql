-- Distributing the data store with Citus, by member (issue 17; the README's "Running on
-- PostgreSQL and past one machine" says when and how). Run once, as the operator, on the Citus
-- coordinator, after 'vrmvault init' has made the stores and before anyone is served:
--
--     psql "$VRMVAULT_DATABASE_URL" -v ON_ERROR_STOP=1 -f vault/schema/postgresql/citus.sql
--
-- The layout rules are at the head of data/0001_baseline.sql; tests/unit/storage/
-- test_citus_ready.py checks, in the live catalog of a database 'vrmvault init' made, that every
-- table of the data store is named here once (placed, or left local), that each distributed
-- table's primary key and unique constraints hold its distribution column, that foreign keys
-- join co-located tables on that column or point at reference tables, and that no statement
-- of ours joins two member-owned tables on anything but the member; and that on plain
-- PostgreSQL the file stops at its first statement, saying why. Citus itself cannot be
-- installed where vrmvault is built: this file has never been run against a Citus cluster.
--
-- Not distributed: the ledger (schema ledger: one sequence of appends, kept on the coordinator
-- as local tables), the request counters (schema rates) and the key database (not Citus's:
-- another database, another role). The insights read model's triggers (data/0006) write
-- brand-level cells from a member's rows; under Citus those cells live on other shards, so the
-- triggers must be replaced by a periodic rebuild before this file is run on a busy vault.
--
-- Left local to the coordinator (no call below places them; the hosts' VRMVAULT_DATABASE_URL
-- names it): each store's bookkeeping, read when a host opens the store and written only by
-- 'vrmvault init' and the migrations, under advisory locks that are the coordinator's own (a
-- lock taken on another node would serialise nothing). One row or a few, never joined with a
-- member's rows: distributing them gains nothing.
--   local: store_migrations    the migrations applied, by number
--   local: store_key_check     the HMAC that tells the master key the store was made with

-- On plain PostgreSQL every call below would fail as an unknown function: say what is missing
-- before anything runs.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_extension WHERE extname = 'citus') THEN
        RAISE EXCEPTION 'Citus is not installed in this database: CREATE EXTENSION citus first'
            ' (it needs shared_preload_libraries = citus)';
    END IF;
END
$$;

-- Shared tables, read by every host and every shard: reference tables (a copy on every node).
SELECT create_reference_table('brands');
SELECT create_reference_table('oauth_clients');
SELECT create_reference_table('communities');
SELECT create_reference_table('challenges');
SELECT create_reference_table('surveys');
SELECT create_reference_table('survey_questions');
SELECT create_reference_table('attribute_requests');
SELECT create_reference_table('wedid_posts');
SELECT create_reference_table('insight_fields');
SELECT create_reference_table('insight_bits');
SELECT create_reference_table('webhook_endpoints');
SELECT create_reference_table('webhook_endpoint_events');
SELECT create_reference_table('webhook_outbox');
SELECT create_reference_table('webhook_attempts');
SELECT create_reference_table('dsr_requests');
SELECT create_reference_table('dsr_tasks');
SELECT create_reference_table('dsr_history');
SELECT create_reference_table('intent_spam_reports');

-- The members, and every member-owned table beside them: distributed by the member's id and
-- co-located, so a member's rows share a shard and every join between them stays on it.
SELECT create_distributed_table('members', 'id');
SELECT create_distributed_table('erasure_intents', 'member_id', colocate_with => 'members');
SELECT create_distributed_table('member_roles', 'member_id', colocate_with => 'members');
SELECT create_distributed_table('profile_values', 'member_id', colocate_with => 'members');
SELECT create_distributed_table('feedback', 'member_id', colocate_with => 'members');
SELECT create_distributed_table('totp_recovery_codes', 'member_id', colocate_with => 'members');
SELECT create_distributed_table('member_terms', 'member_id', colocate_with => 'members');
SELECT create_distributed_table('member_brand_terms', 'member_id', colocate_with => 'members');
SELECT create_distributed_table('terms_receipts', 'member_id', colocate_with => 'members');
SELECT create_distributed_table('agreements', 'member_id', colocate_with => 'members');
SELECT create_distributed_table('grants', 'member_id', colocate_with => 'members');
SELECT create_distributed_table('receipts', 'member_id', colocate_with => 'members');
SELECT create_distributed_table('pairwise_subjects', 'member_id', colocate_with => 'members');
SELECT create_distributed_table('oauth_token_families', 'member_id', colocate_with => 'members');
SELECT create_distributed_table('oauth_family_grants', 'member_id', colocate_with => 'members');
SELECT create_distributed_table('oauth_authorization_codes', 'member_id', colocate_with => 'members');
SELECT create_distributed_table('oauth_access_tokens', 'member_id', colocate_with => 'members');
SELECT create_distributed_table('oauth_refresh_tokens', 'member_id', colocate_with => 'members');
SELECT create_distributed_table('processing_restrictions', 'member_id', colocate_with => 'members');
SELECT create_distributed_table('identity_reveals', 'member_id', colocate_with => 'members');
SELECT create_distributed_table('community_members', 'member_id', colocate_with => 'members');
SELECT create_distributed_table('community_grants', 'member_id', colocate_with => 'members');
SELECT create_distributed_table('ideas', 'member_id', colocate_with => 'members');
SELECT create_distributed_table('idea_votes', 'member_id', colocate_with => 'members');
SELECT create_distributed_table('survey_answers', 'member_id', colocate_with => 'members');
SELECT create_distributed_table('survey_skips', 'member_id', colocate_with => 'members');
SELECT create_distributed_table('survey_journal_entries', 'member_id', colocate_with => 'members');
SELECT create_distributed_table('attribute_request_responses', 'member_id', colocate_with => 'members');
SELECT create_distributed_table('care_cases', 'member_id', colocate_with => 'members');
SELECT create_distributed_table('intents', 'member_id', colocate_with => 'members');
SELECT create_distributed_table('intent_offers', 'member_id', colocate_with => 'members');
SELECT create_distributed_table('intent_blocks', 'member_id', colocate_with => 'members');
SELECT create_distributed_table('insight_eligibility', 'member_id', colocate_with => 'members');
SELECT create_distributed_table('insight_feedback_tallies', 'member_id', colocate_with => 'members');
SELECT create_distributed_table('insight_eligibility_repeats', 'member_id', colocate_with => 'members');

-- Tables found by one key of their own (a keyed hash, a token's hash), each distributed by it.
SELECT create_distributed_table('member_logins', 'email_index', colocate_with => 'none');
SELECT create_distributed_table('web_sessions', 'id_hash', colocate_with => 'none');
SELECT create_distributed_table('password_resets', 'token_hash', colocate_with => 'none');
SELECT create_distributed_table('signup_requests', 'token_hash', colocate_with => 'none');
SELECT create_distributed_table('login_throttle', 'subject', colocate_with => 'none');
SELECT create_distributed_table('request_limits', 'subject', colocate_with => 'none');
SELECT create_distributed_table('erasures', 'subject', colocate_with => 'none');
SELECT create_distributed_table('dsr_results', 'task_uid', colocate_with => 'none');

-- Brand-level aggregates, each distributed by its brand or survey.
SELECT create_distributed_table('privacy_budget_spends', 'brand_id', colocate_with => 'none');
SELECT create_distributed_table('insight_feedback_cells', 'brand_id', colocate_with => 'none');
SELECT create_distributed_table('insight_survey_cells', 'survey_id', colocate_with => 'none');
