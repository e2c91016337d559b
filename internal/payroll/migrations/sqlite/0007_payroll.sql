-- The payroll (发放). The ledger is append-only: each line is what is due
-- to one beneficiary for one period under one programme, and its natural
-- key (period, program, person_id, kind) is unique, so a run that crashes
-- and restarts pays nobody twice and nobody zero. Money is in fen.
CREATE TABLE payroll_runs (
    id          INTEGER PRIMARY KEY,
    period      TEXT NOT NULL,      -- YYYY-MM, or a campaign id
    kind        TEXT NOT NULL,      -- monthly or campaign
    actor       TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    new_lines   INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE ledger (
    id           INTEGER PRIMARY KEY,
    period       TEXT NOT NULL,     -- YYYY-MM, or the campaign id of a one-off payment
    program      TEXT NOT NULL,     -- programme id, or campaign id
    person_id    INTEGER NOT NULL,   -- the beneficiary (for household programmes the head)
    kind         TEXT NOT NULL,     -- regular 月度, back_pay 补发, recovery 追缴, deduction 抵扣, one_off 一次性
    fen          INTEGER NOT NULL,   -- negative for recovery and deduction
    household_id INTEGER NOT NULL,
    division     TEXT NOT NULL,     -- the household's 户籍地 division: jurisdiction and statistics
    run_id       INTEGER NOT NULL,
    created_at   TEXT NOT NULL
);
CREATE UNIQUE INDEX ledger_key ON ledger (period, program, person_id, kind);
-- What people owe: recoveries and the deductions that settle them.
CREATE INDEX ledger_owed ON ledger (program, person_id) WHERE kind IN ('recovery', 'deduction');

-- Where money goes. Without a row here a payment goes to the social
-- security card file, keyed by ID number. Custodial accounts (资金卡折代管)
-- pay to a custodian on the beneficiary's behalf.
CREATE TABLE payee_accounts (
    person_id      INTEGER PRIMARY KEY,
    bank           TEXT NOT NULL,
    account_enc    BLOB NOT NULL,   -- the account number, encrypted
    account_masked TEXT NOT NULL,
    holder         TEXT NOT NULL,   -- the account holder's name
    custodial      INTEGER NOT NULL DEFAULT 0,
    custodian      TEXT NOT NULL DEFAULT '', -- 代管人 (name, relation or institution)
    updated_at     TEXT NOT NULL
);

-- Bank return files: a failed payment is held and goes into the next
-- run's bank files again (retried_in names that period).
CREATE TABLE bank_returns (
    id          INTEGER PRIMARY KEY,
    period      TEXT NOT NULL,
    program     TEXT NOT NULL,
    person_id   INTEGER NOT NULL,
    batch       INTEGER NOT NULL,   -- the sign-off batch whose file held it (1 = the first)
    status      TEXT NOT NULL,      -- failed or paid
    reason      TEXT NOT NULL DEFAULT '',
    file        TEXT NOT NULL,
    retried_in  TEXT,
    created_at  TEXT NOT NULL
);
CREATE INDEX bank_returns_line ON bank_returns (period, program, person_id);

-- A district approver's sign-off (签发) of a period's payroll for the
-- district: its bank files are released only after it. Lines added to the
-- period later (a grant decided after the run) wait for a supplementary
-- sign-off (batch 2, 3, …), which covers the ledger ids after max_line.
CREATE TABLE payroll_signoffs (
    period    TEXT NOT NULL,
    district  TEXT NOT NULL,
    batch     INTEGER NOT NULL,
    max_line  INTEGER NOT NULL,   -- the last ledger id the batch covers
    approver  TEXT NOT NULL,
    lines     INTEGER NOT NULL,
    fen       INTEGER NOT NULL,
    signed_at TEXT NOT NULL,
    PRIMARY KEY (period, district, batch)
);

-- One-off campaigns (帮困送温暖, price subsidies): a rule selects the
-- recipients, a one-off payroll pays them.
CREATE TABLE campaigns (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    rule       TEXT NOT NULL,   -- expr selecting the recipients
    amount     TEXT NOT NULL,   -- expr giving each recipient's yuan
    as_of      TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- Which payroll period paid a back payment.
ALTER TABLE back_payments ADD COLUMN paid_in TEXT;
CREATE INDEX entitlements_person ON entitlements (person_id);
-- Stops since the last payroll, for recoveries.
CREATE INDEX entitlements_stopped ON entitlements (updated_at) WHERE status = 'stopped';
CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger
BEGIN SELECT RAISE(ABORT, 'ledger is append-only'); END;
CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger
BEGIN SELECT RAISE(ABORT, 'ledger is append-only'); END;
