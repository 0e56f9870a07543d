-- A survey's audience as its brand is told it, measured once when it is published and kept:
-- ``audience_measured`` says whether it was measured at all (1: a differentially private
-- count paid from the brand's privacy budget; 0: not measured, the budget being spent, or a
-- survey published before this migration), ``audience_reported`` what the brand is told of
-- it (the noisy count rounded down to tens; NULL: fewer than the minimum cohort, or not
-- measured). Reads return these and never count the members again: a live count told again
-- on every read showed a single member leaving.
ALTER TABLE surveys ADD COLUMN audience_measured INTEGER NOT NULL DEFAULT 0
    CHECK (audience_measured IN (0, 1));
ALTER TABLE surveys ADD COLUMN audience_reported INTEGER
    CHECK (audience_reported IS NULL OR audience_reported >= 0);
