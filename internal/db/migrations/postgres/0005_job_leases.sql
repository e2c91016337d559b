-- Leases let one process of several run a scheduled job: the holder
-- renews its lease while it works; another process may take it only once
-- it has expired.
CREATE TABLE job_leases (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    last_done  TEXT NOT NULL DEFAULT ''  -- the last period the job completed, e.g. a date
);
