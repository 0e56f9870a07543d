-- The insights read model (brand_gateway/insights/read_model.py says why it keeps the counting
-- rule at any size): who may count for a brand, purpose and field, each member's bounded tally
-- per brand and touchpoint, and the per-cell counts of eligible members, all kept by triggers in
-- the transaction of the change that moves them (a grant given, narrowed, withdrawn, replaced,
-- released or deleted with its member; a journal entry or a survey answer written, changed or
-- deleted). Nothing here is ever written by the services themselves.
--
-- Time is not in the precomputed counts: ``insight_feedback_cells`` counts every eligibility
-- row whatever its window, and a query subtracts, from the same snapshot, the rows whose window
-- does not hold now (ended, or not yet started), found by the two window indexes.

-- Which grant selectors cover which fields insights may count: the non-sensitive fields of the
-- community (consent/vocabulary.py's ``expand`` restricted to them; a test holds the two
-- together). A sensitive field is never here, so no grant ever makes it count.
CREATE TABLE insight_fields (
    selector  TEXT NOT NULL,
    field     TEXT NOT NULL,
    PRIMARY KEY (selector, field)
) WITHOUT ROWID;
INSERT INTO insight_fields (selector, field) VALUES
    ('feedback', 'feedback'), ('category:feedback', 'feedback'),
    ('survey', 'survey'), ('category:survey', 'survey'),
    ('interests', 'interests'), ('category:interests', 'interests'),
    ('purchase_drivers', 'purchase_drivers'), ('category:motivations', 'purchase_drivers'),
    ('price_sensitivity', 'price_sensitivity'), ('category:motivations', 'price_sensitivity'),
    ('tech_adoption', 'tech_adoption'), ('category:motivations', 'tech_adoption'),
    ('life_stage', 'life_stage'), ('category:motivations', 'life_stage'),
    ('household_size', 'household_size'), ('category:demographics', 'household_size'),
    ('date_of_birth', 'date_of_birth'), ('category:identity', 'date_of_birth'),
    ('country', 'country'), ('category:contact', 'country');

-- One row per active grant and field it covers: the grant's member may count for the brand,
-- purpose and field while starts_at <= now < ends_at (checked by each query, never stored).
-- A grant whose expiry was recorded (web/endings.py's pass) has ended for good (an end is
-- only ever brought forward), so its rows go: the rows a query must subtract for their window
-- are only those of grants ended since the pass last ran.
CREATE TABLE insight_eligibility (
    brand_id    TEXT NOT NULL,
    purpose     TEXT NOT NULL,
    field       TEXT NOT NULL,
    member_num  INTEGER NOT NULL,
    grant_id    TEXT NOT NULL,
    starts_at   INTEGER NOT NULL,
    ends_at     INTEGER NOT NULL,
    PRIMARY KEY (brand_id, purpose, field, member_num, grant_id)
) WITHOUT ROWID;
CREATE INDEX insight_eligibility_of_grant ON insight_eligibility (grant_id);
CREATE INDEX insight_eligibility_of_member ON insight_eligibility (member_num, brand_id, field);
CREATE INDEX insight_eligibility_by_end ON insight_eligibility (brand_id, purpose, field, ends_at);
CREATE INDEX insight_eligibility_by_start
    ON insight_eligibility (brand_id, purpose, field, starts_at);

-- Each member's journal per brand and touchpoint, bounded to one value: the mean rating rounded
-- to the nearest half point (level 0 = 1.0 ... 8 = 5.0) and the NPS class of the mean score
-- (0 detractor below 7, 1 passive below 9, 2 promoter), exactly as contributions.py reduces a
-- member's rows (PerMember.MEAN, level_position, nps_position). 500 entries or one: one value.
CREATE TABLE insight_feedback_tallies (
    brand_id      TEXT NOT NULL,
    member_num    INTEGER NOT NULL,
    touchpoint    TEXT NOT NULL,
    entries       INTEGER NOT NULL,
    rating_sum    INTEGER NOT NULL,
    nps_entries   INTEGER NOT NULL,
    nps_sum       INTEGER NOT NULL,
    rating_level  INTEGER GENERATED ALWAYS AS (CASE WHEN entries > 0 THEN
                      CAST(((CAST(rating_sum AS REAL) / entries) - 1.0) / 0.5 + 0.5 AS INTEGER)
                  END) STORED,
    nps_class     INTEGER GENERATED ALWAYS AS (CASE WHEN nps_entries > 0 THEN
                      CASE WHEN CAST(nps_sum AS REAL) / nps_entries < 7 THEN 0
                           WHEN CAST(nps_sum AS REAL) / nps_entries < 9 THEN 1 ELSE 2 END
                  END) STORED,
    PRIMARY KEY (brand_id, member_num, touchpoint)
) WITHOUT ROWID;

-- Per brand, purpose, touchpoint and measure: how many (eligibility row, tally) pairs fall in
-- each cell. With one live grant per member, brand and purpose (consent/grants.py replaces the
-- old one in the transaction that gives the new), that is the members per cell, once the rows
-- out of their window are subtracted.
CREATE TABLE insight_feedback_cells (
    brand_id    TEXT NOT NULL,
    purpose     TEXT NOT NULL,
    touchpoint  TEXT NOT NULL,
    measure     TEXT NOT NULL CHECK (measure IN ('nps', 'rating')),
    cell        INTEGER NOT NULL,
    members     INTEGER NOT NULL,
    PRIMARY KEY (brand_id, purpose, measure, touchpoint, cell)
) WITHOUT ROWID;

-- Survey answers (migration 5), one value per member and question already (its primary key):
-- the cells each answer falls in, by the question's kind: a rating 1-5 in cell value - 1, an
-- NPS score in its class (0 detractor below 7, 1 passive below 9, 2 promoter), a single choice
-- in its index, a multiple choice in the respondent cell 0 and 1 + each choice it ticks (the
-- bitmask's bits below its number of choices, through ``insight_bits``: -1 stands for the
-- answer's own cell, each bit's row for one choice). Text is never a cell. The view is one
-- plain join, so SQLite flattens it into a query and finds an answer by its primary key.
CREATE TABLE insight_bits (bit INTEGER PRIMARY KEY);
INSERT INTO insight_bits (bit) VALUES (-1),(0),(1),(2),(3),(4),(5),(6),(7),(8),(9),(10),(11),(12),(13),(14),(15),(16),(17),(18),(19),(20),(21),(22),(23),(24),(25),(26),(27),(28),(29),(30),(31),(32),(33),(34),(35),(36),(37),(38),(39),(40),(41),(42),(43),(44),(45),(46),(47),(48),(49),(50),(51),(52),(53),(54),(55),(56),(57),(58),(59),(60),(61),(62);

CREATE VIEW insight_survey_answer_cells AS
SELECT a.survey_id AS survey_id, a.member_num AS member_num, a.position AS position,
       s.brand_id AS brand_id,
       CASE WHEN b.bit >= 0 THEN 1 + b.bit
            WHEN q.kind = 'rating' THEN a.value - 1
            WHEN q.kind = 'nps' THEN CASE WHEN a.value < 7 THEN 0 WHEN a.value < 9 THEN 1
                                          ELSE 2 END
            WHEN q.kind = 'single' THEN a.value
            ELSE 0 END AS cell
FROM survey_answers AS a
JOIN surveys AS s ON s.id = a.survey_id
JOIN survey_questions AS q ON q.survey_id = a.survey_id AND q.position = a.position
JOIN insight_bits AS b
  ON b.bit BETWEEN -1 AND (CASE q.kind WHEN 'multiple' THEN json_array_length(q.choices) - 1
                                                        ELSE -1 END)
WHERE q.kind <> 'text'
  AND CASE WHEN b.bit >= 0 THEN (a.choices >> b.bit) & 1 = 1
           WHEN q.kind = 'multiple' THEN a.choices IS NOT NULL
           ELSE a.value IS NOT NULL END;

-- Per survey, purpose, question and cell: the (eligibility row, answer cell) pairs, as the
-- journal's cells are kept.
CREATE TABLE insight_survey_cells (
    survey_id  TEXT NOT NULL,
    purpose    TEXT NOT NULL,
    position   INTEGER NOT NULL,
    cell       INTEGER NOT NULL,
    members    INTEGER NOT NULL,
    PRIMARY KEY (survey_id, purpose, position, cell)
) WITHOUT ROWID;

-- What a store holds already, brought in set by set before the triggers exist (they keep it
-- from here on).
INSERT INTO insight_eligibility (brand_id, purpose, field, member_num, grant_id, starts_at,
                                 ends_at)
SELECT DISTINCT g.brand_id, g.purpose, f.field, m.num, g.id, g.starts_at, g.ends_at
FROM grants AS g, json_each(g.fields) AS s
JOIN insight_fields AS f ON f.selector = s.value
JOIN members AS m ON m.id = g.member_id
WHERE g.status = 'active' AND g.expiry_recorded = 0;

INSERT INTO insight_feedback_tallies
    (brand_id, member_num, touchpoint, entries, rating_sum, nps_entries, nps_sum)
SELECT brand_id, member_num, touchpoint, count(*), sum(rating), count(nps), coalesce(sum(nps), 0)
FROM feedback GROUP BY brand_id, member_num, touchpoint;

INSERT INTO insight_feedback_cells (brand_id, purpose, touchpoint, measure, cell, members)
SELECT e.brand_id, e.purpose, t.touchpoint, 'nps', t.nps_class, count(*)
FROM insight_eligibility AS e
JOIN insight_feedback_tallies AS t ON t.brand_id = e.brand_id AND t.member_num = e.member_num
WHERE e.field = 'feedback' AND t.nps_class IS NOT NULL
GROUP BY e.brand_id, e.purpose, t.touchpoint, t.nps_class
UNION ALL
SELECT e.brand_id, e.purpose, t.touchpoint, 'rating', t.rating_level, count(*)
FROM insight_eligibility AS e
JOIN insight_feedback_tallies AS t ON t.brand_id = e.brand_id AND t.member_num = e.member_num
WHERE e.field = 'feedback'
GROUP BY e.brand_id, e.purpose, t.touchpoint, t.rating_level;

INSERT INTO insight_survey_cells (survey_id, purpose, position, cell, members)
SELECT v.survey_id, e.purpose, v.position, v.cell, count(*)
FROM insight_eligibility AS e
JOIN insight_survey_answer_cells AS v
  ON v.member_num = e.member_num AND v.brand_id = e.brand_id
WHERE e.field = 'survey'
GROUP BY v.survey_id, e.purpose, v.position, v.cell;

-- The triggers: grants move eligibility, the journal moves tallies, answers move survey
-- cells; eligibility and tallies move cells.
CREATE TRIGGER insight_grant_given AFTER INSERT ON grants
WHEN NEW.status = 'active' AND NEW.expiry_recorded = 0
BEGIN
    INSERT OR IGNORE INTO insight_eligibility
        (brand_id, purpose, field, member_num, grant_id, starts_at, ends_at)
    SELECT NEW.brand_id, NEW.purpose, f.field, m.num, NEW.id, NEW.starts_at, NEW.ends_at
    FROM json_each(NEW.fields) AS s
    JOIN insight_fields AS f ON f.selector = s.value
    JOIN members AS m ON m.id = NEW.member_id;
END;

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
    WHERE NEW.status = 'active' AND NEW.expiry_recorded = 0;
END;

CREATE TRIGGER insight_grant_deleted AFTER DELETE ON grants
BEGIN
    DELETE FROM insight_eligibility WHERE grant_id = OLD.id;
END;

CREATE TRIGGER insight_feedback_written AFTER INSERT ON feedback
BEGIN
    INSERT INTO insight_feedback_tallies
        (brand_id, member_num, touchpoint, entries, rating_sum, nps_entries, nps_sum)
    VALUES (NEW.brand_id, NEW.member_num, NEW.touchpoint, 1, NEW.rating,
            NEW.nps IS NOT NULL, coalesce(NEW.nps, 0))
    ON CONFLICT (brand_id, member_num, touchpoint) DO UPDATE SET
        entries = entries + 1, rating_sum = rating_sum + excluded.rating_sum,
        nps_entries = nps_entries + excluded.nps_entries, nps_sum = nps_sum + excluded.nps_sum;
END;

CREATE TRIGGER insight_feedback_deleted AFTER DELETE ON feedback
BEGIN
    UPDATE insight_feedback_tallies SET
        entries = entries - 1, rating_sum = rating_sum - OLD.rating,
        nps_entries = nps_entries - (OLD.nps IS NOT NULL), nps_sum = nps_sum - coalesce(OLD.nps, 0)
    WHERE brand_id = OLD.brand_id AND member_num = OLD.member_num
      AND touchpoint = OLD.touchpoint;
    DELETE FROM insight_feedback_tallies
    WHERE brand_id = OLD.brand_id AND member_num = OLD.member_num
      AND touchpoint = OLD.touchpoint AND entries = 0;
END;

CREATE TRIGGER insight_feedback_changed
AFTER UPDATE OF member_num, brand_id, touchpoint, rating, nps ON feedback
BEGIN
    UPDATE insight_feedback_tallies SET
        entries = entries - 1, rating_sum = rating_sum - OLD.rating,
        nps_entries = nps_entries - (OLD.nps IS NOT NULL), nps_sum = nps_sum - coalesce(OLD.nps, 0)
    WHERE brand_id = OLD.brand_id AND member_num = OLD.member_num
      AND touchpoint = OLD.touchpoint;
    DELETE FROM insight_feedback_tallies
    WHERE brand_id = OLD.brand_id AND member_num = OLD.member_num
      AND touchpoint = OLD.touchpoint AND entries = 0;
    INSERT INTO insight_feedback_tallies
        (brand_id, member_num, touchpoint, entries, rating_sum, nps_entries, nps_sum)
    VALUES (NEW.brand_id, NEW.member_num, NEW.touchpoint, 1, NEW.rating,
            NEW.nps IS NOT NULL, coalesce(NEW.nps, 0))
    ON CONFLICT (brand_id, member_num, touchpoint) DO UPDATE SET
        entries = entries + 1, rating_sum = rating_sum + excluded.rating_sum,
        nps_entries = nps_entries + excluded.nps_entries, nps_sum = nps_sum + excluded.nps_sum;
END;

-- A tally's cells follow its classes, for every eligibility row of its member, brand and the
-- journal; an eligibility row's cells follow it in and out. (Every INSERT ... SELECT of an
-- upsert here has a WHERE, SQLite's way of telling the upsert's ON CONFLICT from a join's ON.)
CREATE TRIGGER insight_tally_added AFTER INSERT ON insight_feedback_tallies
BEGIN
    INSERT INTO insight_feedback_cells (brand_id, purpose, touchpoint, measure, cell, members)
    SELECT e.brand_id, e.purpose, NEW.touchpoint, m.measure, m.cell, 1
    FROM insight_eligibility AS e,
         (SELECT 'nps' AS measure, NEW.nps_class AS cell
          UNION ALL SELECT 'rating', NEW.rating_level) AS m
    WHERE e.member_num = NEW.member_num AND e.brand_id = NEW.brand_id
      AND e.field = 'feedback' AND m.cell IS NOT NULL
    ON CONFLICT (brand_id, purpose, measure, touchpoint, cell)
    DO UPDATE SET members = members + excluded.members;
END;

CREATE TRIGGER insight_tally_changed AFTER UPDATE ON insight_feedback_tallies
WHEN OLD.nps_class IS NOT NEW.nps_class OR OLD.rating_level IS NOT NEW.rating_level
  OR OLD.touchpoint IS NOT NEW.touchpoint
BEGIN
    INSERT INTO insight_feedback_cells (brand_id, purpose, touchpoint, measure, cell, members)
    SELECT e.brand_id, e.purpose, m.touchpoint, m.measure, m.cell, m.members
    FROM insight_eligibility AS e,
         (SELECT OLD.touchpoint AS touchpoint, 'nps' AS measure, OLD.nps_class AS cell,
                 -1 AS members
          UNION ALL SELECT OLD.touchpoint, 'rating', OLD.rating_level, -1
          UNION ALL SELECT NEW.touchpoint, 'nps', NEW.nps_class, 1
          UNION ALL SELECT NEW.touchpoint, 'rating', NEW.rating_level, 1) AS m
    WHERE e.member_num = NEW.member_num AND e.brand_id = NEW.brand_id
      AND e.field = 'feedback' AND m.cell IS NOT NULL
    ON CONFLICT (brand_id, purpose, measure, touchpoint, cell)
    DO UPDATE SET members = members + excluded.members;
END;

CREATE TRIGGER insight_tally_removed AFTER DELETE ON insight_feedback_tallies
BEGIN
    INSERT INTO insight_feedback_cells (brand_id, purpose, touchpoint, measure, cell, members)
    SELECT e.brand_id, e.purpose, OLD.touchpoint, m.measure, m.cell, -1
    FROM insight_eligibility AS e,
         (SELECT 'nps' AS measure, OLD.nps_class AS cell
          UNION ALL SELECT 'rating', OLD.rating_level) AS m
    WHERE e.member_num = OLD.member_num AND e.brand_id = OLD.brand_id
      AND e.field = 'feedback' AND m.cell IS NOT NULL
    ON CONFLICT (brand_id, purpose, measure, touchpoint, cell)
    DO UPDATE SET members = members + excluded.members;
END;

CREATE TRIGGER insight_journal_eligible AFTER INSERT ON insight_eligibility
WHEN NEW.field = 'feedback'
BEGIN
    INSERT INTO insight_feedback_cells (brand_id, purpose, touchpoint, measure, cell, members)
    SELECT NEW.brand_id, NEW.purpose, t.touchpoint, m.measure,
           CASE m.measure WHEN 'nps' THEN t.nps_class ELSE t.rating_level END, 1
    FROM insight_feedback_tallies AS t, (SELECT 'nps' AS measure UNION ALL SELECT 'rating') AS m
    WHERE t.brand_id = NEW.brand_id AND t.member_num = NEW.member_num
      AND (CASE m.measure WHEN 'nps' THEN t.nps_class ELSE t.rating_level END) IS NOT NULL
    ON CONFLICT (brand_id, purpose, measure, touchpoint, cell)
    DO UPDATE SET members = members + excluded.members;
END;

CREATE TRIGGER insight_journal_ineligible AFTER DELETE ON insight_eligibility
WHEN OLD.field = 'feedback'
BEGIN
    INSERT INTO insight_feedback_cells (brand_id, purpose, touchpoint, measure, cell, members)
    SELECT OLD.brand_id, OLD.purpose, t.touchpoint, m.measure,
           CASE m.measure WHEN 'nps' THEN t.nps_class ELSE t.rating_level END, -1
    FROM insight_feedback_tallies AS t, (SELECT 'nps' AS measure UNION ALL SELECT 'rating') AS m
    WHERE t.brand_id = OLD.brand_id AND t.member_num = OLD.member_num
      AND (CASE m.measure WHEN 'nps' THEN t.nps_class ELSE t.rating_level END) IS NOT NULL
    ON CONFLICT (brand_id, purpose, measure, touchpoint, cell)
    DO UPDATE SET members = members + excluded.members;
END;

-- An answer's cells follow it (BEFORE a change or a deletion the view still shows the old
-- answer; AFTER, the new one), for every eligibility row of its member, brand and the survey
-- field; an eligibility row's cells follow it in and out.
CREATE TRIGGER insight_answer_added AFTER INSERT ON survey_answers
BEGIN
    INSERT INTO insight_survey_cells (survey_id, purpose, position, cell, members)
    SELECT v.survey_id, e.purpose, v.position, v.cell, 1
    FROM insight_survey_answer_cells AS v
    JOIN insight_eligibility AS e
      ON e.member_num = v.member_num AND e.brand_id = v.brand_id AND e.field = 'survey'
    WHERE v.survey_id = NEW.survey_id AND v.member_num = NEW.member_num
      AND v.position = NEW.position
    ON CONFLICT (survey_id, purpose, position, cell)
    DO UPDATE SET members = members + excluded.members;
END;

CREATE TRIGGER insight_answer_changing BEFORE UPDATE OF value, choices ON survey_answers
BEGIN
    INSERT INTO insight_survey_cells (survey_id, purpose, position, cell, members)
    SELECT v.survey_id, e.purpose, v.position, v.cell, -1
    FROM insight_survey_answer_cells AS v
    JOIN insight_eligibility AS e
      ON e.member_num = v.member_num AND e.brand_id = v.brand_id AND e.field = 'survey'
    WHERE v.survey_id = OLD.survey_id AND v.member_num = OLD.member_num
      AND v.position = OLD.position
    ON CONFLICT (survey_id, purpose, position, cell)
    DO UPDATE SET members = members + excluded.members;
END;

CREATE TRIGGER insight_answer_changed AFTER UPDATE OF value, choices ON survey_answers
BEGIN
    INSERT INTO insight_survey_cells (survey_id, purpose, position, cell, members)
    SELECT v.survey_id, e.purpose, v.position, v.cell, 1
    FROM insight_survey_answer_cells AS v
    JOIN insight_eligibility AS e
      ON e.member_num = v.member_num AND e.brand_id = v.brand_id AND e.field = 'survey'
    WHERE v.survey_id = NEW.survey_id AND v.member_num = NEW.member_num
      AND v.position = NEW.position
    ON CONFLICT (survey_id, purpose, position, cell)
    DO UPDATE SET members = members + excluded.members;
END;

CREATE TRIGGER insight_answer_removing BEFORE DELETE ON survey_answers
BEGIN
    INSERT INTO insight_survey_cells (survey_id, purpose, position, cell, members)
    SELECT v.survey_id, e.purpose, v.position, v.cell, -1
    FROM insight_survey_answer_cells AS v
    JOIN insight_eligibility AS e
      ON e.member_num = v.member_num AND e.brand_id = v.brand_id AND e.field = 'survey'
    WHERE v.survey_id = OLD.survey_id AND v.member_num = OLD.member_num
      AND v.position = OLD.position
    ON CONFLICT (survey_id, purpose, position, cell)
    DO UPDATE SET members = members + excluded.members;
END;

CREATE TRIGGER insight_survey_removed AFTER DELETE ON surveys
BEGIN
    DELETE FROM insight_survey_cells WHERE survey_id = OLD.id;
END;

CREATE TRIGGER insight_answers_eligible AFTER INSERT ON insight_eligibility
WHEN NEW.field = 'survey'
BEGIN
    INSERT INTO insight_survey_cells (survey_id, purpose, position, cell, members)
    SELECT v.survey_id, NEW.purpose, v.position, v.cell, 1
    FROM insight_survey_answer_cells AS v
    WHERE v.member_num = NEW.member_num AND v.brand_id = NEW.brand_id
    ON CONFLICT (survey_id, purpose, position, cell)
    DO UPDATE SET members = members + excluded.members;
END;

CREATE TRIGGER insight_answers_ineligible AFTER DELETE ON insight_eligibility
WHEN OLD.field = 'survey'
BEGIN
    INSERT INTO insight_survey_cells (survey_id, purpose, position, cell, members)
    SELECT v.survey_id, OLD.purpose, v.position, v.cell, -1
    FROM insight_survey_answer_cells AS v
    WHERE v.member_num = OLD.member_num AND v.brand_id = OLD.brand_id
    ON CONFLICT (survey_id, purpose, position, cell)
    DO UPDATE SET members = members + excluded.members;
END;
