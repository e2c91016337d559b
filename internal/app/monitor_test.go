package app_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"minzheng/internal/app"
	"minzheng/internal/auth"
	"minzheng/internal/idcard"
	"minzheng/internal/monitor"
	"minzheng/internal/registry"
)

// TestMonitorThroughHTTP sends a feed through the API and checks, through
// HTTP, that each adviser sees only their committee's tasks and each
// district only its own, and that a death from a feed stops entitlements
// once the events are delivered.
func TestMonitorThroughHTTP(t *testing.T) {
	eachDB(t, func(t *testing.T, cfg app.Config) {
		s := openServer(t, cfg)
		ctx := context.Background()
		tree := s.App.Divisions.Tree
		xc, pc := firstCommittee(t, tree, xuhui), firstCommittee(t, tree, pudong)
		var xc2 string
		for _, c := range tree.Children(xc[:9]) {
			if c != xc {
				xc2 = c
				break
			}
		}
		admin := s.staff(t, "admin", auth.CityAdmin, city)
		advisers := map[string]string{}
		for _, c := range []string{xc, xc2, pc} {
			advisers[c] = s.staff(t, "adviser_"+c, auth.Adviser, c)
		}
		xuhuiAdmin := s.staff(t, "xuhui_admin", auth.DistrictAdmin, xuhui)
		seq := 0
		numbers := map[string]string{}
		persons := map[string]registry.Person{}
		for _, c := range []string{xc, xc2, pc} {
			seq++
			n := idcard.Build(c[:6], time.Date(1940, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, seq), seq)
			p, err := s.App.Registry.Create(ctx, auth.System(), registry.NewPerson{Name: "监测" + c[len(c)-3:], IDNumber: n, HukouDivision: c, ResidenceDivision: c, Address: "测试路"})
			if err != nil {
				t.Fatal(err)
			}
			numbers[c], persons[c] = n, p
		}
		// Grant entitlements as the proactive run would (the elderly
		// allowance: they are over 65).
		if _, err := s.App.Proactive.Run(ctx, auth.System(), time.Now(), noProgress{}); err != nil {
			t.Fatal(err)
		}
		var rows []map[string]any
		for _, c := range []string{xc, xc2, pc} {
			rows = append(rows, map[string]any{"身份证号": numbers[c], "死亡日期": time.Now().AddDate(0, 0, -3).Format(time.DateOnly)})
		}
		rec := s.serve(jsonRequest(t, "POST", "/api/v1/feeds/death", admin, monitor.FeedBatch{Batch: "gaj-http-1", Rows: rows}))
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"accepted":3`) {
			t.Fatalf("feed: %d %s", rec.Code, rec.Body.String())
		}
		// Deliver the events: the deaths stop the entitlements.
		if _, err := s.App.Events.Drain(ctx); err != nil {
			t.Fatal(err)
		}
		var active int
		s.App.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM entitlements WHERE status = 'active' AND person_id IN ($1, $2, $3)`,
			persons[xc].ID, persons[xc2].ID, persons[pc].ID).Scan(&active)
		if active != 0 {
			t.Errorf("%d entitlements still active after the deaths", active)
		}
		// Stopped from the date of death, so that the payroll recovers
		// what was paid beyond it.
		var stopped, held int
		s.App.DB.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN status = 'stopped' AND until = $1 THEN 1 ELSE 0 END), 0) FROM entitlements WHERE person_id IN ($2, $3, $4)`,
			time.Now().AddDate(0, 0, -3).Format(time.DateOnly), persons[xc].ID, persons[xc2].ID, persons[pc].ID).Scan(&held, &stopped)
		if held < 3 || stopped != held {
			t.Errorf("%d of %d entitlements stopped at the date of death", stopped, held)
		}
		list := func(token, query string) []monitor.Task {
			var l monitor.TaskList
			s.get(t, "/api/v1/monitor/tasks"+query, token, 200, &l)
			return l.Items
		}
		all := list(admin, "")
		if len(all) != 3 {
			t.Fatalf("city sees %d tasks, want 3 (one per recipient reported dead)", len(all))
		}
		for c, tok := range advisers {
			got := list(tok, "")
			if len(got) != 1 || got[0].Division != c || got[0].PersonID != persons[c].ID {
				t.Errorf("adviser of %s sees %+v", c, got)
			}
			// Asking for another committee's tasks is refused.
			for _, x := range all {
				if x.Division != c {
					rec := s.serve(newRequest("GET", "/api/v1/monitor/tasks?division="+x.Division, tok, "", nil))
					if rec.Code != http.StatusUnprocessableEntity {
						t.Errorf("adviser of %s asks for %s: %d", c, x.Division, rec.Code)
					}
				}
			}
		}
		if got := list(xuhuiAdmin, ""); len(got) != 2 {
			t.Errorf("徐汇 sees %d tasks, want 2", len(got))
		}
		var dash monitor.Dashboard
		s.get(t, "/api/v1/monitor/dashboard", xuhuiAdmin, 200, &dash)
		if dash.Warnings != 2 || dash.Open != 2 || len(dash.Districts) != 1 {
			t.Errorf("徐汇 dashboard %+v", dash)
		}
	})
}

// TestMonitorReferral closes a warning's task as "referred": the hook wired
// in app.go opens a social assistance application for the household
// (刚性支出困难 and 临时救助 after a rigid-expense warning), named on the task.
func TestMonitorReferral(t *testing.T) {
	eachDB(t, func(t *testing.T, cfg app.Config) {
		s := openServer(t, cfg)
		ctx := context.Background()
		committee := firstCommittee(t, s.App.Divisions.Tree, xuhui)
		number := idcard.Build(xuhui, time.Date(1960, 5, 6, 0, 0, 0, 0, time.UTC), 3)
		p, err := s.App.Registry.Create(ctx, auth.System(), registry.NewPerson{Name: "转介对象", IDNumber: number, HukouDivision: committee, ResidenceDivision: committee, MonthlyIncome: 1000})
		if err != nil {
			t.Fatal(err)
		}
		s.App.DB.ExecContext(ctx, `INSERT INTO entitlements (program, person_id, household_id, status, monthly_fen, since, proactive, decision_id, updated_at) VALUES ('dibao', $1, $2, 'active', 50000, '2025-01-01', 1, 0, '')`, p.ID, p.HouseholdID)
		tab, err := monitor.TableOf([]map[string]any{{"id_number": number, "bill_date": time.Now().AddDate(0, 0, -3).Format(time.DateOnly), "amount": 9000}})
		if err != nil {
			t.Fatal(err)
		}
		if res, err := s.App.Monitor.Import(ctx, auth.System(), monitor.ImportRequest{Type: monitor.Medical, Batch: "yb-ref", Table: tab}); err != nil || res.Warnings != 1 {
			t.Fatalf("import %+v %v", res, err)
		}
		adviser := auth.Principal{Name: "gu", Role: auth.Adviser, Division: committee, Remote: "test"}
		ts, err := s.App.Monitor.Tasks(ctx, adviser, monitor.TaskFilter{})
		if err != nil || len(ts) != 1 {
			t.Fatalf("tasks %v %v", ts, err)
		}
		tk, err := s.App.Monitor.RecordVisit(ctx, adviser, ts[0].ID, monitor.Visit{Found: "医疗费用负担重，愿意申请", Disposition: monitor.Referred})
		if err != nil || tk.Status != monitor.StatusClosed || !strings.HasPrefix(tk.Referral, "救助申请 ") {
			t.Fatalf("referred: %+v %v", tk, err)
		}
		var apps int
		var programs string
		s.App.DB.QueryRowContext(ctx, `SELECT COUNT(DISTINCT a.id), COALESCE(MIN(pr.program), '') || ',' || COALESCE(MAX(pr.program), '') FROM applications a
			JOIN application_programs pr ON pr.application_id = a.id WHERE a.household_id = $1`, p.HouseholdID).Scan(&apps, &programs)
		if apps != 1 || programs != "rigid_expense,temporary" {
			t.Errorf("%d applications with programmes %q", apps, programs)
		}
	})
}

// TestFeedFactsReachDecisions imports a disability feed and a medical feed
// through the service and follows their facts into the register and the
// entitlements: a grade-1 certificate, once its person.changed event is
// delivered, grants 重度残疾人护理补贴 without an application; three months
// of bills become the person's monthly medical expense, which the profile's
// evaluation explains and the proactive run grants 刚性支出困难 on.
func TestFeedFactsReachDecisions(t *testing.T) {
	eachDB(t, func(t *testing.T, cfg app.Config) {
		s := openServer(t, cfg)
		ctx := context.Background()
		committee := firstCommittee(t, s.App.Divisions.Tree, xuhui)
		today := time.Now().In(time.FixedZone("CST", 8*3600))
		register := func(name string, seq int, income int64) (registry.Person, string) {
			number := idcard.Build(xuhui, time.Date(1970, 3, 4, 0, 0, 0, 0, time.UTC), seq)
			p, err := s.App.Registry.Create(ctx, auth.System(), registry.NewPerson{Name: name, IDNumber: number, HukouDivision: committee, ResidenceDivision: committee, MonthlyIncome: income})
			if err != nil {
				t.Fatal(err)
			}
			return p, number
		}
		imp := func(typ monitor.FeedType, batch string, rows ...map[string]any) {
			tab, err := monitor.TableOf(rows)
			if err != nil {
				t.Fatal(err)
			}
			if res, err := s.App.Monitor.Import(ctx, auth.System(), monitor.ImportRequest{Type: typ, Batch: batch, Table: tab}); err != nil || res.Accepted != len(rows) {
				t.Fatalf("import %s: %+v %v", batch, res, err)
			}
		}
		active := func(program string, person int64) int64 {
			var fen int64
			s.App.DB.QueryRowContext(ctx, `SELECT monthly_fen FROM entitlements WHERE program = $1 AND person_id = $2 AND status = 'active'`, program, person).Scan(&fen)
			return fen
		}

		disabled, number := register("残联对象", 5, 800)
		imp(monitor.Disability, "cl-e2e", map[string]any{"id_number": number, "category": "肢体残疾", "grade": 1,
			"issued_on": today.AddDate(0, 0, -10).Format(time.DateOnly), "valid_until": today.AddDate(5, 0, 0).Format(time.DateOnly)})
		var grade int
		s.App.DB.QueryRowContext(ctx, `SELECT disability_grade FROM persons WHERE id = $1`, disabled.ID).Scan(&grade)
		if grade != 1 || active("disability_care", disabled.ID) != 0 {
			t.Fatalf("before the events are delivered: grade %d, care %d fen", grade, active("disability_care", disabled.ID))
		}
		if _, err := s.App.Events.Drain(ctx); err != nil {
			t.Fatal(err)
		}
		if fen := active("disability_care", disabled.ID); fen <= 0 {
			t.Errorf("重度残疾人护理补贴 not granted after the certificate: %d fen", fen)
		}
		var expl string
		s.App.DB.QueryRowContext(ctx, `SELECT explanation FROM decisions WHERE program = 'disability_care' AND person_id = $1`, disabled.ID).Scan(&expl)
		if !strings.Contains(expl, "1 级残疾") {
			t.Errorf("decision explanation %s", expl)
		}

		ill, illNumber := register("医保对象", 6, 2000)
		imp(monitor.Medical, "yb-e2e",
			map[string]any{"id_number": illNumber, "bill_date": today.AddDate(0, -2, 0).Format(time.DateOnly), "amount": 1000, "bill_no": "E1"},
			map[string]any{"id_number": illNumber, "bill_date": today.AddDate(0, 0, -5).Format(time.DateOnly), "amount": 800, "bill_no": "E2"})
		pr, err := s.App.Registry.Get(ctx, auth.System(), ill.ID)
		if err != nil || pr.MonthlyMedicalExpense != 600 {
			t.Fatalf("monthly medical expense %v %v, want 1800 / 3 = 600", pr.MonthlyMedicalExpense, err)
		}
		admin := s.staff(t, "admin", auth.CityAdmin, city)
		rec := s.serve(newRequest("GET", fmt.Sprintf("/api/v1/persons/%d/eligibility?program=rigid_expense", ill.ID), admin, "", nil))
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), "必需支出 600") {
			t.Errorf("eligibility: %d %s", rec.Code, rec.Body.String())
		}
		if _, err := s.App.Proactive.Run(ctx, auth.System(), time.Now(), noProgress{}); err != nil {
			t.Fatal(err)
		}
		if fen := active("rigid_expense", ill.ID); fen <= 0 {
			t.Errorf("刚性支出困难 not granted on 600 yuan of monthly medical spending: %d fen", fen)
		}
	})
}

// TestMonitorVisitThroughAPI is the adviser's loop through the JSON API: a
// rigid-expense warning makes a task for the household's committee; its
// adviser opens it (reason, data behind it, members masked) and records a
// visit with a photo, which shows on the task and closes it; an adviser of
// another committee reads it as absent and cannot visit it; bad input is
// refused naming the field; the city's district plans a weather sweep of
// 弱监护 elders and reads the 一键通 statistics.
func TestMonitorVisitThroughAPI(t *testing.T) {
	eachDB(t, func(t *testing.T, cfg app.Config) {
		s := openServer(t, cfg)
		ctx := context.Background()
		tree := s.App.Divisions.Tree
		committee := firstCommittee(t, tree, xuhui)
		var sibling string
		for _, c := range tree.Children(committee[:9]) {
			if c != committee {
				sibling = c
				break
			}
		}
		number := idcard.Build(xuhui, time.Date(1940, 6, 7, 0, 0, 0, 0, time.UTC), 8)
		p, err := s.App.Registry.Create(ctx, auth.System(), registry.NewPerson{Name: "接口走访", IDNumber: number, HukouDivision: committee, ResidenceDivision: committee,
			MonthlyIncome: 1000, Address: "天平路 10 号"})
		if err != nil {
			t.Fatal(err)
		}
		s.App.DB.ExecContext(ctx, `INSERT INTO entitlements (program, person_id, household_id, status, monthly_fen, since, proactive, decision_id, updated_at) VALUES ('dibao', $1, $2, 'active', 50000, '2025-01-01', 1, 0, '')`, p.ID, p.HouseholdID)
		tab, err := monitor.TableOf([]map[string]any{{"id_number": number, "bill_date": time.Now().AddDate(0, 0, -3).Format(time.DateOnly), "amount": 9000}})
		if err != nil {
			t.Fatal(err)
		}
		if res, err := s.App.Monitor.Import(ctx, auth.System(), monitor.ImportRequest{Type: monitor.Medical, Batch: "yb-api", Table: tab}); err != nil || res.Warnings != 1 {
			t.Fatalf("import %+v %v", res, err)
		}
		gu := s.staff(t, "gu", auth.Adviser, committee)
		neighbour := s.staff(t, "neighbour", auth.Adviser, sibling)
		var list monitor.TaskList
		s.get(t, "/api/v1/monitor/tasks", gu, 200, &list)
		if len(list.Items) != 1 {
			t.Fatalf("adviser's tasks: %+v", list.Items)
		}
		id := list.Items[0].ID
		taskURL := fmt.Sprintf("/api/v1/monitor/tasks/%d", id)

		var d monitor.TaskDetail
		s.get(t, taskURL, gu, 200, &d)
		if d.Reason == "" || !strings.Contains(string(d.Data), `"medical_3m":9000`) || len(d.Members) != 1 || d.Members[0].IDMasked == number ||
			!strings.Contains(d.Members[0].IDMasked, "*") || d.Address != "天平路 10 号" {
			t.Errorf("task detail %+v data %s", d, d.Data)
		}
		s.get(t, taskURL, neighbour, 404, nil)
		visit := func(tok string, body any) *httptest.ResponseRecorder {
			return s.serve(jsonRequest(t, "POST", taskURL+"/visits", tok, body))
		}
		if rec := visit(neighbour, monitor.VisitRequest{Found: "x", Disposition: monitor.Resolved}); rec.Code != 404 {
			t.Errorf("another committee's adviser visits: %d %s", rec.Code, rec.Body.String())
		}
		bad := []struct {
			name, body, field string
		}{
			{"not JSON", `{"found": "x", "disposition":`, ""},
			{"unknown disposition", `{"found": "x", "disposition": "closed"}`, "disposition"},
			{"bad date", `{"visited_on": "2025-13-01", "found": "x", "disposition": "resolved"}`, "visited_on"},
			{"future date", `{"visited_on": "2999-01-01", "found": "x", "disposition": "resolved"}`, "visited_on"},
			{"nothing found said", `{"disposition": "resolved"}`, "found"},
			{"photo not base64", `{"found": "x", "disposition": "resolved", "photos": [{"name": "a.jpg", "data": "!!"}]}`, "photos[0].data"},
			{"photo not an image", `{"found": "x", "disposition": "resolved", "photos": [{"name": "a.txt", "data": "aGVsbG8="}]}`, "photos"},
			{"wrong type", `{"found": 5, "disposition": "resolved"}`, "found"},
		}
		for _, b := range bad {
			rec := s.serve(newRequest("POST", taskURL+"/visits", gu, "application/json", []byte(b.body)))
			var e apiError
			json.Unmarshal(rec.Body.Bytes(), &e)
			if rec.Code != http.StatusUnprocessableEntity || e.Error == nil || e.Error.Code != "invalid" || !hasHan(e.Error.Message) {
				t.Errorf("%s: %d %s", b.name, rec.Code, rec.Body.String())
				continue
			}
			var fields []string
			for _, f := range e.Error.Fields {
				fields = append(fields, f.Field)
			}
			if b.field != "" && !slices.Contains(fields, b.field) {
				t.Errorf("%s: names %v, want %s", b.name, fields, b.field)
			}
		}
		s.get(t, taskURL, gu, 200, &d)
		if len(d.Visits) != 0 || d.Status != monitor.StatusOpen {
			t.Fatalf("refused visits left traces: %+v", d.Visits)
		}

		photo := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
		rec := visit(gu, monitor.VisitRequest{VisitedOn: time.Now().In(time.FixedZone("CST", 8*3600)).Format(time.DateOnly), Found: "医疗费用负担重，已告知临时救助", Disposition: monitor.Resolved,
			Photos: []monitor.PhotoInput{{Name: "门口.png", ContentType: "image/jpeg", Data: base64.StdEncoding.EncodeToString(photo)}}})
		var closed monitor.Task
		if rec.Code != http.StatusCreated || json.Unmarshal(rec.Body.Bytes(), &closed) != nil || closed.Status != monitor.StatusClosed || closed.Disposition != monitor.Resolved {
			t.Fatalf("visit: %d %s", rec.Code, rec.Body.String())
		}
		s.get(t, taskURL, gu, 200, &d)
		if len(d.Visits) != 1 || d.Visits[0].Actor != "gu" || d.Visits[0].Disposition != monitor.Resolved || len(d.Visits[0].Photos) != 1 || d.Status != monitor.StatusClosed {
			t.Fatalf("the visit on the task: %+v", d)
		}
		ph, err := s.App.Monitor.Photo(ctx, auth.Principal{Name: "gu", Role: auth.Adviser, Division: committee}, id, d.Visits[0].Photos[0])
		if err != nil || ph.ContentType != "image/png" || !bytes.Equal(ph.Data, photo) {
			t.Errorf("photo %q %v (its type is read from its bytes)", ph.ContentType, err)
		}
		if rec := visit(gu, monitor.VisitRequest{Found: "again", Disposition: monitor.Resolved}); rec.Code != http.StatusConflict {
			t.Errorf("visit of a closed task: %d", rec.Code)
		}

		// The district plans a cold-weather sweep; the elder is marked 弱监护.
		yes := true
		if _, err := s.App.Registry.UpdateFacts(ctx, auth.Principal{Name: "gu", Role: auth.Adviser, Division: committee}, p.ID, registry.FactsUpdate{WeakGuardianship: &yes}); err != nil {
			t.Fatal(err)
		}
		district := s.staff(t, "xh_admin", auth.DistrictAdmin, xuhui)
		var wr monitor.WeatherResult
		rec = s.serve(jsonRequest(t, "POST", "/api/v1/monitor/weather", district, monitor.WeatherRequest{Kind: "cold", Districts: []string{xuhui}}))
		if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &wr) != nil || wr.Created != 1 {
			t.Fatalf("weather: %d %s", rec.Code, rec.Body.String())
		}
		s.get(t, "/api/v1/monitor/tasks?kind=weather", gu, 200, &list)
		if len(list.Items) != 1 || list.Items[0].PersonID != p.ID || list.Items[0].Title != "寒潮天气探访弱监护老人" {
			t.Errorf("weather tasks %+v", list.Items)
		}
		rec = s.serve(jsonRequest(t, "POST", "/api/v1/monitor/weather", gu, monitor.WeatherRequest{Kind: "cold", Districts: []string{xuhui}}))
		if rec.Code != http.StatusForbidden {
			t.Errorf("adviser plans a sweep: %d", rec.Code)
		}
		var stats monitor.CallStatList
		s.get(t, "/api/v1/monitor/calls/stats", district, 200, &stats)
		if stats.Items == nil {
			t.Errorf("call stats: %+v", stats)
		}
	})
}
