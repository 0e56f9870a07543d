-- A care case's grant counts in no insight. The member asks one brand to get back to them about
-- one low score: a one-time individual grant for ``dpv:CustomerCare`` of that one journal entry
-- (field ``feedback``) or of their answers to one survey (``survey``), read through the case only
-- (community/care.py). Migration 6 made an eligibility row of it as of any grant covering those
-- fields, so a query naming ``dpv:CustomerCare`` counted every member who had complained, with
-- their whole journal about the brand at every touchpoint (or their answers to every one of its
-- surveys). Grants collected as care requests (consent/model.py's ``CARE_ASKED``, the
-- ``collection_method`` a grant keeps for its life) now make no row, and those made go (their
-- cells with them, by migration 6's triggers).
DROP TRIGGER insight_grant_given;
CREATE TRIGGER insight_grant_given AFTER INSERT ON grants
WHEN NEW.status = 'active' AND NEW.expiry_recorded = 0
  AND NEW.collection_method <> 'vrmvault care request (member page)'
BEGIN
    INSERT OR IGNORE INTO insight_eligibility
        (brand_id, purpose, field, member_num, grant_id, starts_at, ends_at)
    SELECT NEW.brand_id, NEW.purpose, f.field, m.num, NEW.id, NEW.starts_at, NEW.ends_at
    FROM json_each(NEW.fields) AS s
    JOIN insight_fields AS f ON f.selector = s.value
    JOIN members AS m ON m.id = NEW.member_id;
END;

DROP TRIGGER insight_grant_changed;
CREATE TRIGGER insight_grant_changed
AFTER UPDATE OF status, fields, mode, starts_at, ends_at, brand_id, purpose, member_id,
    expiry_recorded ON grants
BEGIN
    DELETE FROM insight_eligibility WHERE grant_id = OLD.id;
    INSERT OR IGNORE INTO insight_eligibility
        (brand_id, purpose, field, member_num, grant_id, starts_at, ends_at)
    SELECT NEW.brand_id, NEW.purpose, f.field, m.num, NEW.id, NEW.starts_at, NEW.ends_at
    FROM json_each(NEW.fields) AS s
    JOIN insight_fields AS f ON f.selector = s.value
    JOIN members AS m ON m.id = NEW.member_id
    WHERE NEW.status = 'active' AND NEW.expiry_recorded = 0
      AND NEW.collection_method <> 'vrmvault care request (member page)';
END;

DELETE FROM insight_eligibility WHERE grant_id IN (
    SELECT id FROM grants WHERE collection_method = 'vrmvault care request (member page)');
