package gen

import (
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"minzheng/internal/idcard"
)

func TestSameConfigSameSequence(t *testing.T) {
	cfg := Config{Persons: 30000, Seed: 42, Committees: testCommittees()}
	h1, p1 := collect(t, cfg)
	h2, p2 := collect(t, cfg)
	if !reflect.DeepEqual(h1, h2) || !reflect.DeepEqual(p1, p2) {
		t.Fatal("two generators with the same config differ")
	}

	cfg.Seed = 43
	h3, p3 := collect(t, cfg)
	if reflect.DeepEqual(h1[:10], h3[:10]) || reflect.DeepEqual(p1[:10], p3[:10]) {
		t.Fatal("different seeds gave the same first households")
	}
	same := 0
	for i := range min(len(p1), len(p3)) {
		if p1[i][0].Name == p3[i][0].Name {
			same++
		}
	}
	if same > len(p1)/10 {
		t.Errorf("seeds 42 and 43 share %d of %d head names", same, len(p1))
	}
}

func TestPrefixStable(t *testing.T) {
	small := Config{Persons: 3000, Seed: 9, Committees: testCommittees()}
	large := small
	large.Persons = 20000
	hs, ps := collect(t, small)
	hl, pl := collect(t, large)
	if len(hs) >= len(hl) {
		t.Fatalf("small run has %d households, large %d", len(hs), len(hl))
	}
	if !reflect.DeepEqual(hs, hl[:len(hs)]) || !reflect.DeepEqual(ps, pl[:len(ps)]) {
		t.Fatal("the small run is not a prefix of the large one")
	}
}

func TestPersonsTarget(t *testing.T) {
	for _, n := range []int64{0, 1, 7, 1000} {
		g := New(Config{Persons: n, Seed: 1, Committees: testCommittees()})
		var got int64
		for {
			_, ms, ok := g.Next()
			if !ok {
				break
			}
			got += int64(len(ms))
		}
		if got < n || got > n+5 {
			t.Errorf("Persons %d: got %d persons", n, got)
		}
		if got != g.Persons() {
			t.Errorf("Persons %d: counted %d, Persons() says %d", n, got, g.Persons())
		}
	}
}

// TestIDNumbers checks 500,000 ID numbers: valid check character, sex
// parity, embedded birth date, plausible region, and no duplicates.
func TestIDNumbers(t *testing.T) {
	n := int64(500000)
	if testing.Short() {
		n = 100000
	}
	checkIDs(t, Config{Persons: n, Seed: 3, Committees: testCommittees()})
}

// TestIDNumbersOneDistrict crowds everyone into one district, the hardest
// case for uniqueness.
func TestIDNumbersOneDistrict(t *testing.T) {
	cs := []Division{{Code: "310109009001"}, {Code: "310109010002"}}
	checkIDs(t, Config{Persons: 200000, Seed: 4, Committees: cs})
}

func checkIDs(t *testing.T, cfg Config) {
	t.Helper()
	local := map[string]bool{"310103": true, "310108": true, "310230": true}
	for _, c := range cfg.Committees {
		local[c.Code[:6]] = true
	}
	other := map[string]bool{}
	for _, p := range provinces {
		for _, r := range p.regions {
			other[r] = true
		}
	}
	seen := make(map[string]struct{}, cfg.Persons+8)
	g := New(cfg)
	for {
		_, ms, ok := g.Next()
		if !ok {
			break
		}
		for _, p := range ms {
			id := p.IDNumber
			if len(id) != 18 {
				t.Fatalf("person %d: ID %q is not 18 characters", p.Seq, id)
			}
			if c := idcard.CheckChar(id[:17]); c != id[17] {
				t.Fatalf("person %d: ID %s has check character %c, want %c", p.Seq, id, id[17], c)
			}
			if male := (id[16]-'0')%2 == 1; male != (p.Sex == SexMale) {
				t.Fatalf("person %d: ID %s parity does not match sex %s", p.Seq, id, p.Sex)
			}
			if id[14:17] == "000" {
				t.Fatalf("person %d: ID %s has sequence 000", p.Seq, id)
			}
			if got := p.BirthDate.Format("20060102"); id[6:14] != got {
				t.Fatalf("person %d: ID %s does not embed birth date %s", p.Seq, id, got)
			}
			if region := id[:6]; p.ShanghaiHukou && !local[region] || !p.ShanghaiHukou && !other[region] {
				t.Fatalf("person %d (Shanghai hukou %v): unexpected region %s", p.Seq, p.ShanghaiHukou, region)
			}
			if p.ShanghaiHukou && id[:6] != p.HukouDivision[:6] {
				if y := p.BirthDate.Year(); id[:6] == "310103" && y >= 2011 || id[:6] == "310108" && y >= 2015 || id[:6] == "310230" && y >= 2017 {
					t.Fatalf("person %d born %d carries historic code %s", p.Seq, y, id[:6])
				}
			}
			if _, dup := seen[id]; dup {
				t.Fatalf("person %d: duplicate ID %s", p.Seq, id)
			}
			seen[id] = struct{}{}
		}
	}
	if len(seen) < int(cfg.Persons) {
		t.Fatalf("checked %d IDs, want %d", len(seen), cfg.Persons)
	}
}

// TestHouseholdStructure checks the relations inside every household.
func TestHouseholdStructure(t *testing.T) {
	cfg := Config{Persons: 100000, Seed: 5, Committees: testCommittees()}
	hs, ps := collect(t, cfg)
	asOf := DefaultAsOf
	var lastPerson int64
	for i, h := range hs {
		ms := ps[i]
		if h.Seq != int64(i+1) {
			t.Fatalf("household %d has Seq %d", i+1, h.Seq)
		}
		if len(ms) < 1 || len(ms) > 6 {
			t.Fatalf("household %d has %d members", h.Seq, len(ms))
		}
		if h.HukouDivision == "" || len(h.ResidenceDivision) != 12 || h.Address == "" {
			t.Fatalf("household %d: incomplete %+v", h.Seq, h)
		}
		var heads, spouses int
		head := ms[0]
		if head.Relation != RelationHead || !head.ShanghaiHukou {
			t.Fatalf("household %d: first member is %s (Shanghai hukou %v)", h.Seq, head.Relation, head.ShanghaiHukou)
		}
		headAge := ageAt(head.BirthDate, asOf)
		var spouse *Person
		var gen2 []Person // children and children-in-law
		for j := range ms {
			p := &ms[j]
			lastPerson++
			if p.Seq != lastPerson || p.HouseholdSeq != h.Seq {
				t.Fatalf("person Seq %d / household %d, want %d / %d", p.Seq, p.HouseholdSeq, lastPerson, h.Seq)
			}
			age := ageAt(p.BirthDate, asOf)
			if age < 0 || age > maxAge+1 {
				t.Fatalf("person %d: age %d", p.Seq, age)
			}
			if n := utf8.RuneCountInString(p.Name); n < 2 || n > 3 {
				t.Fatalf("person %d: name %q", p.Seq, p.Name)
			}
			switch p.Relation {
			case RelationHead:
				heads++
			case RelationSpouse:
				spouses++
				spouse = p
			case RelationChild, RelationOther:
				gen2 = append(gen2, *p)
			case RelationParent:
				if age < headAge+18 {
					t.Fatalf("household %d: parent aged %d, head %d", h.Seq, age, headAge)
				}
			case RelationGrandchild:
			default:
				t.Fatalf("person %d: relation %q", p.Seq, p.Relation)
			}
			if p.ShanghaiHukou != (p.HukouDivision != "") {
				t.Fatalf("person %d: Shanghai hukou %v but hukou division %q", p.Seq, p.ShanghaiHukou, p.HukouDivision)
			}
			if p.ShanghaiHukou && p.HukouDivision != h.HukouDivision {
				t.Fatalf("person %d: hukou %s, household %s", p.Seq, p.HukouDivision, h.HukouDivision)
			}
			if !p.ShanghaiHukou && p.Relation != RelationSpouse && p.Relation != RelationOther {
				t.Fatalf("person %d: a %s without Shanghai hukou", p.Seq, p.Relation)
			}
			if len(p.ResidenceDivision) != 12 {
				t.Fatalf("person %d: residence %q", p.Seq, p.ResidenceDivision)
			}
			if age < 18 && p.MonthlyIncome != 0 {
				t.Fatalf("person %d aged %d earns %d", p.Seq, age, p.MonthlyIncome)
			}
			if (p.DisabilityCategory == "") != (p.DisabilityGrade == 0) || p.DisabilityGrade > 4 {
				t.Fatalf("person %d: disability %q grade %d", p.Seq, p.DisabilityCategory, p.DisabilityGrade)
			}
			if !p.ShanghaiHukou && p.DisabilityGrade != 0 {
				t.Fatalf("person %d: disability without Shanghai hukou", p.Seq)
			}
			if d := p.DeathDate; d != nil && (d.Before(p.BirthDate) || d.After(asOf) || !d.After(asOf.AddDate(-1, 0, 0))) {
				t.Fatalf("person %d born %s died %s", p.Seq, p.BirthDate.Format(time.DateOnly), d.Format(time.DateOnly))
			}
			if p.LivesAlone != (len(ms) == 1 && age >= 60) {
				t.Fatalf("person %d aged %d in a household of %d: LivesAlone %v", p.Seq, age, len(ms), p.LivesAlone)
			}
		}
		if heads != 1 || spouses > 1 {
			t.Fatalf("household %d: %d heads, %d spouses", h.Seq, heads, spouses)
		}
		if spouse != nil {
			sa := ageAt(spouse.BirthDate, asOf)
			if spouse.Sex == head.Sex || sa < 20 || headAge < 20 || math.Abs(float64(sa-headAge)) > 16 {
				t.Fatalf("household %d: head %s %d, spouse %s %d", h.Seq, head.Sex, headAge, spouse.Sex, sa)
			}
		}
		for _, p := range ms {
			age := ageAt(p.BirthDate, asOf)
			switch p.Relation {
			case RelationChild:
				if age > headAge-18 || spouse != nil && age > ageAt(spouse.BirthDate, asOf)-18 {
					t.Fatalf("household %d: child aged %d, head %d", h.Seq, age, headAge)
				}
			case RelationGrandchild:
				for _, c := range gen2 {
					if age > ageAt(c.BirthDate, asOf)-18 {
						t.Fatalf("household %d: grandchild aged %d, %s aged %d", h.Seq, age, c.Relation, ageAt(c.BirthDate, asOf))
					}
				}
			}
		}
	}
}

func TestConfigValidate(t *testing.T) {
	ok := []Division{{Code: "310104003001", District: "310104", Street: "310104003"}}
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"valid", Config{Persons: 10, Committees: ok}, ""},
		{"derived codes", Config{Committees: []Division{{Code: "310115004002"}}}, ""},
		{"no committees", Config{Persons: 10}, "no committees"},
		{"short code", Config{Committees: []Division{{Code: "3101040030"}}}, "not 12 digits"},
		{"letters", Config{Committees: []Division{{Code: "31010400300A"}}}, "not 12 digits"},
		{"wrong district", Config{Committees: []Division{{Code: "310104003001", District: "310105"}}}, "district"},
		{"wrong street", Config{Committees: []Division{{Code: "310104003001", Street: "310104004"}}}, "street"},
		{"old as-of", Config{Committees: ok, AsOf: time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)}, "as-of"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Validate = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
	defer func() {
		if recover() == nil {
			t.Error("New with an invalid config did not panic")
		}
	}()
	New(Config{Persons: 1})
}

// TestAsOf checks that ages follow the reference date.
func TestAsOf(t *testing.T) {
	asOf := time.Date(2030, 2, 28, 15, 0, 0, 0, time.FixedZone("CST", 8*3600))
	ref := time.Date(2030, 2, 28, 0, 0, 0, 0, time.UTC)
	g := New(Config{Persons: 20000, Seed: 1, AsOf: asOf, Committees: testCommittees()})
	elders, total := 0, 0
	for {
		_, ms, ok := g.Next()
		if !ok {
			break
		}
		for _, p := range ms {
			a := ageAt(p.BirthDate, ref)
			if p.BirthDate.After(ref) || a > maxAge+1 {
				t.Fatalf("person %d born %s", p.Seq, p.BirthDate.Format(time.DateOnly))
			}
			if p.ShanghaiHukou {
				total++
				if a >= 60 {
					elders++
				}
			}
		}
	}
	if share := pct(elders, total); share < 34 || share > 41 {
		t.Errorf("60+ share at %s is %.1f%%", ref.Format(time.DateOnly), share)
	}
}

func TestCivilDays(t *testing.T) {
	for d := time.Date(1890, 1, 1, 0, 0, 0, 0, time.UTC); d.Year() < 2110; d = d.AddDate(0, 0, 1) {
		z := int(d.Unix() / 86400)
		if got := daysFromCivil(d.Year(), int(d.Month()), d.Day()); got != z {
			t.Fatalf("daysFromCivil(%s) = %d, want %d", d.Format(time.DateOnly), got, z)
		}
		y, m, dd := civilFromDays(z)
		if y != d.Year() || m != int(d.Month()) || dd != d.Day() {
			t.Fatalf("civilFromDays(%d) = %d-%d-%d, want %s", z, y, m, dd, d.Format(time.DateOnly))
		}
	}
}

func TestWeighted(t *testing.T) {
	w := []float64{1, 0, 3, 6}
	tab := newWeighted(w)
	r := householdRNG(1, 1)
	var got [4]int
	const n = 200000
	for range n {
		got[tab.draw(&r)]++
	}
	for i, x := range w {
		want := x / 10
		if diff := math.Abs(float64(got[i])/n - want); diff > 0.01 {
			t.Errorf("index %d drawn %.3f of the time, want %.3f", i, float64(got[i])/n, want)
		}
	}
}

func TestIDMatchesBuild(t *testing.T) {
	// Our fast builder must agree with idcard.Build.
	for _, c := range []struct {
		region string
		y, m   int
		d, seq int
	}{{"310115", 1950, 3, 7, 1}, {"340104", 2001, 12, 31, 998}, {"310230", 1931, 1, 1, 455}} {
		birth := time.Date(c.y, time.Month(c.m), c.d, 0, 0, 0, 0, time.UTC)
		if got, want := idNumber(c.region, c.y, c.m, c.d, c.seq), idcard.Build(c.region, birth, c.seq); got != want {
			t.Errorf("idNumber = %s, idcard.Build = %s", got, want)
		}
	}
}

// TestWeakGuardianship checks that 弱监护 marks only living elders of 80
// or over who share their household with others, none of whom is a carer
// of working age at the same residence, and that they are a small share of
// the elders.
func TestWeakGuardianship(t *testing.T) {
	cfg := Config{Persons: 60000, Seed: 7, Committees: testCommittees()}
	_, ps := collect(t, cfg)
	asOf := New(cfg).cfg.AsOf
	var elders, weak int
	for _, ms := range ps {
		for i, p := range ms {
			age := ageAt(p.BirthDate, asOf)
			if age >= 60 && p.DeathDate == nil {
				elders++
			}
			if !p.WeakGuardianship {
				continue
			}
			weak++
			if age < 80 || p.DeathDate != nil || len(ms) < 2 || p.LivesAlone {
				t.Fatalf("person %d aged %d in a household of %d (alone %v, dead %v) marked weak guardianship", p.Seq, age, len(ms), p.LivesAlone, p.DeathDate != nil)
			}
			for j, m := range ms {
				a := ageAt(m.BirthDate, asOf)
				if j != i && m.DeathDate == nil && a >= 16 && a < 80 && m.DisabilityGrade != 1 && m.DisabilityGrade != 2 && m.ResidenceDivision == p.ResidenceDivision {
					t.Fatalf("person %d marked weak guardianship beside a carer aged %d", p.Seq, a)
				}
			}
		}
	}
	share := float64(weak) / float64(elders)
	t.Logf("weak guardianship: %d of %d elders (%.1f%%)", weak, elders, 100*share)
	if weak == 0 || share > 0.03 {
		t.Errorf("weak guardianship: %d of %d elders (%.1f%%), want a small share above zero", weak, elders, 100*share)
	}
}
