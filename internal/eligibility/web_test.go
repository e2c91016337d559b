package eligibility_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"minzheng/internal/app"
	"minzheng/internal/app/apptest"
	"minzheng/internal/auth"
	"minzheng/internal/tabular"
)

// TestSimulatePage runs a what-if through the page and its Excel export as
// the city administrator; a district administrator is refused.
func TestSimulatePage(t *testing.T) {
	s := apptest.Open(t, app.Config{DataDir: t.TempDir()})
	ctx := context.Background()
	if _, err := s.App.Generate(ctx, 2000, 3, io.Discard); err != nil {
		t.Fatal(err)
	}
	admin := s.Login(t, "city1", auth.CityAdmin, "310000")
	r := admin.Get(t, "/simulate?set="+url.QueryEscape("dibao.standard=3000")+"&from=2025-08-01")
	if r.Code != 200 || !strings.Contains(r.Body, `id="sim-total"`) || !strings.Contains(r.Body, "data-chart") || !strings.Contains(r.Body, "最低生活保障") {
		t.Fatalf("simulate page %d:\n%.2000s", r.Code, r.Body)
	}
	r = admin.Get(t, "/simulate/export.xlsx?set="+url.QueryEscape("dibao.standard=3000")+"&from=2025-08-01")
	if r.Code != 200 {
		t.Fatalf("export: %d", r.Code)
	}
	tb, err := tabular.Read(strings.NewReader(r.Body), "sim.xlsx", 10<<20)
	if err != nil || len(tb.Rows) == 0 || tb.Header[0] != "项目" {
		t.Fatalf("export table: %v %+v", err, tb)
	}
	if r = admin.Get(t, "/simulate?set="+url.QueryEscape("dibao.nope=1")+"&from=2025-08-01"); r.Code != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "未知参数") {
		t.Errorf("bad parameter: %d", r.Code)
	}
	district := s.Login(t, "xh_admin2", auth.DistrictAdmin, "310104")
	if r := district.Get(t, "/simulate"); r.Code != http.StatusForbidden {
		t.Errorf("district admin: %d, want 403", r.Code)
	}
}

// TestProactiveConsole runs the proactive grant from the console's button
// and reads the policy catalogue.
func TestProactiveConsole(t *testing.T) {
	s := apptest.Open(t, app.Config{DataDir: t.TempDir()})
	ctx := context.Background()
	if _, err := s.App.Generate(ctx, 1500, 5, io.Discard); err != nil {
		t.Fatal(err)
	}
	c := s.Login(t, "ops", auth.CityAdmin, "310000")
	r := c.Get(t, "/proactive")
	if r.Code != 200 || !strings.Contains(r.Body, `name="csrf"`) {
		t.Fatalf("console %d", r.Code)
	}
	r = c.Post(t, "/proactive", url.Values{"csrf": {apptest.CSRFOf(t, r.Body)}, "as_of": {"2025-08-01"}})
	if r.Code != 200 || !strings.Contains(r.Body, `id="last-run"`) {
		t.Fatalf("run: %d", r.Code)
	}
	var grants int
	s.App.DB.QueryRow(`SELECT grants FROM proactive_runs ORDER BY id DESC LIMIT 1`).Scan(&grants)
	var active int
	s.App.DB.QueryRow(`SELECT COUNT(*) FROM entitlements WHERE status = 'active'`).Scan(&active)
	if grants == 0 || grants != active {
		t.Fatalf("run granted %d, %d active entitlements", grants, active)
	}
	r = c.Get(t, "/policies")
	if r.Code != 200 || !strings.Contains(r.Body, "dibao.standard") || !strings.Contains(r.Body, "1650") {
		t.Fatalf("policies page %d", r.Code)
	}
}
