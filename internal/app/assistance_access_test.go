package app_test

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"mime/multipart"
	"net/http"
	"reflect"
	"slices"
	"testing"

	"minzheng/internal/assistance"
	"minzheng/internal/auth"
	"minzheng/internal/registry"
)

// The social assistance routes of the access walk. They live in their own
// file so the business lines do not all edit one map literal; init adds
// them to accessTable before any test runs.
func init() {
	chainless := []auth.Role{auth.DistrictAdmin, auth.CityAdmin, auth.Auditor}
	for pattern, rc := range map[string]routeCase{
		"GET /api/v1/applications": {
			// Every role reads the cases of its jurisdiction (the list is
			// filtered; TestAssistanceChain checks the filter).
			request: getPath("/api/v1/applications"),
			want:    every(200, 200),
		},
		"GET /api/v1/applications/overdue": {
			request: getPath("/api/v1/applications/overdue"),
			want:    every(200, 200),
		},
		"POST /api/v1/applications": {
			// Only a clerk starts an application, for a household
			// registered in the jurisdiction; a person elsewhere reads as
			// absent.
			request: func(f *accessFixture, t *testing.T, tok, d string) *http.Request {
				id, _ := f.newHousehold(t, d)
				return jsonRequest(t, "POST", "/api/v1/applications", tok, assistance.NewApplication{PersonID: id, Programs: []string{"dibao", "temporary"}})
			},
			want: every(403, 403).but(201, 404, auth.Clerk),
		},
		"GET /api/v1/applications/{id}": {
			request: func(f *accessFixture, t *testing.T, tok, d string) *http.Request {
				return f.req("GET", fmt.Sprintf("/api/v1/applications/%d", f.application(t, d)), tok)
			},
			want: every(200, 404),
		},
		"POST /api/v1/applications/{id}/transitions": {
			// 受理 → 核对 is the clerk's; roles that act in no transition
			// are refused before the case is looked up. Every transition,
			// role and conflict of interest is walked in
			// TestAssistanceTransitionsRefused.
			request: func(f *accessFixture, t *testing.T, tok, d string) *http.Request {
				id := f.newApplication(t, d, assistance.Submitted)
				return jsonRequest(t, "POST", fmt.Sprintf("/api/v1/applications/%d/transitions", id), tok, assistance.Move{To: assistance.Verifying})
			},
			want: every(403, 404).but(200, 404, auth.Clerk).but(403, 403, chainless...),
		},
		"POST /api/v1/applications/{id}/materials": {
			request: func(f *accessFixture, t *testing.T, tok, d string) *http.Request {
				id := f.application(t, d)
				return materialRequest(t, id, tok, "id_card", "身份证.pdf", []byte("%PDF-1.4 test"))
			},
			want: every(403, 403).but(201, 404, auth.Clerk, auth.Adviser),
		},
		"POST /api/v1/applications/{id}/members": {
			// A member the register lacks: registered in the household and
			// joined to the application; only clerks open applications.
			request: func(f *accessFixture, t *testing.T, tok, d string) *http.Request {
				id := f.application(t, d)
				c := f.committee[d]
				body := registry.NewPerson{Name: "测试新成员", IDNumber: f.newNumber(d), Relation: "子女", HukouDivision: c, ResidenceDivision: c}
				return jsonRequest(t, "POST", fmt.Sprintf("/api/v1/applications/%d/members", id), tok, body)
			},
			want: every(403, 403).but(201, 404, auth.Clerk),
		},
		"POST /api/v1/applications/{id}/verification": {
			request: func(f *accessFixture, t *testing.T, tok, d string) *http.Request {
				id := f.newApplication(t, d, assistance.Verifying)
				body := assistance.VerificationBatch{Records: []assistance.VerificationRecord{{IDNumber: f.heads[id], Source: "wage", Amount: 800}}}
				return jsonRequest(t, "POST", fmt.Sprintf("/api/v1/applications/%d/verification", id), tok, body)
			},
			want: every(403, 403).but(201, 404, auth.Clerk, auth.DistrictAdmin, auth.CityAdmin),
		},
		"POST /api/v1/relatives": {
			// Staff who act in the chain put their own relatives on file;
			// the district of the target does not matter.
			request: func(f *accessFixture, t *testing.T, tok, d string) *http.Request {
				return jsonRequest(t, "POST", "/api/v1/relatives", tok, assistance.NewRelative{Name: "测试亲属", IDNumber: f.newNumber(d), Relation: "兄弟姐妹"})
			},
			want: every(403, 403).but(201, 201, auth.Clerk, auth.Adviser, auth.Reviewer, auth.Approver),
		},
	} {
		accessTable[pattern] = rc
	}
}

// newHousehold registers a one-person household in a committee of the
// district and returns the person and their ID number.
func (f *accessFixture) newHousehold(t *testing.T, d string) (int64, string) {
	t.Helper()
	number, c := f.newNumber(d), f.committee[d]
	x, err := f.App.Registry.Create(context.Background(), auth.System(), registry.NewPerson{Name: "测试申请" + number[14:17], IDNumber: number,
		HukouDivision: c, ResidenceDivision: c, Relation: "户主", MonthlyIncome: 800})
	if err != nil {
		t.Fatalf("register a household in %s: %v", d, err)
	}
	return x.ID, number
}

// newApplication starts an application for a new household of the
// district and moves it to state (受理 or 核对), as the district's clerk.
func (f *accessFixture) newApplication(t *testing.T, d string, state assistance.State) int64 {
	t.Helper()
	ctx := context.Background()
	person, number := f.newHousehold(t, d)
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
	if f.heads == nil {
		f.heads = map[int64]string{}
	}
	f.heads[a.ID] = number
	return a.ID
}

// application returns one open application of the district, started on
// first use.
func (f *accessFixture) application(t *testing.T, d string) int64 {
	if f.apps == nil {
		f.apps = map[string]int64{}
	}
	if id, ok := f.apps[d]; ok {
		return id
	}
	f.apps[d] = f.newApplication(t, d, assistance.Submitted)
	return f.apps[d]
}

// materialRequest uploads a file as a material of an application.
func materialRequest(t *testing.T, id int64, tok, kind, name string, content []byte) *http.Request {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("kind", kind)
	w, err := mw.CreateFormFile("file", name)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(content)
	mw.Close()
	return newRequest("POST", fmt.Sprintf("/api/v1/applications/%d/materials", id), tok, mw.FormDataContentType(), body.Bytes())
}

// assistanceSamples are the social assistance requests of
// TestOpenAPIResponses: a clerk and an adviser of 徐汇, a city
// administrator, a committee of 徐汇, and a person of 浦东.
func assistanceSamples(t *testing.T, s *apiServer, clerk, adviser, admin, committee string, number func() string, outsider int64) []sample {
	ctx := context.Background()
	household := func() (int64, string) {
		n := number()
		x, err := s.App.Registry.Create(ctx, auth.System(), registry.NewPerson{Name: "赵救助", IDNumber: n, HukouDivision: committee, ResidenceDivision: committee, MonthlyIncome: 600})
		if err != nil {
			t.Fatal(err)
		}
		return x.ID, n
	}
	clerkP := auth.Principal{Name: "clerk", Role: auth.Clerk, Division: xuhui}
	// One case in 受理 and one in 核对, started before the samples run.
	p1, _ := household()
	first, err := s.App.Assistance.Create(ctx, clerkP, assistance.NewApplication{PersonID: p1, Programs: []string{"dibao"}})
	if err != nil {
		t.Fatal(err)
	}
	p2, n2 := household()
	second, err := s.App.Assistance.Create(ctx, clerkP, assistance.NewApplication{PersonID: p2, Programs: []string{"dibao", "temporary"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.App.Assistance.Move(ctx, clerkP, second.ID, assistance.Move{To: assistance.Verifying}); err != nil {
		t.Fatal(err)
	}
	p3, _ := household()
	get := func(path, token string) func() *http.Request {
		return func() *http.Request { return newRequest("GET", path, token, "", nil) }
	}
	post := func(path, token string, body any) func() *http.Request {
		return func() *http.Request { return jsonRequest(t, "POST", path, token, body) }
	}
	app := func(id int64, rest string) string { return fmt.Sprintf("/api/v1/applications/%d%s", id, rest) }
	csvUpload := func(id int64, csv string) func() *http.Request {
		return func() *http.Request {
			var body bytes.Buffer
			mw := multipart.NewWriter(&body)
			w, _ := mw.CreateFormFile("file", "核对.csv")
			w.Write([]byte(csv))
			mw.Close()
			return newRequest("POST", app(id, "/verification"), clerk, mw.FormDataContentType(), body.Bytes())
		}
	}
	return []sample{
		{name: "applications", req: get("/api/v1/applications?limit=5", adviser), status: 200},
		{name: "applications, unknown state", req: get("/api/v1/applications?state=nope", adviser), status: 422, field: "state"},
		{name: "applications overdue", req: get("/api/v1/applications/overdue", admin), status: 200},
		{name: "start an application", req: post("/api/v1/applications", clerk, assistance.NewApplication{PersonID: p3, Programs: []string{"dibao", "temporary"},
			DeclaredIncomeFen: map[string]int64{fmt.Sprint(p3): 60000}, DeclaredDepositsFen: 500000}), status: 201},
		{name: "start an application, unknown programme", req: post("/api/v1/applications", clerk, assistance.NewApplication{PersonID: p3, Programs: []string{"nope"}}), status: 422, badReq: true, field: "programs[0]"},
		{name: "start an application, second open one", req: post("/api/v1/applications", clerk, assistance.NewApplication{PersonID: p1, Programs: []string{"dibao"}}), status: 409},
		{name: "start an application, outside the jurisdiction", req: post("/api/v1/applications", clerk, assistance.NewApplication{PersonID: outsider, Programs: []string{"dibao"}}), status: 404},
		{name: "start an application, adviser", req: post("/api/v1/applications", adviser, assistance.NewApplication{PersonID: p3, Programs: []string{"dibao"}}), status: 403},
		{name: "application", req: get(app(first.ID, ""), adviser), status: 200},
		{name: "application with a report", req: get(app(second.ID, ""), admin), status: 200},
		{name: "no such application", req: get(app(99999999, ""), adviser), status: 404},
		{name: "material", req: func() *http.Request {
			return materialRequest(t, first.ID, clerk, "income_proof", "收入证明.pdf", []byte("%PDF-1.4"))
		}, status: 201},
		{name: "add a member the register lacks", req: post(app(first.ID, "/members"), clerk, registry.NewPerson{Name: "新生儿", IDNumber: number(), Relation: "子女", HukouDivision: committee, ResidenceDivision: committee}), status: 201},
		{name: "add a member, bad ID number", req: post(app(first.ID, "/members"), clerk, registry.NewPerson{Name: "新生儿", IDNumber: "31010420250301001", Relation: "子女", ResidenceDivision: committee}), status: 422, field: "id_number"},
		{name: "add a member, adviser", req: post(app(first.ID, "/members"), adviser, registry.NewPerson{Name: "新生儿", IDNumber: number(), Relation: "子女", ResidenceDivision: committee}), status: 403},
		{name: "material, executable", req: func() *http.Request { return materialRequest(t, first.ID, clerk, "other", "a.exe", []byte("MZ")) }, status: 422, field: "file"},
		{name: "verification, bad record", req: post(app(second.ID, "/verification"), clerk, assistance.VerificationBatch{Records: []assistance.VerificationRecord{{IDNumber: n2, Source: "彩票", Amount: 1}}}), status: 422, field: "records[0].source"},
		{name: "verification file, bad row", req: csvUpload(second.ID, "身份证号,数据来源,金额\n"+n2+",工资收入,abc\n"), status: 422, field: "rows[2].amount"},
		{name: "verification", req: post(app(second.ID, "/verification"), clerk, assistance.VerificationBatch{Records: []assistance.VerificationRecord{
			{IDNumber: n2, Source: "wage", Amount: 600, Detail: "某公司"}, {IDNumber: n2, Source: "deposit", Amount: 3000}}}), status: 201},
		{name: "verification file", req: csvUpload(second.ID, "身份证号,数据来源,金额,说明\n"+n2+",工资收入,600,某公司\n"+n2+",不动产,0,房产一处\n"), status: 201},
		{name: "verification, wrong state", req: post(app(first.ID, "/verification"), clerk, assistance.VerificationBatch{Records: []assistance.VerificationRecord{{IDNumber: n2, Source: "wage"}}}), status: 409},
		{name: "move", req: post(app(first.ID, "/transitions"), clerk, assistance.Move{To: assistance.Verifying}), status: 200},
		{name: "move, not the next state", req: post(app(first.ID, "/transitions"), clerk, assistance.Move{To: assistance.Granted}), status: 409},
		{name: "move to the visit, report on file", req: post(app(second.ID, "/transitions"), clerk, assistance.Move{To: assistance.Visiting, Note: "x"}), status: 200},
		{name: "move, no photos", req: post(app(second.ID, "/transitions"), adviser, assistance.Move{To: assistance.Notice}), status: 422, field: "materials"},
		{name: "move, wrong role", req: post(app(second.ID, "/transitions"), clerk, assistance.Move{To: assistance.Notice}), status: 403},
		{name: "move, unknown field", req: post(app(second.ID, "/transitions"), adviser, map[string]any{"to": "notice", "photo": true}), status: 422, badReq: true, field: "photo"},
		{name: "relative", req: post("/api/v1/relatives", adviser, assistance.NewRelative{Name: "钱亲属", IDNumber: number(), Relation: "配偶"}), status: 201},
		{name: "relative, bad number", req: post("/api/v1/relatives", adviser, assistance.NewRelative{Name: "钱亲属", IDNumber: "123", Relation: "配偶"}), status: 422, field: "id_number"},
		{name: "relative, administrator", req: post("/api/v1/relatives", admin, assistance.NewRelative{Name: "钱亲属", IDNumber: number(), Relation: "配偶"}), status: 403},
	}
}

// TestAssistanceSchemasMatchGo checks that the social assistance schemas
// of openapi.json name exactly the JSON fields of the Go types, and that
// response schemas require exactly those always sent.
func TestAssistanceSchemasMatchGo(t *testing.T) {
	d := loadOpenAPI(t)
	for _, tc := range []struct {
		schema   string
		value    any
		response bool
	}{
		{"Application", assistance.Application{}, true},
		{"ProgramStatus", assistance.ProgramStatus{}, true},
		{"ApplicationList", assistance.List{}, true},
		{"ApplicationMember", assistance.Member{}, true},
		{"ApplicationStep", assistance.Step{}, true},
		{"Material", assistance.Material{}, true},
		{"Objection", assistance.Objection{}, true},
		{"PrecheckCondition", assistance.Condition{}, true},
		{"Precheck", assistance.Precheck{}, true},
		{"VerificationFinding", assistance.Finding{}, true},
		{"VerificationReport", assistance.Report{}, true},
		{"NextAction", assistance.NextAction{}, true},
		{"ApplicationCase", assistance.Case{}, true},
		{"Relative", assistance.Relative{}, true},
		{"NewApplication", assistance.NewApplication{}, false},
		{"Move", assistance.Move{}, false},
		{"VerificationRecord", assistance.VerificationRecord{}, false},
		{"VerificationBatch", assistance.VerificationBatch{}, false},
		{"NewRelative", assistance.NewRelative{}, false},
	} {
		s, ok := d.lookup("#/components/schemas/" + tc.schema)
		if !ok {
			t.Errorf("no schema %s", tc.schema)
			continue
		}
		props, required := d.objectSchema(s)
		names, always := jsonFields(reflect.TypeOf(tc.value))
		documented := slices.Sorted(maps.Keys(props))
		slices.Sort(names)
		if !slices.Equal(documented, names) {
			t.Errorf("schema %s has properties %v; %T has JSON fields %v", tc.schema, documented, tc.value, names)
		}
		if tc.response {
			slices.Sort(required)
			slices.Sort(always)
			if !slices.Equal(required, always) {
				t.Errorf("schema %s requires %v; %T always sends %v", tc.schema, required, tc.value, always)
			}
		}
	}
}
