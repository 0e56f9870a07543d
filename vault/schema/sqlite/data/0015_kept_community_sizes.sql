-- A community's size as its brand is told it, measured at most once per budget period and
-- kept with the community (community/communities.py, brand_gateway/insights/audience.py):
-- ``size_period`` is the start of the privacy budget period it was measured in (NULL: never
-- measured), ``size_reported`` what the brand is told (a differentially private count paid
-- from the brand's insights budget, rounded down to tens; NULL: below the suppression
-- threshold, or never measured). Reads in the same period return these; a closed community
-- keeps its last. Before this migration the size was the exact count rounded down to tens,
-- counted again on every read, so one member joining or leaving at a step showed; that count
-- is not kept here (it was never private), and each existing community is measured afresh on
-- its brand's first read.
ALTER TABLE communities ADD COLUMN size_period INTEGER;
ALTER TABLE communities ADD COLUMN size_reported INTEGER
    CHECK (size_reported IS NULL OR (size_reported >= 0 AND size_period IS NOT NULL));
