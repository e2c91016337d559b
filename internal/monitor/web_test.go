package monitor_test

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"

	"minzheng/internal/app"
	"minzheng/internal/app/apptest"
	"minzheng/internal/auth"
	"minzheng/internal/idcard"
	"minzheng/internal/monitor"
	"minzheng/internal/registry"
	"minzheng/internal/tabular"
)

// TestMonitorPages walks the adviser's journey on the web: sign in, the
// task list, the household with the reason, a visit with a photo that
// closes the task; another committee's adviser gets 404 for the task; the
// city uploads a GBK feed file on the feeds page; the dashboard and its
// Excel export answer.
func TestMonitorPages(t *testing.T) {
	s := apptest.Open(t, app.Config{DataDir: t.TempDir()})
	ctx := context.Background()
	tree := s.App.Divisions.Tree
	committee := apptest.FirstCommittee(t, tree, xuhui)
	other := apptest.FirstCommittee(t, tree, pudong)
	gu := s.Login(t, "gu", auth.Adviser, committee)
	pd := s.Login(t, "pd_gu", auth.Adviser, other)
	admin := s.Login(t, "admin", auth.CityAdmin, city)
	number := idcard.Build(xuhui, time.Date(1950, 3, 4, 0, 0, 0, 0, time.UTC), 5)
	p, err := s.App.Registry.Create(ctx, auth.System(), registry.NewPerson{Name: "走访对象", IDNumber: number, HukouDivision: committee, ResidenceDivision: committee, Address: "天平路 9 号"})
	if err != nil {
		t.Fatal(err)
	}
	s.App.DB.ExecContext(ctx, `INSERT INTO entitlements (program, person_id, household_id, status, monthly_fen, since, proactive, decision_id, updated_at) VALUES ('dibao', $1, $2, 'active', 100000, '2025-01-01', 1, 0, '')`, p.ID, p.HouseholdID)

	// The city uploads a GBK medical feed on the feeds page.
	r := admin.Get(t, "/monitor/feeds")
	if r.Code != 200 || !strings.Contains(r.Body, "导入部门数据") || !strings.Contains(r.Body, "刚性支出困难风险") {
		t.Fatalf("feeds page %d", r.Code)
	}
	gbk, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte("身份证号,结算日期,自付金额\r\n" + number + "," + time.Now().AddDate(0, 0, -5).Format(time.DateOnly) + ",8000\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	r = admin.Upload(t, "/monitor/feeds", map[string]string{"csrf": apptest.CSRFOf(t, r.Body), "type": "medical"}, apptest.File{Field: "file", Name: "医保.csv", Content: gbk})
	if r.Code != 200 || !strings.Contains(r.Body, "接收 <b>1</b>") || !strings.Contains(r.Body, "新预警 1") {
		t.Fatalf("upload: %d %s", r.Code, r.Body)
	}

	r = gu.Get(t, "/monitor/tasks")
	m := regexp.MustCompile(`href="/monitor/tasks/(\d+)"`).FindStringSubmatch(r.Body)
	if r.Code != 200 || m == nil || !strings.Contains(r.Body, "刚性支出困难风险") {
		t.Fatalf("task list %d: %s", r.Code, r.Body)
	}
	task := "/monitor/tasks/" + m[1]
	r = gu.Get(t, task)
	if r.Code != 200 || !strings.Contains(r.Body, "天平路 9 号") || !strings.Contains(r.Body, "8000") || !strings.Contains(r.Body, "走访对象") {
		t.Fatalf("task page %d: %s", r.Code, r.Body)
	}
	page := r.Body
	// Another committee's adviser: absent.
	if r := pd.Get(t, task); r.Code != http.StatusNotFound {
		t.Errorf("other adviser: %d", r.Code)
	}
	// A visit without what was found comes back with the message.
	jpeg := apptest.File{Field: "photos", Name: "门口.jpg", Content: append([]byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00"), make([]byte, 100)...)}
	r = gu.Upload(t, task+"/visit", map[string]string{"csrf": apptest.CSRFOf(t, page), "disposition": monitor.Resolved}, jpeg)
	if r.Code != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "请填写走访发现的情况") {
		t.Fatalf("bad visit: %d", r.Code)
	}
	r = gu.Upload(t, task+"/visit", map[string]string{"csrf": apptest.CSRFOf(t, page), "disposition": monitor.Resolved, "found": "已协助申请医疗救助"}, jpeg)
	if r.Code != http.StatusSeeOther {
		t.Fatalf("visit: %d", r.Code)
	}
	r = gu.Get(t, task)
	pm := regexp.MustCompile(`href="(/monitor/tasks/\d+/photos/\d+)"`).FindStringSubmatch(r.Body)
	if !strings.Contains(r.Body, "已办结") || !strings.Contains(r.Body, "已协助申请医疗救助") || pm == nil {
		t.Fatalf("closed task page: %s", r.Body)
	}
	if r := gu.Get(t, pm[1]); r.Code != 200 || r.Header.Get("Content-Type") != "image/jpeg" || r.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("photo: %d %s, Cache-Control %q (a visit photo is personal data: no-store)", r.Code, r.Header.Get("Content-Type"), r.Header.Get("Cache-Control"))
	}
	if r := pd.Get(t, pm[1]); r.Code != http.StatusNotFound {
		t.Errorf("photo for the other adviser: %d", r.Code)
	}

	// Dashboard and export.
	if r := gu.Get(t, "/monitor"); r.Code != 200 || !strings.Contains(r.Body, `data-map="shanghai"`) {
		t.Errorf("dashboard %d", r.Code)
	}
	r = admin.Get(t, "/monitor/export.xlsx?status=closed")
	tb, err := tabular.Read(strings.NewReader(r.Body), "x.xlsx", 1<<20)
	if err != nil || len(tb.Rows) != 1 || tb.Rows[0].Get(2) != "刚性支出困难风险" || tb.Rows[0].Get(9) != "已解决" {
		t.Errorf("export: %v %v", err, tb)
	}
	if r := admin.Get(t, "/static/geo/shanghai.json"); r.Code != 200 {
		t.Errorf("map data: %d", r.Code)
	}
}
