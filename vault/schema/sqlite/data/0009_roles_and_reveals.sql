-- Roles and reveals (compliance/): an administrator role beside the compliance officer's, and
-- the record of each reveal of a member's identity to an officer for one case.
--
-- Roles move out of members into a table of their own. SQLite cannot change members.role's
-- CHECK in place, and rebuilding members (its 12-step procedure, foreign keys off) would also
-- mean dropping and re-creating, word for word, every trigger and view that names members
-- (the insights read model's, 0006): about twenty tables reference it and its triggers run on
-- every grant and feedback write, so a copy of them here would be a second definition to keep
-- in step. A table of its own is added beside it instead, and the old column dropped (ALTER
-- TABLE DROP COLUMN: no other object names it once its partial index is gone; no rebuild).
-- One row per account at most: an account is an officer or an administrator, never both,
-- so the two duties stay apart by construction; an account without a row is an ordinary
-- member. Erasing the account deletes its role (ON DELETE CASCADE).
CREATE TABLE member_roles (
    member_num  INTEGER PRIMARY KEY REFERENCES members(num) ON DELETE CASCADE,
    role        TEXT NOT NULL CHECK (role IN ('compliance', 'administrator'))
);
INSERT INTO member_roles (member_num, role)
    SELECT num, role FROM members WHERE role <> 'member' ORDER BY num;
CREATE INDEX member_roles_by_role ON member_roles (role, member_num);
DROP INDEX members_by_role;
ALTER TABLE members DROP COLUMN role;

-- A reveal: an officer was shown a member's login address for one case (a data subject
-- request 'dsr_...' or a breach exposure report 'exposure:<brand id>'), with a written reason.
-- The reason is about the member, so it is personal data: sealed under the member's own key
-- (erasure shreds it), bound to this reveal; only its SHA-256 is in clear here and in the
-- ledger entry (officer:identity:revealed). Erasing the member, or the officer's account,
-- deletes the row (ON DELETE CASCADE); the ledger entry stays, with pseudonyms only.
CREATE TABLE identity_reveals (
    id              TEXT PRIMARY KEY,               -- 'reveal_' and 24 hex digits
    officer_num     INTEGER NOT NULL REFERENCES members(num) ON DELETE CASCADE,
    case_ref        TEXT NOT NULL,
    member_num      INTEGER NOT NULL REFERENCES members(num) ON DELETE CASCADE,
    principal       TEXT NOT NULL,                  -- the member's ledger pseudonym
    reason_sealed   BLOB NOT NULL,
    reason_sha256   TEXT NOT NULL,                  -- hex
    revealed_at     INTEGER NOT NULL
);
CREATE INDEX identity_reveals_by_case ON identity_reveals (officer_num, case_ref);
CREATE INDEX identity_reveals_by_time ON identity_reveals (revealed_at);
CREATE INDEX identity_reveals_by_member ON identity_reveals (member_num);

-- A brand's members, by brand: the members of a brand's exposure case (who ever granted it
-- anything) are read from the index alone, not from a scan of every grant.
CREATE INDEX grants_by_brand_member ON grants (brand_id, member_id);
