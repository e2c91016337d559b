-- Back payments (补发): when a decision raises an amount because a
-- parameter changed with an effective date in the past, the difference for
-- each month already paid at the old amount. The payroll pays them.
CREATE TABLE back_payments (
    id          INTEGER PRIMARY KEY,
    decision_id INTEGER NOT NULL,
    program     TEXT NOT NULL,
    person_id   INTEGER NOT NULL,
    month       TEXT NOT NULL,    -- YYYY-MM
    fen         INTEGER NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE UNIQUE INDEX back_payments_key ON back_payments (program, person_id, month, decision_id);
