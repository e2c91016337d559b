package gen

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Relations of a member to the head of the household (与户主关系).
const (
	RelationHead       = "head"       // 户主
	RelationSpouse     = "spouse"     // 配偶
	RelationChild      = "child"      // 子女
	RelationParent     = "parent"     // 父母
	RelationGrandchild = "grandchild" // 孙子女、外孙子女
	RelationOther      = "other"      // 其他, here a child's spouse (儿媳、女婿)
)

// Sexes, as in position 17 of the ID number (odd = male).
const (
	SexMale   = "M"
	SexFemale = "F"
)

// Disability categories of the 残疾人证 (GB/T 26341-2010).
const (
	DisabilityVisual       = "visual"       // 视力残疾
	DisabilityHearing      = "hearing"      // 听力残疾
	DisabilitySpeech       = "speech"       // 言语残疾
	DisabilityPhysical     = "physical"     // 肢体残疾
	DisabilityIntellectual = "intellectual" // 智力残疾
	DisabilityMental       = "mental"       // 精神残疾
	DisabilityMultiple     = "multiple"     // 多重残疾
)

// DefaultAsOf is the reference date used when Config.AsOf is zero.
var DefaultAsOf = time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC)

// Division is a residents' or village committee (居委会/村委会) people can
// be registered at and live in.
type Division struct {
	Code     string // 12-digit committee code, e.g. 310115004002
	District string // 6-digit district code, e.g. 310115; derived from Code when empty
	Street   string // 9-digit street or town code, e.g. 310115004; derived from Code when empty
}

// Config says what population to generate. The same Config always yields
// the same households and persons.
type Config struct {
	// Persons is the target number of persons. Generation stops after the
	// household that reaches it, so a run yields between Persons and
	// Persons+5 persons. Zero or less yields nothing.
	Persons int64
	// Seed selects the population; different seeds give different ones.
	Seed int64
	// AsOf is the reference date for ages, deaths and incomes; its calendar
	// date (in its own location) is used. Zero means DefaultAsOf.
	AsOf time.Time
	// Committees are the places people are registered at and live in. At
	// least one is required. Districts share people in proportion to their
	// resident population (see CALIBRATION.md), whatever the number of
	// committees given for each; committees of one district share equally.
	Committees []Division
}

// Validate reports whether the Config can be used by New.
func (c Config) Validate() error {
	if len(c.Committees) == 0 {
		return fmt.Errorf("gen: config has no committees")
	}
	for i, d := range c.Committees {
		if len(d.Code) != 12 || !allDigits(d.Code) {
			return fmt.Errorf("gen: committee %d: code %q is not 12 digits", i, d.Code)
		}
		if d.District != "" && d.District != d.Code[:6] {
			return fmt.Errorf("gen: committee %s: district %q does not match the code", d.Code, d.District)
		}
		if d.Street != "" && d.Street != d.Code[:9] {
			return fmt.Errorf("gen: committee %s: street %q does not match the code", d.Code, d.Street)
		}
	}
	if !c.AsOf.IsZero() && (c.AsOf.Year() < 1990 || c.AsOf.Year() > 2200) {
		return fmt.Errorf("gen: as-of date %s is out of range", c.AsOf.Format(time.DateOnly))
	}
	return nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Household is one registered household (户).
type Household struct {
	Seq               int64  // 1-based, dense
	HukouDivision     string // 户籍地 of the head: committee code, or a 9-digit street code for a community collective hukou (社区公共户)
	ResidenceDivision string // where the household actually lives (居住地), a committee code
	Address           string // a plausible but invented street address at the residence
}

// Person is one member of a household.
type Person struct {
	Seq          int64  // 1-based, dense over the whole run
	HouseholdSeq int64  // the household's Seq
	Relation     string // one of the Relation constants
	Name         string // surname and one- or two-character given name
	IDNumber     string // 18-character ID number (居民身份证号码), unique in a run
	Sex          string // SexMale or SexFemale
	BirthDate    time.Time
	// HukouDivision is the 户籍地: the household's committee code (or its
	// street code); "" when ShanghaiHukou is false.
	HukouDivision string
	// ResidenceDivision is the 居住地, a committee code. It differs from
	// HukouDivision for people living away from their registered address
	// (人户分离).
	ResidenceDivision string
	// ShanghaiHukou is false for members registered in another province
	// (a spouse or child-in-law from 安徽, 江苏, …); their ID number carries
	// that province's region code.
	ShanghaiHukou bool
	// MonthlyIncome is wages or pension in yuan per month; 0 for children
	// and for adults without income.
	MonthlyIncome int64
	// DisabilityCategory is "" or one of the Disability constants; only
	// Shanghai-hukou persons hold a (Shanghai) disability certificate.
	DisabilityCategory string
	// DisabilityGrade is 0 for none, else 1..4 (1 most severe).
	DisabilityGrade int
	// DeathDate is set for persons who died in the year before AsOf.
	DeathDate *time.Time
	// LivesAlone reports an elder (60 or over at AsOf) who is the only
	// member of the household (独居老人).
	LivesAlone bool
	// WeakGuardianship marks an elder of 80 or over with weak guardianship
	// (弱监护): living with others, none of whom can look after them (aged
	// 16–79, without a grade 1–2 disability, at the same residence) — a
	// very old couple, an elder whose spouse died or whose only child lives
	// elsewhere — one in four of them (see markWeakGuardianship). Elders
	// living alone are LivesAlone instead. It is derived from the household
	// as drawn, without a draw of its own, so the rest of the city stays as
	// the seed made it.
	WeakGuardianship bool
}

// Generator yields households one at a time. It is not safe for concurrent
// use. Its memory is bounded: besides the current household it keeps only
// the ID-number counters (under a kilobyte per region code, see
// idRegistry), whatever the number of persons.
type Generator struct {
	cfg                 Config
	asOfDay             int
	lowIncomeLine       int64 // 低保 standard in force at AsOf
	asOfY, asOfM, asOfD int

	households int64 // households yielded so far
	persons    int64 // persons yielded so far

	places   []place
	placeCum weighted // committee draw, by district resident population
	ids      *idRegistry

	provinceCum     weighted
	provinceRegions [][]int // region indices per province

	surnamesLocal, surnamesOther weighted

	drafts  []draft
	members []Person
	addr    []byte
}

// place is a committee with what the generator needs to know about it.
type place struct {
	code, street string
	region       int // ID region index of the district
	historic     int // ID region index of a historic code, or -1
	histUntil    int
	histShare    float64
	distName     string
	roads        []string
	lo, hi       int // committee index range of the district in places
}

// New returns a Generator for cfg. It panics if cfg is not valid; call
// cfg.Validate first when the Config comes from outside the program.
func New(cfg Config) *Generator {
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	if cfg.AsOf.IsZero() {
		cfg.AsOf = DefaultAsOf
	}
	y, m, d := cfg.AsOf.Date()
	g := &Generator{
		cfg:     cfg,
		asOfDay: daysFromCivil(y, int(m), d),
		asOfY:   y,
		asOfM:   int(m),
		asOfD:   d,
	}
	g.ids = newIDRegistry(y, int(m), d)
	g.lowIncomeLine = lowIncomeLine(g.asOfDay)

	// Committees sorted by code, so each district is one contiguous range.
	cs := make([]Division, len(cfg.Committees))
	copy(cs, cfg.Committees)
	sort.Slice(cs, func(i, j int) bool { return cs[i].Code < cs[j].Code })
	known := map[string]districtInfo{}
	totalPop, nKnown := 0.0, 0
	for _, di := range districts {
		known[di.code] = di
	}
	perDistrict := map[string]int{}
	for _, c := range cs {
		perDistrict[c.Code[:6]]++
	}
	for code := range perDistrict {
		if di, ok := known[code]; ok {
			totalPop += di.pop
			nKnown++
		}
	}
	avgPop := 100.0
	if nKnown > 0 {
		avgPop = totalPop / float64(nKnown)
	}
	weights := make([]float64, 0, len(cs))
	for i := 0; i < len(cs); {
		dist := cs[i].Code[:6]
		j := i
		for j < len(cs) && cs[j].Code[:6] == dist {
			j++
		}
		di, ok := known[dist]
		if !ok {
			di = districtInfo{code: dist, name: "", pop: avgPop, roads: "人民路 中山路 解放路 建设路 新华路 和平路"}
		}
		roads := strings.Fields(di.roads)
		region := g.ids.region(dist)
		hist, until, share := -1, 0, 0.0
		for _, h := range historicRegions {
			if h.district == dist {
				hist, until, share = g.ids.region(h.code), h.until, h.share
			}
		}
		for k := i; k < j; k++ {
			g.places = append(g.places, place{
				code: cs[k].Code, street: cs[k].Code[:9],
				region: region, historic: hist, histUntil: until, histShare: share,
				distName: di.name, roads: roads, lo: i, hi: j,
			})
			weights = append(weights, di.pop/float64(j-i))
		}
		i = j
	}
	g.placeCum = newWeighted(weights)

	pw := make([]float64, len(provinces))
	for i, p := range provinces {
		pw[i] = p.weight
		var idx []int
		for _, code := range p.regions {
			idx = append(idx, g.ids.region(code))
		}
		g.provinceRegions = append(g.provinceRegions, idx)
	}
	g.provinceCum = newWeighted(pw)

	local := make([]float64, len(surnameTable))
	other := make([]float64, len(surnameTable))
	for i, s := range surnameTable {
		other[i] = s.national
		local[i] = s.national * s.shanghai
	}
	g.surnamesLocal = newWeighted(local)
	g.surnamesOther = newWeighted(other)

	g.drafts = make([]draft, 0, 8)
	g.members = make([]Person, 0, 8)
	return g
}

// Next returns the next household and its members, or ok == false once
// Config.Persons persons have been yielded. The members slice is reused by
// the following call: copy what must outlive it (the Person values
// themselves may be copied freely).
func (g *Generator) Next() (hh Household, members []Person, ok bool) {
	if g.persons >= g.cfg.Persons {
		return Household{}, nil, false
	}
	g.households++
	r := householdRNG(g.cfg.Seed, g.households)
	hh = g.household(&r)
	g.persons += int64(len(g.members))
	return hh, g.members, true
}

// Households reports how many households Next has yielded.
func (g *Generator) Households() int64 { return g.households }

// Persons reports how many persons Next has yielded.
func (g *Generator) Persons() int64 { return g.persons }
