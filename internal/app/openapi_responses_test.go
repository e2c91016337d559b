package app_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"minzheng/internal/app"
	"minzheng/internal/auth"
	"minzheng/internal/eligibility"
	"minzheng/internal/idcard"
	"minzheng/internal/jobs"
	"minzheng/internal/monitor"
	"minzheng/internal/payroll"
	"minzheng/internal/policy"
	"minzheng/internal/registry"
)

// sample is one request of TestOpenAPIResponses.
type sample struct {
	name   string
	req    func() *http.Request
	status int
	badReq bool   // the request body is meant to break the schema
	field  string // the field a 422 answer must name
	after  func() // runs once the answer is in, to undo what req set up
}

// TestOpenAPIResponses sends real requests of every documented operation
// and checks each answer's status is documented for it and its body
// matches the schema, and that the request bodies match theirs.
func TestOpenAPIResponses(t *testing.T) {
	d := loadOpenAPI(t)
	eachDB(t, func(t *testing.T, cfg app.Config) {
		s := openServer(t, cfg)
		ctx := context.Background()
		admin := s.staff(t, "admin", auth.CityAdmin, city)
		adviser := s.staff(t, "adviser", auth.Adviser, xuhui)
		clerk := s.staff(t, "clerk", auth.Clerk, xuhui)
		committee := firstCommittee(t, s.App.Divisions.Tree, xuhui)
		street := committee[:9]
		seq := 0
		number := func() string {
			seq++
			return idcard.Build(xuhui, time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, seq), seq)
		}
		headNumber := number()
		head, err := s.App.Registry.Create(ctx, auth.System(), registry.NewPerson{Name: "张三", IDNumber: headNumber, HukouDivision: committee, ResidenceDivision: committee, Address: "天平路 1 号"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.App.Registry.Create(ctx, auth.System(), registry.NewPerson{Name: "李四", IDNumber: number(), ResidenceDivision: committee, HouseholdID: head.HouseholdID, Relation: "配偶"}); err != nil {
			t.Fatal(err)
		}
		// Someone in 浦东, outside the adviser's jurisdiction (徐汇).
		seq++
		pudongNumber := idcard.Build(pudong, time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, seq), seq)
		pudongCommittee := firstCommittee(t, s.App.Divisions.Tree, pudong)
		outsider, err := s.App.Registry.Create(ctx, auth.System(), registry.NewPerson{Name: "王五", IDNumber: pudongNumber,
			HukouDivision: pudongCommittee, ResidenceDivision: pudongCommittee, Address: "世纪大道 1 号"})
		if err != nil {
			t.Fatal(err)
		}
		// The payroll: someone in 徐汇 and 王五 in 浦东 receive the elderly
		// allowance; the samples run the payroll of 2025-08 through the API.
		payee, err := s.App.Registry.Create(ctx, auth.System(), registry.NewPerson{Name: "陈发", IDNumber: number(), HukouDivision: committee, ResidenceDivision: committee, Address: "天平路 5 号"})
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range []registry.Person{payee, outsider} {
			if _, err := s.App.DB.ExecContext(ctx, `INSERT INTO entitlements (program, person_id, household_id, status, monthly_fen, since, proactive, decision_id, updated_at)
				VALUES ('elderly_allowance', $1, $2, 'active', 15000, '2025-01-01', 1, 0, '')`, x.ID, x.HouseholdID); err != nil {
				t.Fatal(err)
			}
		}
		approver := s.staff(t, "approver", auth.Approver, xuhui)
		reviewer := s.staff(t, "reviewer", auth.Reviewer, xuhui)
		districtCityAdmin := s.staff(t, "city_admin_xuhui", auth.CityAdmin, xuhui)
		// Another process holding the payroll's lease.
		otherProcess := &jobs.Leases{DB: s.App.DB, Holder: "elsewhere:1:test", Now: time.Now}
		put := func(path, token string, body any) func() *http.Request {
			return func() *http.Request { return jsonRequest(t, "PUT", path, token, body) }
		}
		returns := func(token, csv string) func() *http.Request {
			return func() *http.Request {
				var body bytes.Buffer
				mw := multipart.NewWriter(&body)
				if csv != "" {
					w, _ := mw.CreateFormFile("file", "returns.csv")
					w.Write([]byte(csv))
				}
				mw.Close()
				return newRequest("POST", "/api/v1/payroll/returns", token, mw.FormDataContentType(), body.Bytes())
			}
		}
		const returnsHeader = "流水号,结果,原因\n"
		paid := payroll.Reference("2025-08", "elderly_allowance", payee.ID, 1)
		paidElsewhere := payroll.Reference("2025-08", "elderly_allowance", outsider.ID, 1)
		account := fmt.Sprintf("/api/v1/persons/%d/payee-account", payee.ID)
		accountElsewhere := fmt.Sprintf("/api/v1/persons/%d/payee-account", outsider.ID)
		bankAccount := map[string]any{"bank": "工商银行", "account": "6222 0210 0111 2223", "holder": "陈发"}
		custodial := map[string]any{"bank": "农业银行", "account": "6228480012345678", "holder": "陈发", "custodial": true, "custodian": "陈小发（儿子）"}

		// A household given in full: a mother with a low income and her
		// son at school, eligible for 低保.
		yes := true
		household := &policy.Case{Subject: "mother", Members: []policy.Member{
			{ID: "mother", BirthDate: "1975-03-01", Sex: "F", HukouDivision: committee, ResidenceDivision: committee, MonthlyIncome: 800,
				Alive: &yes, Relation: "head", LivesWithFamily: &yes, MonthlyMedicalExpense: 200},
			{ID: "son", BirthDate: "2010-09-01", Sex: "M", HukouDivision: committee, ResidenceDivision: committee, Alive: &yes,
				Relation: "child", MonthlyEducationExpense: 300},
		}, Assets: policy.Assets{Deposits: 20000, Securities: 1000}}
		badBirth := *household
		badBirth.Members = slices.Clone(household.Members)
		badBirth.Members[0].BirthDate = "1975/03/01"
		get := func(path, token string) func() *http.Request {
			return func() *http.Request { return newRequest("GET", path, token, "", nil) }
		}
		post := func(path, token string, body any) func() *http.Request {
			return func() *http.Request { return jsonRequest(t, "POST", path, token, body) }
		}
		patch := func(path, token string, body any) func() *http.Request {
			return func() *http.Request { return jsonRequest(t, "PATCH", path, token, body) }
		}
		income, category, grade, badGrade, noDeath := int64(1200), "physical", 3, 5, ""
		upload := func(token, query, csv string) func() *http.Request {
			return func() *http.Request {
				var body bytes.Buffer
				mw := multipart.NewWriter(&body)
				if csv != "" {
					w, _ := mw.CreateFormFile("file", "people.csv")
					w.Write([]byte(csv))
				}
				mw.Close()
				return newRequest("POST", "/api/v1/persons/import"+query, token, mw.FormDataContentType(), body.Bytes())
			}
		}
		importHeader := "户号,姓名,身份证号,与户主关系,户籍地代码,居住地代码,出生日期,月收入,残疾类别,残疾等级,死亡日期,地址\n"
		person := fmt.Sprintf("/api/v1/persons/%d", head.ID)
		elsewhere := fmt.Sprintf("/api/v1/persons/%d", outsider.ID)
		const evaluate = "/api/v1/eligibility/evaluate"
		samples := []sample{
			{name: "document", req: get("/api/v1/openapi.json", ""), status: 200},
			{name: "me", req: get("/api/v1/me", adviser), status: 200},
			{name: "me, anonymous", req: get("/api/v1/me", ""), status: 401},
			{name: "me, bad token", req: get("/api/v1/me", "mz_nope"), status: 401},
			{name: "users", req: get("/api/v1/users", admin), status: 200},
			{name: "users, adviser", req: get("/api/v1/users", adviser), status: 403},
			{name: "create user", req: post("/api/v1/users", admin, auth.NewUser{Name: "wang.wu", Display: "王五", Role: auth.Reviewer, Division: xuhui}), status: 201},
			{name: "create user, bad role", req: post("/api/v1/users", admin, map[string]any{"name": "zhao", "role": "boss", "division": xuhui}), status: 422, badReq: true},
			{name: "create user, adviser", req: post("/api/v1/users", adviser, auth.NewUser{Name: "qian", Role: auth.Clerk, Division: xuhui}), status: 403},
			{name: "audit", req: get("/api/v1/audit?limit=5&action=person.create", admin), status: 200},
			{name: "audit, adviser", req: get("/api/v1/audit", adviser), status: 403},
			{name: "audit verify", req: get("/api/v1/audit/verify", admin), status: 200},
			{name: "city", req: get("/api/v1/divisions/"+city, admin), status: 200},
			{name: "committee", req: get("/api/v1/divisions/"+committee, adviser), status: 200},
			{name: "street", req: get("/api/v1/divisions/"+street, adviser), status: 200},
			{name: "no such division", req: get("/api/v1/divisions/999999", admin), status: 404},
			{name: "search", req: get("/api/v1/persons?q=&limit=5", adviser), status: 200},
			{name: "search by ID number", req: get("/api/v1/persons?q="+headNumber, admin), status: 200},
			{name: "create person", req: post("/api/v1/persons", admin, registry.NewPerson{Name: "赵六", IDNumber: number(), HukouDivision: committee, ResidenceDivision: committee, MonthlyIncome: 3000, DisabilityCategory: "visual", DisabilityGrade: 2, Address: "天平路 2 号"}), status: 201},
			{name: "create person, bad number", req: post("/api/v1/persons", admin, registry.NewPerson{Name: "钱七", IDNumber: badCheck(number()), ResidenceDivision: committee}), status: 422},
			{name: "create person, unknown field", req: post("/api/v1/persons", admin, map[string]any{"name": "孙八", "nickname": "八"}), status: 422, badReq: true},
			{name: "create person, adviser", req: post("/api/v1/persons", adviser, registry.NewPerson{Name: "周九", IDNumber: number(), ResidenceDivision: committee}), status: 403},
			{name: "update facts", req: patch(person, admin, registry.FactsUpdate{MonthlyIncome: &income, DisabilityCategory: &category, DisabilityGrade: &grade}), status: 200},
			{name: "update facts, clear death date", req: patch(person, admin, registry.FactsUpdate{DeathDate: &noDeath}), status: 200},
			{name: "update facts, bad grade", req: patch(person, admin, registry.FactsUpdate{DisabilityGrade: &badGrade}), status: 422, badReq: true, field: "disability_grade"},
			{name: "update facts, unknown field", req: patch(person, admin, map[string]any{"monthly_income": 1200, "hukou_division": committee}), status: 422, badReq: true, field: "hukou_division"},
			{name: "update facts, nothing to change", req: patch(person, admin, map[string]any{}), status: 422, badReq: true},
			{name: "update facts, adviser", req: patch(person, adviser, registry.FactsUpdate{MonthlyIncome: &income}), status: 403},
			{name: "update facts, outside the jurisdiction", req: patch(elsewhere, clerk, registry.FactsUpdate{MonthlyIncome: &income}), status: 404},
			{name: "export", req: get("/api/v1/persons/export.xlsx?q="+url.QueryEscape("张"), adviser), status: 200},
			{name: "profile", req: get(person, adviser), status: 200},
			{name: "no such person", req: get("/api/v1/persons/99999999", adviser), status: 404},
			{name: "ID number", req: get(person+"/id-number", admin), status: 200},
			{name: "ID number, adviser", req: get(person+"/id-number", adviser), status: 403},
			{name: "import", req: upload(admin, "", importHeader+fmt.Sprintf("H1,吴十,%s,户主,%s,%s,,5000,,0,,天平路 3 号\n", number(), committee, committee)), status: 200},
			{name: "import, dry run", req: upload(admin, "?dry_run=1", importHeader+fmt.Sprintf("H2,郑一,%s,户主,,%s,,,,,,\n", number(), committee)), status: 200},
			{name: "import, bad rows", req: upload(admin, "", importHeader+fmt.Sprintf("H3,王二,%s,户主,%s,%s,,,,,,\nH3,,123,配偶,,%s,,,,,,\n", number(), committee, committee, committee)), status: 422},
			{name: "import, no file", req: upload(admin, "", ""), status: 422},
			{name: "import, adviser", req: upload(adviser, "", importHeader), status: 403},
			{name: "eligibility", req: get(person+"/eligibility?as_of=2025-07-01", adviser), status: 200},
			{name: "eligibility today, one program", req: get(person+"/eligibility?program=elderly_allowance", admin), status: 200},
			{name: "eligibility, unknown program", req: get(person+"/eligibility?program=nope", adviser), status: 422, field: "program"},
			{name: "eligibility, bad date", req: get(person+"/eligibility?as_of=2025-13-01", adviser), status: 422, field: "as_of"},
			{name: "eligibility, outside the jurisdiction", req: get(elsewhere+"/eligibility", adviser), status: 404},
			{name: "eligibility, no such person", req: get("/api/v1/persons/99999999/eligibility", adviser), status: 404},
			{name: "evaluate a case", req: post(evaluate, adviser, eligibility.EvaluateRequest{Program: "dibao", AsOf: "2025-07-01", Case: household}), status: 200},
			// Before the first 低保 standard (2021-07-01): a parameter without a value.
			{name: "evaluate a case, early date", req: post(evaluate, adviser, eligibility.EvaluateRequest{Program: "dibao", AsOf: "2020-01-01", Case: household}), status: 422, field: "as_of"},
			{name: "evaluate a person", req: post(evaluate, adviser, eligibility.EvaluateRequest{Program: "elderly_allowance", AsOf: "2025-07-01", PersonID: head.ID}), status: 200},
			{name: "evaluate, unknown program", req: post(evaluate, adviser, eligibility.EvaluateRequest{Program: "nope", AsOf: "2025-07-01", Case: household}), status: 422, field: "program"},
			{name: "evaluate, no program", req: post(evaluate, adviser, eligibility.EvaluateRequest{Case: household}), status: 422, field: "program"},
			{name: "evaluate, bad date", req: post(evaluate, adviser, eligibility.EvaluateRequest{Program: "dibao", AsOf: "2025-7-1", Case: household}), status: 422, badReq: true, field: "as_of"},
			{name: "evaluate, person and case", req: post(evaluate, adviser, eligibility.EvaluateRequest{Program: "dibao", PersonID: head.ID, Case: household}), status: 422, field: "case"},
			{name: "evaluate, neither person nor case", req: post(evaluate, adviser, eligibility.EvaluateRequest{Program: "dibao"}), status: 422, field: "case"},
			{name: "evaluate, bad birth date", req: post(evaluate, adviser, eligibility.EvaluateRequest{Program: "dibao", Case: &badBirth}), status: 422, badReq: true, field: "members[0].birth_date"},
			{name: "evaluate, unknown field", req: post(evaluate, adviser, map[string]any{"program": "dibao", "person": head.ID}), status: 422, badReq: true, field: "person"},
			{name: "evaluate, person outside the jurisdiction", req: post(evaluate, adviser, eligibility.EvaluateRequest{Program: "dibao", PersonID: outsider.ID}), status: 404},

			{name: "payroll periods, none yet", req: get("/api/v1/payroll/periods", approver), status: 200},
			{name: "run payroll, adviser", req: post("/api/v1/payroll/runs", adviser, map[string]any{"period": "2025-08"}), status: 403},
			{name: "run payroll, city admin of a district", req: post("/api/v1/payroll/runs", districtCityAdmin, map[string]any{"period": "2025-08"}), status: 403},
			{name: "run payroll, bad period", req: post("/api/v1/payroll/runs", admin, map[string]any{"period": "2025-8"}), status: 422, badReq: true, field: "period"},
			{name: "run payroll, unknown field", req: post("/api/v1/payroll/runs", admin, map[string]any{"period": "2025-08", "district": xuhui}), status: 422, badReq: true, field: "district"},
			{name: "run payroll, running elsewhere", req: func() *http.Request {
				if _, err := otherProcess.Acquire(ctx, payroll.Job, time.Hour); err != nil {
					t.Fatal(err)
				}
				return jsonRequest(t, "POST", "/api/v1/payroll/runs", admin, map[string]any{"period": "2025-08"})
			}, after: func() { otherProcess.Release(ctx, payroll.Job, "") }, status: 409},
			{name: "run payroll", req: post("/api/v1/payroll/runs", admin, map[string]any{"period": "2025-08", "files": false}), status: 200},
			{name: "run payroll again", req: post("/api/v1/payroll/runs", admin, map[string]any{"period": "2025-08"}), status: 200},
			{name: "run payroll, with bank files", req: post("/api/v1/payroll/runs", admin, map[string]any{"period": "2025-09", "files": true}), status: 200},
			{name: "payroll periods", req: get("/api/v1/payroll/periods", approver), status: 200},
			{name: "payroll periods, clerk", req: get("/api/v1/payroll/periods", clerk), status: 403},
			{name: "payroll figures", req: get("/api/v1/payroll/2025-08/figures", reviewer), status: 200},
			{name: "payroll figures, city", req: get("/api/v1/payroll/2025-08/figures", admin), status: 200},
			{name: "payroll figures, bad period", req: get("/api/v1/payroll/2025-13/figures", reviewer), status: 422, field: "period"},
			{name: "payroll figures, adviser", req: get("/api/v1/payroll/2025-08/figures", adviser), status: 403},
			{name: "sign off, reviewer", req: post("/api/v1/payroll/2025-08/signoff", reviewer, map[string]any{"district": xuhui}), status: 403},
			{name: "sign off, outside the jurisdiction", req: post("/api/v1/payroll/2025-08/signoff", approver, map[string]any{"district": pudong}), status: 403},
			{name: "sign off, bad period", req: post("/api/v1/payroll/2025-8/signoff", approver, map[string]any{"district": xuhui}), status: 422, field: "period"},
			{name: "sign off, no payroll run", req: post("/api/v1/payroll/2025-07/signoff", approver, map[string]any{"district": xuhui}), status: 422},
			{name: "sign off", req: post("/api/v1/payroll/2025-08/signoff", approver, map[string]any{"district": xuhui}), status: 200},
			{name: "sign off again", req: post("/api/v1/payroll/2025-08/signoff", approver, map[string]any{"district": xuhui}), status: 409},
			{name: "bank returns", req: returns(approver, returnsHeader+paid+",失败,账户已冻结\n"), status: 200},
			{name: "bank returns, city admin", req: returns(admin, returnsHeader+paid+",成功,\n"+paidElsewhere+",成功,\n"), status: 200},
			{name: "bank returns, outside the jurisdiction", req: returns(approver, returnsHeader+paidElsewhere+",成功,\n"), status: 422, field: "第 2 行"},
			{name: "bank returns, unknown payment", req: returns(approver, returnsHeader+paid+",成功,\n2025-08/elderly_allowance/99999999,成功,\n"), status: 422, field: "第 3 行"},
			{name: "bank returns, bad result", req: returns(approver, returnsHeader+paid+",退回,\n"), status: 422, field: "第 2 行"},
			{name: "bank returns, no file", req: returns(approver, ""), status: 422, field: "file"},
			{name: "bank returns, reviewer", req: returns(reviewer, returnsHeader+paid+",成功,\n"), status: 403},
			{name: "payee account, none recorded", req: get(account, clerk), status: 200},
			{name: "payee account, adviser", req: get(account, adviser), status: 403},
			{name: "payee account, outside the jurisdiction", req: get(accountElsewhere, clerk), status: 404},
			{name: "payee account, no such person", req: get("/api/v1/persons/99999999/payee-account", clerk), status: 404},
			{name: "record payee account", req: put(account, clerk, bankAccount), status: 200},
			{name: "payee account", req: get(account, reviewer), status: 200},
			{name: "record custodial account", req: put(account, admin, custodial), status: 200},
			{name: "record custodial account, no custodian", req: put(account, clerk, map[string]any{"bank": "农业银行", "account": "6228480012345678", "holder": "陈发", "custodial": true}), status: 422, field: "custodian"},
			{name: "record payee account, bad number", req: put(account, clerk, map[string]any{"bank": "工商银行", "account": "6222-0210", "holder": "陈发"}), status: 422, field: "account"},
			{name: "record payee account, social security card", req: put(account, clerk, map[string]any{"bank": payroll.SocialSecurityCard, "account": "6222021001112223", "holder": "陈发"}), status: 422, field: "bank"},
			{name: "record payee account, unknown field", req: put(account, clerk, map[string]any{"bank": "工商银行", "account": "6222021001112223", "holder": "陈发", "iban": "x"}), status: 422, badReq: true, field: "iban"},
			{name: "record payee account, reviewer", req: put(account, reviewer, bankAccount), status: 403},
			{name: "record payee account, outside the jurisdiction", req: put(accountElsewhere, clerk, bankAccount), status: 404},
		}
		samples = append(samples, assistanceSamples(t, s, clerk, adviser, admin, committee, number, outsider.ID)...)
		feed := func(typ, token string, b monitor.FeedBatch) func() *http.Request {
			return post("/api/v1/feeds/"+typ, token, b)
		}
		medical := func(batch string, rows ...map[string]any) monitor.FeedBatch {
			return monitor.FeedBatch{Batch: batch, Rows: append([]map[string]any{}, rows...)}
		}
		weatherTask := func() int64 {
			var id int64
			if err := s.App.DB.QueryRowContext(ctx, `SELECT id FROM monitor_tasks WHERE kind = 'weather' AND person_id = $1`, head.ID).Scan(&id); err != nil {
				t.Fatalf("the weather task of 张三: %v", err)
			}
			return id
		}
		samples = append(samples,
			sample{name: "feed", req: feed("medical", admin, medical("yb-1", map[string]any{"id_number": headNumber, "bill_date": "2025-07-01", "amount": 3000},
				map[string]any{"id_number": number(), "bill_date": "2025-07-02", "amount": "12.5"})), status: 200},
			sample{name: "feed, again", req: feed("medical", admin, medical("yb-1", map[string]any{"id_number": headNumber, "bill_date": "2025-07-01", "amount": 3000})), status: 200},
			sample{name: "feed, bad rows", req: feed("death", admin, monitor.FeedBatch{Batch: "gaj-1", Rows: []map[string]any{{"id_number": "123", "death_date": "2025-13-01"}}}), status: 200},
			sample{name: "feed, missing column", req: feed("death", admin, monitor.FeedBatch{Batch: "gaj-2", Rows: []map[string]any{{"id_number": headNumber}}}), status: 422},
			sample{name: "feed, unknown type", req: feed("weather", admin, medical("x")), status: 422, field: "type"},
			sample{name: "feed, no batch id", req: feed("medical", admin, medical("", map[string]any{"id_number": headNumber})), status: 422, field: "batch"},
			sample{name: "feed, adviser", req: feed("medical", adviser, medical("yb-2")), status: 403},
			sample{name: "tasks", req: get("/api/v1/monitor/tasks?status=open", adviser), status: 200},
			sample{name: "tasks, city", req: get("/api/v1/monitor/tasks", admin), status: 200},
			sample{name: "tasks, bad status", req: get("/api/v1/monitor/tasks?status=maybe", adviser), status: 422, field: "status"},
			sample{name: "tasks, outside the jurisdiction", req: get("/api/v1/monitor/tasks?division="+pudong, adviser), status: 422, field: "division"},
			sample{name: "tasks, clerk", req: get("/api/v1/monitor/tasks", clerk), status: 403},
			// 张三 (75) is marked 弱监护: a cold-weather sweep of 徐汇 makes
			// his household a task, which the adviser opens and visits.
			sample{name: "weather", req: func() *http.Request {
				if _, err := s.App.DB.ExecContext(ctx, `UPDATE persons SET weak_guardianship = 1 WHERE id = $1`, head.ID); err != nil {
					t.Fatal(err)
				}
				return jsonRequest(t, "POST", "/api/v1/monitor/weather", admin, monitor.WeatherRequest{Kind: "cold", Districts: []string{xuhui}})
			}, status: 200},
			sample{name: "weather, bad kind", req: post("/api/v1/monitor/weather", admin, monitor.WeatherRequest{Kind: "storm", Districts: []string{xuhui}}), status: 422, badReq: true, field: "kind"},
			sample{name: "weather, outside the jurisdiction", req: post("/api/v1/monitor/weather", districtCityAdmin, monitor.WeatherRequest{Kind: "heat", Districts: []string{pudong}}), status: 422, field: "districts"},
			sample{name: "weather, adviser", req: post("/api/v1/monitor/weather", adviser, monitor.WeatherRequest{Kind: "heat", Districts: []string{xuhui}}), status: 403},
			sample{name: "task", req: func() *http.Request {
				return newRequest("GET", fmt.Sprintf("/api/v1/monitor/tasks/%d", weatherTask()), adviser, "", nil)
			}, status: 200},
			sample{name: "task, bad id", req: get("/api/v1/monitor/tasks/abc", adviser), status: 422, field: "id"},
			sample{name: "task, no such task", req: get("/api/v1/monitor/tasks/99999999", adviser), status: 404},
			sample{name: "task, clerk", req: func() *http.Request {
				return newRequest("GET", fmt.Sprintf("/api/v1/monitor/tasks/%d", weatherTask()), clerk, "", nil)
			}, status: 403},
			sample{name: "visit, bad disposition", req: func() *http.Request {
				return jsonRequest(t, "POST", fmt.Sprintf("/api/v1/monitor/tasks/%d/visits", weatherTask()), adviser, monitor.VisitRequest{Found: "x", Disposition: "done"})
			}, status: 422, badReq: true, field: "disposition"},
			sample{name: "visit, bad date", req: func() *http.Request {
				return jsonRequest(t, "POST", fmt.Sprintf("/api/v1/monitor/tasks/%d/visits", weatherTask()), adviser, monitor.VisitRequest{VisitedOn: "2025/08/01", Found: "x", Disposition: monitor.Resolved})
			}, status: 422, badReq: true, field: "visited_on"},
			sample{name: "visit, bad photo", req: func() *http.Request {
				return jsonRequest(t, "POST", fmt.Sprintf("/api/v1/monitor/tasks/%d/visits", weatherTask()), adviser,
					monitor.VisitRequest{Found: "x", Disposition: monitor.Resolved, Photos: []monitor.PhotoInput{{Name: "a.png", Data: "%%%"}}})
			}, status: 422, field: "photos[0].data"},
			sample{name: "visit, unknown field", req: func() *http.Request {
				return jsonRequest(t, "POST", fmt.Sprintf("/api/v1/monitor/tasks/%d/visits", weatherTask()), adviser, map[string]any{"disposition": "resolved", "found": "x", "date": "2025-08-01"})
			}, status: 422, badReq: true, field: "date"},
			sample{name: "visit, reviewer", req: func() *http.Request {
				return jsonRequest(t, "POST", fmt.Sprintf("/api/v1/monitor/tasks/%d/visits", weatherTask()), reviewer, monitor.VisitRequest{Disposition: monitor.Unreachable})
			}, status: 403},
			sample{name: "visit", req: func() *http.Request {
				return jsonRequest(t, "POST", fmt.Sprintf("/api/v1/monitor/tasks/%d/visits", weatherTask()), adviser, monitor.VisitRequest{Found: "老人安好，已送棉被", Disposition: monitor.Resolved,
					Photos: []monitor.PhotoInput{{Name: "door.png", ContentType: "image/png", Data: base64.StdEncoding.EncodeToString(pngPixel)}}})
			}, status: 201},
			sample{name: "visit, closed task", req: func() *http.Request {
				return jsonRequest(t, "POST", fmt.Sprintf("/api/v1/monitor/tasks/%d/visits", weatherTask()), adviser, monitor.VisitRequest{Found: "again", Disposition: monitor.Resolved})
			}, status: 409},
			sample{name: "call stats", req: get("/api/v1/monitor/calls/stats", adviser), status: 200},
			sample{name: "call stats, clerk", req: get("/api/v1/monitor/calls/stats", clerk), status: 403},
			sample{name: "dashboard", req: get("/api/v1/monitor/dashboard?days=7", admin), status: 200},
			sample{name: "dashboard, district", req: get("/api/v1/monitor/dashboard?division="+xuhui, adviser), status: 200},
			sample{name: "dashboard, outside", req: get("/api/v1/monitor/dashboard?division="+pudong, adviser), status: 422, field: "division"},
			sample{name: "dashboard, clerk", req: get("/api/v1/monitor/dashboard", clerk), status: 403},
		)
		exercised := map[string]bool{}
		for _, sm := range samples {
			t.Run(sm.name, func(t *testing.T) {
				req := sm.req()
				_, pattern := s.Router.Handler(req)
				key := routeKey(pattern)
				op, ok := d.operations()[key]
				if !ok {
					t.Fatalf("%s %s is routed to %q, which the document does not describe", req.Method, req.URL, pattern)
				}
				if !sm.badReq && strings.HasPrefix(req.Header.Get("Content-Type"), "application/json") {
					b, _ := io.ReadAll(req.Body)
					req.Body = io.NopCloser(bytes.NewReader(b))
					var v any
					if err := json.Unmarshal(b, &v); err != nil {
						t.Fatal(err)
					}
					schema := d.mediaSchema(op["requestBody"], "application/json")
					if schema == nil {
						t.Fatalf("%s: no JSON request body documented", key)
					}
					for _, p := range d.validate("request", v, schema) {
						t.Errorf("%s: %s", key, p)
					}
				}
				rec := s.serve(req)
				if sm.after != nil {
					sm.after()
				}
				if rec.Code != sm.status {
					t.Fatalf("%s: status %d, want %d; body %s", key, rec.Code, sm.status, truncate(rec.Body.String()))
				}
				if rec.Code < 300 {
					exercised[key] = true
				}
				responses, _ := op["responses"].(map[string]any)
				resp, ok := responses[strconv.Itoa(rec.Code)].(map[string]any)
				if !ok {
					t.Fatalf("%s: status %d is not documented", key, rec.Code)
				}
				resp = d.resolve(resp)
				ctype, _, _ := strings.Cut(rec.Header().Get("Content-Type"), ";")
				content, _ := resp["content"].(map[string]any)
				if _, ok := content[ctype]; !ok {
					t.Fatalf("%s: status %d answered with %s, the document has %v", key, rec.Code, ctype, slices.Sorted(maps.Keys(content)))
				}
				if ctype != "application/json" {
					return
				}
				var v any
				if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
					t.Fatalf("%s: body is not JSON: %v", key, err)
				}
				schema := d.mediaSchema(resp, ctype)
				if schema == nil {
					t.Fatalf("%s: status %d has no JSON schema", key, rec.Code)
				}
				for _, p := range d.validate("response", v, schema) {
					t.Errorf("%s %d: %s", key, rec.Code, p)
				}
				if sm.field != "" {
					var e apiError
					json.Unmarshal(rec.Body.Bytes(), &e)
					var fields []string
					if e.Error != nil {
						for _, fe := range e.Error.Fields {
							fields = append(fields, fe.Field)
						}
					}
					if !slices.Contains(fields, sm.field) {
						t.Errorf("%s %d: names fields %v, want %s", key, rec.Code, fields, sm.field)
					}
				}
				if rec.Code == 201 && key == "POST /api/v1/persons" && !strings.HasPrefix(rec.Header().Get("Location"), "/api/v1/persons/") {
					t.Errorf("%s: Location %q", key, rec.Header().Get("Location"))
				}
			})
		}

		// The catch-all answers unknown API paths with the error shape.
		rec := s.serve(newRequest("GET", "/api/v1/nope", admin, "", nil))
		var v any
		json.Unmarshal(rec.Body.Bytes(), &v)
		if p := d.validate("response", v, mustLookup(t, d, "#/components/schemas/Error")); rec.Code != 404 || len(p) > 0 {
			t.Errorf("GET /api/v1/nope: status %d, %v", rec.Code, p)
		}

		var missing []string
		for key := range d.operations() {
			if !exercised[key] {
				missing = append(missing, key)
			}
		}
		slices.Sort(missing)
		if len(missing) > 0 && !t.Failed() {
			t.Errorf("operations without a successful sample in TestOpenAPIResponses (add one):\n  %s", strings.Join(missing, "\n  "))
		}
	})
}

// mediaSchema returns the schema of a request body or response for a
// media type, or nil.
func (d *openAPIDoc) mediaSchema(v any, mediaType string) map[string]any {
	m, _ := v.(map[string]any)
	m = d.resolve(m)
	content, _ := m["content"].(map[string]any)
	mt, _ := content[mediaType].(map[string]any)
	s, _ := mt["schema"].(map[string]any)
	return s
}

// badCheck returns number with a wrong check character.
func badCheck(number string) string {
	c := byte('0')
	if number[17] == '0' {
		c = '1'
	}
	return number[:17] + string(c)
}

// pngPixel starts as a PNG file does, which is all content sniffing reads.
var pngPixel = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01")
