-- A care case's grant counts in no insight. The member asks one brand to get back to them about
-- one low score: a one-time individual grant for ``dpv:CustomerCare`` of that one journal entry
-- (field ``feedback``) or of their answers to one survey (``survey``), read through the case only
-- (community/care.py). Migration 6 made an eligibility row of it as of any grant covering those
-- fields, so a query naming ``dpv:CustomerCare`` counted every member who had complained, with
-- their whole journal about the brand at every touchpoint (or their answers to every one of its
-- surveys). Grants collected as care requests (consent/model.py's ``CARE_ASKED``, the
-- ``collection_method`` a grant keeps for its life) now make no row, and those made go (their
-- cells with them, by migration 6's triggers).
CREATE OR REPLACE FUNCTION insight_grant_eligibility() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        DELETE FROM insight_eligibility
        WHERE member_id = OLD.member_id AND grant_id = OLD.id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.status = 'active' AND NEW.expiry_recorded = 0
       AND NEW.collection_method <> 'vrmvault care request (member page)' THEN
        INSERT INTO insight_eligibility
            (member_id, brand_id, purpose, field, member_num, grant_id, starts_at, ends_at)
        SELECT DISTINCT NEW.member_id, NEW.brand_id, NEW.purpose, f.field, m.num, NEW.id,
               NEW.starts_at, NEW.ends_at
        FROM json_array_elements_text(NEW.fields::json) AS s (selector)
        JOIN insight_fields AS f ON f.selector = s.selector
        JOIN members AS m ON m.id = NEW.member_id
        ORDER BY f.field
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END;
$$;

DELETE FROM insight_eligibility AS e USING grants AS g
WHERE g.member_id = e.member_id AND g.id = e.grant_id
  AND g.collection_method = 'vrmvault care request (member page)';
