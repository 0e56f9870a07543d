-- 0006_insights_read_model.sql on PostgreSQL: the tables and triggers of
-- sqlite/data/0006_insights_read_model.sql, by the rules in 0001_baseline.sql.
--
-- The insights read model (brand_gateway/insights/read_model.py says why it keeps the counting
-- rule at any size): who may count for a brand, purpose and field, each member's bounded tally
-- per brand and touchpoint, and the per-cell counts of eligible members, all kept by triggers
-- in the transaction of the change that moves them (a grant given, narrowed, withdrawn,
-- replaced, released or deleted with its member; a journal entry or a survey answer written,
-- changed or deleted). Nothing here is ever written by the services themselves. Time is not in
-- the precomputed counts: a query subtracts, from the same snapshot, the rows whose window does
-- not hold now, found by the two window indexes.
--
-- Shared (reference tables under Citus, never written after this migration): insight_fields,
-- insight_bits.
-- Member-owned (``member_id`` first in the key, ``member_num`` carried: it is the member key
-- the contract hands out): insight_eligibility, insight_feedback_tallies. Every join between
-- them, or with survey_answers, is on ``member_id``.
-- Brand-level aggregates (no member's rows; distributed by ``brand_id``, and by ``survey_id``,
-- under Citus): insight_feedback_cells, insight_survey_cells.
--
-- The triggers are SQLite's, as PL/pgSQL trigger functions, with these differences:
-- * Row-level AFTER triggers fire when their statement ends, not after each row; every
--   function reads the changed row's OLD and NEW values, never the table it changed (an
--   answer's cells come from ``insight_answer_cells`` over the answer's values, where SQLite's
--   BEFORE triggers read the view while the old row was still there).
-- * The AFTER triggers of a foreign key's cascade wait for the end of the statement that set
--   it off: erasing a member deletes their answers and their grants first, and only then does
--   each grant's trigger take its eligibility away. A pair (eligibility row, answer cell) is
--   subtracted by whichever of the two goes first, seeing the other still there, so an
--   answer's cells go out BEFORE its deletion (``insight_answer_removing``), while the
--   eligibility it pairs with is still there. (Tallies and eligibility rows are only ever
--   deleted by these triggers, never by a cascade.)
-- * An upsert may not touch one row twice (SQLite adds each pair in turn): each statement sums
--   its deltas per cell first, and writes its cells in key order.
-- * Before a transaction moves a brand's cells it takes a transaction-level advisory lock of
--   the brand (``insight_lock_brand``): every writer of the brand's cells (a journal entry, an
--   answer, a grant) then waits for the one before to commit, as SQLite's one write lock makes
--   them, instead of locking the cell rows in an order of its own and deadlocking with another
--   transaction that locks them in another (a member's entries at two touchpoints against
--   another's at the same two, in turn). A transaction that moves the cells of several brands
--   (an erasure) takes their locks in the order it meets them.
--
-- Under Citus: grants, feedback, survey_answers, insight_eligibility and
-- insight_feedback_tallies are distributed by ``member_id`` and co-located, so the triggers that
-- keep eligibility and tallies from grants and the journal stay on the member's shard (they
-- need ``citus.enable_unsafe_triggers``, which runs them on the shards). The triggers that move
-- the brand-level cells write, from the member's shard, rows of another shard (the brand's):
-- Citus does not support that as it is. What would be needed: the member's shard keeps its own
-- signed deltas (a member-owned table of (brand, purpose, touchpoint/survey, cell, delta)
-- written by these triggers in the same transaction), and the brand's cells are the deltas
-- summed, either at query time (a fan-out over the shards, by ``brand_id``) or folded into the
-- brand's rows by a background pass that reads and deletes the deltas in one distributed
-- transaction (the queries adding the deltas not folded yet); or the repositories that change
-- grants, entries and answers issue the cells' statements themselves, in the same distributed
-- transaction (two-phase commit across the two shards). Citus cannot be installed here, so
-- neither is written.

CREATE TABLE insight_fields (
    selector  TEXT NOT NULL,
    field     TEXT NOT NULL,
    PRIMARY KEY (selector, field)
);
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
-- A grant whose expiry was recorded has ended for good, so its rows go.
CREATE TABLE insight_eligibility (
    member_id   TEXT NOT NULL,
    brand_id    TEXT NOT NULL,
    purpose     TEXT NOT NULL,
    field       TEXT NOT NULL,
    member_num  BIGINT NOT NULL,
    grant_id    TEXT NOT NULL,
    starts_at   BIGINT NOT NULL,
    ends_at     BIGINT NOT NULL,
    PRIMARY KEY (member_id, brand_id, purpose, field, grant_id)
);
CREATE INDEX insight_eligibility_of_grant ON insight_eligibility (member_id, grant_id);
CREATE INDEX insight_eligibility_by_end ON insight_eligibility (brand_id, purpose, field, ends_at);
CREATE INDEX insight_eligibility_by_start
    ON insight_eligibility (brand_id, purpose, field, starts_at);

-- Each member's journal per brand and touchpoint, bounded to one value: the mean rating rounded
-- to the nearest half point (level 0 = 1.0 ... 8 = 5.0) and the NPS class of the mean score
-- (0 detractor below 7, 1 passive below 9, 2 promoter), as contributions.py reduces a member's
-- rows. SQLite's CAST to INTEGER truncates; PostgreSQL's rounds, so the level truncates here.
CREATE TABLE insight_feedback_tallies (
    member_id     TEXT NOT NULL,
    brand_id      TEXT NOT NULL,
    touchpoint    TEXT NOT NULL,
    member_num    BIGINT NOT NULL,
    entries       BIGINT NOT NULL,
    rating_sum    BIGINT NOT NULL,
    nps_entries   BIGINT NOT NULL,
    nps_sum       BIGINT NOT NULL,
    rating_level  INTEGER GENERATED ALWAYS AS (CASE WHEN entries > 0 THEN
                      trunc(((rating_sum::double precision / entries) - 1.0) / 0.5 + 0.5)::integer
                  END) STORED,
    nps_class     INTEGER GENERATED ALWAYS AS (CASE WHEN nps_entries > 0 THEN
                      CASE WHEN nps_sum::double precision / nps_entries < 7 THEN 0
                           WHEN nps_sum::double precision / nps_entries < 9 THEN 1 ELSE 2 END
                  END) STORED,
    PRIMARY KEY (member_id, brand_id, touchpoint)
);

-- Per brand, purpose, touchpoint and measure: how many (eligibility row, tally) pairs fall in
-- each cell; with one live grant per member, brand and purpose, the members per cell, once the
-- rows out of their window are subtracted.
CREATE TABLE insight_feedback_cells (
    brand_id    TEXT NOT NULL,
    purpose     TEXT NOT NULL,
    touchpoint  TEXT NOT NULL,
    measure     TEXT NOT NULL CHECK (measure IN ('nps', 'rating')),
    cell        INTEGER NOT NULL,
    members     BIGINT NOT NULL,
    PRIMARY KEY (brand_id, purpose, measure, touchpoint, cell)
);

-- The cells an answer falls in, by its question's kind: a rating 1-5 in cell value - 1, an NPS
-- score in its class, a single choice in its index, a multiple choice in the respondent cell 0
-- and 1 + each choice it ticks (the bitmask's bits below its number of choices, through
-- ``insight_bits``: -1 stands for the answer's own cell). Text is never a cell.
-- ``insight_answer_cells`` is one SQL query over an answer's values, inlined where it is used
-- (the view, and the answer triggers, which read OLD and NEW rather than the table).
CREATE TABLE insight_bits (bit INTEGER PRIMARY KEY);
INSERT INTO insight_bits (bit) SELECT generate_series(-1, 62);

CREATE FUNCTION insight_answer_cells(answer_survey TEXT, answer_position INTEGER,
                                     answer_value INTEGER, answer_choices BIGINT)
RETURNS TABLE (brand_id TEXT, cell INTEGER) LANGUAGE sql STABLE AS $$
    SELECT s.brand_id,
           CASE WHEN b.bit >= 0 THEN 1 + b.bit
                WHEN q.kind = 'rating' THEN answer_value - 1
                WHEN q.kind = 'nps' THEN CASE WHEN answer_value < 7 THEN 0
                                              WHEN answer_value < 9 THEN 1 ELSE 2 END
                WHEN q.kind = 'single' THEN answer_value
                ELSE 0 END
    FROM surveys AS s
    JOIN survey_questions AS q ON q.survey_id = s.id AND q.position = answer_position
    JOIN insight_bits AS b
      ON b.bit BETWEEN -1 AND (CASE q.kind WHEN 'multiple'
                                   THEN json_array_length(q.choices::json) - 1 ELSE -1 END)
    WHERE s.id = answer_survey AND q.kind <> 'text'
      AND CASE WHEN b.bit >= 0 THEN (answer_choices >> b.bit) & 1 = 1
               WHEN q.kind = 'multiple' THEN answer_choices IS NOT NULL
               ELSE answer_value IS NOT NULL END
$$;

CREATE VIEW insight_survey_answer_cells AS
SELECT a.survey_id AS survey_id, a.member_id AS member_id, a.member_num AS member_num,
       a.position AS position, c.brand_id AS brand_id, c.cell AS cell
FROM survey_answers AS a
CROSS JOIN LATERAL insight_answer_cells(a.survey_id, a.position, a.value, a.choices) AS c;

-- Per survey, purpose, question and cell: the (eligibility row, answer cell) pairs.
CREATE TABLE insight_survey_cells (
    survey_id  TEXT NOT NULL,
    purpose    TEXT NOT NULL,
    position   INTEGER NOT NULL,
    cell       INTEGER NOT NULL,
    members    BIGINT NOT NULL,
    PRIMARY KEY (survey_id, purpose, position, cell)
);

-- What a store holds already, brought in set by set before the triggers exist.
INSERT INTO insight_eligibility (member_id, brand_id, purpose, field, member_num, grant_id,
                                 starts_at, ends_at)
SELECT DISTINCT g.member_id, g.brand_id, g.purpose, f.field, m.num, g.id, g.starts_at, g.ends_at
FROM grants AS g
CROSS JOIN LATERAL json_array_elements_text(g.fields::json) AS s (selector)
JOIN insight_fields AS f ON f.selector = s.selector
JOIN members AS m ON m.id = g.member_id
WHERE g.status = 'active' AND g.expiry_recorded = 0;

INSERT INTO insight_feedback_tallies
    (member_id, brand_id, touchpoint, member_num, entries, rating_sum, nps_entries, nps_sum)
SELECT member_id, brand_id, touchpoint, min(member_num), count(*), sum(rating), count(nps),
       coalesce(sum(nps), 0)
FROM feedback GROUP BY member_id, brand_id, touchpoint;

INSERT INTO insight_feedback_cells (brand_id, purpose, touchpoint, measure, cell, members)
SELECT e.brand_id, e.purpose, t.touchpoint, m.measure, m.cell, count(*)
FROM insight_eligibility AS e
JOIN insight_feedback_tallies AS t
  ON t.member_id = e.member_id AND t.brand_id = e.brand_id
CROSS JOIN LATERAL (VALUES ('nps', t.nps_class), ('rating', t.rating_level)) AS m (measure, cell)
WHERE e.field = 'feedback' AND m.cell IS NOT NULL
GROUP BY e.brand_id, e.purpose, t.touchpoint, m.measure, m.cell;

INSERT INTO insight_survey_cells (survey_id, purpose, position, cell, members)
SELECT v.survey_id, e.purpose, v.position, v.cell, count(*)
FROM insight_eligibility AS e
JOIN insight_survey_answer_cells AS v
  ON v.member_id = e.member_id AND v.brand_id = e.brand_id
WHERE e.field = 'survey'
GROUP BY v.survey_id, e.purpose, v.position, v.cell;

-- The triggers: grants move eligibility, the journal moves tallies, answers move survey
-- cells; eligibility and tallies move cells.

-- Serialises the writers of a brand's cells (see the head of this file).
CREATE FUNCTION insight_lock_brand(brand TEXT) RETURNS void LANGUAGE sql AS $$
    SELECT pg_advisory_xact_lock(hashtext('vrmvault:insight-cells'), hashtext(brand))
$$;

CREATE FUNCTION insight_grant_eligibility() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        DELETE FROM insight_eligibility
        WHERE member_id = OLD.member_id AND grant_id = OLD.id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.status = 'active' AND NEW.expiry_recorded = 0 THEN
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
CREATE TRIGGER insight_grant_given AFTER INSERT ON grants
    FOR EACH ROW WHEN (NEW.status = 'active' AND NEW.expiry_recorded = 0)
    EXECUTE FUNCTION insight_grant_eligibility();
CREATE TRIGGER insight_grant_changed
    AFTER UPDATE OF status, fields, mode, starts_at, ends_at, brand_id, purpose, member_id,
        expiry_recorded ON grants
    FOR EACH ROW EXECUTE FUNCTION insight_grant_eligibility();
CREATE TRIGGER insight_grant_deleted AFTER DELETE ON grants
    FOR EACH ROW EXECUTE FUNCTION insight_grant_eligibility();

-- Journal entries move their members' tallies at their brands and touchpoints: out of the old
-- ones, into the new ones (a tally left with no entry goes). Once per statement, over its
-- transition tables, summed per tally: an erasure deleting a member's 10,000 entries, or the
-- demo writing them, changes each of the member's tallies once, not once per entry (row
-- triggers made the erasure of 10,000 entries cost 0.5 s, bench/postgresql.py). Transition
-- tables cannot go with a column list, so every UPDATE of a journal entry runs it: an update
-- that moves no class (a comment) subtracts and adds the same sums.
CREATE FUNCTION insight_feedback_tallies_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE insight_feedback_tallies AS t SET
            entries = t.entries - o.entries, rating_sum = t.rating_sum - o.rating_sum,
            nps_entries = t.nps_entries - o.nps_entries, nps_sum = t.nps_sum - o.nps_sum
        FROM (SELECT member_id, brand_id, touchpoint, count(*) AS entries,
                     sum(rating) AS rating_sum, count(nps) AS nps_entries,
                     coalesce(sum(nps), 0) AS nps_sum
              FROM old_entries GROUP BY member_id, brand_id, touchpoint) AS o
        WHERE t.member_id = o.member_id AND t.brand_id = o.brand_id
          AND t.touchpoint = o.touchpoint;
        DELETE FROM insight_feedback_tallies AS t
        USING (SELECT DISTINCT member_id, brand_id, touchpoint FROM old_entries) AS o
        WHERE t.member_id = o.member_id AND t.brand_id = o.brand_id
          AND t.touchpoint = o.touchpoint AND t.entries = 0;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO insight_feedback_tallies AS t
            (member_id, brand_id, touchpoint, member_num, entries, rating_sum, nps_entries,
             nps_sum)
        SELECT member_id, brand_id, touchpoint, min(member_num), count(*), sum(rating),
               count(nps), coalesce(sum(nps), 0)
        FROM new_entries GROUP BY member_id, brand_id, touchpoint
        ON CONFLICT (member_id, brand_id, touchpoint) DO UPDATE SET
            entries = t.entries + excluded.entries, rating_sum = t.rating_sum + excluded.rating_sum,
            nps_entries = t.nps_entries + excluded.nps_entries,
            nps_sum = t.nps_sum + excluded.nps_sum;
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER insight_feedback_written AFTER INSERT ON feedback
    REFERENCING NEW TABLE AS new_entries
    FOR EACH STATEMENT EXECUTE FUNCTION insight_feedback_tallies_moved();
CREATE TRIGGER insight_feedback_changed AFTER UPDATE ON feedback
    REFERENCING OLD TABLE AS old_entries NEW TABLE AS new_entries
    FOR EACH STATEMENT EXECUTE FUNCTION insight_feedback_tallies_moved();
CREATE TRIGGER insight_feedback_deleted AFTER DELETE ON feedback
    REFERENCING OLD TABLE AS old_entries
    FOR EACH STATEMENT EXECUTE FUNCTION insight_feedback_tallies_moved();

-- A tally's cells follow its classes, for every eligibility row of its member, brand and the
-- journal: the old tally's cells -1, the new one's +1, summed per cell.
CREATE FUNCTION insight_tally_cells() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    tally insight_feedback_tallies;
BEGIN
    tally := CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    PERFORM insight_lock_brand(tally.brand_id);
    IF TG_OP = 'UPDATE' AND OLD.brand_id IS DISTINCT FROM NEW.brand_id THEN
        PERFORM insight_lock_brand(OLD.brand_id);
    END IF;
    INSERT INTO insight_feedback_cells AS c
        (brand_id, purpose, touchpoint, measure, cell, members)
    SELECT e.brand_id, e.purpose, d.touchpoint, d.measure, d.cell, sum(d.delta)
    FROM (SELECT OLD.member_id, OLD.brand_id, OLD.touchpoint, 'nps', OLD.nps_class, -1
          WHERE TG_OP IN ('UPDATE', 'DELETE')
          UNION ALL SELECT OLD.member_id, OLD.brand_id, OLD.touchpoint, 'rating',
                           OLD.rating_level, -1
          WHERE TG_OP IN ('UPDATE', 'DELETE')
          UNION ALL SELECT NEW.member_id, NEW.brand_id, NEW.touchpoint, 'nps', NEW.nps_class, 1
          WHERE TG_OP IN ('INSERT', 'UPDATE')
          UNION ALL SELECT NEW.member_id, NEW.brand_id, NEW.touchpoint, 'rating',
                           NEW.rating_level, 1
          WHERE TG_OP IN ('INSERT', 'UPDATE'))
         AS d (member_id, brand_id, touchpoint, measure, cell, delta)
    JOIN insight_eligibility AS e
      ON e.member_id = d.member_id AND e.brand_id = d.brand_id AND e.field = 'feedback'
    WHERE d.cell IS NOT NULL
    GROUP BY e.brand_id, e.purpose, d.measure, d.touchpoint, d.cell
    HAVING sum(d.delta) <> 0
    ORDER BY e.brand_id, e.purpose, d.measure, d.touchpoint, d.cell
    ON CONFLICT (brand_id, purpose, measure, touchpoint, cell)
    DO UPDATE SET members = c.members + excluded.members;
    RETURN NULL;
END;
$$;
CREATE TRIGGER insight_tally_added AFTER INSERT ON insight_feedback_tallies
    FOR EACH ROW EXECUTE FUNCTION insight_tally_cells();
CREATE TRIGGER insight_tally_changed AFTER UPDATE ON insight_feedback_tallies
    FOR EACH ROW
    WHEN (OLD.nps_class IS DISTINCT FROM NEW.nps_class
          OR OLD.rating_level IS DISTINCT FROM NEW.rating_level
          OR OLD.touchpoint IS DISTINCT FROM NEW.touchpoint
          OR OLD.brand_id IS DISTINCT FROM NEW.brand_id
          OR OLD.member_id IS DISTINCT FROM NEW.member_id)
    EXECUTE FUNCTION insight_tally_cells();
CREATE TRIGGER insight_tally_removed AFTER DELETE ON insight_feedback_tallies
    FOR EACH ROW EXECUTE FUNCTION insight_tally_cells();

-- An eligibility row's cells follow it in and out: for the journal, every tally of its member
-- and brand; for survey answers, every cell of its member's answers to the brand's surveys.
CREATE FUNCTION insight_eligibility_cells() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    eligible insight_eligibility;
    delta integer;
BEGIN
    IF TG_OP = 'DELETE' THEN
        eligible := OLD;
        delta := -1;
    ELSE
        eligible := NEW;
        delta := 1;
    END IF;
    PERFORM insight_lock_brand(eligible.brand_id);
    IF eligible.field = 'feedback' THEN
        INSERT INTO insight_feedback_cells AS c
            (brand_id, purpose, touchpoint, measure, cell, members)
        SELECT eligible.brand_id, eligible.purpose, t.touchpoint, m.measure, m.cell,
               delta * count(*)
        FROM insight_feedback_tallies AS t
        CROSS JOIN LATERAL (VALUES ('nps', t.nps_class), ('rating', t.rating_level))
             AS m (measure, cell)
        WHERE t.member_id = eligible.member_id AND t.brand_id = eligible.brand_id
          AND m.cell IS NOT NULL
        GROUP BY m.measure, t.touchpoint, m.cell
        ORDER BY m.measure, t.touchpoint, m.cell
        ON CONFLICT (brand_id, purpose, measure, touchpoint, cell)
        DO UPDATE SET members = c.members + excluded.members;
    ELSIF eligible.field = 'survey' THEN
        INSERT INTO insight_survey_cells AS c (survey_id, purpose, position, cell, members)
        SELECT v.survey_id, eligible.purpose, v.position, v.cell, delta * count(*)
        FROM insight_survey_answer_cells AS v
        WHERE v.member_id = eligible.member_id AND v.brand_id = eligible.brand_id
        GROUP BY v.survey_id, v.position, v.cell
        ORDER BY v.survey_id, v.position, v.cell
        ON CONFLICT (survey_id, purpose, position, cell)
        DO UPDATE SET members = c.members + excluded.members;
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER insight_eligibility_added AFTER INSERT ON insight_eligibility
    FOR EACH ROW WHEN (NEW.field IN ('feedback', 'survey'))
    EXECUTE FUNCTION insight_eligibility_cells();
CREATE TRIGGER insight_eligibility_removed AFTER DELETE ON insight_eligibility
    FOR EACH ROW WHEN (OLD.field IN ('feedback', 'survey'))
    EXECUTE FUNCTION insight_eligibility_cells();

-- An answer's cells follow it, for every eligibility row of its member, its survey's brand
-- and the survey field: the old answer's cells -1, the new one's +1, summed per cell; a
-- deleted answer's before it goes (see the head of this file).
CREATE FUNCTION insight_answer_survey_cells() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    answer survey_answers;
    brand TEXT;
BEGIN
    answer := CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    SELECT s.brand_id INTO brand FROM surveys AS s WHERE s.id = answer.survey_id;
    IF brand IS NULL THEN
        RETURN OLD;             -- deleted with its survey, whose cells go with it
    END IF;
    PERFORM insight_lock_brand(brand);
    INSERT INTO insight_survey_cells AS c (survey_id, purpose, position, cell, members)
    SELECT d.survey_id, e.purpose, d.position, d.cell, sum(d.delta)
    FROM (SELECT OLD.member_id, OLD.survey_id, OLD.position, o.brand_id, o.cell, -1
          FROM insight_answer_cells(OLD.survey_id, OLD.position, OLD.value, OLD.choices) AS o
          WHERE TG_OP IN ('UPDATE', 'DELETE')
          UNION ALL
          SELECT NEW.member_id, NEW.survey_id, NEW.position, n.brand_id, n.cell, 1
          FROM insight_answer_cells(NEW.survey_id, NEW.position, NEW.value, NEW.choices) AS n
          WHERE TG_OP IN ('INSERT', 'UPDATE'))
         AS d (member_id, survey_id, position, brand_id, cell, delta)
    JOIN insight_eligibility AS e
      ON e.member_id = d.member_id AND e.brand_id = d.brand_id AND e.field = 'survey'
    GROUP BY d.survey_id, e.purpose, d.position, d.cell
    HAVING sum(d.delta) <> 0
    ORDER BY d.survey_id, e.purpose, d.position, d.cell
    ON CONFLICT (survey_id, purpose, position, cell)
    DO UPDATE SET members = c.members + excluded.members;
    RETURN OLD;                 -- a BEFORE DELETE goes ahead; AFTER, ignored
END;
$$;
CREATE TRIGGER insight_answer_added AFTER INSERT ON survey_answers
    FOR EACH ROW EXECUTE FUNCTION insight_answer_survey_cells();
CREATE TRIGGER insight_answer_changed AFTER UPDATE OF value, choices ON survey_answers
    FOR EACH ROW EXECUTE FUNCTION insight_answer_survey_cells();
CREATE TRIGGER insight_answer_removing BEFORE DELETE ON survey_answers
    FOR EACH ROW EXECUTE FUNCTION insight_answer_survey_cells();

CREATE FUNCTION insight_survey_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM insight_survey_cells WHERE survey_id = OLD.id;
    RETURN NULL;
END;
$$;
CREATE TRIGGER insight_survey_removed AFTER DELETE ON surveys
    FOR EACH ROW EXECUTE FUNCTION insight_survey_removed();
