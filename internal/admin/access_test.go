package admin_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"minzheng/internal/app/apptest"
	"minzheng/internal/auth"
)

const (
	xuhui  = apptest.Xuhui
	pudong = apptest.Pudong
	city   = apptest.City
)

// accessTable has one entry per /api/v1 route of accounts and the audit
// log. A route without an entry fails TestAccess: decide who may call it
// before shipping it.
var accessTable = map[string]apptest.RouteCase{
	"GET /api/v1/me": {
		Request: apptest.GetPath("/api/v1/me"),
		Want:    apptest.Every(200, 200),
	},
	"GET /api/v1/users": {
		Request: apptest.GetPath("/api/v1/users"),
		Want:    apptest.Every(403, 403).But(200, 200, auth.DistrictAdmin, auth.CityAdmin, auth.Auditor),
	},
	"POST /api/v1/users": {
		Request: func(f *apptest.Fixture, t *testing.T, tok, d string) *http.Request {
			body := auth.NewUser{Name: fmt.Sprintf("new_clerk_%d", f.Next()), Display: "新受理员", Role: auth.Clerk, Division: d}
			return apptest.JSONRequest(t, "POST", "/api/v1/users", tok, body)
		},
		// Every administrator creates accounts only inside its own
		// jurisdiction; one at city level may create them anywhere.
		Want:  apptest.Every(403, 403).But(201, 422, auth.DistrictAdmin, auth.CityAdmin),
		Field: "division",
	},
	"GET /api/v1/audit": {
		Request:  apptest.GetPath("/api/v1/audit?limit=5"),
		Want:     apptest.Every(403, 403).But(200, 200, auth.CityAdmin, auth.Auditor),
		CityWide: []auth.Role{auth.CityAdmin, auth.Auditor},
	},
	"GET /api/v1/audit/verify": {
		Request:  apptest.GetPath("/api/v1/audit/verify"),
		Want:     apptest.Every(403, 403).But(200, 200, auth.CityAdmin, auth.Auditor),
		CityWide: []auth.Role{auth.CityAdmin, auth.Auditor},
	},
}

// TestAccess walks the account and audit routes with every role from two
// districts, then checks that account lists keep to the jurisdiction.
func TestAccess(t *testing.T) {
	apptest.Walk(t, "admin", accessTable, apptest.Check{Name: "user list scope", Run: testUserScope})
}

// testUserScope checks that account lists hold the accounts inside the
// caller's jurisdiction, all of them.
func testUserScope(t *testing.T, f *apptest.Fixture) {
	for _, who := range []string{"district_admin_" + xuhui, "auditor_" + pudong, "city_admin_" + city} {
		c := f.Caller(t, who)
		prefix := auth.JurisdictionPrefix(c.Division)
		var res struct {
			Total int         `json:"total"`
			Items []auth.User `json:"items"`
		}
		f.Get(t, "/api/v1/users", c.Token, 200, &res)
		want := f.Count(t, `SELECT COUNT(*) FROM users WHERE division LIKE $1`, prefix+"%")
		if int64(res.Total) != want || len(res.Items) != res.Total {
			t.Errorf("%s: total %d, %d items; want %d", who, res.Total, len(res.Items), want)
		}
		for _, u := range res.Items {
			if !strings.HasPrefix(u.Division, prefix) {
				t.Errorf("%s: lists %s of %s, outside %s", who, u.Name, u.Division, c.Division)
			}
		}
	}
}
