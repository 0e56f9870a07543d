-- 0016_sealed_request_reasons.sql on PostgreSQL: the columns and the emptying of
-- sqlite/data/0016_sealed_request_reasons.sql (read its comment), by the rules in
-- 0001_baseline.sql. ``dsr_requests``, ``dsr_tasks`` and ``dsr_history`` are shared (reference
-- tables under Citus); ``dsr_results`` is distributed by its task, so its rows are found by the
-- uids the shared tables give.
ALTER TABLE dsr_requests ADD COLUMN extension_reason_sealed BYTEA;
ALTER TABLE dsr_tasks ADD COLUMN reason_sealed BYTEA;
ALTER TABLE dsr_history ADD COLUMN reason_sealed BYTEA;
UPDATE dsr_requests SET extension_reason = NULL
    WHERE member_num IS NULL AND extension_reason IS NOT NULL;
UPDATE dsr_tasks SET reason = NULL
    WHERE reason IS NOT NULL
      AND request_id IN (SELECT id FROM dsr_requests WHERE member_num IS NULL);
UPDATE dsr_history SET reason = NULL
    WHERE reason IS NOT NULL AND (task_uid IS NOT NULL OR state = 'extended')
      AND request_id IN (SELECT id FROM dsr_requests WHERE member_num IS NULL);
DELETE FROM dsr_results
    WHERE task_uid IN (SELECT t.uid FROM dsr_tasks t JOIN dsr_requests r ON r.id = t.request_id
                       WHERE r.member_num IS NULL);
