package apptest

import (
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"minzheng/internal/app"
	"minzheng/internal/auth"
	"minzheng/internal/idcard"
	"minzheng/internal/payroll"
	"minzheng/internal/registry"
)

// The two districts of the access walk, and the city.
const (
	Xuhui  = "310104" // 徐汇区
	Pudong = "310115" // 浦东新区
	City   = "310000"
)

// Fixture is the access walk's small synthetic city: 2,000 generated
// persons, staff of every role in 徐汇 and 浦东 and a city administrator
// and auditor at city level, a few known persons, and the payroll of two
// periods run.
type Fixture struct {
	*Server
	Committee map[string]string // district → one of its residents' committees
	Only      map[string]int64  // district → a person registered and living only there
	Names     map[string]string // district → that person's (unique) name
	Cross     int64             // registered in 徐汇, living in 浦东
	Numbers   map[int64]string  // full ID numbers of the persons above
	Callers   []Caller
	// Periods whose payroll has run, oldest first; the Only persons
	// receive the elderly allowance and are paid in each.
	Periods []string

	n    int
	memo map[string]int64
}

// Caller is one identity of the walk, named role_division
// ("clerk_310104").
type Caller struct {
	Name     string
	Role     auth.Role
	Division string
	Token    string
}

// NewFixture opens a server on cfg and builds the fixture in it.
func NewFixture(t *testing.T, cfg app.Config) *Fixture {
	t.Helper()
	ctx := context.Background()
	s := Open(t, cfg)
	f := &Fixture{Server: s, Committee: map[string]string{}, Only: map[string]int64{}, Names: map[string]string{}, Numbers: map[int64]string{}, memo: map[string]int64{}}
	if _, err := s.App.Generate(ctx, 2000, 1, io.Discard); err != nil {
		t.Fatalf("generate: %v", err)
	}
	for _, d := range []string{Xuhui, Pudong} {
		f.Committee[d] = FirstCommittee(t, s.App.Divisions.Tree, d)
	}
	add := func(name, hukou, residence string) int64 {
		number := f.NewNumber(hukou[:6])
		x, err := s.App.Registry.Create(ctx, auth.System(), registry.NewPerson{Name: name, IDNumber: number,
			HukouDivision: hukou, ResidenceDivision: residence, Relation: "户主", Address: "测试路 1 号"})
		if err != nil {
			t.Fatalf("register %s: %v", name, err)
		}
		f.Numbers[x.ID] = number
		return x.ID
	}
	f.Names[Xuhui], f.Names[Pudong] = "测试徐汇甲", "测试浦东甲"
	f.Only[Xuhui] = add(f.Names[Xuhui], f.Committee[Xuhui], f.Committee[Xuhui])
	f.Only[Pudong] = add(f.Names[Pudong], f.Committee[Pudong], f.Committee[Pudong])
	f.Cross = add("测试人户分离", f.Committee[Xuhui], f.Committee[Pudong])

	// The payroll: the Only persons receive the elderly allowance, and the
	// payroll of two periods has run, so each district has ledger lines to
	// sign off and payments to return.
	for _, d := range []string{Xuhui, Pudong} {
		if _, err := s.App.DB.ExecContext(ctx, grantElderlyAllowance, f.Only[d]); err != nil {
			t.Fatalf("entitlement: %v", err)
		}
	}
	f.Periods = []string{"2025-07", "2025-08"}
	for _, p := range f.Periods {
		if _, err := s.App.Payroll.Run(ctx, auth.System(), p, payroll.Options{}, nil); err != nil {
			t.Fatalf("payroll %s: %v", p, err)
		}
	}

	for _, d := range []string{Xuhui, Pudong} {
		for _, r := range auth.Roles {
			f.addCaller(t, r, d)
		}
	}
	f.addCaller(t, auth.CityAdmin, City)
	f.addCaller(t, auth.Auditor, City)
	return f
}

func (f *Fixture) addCaller(t *testing.T, r auth.Role, division string) {
	name := fmt.Sprintf("%s_%s", r, division)
	f.Callers = append(f.Callers, Caller{Name: name, Role: r, Division: division, Token: f.Staff(t, name, r, division)})
}

// Caller returns the named caller.
func (f *Fixture) Caller(t testing.TB, name string) Caller {
	t.Helper()
	for _, c := range f.Callers {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no caller %s", name)
	return Caller{}
}

// Next returns a number not returned before in this fixture, to make
// names, batches and files unique.
func (f *Fixture) Next() int {
	f.n++
	return f.n
}

// NewNumber returns a valid ID number of the region no one else has: the
// synthetic city has no one born before 1921.
func (f *Fixture) NewNumber(region string) string {
	n := f.Next()
	birth := time.Date(1905, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, n)
	return idcard.Build(region, birth, n)
}

// Memo returns the value made under key in this fixture, making it on
// first use (a task or an application of a district that every caller's
// request then targets).
func (f *Fixture) Memo(key string, make func() int64) int64 {
	if v, ok := f.memo[key]; ok {
		return v
	}
	v := make()
	f.memo[key] = v
	return v
}

// Count runs a COUNT (or any single-integer) query.
func (f *Fixture) Count(t testing.TB, query string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := f.App.DB.QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("count: %v", err)
	}
	return n
}

// OtherDistrict returns the walk's district that is not d.
func OtherDistrict(d string) string {
	if d == Xuhui {
		return Pudong
	}
	return Xuhui
}
