package policy

import (
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"
)

// benchRows is the number of persons of the batch benchmarks:
// MINZHENG_BENCH_PERSONS, or 1,000,000 (25,000,000 is the city).
func benchRows() int {
	if n, err := strconv.Atoi(os.Getenv("MINZHENG_BENCH_PERSONS")); err == nil && n > 0 {
		return n
	}
	return 1000000
}

// benchColumns fills every numeric fact column with synthetic values.
func benchColumns(b *testing.B, n int) *Columns {
	b.Helper()
	var fields []string
	for f := range factFields {
		fields = append(fields, f)
	}
	c, err := NewColumns(n, fields)
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(7, 7))
	age, hukou, alive, grade := c.Column("person.age"), c.Column("person.shanghai_hukou"), c.Column("person.alive"), c.Column("person.disability_grade")
	members, pci, income := c.Column("household.members"), c.Column("household.per_capita_income"), c.Column("person.monthly_income")
	for i := 0; i < n; i++ {
		age[i] = float64(r.IntN(100))
		hukou[i] = b2f(r.IntN(10) > 0)
		alive[i] = 1
		grade[i] = float64([]int{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4}[r.IntN(42)])
		members[i] = float64(1 + r.IntN(4))
		pci[i] = float64(r.IntN(9000))
		income[i] = pci[i]
		c.Head[i] = r.IntN(5) < 2
	}
	return c
}

// threeRules are the three simple rules of the comparison:
// per-capita income vs 1,595, the five age bands, a disability grade.
const threeRules = `
id: three
names: [{from: 2016-01-01, name: 三条规则}]
entity: person
parameters:
  - name: standard
    values: [{from: 2016-01-01, value: 1595, source: test}]
conditions:
  - id: poor_or_old_or_disabled
    label: 三条规则之一
    expr: household.per_capita_income < three.standard || person.age >= 65 || (person.disability_grade >= 1 && person.disability_grade <= 2)
amount: "person.age >= 100 ? 600.0 : person.age >= 90 ? 350.0 : person.age >= 80 ? 180.0 : person.age >= 70 ? 150.0 : person.age >= 65 ? 75.0 : 0.0"
`

// BenchmarkThreeRulesHandLoop is the hand-written Go loop over column
// slices for the three rules: the floor to compare the plan with.
func BenchmarkThreeRulesHandLoop(b *testing.B) {
	n := benchRows()
	c := benchColumns(b, n)
	elig, amt := make([]bool, n), make([]float64, n)
	age, grade, pci := c.Column("person.age"), c.Column("person.disability_grade"), c.Column("household.per_capita_income")
	b.ResetTimer()
	for it := 0; it < b.N; it++ {
		for i := 0; i < n; i++ {
			a := age[i]
			elig[i] = pci[i] < 1595 || a >= 65 || (grade[i] >= 1 && grade[i] <= 2)
			switch {
			case a >= 100:
				amt[i] = 600
			case a >= 90:
				amt[i] = 350
			case a >= 80:
				amt[i] = 180
			case a >= 70:
				amt[i] = 150
			case a >= 65:
				amt[i] = 75
			default:
				amt[i] = 0
			}
			if !elig[i] {
				amt[i] = 0
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/person")
}

// BenchmarkThreeRulesPlan runs the same three rules written as a policy
// through the batch plan.
func BenchmarkThreeRulesPlan(b *testing.B) {
	s, err := Load(map[string][]byte{"three.yaml": []byte(threeRules)})
	if err != nil {
		b.Fatal(err)
	}
	plan, err := s.Plan("three", time.Date(2025, 8, 1, 0, 0, 0, 0, time.UTC), nil)
	if err != nil {
		b.Fatal(err)
	}
	n := benchRows()
	c := benchColumns(b, n)
	elig, amt := make([]bool, n), make([]float64, n)
	b.ResetTimer()
	for it := 0; it < b.N; it++ {
		plan.Run(c, elig, amt)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/person")
}

// BenchmarkAllProgrammesPlan runs every embedded programme over the
// columns: the evaluation step of the proactive run.
func BenchmarkAllProgrammesPlan(b *testing.B) {
	s, err := Embedded()
	if err != nil {
		b.Fatal(err)
	}
	on := time.Date(2025, 8, 1, 0, 0, 0, 0, time.UTC)
	var plans []*Plan
	for _, id := range s.IDs() {
		p, err := s.Plan(id, on, nil)
		if err != nil {
			b.Fatal(err)
		}
		plans = append(plans, p)
	}
	n := benchRows()
	c := benchColumns(b, n)
	// one-pass: RunAll, each chunk through every programme (what the
	// proactive run does); plan-by-plan: one pass over all rows per
	// programme, for comparison.
	b.Run("one-pass", func(b *testing.B) {
		elig, amt := make([][]bool, len(plans)), make([][]float64, len(plans))
		for j := range plans {
			elig[j], amt[j] = make([]bool, n), make([]float64, n)
		}
		b.ResetTimer()
		for it := 0; it < b.N; it++ {
			RunAll(plans, c, elig, amt)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/person")
	})
	b.Run("plan-by-plan", func(b *testing.B) {
		elig, amt := make([]bool, n), make([]float64, n)
		b.ResetTimer()
		for it := 0; it < b.N; it++ {
			for _, p := range plans {
				p.Run(c, elig, amt)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/person")
	})
}

// BenchmarkEvaluateOneCase is the explained single-case path.
func BenchmarkEvaluateOneCase(b *testing.B) {
	s, err := Embedded()
	if err != nil {
		b.Fatal(err)
	}
	yes := true
	c := &Case{Subject: "a", Members: []Member{{ID: "a", BirthDate: "1950-05-01", Sex: "M", HukouDivision: "310104", ResidenceDivision: "310104", MonthlyIncome: 1000, Alive: &yes, Relation: "head"}}}
	on := time.Date(2025, 8, 1, 0, 0, 0, 0, time.UTC)
	for b.Loop() {
		if _, err := s.Evaluate("dibao", c, on, nil); err != nil {
			b.Fatal(err)
		}
	}
}
