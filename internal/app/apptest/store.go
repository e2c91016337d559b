package apptest

// The SQL the fixture writes directly: what no service offers.

// grantElderlyAllowance gives person $1 an active elderly allowance of
// 150 yuan a month since 2025-01-01, as a proactive grant would.
const grantElderlyAllowance = `INSERT INTO entitlements (program, person_id, household_id, status, monthly_fen, since, proactive, decision_id, updated_at)
	SELECT 'elderly_allowance', id, household_id, 'active', 15000, '2025-01-01', 1, 0, '' FROM persons WHERE id = $1`
