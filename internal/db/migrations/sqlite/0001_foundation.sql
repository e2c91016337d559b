-- Foundation: divisions, households, persons, staff, sessions, tokens, audit.
-- Dates are TEXT 'YYYY-MM-DD'; timestamps TEXT UTC 'YYYY-MM-DDTHH:MM:SS.ffffffZ'.

CREATE TABLE divisions (
    code   TEXT PRIMARY KEY,          -- national statistics code: 6, 9 or 12 digits
    name   TEXT NOT NULL,
    level  TEXT NOT NULL,             -- city, district, street, committee
    parent TEXT                       -- NULL for the city
);
CREATE INDEX divisions_parent ON divisions (parent);

CREATE TABLE households (
    id                 INTEGER PRIMARY KEY,
    household_no       TEXT,          -- 户号 from the source system, unique when given
    hukou_division     TEXT NOT NULL, -- 户籍地
    residence_division TEXT NOT NULL, -- 居住地
    address            TEXT NOT NULL DEFAULT '',
    created_at         TEXT NOT NULL
);
CREATE UNIQUE INDEX households_no ON households (household_no) WHERE household_no IS NOT NULL;
CREATE INDEX households_hukou ON households (hukou_division);

CREATE TABLE persons (
    id                  INTEGER PRIMARY KEY,
    household_id        INTEGER NOT NULL REFERENCES households (id),
    relation            TEXT NOT NULL DEFAULT 'other', -- head, spouse, child, parent, grandchild, other
    name                TEXT NOT NULL,
    id_hash             BLOB NOT NULL,  -- keyed hash (HMAC) of the ID number, for lookup
    id_enc              BLOB NOT NULL,  -- the ID number, encrypted (AES-GCM)
    id_masked           TEXT NOT NULL,  -- first 6 and last 4 characters
    birth_date          TEXT NOT NULL,
    sex                 TEXT NOT NULL,  -- M or F
    hukou_division      TEXT NOT NULL,  -- '' when not registered in Shanghai
    residence_division  TEXT NOT NULL,
    monthly_income      INTEGER NOT NULL DEFAULT 0,
    disability_category TEXT NOT NULL DEFAULT '',
    disability_grade    INTEGER NOT NULL DEFAULT 0,
    death_date          TEXT,
    lives_alone         INTEGER NOT NULL DEFAULT 0,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL
);
CREATE UNIQUE INDEX persons_id_hash ON persons (id_hash);
-- Name searches by a district count their matches from the index alone.
CREATE INDEX persons_name ON persons (name, hukou_division, residence_division);
-- death_date in the index lets division counts of the living read the index alone.
CREATE INDEX persons_hukou ON persons (hukou_division, death_date);
CREATE INDEX persons_residence ON persons (residence_division);
CREATE INDEX persons_household ON persons (household_id);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL DEFAULT '',
    role          TEXT NOT NULL,
    division      TEXT NOT NULL REFERENCES divisions (code),
    password_hash TEXT NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT NOT NULL
);

CREATE TABLE sessions (
    token_hash BLOB PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    csrf       TEXT NOT NULL,
    expires_at TEXT NOT NULL
);

CREATE TABLE api_tokens (
    id         INTEGER PRIMARY KEY,
    token_hash BLOB NOT NULL UNIQUE,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    label      TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    revoked    INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE audit_log (
    id        INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,
    actor     TEXT NOT NULL,
    role      TEXT NOT NULL,
    action    TEXT NOT NULL,
    entity    TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    detail    TEXT NOT NULL,
    remote    TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);
CREATE INDEX audit_log_entity ON audit_log (entity, entity_id);
CREATE INDEX audit_log_actor ON audit_log (actor);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
