package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"minzheng/internal/errs"
)

// Case is one household as the eval command and the API take it: the
// subject (the person the question is about) and the members with their
// facts. Field names are part of the API.
type Case struct {
	Subject string   `json:"subject"`
	Members []Member `json:"members"`
	Assets  Assets   `json:"assets"`
}

// Member is one household member's facts.
type Member struct {
	ID                 string  `json:"id"`
	BirthDate          string  `json:"birth_date"` // YYYY-MM-DD
	Sex                string  `json:"sex"`        // M or F
	HukouDivision      string  `json:"hukou_division"`
	ResidenceDivision  string  `json:"residence_division"`
	MonthlyIncome      float64 `json:"monthly_income"`
	DisabilityCategory string  `json:"disability_category"`
	DisabilityGrade    int     `json:"disability_grade"` // 0 none, 1 (most severe) … 4
	// Alive: false for a member known to be dead; default true. A death
	// date, if given, decides from that date on.
	Alive     *bool  `json:"alive,omitempty"`
	DeathDate string `json:"death_date,omitempty"`
	Relation  string `json:"relation"` // head, spouse, child, parent, grandchild, other
	// LivesWithFamily: lives with the household in Shanghai (在本市共同生活); default true.
	LivesWithFamily *bool `json:"lives_with_family,omitempty"`
	// CanWork: has the ability to work; default: aged 16–59 and no grade 1–2 disability.
	CanWork *bool `json:"can_work,omitempty"`
	// HasSupporter: has a legal supporter able to support them (赡养、抚养、扶养).
	HasSupporter bool `json:"has_supporter"`
	// Necessary monthly spending (刚性支出): medical and education.
	MonthlyMedicalExpense   float64 `json:"monthly_medical_expense"`
	MonthlyEducationExpense float64 `json:"monthly_education_expense"`
}

// Assets are the household's property.
type Assets struct {
	Deposits   float64 `json:"deposits"`   // bank deposits and cash, yuan
	Securities float64 `json:"securities"` // stocks, funds, bonds at market value
	Vehicles   int     `json:"vehicles"`
	Properties int     `json:"properties"` // dwellings owned beyond the one lived in
}

// PersonFacts are the subject's facts as expressions see them (person.*).
type PersonFacts struct {
	Age                int     `expr:"age"`
	ShanghaiHukou      bool    `expr:"shanghai_hukou"`
	Alive              bool    `expr:"alive"`
	Sex                string  `expr:"sex"`
	MonthlyIncome      float64 `expr:"monthly_income"`
	DisabilityCategory string  `expr:"disability_category"`
	DisabilityGrade    int     `expr:"disability_grade"`
	// IntellectualOrMental: the disability category is 智力 or 精神
	// (intellectual, mental), from DisabilityCategory; the batch path
	// reads only numbers and booleans, not the category string.
	IntellectualOrMental bool   `expr:"intellectual_or_mental"`
	CanWork              bool   `expr:"can_work"`
	HasSupporter         bool   `expr:"has_supporter"`
	Relation             string `expr:"relation"`
}

// HouseholdFacts are the household's facts as expressions see them
// (household.*). Members counts those living together in Shanghai as
// 《上海市社会救助条例》Art. 55 defines them: living Shanghai-registered
// members who live with the family, and the non-Shanghai spouse and
// children who live with them.
type HouseholdFacts struct {
	Members                  int     `expr:"members"`
	ShanghaiMembers          int     `expr:"shanghai_members"`
	TotalIncome              float64 `expr:"total_income"`
	PerCapitaIncome          float64 `expr:"per_capita_income"`
	NecessaryExpense         float64 `expr:"necessary_expense"`
	PerCapitaAfterExpense    float64 `expr:"per_capita_after_expense"`
	MedicalExpense           float64 `expr:"medical_expense"`
	Deposits                 float64 `expr:"deposits"`
	DepositsPerCapita        float64 `expr:"deposits_per_capita"`
	FinancialAssetsPerCapita float64 `expr:"financial_assets_per_capita"`
	Vehicles                 int     `expr:"vehicles"`
	Properties               int     `expr:"properties"`
}

// Facts are what a case means on a date.
type Facts struct {
	Person    PersonFacts
	Household HouseholdFacts
}

// IsShanghai reports whether a division code is in Shanghai.
func IsShanghai(code string) bool { return strings.HasPrefix(code, "31") }

// Age returns completed years on a date. A 29 February birthday counts on
// 28 February in common years (the month-end rule of 民法典 Art. 202).
func Age(birth, on time.Time) int {
	age := on.Year() - birth.Year()
	month, day := birth.Month(), birth.Day()
	if month == time.February && day == 29 && !isLeap(on.Year()) {
		day = 28
	}
	if on.Month() < month || (on.Month() == month && on.Day() < day) {
		age--
	}
	return age
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

// Upper bounds for money in a case: larger values are typing errors, and
// they would lose precision in the arithmetic.
const (
	maxMonthly = 1e8  // yuan per month
	maxAssets  = 1e11 // yuan
)

// Validate checks a case and says, in Chinese, which member field is wrong.
func (c *Case) Validate() error {
	var fe errs.Fields
	if len(c.Members) == 0 {
		fe.Add("members", "家庭成员不能为空")
	}
	seen := map[string]bool{}
	found := false
	for i, m := range c.Members {
		f := fmt.Sprintf("members[%d]", i)
		if m.ID == "" {
			fe.Add(f+".id", "第 %d 位成员缺少 id", i+1)
		} else if seen[m.ID] {
			fe.Add(f+".id", "成员 id “%s” 重复", m.ID)
		}
		seen[m.ID] = true
		if m.ID == c.Subject {
			found = true
		}
		if _, err := time.Parse(time.DateOnly, m.BirthDate); err != nil {
			fe.Add(f+".birth_date", "成员 %s 的出生日期“%s”应为 YYYY-MM-DD", m.ID, m.BirthDate)
		}
		if m.DeathDate != "" {
			if _, err := time.Parse(time.DateOnly, m.DeathDate); err != nil {
				fe.Add(f+".death_date", "成员 %s 的死亡日期“%s”应为 YYYY-MM-DD", m.ID, m.DeathDate)
			}
		}
		if m.Sex != "M" && m.Sex != "F" {
			fe.Add(f+".sex", "成员 %s 的性别应为 M 或 F", m.ID)
		}
		if m.MonthlyIncome < 0 || m.MonthlyMedicalExpense < 0 || m.MonthlyEducationExpense < 0 {
			fe.Add(f+".monthly_income", "成员 %s 的收入和支出不能为负数", m.ID)
		}
		if m.MonthlyIncome > maxMonthly || m.MonthlyMedicalExpense > maxMonthly || m.MonthlyEducationExpense > maxMonthly {
			fe.Add(f+".monthly_income", "成员 %s 的月收入或支出超过 1 亿元，请核对", m.ID)
		}
		if m.DisabilityGrade < 0 || m.DisabilityGrade > 4 {
			fe.Add(f+".disability_grade", "成员 %s 的残疾等级应为 0–4", m.ID)
		}
	}
	if !found {
		fe.Add("subject", "subject “%s” 不是家庭成员之一", c.Subject)
	}
	if c.Assets.Deposits < 0 || c.Assets.Securities < 0 || c.Assets.Vehicles < 0 || c.Assets.Properties < 0 {
		fe.Add("assets", "财产不能为负数")
	}
	if c.Assets.Deposits > maxAssets || c.Assets.Securities > maxAssets {
		fe.Add("assets", "存款或有价证券超过 1000 亿元，请核对")
	}
	return fe.Err()
}

// livingOn reports whether m is alive on the date: born by then and, when
// a death date is known, not dead by then; without one, the alive flag.
func (m Member) livingOn(on time.Time) bool {
	if b, ok := parseDate(m.BirthDate); ok && b.After(on) {
		return false
	}
	if d, ok := parseDate(m.DeathDate); ok {
		return on.Before(d)
	}
	return m.Alive == nil || *m.Alive
}

// parseDate reads YYYY-MM-DD as a UTC date, as time.Parse with
// time.DateOnly does, several times faster: batch jobs parse every
// person's dates.
func parseDate(s string) (time.Time, bool) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return time.Time{}, false
	}
	num := func(b string) (int, bool) {
		n := 0
		for i := 0; i < len(b); i++ {
			c := b[i]
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	y, ok1 := num(s[:4])
	m, ok2 := num(s[5:7])
	d, ok3 := num(s[8:])
	if !ok1 || !ok2 || !ok3 || m < 1 || m > 12 || d < 1 || d > daysIn(m, y) {
		return time.Time{}, false
	}
	return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC), true
}

func daysIn(m, y int) int {
	switch m {
	case 2:
		if isLeap(y) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// Derive computes the facts of a validated case as of a date, for its
// subject.
func (c *Case) Derive(on time.Time) Facts {
	all := c.DeriveAll(on)
	for i, m := range c.Members {
		if m.ID == c.Subject {
			return all[i]
		}
	}
	return Facts{}
}

// DeriveAll computes the facts of every member as subject, in member
// order: the household facts once, each member's own facts once (batch
// jobs derive whole households this way).
func (c *Case) DeriveAll(on time.Time) []Facts {
	n := len(c.Members)
	living := make([]bool, n)
	together := make([]bool, n)
	// Relations are recorded relative to the head. Art. 55 counts the
	// Shanghai-registered members living together, and the non-Shanghai
	// spouse and children of such a member.
	var localHead, localSpouse, localChild bool
	for i, m := range c.Members {
		living[i] = m.livingOn(on)
		together[i] = living[i] && (m.LivesWithFamily == nil || *m.LivesWithFamily)
		if together[i] && IsShanghai(m.HukouDivision) {
			switch m.Relation {
			case "head":
				localHead = true
			case "spouse":
				localSpouse = true
			case "child":
				localChild = true
			}
		}
	}
	var h HouseholdFacts
	for i, m := range c.Members {
		if !together[i] {
			continue
		}
		local := IsShanghai(m.HukouDivision)
		counted := local
		if !counted {
			switch m.Relation {
			case "head": // spouse of a Shanghai spouse
				counted = localSpouse
			case "spouse":
				counted = localHead
			case "child":
				counted = localHead || localSpouse
			case "grandchild":
				counted = localChild
			}
		}
		if !counted {
			continue
		}
		h.Members++
		if local {
			h.ShanghaiMembers++
		}
		h.TotalIncome += m.MonthlyIncome
		h.MedicalExpense += m.MonthlyMedicalExpense
		h.NecessaryExpense += m.MonthlyMedicalExpense + m.MonthlyEducationExpense
	}
	h.Deposits = c.Assets.Deposits
	h.Vehicles, h.Properties = c.Assets.Vehicles, c.Assets.Properties
	if h.Members > 0 {
		// Not rounded: 4,784.99 yuan for three is below 1,595 a head.
		// Explanations round when they print.
		k := float64(h.Members)
		h.PerCapitaIncome = h.TotalIncome / k
		h.PerCapitaAfterExpense = (h.TotalIncome - h.NecessaryExpense) / k
		h.DepositsPerCapita = c.Assets.Deposits / k
		h.FinancialAssetsPerCapita = (c.Assets.Deposits + c.Assets.Securities) / k
	}
	out := make([]Facts, n)
	for i, m := range c.Members {
		out[i].Household = h
		birth, _ := parseDate(m.BirthDate)
		p := &out[i].Person
		p.Age = Age(birth, on)
		p.ShanghaiHukou = IsShanghai(m.HukouDivision)
		p.Alive = living[i]
		p.Sex = m.Sex
		p.MonthlyIncome = m.MonthlyIncome
		p.DisabilityCategory = m.DisabilityCategory
		p.DisabilityGrade = m.DisabilityGrade
		p.IntellectualOrMental = intellectualOrMental(m.DisabilityCategory)
		p.HasSupporter = m.HasSupporter
		p.Relation = m.Relation
		if m.CanWork != nil {
			p.CanWork = *m.CanWork
		} else {
			p.CanWork = p.Age >= 16 && p.Age < 60 && (p.DisabilityGrade == 0 || p.DisabilityGrade > 2)
		}
	}
	return out
}

// intellectualOrMental reports whether a disability category is 智力 or
// 精神: the register's codes (registry.DisabilityCategories) or the
// Chinese names a case may carry.
func intellectualOrMental(category string) bool {
	switch category {
	case "intellectual", "mental", "智力", "精神", "智力残疾", "精神残疾":
		return true
	}
	return false
}

func round2(x float64) float64 { return Round2(x) }

// Round2 rounds an amount of money to the fen (two decimals).
func Round2(x float64) float64 { return math.Round(x*100) / 100 }

// ParseCase reads a case from JSON, refusing unknown fields and naming the
// field that is wrong, in Chinese.
func ParseCase(b []byte) (*Case, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var c Case
	if err := dec.Decode(&c); err != nil {
		var te *json.UnmarshalTypeError
		var se *json.SyntaxError
		switch {
		case errors.As(err, &te):
			return nil, errs.Field(te.Field, "字段 %s 的类型错误：应为 %s", te.Field, te.Type)
		case errors.As(err, &se):
			return nil, errs.E(errs.Invalid, "不是有效的 JSON（第 %d 个字节附近）", se.Offset)
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return nil, errs.Field(f, "未知字段 %s", f)
		}
		return nil, errs.E(errs.Invalid, "无法解析家庭情况：%v", err)
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}
