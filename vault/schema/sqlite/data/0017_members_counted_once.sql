-- The members who hold more than one eligibility row for one brand, purpose and field: a grant
-- to the brand's app, one given for its insight community and one for a care case live side by
-- side for one purpose (consent/grants.py), and each adds an ``insight_eligibility`` row. The
-- cells of migration 6 count every row, so such a member counted twice (or three times) in
-- every cell of theirs, past the one cell per touchpoint or question the noise of a release is
-- derived from (brand_gateway/insights/contributions.py): a loss of twice the epsilon the brand
-- was charged, for that member. The cells stay as they are (their triggers are unchanged); a
-- query takes, for each member listed here, the rows beyond their first that hold at its time
-- off again (brand_gateway/insights/sql.py), so its cost follows the few members listed, never
-- the number of members.
CREATE TABLE insight_eligibility_repeats (
    brand_id    TEXT NOT NULL,
    purpose     TEXT NOT NULL,
    field       TEXT NOT NULL,
    member_num  INTEGER NOT NULL,
    PRIMARY KEY (brand_id, purpose, field, member_num)
) WITHOUT ROWID;

INSERT INTO insight_eligibility_repeats (brand_id, purpose, field, member_num)
SELECT brand_id, purpose, field, member_num FROM insight_eligibility
GROUP BY brand_id, purpose, field, member_num HAVING count(*) > 1;

CREATE TRIGGER insight_eligibility_repeated AFTER INSERT ON insight_eligibility
WHEN (SELECT count(*) FROM insight_eligibility
      WHERE brand_id = NEW.brand_id AND purpose = NEW.purpose AND field = NEW.field
        AND member_num = NEW.member_num) > 1
BEGIN
    INSERT OR IGNORE INTO insight_eligibility_repeats (brand_id, purpose, field, member_num)
    VALUES (NEW.brand_id, NEW.purpose, NEW.field, NEW.member_num);
END;

CREATE TRIGGER insight_eligibility_unrepeated AFTER DELETE ON insight_eligibility
WHEN (SELECT count(*) FROM insight_eligibility
      WHERE brand_id = OLD.brand_id AND purpose = OLD.purpose AND field = OLD.field
        AND member_num = OLD.member_num) < 2
BEGIN
    DELETE FROM insight_eligibility_repeats
    WHERE brand_id = OLD.brand_id AND purpose = OLD.purpose AND field = OLD.field
      AND member_num = OLD.member_num;
END;
