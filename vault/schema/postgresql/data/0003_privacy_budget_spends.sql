-- 0003_privacy_budget_spends.sql on PostgreSQL: the table of sqlite/data/0003, by the rules in
-- 0001_baseline.sql.
--
-- The brands' differential-privacy budgets (brand_gateway/insights/budget.py): how much of its
-- epsilon each brand spent in each budget period, in millionths of epsilon (a spend is rounded
-- up, never down), and how many releases spent it. One row per brand and period; rows of past
-- periods stay.
--
-- No member owns a row: a brand-level table, distributed by ``brand_id`` on its own under Citus
-- (one lookup reads it: the brand's spend of one period). A spend is one conditional upsert
-- (brand_gateway/insights/postgresql.py), which locks the period's row, so two hosts never
-- spend the same remainder twice.
CREATE TABLE privacy_budget_spends (
    brand_id      TEXT NOT NULL REFERENCES brands(id),
    period_start  BIGINT NOT NULL,
    spent         BIGINT NOT NULL CHECK (spent >= 0),
    releases      BIGINT NOT NULL CHECK (releases >= 0),
    PRIMARY KEY (brand_id, period_start)
);
