package payroll_test

import (
	"bytes"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"minzheng/internal/app/apptest"
	"minzheng/internal/auth"
	"minzheng/internal/payroll"
)

const (
	xuhui  = apptest.Xuhui
	pudong = apptest.Pudong
	city   = apptest.City
)

// readers are the roles that read payroll figures.
var readers = []auth.Role{auth.Reviewer, auth.Approver, auth.DistrictAdmin, auth.CityAdmin, auth.Auditor}

// accessTable has one entry per /api/v1 route of the payroll. A route
// without an entry fails TestAccess: decide who may call it before
// shipping it.
var accessTable = map[string]apptest.RouteCase{
	"GET /api/v1/payroll/periods": {
		// The totals are limited to the caller's jurisdiction
		// (testPayrollScope).
		Request: apptest.GetPath("/api/v1/payroll/periods"),
		Want:    apptest.Every(403, 403).But(200, 200, readers...),
	},
	"GET /api/v1/payroll/{period}/figures": {
		Request: apptest.GetFor(func(f *apptest.Fixture, d string) string { return "/api/v1/payroll/" + lastPeriod(f) + "/figures" }),
		Want:    apptest.Every(403, 403).But(200, 200, readers...),
	},
	"POST /api/v1/payroll/runs": {
		// The whole city's payroll: only a city administrator whose
		// jurisdiction is the city. Running a period again adds only what
		// is missing, so every call succeeds.
		Request: func(f *apptest.Fixture, t *testing.T, tok, d string) *http.Request {
			return apptest.JSONRequest(t, "POST", "/api/v1/payroll/runs", tok, map[string]any{"period": lastPeriod(f)})
		},
		Want:     apptest.Every(403, 403).But(200, 200, auth.CityAdmin),
		CityWide: []auth.Role{auth.CityAdmin},
	},
	"POST /api/v1/payroll/{period}/signoff": {
		// Only approvers sign off, and only a district in their
		// jurisdiction; each district and period once.
		Request: signOffRequest,
		Want:    apptest.Every(403, 403).But(200, 403, auth.Approver),
	},
	"POST /api/v1/payroll/returns": {
		// A return of a payment made outside the jurisdiction refuses the
		// file, naming the row.
		Request: returnsRequest,
		Want:    apptest.Every(403, 403).But(200, 422, auth.Approver, auth.CityAdmin),
		Field:   "第 2 行",
	},
	"GET /api/v1/persons/{id}/payee-account": {
		Request: apptest.GetFor(func(f *apptest.Fixture, d string) string {
			return fmt.Sprintf("/api/v1/persons/%d/payee-account", f.Only[d])
		}),
		Want: apptest.Every(200, 404).But(403, 403, auth.Adviser),
	},
	"PUT /api/v1/persons/{id}/payee-account": {
		// Needs payroll.account, checked before the jurisdiction.
		Request: func(f *apptest.Fixture, t *testing.T, tok, d string) *http.Request {
			body := map[string]any{"bank": "工商银行", "account": fmt.Sprintf("62220210%08d", f.Next()), "holder": f.Names[d]}
			return apptest.JSONRequest(t, "PUT", fmt.Sprintf("/api/v1/persons/%d/payee-account", f.Only[d]), tok, body)
		},
		Want: apptest.Every(403, 403).But(200, 404, auth.Clerk, auth.DistrictAdmin, auth.CityAdmin),
	},
}

// lastPeriod is the latest period whose payroll has run.
func lastPeriod(f *apptest.Fixture) string { return f.Periods[len(f.Periods)-1] }

// signOffRequest signs off district d for the first period not yet signed
// off there, so that every caller allowed to sign off d can succeed: a
// district and period is signed off only once. With every period signed
// off it asks for the last one again, which gets 409 and fails the walk.
func signOffRequest(f *apptest.Fixture, t *testing.T, token, d string) *http.Request {
	period := lastPeriod(f)
	for _, p := range f.Periods {
		if f.Count(t, `SELECT COUNT(*) FROM payroll_signoffs WHERE period = $1 AND district = $2`, p, d) == 0 {
			period = p
			break
		}
	}
	return apptest.JSONRequest(t, "POST", "/api/v1/payroll/"+period+"/signoff", token, map[string]any{"district": d})
}

// returnsRequest uploads a bank return file: the payment of the last
// period to the person living only in district d went through.
func returnsRequest(f *apptest.Fixture, t *testing.T, token, d string) *http.Request {
	var csv bytes.Buffer
	csv.WriteString("流水号,结果,原因\n")
	// Each call is another bank file (the same file twice is refused).
	fmt.Fprintf(&csv, "%s,成功,回盘 %d\n", payroll.Reference(lastPeriod(f), "elderly_allowance", f.Only[d], 1), f.Next())
	return apptest.MultipartRequest("POST", "/api/v1/payroll/returns", token, nil, apptest.File{Field: "file", Name: "returns.csv", Content: csv.Bytes()})
}

// TestAccess walks the payroll routes with every role from two districts,
// then checks that totals and figures keep to the jurisdiction.
func TestAccess(t *testing.T) {
	apptest.Walk(t, "payroll", accessTable, apptest.Check{Name: "payroll scope", Run: testPayrollScope})
}

// testPayrollScope checks that payroll totals and figures cover exactly
// the ledger lines of the caller's jurisdiction (by 户籍地), and that the
// walk's sign-offs were recorded for the approvers' own districts.
func testPayrollScope(t *testing.T, f *apptest.Fixture) {
	ledger := func(period, prefix string) (lines int64, yuan float64) {
		lines = f.Count(t, `SELECT COUNT(*) FROM ledger WHERE period = $1 AND division LIKE $2`, period, prefix+"%")
		return lines, float64(f.Count(t, `SELECT COALESCE(SUM(fen), 0) FROM ledger WHERE period = $1 AND division LIKE $2`, period, prefix+"%")) / 100
	}
	near := func(a, b float64) bool { return a-b < 0.005 && b-a < 0.005 }
	for _, who := range []string{"reviewer_" + xuhui, "approver_" + pudong, "auditor_" + city} {
		c := f.Caller(t, who)
		prefix := auth.JurisdictionPrefix(c.Division)
		var list struct {
			Periods []payroll.Period `json:"periods"`
		}
		f.Get(t, "/api/v1/payroll/periods", c.Token, 200, &list)
		var listed []string
		for _, p := range list.Periods {
			listed = append(listed, p.Period)
			lines, amount := ledger(p.Period, prefix)
			if p.Lines != lines || !near(p.Amount, amount) {
				t.Errorf("%s: period %s has %d lines, %.2f yuan; the ledger in %s has %d lines, %.2f yuan", who, p.Period, p.Lines, p.Amount, c.Division, lines, amount)
			}
		}
		for _, p := range f.Periods {
			if !slices.Contains(listed, p) {
				t.Errorf("%s: periods %v, want %s among them", who, listed, p)
			}
		}
		for _, period := range f.Periods {
			var figs struct {
				Period  string           `json:"period"`
				Figures []payroll.Figure `json:"figures"`
			}
			f.Get(t, "/api/v1/payroll/"+period+"/figures", c.Token, 200, &figs)
			var amount float64
			seen := map[string]bool{}
			for _, g := range figs.Figures {
				if !strings.HasPrefix(g.District, prefix) {
					t.Errorf("%s: figures of %s hold district %s, outside %s", who, period, g.District, c.Division)
				}
				amount += g.Amount
				seen[g.District] = true
				// Each approver signed off their own district in the walk,
				// for the first period.
				if want := "approver_" + g.District; period == f.Periods[0] && (g.District == xuhui || g.District == pudong) && g.SignedBy != want {
					t.Errorf("%s: %s %s signed off by %q, want %s", who, period, g.District, g.SignedBy, want)
				}
			}
			if _, want := ledger(period, prefix); figs.Period != period || !near(amount, want) {
				t.Errorf("%s: figures of %s (period %q) add up to %.2f yuan, the ledger in %s to %.2f", who, period, figs.Period, amount, c.Division, want)
			}
			for _, d := range []string{xuhui, pudong} {
				if strings.HasPrefix(d, prefix) && !seen[d] {
					t.Errorf("%s: figures of %s have no row for %s, where %d is paid", who, period, d, f.Only[d])
				}
			}
		}
	}
}
