package app_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"

	"minzheng/internal/app"
	"minzheng/internal/app/apptest"
	"minzheng/internal/auth"
	"minzheng/internal/idcard"
	"minzheng/internal/registry"
)

// TestCLIImportFeed imports a death feed with `minzheng import feed`: the
// last line is the JSON summary; the same file again changes nothing; a
// malformed file changes nothing and says which row is wrong.
func TestCLIImportFeed(t *testing.T) {
	eachDB(t, func(t *testing.T, cfg app.Config) {
		ctx := context.Background()
		a, err := app.Open(ctx, cfg, testLogger(t))
		if err != nil {
			t.Fatal(err)
		}
		committee := firstCommittee(t, a.Divisions.Tree, xuhui)
		number := idcard.Build(xuhui, time.Date(1938, 2, 3, 0, 0, 0, 0, time.UTC), 7)
		p, err := a.Registry.Create(ctx, auth.System(), registry.NewPerson{Name: "死亡测试", IDNumber: number, HukouDivision: committee, ResidenceDivision: committee})
		if err != nil {
			t.Fatal(err)
		}
		a.Close()
		dir := t.TempDir()
		write := func(name string, b []byte) string {
			path := filepath.Join(dir, name)
			if err := os.WriteFile(path, b, 0o600); err != nil {
				t.Fatal(err)
			}
			return path
		}
		death := time.Now().AddDate(0, 0, -2).Format(time.DateOnly)
		gbk, _ := simplifiedchinese.GBK.NewEncoder().Bytes([]byte("身份证号,死亡日期\r\n" + number + "," + death + "\r\n" + idcard.Build(xuhui, time.Date(1930, 1, 1, 0, 0, 0, 0, time.UTC), 9) + "," + death + "\r\n"))
		file := write("deaths.csv", gbk)
		lastLine := func(s string) string {
			lines := strings.Split(strings.TrimSpace(s), "\n")
			return lines[len(lines)-1]
		}
		out, errOut, code := run(t, cfg, "import", "feed", "--type", "death", "--batch", "gaj-20250801", file)
		if code != 0 || lastLine(out) != `{"batch":"gaj-20250801", "accepted":1, "rejected":0, "unmatched":1, "duplicates":0}` {
			t.Fatalf("import: %d %q %s", code, out, errOut)
		}
		if !strings.Contains(errOut, "第 3 行 未匹配") {
			t.Errorf("stderr %s", errOut)
		}
		out, errOut, code = run(t, cfg, "import", "feed", "--type", "death", "--batch", "gaj-20250801", file)
		if code != 0 || lastLine(out) != `{"batch":"gaj-20250801", "accepted":1, "rejected":0, "unmatched":1, "duplicates":0}` || !strings.Contains(errOut, "此前已导入") {
			t.Errorf("again: %d %q %s", code, out, errOut)
		}
		bad := write("bad.csv", []byte("id_number,death_date\n"+number+",2025-02-30\n"))
		out, errOut, code = run(t, cfg, "import", "feed", "--type", "death", bad)
		if code != 1 || !strings.Contains(lastLine(out), `"accepted":0, "rejected":1`) || !strings.Contains(errOut, "第 2 行（死亡日期）拒收") {
			t.Errorf("bad file: %d %q %s", code, out, errOut)
		}
		a, err = app.Open(ctx, cfg, testLogger(t))
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		pr, err := a.Registry.Get(ctx, auth.System(), p.ID)
		if err != nil || pr.DeathDate != death {
			t.Errorf("death date %q, %v", pr.DeathDate, err)
		}
		if _, _, code := run(t, cfg, "import", "feed", "--type", "nope", file); code != 1 {
			t.Errorf("unknown type: exit %d", code)
		}
		devices := write("devices.csv", []byte("设备编号,设备类型,身份证号\nWM-77,水表,"+number+"\nYJT-77,call_button,"+number+"\n"))
		if out, errOut, code := run(t, cfg, "import", "devices", devices); code != 0 || strings.TrimSpace(out) != `{"bound":2}` {
			t.Errorf("import devices: %d %s %s", code, out, errOut)
		}
		unknown := write("unknown.csv", []byte("设备编号,设备类型,身份证号\nWM-78,水表,"+idcard.Build(xuhui, time.Date(1931, 1, 1, 0, 0, 0, 0, time.UTC), 8)+"\n"))
		if _, errOut, code := run(t, cfg, "import", "devices", unknown); code != 1 || !strings.Contains(errOut, "第 2 行") {
			t.Errorf("import devices, unknown person: %d %s", code, errOut)
		}
		if out, errOut, code := run(t, cfg, "run", "monitor"); code != 0 || !strings.Contains(out, `"warnings"`) {
			t.Errorf("run monitor: %d %s %s", code, out, errOut)
		}
		if out, errOut, code := run(t, cfg, "run", "weather", "--kind", "cold", "--districts", xuhui); code != 0 || !strings.Contains(out, `"tasks"`) {
			t.Errorf("run weather: %d %s %s", code, out, errOut)
		}
		if _, errOut, code := run(t, cfg, "run", "weather", "--kind", "fog", "--districts", xuhui); code != 1 || !strings.Contains(errOut, "寒潮") {
			t.Errorf("run weather, bad kind: %d %s", code, errOut)
		}
	})
}

func testLogger(t *testing.T) *slog.Logger {
	return apptest.Logger(t)
}

func encodeGBK(t *testing.T, s string) []byte {
	b, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
