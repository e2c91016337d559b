package registry_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"minzheng/internal/app/apptest"
	"minzheng/internal/audit"
	"minzheng/internal/auth"
	"minzheng/internal/registry"
	"minzheng/internal/tabular"
)

const (
	xuhui  = apptest.Xuhui
	pudong = apptest.Pudong
	city   = apptest.City
)

// accessTable has one entry per /api/v1 route of the register. A route
// without an entry fails TestAccess: decide who may call it before
// shipping it.
var accessTable = map[string]apptest.RouteCase{
	"GET /api/v1/persons": {
		Request: apptest.GetFor(func(f *apptest.Fixture, d string) string {
			return "/api/v1/persons?q=" + url.QueryEscape(f.Names[d])
		}),
		Want: apptest.Every(200, 200),
	},
	"POST /api/v1/persons": {
		Request: func(f *apptest.Fixture, t *testing.T, tok, d string) *http.Request {
			number, c := f.NewNumber(d), f.Committee[d]
			body := registry.NewPerson{Name: "测试登记" + number[14:17], IDNumber: number, HukouDivision: c, ResidenceDivision: c, Relation: "户主"}
			return apptest.JSONRequest(t, "POST", "/api/v1/persons", tok, body)
		},
		Want:  apptest.Every(403, 403).But(201, 422, auth.Clerk, auth.DistrictAdmin, auth.CityAdmin),
		Field: "residence_division",
	},
	"GET /api/v1/persons/export.xlsx": {
		Request: apptest.GetFor(func(f *apptest.Fixture, d string) string {
			return "/api/v1/persons/export.xlsx?q=" + url.QueryEscape(f.Names[d])
		}),
		Want: apptest.Every(200, 200),
	},
	"GET /api/v1/persons/{id}": {
		// Outside the jurisdiction reads as absent.
		Request: apptest.GetFor(func(f *apptest.Fixture, d string) string { return fmt.Sprintf("/api/v1/persons/%d", f.Only[d]) }),
		Want:    apptest.Every(200, 404),
	},
	"PATCH /api/v1/persons/{id}": {
		// Changing facts needs person.write, checked before the
		// jurisdiction: a role without it gets 403 wherever the person
		// lives; a writer gets 404 outside the jurisdiction, as in reading.
		Request: func(f *apptest.Fixture, t *testing.T, tok, d string) *http.Request {
			income := int64(1000 + f.Next())
			return apptest.JSONRequest(t, "PATCH", fmt.Sprintf("/api/v1/persons/%d", f.Only[d]), tok, registry.FactsUpdate{MonthlyIncome: &income})
		},
		Want: apptest.Every(403, 403).But(200, 404, auth.Clerk, auth.DistrictAdmin, auth.CityAdmin),
	},
	"GET /api/v1/persons/{id}/id-number": {
		Request: apptest.GetFor(func(f *apptest.Fixture, d string) string {
			return fmt.Sprintf("/api/v1/persons/%d/id-number", f.Only[d])
		}),
		Want: apptest.Every(200, 404).But(403, 403, auth.Clerk, auth.Adviser),
	},
	"POST /api/v1/persons/import": {
		Request: importRequest,
		// A file of people outside the jurisdiction is refused row by row:
		// 422 with the import report.
		Want:  apptest.Every(403, 403).But(200, 422, auth.Clerk, auth.DistrictAdmin, auth.CityAdmin),
		Field: "residence_division",
	},
}

// importRequest uploads a CSV file of a two-person household in district d.
func importRequest(f *apptest.Fixture, t *testing.T, token, d string) *http.Request {
	hh, c := f.Next(), f.Committee[d]
	head, spouse := f.NewNumber(d), f.NewNumber(d)
	var csv bytes.Buffer
	csv.WriteString("户号,姓名,身份证号,与户主关系,户籍地代码,居住地代码\n")
	fmt.Fprintf(&csv, "T%d,测试导入%d甲,%s,户主,%s,%s\n", hh, hh, head, c, c)
	fmt.Fprintf(&csv, "T%d,测试导入%d乙,%s,配偶,%s,%s\n", hh, hh, spouse, c, c)
	return apptest.MultipartRequest("POST", "/api/v1/persons/import", token, nil, apptest.File{Field: "file", Name: "people.csv", Content: csv.Bytes()})
}

// TestAccess walks the register's routes with every role from two
// districts, then checks that searches, exports and reads of full ID
// numbers keep to the jurisdiction.
func TestAccess(t *testing.T) {
	apptest.Walk(t, "registry", accessTable,
		apptest.Check{Name: "search scope", Run: testSearchScope},
		apptest.Check{Name: "export scope", Run: testExportScope},
		apptest.Check{Name: "id number is audited", Run: testRevealAudited},
	)
}

// inDistrict is the independent SQL condition "registered or living in
// the district", written with LIKE rather than the service's code ranges.
const inDistrict = `(hukou_division LIKE $1 OR residence_division LIKE $1)`

// testSearchScope checks that a district caller's search counts and
// returns exactly the people registered or living in the district.
func testSearchScope(t *testing.T, f *apptest.Fixture) {
	for _, who := range []string{"reviewer_" + xuhui, "clerk_" + pudong, "auditor_" + city} {
		c := f.Caller(t, who)
		prefix := auth.JurisdictionPrefix(c.Division)
		want := f.Count(t, `SELECT COUNT(*) FROM persons WHERE `+inDistrict, prefix+"%")
		if want < 20 {
			t.Fatalf("%s: only %d persons in scope; the fixture is too small to mean much", who, want)
		}
		var seen int64
		for off := 0; ; off += 200 {
			var res registry.SearchResult
			f.Get(t, fmt.Sprintf("/api/v1/persons?q=&limit=200&offset=%d", off), c.Token, 200, &res)
			if res.Total != want {
				t.Fatalf("%s: total %d, want %d (persons registered or living in %s)", who, res.Total, want, c.Division)
			}
			for _, x := range res.Items {
				if !strings.HasPrefix(x.HukouDivision, prefix) && !strings.HasPrefix(x.ResidenceDivision, prefix) {
					t.Errorf("%s: item %d (%s) registered in %q, living in %q: outside %s", who, x.ID, x.Name, x.HukouDivision, x.ResidenceDivision, c.Division)
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
		f.Get(t, fmt.Sprintf("/api/v1/persons/%d", f.Cross), f.Caller(t, who).Token, want, nil)
	}
	huangpu := f.Staff(t, "reviewer_310101", auth.Reviewer, "310101")
	f.Get(t, fmt.Sprintf("/api/v1/persons/%d", f.Cross), huangpu, 404, nil)
	var res registry.SearchResult
	f.Get(t, "/api/v1/persons?q="+url.QueryEscape("测试人户分离"), huangpu, 200, &res)
	if res.Total != 0 || len(res.Items) != 0 {
		t.Errorf("黄浦 reviewer finds %d persons named 测试人户分离, want 0", res.Total)
	}
}

// maskedID is how a masked 18-character ID number looks.
var maskedID = regexp.MustCompile(`^\d{6}\*{8}\d{3}[\dX]$`)

// fullID is how an unmasked one looks.
var fullID = regexp.MustCompile(`^\d{17}[\dX]$`)

// testExportScope reads exports back and checks they hold the caller's
// jurisdiction only, with masked ID numbers.
func testExportScope(t *testing.T, f *apptest.Fixture) {
	full := map[string]bool{}
	for _, n := range f.Numbers {
		full[n] = true
	}
	for _, who := range []string{"reviewer_" + xuhui, "adviser_" + pudong, "city_admin_" + city} {
		c := f.Caller(t, who)
		prefix := auth.JurisdictionPrefix(c.Division)
		rec := f.Serve(apptest.NewRequest("GET", "/api/v1/persons/export.xlsx", c.Token, "", nil))
		if rec.Code != 200 {
			t.Fatalf("%s: export status %d: %s", who, rec.Code, apptest.Truncate(rec.Body.String()))
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
		want := f.Count(t, `SELECT COUNT(*) FROM persons WHERE `+inDistrict, prefix+"%")
		if int64(len(tab.Rows)) != want {
			t.Errorf("%s: export has %d rows, want %d", who, len(tab.Rows), want)
		}
		for _, r := range tab.Rows {
			if !strings.HasPrefix(r.Get(hukou), prefix) && !strings.HasPrefix(r.Get(residence), prefix) {
				t.Errorf("%s: export row %d registered in %q, living in %q: outside %s", who, r.Line, r.Get(hukou), r.Get(residence), c.Division)
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
func testRevealAudited(t *testing.T, f *apptest.Fixture) {
	ctx := context.Background()
	c := f.Caller(t, "reviewer_"+xuhui)
	id := f.Only[xuhui]
	filter := audit.Filter{Action: "person.view_id_number", Actor: c.Name, EntityID: fmt.Sprint(id)}
	before, err := f.App.Audit.List(ctx, filter)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		ID       int64  `json:"id"`
		IDNumber string `json:"id_number"`
	}
	rec := f.Serve(apptest.NewRequest("GET", fmt.Sprintf("/api/v1/persons/%d/id-number", id), c.Token, "", nil))
	if rec.Code != 200 {
		t.Fatalf("reveal: status %d: %s", rec.Code, rec.Body.String())
	}
	if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
		t.Errorf("reveal: Cache-Control %q, want no-store", cc)
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || got.ID != id || got.IDNumber != f.Numbers[id] {
		t.Fatalf("reveal: got %+v (%v), want id %d, number %s", got, err, id, f.Numbers[id])
	}
	after, err := f.App.Audit.List(ctx, filter)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before)+1 {
		t.Fatalf("audit entries for %s viewing person %d: %d before, %d after; want one more", c.Name, id, len(before), len(after))
	}
	e := after[0]
	if e.Role != string(auth.Reviewer) || e.Entity != "person" || strings.Contains(e.Detail, f.Numbers[id]) {
		t.Errorf("audit entry %+v: want role reviewer, entity person, no full ID number in the detail", e)
	}
}
