package eligibility_test

import (
	"fmt"
	"net/http"
	"testing"

	"minzheng/internal/app/apptest"
	"minzheng/internal/eligibility"
)

// accessTable has one entry per /api/v1 route of entitlements. A route
// without an entry fails TestAccess: decide who may call it before
// shipping it.
var accessTable = map[string]apptest.RouteCase{
	"GET /api/v1/persons/{id}/eligibility": {
		// Every role may read people, so every role may have their
		// eligibility computed; outside the jurisdiction reads as absent.
		Request: apptest.GetFor(func(f *apptest.Fixture, d string) string {
			return fmt.Sprintf("/api/v1/persons/%d/eligibility", f.Only[d])
		}),
		Want: apptest.Every(200, 404),
	},
	"POST /api/v1/eligibility/evaluate": {
		// A person-based body: that is the branch that reads the register,
		// so it is the one that must stop at the jurisdiction (404 like
		// GET /api/v1/persons/{id}). The case-based branch reads nothing
		// and needs only a valid token, which the anonymous and bad-token
		// calls of the walk cover; TestOpenAPIResponses sends a case.
		Request: func(f *apptest.Fixture, t *testing.T, tok, d string) *http.Request {
			body := eligibility.EvaluateRequest{Program: "elderly_allowance", AsOf: "2025-07-01", PersonID: f.Only[d]}
			return apptest.JSONRequest(t, "POST", "/api/v1/eligibility/evaluate", tok, body)
		},
		Want: apptest.Every(200, 404),
	},
}

// TestAccess walks the eligibility routes with every role from two
// districts.
func TestAccess(t *testing.T) {
	apptest.Walk(t, "eligibility", accessTable)
}
