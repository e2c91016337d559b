package app_test

import (
	"net/http"
	"strings"
	"testing"

	"minzheng/internal/app"
	"minzheng/internal/app/apptest"
	"minzheng/internal/auth"
)

// TestMetricsNeedAToken: /metrics answers only to the configured bearer
// token or a staff token with system.operate (issue 11, finding 14).
func TestMetricsNeedAToken(t *testing.T) {
	const token = "prometheus-scrape-token-0123456789"
	t.Setenv(app.EnvMetricsToken, token)
	s := apptest.Open(t, app.Config{DataDir: t.TempDir()})
	admin := s.Staff(t, "ops", auth.CityAdmin, "310000")
	clerk := s.Staff(t, "clerk", auth.Clerk, "310104")
	get := func(auth string) *http.Response {
		req := apptest.NewRequest("GET", "/metrics", "", "", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		return s.Serve(req).Result()
	}
	for _, tt := range []struct {
		name, auth string
		want       int
	}{
		{"no token", "", http.StatusUnauthorized},
		{"wrong token", "Bearer " + token + "x", http.StatusUnauthorized},
		{"basic", "Basic " + token, http.StatusUnauthorized},
		{"staff without system.operate", "Bearer " + clerk, http.StatusForbidden},
		{"metrics token", "Bearer " + token, http.StatusOK},
		{"staff with system.operate", "Bearer " + admin, http.StatusOK},
	} {
		r := get(tt.auth)
		if r.StatusCode != tt.want {
			t.Errorf("%s: status %d, want %d", tt.name, r.StatusCode, tt.want)
		}
		if r.StatusCode == http.StatusUnauthorized && !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%s: 401 without WWW-Authenticate: Bearer", tt.name)
		}
	}
}

// TestStaticListsNoDirectory: /static/ serves files, never a listing.
func TestStaticListsNoDirectory(t *testing.T) {
	s := apptest.Open(t, app.Config{DataDir: t.TempDir()})
	for path, want := range map[string]int{
		"/static/":              http.StatusNotFound,
		"/static/geo/":          http.StatusNotFound,
		"/static/geo":           http.StatusNotFound,
		"/static/app.css":       http.StatusOK,
		"/static/geo/SOURCE.md": http.StatusOK,
		"/static/nothing.js":    http.StatusNotFound,
	} {
		rec := s.Serve(apptest.NewRequest("GET", path, "", "", nil))
		if rec.Code != want {
			t.Errorf("GET %s: %d, want %d", path, rec.Code, want)
		}
		if strings.Contains(rec.Body.String(), `<a href="app.css">`) {
			t.Errorf("GET %s lists the directory", path)
		}
	}
}
