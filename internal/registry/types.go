// Package registry is the register of people and households (人口与家庭):
// who they are, their ID numbers (encrypted at rest, found through a keyed
// hash, masked on screens), their registered address (户籍地) and residence
// (居住地) as division codes, and the facts benefits depend on. Every query
// is filtered by the caller's jurisdiction here, in the service.
package registry

import "time"

// Relation is a member's relation to the head of the household.
type Relation string

// The relations.
const (
	Head       Relation = "head"       // 户主
	Spouse     Relation = "spouse"     // 配偶
	Child      Relation = "child"      // 子女
	Parent     Relation = "parent"     // 父母
	Grandchild Relation = "grandchild" // 孙子女
	Other      Relation = "other"      // 其他
)

var relationLabels = map[Relation]string{Head: "户主", Spouse: "配偶", Child: "子女", Parent: "父母", Grandchild: "孙子女", Other: "其他"}

// Label returns the relation in Chinese.
func (r Relation) Label() string {
	if l, ok := relationLabels[r]; ok {
		return l
	}
	return string(r)
}

// ParseRelation accepts an English code or its Chinese name; "" means other.
func ParseRelation(s string) (Relation, bool) {
	if s == "" {
		return Other, true
	}
	for r, l := range relationLabels {
		if s == string(r) || s == l {
			return r, true
		}
	}
	switch s {
	case "本人":
		return Head, true
	case "子", "女", "儿子", "女儿":
		return Child, true
	case "父亲", "母亲":
		return Parent, true
	case "孙子", "孙女", "外孙子女":
		return Grandchild, true
	}
	return "", false
}

// Person is one registered person. IDNumber holds the full number only
// where the caller may see it; IDMasked is always set.
type Person struct {
	ID                 int64    `json:"id"`
	HouseholdID        int64    `json:"household_id"`
	Relation           Relation `json:"relation"`
	Name               string   `json:"name"`
	IDNumber           string   `json:"-"`
	IDMasked           string   `json:"id_number_masked"`
	BirthDate          string   `json:"birth_date"` // YYYY-MM-DD
	Sex                string   `json:"sex"`        // M or F
	HukouDivision      string   `json:"hukou_division"`
	ResidenceDivision  string   `json:"residence_division"`
	MonthlyIncome      int64    `json:"monthly_income"`
	DisabilityCategory string   `json:"disability_category"`
	DisabilityGrade    int      `json:"disability_grade"`
	DeathDate          string   `json:"death_date,omitempty"`
	LivesAlone         bool     `json:"lives_alone"`
	// WeakGuardianship marks an elder with weak guardianship (弱监护): no
	// one of working age living nearby looks after them.
	WeakGuardianship bool `json:"weak_guardianship"`
	// MonthlyMedicalExpense is the average monthly self-paid medical
	// spending (yuan) over the last three months of 医保 bills, as of the
	// last medical feed that touched the person: it is refreshed when
	// bills arrive, not as time passes.
	MonthlyMedicalExpense float64   `json:"monthly_medical_expense"`
	CreatedAt             time.Time `json:"created_at"`
	UpdatedAt             time.Time `json:"updated_at"`
}

// Alive reports whether no death is recorded.
func (p Person) Alive() bool { return p.DeathDate == "" }

// Age returns the completed years on the date on.
func (p Person) Age(on time.Time) int {
	b, err := time.Parse("2006-01-02", p.BirthDate)
	if err != nil {
		return 0
	}
	age := on.Year() - b.Year()
	if on.Month() < b.Month() || (on.Month() == b.Month() && on.Day() < b.Day()) {
		age--
	}
	return age
}

// SexLabel returns 男 or 女.
func (p Person) SexLabel() string {
	if p.Sex == "M" {
		return "男"
	}
	return "女"
}

// Household is a registered household (户).
type Household struct {
	ID                int64     `json:"id"`
	HouseholdNo       string    `json:"household_no,omitempty"` // 户号 in the source system
	HukouDivision     string    `json:"hukou_division"`
	ResidenceDivision string    `json:"residence_division"`
	Address           string    `json:"address"`
	CreatedAt         time.Time `json:"created_at"`
}

// NewPerson is what a clerk or another system submits to register a person.
type NewPerson struct {
	Name               string `json:"name"`
	IDNumber           string `json:"id_number"`
	HukouDivision      string `json:"hukou_division"`
	ResidenceDivision  string `json:"residence_division"`
	HouseholdID        int64  `json:"household_id"` // 0: a new household with this person as head
	Relation           string `json:"relation"`
	MonthlyIncome      int64  `json:"monthly_income"`
	DisabilityCategory string `json:"disability_category"`
	DisabilityGrade    int    `json:"disability_grade"`
	Address            string `json:"address"`
}

// Profile is a person with their household and the names of their divisions.
type Profile struct {
	Person
	Household     Household `json:"household"`
	Members       []Person  `json:"members"`
	HukouName     string    `json:"hukou_division_name"`
	ResidenceName string    `json:"residence_division_name"`
	Age           int       `json:"age"`
}

// SearchResult is one page of people.
type SearchResult struct {
	Total int64    `json:"total"`
	Items []Person `json:"items"`
}

// Disability categories (残疾类别).
var DisabilityCategories = map[string]string{
	"visual": "视力残疾", "hearing": "听力残疾", "speech": "言语残疾", "physical": "肢体残疾",
	"intellectual": "智力残疾", "mental": "精神残疾", "multiple": "多重残疾",
}

// MaxMonthlyIncome is the largest monthly income, in whole yuan as the
// register stores it, that create, update and import take: far above any
// real income, and small enough that sums over a household cannot
// overflow.
const MaxMonthlyIncome = 10_000_000

// msgIncome is the one message for a monthly income out of bounds, the
// same through the API, the pages and imports.
const msgIncome = "月收入应在 0 至 10000000 元之间（整数元）"
