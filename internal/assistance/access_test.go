package assistance_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"minzheng/internal/app/apptest"
	"minzheng/internal/assistance"
	"minzheng/internal/auth"
	"minzheng/internal/registry"
)

const (
	xuhui  = apptest.Xuhui
	pudong = apptest.Pudong
	city   = apptest.City
)

// chainless are the roles that act in no transition of the chain.
var chainless = []auth.Role{auth.DistrictAdmin, auth.CityAdmin, auth.Auditor}

// accessTable has one entry per /api/v1 route of social assistance. A
// route without an entry fails TestAccess: decide who may call it before
// shipping it.
var accessTable = map[string]apptest.RouteCase{
	"GET /api/v1/applications": {
		// Every role reads the cases of its jurisdiction (the list is
		// filtered; TestAssistanceChain checks the filter).
		Request: apptest.GetPath("/api/v1/applications"),
		Want:    apptest.Every(200, 200),
	},
	"GET /api/v1/applications/overdue": {
		Request: apptest.GetPath("/api/v1/applications/overdue"),
		Want:    apptest.Every(200, 200),
	},
	"POST /api/v1/applications": {
		// Only a clerk starts an application, for a household registered
		// in the jurisdiction; a person elsewhere reads as absent.
		Request: func(f *apptest.Fixture, t *testing.T, tok, d string) *http.Request {
			id, _ := newHousehold(f, t, d)
			return apptest.JSONRequest(t, "POST", "/api/v1/applications", tok, assistance.NewApplication{PersonID: id, Programs: []string{"dibao", "temporary"}})
		},
		Want: apptest.Every(403, 403).But(201, 404, auth.Clerk),
	},
	"GET /api/v1/applications/{id}": {
		Request: func(f *apptest.Fixture, t *testing.T, tok, d string) *http.Request {
			return apptest.NewRequest("GET", fmt.Sprintf("/api/v1/applications/%d", application(f, t, d)), tok, "", nil)
		},
		Want: apptest.Every(200, 404),
	},
	"POST /api/v1/applications/{id}/transitions": {
		// 受理 → 核对 is the clerk's; roles that act in no transition are
		// refused before the case is looked up. Every transition, role and
		// conflict of interest is walked in TestAssistanceTransitionsRefused.
		Request: func(f *apptest.Fixture, t *testing.T, tok, d string) *http.Request {
			id, _ := newApplication(f, t, d, assistance.Submitted)
			return apptest.JSONRequest(t, "POST", fmt.Sprintf("/api/v1/applications/%d/transitions", id), tok, assistance.Move{To: assistance.Verifying})
		},
		Want: apptest.Every(403, 404).But(200, 404, auth.Clerk).But(403, 403, chainless...),
	},
	"POST /api/v1/applications/{id}/materials": {
		Request: func(f *apptest.Fixture, t *testing.T, tok, d string) *http.Request {
			return materialRequest(application(f, t, d), tok, "id_card", "身份证.pdf", []byte("%PDF-1.4 test"))
		},
		Want: apptest.Every(403, 403).But(201, 404, auth.Clerk, auth.Adviser),
	},
	"POST /api/v1/applications/{id}/members": {
		// A member the register lacks: registered in the household and
		// joined to the application; only clerks open applications.
		Request: func(f *apptest.Fixture, t *testing.T, tok, d string) *http.Request {
			id := application(f, t, d)
			c := f.Committee[d]
			body := registry.NewPerson{Name: "测试新成员", IDNumber: f.NewNumber(d), Relation: "子女", HukouDivision: c, ResidenceDivision: c}
			return apptest.JSONRequest(t, "POST", fmt.Sprintf("/api/v1/applications/%d/members", id), tok, body)
		},
		Want: apptest.Every(403, 403).But(201, 404, auth.Clerk),
	},
	"POST /api/v1/applications/{id}/verification": {
		Request: func(f *apptest.Fixture, t *testing.T, tok, d string) *http.Request {
			id, head := newApplication(f, t, d, assistance.Verifying)
			body := assistance.VerificationBatch{Records: []assistance.VerificationRecord{{IDNumber: head, Source: "wage", Amount: 800}}}
			return apptest.JSONRequest(t, "POST", fmt.Sprintf("/api/v1/applications/%d/verification", id), tok, body)
		},
		Want: apptest.Every(403, 403).But(201, 404, auth.Clerk, auth.DistrictAdmin, auth.CityAdmin),
	},
	"POST /api/v1/relatives": {
		// Staff who act in the chain put their own relatives on file; the
		// district of the target does not matter.
		Request: func(f *apptest.Fixture, t *testing.T, tok, d string) *http.Request {
			return apptest.JSONRequest(t, "POST", "/api/v1/relatives", tok, assistance.NewRelative{Name: "测试亲属", IDNumber: f.NewNumber(d), Relation: "兄弟姐妹"})
		},
		Want: apptest.Every(403, 403).But(201, 201, auth.Clerk, auth.Adviser, auth.Reviewer, auth.Approver),
	},
}

// TestAccess walks the social assistance routes with every role from two
// districts.
func TestAccess(t *testing.T) {
	apptest.Walk(t, "assistance", accessTable)
}

// newHousehold registers a one-person household in a committee of the
// district and returns the person and their ID number.
func newHousehold(f *apptest.Fixture, t *testing.T, d string) (int64, string) {
	t.Helper()
	number, c := f.NewNumber(d), f.Committee[d]
	x, err := f.App.Registry.Create(context.Background(), auth.System(), registry.NewPerson{Name: "测试申请" + number[14:17], IDNumber: number,
		HukouDivision: c, ResidenceDivision: c, Relation: "户主", MonthlyIncome: 800})
	if err != nil {
		t.Fatalf("register a household in %s: %v", d, err)
	}
	return x.ID, number
}

// newApplication starts an application for a new household of the
// district and moves it to state (受理 or 核对), as the district's clerk.
// It returns the application and its applicant's ID number.
func newApplication(f *apptest.Fixture, t *testing.T, d string, state assistance.State) (int64, string) {
	t.Helper()
	ctx := context.Background()
	person, number := newHousehold(f, t, d)
	clerk := auth.Principal{Name: "clerk_" + d, Role: auth.Clerk, Division: d}
	a, err := f.App.Assistance.Create(ctx, clerk, assistance.NewApplication{PersonID: person, Programs: []string{"dibao"}})
	if err != nil {
		t.Fatalf("start an application in %s: %v", d, err)
	}
	if state == assistance.Verifying {
		if _, err := f.App.Assistance.Move(ctx, clerk, a.ID, assistance.Move{To: assistance.Verifying}); err != nil {
			t.Fatalf("move application %d: %v", a.ID, err)
		}
	}
	return a.ID, number
}

// application returns one open application of the district, started on
// first use.
func application(f *apptest.Fixture, t *testing.T, d string) int64 {
	return f.Memo("application "+d, func() int64 {
		id, _ := newApplication(f, t, d, assistance.Submitted)
		return id
	})
}

// materialRequest uploads a file as a material of an application.
func materialRequest(id int64, tok, kind, name string, content []byte) *http.Request {
	return apptest.MultipartRequest("POST", fmt.Sprintf("/api/v1/applications/%d/materials", id), tok,
		map[string]string{"kind": kind}, apptest.File{Field: "file", Name: name, Content: content})
}
