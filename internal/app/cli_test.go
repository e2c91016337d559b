package app_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"minzheng/internal/app"
	"minzheng/internal/app/apptest"
	"minzheng/internal/auth"
	"minzheng/internal/db"
	"minzheng/internal/idcard"
	"minzheng/internal/registry"
)

// run runs the CLI with args and the common flags of cfg.
func run(t *testing.T, cfg app.Config, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return apptest.CLI(t, cfg, args...)
}

func TestCLIUserTokenAudit(t *testing.T) {
	eachDB(t, func(t *testing.T, cfg app.Config) {
		pw, stderr, code := run(t, cfg, "user", "add", "--name", "li", "--role", "reviewer", "--division", "310104")
		if code != 0 || len(strings.TrimSpace(pw)) != 16 || !strings.Contains(stderr, "徐汇区") {
			t.Fatalf("user add: code %d out %q err %q", code, pw, stderr)
		}
		if _, stderr, code := run(t, cfg, "user", "add", "--name", "x", "--role", "boss", "--division", "310199"); code == 0 || !strings.Contains(stderr, "未知角色") || !strings.Contains(stderr, "310199") {
			t.Fatalf("bad user add: code %d err %q", code, stderr)
		}
		tok, _, code := run(t, cfg, "token", "create", "--user", "li")
		if code != 0 || !strings.HasPrefix(tok, auth.TokenPrefix) {
			t.Fatalf("token create: %d %q", code, tok)
		}
		out, _, code := run(t, cfg, "audit", "verify")
		if code != 0 || !strings.HasPrefix(out, "OK") {
			t.Fatalf("audit verify: %d %q", code, out)
		}
		// Alter the second entry directly in the database.
		d, err := db.Connect(context.Background(), cfg.DB, cfg.DataDir)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		if d.Dialect == db.SQLite {
			d.Exec(`DROP TRIGGER audit_log_no_update`)
		} else {
			d.Exec(`ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change`)
		}
		if _, err := d.Exec(`UPDATE audit_log SET actor = 'mallory' WHERE id = 2`); err != nil {
			t.Fatal(err)
		}
		out, _, code = run(t, cfg, "audit", "verify")
		if code == 0 || !strings.Contains(out, "第 2 条") {
			t.Fatalf("tampered audit verify: %d %q", code, out)
		}
	})
}

func TestBackupWhileWriting(t *testing.T) {
	cfg := app.Config{DataDir: t.TempDir()}
	s := openServer(t, cfg)
	ctx := context.Background()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			n := idcard.Build("310104", time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i/500), i%500*2+1)
			if _, err := s.App.Registry.Create(ctx, auth.System(), registry.NewPerson{Name: "备份测试", IDNumber: n, ResidenceDivision: "310104"}); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	time.Sleep(200 * time.Millisecond)
	to := filepath.Join(t.TempDir(), "backup.db")
	out, stderr, code := run(t, cfg, "backup", "--to", to)
	close(stop)
	wg.Wait()
	if code != 0 || !strings.Contains(out, "已备份") {
		t.Fatalf("backup: %d %q %q", code, out, stderr)
	}
	// The copy opens, its audit chain is whole, and every person in it has
	// the audit entry that recorded its creation (one snapshot).
	b, err := sql.Open("sqlite", to)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var persons, entries int
	b.QueryRow(`SELECT COUNT(*) FROM persons`).Scan(&persons)
	b.QueryRow(`SELECT COUNT(*) FROM audit_log WHERE action = 'person.create'`).Scan(&entries)
	if persons == 0 || persons != entries {
		t.Fatalf("backup holds %d persons and %d creation entries", persons, entries)
	}
	// Restored elsewhere with the key, the copy's chain is whole; against
	// the live folder's checkpoints it lacks the entries written since,
	// as a restored backup does.
	restored := t.TempDir()
	key, _ := os.ReadFile(filepath.Join(cfg.DataDir, "secret.key"))
	os.WriteFile(filepath.Join(restored, "secret.key"), key, 0o600)
	if out, _, code := run(t, app.Config{DataDir: restored, DB: to}, "audit", "verify"); code != 0 {
		t.Fatalf("verify backup: %q", out)
	}
	// One more entry after the backup, and a checkpoint of the live chain
	// (verify writes one), so the live checkpoints are ahead of the copy
	// whatever the timing of the writer above.
	if _, err := s.App.Registry.Create(ctx, auth.System(), registry.NewPerson{Name: "备份之后", IDNumber: idcard.Build("310104", time.Date(1959, 1, 1, 0, 0, 0, 0, time.UTC), 3), ResidenceDivision: "310104"}); err != nil {
		t.Fatal(err)
	}
	if out, _, code := run(t, cfg, "audit", "verify"); code != 0 {
		t.Fatalf("verify the live chain: %q", out)
	}
	if out, _, code := run(t, app.Config{DataDir: cfg.DataDir, DB: to}, "audit", "verify"); code != 1 || !strings.Contains(out, "最新的记录可能被删除") {
		t.Fatalf("verify backup against the live checkpoints: %d %q", code, out)
	}
	if _, stderr, code := run(t, cfg, "backup", "--to", to); code == 0 || !strings.Contains(stderr, "已存在") {
		t.Errorf("backup over an existing file: %d %q", code, stderr)
	}
	if _, stderr, code := run(t, app.Config{DataDir: cfg.DataDir, DB: "postgres://u@h/db"}, "backup", "--to", to); code == 0 || !strings.Contains(stderr, "pg_dump") {
		t.Errorf("postgres backup: %d %q", code, stderr)
	}
}

func TestGenIsDeterministicAndScoped(t *testing.T) {
	eachDB(t, func(t *testing.T, cfg app.Config) {
		out, _, code := run(t, cfg, "gen", "--persons", "3000", "--seed", "9")
		if code != 0 || !strings.Contains(out, `"persons":`) {
			t.Fatalf("gen: %d %q", code, out)
		}
		s := openServer(t, cfg)
		var n, idx, bad int
		s.App.DB.QueryRow(`SELECT COUNT(*) FROM persons`).Scan(&n)
		s.App.DB.QueryRow(`SELECT COUNT(*) FROM deferred_indexes`).Scan(&idx)
		s.App.DB.QueryRow(`SELECT COUNT(*) FROM persons WHERE residence_division NOT LIKE '31%'`).Scan(&bad)
		if n < 3000 || n > 3010 || idx != 0 || bad != 0 {
			t.Fatalf("persons %d, deferred indexes %d, residence outside Shanghai %d", n, idx, bad)
		}
		var distinct int
		s.App.DB.QueryRow(`SELECT COUNT(DISTINCT id_hash) FROM persons`).Scan(&distinct)
		if distinct != n {
			t.Fatalf("%d distinct ID numbers among %d persons", distinct, n)
		}
		res, err := s.App.Registry.Search(context.Background(), auth.Principal{Role: auth.Reviewer, Division: "310104"}, registry.Query{Limit: 200})
		if err != nil || res.Total == 0 {
			t.Fatalf("xuhui search: %+v %v", res.Total, err)
		}
		for _, p := range res.Items {
			if !strings.HasPrefix(p.HukouDivision, "310104") && !strings.HasPrefix(p.ResidenceDivision, "310104") {
				t.Fatalf("outside jurisdiction: %+v", p)
			}
		}
	})
}

func TestCLIEval(t *testing.T) {
	dir := t.TempDir()
	caseFile := filepath.Join(dir, "case.json")
	os.WriteFile(caseFile, []byte(`{"subject":"a", "members":[{"id":"a", "birth_date":"1950-05-01", "sex":"M", "hukou_division":"310104", "residence_division":"310104", "monthly_income":1000, "disability_category":"", "disability_grade":0, "alive":true, "relation":"head"}], "assets":{"deposits":0}}`), 0o600)
	cfg := app.Config{DataDir: dir}
	out, stderr, code := run(t, cfg, "eval", "--program", "dibao", "--as-of", "2024-08-01", "--case", caseFile)
	if code != 0 {
		t.Fatalf("eval: %d %s", code, stderr)
	}
	var res struct {
		Program       string  `json:"program"`
		Eligible      bool    `json:"eligible"`
		MonthlyAmount float64 `json:"monthly_amount"`
		Explanation   []struct {
			Label  string `json:"label"`
			Passed bool   `json:"passed"`
			Detail string `json:"detail"`
		} `json:"explanation"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	if res.Program != "dibao" || !res.Eligible || res.MonthlyAmount != 595 || len(res.Explanation) < 4 {
		t.Fatalf("result %+v", res)
	}
	if !strings.Contains(out, "低于 2024-07-01 起执行的低保标准 1,595 元") {
		t.Errorf("explanation lacks the sentence a resident reads:\n%s", out)
	}
	// A policy folder with a broken file is refused with the file and line.
	pdir := filepath.Join(dir, "policies")
	os.Mkdir(pdir, 0o700)
	os.WriteFile(filepath.Join(pdir, "x.yaml"), []byte("id: x\nentity: person\nnames:\n  - from: 2020-01-01\n    name: 测试\nbogus: 1\n"), 0o600)
	_, stderr, code = run(t, app.Config{DataDir: dir}, "eval", "--policy-dir", pdir, "--program", "x", "--case", caseFile)
	if code == 0 || !strings.Contains(stderr, "x.yaml:6") {
		t.Errorf("broken policy folder: %d %q", code, stderr)
	}
}
