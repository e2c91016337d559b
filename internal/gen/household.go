package gen

import (
	"math"
	"strconv"
)

// Household types. Their weights and the age distributions of their
// members are what calibrates the age structure, household sizes and
// elders living alone; see CALIBRATION.md.
const (
	typeElderAlone   = iota // one person 60+ (独居老人)
	typeSingle              // one adult under 60
	typeElderCouple         // two persons, head 60+ (纯老家庭)
	typeCouple              // couple under 60 without children in the household
	typeCoupleKids          // couple with one or two (possibly adult) children
	typeSingleParent        // one parent with one or two children, often an elder with a grown child
	typeThreeGenUp          // couple, children and the head's parent(s)
	typeThreeGenDown        // elder head (couple), a married child, child-in-law and grandchildren
	typeCount
)

var typeWeights = [typeCount]float64{
	typeElderAlone:   4.6,
	typeSingle:       10.0,
	typeElderCouple:  21.5,
	typeCouple:       7.0,
	typeCoupleKids:   24.0,
	typeSingleParent: 10.0,
	typeThreeGenUp:   6.0,
	typeThreeGenDown: 6.0,
}

var typeCum = newWeighted(typeWeights[:])

// Age distributions of heads by household type: {from, to, weight}.
var (
	ageElderAlone = bands(
		[3]float64{60, 64, 8}, [3]float64{65, 69, 15}, [3]float64{70, 74, 19}, [3]float64{75, 79, 19},
		[3]float64{80, 84, 17}, [3]float64{85, 89, 12.5}, [3]float64{90, 94, 5}, [3]float64{95, maxAge, 1})
	ageSingle = bands(
		[3]float64{20, 29, 25}, [3]float64{30, 39, 35}, [3]float64{40, 49, 20}, [3]float64{50, 59, 20})
	ageElderCouple = bands(
		[3]float64{60, 64, 19}, [3]float64{65, 69, 31}, [3]float64{70, 74, 23}, [3]float64{75, 79, 14},
		[3]float64{80, 84, 9}, [3]float64{85, 89, 4}, [3]float64{90, 99, 1.2})
	ageCouple = bands(
		[3]float64{22, 29, 25}, [3]float64{30, 39, 30}, [3]float64{40, 49, 15}, [3]float64{50, 59, 30})
	ageCoupleKids = bands(
		[3]float64{25, 34, 15}, [3]float64{35, 44, 25}, [3]float64{45, 54, 27}, [3]float64{55, 64, 20},
		[3]float64{65, 74, 13})
	ageSingleParent = bands(
		[3]float64{30, 39, 10}, [3]float64{40, 49, 15}, [3]float64{50, 59, 20}, [3]float64{60, 69, 20},
		[3]float64{70, 79, 20}, [3]float64{80, 94, 15})
	ageThreeGenUp   = bands([3]float64{28, 34, 30}, [3]float64{35, 44, 45}, [3]float64{45, 52, 25})
	ageThreeGenDown = bands([3]float64{55, 64, 30}, [3]float64{65, 74, 45}, [3]float64{75, 89, 25})
)

// Residence and registration (see CALIBRATION.md).
const (
	probSeparated      = 0.32 // household lives away from its registered street (人户分离)
	probSameDistrict   = 0.45 // … and within the same district
	probChildAway      = 0.20 // an adult child (22–45) lives in a flat of its own, elsewhere
	probStreetOnlyHead = 0.10 // single adults registered in a community collective hukou (社区公共户)
	probStreetOnly     = 0.01 // other households so registered
)

// draft is a member before names, dates and numbers are filled in.
type draft struct {
	rel     string
	male    bool
	age     int
	local   bool   // Shanghai hukou
	surname string // set when composing, so children can inherit it
	away    bool   // lives at another committee than the household
}

// household composes and fills in one household into g.members.
func (g *Generator) household(r *rng) Household {
	g.drafts = g.drafts[:0]
	t := typeCum.draw(r)
	g.compose(r, t)

	hc := g.placeCum.draw(r)
	p := &g.places[hc]
	hukou := p.code
	streetOnly := r.chance(probStreetOnly) || (t == typeSingle && r.chance(probStreetOnlyHead))
	if streetOnly {
		hukou = p.street
	}
	res := hc
	if streetOnly || r.chance(probSeparated) {
		res = g.elsewhere(r, hc)
	}
	rp := &g.places[res]
	hh := Household{
		Seq:               g.households,
		HukouDivision:     hukou,
		ResidenceDivision: rp.code,
		Address:           g.address(r, rp),
	}

	// Some households are poor: the tail that 低保 is for.
	hardship := r.chance(hardshipProb[t])

	g.members = g.members[:0]
	for i := range g.drafts {
		d := &g.drafts[i]
		g.members = append(g.members, Person{
			Seq:           g.persons + int64(i) + 1,
			HouseholdSeq:  hh.Seq,
			Relation:      d.rel,
			Sex:           SexFemale,
			ShanghaiHukou: d.local,
		})
		m := &g.members[len(g.members)-1]
		if d.male {
			m.Sex = SexMale
		}
		var region int
		m.ResidenceDivision = rp.code
		if d.local {
			region = p.region
			// People born before a district merger may carry its old code.
			if p.historic >= 0 && g.asOfY-d.age < p.histUntil && r.chance(p.histShare) {
				region = p.historic
			}
			m.HukouDivision = hukou
		} else {
			pr := g.provinceRegions[g.provinceCum.draw(r)]
			region = pr[r.intn(len(pr))]
		}
		if d.away {
			m.ResidenceDivision = g.places[g.elsewhere(r, hc)].code
		}
		day, seq := g.ids.assign(region, d.age, d.male)
		by, bm, bd := civilFromDays(day)
		m.IDNumber = idNumber(g.ids.codes[region], by, bm, bd, seq)
		m.BirthDate = dayTime(day)
		m.Name = g.name(r, d.surname, by, d.male)

		m.MonthlyIncome = income(r, d.age, d.male, hardship)
		if d.local {
			disability(r, m, d.age)
			if m.DisabilityGrade == 1 || m.DisabilityGrade == 2 {
				// Most severely disabled adults of working age have no work (重残无业).
				if d.age < 60 && r.chance(0.7) {
					m.MonthlyIncome = 0
				}
			}
		}
		if r.chance(deathProb(d.age)) {
			t := dayTime(max(day, g.asOfDay-r.intn(365)))
			m.DeathDate = &t
		}
		m.LivesAlone = len(g.drafts) == 1 && d.age >= 60
	}
	if !hardship {
		g.liftIncome(r)
	}
	g.markWeakGuardianship()
	return hh
}

// weakGuardianshipAge is the age from which an elder without a carer at
// hand counts as under weak guardianship (弱监护); a carer is a living
// member aged 16 to carerMaxAge-1 without a grade 1–2 disability.
const (
	weakGuardianshipAge = 80
	carerMaxAge         = 80
)

// weakGuardianshipOneIn: of the elders without a carer at hand, one in
// this many is marked. Most very old couples manage, or have a child nearby
// whom the register does not show; advisers mark the others on visits. The
// share is an estimate (about 1.5% of elders; no published figure).
const weakGuardianshipOneIn = 4

// markWeakGuardianship marks some of the living elders of 80 or over in a
// household of several where no carer lives at the elder's residence: a
// very old couple, an elder whose spouse died or whose only child lives
// elsewhere or is severely disabled. Which ones follows from the person's
// sequence number, not from a draw.
func (g *Generator) markWeakGuardianship() {
	if len(g.members) < 2 {
		return
	}
	for i := range g.members {
		e := &g.members[i]
		if e.DeathDate != nil || g.drafts[i].age < weakGuardianshipAge || e.Seq%weakGuardianshipOneIn != 0 {
			continue
		}
		carer := false
		for j := range g.members {
			m, d := &g.members[j], &g.drafts[j]
			if j == i || m.DeathDate != nil || d.age < 16 || d.age >= carerMaxAge || m.DisabilityGrade == 1 || m.DisabilityGrade == 2 {
				continue
			}
			if m.ResidenceDivision == e.ResidenceDivision {
				carer = true
				break
			}
		}
		e.WeakGuardianship = !carer
	}
}

// elsewhere returns a committee in another street than committee hc:
// in the same district with probability probSameDistrict, else anywhere by
// district population. With one street only, it returns hc.
func (g *Generator) elsewhere(r *rng, hc int) int {
	p := &g.places[hc]
	if r.chance(probSameDistrict) && p.hi-p.lo > 1 {
		for range 8 {
			c := p.lo + r.intn(p.hi-p.lo)
			if g.places[c].street != p.street {
				return c
			}
		}
	}
	for range 16 {
		c := g.placeCum.draw(r)
		if g.places[c].street != p.street {
			return c
		}
	}
	return hc
}

// compose fills g.drafts with the members of a household of type t.
func (g *Generator) compose(r *rng, t int) {
	switch t {
	case typeElderAlone:
		g.add(r, RelationHead, !r.chance(0.70), ageElderAlone.draw(r), true)
	case typeSingle:
		g.add(r, RelationHead, r.chance(0.55), ageSingle.draw(r), true)
	case typeElderCouple:
		g.couple(r, ageElderCouple.draw(r))
	case typeCouple:
		g.couple(r, ageCouple.draw(r))
	case typeCoupleKids:
		g.couple(r, ageCoupleKids.draw(r))
		g.children(r, 0, 1, RelationChild, 1+b2i(r.chance(0.2)))
	case typeSingleParent:
		age := ageSingleParent.draw(r)
		g.add(r, RelationHead, !r.chance(0.65+0.1*float64(b2i(age >= 60))), age, true)
		g.children(r, 0, -1, RelationChild, 1+b2i(r.chance(0.15)))
	case typeThreeGenUp:
		if r.chance(0.9) {
			g.couple(r, ageThreeGenUp.draw(r))
			g.children(r, 0, 1, RelationChild, 1+b2i(r.chance(0.15)))
		} else {
			g.add(r, RelationHead, r.chance(0.3), ageThreeGenUp.draw(r), true)
			g.children(r, 0, -1, RelationChild, 1)
		}
		g.parents(r, 1+b2i(r.chance(0.45)))
	case typeThreeGenDown:
		if r.chance(0.6) {
			g.couple(r, ageThreeGenDown.draw(r))
			g.children(r, 0, 1, RelationChild, 1)
		} else {
			g.add(r, RelationHead, !r.chance(0.7), ageThreeGenDown.draw(r), true)
			g.children(r, 0, -1, RelationChild, 1)
		}
		g.grandchildren(r)
	}
	// Grown children often live in a flat of their own but keep their hukou here.
	for i := range g.drafts {
		d := &g.drafts[i]
		if d.rel == RelationChild && d.age >= 22 && d.age <= 45 && r.chance(probChildAway) {
			d.away = true
		}
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// add appends a member with a freshly drawn surname and returns its index.
func (g *Generator) add(r *rng, rel string, male bool, age int, local bool) int {
	if age > maxAge {
		age = maxAge
	}
	s := g.surnamesOther
	if local {
		s = g.surnamesLocal
	}
	g.drafts = append(g.drafts, draft{rel: rel, male: male, age: age, local: local, surname: surnameTable[s.draw(r)].name})
	return len(g.drafts) - 1
}

// spouseAge returns the age of the spouse of a person of the given age and
// sex: husbands are on average 2.5 years older than wives.
func spouseAge(r *rng, age int, male bool) int {
	diff := int(math.Round(2.5 + 3*r.normal()))
	diff = max(-6, min(14, diff))
	if male {
		age -= diff
	} else {
		age += diff
	}
	return max(20, min(maxAge, age))
}

// couple adds a head of the given age and a spouse of the other sex. The
// head is the husband in three of four couples where both hold Shanghai
// hukou; otherwise the head is the one who does.
func (g *Generator) couple(r *rng, age int) {
	nonLocal := r.chance(nonLocalSpouse(g.asOfY - age))
	male := r.chance(0.75)
	if nonLocal {
		male = r.chance(0.5)
	}
	g.add(r, RelationHead, male, age, true)
	g.add(r, RelationSpouse, !male, spouseAge(r, age, male), !nonLocal)
}

// nonLocalSpouse is the probability that a spouse born in the given year
// holds another province's hukou (estimate, see CALIBRATION.md).
func nonLocalSpouse(birthYear int) float64 {
	switch {
	case birthYear >= 1975:
		return 0.62
	case birthYear >= 1960:
		return 0.25
	}
	return 0.03
}

// childGap draws a parent's age at a child's birth: mostly 24–34, 20–42.
func childGap(r *rng) int {
	return max(20, min(42, int(math.Round(28+4.5*r.normal()))))
}

// children adds n children of parents a and b (b = -1 for a single
// parent), younger than both by at least 20 years.
func (g *Generator) children(r *rng, a, b int, rel string, n int) {
	young := g.drafts[a].age
	father, mother := a, b
	if b >= 0 {
		young = min(young, g.drafts[b].age)
		if !g.drafts[a].male {
			father, mother = b, a
		}
	} else if !g.drafts[a].male {
		father, mother = -1, a
	}
	if young < 20 {
		return
	}
	age := young - childGap(r)
	if age < 0 {
		age = r.intn(young - 19)
	}
	absentFather := "" // surname of the father of a single mother's children
	if father < 0 && r.chance(0.85) {
		absentFather = surnameTable[g.surnamesLocal.draw(r)].name
	}
	for k := range n {
		if k > 0 {
			age -= r.between(1, 8)
			if age < 0 {
				return
			}
		}
		surname := ""
		switch {
		case father >= 0 && (mother < 0 || r.chance(0.92)):
			surname = g.drafts[father].surname
		case absentFather != "":
			surname = absentFather
		default:
			surname = g.drafts[mother].surname
		}
		g.drafts = append(g.drafts, draft{rel: rel, male: r.chance(0.515), age: age, local: true, surname: surname})
	}
}

// parents adds one or two parents of the head (father carries the head's
// surname), at least 20 years older than the head.
func (g *Generator) parents(r *rng, n int) {
	head := g.drafts[0]
	age := head.age + childGap(r) // the younger parent, at the head's birth
	if n == 1 {
		male := r.chance(0.3)
		i := g.add(r, RelationParent, male, age, true)
		if male {
			g.drafts[i].surname = head.surname
		}
		return
	}
	motherAge := age
	fatherAge := spouseAge(r, motherAge, false)
	if fatherAge < motherAge {
		fatherAge = motherAge
	}
	i := g.add(r, RelationParent, true, fatherAge, true)
	g.drafts[i].surname = head.surname
	g.add(r, RelationParent, false, motherAge, true)
}

// grandchildren gives the married child (last added) a spouse (other) and
// one or two children.
func (g *Generator) grandchildren(r *rng) {
	c := len(g.drafts) - 1
	if g.drafts[c].age < 22 {
		g.drafts[c].age = 22 + r.intn(5)
	}
	// Sons more often stay with their parents than daughters.
	g.drafts[c].male = r.chance(0.6)
	if g.drafts[c].male && g.drafts[0].male {
		g.drafts[c].surname = g.drafts[0].surname
	}
	sa := spouseAge(r, g.drafts[c].age, g.drafts[c].male)
	in := g.add(r, RelationOther, !g.drafts[c].male, sa, !r.chance(nonLocalSpouse(g.asOfY-sa)))
	if r.chance(0.2) {
		return // no children yet
	}
	g.children(r, c, in, RelationGrandchild, 1+b2i(r.chance(0.2)))
}

// name draws a given name for a person born in year and joins it to the
// surname.
func (g *Generator) name(r *rng, surname string, year int, male bool) string {
	e := eraOf(year)
	list := givenRunes[e][b2i(male)]
	first := list[r.intn(len(list))]
	if r.chance(singleNameShare[e]) {
		return surname + first
	}
	second := list[r.intn(len(list))]
	if second == first && (male || r.chance(0.5)) {
		second = list[r.intn(len(list))]
	}
	return surname + first + second
}

// address invents a street address at the residence committee.
func (g *Generator) address(r *rng, p *place) string {
	b := g.addr[:0]
	b = append(b, p.distName...)
	// Two or three roads per street, so neighbours share road names.
	b = append(b, p.roads[int((hashString(p.street)+uint64(r.intn(3)))%uint64(len(p.roads)))]...)
	b = strconv.AppendInt(b, int64(r.between(1, 1800)), 10)
	b = append(b, "弄"...)
	b = strconv.AppendInt(b, int64(r.between(1, 40)), 10)
	b = append(b, "号"...)
	b = strconv.AppendInt(b, int64(r.between(1, 18)*100+r.between(1, 6)), 10)
	b = append(b, "室"...)
	g.addr = b
	return string(b)
}

// hashString is FNV-1a.
func hashString(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// Incomes (yuan per month; see CALIBRATION.md).
const (
	minimumWage   = 2690 // 上海月最低工资 from 2023-07-01
	wageMedian    = 7500
	wageSigma     = 0.55
	pensionMedian = 4800 // 城镇职工基本养老金
	pensionSigma  = 0.42
)

// hardshipProb is the probability, by household type, that a household is
// poor: adults without regular work, elders with little or no pension.
var hardshipProb = [typeCount]float64{
	typeElderAlone:   0.016,
	typeSingle:       0.022,
	typeElderCouple:  0.007,
	typeCouple:       0.007,
	typeCoupleKids:   0.007,
	typeSingleParent: 0.027,
	typeThreeGenUp:   0.007,
	typeThreeGenDown: 0.007,
}

// liftIncome makes sure a household not drawn as poor is not poor by
// accident (say, one low wage for three): if the living members' income per
// head is below the 低保 standard, the main earner's income is raised so
// that it lands between 1 and 2 times the standard, the band of the
// 低保边缘 households.
func (g *Generator) liftIncome(r *rng) {
	alive, total, best := 0, int64(0), -1
	for i := range g.members {
		m := &g.members[i]
		if m.DeathDate != nil {
			continue
		}
		alive++
		total += m.MonthlyIncome
		if g.drafts[i].age >= 18 && (best < 0 || m.MonthlyIncome > g.members[best].MonthlyIncome) {
			best = i
		}
	}
	line := g.lowIncomeLine
	if alive == 0 || best < 0 || total >= line*int64(alive) {
		return
	}
	target := int64(float64(line*int64(alive)) * (1 + r.float()))
	g.members[best].MonthlyIncome += target - total
}

// lowIncomeLine returns the 低保 standard (yuan per person per month) in
// force on day, which shapes the low-income tail. It is only a calibration
// aid: the rules engine keeps the authoritative parameter history.
func lowIncomeLine(day int) int64 {
	switch {
	case day >= daysFromCivil(2025, 7, 1):
		return 1650
	case day >= daysFromCivil(2024, 7, 1):
		return 1595
	}
	return 1510
}

// income draws a person's monthly income from age and sex.
func income(r *rng, age int, male, hardship bool) int64 {
	retired := age >= 60 || (!male && age >= 55) || (!male && age >= 50 && r.chance(0.55))
	switch {
	case age < 18:
		return 0
	case retired:
		if hardship {
			if r.chance(0.5) {
				return 0
			}
			return int64(r.between(300, 1400))
		}
		u := r.float()
		switch {
		case u < 0.823: // 城镇职工基本养老金
			return int64(max(1800, r.logNormal(pensionMedian, pensionSigma)))
		case u < 0.914: // 城乡居民基本养老金
			return int64(r.logNormal(1950, 0.18))
		case u < 0.934: // 征地养老
			return int64(r.between(2100, 2900))
		}
		return 0
	case age < 22 && !hardship:
		if r.chance(0.8) {
			return 0 // student
		}
		return int64(max(minimumWage, r.logNormal(4500, 0.3)))
	default:
		if hardship {
			if r.chance(0.65) {
				return 0
			}
			return int64(r.between(300, 1500))
		}
		employed := 0.95
		if !male {
			employed = 0.92
		}
		if age >= 50 {
			employed -= 0.08
		}
		if !r.chance(employed) {
			return 0
		}
		return int64(max(minimumWage, r.logNormal(wageMedian, wageSigma)))
	}
}

// Disability (see CALIBRATION.md).
var (
	disabilityCategories = [...]string{
		DisabilityVisual, DisabilityHearing, DisabilitySpeech, DisabilityPhysical,
		DisabilityIntellectual, DisabilityMental, DisabilityMultiple,
	}
	disabilityAdult = newWeighted([]float64{17, 13, 1, 38, 9, 17, 5})
	disabilityChild = newWeighted([]float64{5, 12, 6, 20, 40, 7, 10})
	disabilityGrade = newWeighted([]float64{14, 23, 25, 38})
)

// disabilityScale scales the age profile to the calibrated overall share.
const disabilityScale = 1.07

// disabilityProb is the share of persons of an age holding a disability
// certificate (before disabilityScale).
func disabilityProb(age int) float64 {
	switch {
	case age < 18:
		return 0.006
	case age < 45:
		return 0.012
	case age < 60:
		return 0.022
	case age < 75:
		return 0.035
	}
	return 0.07
}

func disability(r *rng, m *Person, age int) {
	if !r.chance(disabilityScale * disabilityProb(age)) {
		return
	}
	cats := disabilityAdult
	if age < 18 {
		cats = disabilityChild
	}
	m.DisabilityCategory = disabilityCategories[cats.draw(r)]
	m.DisabilityGrade = 1 + disabilityGrade.draw(r)
}

// Mortality: a Gompertz curve, the probability of dying within a year at a
// given age, scaled to the registered population's crude death rate.
const (
	deathBase     = 0.0003
	deathGompertz = 1.35e-5
	deathSlope    = 0.1
)

var deathTable = func() (t [maxAge + 1]float64) {
	for age := range t {
		t[age] = min(0.6, deathBase+deathGompertz*math.Exp(deathSlope*float64(age)))
	}
	return t
}()

func deathProb(age int) float64 { return deathTable[min(age, maxAge)] }
