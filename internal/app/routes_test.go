package app_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"minzheng/internal/app"
	"minzheng/internal/app/apptest"
)

// appAccess is the access table of the application's own /api/v1 routes.
// Each business line walks its own routes in its package
// (internal/<line>/access_test.go); TestEveryRouteHasAnOwner and
// TestEveryLineWalksItsRoutes check that together the walks cover every
// route.
var appAccess = map[string]apptest.RouteCase{
	"GET /api/v1/openapi.json": {
		Request: apptest.GetPath("/api/v1/openapi.json"),
		Want:    apptest.Every(200, 200),
		Public:  true,
	},
}

// TestAccess walks the application's own /api/v1 routes with every role
// from two districts.
func TestAccess(t *testing.T) {
	apptest.Walk(t, "", appAccess)
}

// TestEveryLineWalksItsRoutes fails on a module with /api/v1 routes whose
// package has no access walk of them: each walk fails on a route of its
// module without an entry, and TestEveryRouteHasAnOwner on a route of no
// module beyond the app's own, so together they cover every route.
func TestEveryLineWalksItsRoutes(t *testing.T) {
	s := apptest.Open(t, app.Config{DataDir: t.TempDir()})
	for _, m := range s.App.Modules {
		routes := apptest.ModuleRoutes(s.Router, m.Name)
		if len(routes) == 0 {
			continue
		}
		if !hasWalk(t, m.Name) {
			t.Errorf("module %s registers %v, but no test of internal/%s walks them: add internal/%s/access_test.go calling apptest.Walk(t, %q, …)",
				m.Name, routes, m.Name, m.Name, m.Name)
		}
	}
}

// hasWalk reports whether a line's test files call apptest.Walk with its
// name.
func hasWalk(t *testing.T, line string) bool {
	files, err := filepath.Glob(filepath.Join("..", line, "*_test.go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), `apptest.Walk(t, "`+line+`"`) {
			return true
		}
	}
	return false
}
