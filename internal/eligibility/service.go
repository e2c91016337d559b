// Package eligibility answers "what is this person entitled to, and why?":
// it turns registered people and households into policy cases and
// evaluates the programmes of the policy package as of a date, for the
// profile page, the API and the CLI.
package eligibility

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"minzheng/internal/auth"
	"minzheng/internal/errs"
	"minzheng/internal/policy"
	"minzheng/internal/registry"
)

// Service evaluates programmes for registered people and for given cases.
type Service struct {
	Registry *registry.Service
	Policies *policy.Set
	Now      func() time.Time
}

// CaseOf builds a policy case from a registered person and their household.
// The register holds no assets yet, so assets are zero. Nor does it know
// whether someone has a legal supporter (赡养、抚养、扶养义务人) living
// elsewhere, so everyone is taken to have one: 特困 is never granted from
// register data alone, only after an application establishes it. Medical
// spending is the register's monthly average of the last three months of
// 医保 bills (refreshed when bills arrive); education spending is unknown,
// so zero.
func CaseOf(subject registry.Person, members []registry.Person) policy.Case {
	c := policy.Case{Subject: strconv.FormatInt(subject.ID, 10), Members: make([]policy.Member, 0, len(members))}
	for _, m := range members {
		c.Members = append(c.Members, policy.Member{
			ID: strconv.FormatInt(m.ID, 10), BirthDate: m.BirthDate, Sex: m.Sex, HukouDivision: m.HukouDivision,
			ResidenceDivision: m.ResidenceDivision, MonthlyIncome: float64(m.MonthlyIncome), DisabilityCategory: m.DisabilityCategory,
			DisabilityGrade: m.DisabilityGrade, DeathDate: m.DeathDate, Relation: string(m.Relation), HasSupporter: true,
			MonthlyMedicalExpense: m.MonthlyMedicalExpense,
		})
	}
	return c
}

// Person evaluates every programme, or the one named, for a registered
// person in the caller's jurisdiction.
func (s *Service) Person(ctx context.Context, p auth.Principal, id int64, program string, on time.Time) ([]*policy.Result, error) {
	ids := s.Policies.IDs()
	if program != "" {
		if _, ok := s.Policies.Get(program); !ok {
			return nil, errs.Field("program", "未知项目“%s”", program)
		}
		ids = []string{program}
	}
	subject, members, err := s.Registry.Household(ctx, p, id, fmt.Sprintf("计算待遇资格（截至 %s）", on.Format(time.DateOnly)))
	if err != nil {
		return nil, err
	}
	c := CaseOf(subject, members)
	out := make([]*policy.Result, 0, len(ids))
	for _, pid := range ids {
		r, err := s.Policies.Evaluate(pid, &c, on, nil)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// Case evaluates one programme for a case given in full (the calculator of
// the API and of `minzheng eval`); nothing is read from the register.
func (s *Service) Case(program string, c *policy.Case, on time.Time) (*policy.Result, error) {
	return s.Policies.Evaluate(program, c, on, nil)
}

// ParseDate reads an as-of date; empty means today.
func (s *Service) ParseDate(v string) (time.Time, error) {
	if v == "" {
		now := s.Now()
		return time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC), nil
	}
	t, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return time.Time{}, errs.Field("as_of", "日期“%s”应为 YYYY-MM-DD", v)
	}
	return t, nil
}
