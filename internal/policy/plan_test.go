package policy

import (
	"math/rand/v2"
	"testing"
	"time"
)

// randomFacts draws facts that straddle every threshold of the policies.
func randomFacts(r *rand.Rand) (Facts, bool) {
	var f Facts
	p, h := &f.Person, &f.Household
	p.Age = r.IntN(110)
	p.ShanghaiHukou = r.IntN(10) > 0
	p.Alive = r.IntN(20) > 0
	p.MonthlyIncome = float64(r.IntN(4000))
	p.DisabilityGrade = []int{0, 0, 0, 1, 2, 3, 4}[r.IntN(7)]
	p.IntellectualOrMental = r.IntN(3) == 0
	p.CanWork = r.IntN(2) == 0
	p.HasSupporter = r.IntN(3) == 0
	h.Members = r.IntN(6)
	h.ShanghaiMembers = h.Members
	h.TotalIncome = float64(r.IntN(12000))
	h.NecessaryExpense = float64(r.IntN(5000)) * float64(r.IntN(2))
	if h.Members > 0 {
		n := float64(h.Members)
		h.PerCapitaIncome = round2(h.TotalIncome / n)
		h.PerCapitaAfterExpense = round2((h.TotalIncome - h.NecessaryExpense) / n)
		if r.IntN(10) == 0 { // exactly on the 低保 line
			h.PerCapitaIncome = 1650
		}
	}
	h.FinancialAssetsPerCapita = float64(r.IntN(100000))
	h.Properties = r.IntN(4) / 3
	return f, r.IntN(3) == 0
}

// TestPlanAgreesWithEvaluate is the property the batch path rests on: for
// 10,000 random subjects, every programme's plan gives the same eligibility
// and amount as the interpreted, explained evaluation.
func TestPlanAgreesWithEvaluate(t *testing.T) {
	s, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	const n = 10000
	r := rand.New(rand.NewPCG(1, 2))
	facts := make([]Facts, n)
	heads := make([]bool, n)
	for i := range facts {
		facts[i], heads[i] = randomFacts(r)
	}
	for _, on := range []time.Time{time.Date(2024, 6, 30, 0, 0, 0, 0, time.UTC), time.Date(2025, 8, 1, 0, 0, 0, 0, time.UTC)} {
		for _, id := range s.IDs() {
			for _, over := range []Overrides{nil, {"dibao.standard": 1700}} {
				plan, err := s.Plan(id, on, over)
				if err != nil {
					t.Fatal(err)
				}
				cols, err := NewColumns(n, plan.Fields())
				if err != nil {
					t.Fatal(err)
				}
				for i, f := range facts {
					cols.Set(i, &f, heads[i])
				}
				elig := make([]bool, n)
				amt := make([]float64, n)
				plan.Run(cols, elig, amt)
				household := s.Policies[id].Entity == "household"
				for i, f := range facts {
					want, err := s.EvaluateFacts(id, f, on, over)
					if err != nil {
						t.Fatal(err)
					}
					if household && !heads[i] {
						want.Eligible, want.MonthlyAmount = false, 0
					}
					if elig[i] != want.Eligible || amt[i] != want.MonthlyAmount {
						t.Fatalf("%s on %s (over %v), row %d %+v: plan %v %.2f, evaluate %v %.2f", id, on.Format(time.DateOnly), over, i, f, elig[i], amt[i], want.Eligible, want.MonthlyAmount)
					}
				}
			}
		}
	}
}
