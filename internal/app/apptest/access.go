package apptest

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"minzheng/internal/app"
	"minzheng/internal/auth"
	"minzheng/internal/errs"
	"minzheng/internal/registry"
)

// Outcome is the status expected for a target in the caller's own
// district and for one in the other district.
type Outcome struct{ Own, Other int }

// Statuses gives the outcome for each role. A caller whose jurisdiction is
// the whole city has both districts in it, so it gets the own outcome for
// both targets.
type Statuses map[auth.Role]Outcome

// Every gives all roles the same outcome.
func Every(own, other int) Statuses {
	s := Statuses{}
	for _, r := range auth.Roles {
		s[r] = Outcome{own, other}
	}
	return s
}

// But returns s with roles given another outcome.
func (s Statuses) But(own, other int, roles ...auth.Role) Statuses {
	out := Statuses{}
	for r, o := range s {
		out[r] = o
	}
	for _, r := range roles {
		out[r] = Outcome{own, other}
	}
	return out
}

// RouteCase says how to call a route for a target in a district and what
// each role must get.
type RouteCase struct {
	Request RequestFunc
	Want    Statuses
	Public  bool   // anonymous callers get 200 rather than 401
	Field   string // the field a 422 answer must name
	// CityWide lists roles that get their outcome only with the whole city
	// as jurisdiction; the same roles at a district get 403.
	CityWide []auth.Role
}

// RequestFunc builds the request of a caller with token for a target in
// district.
type RequestFunc func(f *Fixture, t *testing.T, token, district string) *http.Request

// GetPath requests GET path, whatever the district.
func GetPath(path string) RequestFunc {
	return func(f *Fixture, t *testing.T, tok, d string) *http.Request {
		return NewRequest("GET", path, tok, "", nil)
	}
}

// GetFor requests GET of the path built for the district.
func GetFor(path func(f *Fixture, d string) string) RequestFunc {
	return func(f *Fixture, t *testing.T, tok, d string) *http.Request {
		return NewRequest("GET", path(f, d), tok, "", nil)
	}
}

// Check is a test run on the fixture after the walk, as a subtest: what
// the walk cannot see from statuses alone (a list holds exactly the
// jurisdiction, a read is audited).
type Check struct {
	Name string
	Run  func(t *testing.T, f *Fixture)
}

// Walk is a business line's access test. On each database it builds a
// Fixture, fails when a /api/v1 route the module registered has no entry
// in table (or an entry names no route of the module), calls every route
// of the table as an anonymous caller, with a bad token and as every
// caller of the fixture, for a target in the caller's district and one in
// the other district, and checks the status, the error shape and the
// field a 422 names; then it runs the checks and verifies the audit chain.
// module is the name the line's routes are registered under
// (Router.Owner), "" for the application's own.
func Walk(t *testing.T, module string, table map[string]RouteCase, checks ...Check) {
	t.Helper()
	EachDB(t, func(t *testing.T, cfg app.Config) {
		start := time.Now()
		f := NewFixture(t, cfg)
		t.Logf("fixture ready in %s", time.Since(start).Round(time.Millisecond))
		routes := ModuleRoutes(f.Router, module)
		t.Run("every route has an entry", func(t *testing.T) { tableComplete(t, module, routes, table) })
		t.Run("walk", func(t *testing.T) { walk(t, f, routes, table) })
		for _, c := range checks {
			t.Run(c.Name, func(t *testing.T) { c.Run(t, f) })
		}
		t.Run("audit chain intact", func(t *testing.T) {
			res, err := f.App.Audit.Verify(context.Background())
			if err != nil || !res.OK {
				t.Fatalf("audit verify after the walk: %+v, %v", res, err)
			}
		})
		t.Logf("done in %s", time.Since(start).Round(time.Millisecond))
	})
}

// tableComplete fails when a route has no entry in the table, or an entry
// names a route the module does not register.
func tableComplete(t *testing.T, module string, routes []string, table map[string]RouteCase) {
	if len(routes) == 0 {
		t.Fatalf("module %q registers no /api/v1/ routes", module)
	}
	var missing, stale []string
	for _, p := range routes {
		if _, ok := table[p]; !ok {
			missing = append(missing, p)
		}
	}
	for p := range table {
		if !slices.Contains(routes, p) {
			stale = append(stale, p)
		}
	}
	slices.Sort(stale)
	if len(missing) > 0 {
		t.Errorf("routes of %q without an entry in its access table (say who may call them):\n  %s", module, strings.Join(missing, "\n  "))
	}
	if len(stale) > 0 {
		t.Errorf("access table entries for routes that %q does not register:\n  %s", module, strings.Join(stale, "\n  "))
	}
}

// walk calls every route as every caller, for a target in the caller's
// district and one in the other district.
func walk(t *testing.T, f *Fixture, routes []string, table map[string]RouteCase) {
	for _, pattern := range routes {
		rc, ok := table[pattern]
		if !ok {
			continue // reported by tableComplete
		}
		t.Run(pattern, func(t *testing.T) {
			check := func(who, target string, req *http.Request, want int) {
				t.Helper()
				if _, got := f.Router.Handler(req); got != pattern {
					t.Fatalf("the request for %s is routed to %q: fix the table's request", pattern, got)
				}
				rec := f.Serve(req)
				if rec.Code != want {
					t.Errorf("%s, target in %s: status %d, want %d; body %s", who, target, rec.Code, want, Truncate(rec.Body.String()))
					return
				}
				checkBody(t, who, rc, rec.Code, rec.Header().Get("Content-Type"), rec.Body.Bytes())
			}
			anon := 401
			if rc.Public {
				anon = 200
			}
			check("anonymous", Xuhui, rc.Request(f, t, "", Xuhui), anon)
			check("bad token", Xuhui, rc.Request(f, t, "mz_not-a-real-token", Xuhui), 401)
			for _, c := range f.Callers {
				o, ok := rc.Want[c.Role]
				if !ok {
					t.Fatalf("entry has no outcome for role %s", c.Role)
				}
				own, other := c.Division, OtherDistrict(c.Division)
				if c.Division != City && slices.Contains(rc.CityWide, c.Role) {
					o = Outcome{403, 403}
				}
				if c.Division == City {
					own, other, o.Other = Xuhui, Pudong, o.Own
				}
				check(c.Name, own, rc.Request(f, t, c.Token, own), o.Own)
				check(c.Name, other, rc.Request(f, t, c.Token, other), o.Other)
			}
		})
	}
}

// checkBody checks that an error answer has the error shape with the code
// of its status, and that a 422 names the expected field.
func checkBody(t *testing.T, who string, rc RouteCase, status int, ctype string, body []byte) {
	t.Helper()
	if status < 400 {
		if strings.HasPrefix(ctype, "application/json") && !json.Valid(body) {
			t.Errorf("%s: status %d with invalid JSON", who, status)
		}
		return
	}
	var e APIError
	if err := json.Unmarshal(body, &e); err != nil {
		t.Errorf("%s: status %d, body is not JSON: %s", who, status, Truncate(string(body)))
		return
	}
	var fields []string
	if e.Error != nil {
		if got := errs.Status(e.Error.Code); got != status || e.Error.Message == "" {
			t.Errorf("%s: status %d with error code %q (maps to %d), message %q", who, status, e.Error.Code, got, e.Error.Message)
		}
		fields = e.FieldNames()
	} else {
		var rep registry.ImportReport // the other 422 shape
		if err := json.Unmarshal(body, &rep); err != nil || status != 422 || rep.Bad == 0 || rep.Written {
			t.Errorf("%s: status %d without the error shape: %s", who, status, Truncate(string(body)))
			return
		}
		for _, re := range rep.Errors {
			fields = append(fields, re.Field)
		}
	}
	if status == 422 && rc.Field != "" && !slices.Contains(fields, rc.Field) {
		t.Errorf("%s: 422 names fields %v, want %s; body %s", who, fields, rc.Field, Truncate(string(body)))
	}
}
