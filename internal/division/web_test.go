package division_test

import (
	"strings"
	"testing"

	"minzheng/internal/app"
	"minzheng/internal/app/apptest"
	"minzheng/internal/auth"
	"minzheng/internal/tabular"
)

// TestDivisionExportPage downloads the city's districts as a logged-in
// district administrator and reads them back.
func TestDivisionExportPage(t *testing.T) {
	s := apptest.Open(t, app.Config{DataDir: t.TempDir()})
	b := s.Login(t, "xh_admin", auth.DistrictAdmin, "310104")
	r := b.Get(t, "/divisions/310000/export.xlsx")
	if r.Code != 200 {
		t.Fatalf("GET /divisions/310000/export.xlsx: %d", r.Code)
	}
	tb, err := tabular.Read(strings.NewReader(r.Body), "x.xlsx", 10<<20)
	if err != nil {
		t.Fatalf("read /divisions/310000/export.xlsx: %v", err)
	}
	if len(tb.Rows) != 16 || tb.Rows[0].Get(1) != "黄浦区" {
		t.Errorf("division export: %d rows, first %v", len(tb.Rows), tb.Rows[0].Cells)
	}
}
