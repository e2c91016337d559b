-- Low-income dynamic monitoring (低收入人口动态监测): department feeds, the
-- facts they bring, devices bound to households (smart water meters, 一键通
-- call buttons), warning rules, warnings, and the adviser's tasks.

CREATE TABLE feed_batches (
    id         INTEGER PRIMARY KEY,
    batch_id   TEXT NOT NULL UNIQUE,  -- the sender's batch id, or type + SHA-256 of the file
    feed_type  TEXT NOT NULL,         -- death, medical, unemployment, disability, arrears, water, call
    source     TEXT NOT NULL,         -- 公安, 医保, 人社 …
    actor      TEXT NOT NULL,
    row_count  INTEGER NOT NULL,
    accepted   INTEGER NOT NULL,
    rejected   INTEGER NOT NULL,
    unmatched  INTEGER NOT NULL,
    duplicates INTEGER NOT NULL,
    warnings   INTEGER NOT NULL,
    report     TEXT NOT NULL,         -- JSON: the problems by row
    created_at TEXT NOT NULL
);

CREATE TABLE feed_facts (
    id           INTEGER PRIMARY KEY,
    batch        INTEGER NOT NULL,
    feed_type    TEXT NOT NULL,
    fact_key     TEXT NOT NULL,       -- natural key within the type: a fact is recorded once
    person_id    INTEGER NOT NULL,
    household_id INTEGER NOT NULL,
    source       TEXT NOT NULL,
    valid_from   TEXT NOT NULL,       -- YYYY-MM-DD
    valid_to     TEXT,                -- YYYY-MM-DD, NULL: open
    amount       REAL NOT NULL DEFAULT 0,
    detail       TEXT NOT NULL DEFAULT '',
    created_at   TEXT NOT NULL
);
CREATE UNIQUE INDEX feed_facts_key ON feed_facts (feed_type, fact_key);
CREATE INDEX feed_facts_household ON feed_facts (household_id, feed_type, valid_from);

CREATE TABLE monitor_devices (
    device_id    TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,       -- water_meter, call_button
    person_id    INTEGER NOT NULL,
    household_id INTEGER NOT NULL,
    created_at   TEXT NOT NULL
);

-- What a water meter normally does, learnt from its own history.
CREATE TABLE meter_state (
    device_id     TEXT PRIMARY KEY,
    days          INTEGER NOT NULL,   -- complete days observed
    days_with_use INTEGER NOT NULL,
    cur_day       TEXT NOT NULL,      -- the day being observed
    cur_use       REAL NOT NULL,      -- its use so far (litres)
    first_hour    TEXT NOT NULL,      -- YYYY-MM-DDTHH
    last_hour     TEXT NOT NULL,
    last_use_hour TEXT                -- NULL: never used
);

CREATE TABLE monitor_rules (
    id            INTEGER PRIMARY KEY,
    code          TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    severity      TEXT NOT NULL,      -- urgent, high, medium, low
    population    TEXT NOT NULL,      -- all, recipients, dibao_edge, elders_alone
    feed_type     TEXT NOT NULL,      -- the feed that triggers it
    expression    TEXT NOT NULL,
    suppress_days INTEGER NOT NULL,
    enabled       INTEGER NOT NULL DEFAULT 1,
    updated_by    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);

CREATE TABLE warnings (
    id           INTEGER PRIMARY KEY,
    rule_code    TEXT NOT NULL,
    rule_name    TEXT NOT NULL,
    severity     TEXT NOT NULL,
    person_id    INTEGER NOT NULL,
    household_id INTEGER NOT NULL,
    division     TEXT NOT NULL,       -- residence committee of the household
    district     TEXT NOT NULL,
    reason       TEXT NOT NULL,
    data         TEXT NOT NULL,       -- JSON: the facts the rule saw
    batch        INTEGER,
    raised_at    TEXT NOT NULL
);
CREATE INDEX warnings_suppress ON warnings (rule_code, household_id, raised_at);
CREATE INDEX warnings_district ON warnings (district, raised_at);

CREATE TABLE monitor_tasks (
    id           INTEGER PRIMARY KEY,
    kind         TEXT NOT NULL,       -- warning, weather, call
    warning_id   INTEGER,
    person_id    INTEGER NOT NULL,
    household_id INTEGER NOT NULL,
    division     TEXT NOT NULL,       -- committee (warnings) or street (calls: the service centre)
    district     TEXT NOT NULL,
    assignee     TEXT NOT NULL DEFAULT '',
    severity     TEXT NOT NULL,
    title        TEXT NOT NULL,
    reason       TEXT NOT NULL,
    status       TEXT NOT NULL,       -- open, escalated, closed
    due_at       TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    disposition  TEXT NOT NULL DEFAULT '',
    referral     TEXT NOT NULL DEFAULT '',
    created_at   TEXT NOT NULL,
    responded_at TEXT,
    escalated_at TEXT,
    closed_at    TEXT
);
CREATE INDEX monitor_tasks_division ON monitor_tasks (division, status);
CREATE INDEX monitor_tasks_status ON monitor_tasks (status, due_at);
CREATE INDEX monitor_tasks_household ON monitor_tasks (household_id, kind, status);

CREATE TABLE task_visits (
    id          INTEGER PRIMARY KEY,
    task_id     INTEGER NOT NULL,
    visited_on  TEXT NOT NULL,
    found       TEXT NOT NULL,
    disposition TEXT NOT NULL,
    actor       TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX task_visits_task ON task_visits (task_id);

CREATE TABLE task_photos (
    id           INTEGER PRIMARY KEY,
    visit_id     INTEGER NOT NULL,
    name         TEXT NOT NULL,
    content_type TEXT NOT NULL,
    data         BLOB NOT NULL
);
CREATE INDEX task_photos_visit ON task_photos (visit_id);
