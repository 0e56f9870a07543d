-- 0004_communities.sql on PostgreSQL: the tables of sqlite/data/0004_communities.sql, by the
-- rules in 0001_baseline.sql.
--
-- The insight community (community/): a brand's communities, who is in them, and co-creation
-- (challenges, ideas, votes). Membership IS consent (the grants, through consent's services);
-- community_members records the membership and the member's community pseudonym,
-- community_grants which of the member's grants the membership holds. Every row of a member
-- goes with them, and a member's ideas and votes with their membership (leaving, or erasure).
--
-- Shared (reference tables under Citus): communities, challenges.
-- Member-owned (``member_id`` first in every key; ``member_num`` carried, as the repository
-- contracts speak of it): community_members, community_grants, ideas (the author's),
-- idea_votes (the voter's).
--
-- What differs from SQLite, and why:
-- * ``UNIQUE (community_id, pseudonym)`` spans members: here the pseudonym is only indexed. It
--   is an HMAC of the member and the community (community/pseudonyms.py), unique by
--   construction (60 bits: a clash between two members of one community is about one in 10^18
--   per pair), and no longer refused by the store.
-- * Communities, challenges and ideas made in the same second come in the order of writing, as
--   on SQLite: a ``rowid`` column of their own (see 0001's rules).
-- * An idea's id is random (``idea_`` and 24 hex digits): unique by construction, indexed.
-- * A vote is the voter's row and the idea the author's: no foreign key joins two members, so
--   an idea's votes go with it through the trigger ``idea_votes_follow_their_idea`` (in the
--   transaction of the deletion, whether the idea is withdrawn or cascades with its author's
--   membership), and a vote for an idea that does not exist is refused by the repository,
--   which locks the idea (``FOR KEY SHARE``) while it votes. Under Citus that trigger, on the
--   author's shard, deletes rows of other members' shards: unsupported as it is; it would
--   become a statement of the repository that deletes ideas (and of the erasure), run as a
--   distributed statement in the same transaction.
CREATE TABLE communities (
    id           TEXT PRIMARY KEY,
    rowid BIGINT GENERATED ALWAYS AS IDENTITY,  -- SQLite's rowid: the order of writing
    brand_id     TEXT NOT NULL REFERENCES brands(id),
    name         TEXT NOT NULL,
    description  TEXT NOT NULL,
    purposes     TEXT NOT NULL,          -- JSON list of DPV purpose codes, sorted
    created_at   BIGINT NOT NULL,
    closed_at    BIGINT
);
CREATE INDEX communities_by_brand ON communities (brand_id, created_at);

CREATE TABLE community_members (
    member_id    TEXT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    community_id TEXT NOT NULL REFERENCES communities(id),
    member_num   BIGINT NOT NULL,
    joined_at    BIGINT NOT NULL,
    pseudonym    TEXT NOT NULL,          -- per (member, community): community/pseudonyms.py
    PRIMARY KEY (member_id, community_id)
);
CREATE INDEX community_members_by_community ON community_members (community_id, joined_at);
CREATE INDEX community_members_by_num ON community_members (member_num, community_id);
CREATE INDEX community_members_by_pseudonym ON community_members (community_id, pseudonym);

CREATE TABLE community_grants (
    member_id    TEXT NOT NULL,
    community_id TEXT NOT NULL,
    member_num   BIGINT NOT NULL,
    grant_id     TEXT NOT NULL,
    PRIMARY KEY (member_id, community_id, grant_id),
    FOREIGN KEY (member_id, community_id)
        REFERENCES community_members (member_id, community_id) ON DELETE CASCADE,
    FOREIGN KEY (member_id, grant_id) REFERENCES grants (member_id, id) ON DELETE CASCADE
);
CREATE INDEX community_grants_by_grant ON community_grants (grant_id);

CREATE TABLE challenges (
    id           TEXT PRIMARY KEY,
    rowid BIGINT GENERATED ALWAYS AS IDENTITY,  -- SQLite's rowid: the order of writing
    community_id TEXT NOT NULL REFERENCES communities(id),
    title        TEXT NOT NULL,
    description  TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    closed_at    BIGINT
);
CREATE INDEX challenges_by_community ON challenges (community_id, created_at);

-- An idea's text is sealed with its author's member key (vault/sealing.py): an erasure's
-- destroyed key makes every copy unreadable, backups included.
CREATE TABLE ideas (
    member_id     TEXT NOT NULL,
    rowid BIGINT GENERATED ALWAYS AS IDENTITY,  -- SQLite's rowid: the order of writing
    id            TEXT NOT NULL,
    challenge_id  TEXT NOT NULL REFERENCES challenges(id),
    community_id  TEXT NOT NULL,
    member_num    BIGINT NOT NULL,
    text_sealed   BYTEA NOT NULL,
    version       INTEGER NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    released      INTEGER NOT NULL DEFAULT 0,   -- the version last released to the brand
    taken_up_at   BIGINT,
    PRIMARY KEY (member_id, id),
    FOREIGN KEY (member_id, community_id)
        REFERENCES community_members (member_id, community_id) ON DELETE CASCADE
);
CREATE INDEX ideas_by_id ON ideas (id);
CREATE INDEX ideas_by_challenge ON ideas (challenge_id, created_at);
CREATE INDEX ideas_by_member ON ideas (member_num, created_at);

CREATE TABLE idea_votes (
    member_id     TEXT NOT NULL,
    idea_id       TEXT NOT NULL,
    community_id  TEXT NOT NULL,
    member_num    BIGINT NOT NULL,
    voted_at      BIGINT NOT NULL,
    PRIMARY KEY (member_id, idea_id),
    FOREIGN KEY (member_id, community_id)
        REFERENCES community_members (member_id, community_id) ON DELETE CASCADE
);
CREATE INDEX idea_votes_by_idea ON idea_votes (idea_id);
CREATE INDEX idea_votes_by_member ON idea_votes (member_num, voted_at);

CREATE FUNCTION idea_votes_follow_their_idea() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM idea_votes WHERE idea_id = OLD.id;
    RETURN NULL;
END;
$$;
CREATE TRIGGER idea_votes_follow_their_idea AFTER DELETE ON ideas
    FOR EACH ROW EXECUTE FUNCTION idea_votes_follow_their_idea();
