package app_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"minzheng/internal/app"
	"minzheng/internal/app/apptest"
	"minzheng/internal/auth"
	"minzheng/internal/division"
	"minzheng/internal/httpx"
)

// The names the tests of this package use for apptest's helpers (the
// business lines' HTTP and access tests live in their own packages and
// use apptest directly).

const (
	xuhui  = apptest.Xuhui
	pudong = apptest.Pudong
	city   = apptest.City
)

func eachDB(t *testing.T, fn func(t *testing.T, cfg app.Config)) { t.Helper(); apptest.EachDB(t, fn) }

// apiServer is an apptest.Server.
type apiServer struct{ *apptest.Server }

func openServer(t *testing.T, cfg app.Config) *apiServer {
	t.Helper()
	return &apiServer{apptest.Open(t, cfg)}
}

func (s *apiServer) staff(t *testing.T, name string, role auth.Role, division string) string {
	t.Helper()
	return s.Staff(t, name, role, division)
}

func (s *apiServer) serve(req *http.Request) *httptest.ResponseRecorder { return s.Serve(req) }

func (s *apiServer) get(t *testing.T, target, token string, want int, v any) {
	t.Helper()
	s.Get(t, target, token, want, v)
}

func apiPatterns(r *httpx.Router) []string { return apptest.APIPatterns(r) }

func newRequest(method, target, token, contentType string, body []byte) *http.Request {
	return apptest.NewRequest(method, target, token, contentType, body)
}

func jsonRequest(t *testing.T, method, target, token string, v any) *http.Request {
	t.Helper()
	return apptest.JSONRequest(t, method, target, token, v)
}

type apiError = apptest.APIError

func truncate(s string) string { return apptest.Truncate(s) }

func firstCommittee(t *testing.T, tree *division.Tree, district string) string {
	t.Helper()
	return apptest.FirstCommittee(t, tree, district)
}
