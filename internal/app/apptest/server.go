// Package apptest is for tests only: it runs the whole application (app,
// handler, router) on a throwaway database of each kind, gives staff bearer
// tokens and browser sessions, sends requests through the real handler, and
// walks a business line's /api/v1 routes with every role from two
// districts (Walk). The business lines' HTTP and access tests import it
// from their external test packages (package monitor_test and so on).
//
// Nothing outside *_test.go files may import it.
package apptest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"

	"minzheng/internal/app"
	"minzheng/internal/auth"
	"minzheng/internal/db/dbtest"
	"minzheng/internal/division"
	"minzheng/internal/httpx"
)

// EachDB runs fn as a subtest once per database kind: "sqlite" always, and
// "postgres" when MINZHENG_TEST_POSTGRES is set (dbtest.PostgresURL skips
// or, in CI, fails otherwise). Each gets a fresh data folder.
func EachDB(t *testing.T, fn func(t *testing.T, cfg app.Config)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, app.Config{DataDir: t.TempDir()}) })
	t.Run("postgres", func(t *testing.T) {
		fn(t, app.Config{DataDir: t.TempDir(), DB: dbtest.PostgresURL(t)})
	})
}

// Server is an open app with its HTTP handler and router.
type Server struct {
	App     *app.App
	Handler http.Handler
	Router  *httpx.Router

	mu  sync.Mutex
	url string
}

// Open opens the app on cfg and builds its handler; both are closed when
// the test ends. Log lines at warning level and above (internal errors
// with their cause) go to the test log, so a 500 explains itself.
func Open(t *testing.T, cfg app.Config) *Server {
	t.Helper()
	a, err := app.Open(context.Background(), cfg, Logger(t))
	if err != nil {
		t.Fatalf("open app: %v", err)
	}
	t.Cleanup(func() { a.Close() })
	h, r, err := a.Handler()
	if err != nil {
		t.Fatalf("build handler: %v", err)
	}
	return &Server{App: a, Handler: h, Router: r}
}

// Logger returns a logger writing warnings and errors to the test log.
func Logger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

// Staff creates an account with the role and jurisdiction and returns a
// bearer token acting as it.
func (s *Server) Staff(t testing.TB, name string, role auth.Role, division string) string {
	t.Helper()
	ctx := context.Background()
	if _, _, err := s.App.Auth.CreateUser(ctx, auth.System(), auth.NewUser{Name: name, Display: name, Role: role, Division: division}); err != nil {
		t.Fatalf("add user %s: %v", name, err)
	}
	tok, err := s.App.Auth.CreateToken(ctx, auth.System(), name, "test")
	if err != nil {
		t.Fatalf("token for %s: %v", name, err)
	}
	return tok
}

// URL starts, on first use, a real HTTP server on the handler for
// browser-like clients and returns its base URL. The server is closed when
// the test that started it ends; the next call starts another.
func (s *Server) URL(t testing.TB) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.url == "" {
		srv := httptest.NewServer(s.Handler)
		s.url = srv.URL
		t.Cleanup(func() {
			srv.Close()
			s.mu.Lock()
			s.url = ""
			s.mu.Unlock()
		})
	}
	return s.url
}

// Serve runs req through the handler.
func (s *Server) Serve(req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	s.Handler.ServeHTTP(rec, req)
	return rec
}

// Do runs req through the handler and decodes a JSON answer into v (when v
// is not nil), failing the test unless the status is want.
func (s *Server) Do(t testing.TB, req *http.Request, want int, v any) *httptest.ResponseRecorder {
	t.Helper()
	rec := s.Serve(req)
	if rec.Code != want {
		t.Fatalf("%s %s: status %d, want %d; body %s", req.Method, req.URL, rec.Code, want, Truncate(rec.Body.String()))
	}
	if v != nil {
		if err := json.Unmarshal(rec.Body.Bytes(), v); err != nil {
			t.Fatalf("%s %s: decode %T: %v", req.Method, req.URL, v, err)
		}
	}
	return rec
}

// Get runs a GET with token and decodes a JSON answer into v (when v is
// not nil), failing the test unless the status is want.
func (s *Server) Get(t testing.TB, target, token string, want int, v any) {
	t.Helper()
	s.Do(t, NewRequest(http.MethodGet, target, token, "", nil), want, v)
}

// PostJSON posts body as JSON with token and decodes the answer into v
// (when v is not nil), failing the test unless the status is want.
func (s *Server) PostJSON(t testing.TB, target, token string, body any, want int, v any) {
	t.Helper()
	s.Do(t, JSONRequest(t, http.MethodPost, target, token, body), want, v)
}

// NewRequest builds an API request with an optional bearer token and body.
func NewRequest(method, target, token, contentType string, body []byte) *http.Request {
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

// JSONRequest builds a request whose body is v as JSON.
func JSONRequest(t testing.TB, method, target, token string, v any) *http.Request {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return NewRequest(method, target, token, "application/json", b)
}

// File is one file of a multipart body.
type File struct {
	Field   string // the form field, e.g. "file"
	Name    string // the file name sent
	Content []byte
}

// Multipart encodes form fields (in name order) and files as a
// multipart/form-data body and returns its content type and bytes.
func Multipart(fields map[string]string, files ...File) (contentType string, body []byte) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		mw.WriteField(k, fields[k])
	}
	for _, f := range files {
		w, _ := mw.CreateFormFile(f.Field, f.Name)
		w.Write(f.Content)
	}
	mw.Close()
	return mw.FormDataContentType(), buf.Bytes()
}

// MultipartRequest builds an API request with a multipart body.
func MultipartRequest(method, target, token string, fields map[string]string, files ...File) *http.Request {
	ctype, body := Multipart(fields, files...)
	return NewRequest(method, target, token, ctype, body)
}

// APIError is the JSON error shape of the API.
type APIError struct {
	Error *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Fields  []struct {
			Field   string `json:"field"`
			Message string `json:"message"`
		} `json:"fields"`
	} `json:"error"`
}

// FieldNames returns the fields an error names.
func (e APIError) FieldNames() []string {
	var out []string
	if e.Error != nil {
		for _, f := range e.Error.Fields {
			out = append(out, f.Field)
		}
	}
	return out
}

// Truncate shortens a body for a failure message.
func Truncate(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}

// FirstCommittee returns the first residents' committee of a district.
func FirstCommittee(t testing.TB, tree *division.Tree, district string) string {
	t.Helper()
	for _, street := range tree.Children(district) {
		for _, c := range tree.Children(street) {
			if d, _ := tree.Get(c); d.Level == division.Committee {
				return c
			}
		}
	}
	t.Fatalf("no committee in %s", district)
	return ""
}

// CLI runs the minzheng command in this process with args and the common
// flags of cfg.
func CLI(t testing.TB, cfg app.Config, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = app.Run(withFlags(cfg, args), &out, &errb)
	return out.String(), errb.String(), code
}

func withFlags(cfg app.Config, args []string) []string {
	args = append(slices.Clone(args), "--data", cfg.DataDir)
	if cfg.DB != "" {
		args = append(args, "--db", cfg.DB)
	}
	return args
}

// envCLI makes the test binary run as the minzheng command (see Main).
const envCLI = "MINZHENG_AS_CLI"

// Main is a TestMain that lets a test start the test binary as the
// minzheng command in a child process it can kill (Child): with
// MINZHENG_AS_CLI=1 it runs app.Run on the arguments instead of the tests.
//
//	func TestMain(m *testing.M) { apptest.Main(m) }
func Main(m *testing.M) {
	if os.Getenv(envCLI) == "1" {
		os.Exit(app.Run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// Child returns the minzheng command on cfg as a child process: the test
// binary, whose TestMain must be Main.
func Child(cfg app.Config, args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], withFlags(cfg, args)...)
	cmd.Env = append(os.Environ(), envCLI+"=1")
	return cmd
}
