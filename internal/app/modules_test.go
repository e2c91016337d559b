package app

import (
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"minzheng/internal/auth"
	"minzheng/internal/module"
)

// TestModulesDeclareEveryMigrationsFolder: a line's migrations reach a
// database only through its module (dbtest reads the folders from the source
// tree), so every internal/<line>/migrations folder must be some module's,
// and the two sources must hold the same files.
func TestModulesDeclareEveryMigrationsFolder(t *testing.T) {
	var declared []string
	for _, m := range Declared() {
		if m.Migrations == nil {
			continue
		}
		files, err := fs.Glob(m.Migrations, "*/*.sql")
		if err != nil || len(files) == 0 {
			t.Errorf("module %s declares migrations without files (%v)", m.Name, err)
		}
		for _, f := range files {
			declared = append(declared, m.Name+"/"+f)
		}
	}
	var tree []string
	folders, _ := filepath.Glob("../*/migrations/*/*.sql")
	for _, f := range folders {
		parts := strings.Split(filepath.ToSlash(f), "/")
		if parts[1] == "db" {
			continue // the platform's own, embedded in db
		}
		tree = append(tree, parts[1]+"/"+parts[3]+"/"+parts[4])
	}
	slices.Sort(declared)
	slices.Sort(tree)
	if !slices.Equal(declared, tree) {
		t.Errorf("migrations declared by modules:\n%v\nin the source tree:\n%v", declared, tree)
	}
}

// TestModuleNamesAndJobs: names are unique (they own routes and job
// leases), and every job has a flag, a usage and a valid default.
func TestModuleNamesAndJobs(t *testing.T) {
	names := map[string]bool{}
	flags := map[string]bool{}
	for _, m := range Declared() {
		if m.Name == "" || names[m.Name] {
			t.Errorf("module name %q empty or used twice", m.Name)
		}
		names[m.Name] = true
		for _, j := range m.Jobs {
			if j.Name == "" || j.Flag == "" || j.Usage == "" || j.Run == nil || j.TTL <= 0 || flags[j.Flag] {
				t.Errorf("module %s: job %+v incomplete or flag used twice", m.Name, j)
			}
			flags[j.Flag] = true
			if _, _, _, off, err := j.Schedule(j.Default); err != nil || off {
				t.Errorf("module %s: job %s default %q: off=%v %v", m.Name, j.Name, j.Default, off, err)
			}
		}
	}
	for _, f := range []string{"proactive-at", "monitor-at", "recheck-at", "payroll-day"} {
		if !flags[f] {
			t.Errorf("serve's flag --%s is declared by no module", f)
		}
	}
}

// TestNavigation: the lines' entries make the navigation each role had when
// it was one hand-written list, in the same order.
func TestNavigation(t *testing.T) {
	labels := func(p auth.Principal) []string {
		var out []string
		for _, n := range module.Nav(Declared(), p) {
			out = append(out, n.Label+" "+n.Href)
		}
		return out
	}
	city := labels(auth.Principal{Role: auth.CityAdmin, Division: "310000"})
	want := []string{"首页 /", "行政区划 /divisions/310000", "人员查询 /persons", "批量导入 /import", "动态监测 /monitor",
		"走访任务 /monitor/tasks", "社会救助 /applications", "账号管理 /users", "审计日志 /audit", "政策参数 /policies",
		"待遇发放 /payroll", "免申即享 /proactive", "政策模拟 /simulate"}
	if !slices.Equal(city, want) {
		t.Errorf("city administrator's navigation:\n%v\nwant\n%v", city, want)
	}
	adviser := labels(auth.Principal{Role: auth.Adviser, Division: "310104003"})
	want = []string{"首页 /", "行政区划 /divisions/310104003", "人员查询 /persons", "动态监测 /monitor", "走访任务 /monitor/tasks",
		"社会救助 /applications", "亲属备案 /relatives", "政策参数 /policies"}
	if !slices.Equal(adviser, want) {
		t.Errorf("adviser's navigation:\n%v\nwant\n%v", adviser, want)
	}
	district := labels(auth.Principal{Role: auth.DistrictAdmin, Division: "310104"})
	if slices.Contains(district, "免申即享 /proactive") {
		t.Errorf("a district administrator sees the city's proactive console: %v", district)
	}
}

// TestEveryRouteHasAnOwner: every route is registered by a module, except
// the application's own few; a line's access test walks the routes its
// module owns (Router.PatternsOf), so together they cover every route.
func TestEveryRouteHasAnOwner(t *testing.T) {
	a, err := Open(t.Context(), Config{DataDir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	_, r, err := a.Handler()
	if err != nil {
		t.Fatal(err)
	}
	own := []string{"/api/", "GET /api/v1/openapi.json", "GET /healthz", "GET /metrics", "GET /static/"}
	if got := r.PatternsOf(""); !slices.Equal(got, own) {
		t.Errorf("routes registered by the app itself: %v, want %v (a line's routes belong in its module)", got, own)
	}
	for _, m := range a.Modules {
		if m.Routes != nil && len(r.PatternsOf(m.Name)) == 0 {
			t.Errorf("module %s registers no route", m.Name)
		}
	}
}
