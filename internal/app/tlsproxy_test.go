package app_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"minzheng/internal/app"
	"minzheng/internal/app/apptest"
	"minzheng/internal/auth"
)

// TestBehindTLSProxy checks the transport settings through the handler: by
// default (plain HTTP on localhost) cookies are not Secure and there is no
// HSTS; behind a TLS-terminating proxy the session and language cookies are
// Secure and every answer carries Strict-Transport-Security. Either way,
// every answer but /static/ and /healthz says Cache-Control: no-store.
func TestBehindTLSProxy(t *testing.T) {
	apptest.EachDB(t, func(t *testing.T, cfg app.Config) {
		s := apptest.Open(t, cfg)
		token := s.Staff(t, "api_clerk", auth.Clerk, "310104")
		_, pw, err := s.App.Auth.CreateUser(t.Context(), auth.System(), auth.NewUser{Name: "web_clerk", Role: auth.Clerk, Division: "310104"})
		if err != nil {
			t.Fatal(err)
		}
		for _, proxy := range []bool{false, true} {
			s.App.BehindTLSProxy = proxy
			h, _, err := s.App.Handler()
			if err != nil {
				t.Fatal(err)
			}
			serve := func(req *http.Request) *httptest.ResponseRecorder {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				return rec
			}
			login := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(url.Values{"name": {"web_clerk"}, "password": {pw}}.Encode()))
			login.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			rec := serve(login)
			if rec.Code != http.StatusSeeOther {
				t.Fatalf("proxy %v: login %d", proxy, rec.Code)
			}
			answers := map[string]*httptest.ResponseRecorder{"login": rec}
			answers["lang"] = serve(httptest.NewRequest(http.MethodGet, "/login?lang=en", nil))
			answers["api"] = serve(apptest.NewRequest(http.MethodGet, "/api/v1/persons", token, "", nil))
			answers["notices"] = serve(httptest.NewRequest(http.MethodGet, "/notices", nil))
			answers["static"] = serve(httptest.NewRequest(http.MethodGet, "/static/app.css", nil))
			answers["healthz"] = serve(httptest.NewRequest(http.MethodGet, "/healthz", nil))
			for name, rec := range answers {
				cc := rec.Header().Get("Cache-Control")
				cacheable := name == "static" || name == "healthz"
				if cacheable == (cc == "no-store") {
					t.Errorf("proxy %v: %s (%d) Cache-Control %q", proxy, name, rec.Code, cc)
				}
				if hsts := rec.Header().Get("Strict-Transport-Security"); (hsts == "max-age=31536000") != proxy {
					t.Errorf("proxy %v: %s Strict-Transport-Security %q", proxy, name, hsts)
				}
			}
			for name, want := range map[string]string{"login": "mz_session", "lang": "lang"} {
				cs := answers[name].Result().Cookies()
				if len(cs) == 0 {
					t.Fatalf("proxy %v: %s sets no cookie", proxy, name)
				}
				for _, c := range cs {
					if c.Secure != proxy {
						t.Errorf("proxy %v: %s cookie %s Secure %v", proxy, want, c.Name, c.Secure)
					}
				}
			}
		}
	})
}
