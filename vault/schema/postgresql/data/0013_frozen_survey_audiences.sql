-- 0013_frozen_survey_audiences.sql on PostgreSQL: the columns of
-- sqlite/data/0013_frozen_survey_audiences.sql (read its comment), by the rules in
-- 0001_baseline.sql.
ALTER TABLE surveys ADD COLUMN audience_measured INTEGER NOT NULL DEFAULT 0
    CHECK (audience_measured IN (0, 1));
ALTER TABLE surveys ADD COLUMN audience_reported INTEGER
    CHECK (audience_reported IS NULL OR audience_reported >= 0);
