-- The outbox: every change other modules care about (a death, an
-- approval, a payment) is written here in the transaction that made it.
-- Each consumer remembers the last event it handled.
CREATE TABLE events (
    id         INTEGER PRIMARY KEY,
    kind       TEXT NOT NULL,     -- e.g. person.died, application.approved
    subject_id INTEGER NOT NULL,  -- the person, household or case it is about
    division   TEXT NOT NULL,     -- the division it belongs to, for routing
    payload    TEXT NOT NULL,     -- JSON
    created_at TEXT NOT NULL
);
CREATE INDEX events_kind ON events (kind, id);

CREATE TABLE event_offsets (
    consumer TEXT PRIMARY KEY,
    last_id  INTEGER NOT NULL
);
