package admin_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"minzheng/internal/app"
	"minzheng/internal/app/apptest"
	"minzheng/internal/auth"
)

// TestLoginNextStaysOnSite posts the login form with hostile next= values
// (issue 11, finding 7): the redirect after a good login goes to the path
// asked for only when it is a path on this site, else to the home page.
func TestLoginNextStaysOnSite(t *testing.T) {
	apptest.EachDB(t, func(t *testing.T, cfg app.Config) {
		s := apptest.Open(t, cfg)
		_, pw, err := s.App.Auth.CreateUser(context.Background(), auth.System(), auth.NewUser{Name: "clerk1", Role: auth.Clerk, Division: "310104"})
		if err != nil {
			t.Fatal(err)
		}
		tests := []struct{ next, want string }{
			{"/persons", "/persons"},
			{"/persons?q=%E5%BC%A0&page=2", "/persons?q=%E5%BC%A0&page=2"},
			{"/payroll/2025-08", "/payroll/2025-08"},
			{"", "/"},
			{"persons", "/"},
			{"//evil.example", "/"},
			{"///evil.example", "/"},
			{"/\\evil.example", "/"},
			{"\\\\evil.example", "/"},
			{"https://evil.example/", "/"},
			{"HTTPS://evil.example/", "/"},
			{"javascript:alert(1)", "/"},
			{" //evil.example", "/"},
			{"/\t/evil.example", "/"},
			{"/\n/evil.example", "/"},
			{"/\r\n/evil.example", "/"},
			{"/\x00/evil.example", "/"},
			{"/\x7f/evil.example", "/"},
			{"/%09/evil.example", "/"},
			{"/%0d%0a/evil.example", "/"},
			{"/%0D%0ASet-Cookie:%20x=1", "/"},
			{"/%00", "/"},
			{"/%C2%85/evil.example", "/"}, // U+0085, a C1 control
			{"/%2F/evil.example", "/"},
			{"/%2f%2fevil.example", "/"},
			{"/%5Cevil.example", "/"},
			{"/%252F%252Fevil.example", "/"}, // encoded twice
			{"/%2509/evil.example", "/"},
			{"/%zz", "/"}, // not decodable
		}
		for _, tt := range tests {
			// No session yet, so the login form needs no CSRF token; the
			// transport, not a client, so that a bad Location is seen as is.
			form := url.Values{"name": {"clerk1"}, "password": {pw}, "next": {tt.next}}
			req, err := http.NewRequest(http.MethodPost, s.URL(t)+"/login", strings.NewReader(form.Encode()))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := http.DefaultTransport.RoundTrip(req)
			if err != nil {
				t.Errorf("next=%q: %v", tt.next, err)
				continue
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != tt.want {
				t.Errorf("next=%q: %d Location %q, want 303 to %q", tt.next, resp.StatusCode, resp.Header.Get("Location"), tt.want)
			}
		}
	})
}
