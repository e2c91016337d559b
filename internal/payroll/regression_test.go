// Regression tests from the review of the payroll's money logic: each
// reproduces a way a family could have been paid twice, or not at all, or
// asked to repay the wrong amount.

package payroll_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"minzheng/internal/auth"
	"minzheng/internal/db"
	"minzheng/internal/db/dbtest"
	"minzheng/internal/errs"
	"minzheng/internal/jobs"
	"minzheng/internal/payroll"
	"minzheng/internal/tabular"
)

func (f *fixture) at(y int, m time.Month, d int) { *f.clock = time.Date(y, m, d, 9, 0, 0, 0, time.UTC) }

func (f *fixture) runNoFiles(t *testing.T, period string, progress io.Writer) payroll.Result {
	t.Helper()
	res, err := f.pay.Run(context.Background(), auth.System(), period, payroll.Options{Batch: 2}, progress)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func (f *fixture) owed(program string, person int64) int64 {
	var owed int64
	// recoveries (negative) still owed less deductions (negative) made
	f.d.QueryRow(`SELECT COALESCE(SUM(CASE WHEN kind = 'recovery' THEN -fen ELSE fen END), 0) FROM ledger WHERE program = $1 AND person_id = $2 AND kind IN ('recovery', 'deduction')`, program, person).Scan(&owed)
	return owed
}

// refsIn returns reference -> amount over every CSV in dir.
func refsIn(t *testing.T, dir string) map[string][]string {
	out := map[string][]string{}
	files, _ := filepath.Glob(filepath.Join(dir, "*.csv"))
	for _, p := range files {
		for _, r := range readBank(t, p)[1:] {
			out[r[0]] = append(out[r[0]], filepath.Base(p)+":"+r[5])
		}
	}
	return out
}

// R1: a stop recorded after a period's run is never recovered if any
// monthly run (here a rerun of the same period) finishes more than 24 h after
// the stop and before the next period's run.
func TestReviewRecoveryMissedAfterRerun(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		elder := f.person(t, "张老", "310104003001", "1950-03-01", 11, 0)
		f.entitle(t, "elderly_allowance", elder, 15000, "2025-07-01")
		f.at(2025, 8, 1)
		f.runNoFiles(t, "2025-08", nil) // August paid in full: 150.00
		f.at(2025, 8, 12)               // death on 10 August recorded on 12 August
		f.stop(t, "elderly_allowance", elder, "2025-08-10")
		f.at(2025, 8, 20) // August run again (a late grant elsewhere, say)
		f.runNoFiles(t, "2025-08", nil)
		f.at(2025, 9, 1)
		f.runNoFiles(t, "2025-09", nil)
		if got := f.line("elderly_allowance", elder.ID, "2025-08", payroll.Recovery); got != -10161 {
			t.Errorf("August recovery %d, want -10161 (overpaid 21 of 31 days never recovered)", got)
		}
	})
}

// R2: the stop is forgotten when the (unique) entitlement row is granted
// again before the next payroll run: recover only looks at status 'stopped'.
func TestReviewRecoveryLostOnRegrant(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		elder := f.person(t, "张老", "310104003001", "1950-03-01", 11, 0)
		f.entitle(t, "elderly_allowance", elder, 15000, "2025-05-01")
		f.at(2025, 6, 1)
		f.runNoFiles(t, "2025-06", nil)
		f.at(2025, 7, 1)
		f.runNoFiles(t, "2025-07", nil)
		f.at(2025, 7, 15) // stopped retroactively to 10 June (income found), recorded 15 July
		f.stop(t, "elderly_allowance", elder, "2025-06-10")
		f.at(2025, 7, 28) // granted again from 28 July, as assistance/proactive do: same row
		d.Exec(`UPDATE entitlements SET status = 'active', until = NULL, since = '2025-07-28', updated_at = $2 WHERE person_id = $1`, elder.ID, db.Now(*f.clock))
		f.at(2025, 8, 1)
		f.runNoFiles(t, "2025-08", nil)
		if got := f.line("elderly_allowance", elder.ID, "2025-06", payroll.Recovery); got != -10000 {
			t.Errorf("June recovery %d, want -10000 (20 of 30 days)", got)
		}
	})
}

// R3: a deduction that lands after the district's sign-off of the payment
// it reduces is "settled" in the ledger but never collected: the
// supplementary batch's net is negative and emit drops it.
// Here: the approver signs off while the run is between its steps
// (SignOff does not take the payroll lease).
func TestReviewSignOffDuringRunLosesDeduction(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		elder := f.person(t, "张老", "310104003001", "1950-03-01", 11, 0)
		f.entitle(t, "elderly_allowance", elder, 15000, "2025-07-01")
		f.at(2025, 8, 1)
		f.runNoFiles(t, "2025-08", nil)
		f.at(2025, 8, 12)
		f.stop(t, "elderly_allowance", elder, "2025-08-10")
		f.at(2025, 9, 1)
		f.runNoFiles(t, "2025-09", nil) // August recovery -101.61
		d.Exec(`UPDATE entitlements SET status = 'active', until = NULL, since = '2025-10-01' WHERE person_id = $1`, elder.ID)
		f.at(2025, 10, 1)
		xuhui := auth.Principal{Name: "xh", Role: auth.Approver, Division: "310104"}
		hook := progressFunc(func(s string) {
			if strings.HasPrefix(s, "月度发放") {
				if _, err := f.pay.SignOff(ctx, xuhui, "2025-10", "310104"); err != nil {
					t.Errorf("sign-off during run: %v", err)
				}
			}
		})
		f.runNoFiles(t, "2025-10", hook)
		if _, err := f.pay.SignOff(ctx, xuhui, "2025-10", "310104"); err != nil {
			t.Logf("supplementary sign-off: %v", err)
		}
		refs := refsIn(t, filepath.Join(f.pay.Dir, "2025-10", "310104"))
		t.Logf("October files: %v; ledger still owed: %d", refs, f.owed("elderly_allowance", elder.ID))
		sent := refs["2025-10/elderly_allowance/"+itoa(elder.ID)]
		if f.owed("elderly_allowance", elder.ID) == 0 && (len(sent) != 1 || !strings.HasSuffix(sent[0], ":48.39")) {
			t.Errorf("ledger says 101.61 recovered, but the bank files paid %v", sent)
		}
	})
}

type progressFunc func(string)

func (p progressFunc) Write(b []byte) (int, error) { p(string(b)); return len(b), nil }

// R4: rerunning an older, already signed period after a recovery was found
// deducts the new debt from that old period's (already sent) payment.
func TestReviewRerunOldPeriodDeductsFromSentPayment(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		elder := f.person(t, "张老", "310104003001", "1950-03-01", 11, 0)
		f.entitle(t, "elderly_allowance", elder, 15000, "2025-07-01")
		xuhui := auth.Principal{Name: "xh", Role: auth.Approver, Division: "310104"}
		f.at(2025, 8, 1)
		f.runNoFiles(t, "2025-08", nil)
		if _, err := f.pay.SignOff(ctx, xuhui, "2025-08", "310104"); err != nil {
			t.Fatal(err)
		}
		f.at(2025, 8, 12)
		f.stop(t, "elderly_allowance", elder, "2025-08-10")
		f.at(2025, 9, 1)
		f.runNoFiles(t, "2025-09", nil) // August recovery -101.61
		// A late August grant for someone else: August is run again.
		late := f.person(t, "王新", "310104003001", "1940-01-01", 44, 0)
		f.entitle(t, "elderly_allowance", late, 35000, "2025-08-15")
		f.at(2025, 9, 3)
		f.runNoFiles(t, "2025-08", nil)
		files, err := f.pay.SignOff(ctx, xuhui, "2025-08", "310104")
		t.Logf("supplementary: %v %v; deduction line %d", files, err, f.line("elderly_allowance", elder.ID, "2025-08", payroll.Deduction))
		if f.owed("elderly_allowance", elder.ID) == 0 {
			t.Errorf("debt of 101.61 marked settled by an August deduction that no bank file carries: %v", refsIn(t, filepath.Join(f.pay.Dir, "2025-08", "310104")))
		}
	})
}

// R5: Run with Files (CLI, or POST /api/v1/payroll/runs {"files":true})
// rewrites batch 1's files with every line, ignoring sign-offs: a later
// supplementary file pays the same line again.
func TestReviewFilesRunIgnoresSignOff(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		elder := f.person(t, "张老", "310104003001", "1950-03-01", 11, 0)
		f.entitle(t, "elderly_allowance", elder, 15000, "2025-07-01")
		xuhui := auth.Principal{Name: "xh", Role: auth.Approver, Division: "310104"}
		f.runNoFiles(t, "2025-08", nil)
		if _, err := f.pay.SignOff(ctx, xuhui, "2025-08", "310104"); err != nil {
			t.Fatal(err)
		}
		late := f.person(t, "王新", "310104003001", "1940-01-01", 44, 0)
		f.entitle(t, "elderly_allowance", late, 35000, "2025-08-15")
		// Files: true releases the late line as the next batch, once.
		f.run(t, "2025-08")
		if _, err := f.pay.SignOff(ctx, xuhui, "2025-08", "310104"); errs.Code(err) != errs.Conflict {
			t.Fatalf("sign-off after the operator released everything: %v, want a conflict", err)
		}
		n := 0
		refs := refsIn(t, filepath.Join(f.pay.Dir, "2025-08", "310104"))
		for ref, v := range refs {
			if strings.Contains(ref, "/"+itoa(late.ID)) {
				n += len(v)
			}
		}
		if n != 1 {
			t.Errorf("late grant's August payment is in %d bank rows: %v", n, refs)
		}
	})
}

// R6: importing the same failed return file again after the retry was
// paid re-sends the payment a third time.
func TestReviewReimportedReturnPaysTwice(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		elder := f.person(t, "张老", "310104003001", "1950-03-01", 11, 0)
		f.entitle(t, "elderly_allowance", elder, 15000, "2025-07-01")
		xuhui := auth.Principal{Name: "xh", Role: auth.Approver, Division: "310104"}
		imp := func(name, body string) error {
			tbl, _ := tabular.Read(strings.NewReader("流水号,结果\n"+body), name, 0)
			_, err := f.pay.ImportReturns(ctx, xuhui, tbl, name)
			return err
		}
		ref := "2025-08/elderly_allowance/" + itoa(elder.ID)
		f.runNoFiles(t, "2025-08", nil)
		f.pay.SignOff(ctx, xuhui, "2025-08", "310104")
		if err := imp("aug-return.csv", ref+",失败\n"); err != nil {
			t.Fatal(err)
		}
		f.runNoFiles(t, "2025-09", nil)
		f.pay.SignOff(ctx, xuhui, "2025-09", "310104") // retried: paid this time
		if err := imp("sep-return.csv", ref+",成功\n"); err != nil {
			t.Fatal(err)
		}
		// The August return file imported again by mistake is refused.
		if err := imp("aug-return.csv", ref+",失败\n"); errs.Code(err) != errs.Conflict {
			t.Fatalf("re-import: %v, want a conflict", err)
		}
		f.runNoFiles(t, "2025-10", nil)
		f.pay.SignOff(ctx, xuhui, "2025-10", "310104")
		if got := refsIn(t, filepath.Join(f.pay.Dir, "2025-10", "310104"))[ref]; len(got) != 0 {
			t.Errorf("August payment sent a third time in October: %v", got)
		}
	})
}

// R7: on PostgreSQL identity values are handed out at INSERT and become
// visible at COMMIT, so MAX(id) is not a watermark: a line committed after
// the sign-off with a lower id than max_line is in no batch, ever.
func TestReviewSignOffWatermarkPostgres(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		if d.Dialect != db.Postgres {
			t.Skip("SQLite serialises writers")
		}
		ctx := context.Background()
		f := newFixture(t, d)
		a := f.person(t, "甲", "310104003001", "1950-03-01", 11, 0)
		b := f.person(t, "乙", "310104003001", "1950-03-01", 12, 0)
		ins := `INSERT INTO ledger (period, program, person_id, kind, fen, household_id, division, run_id, created_at) VALUES ('2025-08', 'elderly_allowance', $1, 'regular', 15000, $2, '310104003001', 1, '')`
		// A run holds the payroll lease while its writers work.
		run := jobs.NewLeases(d, nil)
		run.Holder = "elsewhere:1:run"
		if _, err := run.Acquire(ctx, payroll.Job, time.Hour); err != nil {
			t.Fatal(err)
		}
		slow, _ := d.BeginTx(ctx, nil) // one writer of the run: id N, not yet committed
		if _, err := slow.Exec(ins, a.ID, a.HouseholdID); err != nil {
			t.Fatal(err)
		}
		if _, err := d.Exec(ins, b.ID, b.HouseholdID); err != nil { // another writer: id N+1, committed
			t.Fatal(err)
		}
		xuhui := auth.Principal{Name: "xh", Role: auth.Approver, Division: "310104"}
		if _, err := f.pay.SignOff(ctx, xuhui, "2025-08", "310104"); errs.Code(err) != errs.Conflict {
			t.Fatalf("sign-off while a run holds the lease: %v, want a conflict", err)
		}
		slow.Commit()
		run.Release(ctx, payroll.Job, "")
		_, err := f.pay.SignOff(ctx, xuhui, "2025-08", "310104")
		refs := refsIn(t, filepath.Join(f.pay.Dir, "2025-08", "310104"))
		if len(refs[payroll.Reference("2025-08", "elderly_allowance", a.ID, 1)])+len(refs[payroll.Reference("2025-08", "elderly_allowance", a.ID, 2)]) == 0 {
			t.Errorf("person %d's line is in no bank file (second sign-off: %v, code %s); files %v", a.ID, err, errs.Code(err), refs)
		}
	})
}

// R8: the sign-off is committed before its files are written; if writing
// fails, signing again says there is nothing new, and the batch's files
// can never be written (WriteBankFiles writes everything as batch 1).
func TestReviewSignOffFileErrorLosesBatch(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		elder := f.person(t, "张老", "310104003001", "1950-03-01", 11, 0)
		f.entitle(t, "elderly_allowance", elder, 15000, "2025-07-01")
		f.runNoFiles(t, "2025-08", nil)
		good := f.pay.Dir
		bad := filepath.Join(t.TempDir(), "file")
		os.WriteFile(bad, nil, 0o600)
		f.pay.Dir = bad // disk full, NFS away...
		xuhui := auth.Principal{Name: "xh", Role: auth.Approver, Division: "310104"}
		if _, err := f.pay.SignOff(ctx, xuhui, "2025-08", "310104"); err == nil {
			t.Fatal("expected a write error")
		}
		f.pay.Dir = good
		files, err := f.pay.SignOff(ctx, xuhui, "2025-08", "310104")
		if err != nil || len(files) == 0 {
			t.Errorf("after a failed write, signing again: %v %v — no way to produce batch 1", files, err)
		}
	})
}

// R9: recovery uses today's monthly amount, not what was paid.
func TestReviewRecoveryUsesCurrentAmount(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		elder := f.person(t, "张老", "310104003001", "1950-03-01", 11, 0)
		f.entitle(t, "elderly_allowance", elder, 15000, "2025-07-01")
		f.at(2025, 8, 1)
		f.runNoFiles(t, "2025-08", nil)
		d.Exec(`UPDATE entitlements SET monthly_fen = 10000 WHERE person_id = $1`, elder.ID) // a change from September
		f.at(2025, 9, 1)
		f.runNoFiles(t, "2025-09", nil)
		f.at(2025, 9, 15) // death on 10 August reported late
		f.stop(t, "elderly_allowance", elder, "2025-08-10")
		f.at(2025, 10, 1)
		f.runNoFiles(t, "2025-10", nil)
		if got := f.line("elderly_allowance", elder.ID, "2025-08", payroll.Recovery); got != -10161 {
			t.Errorf("August recovery %d, want -10161 (150 paid, 10/31 of 150 due)", got)
		}
	})
}

// R0: deduct() sums recovery and deduction lines, both negative, so each
// deduction adds to the debt instead of settling it: the person is deducted
// again every month, for ever.
func TestReviewDeductionCompounds(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		elder := f.person(t, "张老", "310104003001", "1950-03-01", 11, 0)
		f.entitle(t, "elderly_allowance", elder, 15000, "2025-07-01")
		f.at(2025, 8, 1)
		f.runNoFiles(t, "2025-08", nil)
		f.at(2025, 8, 12)
		f.stop(t, "elderly_allowance", elder, "2025-08-10")
		f.at(2025, 9, 1)
		f.runNoFiles(t, "2025-09", nil) // August recovery -101.61
		d.Exec(`UPDATE entitlements SET status = 'active', until = NULL, since = '2025-10-01' WHERE person_id = $1`, elder.ID)
		for _, m := range []string{"2025-10", "2025-11", "2025-12"} {
			f.runNoFiles(t, m, nil)
			t.Logf("%s deduction %d", m, f.line("elderly_allowance", elder.ID, m, payroll.Deduction))
		}
		if got := f.line("elderly_allowance", elder.ID, "2025-10", payroll.Deduction); got != -10161 {
			t.Errorf("October deduction %d, want -10161", got)
		}
		if got := f.line("elderly_allowance", elder.ID, "2025-11", payroll.Deduction); got != -1 {
			t.Errorf("November deduction %d, want none: the 101.61 was recovered in October", got)
		}
	})
}
