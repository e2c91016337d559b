-- The stop date of a stop decision, so the payroll finds months paid
-- beyond it even after the entitlement was granted again.
ALTER TABLE decisions ADD COLUMN until TEXT;
CREATE INDEX decisions_stops ON decisions (created_at) WHERE kind = 'stop';
-- A sign-off is recorded before its bank files are written; written = 1
-- once they are, so a failed write can be done again.
ALTER TABLE payroll_signoffs ADD COLUMN written INTEGER NOT NULL DEFAULT 0;
-- A bank return file is imported once.
CREATE INDEX bank_returns_file ON bank_returns (file);
-- Recoveries read stop decisions now; the index on stopped entitlements
-- only slowed their writes.
DROP INDEX entitlements_stopped;
