package apptest

import (
	"strings"

	"minzheng/internal/httpx"
)

// Lines are the modules that register routes, by the name the app gives
// each before its routes (Router.Owner): the business lines' package names.
var Lines = []string{"admin", "division", "registry", "monitor", "assistance", "payroll", "eligibility"}

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
// ("" for the application's own), sorted.
func ModuleRoutes(r *httpx.Router, module string) []string {
	var out []string
	for _, p := range APIPatterns(r) {
		if OwnerOf(r, p) == module {
			out = append(out, p)
		}
	}
	return out
}

// Wired reports whether the app names the module of each line's routes
// (Router.Owner): some pattern has an owner.
func Wired(r *httpx.Router) bool { return len(r.PatternsOf("")) < len(r.Patterns("")) }

// OwnerOf returns the module that registered pattern ("" for the
// application's own routes). Until app.Handler calls Router.Owner before
// each line's routes, the router reports every route under "", and the
// owners of the /api/v1 routes come from bridgeOwners instead.
func OwnerOf(r *httpx.Router, pattern string) string {
	if Wired(r) {
		return r.OwnerOf(pattern)
	}
	return bridgeOwners[pattern]
}

// bridgeOwners is who registers each /api/v1 route, copied from the lines'
// Routes methods, for as long as app.Handler does not name the owners
// (Wired is false). Delete it once it does. A route missing here has owner
// "" and fails the app's route test, as an unlisted route should.
var bridgeOwners = map[string]string{
	"GET /api/v1/audit":                           "admin",
	"GET /api/v1/audit/verify":                    "admin",
	"GET /api/v1/me":                              "admin",
	"GET /api/v1/users":                           "admin",
	"POST /api/v1/users":                          "admin",
	"GET /api/v1/divisions/{code}":                "division",
	"GET /api/v1/persons":                         "registry",
	"GET /api/v1/persons/export.xlsx":             "registry",
	"GET /api/v1/persons/{id}":                    "registry",
	"GET /api/v1/persons/{id}/id-number":          "registry",
	"PATCH /api/v1/persons/{id}":                  "registry",
	"POST /api/v1/persons":                        "registry",
	"POST /api/v1/persons/import":                 "registry",
	"GET /api/v1/monitor/calls/stats":             "monitor",
	"GET /api/v1/monitor/dashboard":               "monitor",
	"GET /api/v1/monitor/tasks":                   "monitor",
	"GET /api/v1/monitor/tasks/{id}":              "monitor",
	"POST /api/v1/feeds/{type}":                   "monitor",
	"POST /api/v1/monitor/tasks/{id}/visits":      "monitor",
	"POST /api/v1/monitor/weather":                "monitor",
	"GET /api/v1/applications":                    "assistance",
	"GET /api/v1/applications/overdue":            "assistance",
	"GET /api/v1/applications/{id}":               "assistance",
	"POST /api/v1/applications":                   "assistance",
	"POST /api/v1/applications/{id}/materials":    "assistance",
	"POST /api/v1/applications/{id}/members":      "assistance",
	"POST /api/v1/applications/{id}/transitions":  "assistance",
	"POST /api/v1/applications/{id}/verification": "assistance",
	"POST /api/v1/relatives":                      "assistance",
	"GET /api/v1/payroll/periods":                 "payroll",
	"GET /api/v1/payroll/{period}/figures":        "payroll",
	"GET /api/v1/persons/{id}/payee-account":      "payroll",
	"POST /api/v1/payroll/returns":                "payroll",
	"POST /api/v1/payroll/runs":                   "payroll",
	"POST /api/v1/payroll/{period}/signoff":       "payroll",
	"PUT /api/v1/persons/{id}/payee-account":      "payroll",
	"GET /api/v1/persons/{id}/eligibility":        "eligibility",
	"POST /api/v1/eligibility/evaluate":           "eligibility",
}
