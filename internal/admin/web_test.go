package admin_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"minzheng/internal/app"
	"minzheng/internal/app/apptest"
	"minzheng/internal/auth"
	"minzheng/internal/idcard"
	"minzheng/internal/tabular"
)

// TestWebLoginCSRF goes through the pages as a browser would: login form,
// session cookie, a form post refused without the CSRF token and accepted
// with it, logout.
func TestWebLoginCSRF(t *testing.T) {
	apptest.EachDB(t, func(t *testing.T, cfg app.Config) {
		s := apptest.Open(t, cfg)
		_, pw, err := s.App.Auth.CreateUser(context.Background(), auth.System(), auth.NewUser{Name: "clerk1", Role: auth.Clerk, Division: "310104"})
		if err != nil {
			t.Fatal(err)
		}
		b := s.Browser(t)

		r := b.Get(t, "/persons")
		if r.Code != http.StatusSeeOther || !strings.HasPrefix(r.Location(), "/login") {
			t.Fatalf("anonymous /persons: %d %s", r.Code, r.Location())
		}
		r = b.PostForm(t, "/login", url.Values{"name": {"clerk1"}, "password": {"wrong"}})
		if r.Code != http.StatusUnauthorized || !strings.Contains(r.Body, "用户名或密码错误") {
			t.Fatalf("wrong password: %d", r.Code)
		}
		// The login's own answer, for its cookie.
		resp, err := b.Client.PostForm(b.Base+"/login", url.Values{"name": {"clerk1"}, "password": {pw}, "next": {"/persons"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/persons" {
			t.Fatalf("login: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		for _, ck := range resp.Cookies() {
			if ck.Name == "mz_session" && (!ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode) {
				t.Errorf("session cookie flags: %+v", ck)
			}
		}
		r = b.Get(t, "/persons/new")
		m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(r.Body)
		if r.Code != 200 || m == nil {
			t.Fatalf("form page %d, csrf found %v", r.Code, m != nil)
		}
		fields := url.Values{"name": {"张三"}, "id_number": {idcard.Build("310104", time.Date(1990, 1, 2, 0, 0, 0, 0, time.UTC), 17)}, "residence_division": {"310104003001"}, "relation": {"head"}}
		if r = b.PostForm(t, "/persons/new", fields); r.Code != http.StatusForbidden || !strings.Contains(r.Body, "CSRF") {
			t.Fatalf("post without csrf: %d", r.Code)
		}
		fields.Set("csrf", m[1])
		r = b.PostForm(t, "/persons/new", fields)
		if r.Code != http.StatusSeeOther || !strings.HasPrefix(r.Location(), "/persons/") {
			t.Fatalf("post with csrf: %d %s", r.Code, r.Location())
		}
		if r = b.Get(t, r.Location()); r.Code != 200 || !strings.Contains(r.Body, "张三") || !strings.Contains(r.Body, "310104********") {
			t.Fatalf("profile: %d", r.Code)
		}
		// A bad ID number comes back on the form with the field named.
		fields.Set("id_number", "310104199001021234")
		if r = b.PostForm(t, "/persons/new", fields); r.Code != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "校验") {
			t.Fatalf("bad id: %d", r.Code)
		}
		b.PostForm(t, "/logout", url.Values{"csrf": {m[1]}})
		if r = b.Get(t, "/persons"); r.Code != http.StatusSeeOther {
			t.Fatalf("after logout: %d", r.Code)
		}
	})
}

// TestUserExportPage downloads the account list as a logged-in district
// administrator and reads it back: only the accounts of the district.
func TestUserExportPage(t *testing.T) {
	s := apptest.Open(t, app.Config{DataDir: t.TempDir()})
	ctx := context.Background()
	_, pw, err := s.App.Auth.CreateUser(ctx, auth.System(), auth.NewUser{Name: "xh_admin", Role: auth.DistrictAdmin, Division: "310104"})
	if err != nil {
		t.Fatal(err)
	}
	s.App.Auth.CreateUser(ctx, auth.System(), auth.NewUser{Name: "pd_clerk", Role: auth.Clerk, Division: "310115"})
	b := s.Browser(t)
	b.LogIn(t, "xh_admin", pw)
	r := b.Get(t, "/users/export.xlsx")
	if r.Code != 200 {
		t.Fatalf("GET /users/export.xlsx: %d", r.Code)
	}
	tb, err := tabular.Read(strings.NewReader(r.Body), "x.xlsx", 10<<20)
	if err != nil {
		t.Fatalf("read /users/export.xlsx: %v", err)
	}
	if len(tb.Rows) != 1 || tb.Rows[0].Get(0) != "xh_admin" {
		t.Errorf("user export shows %d rows: %v", len(tb.Rows), tb.Rows)
	}
}
