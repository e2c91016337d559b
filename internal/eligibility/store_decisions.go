package eligibility

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"minzheng/internal/db"
)

// The eligibility line owns entitlements and decisions (待遇与决定): the
// proactive run writes them in batches (proactive.go), and a decision taken
// on an application goes through ApplyGrant and ApplyStop, inside the
// transaction of the step that decided it.

// Grant is a recurring programme granted (or its amount changed) on an
// application rather than by the proactive run: the entitlement is the
// person's with proactive = 0, so the daily run leaves it alone (it rests
// on verified facts the register lacks).
type Grant struct {
	Program       string
	PersonID      int64 // who is paid: the household head
	HouseholdID   int64
	MonthlyFen    int64
	AsOf          string // the date decided, YYYY-MM-DD
	Since         string // the first day paid, YYYY-MM-DD
	PolicyVersion string // the policy version the amount was checked against, or "application"
	Explanation   []byte // JSON: what the decision rests on; its SHA-256 is the inputs hash
}

// ApplyGrant records g as a decision (kind grant, or change when the person
// holds the programme already) and makes the entitlement active with its
// amount; a running entitlement keeps its start date. It returns the
// decision's id.
func ApplyGrant(ctx context.Context, tx *sql.Tx, g Grant, now time.Time) (int64, error) {
	var entID, before int64
	var status string
	err := tx.QueryRowContext(ctx, `SELECT id, monthly_fen, status FROM entitlements WHERE program = $1 AND person_id = $2`, g.Program, g.PersonID).Scan(&entID, &before, &status)
	if errors.Is(err, sql.ErrNoRows) {
		entID = 0
	} else if err != nil {
		return 0, err
	}
	if status != "active" {
		before = 0
	}
	kind := "grant"
	if entID != 0 && status == "active" {
		kind = "change"
	}
	sum := sha256.Sum256(g.Explanation)
	var did int64
	if err := tx.QueryRowContext(ctx, `INSERT INTO decisions (run_id, program, person_id, household_id, kind, as_of, fen_before, fen_after, policy_version, inputs_hash, explanation, created_at)
		VALUES (NULL, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
		g.Program, g.PersonID, g.HouseholdID, kind, g.AsOf, before, g.MonthlyFen, g.PolicyVersion, hex.EncodeToString(sum[:]), string(g.Explanation), db.Now(now)).Scan(&did); err != nil {
		return 0, fmt.Errorf("eligibility: decision: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO entitlements (program, person_id, household_id, status, monthly_fen, since, until, proactive, decision_id, updated_at)
		VALUES ($1, $2, $3, 'active', $4, $5, NULL, 0, $6, $7)
		ON CONFLICT (program, person_id) DO UPDATE SET household_id = excluded.household_id, status = 'active', monthly_fen = excluded.monthly_fen,
			since = CASE WHEN entitlements.status = 'active' THEN entitlements.since ELSE excluded.since END, until = NULL, proactive = 0,
			decision_id = excluded.decision_id, updated_at = excluded.updated_at`,
		g.Program, g.PersonID, g.HouseholdID, g.MonthlyFen, g.Since, did, db.Now(now)); err != nil {
		return 0, fmt.Errorf("eligibility: entitlement: %w", err)
	}
	return did, nil
}

// Stop is the end of an entitlement granted on an application (a refused
// annual re-check): the household's active programme with proactive = 0.
type Stop struct {
	Program     string
	HouseholdID int64
	AsOf        string // the date decided
	Until       string // the last day paid
	Explanation []byte // JSON
}

// ApplyStop records st as a stop decision and stops the entitlement; it
// reports false when the household holds no such entitlement.
func ApplyStop(ctx context.Context, tx *sql.Tx, st Stop, now time.Time) (bool, error) {
	var entID, fen, person int64
	err := tx.QueryRowContext(ctx, `SELECT id, monthly_fen, person_id FROM entitlements WHERE program = $1 AND household_id = $2 AND status = 'active' AND proactive = 0`,
		st.Program, st.HouseholdID).Scan(&entID, &fen, &person)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	sum := sha256.Sum256(st.Explanation)
	var did int64
	if err := tx.QueryRowContext(ctx, `INSERT INTO decisions (run_id, program, person_id, household_id, kind, as_of, fen_before, fen_after, policy_version, inputs_hash, explanation, created_at, until)
		VALUES (NULL, $1, $2, $3, 'stop', $4, $5, 0, 'application', $6, $7, $8, $9) RETURNING id`,
		st.Program, person, st.HouseholdID, st.AsOf, fen, hex.EncodeToString(sum[:]), string(st.Explanation), db.Now(now), st.Until).Scan(&did); err != nil {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE entitlements SET status = 'stopped', until = $1, decision_id = $2, updated_at = $3 WHERE id = $4`, st.Until, did, db.Now(now), entID); err != nil {
		return false, err
	}
	return true, nil
}

// ActivePrograms calls held for each programme that one of the households
// holds an active entitlement of, in the caller's transaction (the
// monitoring rules that watch recipients read them).
func ActivePrograms(ctx context.Context, tx *sql.Tx, d db.Dialect, households []int64, held func(household int64, program string)) error {
	if len(households) == 0 {
		return nil
	}
	var b strings.Builder
	args := make([]any, len(households))
	for i, h := range households {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "$%d", i+1)
		args[i] = h
	}
	q := `SELECT household_id, program FROM entitlements WHERE status = 'active' AND household_id IN (` + b.String() + `)`
	if d == db.SQLite {
		q = db.Positional(q) // ? binds faster on SQLite
	}
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("eligibility: active programmes: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var h int64
		var program string
		if err := rows.Scan(&h, &program); err != nil {
			return err
		}
		held(h, program)
	}
	return rows.Err()
}
