package app_test

import (
	"context"
	"io"
	"log/slog"
	"net"
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
	"minzheng/internal/tabular"
)

// TestWebLoginCSRF goes through the pages as a browser would: login form,
// session cookie, a form post refused without the CSRF token and accepted
// with it, logout.
func TestWebLoginCSRF(t *testing.T) {
	eachDB(t, func(t *testing.T, cfg app.Config) {
		s := openServer(t, cfg)
		_, pw, err := s.App.Auth.CreateUser(context.Background(), auth.System(), auth.NewUser{Name: "clerk1", Role: auth.Clerk, Division: "310104"})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(s.Handler)
		defer srv.Close()
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		body := func(r *http.Response) string { b, _ := io.ReadAll(r.Body); r.Body.Close(); return string(b) }

		r, _ := c.Get(srv.URL + "/persons")
		if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login") {
			t.Fatalf("anonymous /persons: %d %s", r.StatusCode, r.Header.Get("Location"))
		}
		r, _ = c.PostForm(srv.URL+"/login", url.Values{"name": {"clerk1"}, "password": {"wrong"}})
		if b := body(r); r.StatusCode != http.StatusUnauthorized || !strings.Contains(b, "用户名或密码错误") {
			t.Fatalf("wrong password: %d", r.StatusCode)
		}
		r, _ = c.PostForm(srv.URL+"/login", url.Values{"name": {"clerk1"}, "password": {pw}, "next": {"/persons"}})
		body(r)
		if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/persons" {
			t.Fatalf("login: %d %s", r.StatusCode, r.Header.Get("Location"))
		}
		for _, ck := range r.Cookies() {
			if ck.Name == "mz_session" && (!ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode) {
				t.Errorf("session cookie flags: %+v", ck)
			}
		}
		r, _ = c.Get(srv.URL + "/persons/new")
		page := body(r)
		m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
		if r.StatusCode != 200 || m == nil {
			t.Fatalf("form page %d, csrf found %v", r.StatusCode, m != nil)
		}
		form := url.Values{"name": {"张三"}, "id_number": {idcard.Build("310104", time.Date(1990, 1, 2, 0, 0, 0, 0, time.UTC), 17)}, "residence_division": {"310104003001"}, "relation": {"head"}}
		r, _ = c.PostForm(srv.URL+"/persons/new", form)
		if b := body(r); r.StatusCode != http.StatusForbidden || !strings.Contains(b, "CSRF") {
			t.Fatalf("post without csrf: %d", r.StatusCode)
		}
		form.Set("csrf", m[1])
		r, _ = c.PostForm(srv.URL+"/persons/new", form)
		body(r)
		if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/persons/") {
			t.Fatalf("post with csrf: %d %s", r.StatusCode, r.Header.Get("Location"))
		}
		r, _ = c.Get(srv.URL + r.Header.Get("Location"))
		if b := body(r); r.StatusCode != 200 || !strings.Contains(b, "张三") || !strings.Contains(b, "310104********") {
			t.Fatalf("profile: %d", r.StatusCode)
		}
		// A bad ID number comes back on the form with the field named.
		form.Set("id_number", "310104199001021234")
		r, _ = c.PostForm(srv.URL+"/persons/new", form)
		if b := body(r); r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(b, "校验") {
			t.Fatalf("bad id: %d", r.StatusCode)
		}
		r, _ = c.PostForm(srv.URL+"/logout", url.Values{"csrf": {m[1]}})
		body(r)
		r, _ = c.Get(srv.URL + "/persons")
		if r.StatusCode != http.StatusSeeOther {
			t.Fatalf("after logout: %d", r.StatusCode)
		}
	})
}

// TestServeShutsDownGracefully starts the real server, makes a request, and
// cancels: Serve returns without error.
func TestServeShutsDownGracefully(t *testing.T) {
	a, err := app.Open(context.Background(), app.Config{DataDir: t.TempDir()}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, addr, nil) }()
	var r *http.Response
	for i := 0; i < 50; i++ {
		if r, err = http.Get("http://" + addr + "/healthz"); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil || r.StatusCode != 200 {
		t.Fatalf("healthz: %v", err)
	}
	b, _ := io.ReadAll(r.Body)
	if !strings.Contains(string(b), `"status":"ok"`) {
		t.Errorf("healthz body %s", b)
	}
	m, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	mb, _ := io.ReadAll(m.Body)
	if !strings.Contains(string(mb), `minzheng_http_requests_total{code="200",route="GET /healthz"}`) {
		t.Errorf("metrics lack the healthz request")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}
}

// TestPageExports downloads the division and account lists as a logged-in
// district administrator and reads them back.
func TestPageExports(t *testing.T) {
	s := openServer(t, app.Config{DataDir: t.TempDir()})
	ctx := context.Background()
	_, pw, err := s.App.Auth.CreateUser(ctx, auth.System(), auth.NewUser{Name: "xh_admin", Role: auth.DistrictAdmin, Division: "310104"})
	if err != nil {
		t.Fatal(err)
	}
	s.App.Auth.CreateUser(ctx, auth.System(), auth.NewUser{Name: "pd_clerk", Role: auth.Clerk, Division: "310115"})
	srv := httptest.NewServer(s.Handler)
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	if r, err := c.PostForm(srv.URL+"/login", url.Values{"name": {"xh_admin"}, "password": {pw}}); err != nil || r.StatusCode != 200 {
		t.Fatalf("login: %v", err)
	}
	read := func(path string) *tabular.Table {
		t.Helper()
		r, err := c.Get(srv.URL + path)
		if err != nil || r.StatusCode != 200 {
			t.Fatalf("GET %s: %v %v", path, err, r.Status)
		}
		defer r.Body.Close()
		tb, err := tabular.Read(r.Body, "x.xlsx", 10<<20)
		if err != nil {
			t.Fatalf("read %s: %v", path, err)
		}
		return tb
	}
	if tb := read("/divisions/310000/export.xlsx"); len(tb.Rows) != 16 || tb.Rows[0].Get(1) != "黄浦区" {
		t.Errorf("division export: %d rows, first %v", len(tb.Rows), tb.Rows[0].Cells)
	}
	tb := read("/users/export.xlsx")
	if len(tb.Rows) != 1 || tb.Rows[0].Get(0) != "xh_admin" {
		t.Errorf("user export shows %d rows: %v", len(tb.Rows), tb.Rows)
	}
}

// TestSimulatePage runs a what-if through the page and its Excel export as
// the city administrator; a district administrator is refused.
func TestSimulatePage(t *testing.T) {
	s := openServer(t, app.Config{DataDir: t.TempDir()})
	ctx := context.Background()
	if _, err := s.App.Generate(ctx, 2000, 3, io.Discard); err != nil {
		t.Fatal(err)
	}
	login := func(name string, role auth.Role, division string) *http.Client {
		_, pw, err := s.App.Auth.CreateUser(ctx, auth.System(), auth.NewUser{Name: name, Role: role, Division: division})
		if err != nil {
			t.Fatal(err)
		}
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar}
		srvURL := serverURL(t, s)
		if _, err := c.PostForm(srvURL+"/login", url.Values{"name": {name}, "password": {pw}}); err != nil {
			t.Fatal(err)
		}
		return c
	}
	admin := login("city1", auth.CityAdmin, "310000")
	base := serverURL(t, s)
	r, err := admin.Get(base + "/simulate?set=" + url.QueryEscape("dibao.standard=3000") + "&from=2025-08-01")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r.Body)
	page := string(b)
	if r.StatusCode != 200 || !strings.Contains(page, `id="sim-total"`) || !strings.Contains(page, "data-chart") || !strings.Contains(page, "最低生活保障") {
		t.Fatalf("simulate page %d:\n%.2000s", r.StatusCode, page)
	}
	r, err = admin.Get(base + "/simulate/export.xlsx?set=" + url.QueryEscape("dibao.standard=3000") + "&from=2025-08-01")
	if err != nil || r.StatusCode != 200 {
		t.Fatalf("export: %v %v", err, r.Status)
	}
	tb, err := tabular.Read(r.Body, "sim.xlsx", 10<<20)
	if err != nil || len(tb.Rows) == 0 || tb.Header[0] != "项目" {
		t.Fatalf("export table: %v %+v", err, tb)
	}
	r, _ = admin.Get(base + "/simulate?set=" + url.QueryEscape("dibao.nope=1") + "&from=2025-08-01")
	if b, _ := io.ReadAll(r.Body); r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(string(b), "未知参数") {
		t.Errorf("bad parameter: %d", r.StatusCode)
	}
	district := login("xh_admin2", auth.DistrictAdmin, "310104")
	if r, _ := district.Get(base + "/simulate"); r.StatusCode != http.StatusForbidden {
		t.Errorf("district admin: %d, want 403", r.StatusCode)
	}
}

var servers = map[*apiServer]string{}

// serverURL starts (once per app) a real HTTP server for browser-like clients.
func serverURL(t *testing.T, s *apiServer) string {
	if u, ok := servers[s]; ok {
		return u
	}
	srv := httptest.NewServer(s.Handler)
	t.Cleanup(func() { srv.Close(); delete(servers, s) })
	servers[s] = srv.URL
	return srv.URL
}

// TestProactiveConsole runs the proactive grant from the console's button
// and reads the policy catalogue.
func TestProactiveConsole(t *testing.T) {
	s := openServer(t, app.Config{DataDir: t.TempDir()})
	ctx := context.Background()
	if _, err := s.App.Generate(ctx, 1500, 5, io.Discard); err != nil {
		t.Fatal(err)
	}
	_, pw, _ := s.App.Auth.CreateUser(ctx, auth.System(), auth.NewUser{Name: "ops", Role: auth.CityAdmin, Division: "310000"})
	base := serverURL(t, s)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	c.PostForm(base+"/login", url.Values{"name": {"ops"}, "password": {pw}})
	r, _ := c.Get(base + "/proactive")
	b, _ := io.ReadAll(r.Body)
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(string(b))
	if r.StatusCode != 200 || m == nil {
		t.Fatalf("console %d", r.StatusCode)
	}
	r, _ = c.PostForm(base+"/proactive", url.Values{"csrf": {m[1]}, "as_of": {"2025-08-01"}})
	b, _ = io.ReadAll(r.Body)
	if r.StatusCode != 200 || !strings.Contains(string(b), `id="last-run"`) {
		t.Fatalf("run: %d", r.StatusCode)
	}
	var grants int
	s.App.DB.QueryRow(`SELECT grants FROM proactive_runs ORDER BY id DESC LIMIT 1`).Scan(&grants)
	var active int
	s.App.DB.QueryRow(`SELECT COUNT(*) FROM entitlements WHERE status = 'active'`).Scan(&active)
	if grants == 0 || grants != active {
		t.Fatalf("run granted %d, %d active entitlements", grants, active)
	}
	r, _ = c.Get(base + "/policies")
	b, _ = io.ReadAll(r.Body)
	if r.StatusCode != 200 || !strings.Contains(string(b), "dibao.standard") || !strings.Contains(string(b), "1650") {
		t.Fatalf("policies page %d", r.StatusCode)
	}
}
