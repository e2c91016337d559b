package gen

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"
)

// testStreets are real street codes, a few per district (see policy-facts.md).
var testStreets = []string{
	"310101002", "310101013", "310101015",
	"310104003", "310104004", "310104011",
	"310105001", "310105002",
	"310106006", "310106011", "310106020",
	"310107005", "310107014",
	"310109009", "310109010",
	"310110001", "310110006", "310110016",
	"310112001", "310112101", "310112102",
	"310113003", "310113101", "310113109",
	"310114001", "310114102",
	"310115004", "310115005", "310115103", "310115130", "310115131",
	"310116001", "310116101",
	"310117001", "310117102",
	"310118001", "310118102",
	"310120001", "310120101",
	"310151101", "310151102",
}

// testCommittees returns three committees per test street.
func testCommittees() []Division {
	var cs []Division
	for _, s := range testStreets {
		for k := 1; k <= 3; k++ {
			code := fmt.Sprintf("%s%03d", s, k)
			cs = append(cs, Division{Code: code, District: s[:6], Street: s})
		}
	}
	return cs
}

// collect generates a whole run into memory (fine for tests).
func collect(t testing.TB, cfg Config) ([]Household, [][]Person) {
	t.Helper()
	g := New(cfg)
	var hs []Household
	var ps [][]Person
	for {
		h, m, ok := g.Next()
		if !ok {
			break
		}
		hs = append(hs, h)
		ps = append(ps, append([]Person(nil), m...))
	}
	return hs, ps
}

// ageAt returns completed years at the reference date.
func ageAt(birth, ref time.Time) int {
	a := ref.Year() - birth.Year()
	if ref.Month() < birth.Month() || (ref.Month() == birth.Month() && ref.Day() < birth.Day()) {
		a--
	}
	return a
}

// stats are the calibration figures of a run.
type stats struct {
	persons, households        int
	sizes                      [7]int
	local, localAlive          int
	bands                      map[string]int // among local alive
	age60, age65, age80        int
	male, male60               int
	separated                  int // local persons whose residence street differs from hukou street
	elders, eldersAlone        int
	lowHouseholds, incomeHH    int // below the 低保 standard at AsOf
	below1595                  int
	disabled                   int
	grades                     [5]int
	deadLocal                  int
	hukouDistrict, resDistrict map[string]int
	wages, pensions            []int64
	nonLocal                   int
}

func computeStats(hs []Household, ps [][]Person, asOf time.Time) stats {
	s := stats{bands: map[string]int{}, hukouDistrict: map[string]int{}, resDistrict: map[string]int{}}
	s.households = len(hs)
	y, m, d := asOf.Date()
	line := lowIncomeLine(daysFromCivil(y, int(m), d))
	for i := range hs {
		ms := ps[i]
		s.sizes[len(ms)]++
		alive, income := 0, int64(0)
		for _, p := range ms {
			s.persons++
			a := ageAt(p.BirthDate, asOf)
			if p.DisabilityGrade > 0 {
				s.disabled++
				s.grades[p.DisabilityGrade]++
			}
			if p.DeathDate == nil {
				alive++
				income += p.MonthlyIncome
			}
			if !p.ShanghaiHukou {
				s.nonLocal++
				continue
			}
			s.local++
			if p.DeathDate != nil {
				s.deadLocal++
				continue
			}
			s.localAlive++
			s.hukouDistrict[p.HukouDivision[:6]]++
			s.resDistrict[p.ResidenceDivision[:6]]++
			if p.HukouDivision[:9] != p.ResidenceDivision[:9] {
				s.separated++
			}
			switch {
			case a < 18:
				s.bands["00-17"]++
			case a < 60:
				s.bands["18-59"]++
			case a < 65:
				s.bands["60-64"]++
			case a < 70:
				s.bands["65-69"]++
			case a < 80:
				s.bands["70-79"]++
			default:
				s.bands["80+"]++
			}
			if p.Sex == SexMale {
				s.male++
			}
			if a >= 60 {
				s.age60++
				s.elders++
				if p.LivesAlone {
					s.eldersAlone++
				}
				if p.Sex == SexMale {
					s.male60++
				}
				if p.MonthlyIncome > 0 {
					s.pensions = append(s.pensions, p.MonthlyIncome)
				}
			}
			if a >= 65 {
				s.age65++
			}
			if a >= 80 {
				s.age80++
			}
			if a >= 25 && a < 50 && p.MonthlyIncome > 0 {
				s.wages = append(s.wages, p.MonthlyIncome)
			}
		}
		if alive > 0 {
			s.incomeHH++
			if income < line*int64(alive) {
				s.lowHouseholds++
			}
			if income < 1595*int64(alive) {
				s.below1595++
			}
		}
	}
	return s
}

func pct(a, b int) float64 { return 100 * float64(a) / float64(b) }

func median(x []int64) int64 {
	y := append([]int64(nil), x...)
	sort.Slice(y, func(i, j int) bool { return y[i] < y[j] })
	if len(y) == 0 {
		return 0
	}
	return y[len(y)/2]
}

func (s stats) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "persons %d households %d avg size %.2f\n", s.persons, s.households, float64(s.persons)/float64(s.households))
	for k := 1; k <= 6; k++ {
		fmt.Fprintf(&b, "  size %d: %.1f%%\n", k, pct(s.sizes[k], s.households))
	}
	fmt.Fprintf(&b, "non-local %.1f%%\n", pct(s.nonLocal, s.persons))
	for _, k := range []string{"00-17", "18-59", "60-64", "65-69", "70-79", "80+"} {
		fmt.Fprintf(&b, "  age %s: %.1f%%\n", k, pct(s.bands[k], s.localAlive))
	}
	fmt.Fprintf(&b, "60+ %.1f%% 65+ %.1f%% 80+ %.1f%%\n", pct(s.age60, s.localAlive), pct(s.age65, s.localAlive), pct(s.age80, s.localAlive))
	fmt.Fprintf(&b, "male %.1f%% male among 60+ %.1f%%\n", pct(s.male, s.localAlive), pct(s.male60, s.age60))
	fmt.Fprintf(&b, "人户分离 %.1f%%\n", pct(s.separated, s.localAlive))
	fmt.Fprintf(&b, "elders alone %.1f%% of 60+\n", pct(s.eldersAlone, s.elders))
	fmt.Fprintf(&b, "households below the 低保 standard %.2f%%, below 1,595 %.2f%%\n", pct(s.lowHouseholds, s.incomeHH), pct(s.below1595, s.incomeHH))
	fmt.Fprintf(&b, "disabled %.2f%% grades 1-4: %.0f/%.0f/%.0f/%.0f%%\n", pct(s.disabled, s.persons),
		pct(s.grades[1], s.disabled), pct(s.grades[2], s.disabled), pct(s.grades[3], s.disabled), pct(s.grades[4], s.disabled))
	fmt.Fprintf(&b, "deaths among local %.2f%%\n", pct(s.deadLocal, s.local))
	fmt.Fprintf(&b, "median wage (25-49) %d, median pension (60+) %d\n", median(s.wages), median(s.pensions))
	var ds []string
	for d := range s.hukouDistrict {
		ds = append(ds, d)
	}
	sort.Strings(ds)
	for _, d := range ds {
		fmt.Fprintf(&b, "  %s hukou %.1f%% residence %.1f%%\n", d, pct(s.hukouDistrict[d], s.localAlive), pct(s.resDistrict[d], s.localAlive))
	}
	return b.String()
}
