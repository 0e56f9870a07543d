-- Roles and reveals (compliance/): the tables of sqlite/data/0009_roles_and_reveals.sql, laid out
-- by the rules at the head of 0001_baseline.sql. An administrator role beside the compliance
-- officer's, and the record of each reveal of a member's identity to an officer for one case.
--
-- Roles move out of members into a table of their own, as on SQLite (which could not change
-- members.role's CHECK in place); members.role goes, with its partial index. One row per
-- account at most: an account is an officer or an administrator, never both; an account
-- without a row is an ordinary member. Member-owned: erasing the account deletes its role.
CREATE TABLE member_roles (
    member_id   TEXT PRIMARY KEY REFERENCES members (id) ON DELETE CASCADE,
    member_num  BIGINT NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('compliance', 'administrator'))
);
INSERT INTO member_roles (member_id, member_num, role)
    SELECT id, num, role FROM members WHERE role <> 'member' ORDER BY num;
CREATE INDEX member_roles_by_role ON member_roles (role, member_num);
ALTER TABLE members DROP COLUMN role;           -- and members_by_role, its index

-- A reveal: an officer was shown a member's login address for one case (a data subject
-- request 'dsr_...' or a breach exposure report 'exposure:<brand id>'), with a written reason.
-- The reason is about the member, so it is personal data: sealed under the member's own key
-- (erasure shreds it), bound to this reveal; only its SHA-256 is in clear here and in the
-- ledger entry (officer:identity:revealed).
--
-- Member-owned by the member revealed (``member_id``: the row is about them, and goes with them,
-- ON DELETE CASCADE). The officer is another member, on another shard: ``officer_num`` is a
-- plain column, read back through ``members`` by a lookup of its own (never a join), and the
-- officer's erasure deletes the reveals they made (vault/postgresql/erasure.py; SQLite's
-- ``ON DELETE CASCADE`` on officer_num). ``id`` ('reveal_' and 24 random hex digits) is unique
-- by construction.
CREATE TABLE identity_reveals (
    member_id       TEXT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    rowid BIGINT GENERATED ALWAYS AS IDENTITY,  -- SQLite's rowid: the order of writing
    id              TEXT NOT NULL,
    officer_num     BIGINT NOT NULL,
    case_ref        TEXT NOT NULL,
    member_num      BIGINT NOT NULL,
    principal       TEXT NOT NULL,                  -- the member's ledger pseudonym
    reason_sealed   BYTEA NOT NULL,
    reason_sha256   TEXT NOT NULL,                  -- hex
    revealed_at     BIGINT NOT NULL,
    PRIMARY KEY (member_id, id)
);
CREATE INDEX identity_reveals_by_case ON identity_reveals (officer_num, case_ref);
CREATE INDEX identity_reveals_by_time ON identity_reveals (revealed_at);

-- A brand's members, by brand: the members of a brand's exposure case (who ever granted it
-- anything) are read from the index alone, not from a scan of every grant.
CREATE INDEX grants_by_brand_member ON grants (brand_id, member_id);
