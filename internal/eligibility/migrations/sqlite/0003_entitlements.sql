-- Entitlements (待遇) decided by the rules engine, the decisions that
-- changed them, and the notices sent to people. Money is in fen (cents).

CREATE TABLE proactive_runs (
    id          INTEGER PRIMARY KEY,
    as_of       TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    actor       TEXT NOT NULL,
    persons     INTEGER NOT NULL DEFAULT 0,
    grants      INTEGER NOT NULL DEFAULT 0,
    stops       INTEGER NOT NULL DEFAULT 0,
    changes     INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE entitlements (
    id             INTEGER PRIMARY KEY,
    program        TEXT NOT NULL,
    person_id      INTEGER NOT NULL,   -- the subject; for household programmes the head
    household_id   INTEGER NOT NULL,
    status         TEXT NOT NULL,      -- active or stopped
    monthly_fen    INTEGER NOT NULL,
    since          TEXT NOT NULL,
    until          TEXT,
    proactive      INTEGER NOT NULL,   -- 1: granted without application (免申即享)
    decision_id    INTEGER NOT NULL,
    updated_at     TEXT NOT NULL
);
CREATE UNIQUE INDEX entitlements_program_person ON entitlements (program, person_id);
CREATE INDEX entitlements_household ON entitlements (household_id);

CREATE TABLE decisions (
    id             INTEGER PRIMARY KEY,
    run_id         INTEGER,
    program        TEXT NOT NULL,
    person_id      INTEGER NOT NULL,
    household_id   INTEGER NOT NULL,
    kind           TEXT NOT NULL,      -- grant, stop, change
    as_of          TEXT NOT NULL,
    fen_before     INTEGER NOT NULL,
    fen_after      INTEGER NOT NULL,
    policy_version TEXT NOT NULL,
    inputs_hash    TEXT NOT NULL,      -- SHA-256 of the facts and the parameter values used
    explanation    TEXT NOT NULL,      -- the Result as JSON
    created_at     TEXT NOT NULL
);
CREATE INDEX decisions_person ON decisions (person_id);
CREATE INDEX decisions_run ON decisions (run_id);

CREATE TABLE notices (
    id          INTEGER PRIMARY KEY,
    person_id   INTEGER NOT NULL,
    decision_id INTEGER NOT NULL,
    text        TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX notices_person ON notices (person_id);
