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
	owners   map[string]string // pattern → the module that registered it
	owner    string
}

// NewRouter returns an empty router mapping errors through x.
func NewRouter(x Errors) *Router {
	return &Router{ServeMux: http.NewServeMux(), Errors: x, owners: map[string]string{}}
}

// Owner names the module whose routes are registered next, until the next
// call ("" for the application's own routes). The access tests use it to
// find the routes each module must cover.
func (r *Router) Owner(name string) { r.owner = name }

// OwnerOf returns the module that registered pattern ("" for the
// application's own routes).
func (r *Router) OwnerOf(pattern string) string { return r.owners[pattern] }

// PatternsOf returns the patterns registered by the module, sorted.
func (r *Router) PatternsOf(owner string) []string {
	var out []string
	for _, p := range r.patterns {
		if r.owners[p] == owner {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// Handle registers h for pattern ("METHOD /path/{var}"). The matched
// pattern is reported to Observe (for metrics and logs), which sits outside
// middleware that copies the request.
func (r *Router) Handle(pattern string, h http.Handler) {
	r.patterns = append(r.patterns, pattern)
	r.owners[pattern] = r.owner
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
