package app

import (
	"crypto/subtle"
	"net/http"
	"os"
	"strings"

	"minzheng/internal/auth"
)

// EnvMetricsToken names the environment variable holding the bearer token
// that Prometheus sends to scrape /metrics (bearer_token_file in its
// scrape config). It is read when the handler is built; an environment
// variable rather than a serve flag, because a flag's value shows in the
// process list.
const EnvMetricsToken = "MINZHENG_METRICS_TOKEN"

// minMetricsToken is the shortest metrics token accepted.
const minMetricsToken = 16

// guardMetrics lets through to h only a request that carries, as a bearer
// token, the metrics token or the API token of a staff account holding
// system.operate. Without a token it answers 401, with a staff token
// lacking the permission 403; the metrics themselves (routes, counts, the
// process) are not for everyone who can reach the port.
func (a *App) guardMetrics(h http.Handler) http.Handler {
	want := strings.TrimSpace(os.Getenv(EnvMetricsToken))
	if want != "" && len(want) < minMetricsToken {
		a.Log.Error("metrics token ignored: shorter than 16 characters", "env", EnvMetricsToken)
		want = ""
	}
	deny := func(w http.ResponseWriter, status int) {
		if status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
		}
		http.Error(w, http.StatusText(status), status)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		token = strings.TrimSpace(token)
		if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
			deny(w, http.StatusUnauthorized)
			return
		}
		if want != "" && subtle.ConstantTimeCompare([]byte(token), []byte(want)) == 1 {
			h.ServeHTTP(w, r)
			return
		}
		if !strings.HasPrefix(token, auth.TokenPrefix) {
			deny(w, http.StatusUnauthorized)
			return
		}
		u, err := a.Auth.UserByToken(r.Context(), token)
		if err != nil {
			deny(w, http.StatusUnauthorized)
			return
		}
		if !u.Principal("").Can(auth.SystemOperate) {
			deny(w, http.StatusForbidden)
			return
		}
		h.ServeHTTP(w, r)
	})
}
