package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"minzheng/internal/app"
	"minzheng/internal/audit"
	"minzheng/internal/auth"
	"minzheng/internal/division"
	"minzheng/internal/eligibility"
	"minzheng/internal/errs"
	"minzheng/internal/idcard"
	"minzheng/internal/monitor"
	"minzheng/internal/payroll"
	"minzheng/internal/registry"
	"minzheng/internal/tabular"
)

// The two districts of the access walk, and the city.
const (
	xuhui  = "310104" // 徐汇区
	pudong = "310115" // 浦东新区
	city   = "310000"
)

// outcome is the status expected for a target in the caller's own district
// and for one in the other district.
type outcome struct{ own, other int }

// statuses gives the outcome for each role. A caller whose jurisdiction is
// the whole city has both districts in it, so it gets the own outcome for
// both targets.
type statuses map[auth.Role]outcome

// every gives all roles the same outcome.
func every(own, other int) statuses {
	s := statuses{}
	for _, r := range auth.Roles {
		s[r] = outcome{own, other}
	}
	return s
}

// but returns s with roles given another outcome.
func (s statuses) but(own, other int, roles ...auth.Role) statuses {
	out := statuses{}
	for r, o := range s {
		out[r] = o
	}
	for _, r := range roles {
		out[r] = outcome{own, other}
	}
	return out
}

// routeCase says how to call a route for a target in a district and what
// each role must get.
type routeCase struct {
	request requestFunc
	want    statuses
	public  bool   // anonymous callers get 200 rather than 401
	field   string // the field a 422 answer must name
	// cityWide lists roles that get their outcome only with the whole city
	// as jurisdiction; the same roles at a district get 403.
	cityWide []auth.Role
}

// requestFunc builds the request of a caller with token for a target in
// district.
type requestFunc func(f *accessFixture, t *testing.T, token, district string) *http.Request

// getPath requests GET path, whatever the district.
func getPath(path string) requestFunc {
	return func(f *accessFixture, t *testing.T, tok, d string) *http.Request { return f.req("GET", path, tok) }
}

// getFor requests GET of the path built for the district.
func getFor(path func(f *accessFixture, d string) string) requestFunc {
	return func(f *accessFixture, t *testing.T, tok, d string) *http.Request {
		return f.req("GET", path(f, d), tok)
	}
}

// accessTable has one entry per /api/v1 route. A route without an entry
// fails TestAPIAccess: decide who may call it before shipping it. The
// social assistance entries are added in assistance_access_test.go.
var accessTable = map[string]routeCase{
	"GET /api/v1/openapi.json": {
		request: getPath("/api/v1/openapi.json"),
		want:    every(200, 200),
		public:  true,
	},
	"GET /api/v1/me": {
		request: getPath("/api/v1/me"),
		want:    every(200, 200),
	},
	"GET /api/v1/users": {
		request: getPath("/api/v1/users"),
		want:    every(403, 403).but(200, 200, auth.DistrictAdmin, auth.CityAdmin, auth.Auditor),
	},
	"POST /api/v1/users": {
		request: func(f *accessFixture, t *testing.T, tok, d string) *http.Request {
			f.n++
			body := auth.NewUser{Name: fmt.Sprintf("new_clerk_%d", f.n), Display: "新受理员", Role: auth.Clerk, Division: d}
			return jsonRequest(t, "POST", "/api/v1/users", tok, body)
		},
		// Every administrator creates accounts only inside its own
		// jurisdiction; one at city level may create them anywhere.
		want:  every(403, 403).but(201, 422, auth.DistrictAdmin, auth.CityAdmin),
		field: "division",
	},
	"GET /api/v1/audit": {
		request:  getPath("/api/v1/audit?limit=5"),
		want:     every(403, 403).but(200, 200, auth.CityAdmin, auth.Auditor),
		cityWide: []auth.Role{auth.CityAdmin, auth.Auditor},
	},
	"GET /api/v1/audit/verify": {
		request:  getPath("/api/v1/audit/verify"),
		want:     every(403, 403).but(200, 200, auth.CityAdmin, auth.Auditor),
		cityWide: []auth.Role{auth.CityAdmin, auth.Auditor},
	},
	"GET /api/v1/divisions/{code}": {
		// Any division may be browsed; the counts are limited to the
		// caller's jurisdiction (checked in detail below).
		request: getFor(func(f *accessFixture, d string) string { return "/api/v1/divisions/" + d }),
		want:    every(200, 200),
	},
	"GET /api/v1/persons": {
		request: getFor(func(f *accessFixture, d string) string { return "/api/v1/persons?q=" + url.QueryEscape(f.names[d]) }),
		want:    every(200, 200),
	},
	"POST /api/v1/persons": {
		request: func(f *accessFixture, t *testing.T, tok, d string) *http.Request {
			number, c := f.newNumber(d), f.committee[d]
			body := registry.NewPerson{Name: "测试登记" + number[14:17], IDNumber: number, HukouDivision: c, ResidenceDivision: c, Relation: "户主"}
			return jsonRequest(t, "POST", "/api/v1/persons", tok, body)
		},
		want:  every(403, 403).but(201, 422, auth.Clerk, auth.DistrictAdmin, auth.CityAdmin),
		field: "residence_division",
	},
	"GET /api/v1/persons/export.xlsx": {
		request: getFor(func(f *accessFixture, d string) string {
			return "/api/v1/persons/export.xlsx?q=" + url.QueryEscape(f.names[d])
		}),
		want: every(200, 200),
	},
	"GET /api/v1/persons/{id}": {
		// Outside the jurisdiction reads as absent.
		request: getFor(func(f *accessFixture, d string) string { return fmt.Sprintf("/api/v1/persons/%d", f.only[d]) }),
		want:    every(200, 404),
	},
	"PATCH /api/v1/persons/{id}": {
		// Changing facts needs person.write, checked before the
		// jurisdiction: a role without it gets 403 wherever the person
		// lives; a writer gets 404 outside the jurisdiction, as in reading.
		request: func(f *accessFixture, t *testing.T, tok, d string) *http.Request {
			f.n++
			income := int64(1000 + f.n)
			return jsonRequest(t, "PATCH", fmt.Sprintf("/api/v1/persons/%d", f.only[d]), tok, registry.FactsUpdate{MonthlyIncome: &income})
		},
		want: every(403, 403).but(200, 404, auth.Clerk, auth.DistrictAdmin, auth.CityAdmin),
	},
	"GET /api/v1/persons/{id}/id-number": {
		request: getFor(func(f *accessFixture, d string) string { return fmt.Sprintf("/api/v1/persons/%d/id-number", f.only[d]) }),
		want:    every(200, 404).but(403, 403, auth.Clerk, auth.Adviser),
	},
	"GET /api/v1/persons/{id}/eligibility": {
		// Every role may read people, so every role may have their
		// eligibility computed; outside the jurisdiction reads as absent.
		request: getFor(func(f *accessFixture, d string) string {
			return fmt.Sprintf("/api/v1/persons/%d/eligibility", f.only[d])
		}),
		want: every(200, 404),
	},
	"POST /api/v1/eligibility/evaluate": {
		// A person-based body: that is the branch that reads the register,
		// so it is the one that must stop at the jurisdiction (404 like
		// GET /api/v1/persons/{id}). The case-based branch reads nothing
		// and needs only a valid token, which the anonymous and bad-token
		// calls of the walk cover; TestOpenAPIResponses sends a case.
		request: func(f *accessFixture, t *testing.T, tok, d string) *http.Request {
			body := eligibility.EvaluateRequest{Program: "elderly_allowance", AsOf: "2025-07-01", PersonID: f.only[d]}
			return jsonRequest(t, "POST", "/api/v1/eligibility/evaluate", tok, body)
		},
		want: every(200, 404),
	},
	"POST /api/v1/feeds/{type}": {
		// Feeds are city-wide data from other departments: only a city
		// administrator at city level may send them.
		request: func(f *accessFixture, t *testing.T, tok, d string) *http.Request {
			f.n++
			body := monitor.FeedBatch{Batch: fmt.Sprintf("access-%d", f.n), Rows: []map[string]any{
				{"id_number": f.numbers[f.only[d]], "bill_date": "2025-07-01", "amount": 100 + f.n}}}
			return jsonRequest(t, "POST", "/api/v1/feeds/medical", tok, body)
		},
		want:     every(403, 403).but(200, 200, auth.CityAdmin),
		cityWide: []auth.Role{auth.CityAdmin},
	},
	"GET /api/v1/monitor/tasks": {
		// Monitoring readers see their own jurisdiction; asking for another
		// district is refused naming the field.
		request: getFor(func(f *accessFixture, d string) string { return "/api/v1/monitor/tasks?division=" + d }),
		want:    every(403, 403).but(200, 422, auth.Adviser, auth.Reviewer, auth.DistrictAdmin, auth.CityAdmin, auth.Auditor),
		field:   "division",
	},
	"GET /api/v1/monitor/tasks/{id}": {
		// Like reading people: outside the jurisdiction reads as absent.
		request: getFor(func(f *accessFixture, d string) string { return fmt.Sprintf("/api/v1/monitor/tasks/%d", f.task(d)) }),
		want:    every(403, 403).but(200, 404, auth.Adviser, auth.Reviewer, auth.DistrictAdmin, auth.CityAdmin, auth.Auditor),
	},
	"POST /api/v1/monitor/tasks/{id}/visits": {
		// Recording a visit needs monitor.visit, checked before the
		// jurisdiction. "Could not reach" keeps the task open, so every
		// allowed caller can record one.
		request: func(f *accessFixture, t *testing.T, tok, d string) *http.Request {
			return jsonRequest(t, "POST", fmt.Sprintf("/api/v1/monitor/tasks/%d/visits", f.task(d)), tok, monitor.VisitRequest{Disposition: monitor.Unreachable})
		},
		want: every(403, 403).but(201, 404, auth.Adviser, auth.DistrictAdmin, auth.CityAdmin),
	},
	"POST /api/v1/monitor/weather": {
		// Sweeps are planned by districts for themselves; another district
		// is refused naming the field.
		request: func(f *accessFixture, t *testing.T, tok, d string) *http.Request {
			return jsonRequest(t, "POST", "/api/v1/monitor/weather", tok, monitor.WeatherRequest{Kind: "cold", Districts: []string{d}})
		},
		want:  every(403, 403).but(200, 422, auth.DistrictAdmin, auth.CityAdmin),
		field: "districts",
	},
	"GET /api/v1/monitor/calls/stats": {
		// Filtered to the jurisdiction; no target to name.
		request: getPath("/api/v1/monitor/calls/stats"),
		want:    every(403, 403).but(200, 200, auth.Adviser, auth.Reviewer, auth.DistrictAdmin, auth.CityAdmin, auth.Auditor),
	},
	"GET /api/v1/monitor/dashboard": {
		request: getFor(func(f *accessFixture, d string) string { return "/api/v1/monitor/dashboard?division=" + d }),
		want:    every(403, 403).but(200, 422, auth.Adviser, auth.Reviewer, auth.DistrictAdmin, auth.CityAdmin, auth.Auditor),
		field:   "division",
	},
	"POST /api/v1/persons/import": {
		request: (*accessFixture).importRequest,
		// A file of people outside the jurisdiction is refused row by row:
		// 422 with the import report.
		want:  every(403, 403).but(200, 422, auth.Clerk, auth.DistrictAdmin, auth.CityAdmin),
		field: "residence_division",
	},
	"GET /api/v1/payroll/periods": {
		// The totals are limited to the caller's jurisdiction (checked in
		// detail below).
		request: getPath("/api/v1/payroll/periods"),
		want:    every(403, 403).but(200, 200, auth.Reviewer, auth.Approver, auth.DistrictAdmin, auth.CityAdmin, auth.Auditor),
	},
	"GET /api/v1/payroll/{period}/figures": {
		request: getFor(func(f *accessFixture, d string) string { return "/api/v1/payroll/" + f.lastPeriod() + "/figures" }),
		want:    every(403, 403).but(200, 200, auth.Reviewer, auth.Approver, auth.DistrictAdmin, auth.CityAdmin, auth.Auditor),
	},
	"POST /api/v1/payroll/runs": {
		// The whole city's payroll: only a city administrator whose
		// jurisdiction is the city. Running a period again adds only what
		// is missing, so every call succeeds.
		request: func(f *accessFixture, t *testing.T, tok, d string) *http.Request {
			return jsonRequest(t, "POST", "/api/v1/payroll/runs", tok, map[string]any{"period": f.lastPeriod()})
		},
		want:     every(403, 403).but(200, 200, auth.CityAdmin),
		cityWide: []auth.Role{auth.CityAdmin},
	},
	"POST /api/v1/payroll/{period}/signoff": {
		// Only approvers sign off, and only a district in their
		// jurisdiction; each district and period once.
		request: (*accessFixture).signOffRequest,
		want:    every(403, 403).but(200, 403, auth.Approver),
	},
	"POST /api/v1/payroll/returns": {
		// A return of a payment made outside the jurisdiction refuses the
		// file, naming the row.
		request: (*accessFixture).returnsRequest,
		want:    every(403, 403).but(200, 422, auth.Approver, auth.CityAdmin),
		field:   "第 2 行",
	},
	"GET /api/v1/persons/{id}/payee-account": {
		request: getFor(func(f *accessFixture, d string) string {
			return fmt.Sprintf("/api/v1/persons/%d/payee-account", f.only[d])
		}),
		want: every(200, 404).but(403, 403, auth.Adviser),
	},
	"PUT /api/v1/persons/{id}/payee-account": {
		// Needs payroll.account, checked before the jurisdiction.
		request: func(f *accessFixture, t *testing.T, tok, d string) *http.Request {
			f.n++
			body := map[string]any{"bank": "工商银行", "account": fmt.Sprintf("62220210%08d", f.n), "holder": f.names[d]}
			return jsonRequest(t, "PUT", fmt.Sprintf("/api/v1/persons/%d/payee-account", f.only[d]), tok, body)
		},
		want: every(403, 403).but(200, 404, auth.Clerk, auth.DistrictAdmin, auth.CityAdmin),
	},
}

// accessFixture is a small synthetic city with staff of every role in two
// districts and at city level, and a few known persons.
type accessFixture struct {
	*apiServer
	committee map[string]string // district → one of its residents' committees
	only      map[string]int64  // district → a person registered and living only there
	names     map[string]string // district → that person's (unique) name
	cross     int64             // registered in 徐汇, living in 浦东
	numbers   map[int64]string  // full ID numbers of the persons above
	callers   []caller
	n         int // makes names and ID numbers unique
	// periods whose payroll has been run, oldest first; the only[d]
	// persons are paid in each.
	periods []string
	apps    map[string]int64 // district → an open social assistance application
	tasks   map[string]int64 // district → an open visit task
	heads   map[int64]string // application → its applicant's ID number
}

// caller is one identity of the walk.
type caller struct {
	name     string
	role     auth.Role
	division string
	token    string
}

func newAccessFixture(t *testing.T, cfg app.Config) *accessFixture {
	t.Helper()
	ctx := context.Background()
	s := openServer(t, cfg)
	f := &accessFixture{apiServer: s, committee: map[string]string{}, only: map[string]int64{}, names: map[string]string{}, numbers: map[int64]string{}}
	if _, err := s.App.Generate(ctx, 2000, 1, noProgress{}); err != nil {
		t.Fatalf("generate: %v", err)
	}
	for _, d := range []string{xuhui, pudong} {
		f.committee[d] = firstCommittee(t, s.App.Divisions.Tree, d)
	}
	add := func(name, hukou, residence string) int64 {
		number := f.newNumber(hukou[:6])
		x, err := s.App.Registry.Create(ctx, auth.System(), registry.NewPerson{Name: name, IDNumber: number,
			HukouDivision: hukou, ResidenceDivision: residence, Relation: "户主", Address: "测试路 1 号"})
		if err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
		f.numbers[x.ID] = number
		return x.ID
	}
	f.names[xuhui], f.names[pudong] = "测试徐汇甲", "测试浦东甲"
	f.only[xuhui] = add(f.names[xuhui], f.committee[xuhui], f.committee[xuhui])
	f.only[pudong] = add(f.names[pudong], f.committee[pudong], f.committee[pudong])
	f.cross = add("测试人户分离", f.committee[xuhui], f.committee[pudong])

	// The payroll: the only[d] persons receive the elderly allowance, and
	// the payroll of two periods has run, so each district has ledger
	// lines to sign off and payments to return.
	for _, d := range []string{xuhui, pudong} {
		if _, err := s.App.DB.ExecContext(ctx, `INSERT INTO entitlements (program, person_id, household_id, status, monthly_fen, since, proactive, decision_id, updated_at)
			SELECT 'elderly_allowance', id, household_id, 'active', 15000, '2025-01-01', 1, 0, '' FROM persons WHERE id = $1`, f.only[d]); err != nil {
			t.Fatalf("entitlement: %v", err)
		}
	}
	f.periods = []string{"2025-07", "2025-08"}
	for _, p := range f.periods {
		if _, err := s.App.Payroll.Run(ctx, auth.System(), p, payroll.Options{}, nil); err != nil {
			t.Fatalf("payroll %s: %v", p, err)
		}
	}

	for _, d := range []string{xuhui, pudong} {
		for _, r := range auth.Roles {
			f.addCaller(t, r, d)
		}
	}
	f.addCaller(t, auth.CityAdmin, city)
	f.addCaller(t, auth.Auditor, city)
	return f
}

func (f *accessFixture) addCaller(t *testing.T, r auth.Role, division string) {
	name := fmt.Sprintf("%s_%s", r, division)
	f.callers = append(f.callers, caller{name: name, role: r, division: division, token: f.staff(t, name, r, division)})
}

// caller returns the named caller.
func (f *accessFixture) caller(t *testing.T, name string) caller {
	t.Helper()
	for _, c := range f.callers {
		if c.name == name {
			return c
		}
	}
	t.Fatalf("no caller %s", name)
	return caller{}
}

type noProgress struct{}

func (noProgress) Write(b []byte) (int, error) { return len(b), nil }

func firstCommittee(t *testing.T, tree *division.Tree, district string) string {
	for _, street := range tree.Children(district) {
		for _, c := range tree.Children(street) {
			if d, _ := tree.Get(c); d.Level == division.Committee {
				return c
			}
		}
	}
	t.Fatalf("no committee in %s", district)
	return ""
}

// newNumber returns a valid ID number no one else has: the synthetic city
// has no one born before 1921.
func (f *accessFixture) newNumber(region string) string {
	f.n++
	birth := time.Date(1905, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, f.n)
	return idcard.Build(region, birth, f.n)
}

func (f *accessFixture) req(method, target, token string) *http.Request {
	return newRequest(method, target, token, "", nil)
}

// importRequest uploads a CSV file of a two-person household in district d.
func (f *accessFixture) importRequest(t *testing.T, token, d string) *http.Request {
	f.n++
	hh, c := f.n, f.committee[d]
	head, spouse := f.newNumber(d), f.newNumber(d)
	var csv bytes.Buffer
	csv.WriteString("户号,姓名,身份证号,与户主关系,户籍地代码,居住地代码\n")
	fmt.Fprintf(&csv, "T%d,测试导入%d甲,%s,户主,%s,%s\n", hh, hh, head, c, c)
	fmt.Fprintf(&csv, "T%d,测试导入%d乙,%s,配偶,%s,%s\n", hh, hh, spouse, c, c)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	w, err := mw.CreateFormFile("file", "people.csv")
	if err != nil {
		t.Fatal(err)
	}
	w.Write(csv.Bytes())
	mw.Close()
	return newRequest("POST", "/api/v1/persons/import", token, mw.FormDataContentType(), body.Bytes())
}

// task returns an open visit task for the person living only in district
// d, at their committee, written on first use as a warning would write it.
func (f *accessFixture) task(d string) int64 {
	if f.tasks == nil {
		f.tasks = map[string]int64{}
	}
	if id, ok := f.tasks[d]; ok {
		return id
	}
	now := time.Now().UTC()
	var id int64
	err := f.App.DB.QueryRowContext(context.Background(), `INSERT INTO monitor_tasks (kind, person_id, household_id, division, district, assignee, severity, title, reason, status, due_at, created_at)
		SELECT 'warning', id, household_id, residence_division, $1, '', 'high', '测试预警', '测试原因', 'open', $2, $3 FROM persons WHERE id = $4 RETURNING id`,
		d, now.Add(72*time.Hour).Format("2006-01-02T15:04:05.000000Z"), now.Format("2006-01-02T15:04:05.000000Z"), f.only[d]).Scan(&id)
	if err != nil {
		panic(fmt.Sprintf("access fixture: task in %s: %v", d, err))
	}
	f.tasks[d] = id
	return id
}

// lastPeriod is the latest period whose payroll has run.
func (f *accessFixture) lastPeriod() string { return f.periods[len(f.periods)-1] }

// signOffRequest signs off district d for the first period not yet signed
// off there, so that every caller allowed to sign off d can succeed: a
// district and period is signed off only once. With every period signed
// off it asks for the last one again, which gets 409 and fails the walk.
func (f *accessFixture) signOffRequest(t *testing.T, token, d string) *http.Request {
	period := f.lastPeriod()
	for _, p := range f.periods {
		if f.count(t, `SELECT COUNT(*) FROM payroll_signoffs WHERE period = $1 AND district = $2`, p, d) == 0 {
			period = p
			break
		}
	}
	return jsonRequest(t, "POST", "/api/v1/payroll/"+period+"/signoff", token, map[string]any{"district": d})
}

// returnsRequest uploads a bank return file: the payment of the last
// period to the person living only in district d went through.
func (f *accessFixture) returnsRequest(t *testing.T, token, d string) *http.Request {
	var csv bytes.Buffer
	csv.WriteString("流水号,结果,原因\n")
	// Each call is another bank file (the same file twice is refused).
	f.n++
	fmt.Fprintf(&csv, "%s,成功,回盘 %d\n", payroll.Reference(f.lastPeriod(), "elderly_allowance", f.only[d], 1), f.n)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	w, err := mw.CreateFormFile("file", "returns.csv")
	if err != nil {
		t.Fatal(err)
	}
	w.Write(csv.Bytes())
	mw.Close()
	return newRequest("POST", "/api/v1/payroll/returns", token, mw.FormDataContentType(), body.Bytes())
}

func TestAPIAccess(t *testing.T) {
	eachDB(t, func(t *testing.T, cfg app.Config) {
		start := time.Now()
		f := newAccessFixture(t, cfg)
		t.Logf("fixture ready in %s", time.Since(start).Round(time.Millisecond))

		t.Run("every route has an entry", func(t *testing.T) { testTableComplete(t, f) })
		t.Run("walk", func(t *testing.T) { testWalk(t, f) })
		t.Run("search scope", func(t *testing.T) { testSearchScope(t, f) })
		t.Run("division counts", func(t *testing.T) { testDivisionCounts(t, f) })
		t.Run("export scope", func(t *testing.T) { testExportScope(t, f) })
		t.Run("user list scope", func(t *testing.T) { testUserScope(t, f) })
		t.Run("id number is audited", func(t *testing.T) { testRevealAudited(t, f) })
		t.Run("payroll scope", func(t *testing.T) { testPayrollScope(t, f) })
		t.Run("audit chain intact", func(t *testing.T) {
			res, err := f.App.Audit.Verify(context.Background())
			if err != nil || !res.OK {
				t.Fatalf("audit verify after the walk: %+v, %v", res, err)
			}
		})
		t.Logf("done in %s", time.Since(start).Round(time.Millisecond))
	})
}

// testTableComplete fails when a route has no entry in accessTable, or an
// entry names a route that no longer exists.
func testTableComplete(t *testing.T, f *accessFixture) {
	routes := apiPatterns(f.Router)
	if len(routes) == 0 {
		t.Fatal("the router has no /api/v1/ routes")
	}
	var missing, stale []string
	for _, p := range routes {
		if _, ok := accessTable[p]; !ok {
			missing = append(missing, p)
		}
	}
	for p := range accessTable {
		if !slices.Contains(routes, p) {
			stale = append(stale, p)
		}
	}
	slices.Sort(stale)
	if len(missing) > 0 {
		t.Errorf("routes without an entry in accessTable (say who may call them):\n  %s", strings.Join(missing, "\n  "))
	}
	if len(stale) > 0 {
		t.Errorf("accessTable entries for routes that are not registered:\n  %s", strings.Join(stale, "\n  "))
	}
}

// testWalk calls every route as every caller, for a target in the caller's
// district and one in the other district.
func testWalk(t *testing.T, f *accessFixture) {
	for _, pattern := range apiPatterns(f.Router) {
		rc, ok := accessTable[pattern]
		if !ok {
			continue // reported by testTableComplete
		}
		t.Run(pattern, func(t *testing.T) {
			check := func(who, target string, req *http.Request, want int) {
				t.Helper()
				if _, got := f.Router.Handler(req); got != pattern {
					t.Fatalf("the request for %s is routed to %q: fix the table's request", pattern, got)
				}
				rec := f.serve(req)
				if rec.Code != want {
					t.Errorf("%s, target in %s: status %d, want %d; body %s", who, target, rec.Code, want, truncate(rec.Body.String()))
					return
				}
				checkBody(t, who, rc, rec.Code, rec.Header().Get("Content-Type"), rec.Body.Bytes())
			}
			anon := 401
			if rc.public {
				anon = 200
			}
			check("anonymous", xuhui, rc.request(f, t, "", xuhui), anon)
			check("bad token", xuhui, rc.request(f, t, "mz_not-a-real-token", xuhui), 401)
			for _, c := range f.callers {
				o, ok := rc.want[c.role]
				if !ok {
					t.Fatalf("entry has no outcome for role %s", c.role)
				}
				own, other := c.division, otherDistrict(c.division)
				if c.division != city && slices.Contains(rc.cityWide, c.role) {
					o = outcome{403, 403}
				}
				if c.division == city {
					own, other, o.other = xuhui, pudong, o.own
				}
				check(c.name, own, rc.request(f, t, c.token, own), o.own)
				check(c.name, other, rc.request(f, t, c.token, other), o.other)
			}
		})
	}
}

func otherDistrict(d string) string {
	if d == xuhui {
		return pudong
	}
	return xuhui
}

// checkBody checks that an error answer has the error shape with the code
// of its status, and that a 422 names the expected field.
func checkBody(t *testing.T, who string, rc routeCase, status int, ctype string, body []byte) {
	t.Helper()
	if status < 400 {
		if strings.HasPrefix(ctype, "application/json") && !json.Valid(body) {
			t.Errorf("%s: status %d with invalid JSON", who, status)
		}
		return
	}
	var e apiError
	if err := json.Unmarshal(body, &e); err != nil {
		t.Errorf("%s: status %d, body is not JSON: %s", who, status, truncate(string(body)))
		return
	}
	var fields []string
	if e.Error != nil {
		if got := errs.Status(e.Error.Code); got != status || e.Error.Message == "" {
			t.Errorf("%s: status %d with error code %q (maps to %d), message %q", who, status, e.Error.Code, got, e.Error.Message)
		}
		for _, fe := range e.Error.Fields {
			fields = append(fields, fe.Field)
		}
	} else {
		var rep registry.ImportReport // the other 422 shape
		if err := json.Unmarshal(body, &rep); err != nil || status != 422 || rep.Bad == 0 || rep.Written {
			t.Errorf("%s: status %d without the error shape: %s", who, status, truncate(string(body)))
			return
		}
		for _, re := range rep.Errors {
			fields = append(fields, re.Field)
		}
	}
	if status == 422 && rc.field != "" && !slices.Contains(fields, rc.field) {
		t.Errorf("%s: 422 names fields %v, want %s; body %s", who, fields, rc.field, truncate(string(body)))
	}
}

// inDistrict is the independent SQL condition "registered or living in
// the district", written with LIKE rather than the service's code ranges.
const inDistrict = `(hukou_division LIKE $1 OR residence_division LIKE $1)`

func (f *accessFixture) count(t *testing.T, query string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := f.App.DB.QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("count: %v", err)
	}
	return n
}

// testSearchScope checks that a district caller's search counts and
// returns exactly the people registered or living in the district.
func testSearchScope(t *testing.T, f *accessFixture) {
	for _, who := range []string{"reviewer_" + xuhui, "clerk_" + pudong, "auditor_" + city} {
		c := f.caller(t, who)
		prefix := auth.JurisdictionPrefix(c.division)
		want := f.count(t, `SELECT COUNT(*) FROM persons WHERE `+inDistrict, prefix+"%")
		if want < 20 {
			t.Fatalf("%s: only %d persons in scope; the fixture is too small to mean much", who, want)
		}
		var seen int64
		for off := 0; ; off += 200 {
			var res registry.SearchResult
			f.get(t, fmt.Sprintf("/api/v1/persons?q=&limit=200&offset=%d", off), c.token, 200, &res)
			if res.Total != want {
				t.Fatalf("%s: total %d, want %d (persons registered or living in %s)", who, res.Total, want, c.division)
			}
			for _, x := range res.Items {
				if !strings.HasPrefix(x.HukouDivision, prefix) && !strings.HasPrefix(x.ResidenceDivision, prefix) {
					t.Errorf("%s: item %d (%s) registered in %q, living in %q: outside %s", who, x.ID, x.Name, x.HukouDivision, x.ResidenceDivision, c.division)
				}
			}
			seen += int64(len(res.Items))
			if len(res.Items) < 200 {
				break
			}
		}
		if seen != want {
			t.Errorf("%s: paged through %d items, want %d", who, seen, want)
		}
	}

	// Someone registered in one district and living in another is seen
	// from both, and from nowhere else.
	for who, want := range map[string]int{"reviewer_" + xuhui: 200, "reviewer_" + pudong: 200} {
		f.get(t, fmt.Sprintf("/api/v1/persons/%d", f.cross), f.caller(t, who).token, want, nil)
	}
	huangpu := f.staff(t, "reviewer_310101", auth.Reviewer, "310101")
	f.get(t, fmt.Sprintf("/api/v1/persons/%d", f.cross), huangpu, 404, nil)
	var res registry.SearchResult
	f.get(t, "/api/v1/persons?q="+url.QueryEscape("测试人户分离"), huangpu, 200, &res)
	if res.Total != 0 || len(res.Items) != 0 {
		t.Errorf("黄浦 reviewer finds %d persons named 测试人户分离, want 0", res.Total)
	}
}

// divisionNode is the part of GET /api/v1/divisions/{code} checked here.
type divisionNode struct {
	Code       string `json:"code"`
	Persons    int64  `json:"persons"`
	Households int64  `json:"households"`
}

// testDivisionCounts checks that division counts cover only the living
// people (and households) registered in the caller's jurisdiction.
func testDivisionCounts(t *testing.T, f *accessFixture) {
	living := func(prefix string) int64 {
		return f.count(t, `SELECT COUNT(*) FROM persons WHERE hukou_division LIKE $1 AND death_date IS NULL`, prefix+"%")
	}
	households := func(prefix string) int64 {
		return f.count(t, `SELECT COUNT(*) FROM households WHERE hukou_division LIKE $1`, prefix+"%")
	}
	if all, dead := f.count(t, `SELECT COUNT(*) FROM persons`), f.count(t, `SELECT COUNT(*) FROM persons WHERE death_date IS NOT NULL`); dead == 0 || dead == all {
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
		f.get(t, "/api/v1/divisions/"+tc.code, f.caller(t, tc.who).token, 200, &n)
		if n.Code != tc.code || n.Persons != tc.persons || n.Households != tc.householdsCount {
			t.Errorf("%s asks for %s: code %s, persons %d, households %d; want persons %d, households %d",
				tc.who, tc.code, n.Code, n.Persons, n.Households, tc.persons, tc.householdsCount)
		}
	}
	if living(xuhui) == 0 || living(pudong) == 0 {
		t.Fatal("the fixture has no living persons registered in one of the districts")
	}
}

// maskedID is how a masked 18-character ID number looks.
var maskedID = regexp.MustCompile(`^\d{6}\*{8}\d{3}[\dX]$`)

// fullID is how an unmasked one looks.
var fullID = regexp.MustCompile(`^\d{17}[\dX]$`)

// testExportScope reads exports back and checks they hold the caller's
// jurisdiction only, with masked ID numbers.
func testExportScope(t *testing.T, f *accessFixture) {
	full := map[string]bool{}
	for _, n := range f.numbers {
		full[n] = true
	}
	for _, who := range []string{"reviewer_" + xuhui, "adviser_" + pudong, "city_admin_" + city} {
		c := f.caller(t, who)
		prefix := auth.JurisdictionPrefix(c.division)
		rec := f.serve(f.req("GET", "/api/v1/persons/export.xlsx", c.token))
		if rec.Code != 200 {
			t.Fatalf("%s: export status %d: %s", who, rec.Code, truncate(rec.Body.String()))
		}
		tab, err := tabular.Read(bytes.NewReader(rec.Body.Bytes()), "export.xlsx", 64<<20)
		if err != nil {
			t.Fatalf("%s: read export: %v", who, err)
		}
		col := func(name string) int {
			i := slices.Index(tab.Header, name)
			if i < 0 {
				t.Fatalf("%s: export has no column %s: %v", who, name, tab.Header)
			}
			return i
		}
		hukou, residence, masked := col("户籍地代码"), col("居住地代码"), col("身份证号（脱敏）")
		want := f.count(t, `SELECT COUNT(*) FROM persons WHERE `+inDistrict, prefix+"%")
		if int64(len(tab.Rows)) != want {
			t.Errorf("%s: export has %d rows, want %d", who, len(tab.Rows), want)
		}
		for _, r := range tab.Rows {
			if !strings.HasPrefix(r.Get(hukou), prefix) && !strings.HasPrefix(r.Get(residence), prefix) {
				t.Errorf("%s: export row %d registered in %q, living in %q: outside %s", who, r.Line, r.Get(hukou), r.Get(residence), c.division)
			}
			if m := r.Get(masked); !maskedID.MatchString(m) {
				t.Errorf("%s: export row %d has ID number %q, want a masked one", who, r.Line, m)
			}
			for _, cell := range r.Cells {
				if full[cell] || fullID.MatchString(cell) {
					t.Errorf("%s: export row %d holds a full ID number", who, r.Line)
				}
			}
		}
	}
}

// testRevealAudited checks that reading a full ID number leaves an audit
// entry naming the reader and the person.
func testRevealAudited(t *testing.T, f *accessFixture) {
	ctx := context.Background()
	c := f.caller(t, "reviewer_"+xuhui)
	id := f.only[xuhui]
	filter := audit.Filter{Action: "person.view_id_number", Actor: c.name, EntityID: fmt.Sprint(id)}
	before, err := f.App.Audit.List(ctx, filter)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		ID       int64  `json:"id"`
		IDNumber string `json:"id_number"`
	}
	rec := f.serve(f.req("GET", fmt.Sprintf("/api/v1/persons/%d/id-number", id), c.token))
	if rec.Code != 200 {
		t.Fatalf("reveal: status %d: %s", rec.Code, rec.Body.String())
	}
	if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
		t.Errorf("reveal: Cache-Control %q, want no-store", cc)
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || got.ID != id || got.IDNumber != f.numbers[id] {
		t.Fatalf("reveal: got %+v (%v), want id %d, number %s", got, err, id, f.numbers[id])
	}
	after, err := f.App.Audit.List(ctx, filter)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before)+1 {
		t.Fatalf("audit entries for %s viewing person %d: %d before, %d after; want one more", c.name, id, len(before), len(after))
	}
	e := after[0]
	if e.Role != string(auth.Reviewer) || e.Entity != "person" || strings.Contains(e.Detail, f.numbers[id]) {
		t.Errorf("audit entry %+v: want role reviewer, entity person, no full ID number in the detail", e)
	}
}

// testUserScope checks that account lists hold the accounts inside the
// caller's jurisdiction, all of them.
func testUserScope(t *testing.T, f *accessFixture) {
	for _, who := range []string{"district_admin_" + xuhui, "auditor_" + pudong, "city_admin_" + city} {
		c := f.caller(t, who)
		prefix := auth.JurisdictionPrefix(c.division)
		var res struct {
			Total int         `json:"total"`
			Items []auth.User `json:"items"`
		}
		f.get(t, "/api/v1/users", c.token, 200, &res)
		want := f.count(t, `SELECT COUNT(*) FROM users WHERE division LIKE $1`, prefix+"%")
		if int64(res.Total) != want || len(res.Items) != res.Total {
			t.Errorf("%s: total %d, %d items; want %d", who, res.Total, len(res.Items), want)
		}
		for _, u := range res.Items {
			if !strings.HasPrefix(u.Division, prefix) {
				t.Errorf("%s: lists %s of %s, outside %s", who, u.Name, u.Division, c.division)
			}
		}
	}
}

// testPayrollScope checks that payroll totals and figures cover exactly
// the ledger lines of the caller's jurisdiction (by 户籍地), and that the
// walk's sign-offs were recorded for the approvers' own districts.
func testPayrollScope(t *testing.T, f *accessFixture) {
	ledger := func(period, prefix string) (lines int64, yuan float64) {
		lines = f.count(t, `SELECT COUNT(*) FROM ledger WHERE period = $1 AND division LIKE $2`, period, prefix+"%")
		return lines, float64(f.count(t, `SELECT COALESCE(SUM(fen), 0) FROM ledger WHERE period = $1 AND division LIKE $2`, period, prefix+"%")) / 100
	}
	near := func(a, b float64) bool { return a-b < 0.005 && b-a < 0.005 }
	for _, who := range []string{"reviewer_" + xuhui, "approver_" + pudong, "auditor_" + city} {
		c := f.caller(t, who)
		prefix := auth.JurisdictionPrefix(c.division)
		var list struct {
			Periods []payroll.Period `json:"periods"`
		}
		f.get(t, "/api/v1/payroll/periods", c.token, 200, &list)
		var listed []string
		for _, p := range list.Periods {
			listed = append(listed, p.Period)
			lines, amount := ledger(p.Period, prefix)
			if p.Lines != lines || !near(p.Amount, amount) {
				t.Errorf("%s: period %s has %d lines, %.2f yuan; the ledger in %s has %d lines, %.2f yuan", who, p.Period, p.Lines, p.Amount, c.division, lines, amount)
			}
		}
		for _, p := range f.periods {
			if !slices.Contains(listed, p) {
				t.Errorf("%s: periods %v, want %s among them", who, listed, p)
			}
		}
		for _, period := range f.periods {
			var figs struct {
				Period  string           `json:"period"`
				Figures []payroll.Figure `json:"figures"`
			}
			f.get(t, "/api/v1/payroll/"+period+"/figures", c.token, 200, &figs)
			var amount float64
			seen := map[string]bool{}
			for _, g := range figs.Figures {
				if !strings.HasPrefix(g.District, prefix) {
					t.Errorf("%s: figures of %s hold district %s, outside %s", who, period, g.District, c.division)
				}
				amount += g.Amount
				seen[g.District] = true
				// Each approver signed off their own district in the walk,
				// for the first period.
				if want := "approver_" + g.District; period == f.periods[0] && (g.District == xuhui || g.District == pudong) && g.SignedBy != want {
					t.Errorf("%s: %s %s signed off by %q, want %s", who, period, g.District, g.SignedBy, want)
				}
			}
			if _, want := ledger(period, prefix); figs.Period != period || !near(amount, want) {
				t.Errorf("%s: figures of %s (period %q) add up to %.2f yuan, the ledger in %s to %.2f", who, period, figs.Period, amount, c.division, want)
			}
			for _, d := range []string{xuhui, pudong} {
				if strings.HasPrefix(d, prefix) && !seen[d] {
					t.Errorf("%s: figures of %s have no row for %s, where %d is paid", who, period, d, f.only[d])
				}
			}
		}
	}
}
