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
// (internal/assistance/openapi.json) name exactly the JSON fields of the
// Go types, and that response schemas require exactly those always sent.
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
