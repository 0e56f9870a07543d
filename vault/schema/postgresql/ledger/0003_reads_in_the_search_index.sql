-- As sqlite/ledger/0003: a member's brand reads are found through the search index.
DROP TABLE access_index;
