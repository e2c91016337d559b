-- Indexes dropped for a bulk load into empty tables, to be rebuilt after it
-- (or at the next start, if the load was killed).
CREATE TABLE deferred_indexes (
    name TEXT PRIMARY KEY,
    sql  TEXT NOT NULL
);
