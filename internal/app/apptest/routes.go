package apptest

import (
	"strings"

	"minzheng/internal/httpx"
)

// APIPatterns returns the router's /api/v1/ patterns, including any
// registered without a method (Router.Patterns matches the prefix against
// the part after the method, so it would leave those out).
func APIPatterns(r *httpx.Router) []string {
	out := r.Patterns("/api/v1/")
	for _, p := range r.Patterns("") {
		if !strings.Contains(p, " ") && strings.HasPrefix(p, "/api/v1/") {
			out = append(out, p)
		}
	}
	return out
}

// ModuleRoutes returns the /api/v1/ patterns that module registered
// (Router.Owner; "" for the application's own), sorted.
func ModuleRoutes(r *httpx.Router, module string) []string {
	var out []string
	for _, p := range APIPatterns(r) {
		if r.OwnerOf(p) == module {
			out = append(out, p)
		}
	}
	return out
}
