-- The rates store on PostgreSQL (brand_gateway/rate_limits.py): fixed-window request counters,
-- one row per client, as in sqlite/rates/0001_baseline.sql. Nothing here is kept: an emptied
-- table only starts the windows afresh. Times are Unix seconds (BIGINT: past 2038).
-- A shared table, not owned by a member: under Citus a reference table, or left local.

CREATE TABLE api_rate_limits (
    client_id     TEXT PRIMARY KEY,
    window_start  BIGINT NOT NULL,
    used          INTEGER NOT NULL
);
