package division_test

import (
	"testing"

	"minzheng/internal/app/apptest"
)

const (
	xuhui  = apptest.Xuhui
	pudong = apptest.Pudong
	city   = apptest.City
)

// accessTable has one entry per /api/v1 route of the division tree. A
// route without an entry fails TestAccess: decide who may call it before
// shipping it.
var accessTable = map[string]apptest.RouteCase{
	"GET /api/v1/divisions/{code}": {
		// Any division may be browsed; the counts are limited to the
		// caller's jurisdiction (testDivisionCounts).
		Request: apptest.GetFor(func(f *apptest.Fixture, d string) string { return "/api/v1/divisions/" + d }),
		Want:    apptest.Every(200, 200),
	},
}

// TestAccess walks the division routes with every role from two
// districts, then checks the counts a division shows.
func TestAccess(t *testing.T) {
	apptest.Walk(t, "division", accessTable, apptest.Check{Name: "division counts", Run: testDivisionCounts})
}

// divisionNode is the part of GET /api/v1/divisions/{code} checked here.
type divisionNode struct {
	Code       string `json:"code"`
	Persons    int64  `json:"persons"`
	Households int64  `json:"households"`
}

// testDivisionCounts checks that division counts cover only the living
// people (and households) registered in the caller's jurisdiction.
func testDivisionCounts(t *testing.T, f *apptest.Fixture) {
	living := func(prefix string) int64 {
		return f.Count(t, `SELECT COUNT(*) FROM persons WHERE hukou_division LIKE $1 AND death_date IS NULL`, prefix+"%")
	}
	households := func(prefix string) int64 {
		return f.Count(t, `SELECT COUNT(*) FROM households WHERE hukou_division LIKE $1`, prefix+"%")
	}
	if all, dead := f.Count(t, `SELECT COUNT(*) FROM persons`), f.Count(t, `SELECT COUNT(*) FROM persons WHERE death_date IS NOT NULL`); dead == 0 || dead == all {
		t.Fatalf("the fixture should hold both living and dead persons: %d of %d dead", dead, all)
	}
	cases := []struct {
		who, code                string
		persons, householdsCount int64
	}{
		{"reviewer_" + xuhui, city, living(xuhui), households(xuhui)},
		{"reviewer_" + xuhui, xuhui, living(xuhui), households(xuhui)},
		{"reviewer_" + xuhui, pudong, 0, 0},
		{"clerk_" + pudong, city, living(pudong), households(pudong)},
		{"auditor_" + city, city, living("31"), households("31")},
		{"auditor_" + city, xuhui, living(xuhui), households(xuhui)},
	}
	for _, tc := range cases {
		var n divisionNode
		f.Get(t, "/api/v1/divisions/"+tc.code, f.Caller(t, tc.who).Token, 200, &n)
		if n.Code != tc.code || n.Persons != tc.persons || n.Households != tc.householdsCount {
			t.Errorf("%s asks for %s: code %s, persons %d, households %d; want persons %d, households %d",
				tc.who, tc.code, n.Code, n.Persons, n.Households, tc.persons, tc.householdsCount)
		}
	}
	if living(xuhui) == 0 || living(pudong) == 0 {
		t.Fatal("the fixture has no living persons registered in one of the districts")
	}
}
