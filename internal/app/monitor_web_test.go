package app_test

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"minzheng/internal/app"
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
	s := openServer(t, app.Config{DataDir: t.TempDir()})
	ctx := context.Background()
	tree := s.App.Divisions.Tree
	committee := firstCommittee(t, tree, xuhui)
	other := firstCommittee(t, tree, pudong)
	users := map[string]string{}
	for _, u := range []auth.NewUser{{Name: "gu", Role: auth.Adviser, Division: committee}, {Name: "pd_gu", Role: auth.Adviser, Division: other},
		{Name: "admin", Role: auth.CityAdmin, Division: city}} {
		_, pw, err := s.App.Auth.CreateUser(ctx, auth.System(), u)
		if err != nil {
			t.Fatal(err)
		}
		users[u.Name] = pw
	}
	number := idcard.Build(xuhui, time.Date(1950, 3, 4, 0, 0, 0, 0, time.UTC), 5)
	p, err := s.App.Registry.Create(ctx, auth.System(), registry.NewPerson{Name: "走访对象", IDNumber: number, HukouDivision: committee, ResidenceDivision: committee, Address: "天平路 9 号"})
	if err != nil {
		t.Fatal(err)
	}
	s.App.DB.ExecContext(ctx, `INSERT INTO entitlements (program, person_id, household_id, status, monthly_fen, since, proactive, decision_id, updated_at) VALUES ('dibao', $1, $2, 'active', 100000, '2025-01-01', 1, 0, '')`, p.ID, p.HouseholdID)
	srv := httptest.NewServer(s.Handler)
	defer srv.Close()
	body := func(r *http.Response) string { b, _ := io.ReadAll(r.Body); r.Body.Close(); return string(b) }
	login := func(name string) *http.Client {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		r, err := c.PostForm(srv.URL+"/login", url.Values{"name": {name}, "password": {users[name]}})
		if err != nil || r.StatusCode != http.StatusSeeOther {
			t.Fatalf("login %s: %v", name, err)
		}
		return c
	}
	csrfOf := func(page string) string {
		m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
		if m == nil {
			t.Fatal("no csrf on the page")
		}
		return m[1]
	}
	upload := func(c *http.Client, target string, fields map[string]string, file, name string, content []byte) *http.Response {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		for k, v := range fields {
			mw.WriteField(k, v)
		}
		if content != nil {
			w, _ := mw.CreateFormFile(file, name)
			w.Write(content)
		}
		mw.Close()
		req, _ := http.NewRequest("POST", srv.URL+target, &buf)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		r, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}

	// The city uploads a GBK medical feed on the feeds page.
	admin := login("admin")
	r, _ := admin.Get(srv.URL + "/monitor/feeds")
	page := body(r)
	if r.StatusCode != 200 || !strings.Contains(page, "导入部门数据") || !strings.Contains(page, "刚性支出困难风险") {
		t.Fatalf("feeds page %d", r.StatusCode)
	}
	gbk := encodeGBK(t, "身份证号,结算日期,自付金额\r\n"+number+","+time.Now().AddDate(0, 0, -5).Format(time.DateOnly)+",8000\r\n")
	r = upload(admin, "/monitor/feeds", map[string]string{"csrf": csrfOf(page), "type": "medical"}, "file", "医保.csv", gbk)
	if page := body(r); r.StatusCode != 200 || !strings.Contains(page, "接收 <b>1</b>") || !strings.Contains(page, "新预警 1") {
		t.Fatalf("upload: %d %s", r.StatusCode, page)
	}

	gu := login("gu")
	r, _ = gu.Get(srv.URL + "/monitor/tasks")
	page = body(r)
	m := regexp.MustCompile(`href="/monitor/tasks/(\d+)"`).FindStringSubmatch(page)
	if r.StatusCode != 200 || m == nil || !strings.Contains(page, "刚性支出困难风险") {
		t.Fatalf("task list %d: %s", r.StatusCode, page)
	}
	task := "/monitor/tasks/" + m[1]
	r, _ = gu.Get(srv.URL + task)
	page = body(r)
	if r.StatusCode != 200 || !strings.Contains(page, "天平路 9 号") || !strings.Contains(page, "8000") || !strings.Contains(page, "走访对象") {
		t.Fatalf("task page %d: %s", r.StatusCode, page)
	}
	// Another committee's adviser: absent.
	pd := login("pd_gu")
	if r, _ := pd.Get(srv.URL + task); r.StatusCode != http.StatusNotFound {
		t.Errorf("other adviser: %d", r.StatusCode)
	}
	// A visit without what was found comes back with the message.
	jpeg := append([]byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00"), make([]byte, 100)...)
	r = upload(gu, task+"/visit", map[string]string{"csrf": csrfOf(page), "disposition": monitor.Resolved}, "photos", "门口.jpg", jpeg)
	if b := body(r); r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(b, "请填写走访发现的情况") {
		t.Fatalf("bad visit: %d", r.StatusCode)
	}
	r = upload(gu, task+"/visit", map[string]string{"csrf": csrfOf(page), "disposition": monitor.Resolved, "found": "已协助申请医疗救助"}, "photos", "门口.jpg", jpeg)
	body(r)
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("visit: %d", r.StatusCode)
	}
	r, _ = gu.Get(srv.URL + task)
	page = body(r)
	pm := regexp.MustCompile(`href="(/monitor/tasks/\d+/photos/\d+)"`).FindStringSubmatch(page)
	if !strings.Contains(page, "已办结") || !strings.Contains(page, "已协助申请医疗救助") || pm == nil {
		t.Fatalf("closed task page: %s", page)
	}
	if r, _ := gu.Get(srv.URL + pm[1]); r.StatusCode != 200 || r.Header.Get("Content-Type") != "image/jpeg" {
		t.Errorf("photo: %d %s", r.StatusCode, r.Header.Get("Content-Type"))
	}
	if r, _ := pd.Get(srv.URL + pm[1]); r.StatusCode != http.StatusNotFound {
		t.Errorf("photo for the other adviser: %d", r.StatusCode)
	}

	// Dashboard and export.
	r, _ = gu.Get(srv.URL + "/monitor")
	if page := body(r); r.StatusCode != 200 || !strings.Contains(page, `data-map="shanghai"`) {
		t.Errorf("dashboard %d", r.StatusCode)
	}
	r, _ = admin.Get(srv.URL + "/monitor/export.xlsx?status=closed")
	tb, err := tabular.Read(r.Body, "x.xlsx", 1<<20)
	r.Body.Close()
	if err != nil || len(tb.Rows) != 1 || tb.Rows[0].Get(2) != "刚性支出困难风险" || tb.Rows[0].Get(9) != "已解决" {
		t.Errorf("export: %v %v", err, tb)
	}
	if r, _ := admin.Get(srv.URL + "/static/geo/shanghai.json"); r.StatusCode != 200 {
		t.Errorf("map data: %d", r.StatusCode)
	}
}
