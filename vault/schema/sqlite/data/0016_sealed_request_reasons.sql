-- What an officer or a brand writes about a data subject request, sealed under its member's key
-- like what the member wrote (``text_sealed``): the reason of an extension (the reasoned notice
-- mailed to the member) and a brand's reason for its state (a denial's, say), on the task and
-- on its history step. Those are words about one person, and a request outlives its member's
-- erasure: kept in clear they outlived it too. Sealed, the erasure's shredding of the key makes
-- them unreadable with the rest; the ledger keeps each one's SHA-256. The clear columns now hold
-- only what the vault itself writes (a fulfilment's code, a restore's note) and reasons written
-- before this migration, which a member's erasure now empties.
--
-- Reasons of members erased before this migration are emptied here, as their erasure would
-- have made them unreadable; a step's reason the vault wrote (a restore's) stays. The documents
-- brands returned to an erased member (sealed under the shredded key, their names in clear)
-- are deleted: there is no one left to give them to.
ALTER TABLE dsr_requests ADD COLUMN extension_reason_sealed BLOB;
ALTER TABLE dsr_tasks ADD COLUMN reason_sealed BLOB;
ALTER TABLE dsr_history ADD COLUMN reason_sealed BLOB;
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
