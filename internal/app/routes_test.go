package app_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"minzheng/internal/app"
	"minzheng/internal/app/apptest"
)

// appRoutes are the routes the application registers itself (owner ""),
// not a business line.
var appRoutes = []string{"GET /api/v1/openapi.json", "GET /healthz", "GET /metrics", "GET /static/", "/api/"}

// appAccess is the access table of the application's own /api/v1 routes.
// Each business line walks its own routes in its package
// (internal/<line>/access_test.go); TestRoutesHaveOwners checks that
// together the walks cover every route.
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

// TestRoutesHaveOwners fails on a route that no business line registered
// and that is not one of the application's own (appRoutes), and on a line
// with /api/v1 routes whose package has no access walk: each line's walk
// fails on its own routes without an entry, so together they cover every
// route. Until app.Handler names the owners (apptest.Wired), only the
// /api/v1 routes are checked, against apptest's stand-in list.
func TestRoutesHaveOwners(t *testing.T) {
	s := apptest.Open(t, app.Config{DataDir: t.TempDir()})
	wired := apptest.Wired(s.Router)
	if !wired {
		t.Log("app.Handler names no route owners yet: checking the /api/v1 routes against apptest's stand-in owners")
	}
	routes := s.Router.Patterns("")
	walked := map[string]bool{}
	for _, p := range routes {
		_, path, ok := strings.Cut(p, " ")
		if !ok {
			path = p
		}
		api := strings.HasPrefix(path, "/api/v1/")
		if !wired && !api {
			continue
		}
		owner := apptest.OwnerOf(s.Router, p)
		switch {
		case owner == "":
			switch {
			case slices.Contains(appRoutes, p):
			case !wired:
				t.Errorf("route %s has no owner: add it to apptest's bridgeOwners (until app.Handler calls Router.Owner), or list it in appRoutes and appAccess", p)
			default:
				t.Errorf("route %s has no owner: register it after its line's Router.Owner, or list it in appRoutes (and appAccess if under /api/v1/)", p)
			}
		case !slices.Contains(apptest.Lines, owner):
			t.Errorf("route %s is owned by %q, which is not in apptest.Lines", p, owner)
		case api:
			if _, seen := walked[owner]; !seen {
				walked[owner] = hasWalk(t, owner)
			}
			if !walked[owner] {
				t.Errorf("route %s belongs to %s, whose tests have no access walk: add internal/%s/access_test.go calling apptest.Walk(t, %q, …)", p, owner, owner, owner)
			}
		}
	}
	for _, p := range appRoutes {
		if !slices.Contains(routes, p) {
			t.Errorf("appRoutes lists %s, which is not registered", p)
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
