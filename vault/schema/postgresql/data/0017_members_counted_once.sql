-- The members who hold more than one eligibility row for one brand, purpose and field: a grant
-- to the brand's app, one given for its insight community and one for a care case live side by
-- side for one purpose (consent/grants.py), and each adds an ``insight_eligibility`` row. The
-- cells of migration 6 count every row, so such a member counted twice (or three times) in
-- every cell of theirs, past the one cell per touchpoint or question the noise of a release is
-- derived from (brand_gateway/insights/contributions.py): a loss of twice the epsilon the brand
-- was charged, for that member. The cells stay as they are (their triggers are unchanged); a
-- query takes, for each member listed here, the rows beyond their first that hold at its time
-- off again (brand_gateway/insights/sql.py), so its cost follows the few members listed, never
-- the number of members. Member-owned, keyed by ``member_id`` first as the eligibility is
-- (one member's rows, one shard under Citus).
CREATE TABLE insight_eligibility_repeats (
    member_id   TEXT NOT NULL,
    brand_id    TEXT NOT NULL,
    purpose     TEXT NOT NULL,
    field       TEXT NOT NULL,
    member_num  BIGINT NOT NULL,
    PRIMARY KEY (member_id, brand_id, purpose, field)
);
CREATE INDEX insight_eligibility_repeats_of_brand
    ON insight_eligibility_repeats (brand_id, purpose, field);

INSERT INTO insight_eligibility_repeats (member_id, brand_id, purpose, field, member_num)
SELECT member_id, brand_id, purpose, field, min(member_num) FROM insight_eligibility
GROUP BY member_id, brand_id, purpose, field HAVING count(*) > 1;

CREATE FUNCTION insight_eligibility_repeats_moved() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    eligible insight_eligibility;
    rows_now integer;
BEGIN
    IF TG_OP = 'DELETE' THEN
        eligible := OLD;
    ELSE
        eligible := NEW;
    END IF;
    SELECT count(*) INTO rows_now FROM insight_eligibility
    WHERE member_id = eligible.member_id AND brand_id = eligible.brand_id
      AND purpose = eligible.purpose AND field = eligible.field;
    IF rows_now > 1 THEN
        INSERT INTO insight_eligibility_repeats (member_id, brand_id, purpose, field, member_num)
        VALUES (eligible.member_id, eligible.brand_id, eligible.purpose, eligible.field,
                eligible.member_num)
        ON CONFLICT DO NOTHING;
    ELSE
        DELETE FROM insight_eligibility_repeats
        WHERE member_id = eligible.member_id AND brand_id = eligible.brand_id
          AND purpose = eligible.purpose AND field = eligible.field;
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER insight_eligibility_repeated AFTER INSERT ON insight_eligibility
    FOR EACH ROW EXECUTE FUNCTION insight_eligibility_repeats_moved();
CREATE TRIGGER insight_eligibility_unrepeated AFTER DELETE ON insight_eligibility
    FOR EACH ROW EXECUTE FUNCTION insight_eligibility_repeats_moved();
