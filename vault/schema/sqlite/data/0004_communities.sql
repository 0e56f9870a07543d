-- The insight community (community/): a brand's communities, who is in them, and co-creation
-- (challenges, ideas, votes).
--
-- Membership IS consent: joining makes the member's grants to the brand (the grants table,
-- through consent's services); community_members only records the membership for the pages
-- and the member's community pseudonym, and community_grants which of the member's grants the
-- membership holds (a grant may serve two communities of one brand). Every row of a member
-- goes with them: community_members cascades on members(num), and a member's ideas and votes
-- cascade on their membership (leaving, or an erasure, deletes them).
CREATE TABLE communities (
    id           TEXT PRIMARY KEY,
    brand_id     TEXT NOT NULL REFERENCES brands(id),
    name         TEXT NOT NULL,
    description  TEXT NOT NULL,
    purposes     TEXT NOT NULL,          -- JSON list of DPV purpose codes, sorted
    created_at   INTEGER NOT NULL,
    closed_at    INTEGER
);
CREATE INDEX communities_by_brand ON communities (brand_id, created_at);

CREATE TABLE community_members (
    community_id TEXT NOT NULL REFERENCES communities(id),
    member_num   INTEGER NOT NULL REFERENCES members(num) ON DELETE CASCADE,
    joined_at    INTEGER NOT NULL,
    pseudonym    TEXT NOT NULL,          -- per (member, community): community/pseudonyms.py
    PRIMARY KEY (community_id, member_num),
    UNIQUE (community_id, pseudonym)
) WITHOUT ROWID;
CREATE INDEX community_members_by_member ON community_members (member_num);

CREATE TABLE community_grants (
    community_id TEXT NOT NULL,
    member_num   INTEGER NOT NULL,
    grant_id     TEXT NOT NULL REFERENCES grants(id) ON DELETE CASCADE,
    PRIMARY KEY (community_id, member_num, grant_id),
    FOREIGN KEY (community_id, member_num)
        REFERENCES community_members (community_id, member_num) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX community_grants_by_grant ON community_grants (grant_id);

CREATE TABLE challenges (
    id           TEXT PRIMARY KEY,
    community_id TEXT NOT NULL REFERENCES communities(id),
    title        TEXT NOT NULL,
    description  TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    closed_at    INTEGER
);
CREATE INDEX challenges_by_community ON challenges (community_id, created_at);

-- An idea's text is sealed with its author's member key (vault/sealing.py; associated data
-- binds it to this table, the idea id and the field): an erasure's destroyed key makes every
-- copy unreadable, backups included.
CREATE TABLE ideas (
    id            TEXT PRIMARY KEY,
    challenge_id  TEXT NOT NULL REFERENCES challenges(id),
    community_id  TEXT NOT NULL,
    member_num    INTEGER NOT NULL,
    text_sealed   BLOB NOT NULL,
    version       INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    released      INTEGER NOT NULL DEFAULT 0,   -- the version last released to the brand
    taken_up_at   INTEGER,
    FOREIGN KEY (community_id, member_num)
        REFERENCES community_members (community_id, member_num) ON DELETE CASCADE
);
CREATE INDEX ideas_by_challenge ON ideas (challenge_id, created_at);
CREATE INDEX ideas_by_member ON ideas (community_id, member_num);

CREATE TABLE idea_votes (
    idea_id       TEXT NOT NULL REFERENCES ideas(id) ON DELETE CASCADE,
    community_id  TEXT NOT NULL,
    member_num    INTEGER NOT NULL,
    voted_at      INTEGER NOT NULL,
    PRIMARY KEY (idea_id, member_num),
    FOREIGN KEY (community_id, member_num)
        REFERENCES community_members (community_id, member_num) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX idea_votes_by_member ON idea_votes (community_id, member_num);
