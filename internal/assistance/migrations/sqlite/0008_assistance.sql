-- Social assistance applications (社会救助申请, 一件事): the household and
-- its members as declared, the programmes applied for, every step of the
-- decision chain, materials, economic verification (经济状况核对) data,
-- public-notice objections and staff relatives on file (经办人员亲属备案).
-- Money is in fen.

CREATE TABLE applications (
    id                      INTEGER PRIMARY KEY,
    kind                    TEXT NOT NULL,      -- new, or recheck (年度复核)
    parent_id               INTEGER,            -- for a recheck: the application it re-examines
    household_id            INTEGER NOT NULL,
    applicant_id            INTEGER NOT NULL,   -- the person who applies, usually the head
    division                TEXT NOT NULL,      -- the household's 户籍地: decides jurisdiction
    state                   TEXT NOT NULL,
    state_since             TEXT NOT NULL,
    due_on                  TEXT,               -- YYYY-MM-DD deadline of the current state; NULL when final
    notice_until            TEXT,               -- YYYY-MM-DD last day of the public notice
    conflict                INTEGER NOT NULL DEFAULT 0, -- 1: a relative of a staff member in the chain
    declared_deposits_fen   INTEGER NOT NULL DEFAULT 0,
    declared_securities_fen INTEGER NOT NULL DEFAULT 0,
    declared_vehicles       INTEGER NOT NULL DEFAULT 0,
    declared_properties     INTEGER NOT NULL DEFAULT 0,
    decided_on              TEXT,               -- YYYY-MM-DD of 批准 or 不予批准
    created_by              TEXT NOT NULL,
    created_at              TEXT NOT NULL,
    updated_at              TEXT NOT NULL
);
CREATE INDEX applications_division ON applications (division, state);
CREATE INDEX applications_state ON applications (state, due_on);
CREATE INDEX applications_household ON applications (household_id);

-- One row per programme applied for. monthly_fen is the approved monthly
-- amount of a recurring programme; one_off_fen is the approved amount of
-- 临时救助 (temporary), paid once: the payroll reads rows with
-- program = 'temporary', status = 'granted' and paid_on IS NULL.
CREATE TABLE application_programs (
    application_id INTEGER NOT NULL,
    program        TEXT NOT NULL,
    status         TEXT NOT NULL,              -- pending, granted, refused
    monthly_fen    INTEGER NOT NULL DEFAULT 0,
    one_off_fen    INTEGER NOT NULL DEFAULT 0,
    decision_id    INTEGER,
    paid_on        TEXT,
    PRIMARY KEY (application_id, program)
);

CREATE TABLE application_members (
    application_id      INTEGER NOT NULL,
    person_id           INTEGER NOT NULL,
    relation            TEXT NOT NULL,
    name                TEXT NOT NULL,
    id_masked           TEXT NOT NULL,
    id_hash             BLOB NOT NULL,
    declared_income_fen INTEGER NOT NULL DEFAULT 0, -- monthly
    PRIMARY KEY (application_id, person_id)
);
CREATE INDEX application_members_hash ON application_members (id_hash);

CREATE TABLE application_steps (
    id             INTEGER PRIMARY KEY,
    application_id INTEGER NOT NULL,
    from_state     TEXT NOT NULL,
    to_state       TEXT NOT NULL,
    actor          TEXT NOT NULL,
    actor_id       INTEGER NOT NULL,
    role           TEXT NOT NULL,
    note           TEXT NOT NULL,
    reasons        TEXT NOT NULL,   -- JSON array of Chinese sentences
    created_at     TEXT NOT NULL
);
CREATE INDEX application_steps_app ON application_steps (application_id, id);

CREATE TABLE application_materials (
    id             INTEGER PRIMARY KEY,
    application_id INTEGER NOT NULL,
    kind           TEXT NOT NULL,   -- e.g. id_card, income_proof, visit_photo
    file_name      TEXT NOT NULL,
    content_type   TEXT NOT NULL,
    size           INTEGER NOT NULL,
    sha256         TEXT NOT NULL,
    path           TEXT NOT NULL,   -- relative to the data folder
    uploaded_by    TEXT NOT NULL,
    created_at     TEXT NOT NULL
);
CREATE INDEX application_materials_app ON application_materials (application_id);

CREATE TABLE verification_batches (
    id             INTEGER PRIMARY KEY,
    application_id INTEGER NOT NULL,
    origin         TEXT NOT NULL,   -- api or file
    file_name      TEXT NOT NULL,
    row_count      INTEGER NOT NULL,
    checked_on     TEXT NOT NULL,
    valid_until    TEXT NOT NULL,
    actor          TEXT NOT NULL,
    created_at     TEXT NOT NULL
);
CREATE INDEX verification_batches_app ON verification_batches (application_id);

CREATE TABLE verification_records (
    id             INTEGER PRIMARY KEY,
    batch_id       INTEGER NOT NULL,
    application_id INTEGER NOT NULL,
    person_id      INTEGER NOT NULL,
    source         TEXT NOT NULL,   -- wage, pension, deposit, securities, real_estate, vehicle, business
    amount_fen     INTEGER NOT NULL,
    detail         TEXT NOT NULL
);
CREATE INDEX verification_records_app ON verification_records (application_id, batch_id);

CREATE TABLE objections (
    id             INTEGER PRIMARY KEY,
    application_id INTEGER NOT NULL,
    text           TEXT NOT NULL,
    contact        TEXT NOT NULL,
    remote         TEXT NOT NULL,
    created_at     TEXT NOT NULL
);
CREATE INDEX objections_app ON objections (application_id);

CREATE TABLE staff_relatives (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL,
    user_name  TEXT NOT NULL,
    name       TEXT NOT NULL,
    relation   TEXT NOT NULL,
    id_hash    BLOB NOT NULL,
    id_masked  TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX staff_relatives_user_hash ON staff_relatives (user_id, id_hash);
CREATE INDEX staff_relatives_hash ON staff_relatives (id_hash);
