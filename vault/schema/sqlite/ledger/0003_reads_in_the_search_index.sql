-- A member's brand reads are found through the search index, which holds every entry with its
-- principal, brand, tag and time (search_by_principal for a member's reads by time,
-- search_by_brand_tag for a brand's): access_index said the same again in two more B-trees
-- ordered by member, each costing a page written per read appended. Nothing is lost: its rows
-- are the search index's rows of the brand-read tags (consent/access_index.py).
DROP TABLE access_index;
