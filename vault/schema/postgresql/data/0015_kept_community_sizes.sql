-- 0015_kept_community_sizes.sql on PostgreSQL: the columns of
-- sqlite/data/0015_kept_community_sizes.sql (read its comment), by the rules in
-- 0001_baseline.sql. ``communities`` is shared (a reference table under Citus); the first read
-- of a period locks the community's row (``FOR NO KEY UPDATE``) before it measures, so two
-- hosts never measure one community twice in a period.
ALTER TABLE communities ADD COLUMN size_period BIGINT;
ALTER TABLE communities ADD COLUMN size_reported INTEGER
    CHECK (size_reported IS NULL OR (size_reported >= 0 AND size_period IS NOT NULL));
