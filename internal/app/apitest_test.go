package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"minzheng/internal/app"
	"minzheng/internal/auth"
	"minzheng/internal/db/dbtest"
	"minzheng/internal/httpx"
)

// This file holds what the API tests share: an app on a throwaway database
// of each kind, staff with bearer tokens, and requests through the real
// handler.

// eachDB runs fn as a subtest once per database kind: SQLite always, and
// PostgreSQL when MINZHENG_TEST_POSTGRES is set (dbtest.PostgresURL skips
// or, in CI, fails otherwise).
func eachDB(t *testing.T, fn func(t *testing.T, cfg app.Config)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, app.Config{DataDir: t.TempDir()}) })
	t.Run("postgres", func(t *testing.T) {
		fn(t, app.Config{DataDir: t.TempDir(), DB: dbtest.PostgresURL(t)})
	})
}

// apiServer is an app with its HTTP handler and router.
type apiServer struct {
	App     *app.App
	Handler http.Handler
	Router  *httpx.Router
}

// openServer opens the app on cfg and builds its handler. Log lines at
// warning level and above (internal errors with their cause) go to the
// test log, so a 500 explains itself.
func openServer(t *testing.T, cfg app.Config) *apiServer {
	t.Helper()
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	a, err := app.Open(context.Background(), cfg, log)
	if err != nil {
		t.Fatalf("open app: %v", err)
	}
	t.Cleanup(func() { a.Close() })
	h, r, err := a.Handler()
	if err != nil {
		t.Fatalf("build handler: %v", err)
	}
	return &apiServer{App: a, Handler: h, Router: r}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

// staff creates an account with the role and jurisdiction and returns a
// bearer token acting as it.
func (s *apiServer) staff(t *testing.T, name string, role auth.Role, division string) string {
	t.Helper()
	ctx := context.Background()
	if _, _, err := s.App.Auth.CreateUser(ctx, auth.System(), auth.NewUser{Name: name, Display: name, Role: role, Division: division}); err != nil {
		t.Fatalf("create user %s: %v", name, err)
	}
	tok, err := s.App.Auth.CreateToken(ctx, auth.System(), name, "test")
	if err != nil {
		t.Fatalf("create token for %s: %v", name, err)
	}
	return tok
}

// apiPatterns returns the router's /api/v1/ patterns, including any
// registered without a method (Router.Patterns matches the prefix against
// the part after the method, so it would leave those out).
func apiPatterns(r *httpx.Router) []string {
	out := r.Patterns("/api/v1/")
	for _, p := range r.Patterns("") {
		if !strings.Contains(p, " ") && strings.HasPrefix(p, "/api/v1/") {
			out = append(out, p)
		}
	}
	return out
}

// newRequest builds an API request with an optional bearer token and body.
func newRequest(method, target, token, contentType string, body []byte) *http.Request {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req := httptest.NewRequest(method, target, rd)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return req
}

// jsonRequest builds a request whose body is v as JSON.
func jsonRequest(t *testing.T, method, target, token string, v any) *http.Request {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return newRequest(method, target, token, "application/json", b)
}

// serve runs req through the handler.
func (s *apiServer) serve(req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	s.Handler.ServeHTTP(rec, req)
	return rec
}

// get runs a GET with token and decodes a JSON answer into v (when v is
// not nil), failing the test unless the status is want.
func (s *apiServer) get(t *testing.T, target, token string, want int, v any) {
	t.Helper()
	rec := s.serve(newRequest(http.MethodGet, target, token, "", nil))
	if rec.Code != want {
		t.Fatalf("GET %s: status %d, want %d; body %s", target, rec.Code, want, truncate(rec.Body.String()))
	}
	if v != nil {
		if err := json.Unmarshal(rec.Body.Bytes(), v); err != nil {
			t.Fatalf("GET %s: decode %T: %v", target, v, err)
		}
	}
}

// apiError is the JSON error shape of the API.
type apiError struct {
	Error *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Fields  []struct {
			Field   string `json:"field"`
			Message string `json:"message"`
		} `json:"fields"`
	} `json:"error"`
}

func truncate(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}
