package policy

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"sync"
	"testing"
	"time"
)

// randomCase builds a valid household: 1–5 members, Shanghai and other
// registers, every relation, incomes around the thresholds, the dead and
// those living elsewhere, disabilities, expenses and assets.
func randomCase(r *rand.Rand) *Case {
	pick := func(xs ...string) string { return xs[r.IntN(len(xs))] }
	incomes := []float64{0, 500, 1000, 1509.99, 1510, 1594.99, 1595, 1649.99, 1650, 2000, 3189.99, 3190, 7017, 7018, 12000}
	n := 1 + r.IntN(5)
	c := &Case{Subject: "m0"}
	for i := range n {
		birth := time.Date(1915+r.IntN(110), time.Month(1+r.IntN(12)), 1+r.IntN(28), 0, 0, 0, 0, time.UTC)
		if r.IntN(20) == 0 {
			birth = time.Date(1940+4*r.IntN(20), 2, 29, 0, 0, 0, 0, time.UTC)
		}
		m := Member{
			ID:                fmt.Sprintf("m%d", i),
			BirthDate:         birth.Format(time.DateOnly),
			Sex:               pick("M", "F"),
			HukouDivision:     pick("310104", "310115", "310230", "340102", "110105"),
			ResidenceDivision: pick("310104", "310112", "320506"),
			Relation:          pick("head", "spouse", "child", "parent", "grandchild", "other"),
			DisabilityGrade:   []int{0, 0, 0, 1, 2, 3, 4}[r.IntN(7)],
			HasSupporter:      r.IntN(2) == 0,
		}
		if i == 0 {
			m.Relation = "head"
		}
		if r.IntN(2) == 0 {
			m.MonthlyIncome = incomes[r.IntN(len(incomes))]
		} else {
			m.MonthlyIncome = float64(r.IntN(800000)) / 100
		}
		if m.DisabilityGrade > 0 {
			m.DisabilityCategory = pick("肢体", "视力", "智力", "精神")
		}
		switch r.IntN(8) {
		case 0:
			no := false
			m.Alive = &no
		case 1:
			m.DeathDate = time.Date(2019+r.IntN(8), time.Month(1+r.IntN(12)), 1+r.IntN(28), 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
		case 2:
			yes := true
			m.Alive = &yes
		}
		if r.IntN(6) == 0 {
			b := r.IntN(2) == 0
			m.LivesWithFamily = &b
		}
		if r.IntN(5) == 0 {
			b := r.IntN(2) == 0
			m.CanWork = &b
		}
		if r.IntN(3) == 0 {
			m.MonthlyMedicalExpense = float64(r.IntN(400000)) / 100
		}
		if r.IntN(5) == 0 {
			m.MonthlyEducationExpense = float64(r.IntN(200000)) / 100
		}
		c.Members = append(c.Members, m)
	}
	c.Subject = c.Members[r.IntN(n)].ID
	c.Assets = Assets{Deposits: float64(r.IntN(12)) * 10000, Securities: float64(r.IntN(3)) * 5000}
	if r.IntN(10) == 0 {
		c.Assets.Properties = 1
	}
	if r.IntN(10) == 0 {
		c.Assets.Vehicles = 1
	}
	return c
}

var propertyDates = []string{"2021-07-01", "2023-07-01", "2024-06-30", "2024-07-01", "2024-08-01", "2024-12-30", "2024-12-31",
	"2025-01-01", "2025-06-30", "2025-07-01", "2026-11-28"}

// TestEvaluateTwice: the same case on the same date gives identical
// results, evaluated one after the other or at the same time.
func TestEvaluateTwice(t *testing.T) {
	s := embeddedSet(t)
	r := rand.New(rand.NewPCG(1, 2))
	var cases []*Case
	for _, file := range goldenFiles(t) {
		if c, err := ParseCase(readGolden(t, file).caseJSON); err == nil {
			cases = append(cases, c)
		}
	}
	for range 120 {
		c := randomCase(r)
		if err := c.Validate(); err != nil {
			t.Fatalf("random case invalid: %v", err)
		}
		cases = append(cases, c)
	}
	type key struct {
		c  int
		id string
		d  string
	}
	first := map[key]*Result{}
	for i, c := range cases {
		for _, id := range s.IDs() {
			for _, d := range propertyDates {
				a, errA := s.Evaluate(id, c, fuzzDay(d), nil)
				b, errB := s.Evaluate(id, c, fuzzDay(d), nil)
				if fmt.Sprint(errA) != fmt.Sprint(errB) || !reflect.DeepEqual(a, b) {
					t.Fatalf("case %d %s on %s evaluated twice:\n%+v %v\n%+v %v", i, id, d, a, errA, b, errB)
				}
				if errA != nil {
					// Refused: a parameter without a value on that date
					// (rigid_expense before 2024-01-01).
					continue
				}
				first[key{i, id, d}] = a
			}
		}
	}
	// The same again from four goroutines at once (the API shares one Set).
	var wg sync.WaitGroup
	errc := make(chan error, 4)
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < len(cases); i += 2 {
				for _, id := range s.IDs() {
					for _, d := range propertyDates {
						want, ok := first[key{i, id, d}]
						if !ok {
							continue
						}
						got, err := s.Evaluate(id, cases[i], fuzzDay(d), nil)
						if err != nil || !reflect.DeepEqual(got, want) {
							errc <- fmt.Errorf("case %d %s on %s differs when evaluated concurrently: %v", i, id, d, err)
							return
						}
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
}

// changeDates are the dates on which any parameter value takes effect.
func changeDates(s *Set) []time.Time {
	var ds []time.Time
	for _, id := range s.IDs() {
		p, _ := s.Get(id)
		for _, prm := range p.Parameters {
			for _, v := range prm.Values {
				ds = append(ds, v.From.Time)
			}
		}
	}
	return ds
}

// quietBetween reports whether nothing about the members changes in
// (from, to]: no birthday (29 February counts on the 28th and the 1st of
// March), no birth and no death date.
func quietBetween(c *Case, from, to time.Time) bool {
	for _, m := range c.Members {
		birth, _ := time.Parse(time.DateOnly, m.BirthDate)
		for d := from.AddDate(0, 0, 1); !d.After(to); d = d.AddDate(0, 0, 1) {
			if d.Month() == birth.Month() && d.Day() == birth.Day() {
				return false
			}
			if birth.Month() == 2 && birth.Day() == 29 && (d.Month() == 2 && d.Day() == 28 || d.Month() == 3 && d.Day() == 1) {
				return false
			}
			if d.Equal(birth) || d.Format(time.DateOnly) == m.DeathDate {
				return false
			}
		}
	}
	return true
}

// TestAsOfShift: moving as_of across days on which no parameter changes,
// nobody has a birthday, is born or dies, changes neither eligibility nor
// amount.
func TestAsOfShift(t *testing.T) {
	s := embeddedSet(t)
	changes := changeDates(s)
	r := rand.New(rand.NewPCG(3, 4))
	start := time.Date(2021, 7, 1, 0, 0, 0, 0, time.UTC)
	checked := 0
	for range 3000 {
		c := randomCase(r)
		d1 := start.AddDate(0, 0, r.IntN(365*5))
		d2 := d1.AddDate(0, 0, 1+r.IntN(90))
		crosses := false
		for _, ch := range changes {
			if ch.After(d1) && !ch.After(d2) {
				crosses = true
			}
		}
		if crosses || !quietBetween(c, d1, d2) {
			continue
		}
		checked++
		for _, id := range s.IDs() {
			a, err1 := s.Evaluate(id, c, d1, nil)
			b, err2 := s.Evaluate(id, c, d2, nil)
			if (err1 == nil) != (err2 == nil) {
				t.Fatalf("%s: refused on one date only: %v / %v", id, err1, err2)
			}
			if err1 != nil {
				continue // no value yet on either date
			}
			if a.Eligible != b.Eligible || a.MonthlyAmount != b.MonthlyAmount {
				t.Errorf("%s: %s → %s changes eligible %v→%v amount %v→%v with nothing changing in between\ncase %+v",
					id, d1.Format(time.DateOnly), d2.Format(time.DateOnly), a.Eligible, b.Eligible, a.MonthlyAmount, b.MonthlyAmount, c)
			}
		}
	}
	if checked < 500 {
		t.Errorf("only %d quiet windows checked", checked)
	}
	t.Logf("%d quiet windows checked", checked)
}

// TestAsOfShiftMatters is the converse sanity check: across 2024-07-01 the
// same household's dibao amount changes by the standard's rise per member.
func TestAsOfShiftMatters(t *testing.T) {
	s := embeddedSet(t)
	c := &Case{Subject: "a", Members: []Member{
		{ID: "a", BirthDate: "1970-01-01", Sex: "M", HukouDivision: "310104", ResidenceDivision: "310104", MonthlyIncome: 1000, Relation: "head"},
		{ID: "b", BirthDate: "1972-01-01", Sex: "F", HukouDivision: "310104", ResidenceDivision: "310104", Relation: "spouse"},
	}}
	a, _ := s.Evaluate("dibao", c, fuzzDay("2024-06-30"), nil)
	b, _ := s.Evaluate("dibao", c, fuzzDay("2024-07-01"), nil)
	if a == nil || b == nil || !sameAmount(b.MonthlyAmount-a.MonthlyAmount, (1595-1510)*2) {
		t.Errorf("2024-06-30 %+v, 2024-07-01 %+v: want a rise of 170", a, b)
	}
	// An override replaces the standard from the simulated date.
	o, err := s.Evaluate("dibao", c, fuzzDay("2025-07-01"), Overrides{"dibao.standard": 1700})
	if err != nil || !sameAmount(o.MonthlyAmount, (1700-500)*2) {
		t.Errorf("override: %+v %v", o, err)
	}
}
