-- The brands' differential-privacy budgets (brand_gateway/insights/budget.py): how much of its
-- epsilon each brand spent in each budget period, in millionths of epsilon (integers add up
-- exactly; a spend is rounded up, never down), and how many releases spent it. One row per
-- brand and period, written only inside the write transaction that checks the allowance; rows
-- of past periods stay (one small row a period, the brand's spending history).
CREATE TABLE privacy_budget_spends (
    brand_id      TEXT NOT NULL REFERENCES brands(id),
    period_start  INTEGER NOT NULL,
    spent         INTEGER NOT NULL CHECK (spent >= 0),
    releases      INTEGER NOT NULL CHECK (releases >= 0),
    PRIMARY KEY (brand_id, period_start)
) WITHOUT ROWID;
