package apptest

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"minzheng/internal/auth"
)

// Browser is a web client of a Server as a browser would be: it keeps the
// session cookie, does not follow redirects (tests check them), and sends
// the session's CSRF token with the forms it posts.
type Browser struct {
	Base   string       // the server's base URL
	Client *http.Client // with the cookie jar
	CSRF   string       // the session's CSRF token, once logged in
}

// Page is an answer read in full.
type Page struct {
	Code   int
	Body   string
	Header http.Header
}

// Location is the page's Location header (where a redirect points).
func (p Page) Location() string { return p.Header.Get("Location") }

// Browser returns a browser without a session on the server (started on
// first use, see URL).
func (s *Server) Browser(t testing.TB) *Browser {
	jar, _ := cookiejar.New(nil)
	return &Browser{Base: s.URL(t), Client: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// Login creates an account with the role and jurisdiction and returns a
// browser logged in as it through the login form.
func (s *Server) Login(t testing.TB, name string, role auth.Role, division string) *Browser {
	t.Helper()
	_, pw, err := s.App.Auth.CreateUser(context.Background(), auth.System(), auth.NewUser{Name: name, Role: role, Division: division})
	if err != nil {
		t.Fatalf("add user %s: %v", name, err)
	}
	b := s.Browser(t)
	b.LogIn(t, name, pw)
	return b
}

// LogIn posts the login form (the answer must redirect) and reads the
// session's CSRF token from the home page.
func (b *Browser) LogIn(t testing.TB, name, password string) {
	t.Helper()
	r, err := b.Client.PostForm(b.Base+"/login", url.Values{"name": {name}, "password": {password}})
	if err != nil {
		t.Fatalf("login %s: %v", name, err)
	}
	read(r)
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("login %s: status %d, want 303", name, r.StatusCode)
	}
	home := b.Get(t, "/")
	if home.Code != 200 {
		t.Fatalf("%s: home page %d", name, home.Code)
	}
	b.CSRF = CSRFOf(t, home.Body)
}

// Get requests a page (path starts with /).
func (b *Browser) Get(t testing.TB, path string) Page {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.Base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return b.Do(t, req)
}

// Post posts a form with the session's CSRF token (unless form has one).
func (b *Browser) Post(t testing.TB, path string, form url.Values) Page {
	t.Helper()
	f := url.Values{}
	for k, v := range form {
		f[k] = v
	}
	if _, ok := f["csrf"]; !ok {
		f.Set("csrf", b.CSRF)
	}
	return b.PostForm(t, path, f)
}

// PostForm posts exactly form, without adding the CSRF token.
func (b *Browser) PostForm(t testing.TB, path string, form url.Values) Page {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.Base+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.Do(t, req)
}

// Upload posts a multipart form of fields and files with the session's
// CSRF token (unless fields has one).
func (b *Browser) Upload(t testing.TB, path string, fields map[string]string, files ...File) Page {
	t.Helper()
	f := map[string]string{}
	for k, v := range fields {
		f[k] = v
	}
	if _, ok := f["csrf"]; !ok {
		f["csrf"] = b.CSRF
	}
	ctype, body := Multipart(f, files...)
	req, err := http.NewRequest(http.MethodPost, b.Base+path, strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", ctype)
	return b.Do(t, req)
}

// Do sends req with the session and reads the answer.
func (b *Browser) Do(t testing.TB, req *http.Request) Page {
	t.Helper()
	r, err := b.Client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	return Page{Code: r.StatusCode, Body: read(r), Header: r.Header}
}

func read(r *http.Response) string {
	b, _ := io.ReadAll(r.Body)
	r.Body.Close()
	return string(b)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// CSRFOf returns the CSRF token of a page's forms, failing the test if it
// has none.
func CSRFOf(t testing.TB, page string) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no CSRF token on the page")
	}
	return m[1]
}
