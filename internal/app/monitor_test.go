package app_test

import (
	"context"
	"fmt"
	"net/http"
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
