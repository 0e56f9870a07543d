-- An agreement says how it was made (via): offered by the member ('member', on their Sharing
-- page, the brand answering) or made by the member's join of one of the brand's insight
-- communities ('community', the brand's standing policy answering at once). The brand's API
-- lists and answers only the first kind: the second named the brand's pairwise subject of a
-- member who joined for totals only, and a brand never learns who is in a community.
--
-- The column's default is only for the rows already here; the code names the way of every
-- agreement it makes. An existing agreement is taken as a join's when it was agreed the
-- second it was offered and the member joined one of the brand's communities within a second
-- of it (a join makes both in one transaction; the member's own offer, answered by the brand's
-- standing policy within that second, is taken for the join's too: hidden, the safer side); a
-- join the member has left since cannot be told apart and stays 'member'.
ALTER TABLE agreements ADD COLUMN via TEXT NOT NULL DEFAULT 'member'
    CHECK (via IN ('member', 'community'));
UPDATE agreements SET via = 'community'
    WHERE status = 'agreed' AND created_at = updated_at AND EXISTS (
        SELECT 1 FROM community_members cm
        JOIN communities c ON c.id = cm.community_id
        JOIN members m ON m.num = cm.member_num
        WHERE m.id = agreements.member_id AND c.brand_id = agreements.brand_id
          AND abs(cm.joined_at - agreements.created_at) <= 1);
