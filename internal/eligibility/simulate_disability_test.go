package eligibility_test

import (
	"context"
	"testing"
	"time"

	"minzheng/internal/auth"
	"minzheng/internal/db"
	"minzheng/internal/db/dbtest"
	"minzheng/internal/eligibility"
	"minzheng/internal/idcard"
	"minzheng/internal/registry"
)

// TestSimulateDisabilityRestandard is the what-if of the 2025-07-01
// re-standardisation of the two disability subsidies (沪民残福发〔2025〕5号):
// simulated the day before with the new values, it predicts exactly what
// the values in force from 2025-07-01 pay; simulated from 2025-07-01 with
// the old values, it shows what the re-standardisation costs a month.
func TestSimulateDisabilityRestandard(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d, time.Date(2025, 8, 1, 9, 0, 0, 0, time.UTC))
		sys := auth.System()
		b, _ := time.Parse(time.DateOnly, "1980-05-01")
		// 重残无业: grade 1, no income → living 450 (410), care 350 (300).
		if _, err := f.reg.Create(ctx, sys, registry.NewPerson{Name: "王重", IDNumber: idcard.Build("310104", b, 51), HukouDivision: "310104003001", ResidenceDivision: "310104003001", DisabilityCategory: "physical", DisabilityGrade: 1}); err != nil {
			t.Fatal(err)
		}
		// A 低保边缘 family (2,500 a month, alone), grade-3 intellectual:
		// living 320 (290), care 180 (150).
		if _, err := f.reg.Create(ctx, sys, registry.NewPerson{Name: "陈智", IDNumber: idcard.Build("310104", b, 62), HukouDivision: "310104003001", ResidenceDivision: "310104003001", MonthlyIncome: 2500, DisabilityCategory: "intellectual", DisabilityGrade: 3}); err != nil {
			t.Fatal(err)
		}
		svc := &eligibility.Service{Registry: f.reg, Policies: f.set, Now: f.now}
		total := func(sim *eligibility.Simulation, program string) eligibility.SimRow {
			for _, r := range sim.Total {
				if r.Program == program {
					return r
				}
			}
			t.Fatalf("no row for %s in %+v", program, sim.Total)
			return eligibility.SimRow{}
		}
		run := func(from time.Time, set ...string) *eligibility.Simulation {
			over, err := svc.ParseSet(set)
			if err != nil {
				t.Fatal(err)
			}
			sim, err := svc.Simulate(ctx, sys, over, from, f.tree.Name)
			if err != nil {
				t.Fatal(err)
			}
			return sim
		}
		before := time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC)
		from := time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC)
		// minzheng simulate --set disability_living.dibao_monthly=450 --set disability_living.edge_monthly=320
		//   --set disability_care.grade_1=350 --set disability_care.grade_2=180 --from 2025-06-30
		pred := run(before, "disability_living.dibao_monthly=450", "disability_living.edge_monthly=320",
			"disability_care.grade_1=350", "disability_care.grade_2=180")
		// minzheng simulate --set disability_living.dibao_monthly=410 --set disability_living.edge_monthly=290
		//   --set disability_care.grade_1=300 --set disability_care.grade_2=150 --from 2025-07-01
		cost := run(from, "disability_living.dibao_monthly=410", "disability_living.edge_monthly=290",
			"disability_care.grade_1=300", "disability_care.grade_2=150")
		for _, c := range []struct {
			program            string
			old, new, subjects float64
		}{
			{"disability_living", 410 + 290, 450 + 320, 2},
			{"disability_care", 300 + 150, 350 + 180, 2},
		} {
			p, k := total(pred, c.program), total(cost, c.program)
			if p.MonthlyBefore != c.old || p.MonthlyAfter != c.new || p.MonthlyDelta != c.new-c.old || p.SubjectsGain+p.SubjectsLose != 0 || float64(p.SubjectsAfter) != c.subjects {
				t.Errorf("%s from 2025-06-30 with the new values: %+v, want %v → %v", c.program, p, c.old, c.new)
			}
			if k.MonthlyBefore != c.new || k.MonthlyAfter != c.old || k.YearlyDelta != 12*(c.old-c.new) {
				t.Errorf("%s from 2025-07-01 with the old values: %+v, want %v → %v", c.program, k, c.new, c.old)
			}
		}
	})
}
