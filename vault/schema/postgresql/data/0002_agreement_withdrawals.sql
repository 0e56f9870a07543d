-- A member may take back an offer the brand has not answered yet (IEEE 7012: the first party's
-- offer stands until it is answered or withdrawn): agreements.status gains 'withdrawn'.
-- SQLite rebuilds the table to change its CHECK; PostgreSQL replaces the constraint in place
-- (the rows, columns and indexes stay as they are).
ALTER TABLE agreements
    DROP CONSTRAINT agreements_status_check,
    ADD CONSTRAINT agreements_status_check
        CHECK (status IN ('proffered', 'countered', 'agreed', 'rejected', 'withdrawn'));
