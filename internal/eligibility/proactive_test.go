package eligibility_test

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"

	"minzheng/internal/audit"
	"minzheng/internal/auth"
	"minzheng/internal/db"
	"minzheng/internal/db/dbtest"
	"minzheng/internal/division"
	"minzheng/internal/eligibility"
	"minzheng/internal/errs"
	"minzheng/internal/idcard"
	"minzheng/internal/policy"
	"minzheng/internal/registry"
	"minzheng/internal/secret"
)

func TestProactiveRun(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d, time.Date(2025, 8, 1, 9, 0, 0, 0, time.UTC))
		now, tree, reg, set, pr := f.now, f.tree, f.reg, f.set, f.pr
		sys := auth.System()
		birth := func(s string) time.Time { b, _ := time.Parse(time.DateOnly, s); return b }
		// An elder of 75 with a good pension: elderly allowance only.
		elder, err := reg.Create(ctx, sys, registry.NewPerson{Name: "张老", IDNumber: idcard.Build("310104", birth("1950-03-01"), 11), HukouDivision: "310104003001", ResidenceDivision: "310104003001", MonthlyIncome: 5000})
		if err != nil {
			t.Fatal(err)
		}
		// A poor household of two: 低保 (1650 − 600) × 2 = 2100.
		mum, err := reg.Create(ctx, sys, registry.NewPerson{Name: "李母", IDNumber: idcard.Build("310115", birth("1980-01-01"), 22), HukouDivision: "310115004001", ResidenceDivision: "310115004001", MonthlyIncome: 1200})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := reg.Create(ctx, sys, registry.NewPerson{Name: "李子", IDNumber: idcard.Build("310115", birth("2012-01-01"), 33), HukouDivision: "310115004001", ResidenceDivision: "310115004001", HouseholdID: mum.HouseholdID, Relation: "子女"}); err != nil {
			t.Fatal(err)
		}
		on := time.Date(2025, 8, 1, 0, 0, 0, 0, time.UTC)
		st, err := pr.Run(ctx, sys, on, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if st.Persons != 3 || st.Grants != 2 || st.Stops != 0 || st.Changes != 0 {
			t.Fatalf("first run %+v, want 2 grants (elderly allowance, 低保)", st)
		}
		amount := func(program string, person int64) (string, int64) {
			var status string
			var f int64
			d.QueryRow(`SELECT status, monthly_fen FROM entitlements WHERE program = $1 AND person_id = $2`, program, person).Scan(&status, &f)
			return status, f
		}
		if s, f := amount("elderly_allowance", elder.ID); s != "active" || f != 15000 {
			t.Errorf("elderly allowance %s %d", s, f)
		}
		if s, f := amount("dibao", mum.ID); s != "active" || f != 210000 {
			t.Errorf("dibao %s %d", s, f)
		}
		var hash, expl string
		d.QueryRow(`SELECT inputs_hash, explanation FROM decisions WHERE program = 'dibao'`).Scan(&hash, &expl)
		if len(hash) != 64 || !bytes.Contains([]byte(expl), []byte("低于 2025-07-01 起执行的低保标准 1,650 元")) {
			t.Errorf("decision hash %q explanation %s", hash, expl)
		}
		// Nothing changed: nothing written.
		if st, err := pr.Run(ctx, sys, on, io.Discard); err != nil || st.Grants+st.Stops+st.Changes != 0 {
			t.Fatalf("second run %+v %v", st, err)
		}
		// Income rises: the amount changes. The elder dies: the allowance stops on the death date.
		d.Exec(`UPDATE persons SET monthly_income = 1400 WHERE id = $1`, mum.ID)
		d.Exec(`UPDATE persons SET death_date = '2025-07-20' WHERE id = $1`, elder.ID)
		st, err = pr.Run(ctx, sys, on, io.Discard)
		if err != nil || st.Changes != 1 || st.Stops != 1 || st.Grants != 0 {
			t.Fatalf("third run %+v %v", st, err)
		}
		if s, f := amount("dibao", mum.ID); s != "active" || f != 190000 { // (1650 − 700) × 2
			t.Errorf("dibao after the raise %s %d", s, f)
		}
		var until string
		d.QueryRow(`SELECT until FROM entitlements WHERE program = 'elderly_allowance' AND person_id = $1`, elder.ID).Scan(&until)
		if s, _ := amount("elderly_allowance", elder.ID); s != "stopped" || until != "2025-07-20" {
			t.Errorf("allowance after death: %s until %s", s, until)
		}
		var notices, elderNotices int
		d.QueryRow(`SELECT COUNT(*) FROM notices`).Scan(&notices)
		d.QueryRow(`SELECT COUNT(*) FROM notices WHERE person_id = $1`, elder.ID).Scan(&elderNotices)
		if notices != 3 || elderNotices != 1 {
			t.Errorf("notices %d (elder %d), want 3 (grant, grant, change) with none for the death", notices, elderNotices)
		}
		// What if the standard were 2,000 (from the same date)? The household
		// gets (2000 − 700) × 2 = 2600 instead of 1900; nothing is written.
		var decisions int
		d.QueryRow(`SELECT COUNT(*) FROM decisions`).Scan(&decisions)
		svc := &eligibility.Service{Registry: reg, Policies: set, Now: now}
		over, err := svc.ParseSet([]string{"dibao.standard=2000"})
		if err != nil {
			t.Fatal(err)
		}
		sim, err := svc.Simulate(ctx, sys, over, on, tree.Name)
		if err != nil {
			t.Fatal(err)
		}
		var dibao *eligibility.SimRow
		for i := range sim.Total {
			if sim.Total[i].Program == "dibao" {
				dibao = &sim.Total[i]
			}
		}
		if dibao == nil || dibao.MonthlyBefore != 1900 || dibao.MonthlyAfter != 2600 || dibao.YearlyDelta != 8400 || dibao.SubjectsGain != 0 {
			t.Fatalf("simulation at 2000: %+v", dibao)
		}
		over, _ = svc.ParseSet([]string{"dibao.standard=600"})
		sim, _ = svc.Simulate(ctx, sys, over, on, tree.Name)
		for _, r := range sim.Rows {
			if r.Program == "dibao" && (r.SubjectsLose != 1 || r.PeopleLose != 2 || r.DistrictName != "浦东新区") {
				t.Errorf("simulation at 600: %+v", r)
			}
		}
		var after int
		d.QueryRow(`SELECT COUNT(*) FROM decisions`).Scan(&after)
		if after != decisions {
			t.Errorf("simulation wrote %d decisions", after-decisions)
		}
		if _, err := svc.ParseSet([]string{"dibao.nope=1"}); errs.Code(err) != errs.Invalid {
			t.Errorf("unknown parameter: %v", err)
		}
		// Only a city-wide administrator may run it.
		if _, err := pr.Run(ctx, auth.Principal{Name: "x", Role: auth.CityAdmin, Division: "310104"}, on, io.Discard); errs.Code(err) != errs.Forbidden {
			t.Errorf("district admin: %v", err)
		}
	})
}

// TestIncremental: when one person's facts change, their household is
// re-decided at once, well within 50 ms.
func TestIncremental(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d, time.Date(2025, 8, 1, 9, 0, 0, 0, time.UTC))
		reg, pr := f.reg, f.pr
		on := time.Date(2025, 8, 1, 0, 0, 0, 0, time.UTC)
		var took time.Duration
		reg.OnChange = func(ctx context.Context, id int64) error {
			start := time.Now()
			_, err := pr.Household(ctx, auth.System(), id, on)
			took = time.Since(start)
			return err
		}
		sys := auth.System()
		b, _ := time.Parse(time.DateOnly, "1970-05-05")
		x, err := reg.Create(ctx, sys, registry.NewPerson{Name: "周一", IDNumber: idcard.Build("310104", b, 11), HukouDivision: "310104003001", ResidenceDivision: "310104003001", MonthlyIncome: 5000})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pr.Run(ctx, sys, on, io.Discard); err != nil {
			t.Fatal(err)
		}
		income := int64(1000)
		if _, err := reg.UpdateFacts(ctx, sys, x.ID, registry.FactsUpdate{MonthlyIncome: &income}); err != nil {
			t.Fatal(err)
		}
		var status string
		var monthly int64
		d.QueryRow(`SELECT status, monthly_fen FROM entitlements WHERE program = 'dibao' AND person_id = $1`, x.ID).Scan(&status, &monthly)
		if status != "active" || monthly != 65000 {
			t.Fatalf("after the income drop: %s %d, want active 65000", status, monthly)
		}
		// A guard against a scan, loose enough for a loaded CI machine;
		// the figure in docs/BENCHMARKS.md (1.3 ms SQLite, 4.7 ms PostgreSQL) is its log line on a quiet machine.
		if took > 500*time.Millisecond {
			t.Errorf("re-evaluation took %v, want under 500 ms", took)
		}
		t.Logf("household re-evaluated and written in %v", took)
		death := "2025-07-31"
		reg.UpdateFacts(ctx, sys, x.ID, registry.FactsUpdate{DeathDate: &death})
		d.QueryRow(`SELECT status FROM entitlements WHERE program = 'dibao' AND person_id = $1`, x.ID).Scan(&status)
		if status != "stopped" {
			t.Fatalf("after death: %s", status)
		}
		bad := -1
		if _, err := reg.UpdateFacts(ctx, sys, x.ID, registry.FactsUpdate{DisabilityGrade: &bad}); errs.Code(err) != errs.Invalid {
			t.Errorf("bad grade: %v", err)
		}
	})
}

// TestBackPayment: the 低保 standard rose from 1,595 to 1,650 on
// 2025-07-01. A run in June grants at 1,595; a run in mid-August raises the
// amount and owes July's difference, (1650 − 1595) × 2 = 110 yuan.
func TestBackPayment(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d, time.Date(2025, 8, 15, 9, 0, 0, 0, time.UTC))
		reg, pr := f.reg, f.pr
		sys := auth.System()
		b, _ := time.Parse(time.DateOnly, "1980-01-01")
		mum, err := reg.Create(ctx, sys, registry.NewPerson{Name: "李母", IDNumber: idcard.Build("310115", b, 22), HukouDivision: "310115004001", ResidenceDivision: "310115004001", MonthlyIncome: 1200})
		if err != nil {
			t.Fatal(err)
		}
		b, _ = time.Parse(time.DateOnly, "2012-01-01")
		reg.Create(ctx, sys, registry.NewPerson{Name: "李子", IDNumber: idcard.Build("310115", b, 33), HukouDivision: "310115004001", ResidenceDivision: "310115004001", HouseholdID: mum.HouseholdID, Relation: "子女"})
		june, err := pr.Run(ctx, sys, time.Date(2025, 6, 15, 0, 0, 0, 0, time.UTC), io.Discard)
		if err != nil || june.BackPayments != 0 {
			t.Fatalf("first run: %+v %v (the first run is not retroactive)", june, err)
		}
		aug, err := pr.Run(ctx, sys, time.Date(2025, 8, 15, 0, 0, 0, 0, time.UTC), io.Discard)
		if err != nil || aug.Changes != 1 || aug.BackPayments != 1 || aug.BackPayTotal != 110 {
			t.Fatalf("august run: %+v %v", aug, err)
		}
		var month string
		var owed int64
		d.QueryRow(`SELECT month, fen FROM back_payments WHERE program = 'dibao' AND person_id = $1`, mum.ID).Scan(&month, &owed)
		if month != "2025-07" || owed != 11000 {
			t.Errorf("back payment %s %d, want 2025-07 11000", month, owed)
		}
		if again, _ := pr.Run(ctx, sys, time.Date(2025, 8, 15, 0, 0, 0, 0, time.UTC), io.Discard); again.BackPayments != 0 || again.Changes != 0 {
			t.Errorf("third run %+v: nothing new", again)
		}
	})
}

// fixture is a register with the embedded policies and a proactive
// runner, on a fixed clock.
type fixture struct {
	now  func() time.Time
	tree *division.Tree
	log  *audit.Log
	reg  *registry.Service
	set  *policy.Set
	pr   *eligibility.Proactive
}

func newFixture(t *testing.T, d *db.DB, at time.Time) fixture {
	t.Helper()
	suite, _ := secret.NewStandard(bytes.Repeat([]byte{4}, secret.KeySize))
	now := func() time.Time { return at }
	tree, _ := division.Shanghai()
	if err := division.NewService(d, tree).Seed(context.Background()); err != nil {
		t.Fatal(err)
	}
	log := audit.New(d, suite, now)
	reg := registry.NewService(d, suite, log, tree, now)
	set, err := policy.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	return fixture{now: now, tree: tree, log: log, reg: reg, set: set,
		pr: &eligibility.Proactive{DB: d, Registry: reg, Policies: set, Audit: log, Now: now}}
}

// TestMedicalExpenseReachesDecisions: the register's monthly medical
// expense (refreshed by 医保 feeds) is necessary spending in the case, on
// the single-person path (the profile's evaluation) and on the streamed
// path of the whole-city run, which grants 刚性支出困难 on it.
func TestMedicalExpenseReachesDecisions(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d, time.Date(2025, 8, 1, 9, 0, 0, 0, time.UTC))
		sys := auth.System()
		b, _ := time.Parse(time.DateOnly, "1975-05-05")
		x, err := f.reg.Create(ctx, sys, registry.NewPerson{Name: "赵病", IDNumber: idcard.Build("310104", b, 41), HukouDivision: "310104003001", ResidenceDivision: "310104003001", MonthlyIncome: 2000})
		if err != nil {
			t.Fatal(err)
		}
		on := time.Date(2025, 8, 1, 0, 0, 0, 0, time.UTC)
		svc := &eligibility.Service{Registry: f.reg, Policies: f.set, Now: f.now}
		rigid := func() *policy.Result {
			rs, err := svc.Person(ctx, sys, x.ID, "rigid_expense", on)
			if err != nil || len(rs) != 1 {
				t.Fatalf("evaluate: %v %v", rs, err)
			}
			return rs[0]
		}
		if r := rigid(); r.Eligible {
			t.Fatalf("eligible without medical spending: %+v", r.Explanation)
		}
		if _, err := d.ExecContext(ctx, `INSERT INTO person_medical (household_id, person_id, monthly, as_of) VALUES ($1, $2, 600, '2025-07-31')`, x.HouseholdID, x.ID); err != nil {
			t.Fatal(err)
		}
		r := rigid()
		found := false
		for _, st := range r.Explanation {
			found = found || bytes.Contains([]byte(st.Detail), []byte("必需支出 600"))
		}
		// (1650 − (2000 − 600)) × 1 = 250 yuan.
		if !r.Eligible || r.MonthlyAmount != 250 || !found {
			t.Errorf("rigid expense with 600 yuan of monthly medical spending: eligible %v, amount %v, %+v", r.Eligible, r.MonthlyAmount, r.Explanation)
		}
		if _, err := f.pr.Run(ctx, sys, on, io.Discard); err != nil {
			t.Fatal(err)
		}
		var fen int64
		d.QueryRow(`SELECT monthly_fen FROM entitlements WHERE program = 'rigid_expense' AND person_id = $1 AND status = 'active'`, x.ID).Scan(&fen)
		if fen != 25000 {
			t.Errorf("proactive run: rigid expense %d fen, want 25000", fen)
		}
	})
}
