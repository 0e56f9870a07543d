-- The rates store (brand_gateway/rate_limits.py): fixed-window request counters, one row per
-- client. Nothing here is kept: a lost file only starts the windows afresh.

CREATE TABLE api_rate_limits (
    client_id     TEXT PRIMARY KEY,
    window_start  INTEGER NOT NULL,
    used          INTEGER NOT NULL
) WITHOUT ROWID;
