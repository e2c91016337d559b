package monitor_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"minzheng/internal/app"
	"minzheng/internal/app/apptest"
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
	apptest.EachDB(t, func(t *testing.T, cfg app.Config) {
		s := apptest.Open(t, cfg)
		ctx := context.Background()
		tree := s.App.Divisions.Tree
		xc, pc := apptest.FirstCommittee(t, tree, xuhui), apptest.FirstCommittee(t, tree, pudong)
		var xc2 string
		for _, c := range tree.Children(xc[:9]) {
			if c != xc {
				xc2 = c
				break
			}
		}
		admin := s.Staff(t, "admin", auth.CityAdmin, city)
		advisers := map[string]string{}
		for _, c := range []string{xc, xc2, pc} {
			advisers[c] = s.Staff(t, "adviser_"+c, auth.Adviser, c)
		}
		xuhuiAdmin := s.Staff(t, "xuhui_admin", auth.DistrictAdmin, xuhui)
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
		if _, err := s.App.Proactive.Run(ctx, auth.System(), time.Now(), io.Discard); err != nil {
			t.Fatal(err)
		}
		var rows []map[string]any
		for _, c := range []string{xc, xc2, pc} {
			rows = append(rows, map[string]any{"身份证号": numbers[c], "死亡日期": time.Now().AddDate(0, 0, -3).Format(time.DateOnly)})
		}
		rec := s.Serve(apptest.JSONRequest(t, "POST", "/api/v1/feeds/death", admin, monitor.FeedBatch{Batch: "gaj-http-1", Rows: rows}))
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
			s.Get(t, "/api/v1/monitor/tasks"+query, token, 200, &l)
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
					rec := s.Serve(apptest.NewRequest("GET", "/api/v1/monitor/tasks?division="+x.Division, tok, "", nil))
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
		s.Get(t, "/api/v1/monitor/dashboard", xuhuiAdmin, 200, &dash)
		if dash.Warnings != 2 || dash.Open != 2 || len(dash.Districts) != 1 {
			t.Errorf("徐汇 dashboard %+v", dash)
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
	apptest.EachDB(t, func(t *testing.T, cfg app.Config) {
		s := apptest.Open(t, cfg)
		ctx := context.Background()
		tree := s.App.Divisions.Tree
		committee := apptest.FirstCommittee(t, tree, xuhui)
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
		gu := s.Staff(t, "gu", auth.Adviser, committee)
		neighbour := s.Staff(t, "neighbour", auth.Adviser, sibling)
		var list monitor.TaskList
		s.Get(t, "/api/v1/monitor/tasks", gu, 200, &list)
		if len(list.Items) != 1 {
			t.Fatalf("adviser's tasks: %+v", list.Items)
		}
		id := list.Items[0].ID
		taskURL := fmt.Sprintf("/api/v1/monitor/tasks/%d", id)

		var d monitor.TaskDetail
		s.Get(t, taskURL, gu, 200, &d)
		if d.Reason == "" || !strings.Contains(string(d.Data), `"medical_3m":9000`) || len(d.Members) != 1 || d.Members[0].IDMasked == number ||
			!strings.Contains(d.Members[0].IDMasked, "*") || d.Address != "天平路 10 号" {
			t.Errorf("task detail %+v data %s", d, d.Data)
		}
		s.Get(t, taskURL, neighbour, 404, nil)
		visit := func(tok string, body any) *httptest.ResponseRecorder {
			return s.Serve(apptest.JSONRequest(t, "POST", taskURL+"/visits", tok, body))
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
			rec := s.Serve(apptest.NewRequest("POST", taskURL+"/visits", gu, "application/json", []byte(b.body)))
			var e apptest.APIError
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
		s.Get(t, taskURL, gu, 200, &d)
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
		s.Get(t, taskURL, gu, 200, &d)
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
		district := s.Staff(t, "xh_admin", auth.DistrictAdmin, xuhui)
		var wr monitor.WeatherResult
		rec = s.Serve(apptest.JSONRequest(t, "POST", "/api/v1/monitor/weather", district, monitor.WeatherRequest{Kind: "cold", Districts: []string{xuhui}}))
		if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &wr) != nil || wr.Created != 1 {
			t.Fatalf("weather: %d %s", rec.Code, rec.Body.String())
		}
		s.Get(t, "/api/v1/monitor/tasks?kind=weather", gu, 200, &list)
		if len(list.Items) != 1 || list.Items[0].PersonID != p.ID || list.Items[0].Title != "寒潮天气探访弱监护老人" {
			t.Errorf("weather tasks %+v", list.Items)
		}
		rec = s.Serve(apptest.JSONRequest(t, "POST", "/api/v1/monitor/weather", gu, monitor.WeatherRequest{Kind: "cold", Districts: []string{xuhui}}))
		if rec.Code != http.StatusForbidden {
			t.Errorf("adviser plans a sweep: %d", rec.Code)
		}
		var stats monitor.CallStatList
		s.Get(t, "/api/v1/monitor/calls/stats", district, 200, &stats)
		if stats.Items == nil {
			t.Errorf("call stats: %+v", stats)
		}
	})
}

func hasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}
