package httpx

import (
	"net/http"
	"sort"
	"strings"
)

// Router is an http.ServeMux that remembers its patterns, so tests can walk
// every route (and fail when a new one has no access-control entry).
type Router struct {
	*http.ServeMux
	Errors   Errors
	patterns []string
}

// NewRouter returns an empty router mapping errors through x.
func NewRouter(x Errors) *Router { return &Router{ServeMux: http.NewServeMux(), Errors: x} }

// Handle registers h for pattern ("METHOD /path/{var}"). The matched
// pattern is reported to Observe (for metrics and logs), which sits outside
// middleware that copies the request.
func (r *Router) Handle(pattern string, h http.Handler) {
	r.patterns = append(r.patterns, pattern)
	r.ServeMux.Handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if p, ok := req.Context().Value(routeKey{}).(*string); ok {
			*p = pattern
		}
		h.ServeHTTP(w, req)
	}))
}

type routeKey struct{}

// H registers a HandlerFunc for pattern.
func (r *Router) H(pattern string, fn HandlerFunc) { r.Handle(pattern, r.Errors.H(fn)) }

// Patterns returns the registered patterns that start with prefix (after
// the method), sorted.
func (r *Router) Patterns(prefix string) []string {
	var out []string
	for _, p := range r.patterns {
		m, path, ok := strings.Cut(p, " ")
		if !ok {
			path = m
		}
		if strings.HasPrefix(path, prefix) {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}
