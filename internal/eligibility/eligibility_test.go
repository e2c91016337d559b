package eligibility_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"minzheng/internal/audit"
	"minzheng/internal/auth"
	"minzheng/internal/db"
	"minzheng/internal/db/dbtest"
	"minzheng/internal/division"
	"minzheng/internal/eligibility"
	"minzheng/internal/errs"
	"minzheng/internal/idcard"
	"minzheng/internal/policy"
	"minzheng/internal/registry"
	"minzheng/internal/secret"
)

func TestPersonEligibility(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		suite, _ := secret.NewStandard(bytes.Repeat([]byte{9}, secret.KeySize))
		now := func() time.Time { return time.Date(2025, 8, 1, 0, 0, 0, 0, time.UTC) }
		tree, _ := division.Shanghai()
		if err := division.NewService(d, tree).Seed(ctx); err != nil {
			t.Fatal(err)
		}
		reg := registry.NewService(d, suite, audit.New(d, suite, now), tree, now)
		set, err := policy.Embedded()
		if err != nil {
			t.Fatal(err)
		}
		svc := &eligibility.Service{Registry: reg, Policies: set, Now: now}
		sys := auth.System()
		birth := func(s string) time.Time { b, _ := time.Parse(time.DateOnly, s); return b }
		// A 徐汇 couple: he is 75 with 900 yuan, she is from 安徽 with no income.
		head, err := reg.Create(ctx, sys, registry.NewPerson{Name: "老王", IDNumber: idcard.Build("310104", birth("1950-03-01"), 11), HukouDivision: "310104003001", ResidenceDivision: "310104003001", MonthlyIncome: 900})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := reg.Create(ctx, sys, registry.NewPerson{Name: "李女", IDNumber: idcard.Build("340104", birth("1960-01-01"), 22), ResidenceDivision: "310104003001", HouseholdID: head.HouseholdID, Relation: "配偶"}); err != nil {
			t.Fatal(err)
		}
		rs, err := svc.Person(ctx, auth.Principal{Name: "r", Role: auth.Reviewer, Division: "310104"}, head.ID, "", now())
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]*policy.Result{}
		for _, r := range rs {
			got[r.Program] = r
		}
		// Art. 55: the non-Shanghai spouse counts: (1650 − 450) × 2 = 2400.
		if r := got["dibao"]; !r.Eligible || r.MonthlyAmount != 2400 {
			t.Errorf("dibao: eligible %v amount %v; %+v", r.Eligible, r.MonthlyAmount, r.Explanation)
		}
		if r := got["elderly_allowance"]; !r.Eligible || r.MonthlyAmount != 150 {
			t.Errorf("elderly allowance: %+v", r)
		}
		if _, err := svc.Person(ctx, auth.Principal{Name: "p", Role: auth.Reviewer, Division: "310115"}, head.ID, "", now()); !errs.IsNotFound(err) {
			t.Errorf("other district: %v, want not_found", err)
		}
		if _, err := svc.Person(ctx, sys, head.ID, "nope", now()); errs.Code(err) != errs.Invalid {
			t.Errorf("unknown program: %v", err)
		}
	})
}
