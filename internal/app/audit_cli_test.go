package app_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"minzheng/internal/app"
	"minzheng/internal/db"
)

// lift opens the database of cfg and lifts the append-only triggers of
// audit_log, as an attacker with database access could.
func lift(t *testing.T, cfg app.Config) *db.DB {
	t.Helper()
	d, err := db.Connect(context.Background(), cfg.DB, cfg.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	stmts := []string{`DROP TRIGGER audit_log_no_update`, `DROP TRIGGER audit_log_no_delete`}
	if d.Dialect == db.Postgres {
		stmts = []string{`ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change`}
	}
	for _, s := range stmts {
		if _, err := d.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	return d
}

// rechain rewrites every entry from id on with the unkeyed SHA-256 chain,
// the best an attacker without the key can do, marking the entries as of
// that scheme where the table records one.
func rechain(t *testing.T, d *db.DB, from int64) {
	t.Helper()
	_, schemeErr := d.Exec(`SELECT scheme FROM audit_log LIMIT 1`)
	rows, err := d.Query(`SELECT id, at, actor, role, action, entity, entity_id, detail, remote, prev_hash FROM audit_log ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		id     int64
		fields []string
		prev   string
	}
	var all []row
	for rows.Next() {
		var r row
		f := make([]string, 8)
		if err := rows.Scan(&r.id, &f[0], &f[1], &f[2], &f[3], &f[4], &f[5], &f[6], &f[7], &r.prev); err != nil {
			t.Fatal(err)
		}
		r.fields = f
		all = append(all, r)
	}
	rows.Close()
	prev := ""
	for _, r := range all {
		if r.id < from {
			var h string
			d.QueryRow(`SELECT hash FROM audit_log WHERE id = $1`, r.id).Scan(&h)
			prev = h
			continue
		}
		sum := sha256.Sum256([]byte(strings.Join(append([]string{prev, strconv.FormatInt(r.id, 10)}, r.fields...), "\x1f")))
		h := hex.EncodeToString(sum[:])
		if _, err := d.Exec(`UPDATE audit_log SET prev_hash = $1, hash = $2 WHERE id = $3`, prev, h, r.id); err != nil {
			t.Fatal(err)
		}
		if schemeErr == nil {
			if _, err := d.Exec(`UPDATE audit_log SET scheme = 'sha256' WHERE id = $1`, r.id); err != nil {
				t.Fatal(err)
			}
		}
		prev = h
	}
}

// TestAuditVerifyCatchesAttacks: the attacks of issue 11's finding 2, each
// of which the unkeyed chain let through.
func TestAuditVerifyCatchesAttacks(t *testing.T) {
	attacks := []struct {
		name string
		do   func(t *testing.T, d *db.DB)
	}{
		{"rewrite and rechain", func(t *testing.T, d *db.DB) {
			if _, err := d.Exec(`UPDATE audit_log SET detail = '改过' WHERE id = 2`); err != nil {
				t.Fatal(err)
			}
			rechain(t, d, 2)
		}},
		{"rewrite all and rechain", func(t *testing.T, d *db.DB) {
			if _, err := d.Exec(`UPDATE audit_log SET actor = 'mallory' WHERE id = 1`); err != nil {
				t.Fatal(err)
			}
			rechain(t, d, 1)
		}},
		{"delete newest", func(t *testing.T, d *db.DB) {
			if _, err := d.Exec(`DELETE FROM audit_log WHERE id > 2`); err != nil {
				t.Fatal(err)
			}
		}},
		{"wipe", func(t *testing.T, d *db.DB) {
			if _, err := d.Exec(`DELETE FROM audit_log`); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, at := range attacks {
		t.Run(at.name, func(t *testing.T) {
			eachDB(t, func(t *testing.T, cfg app.Config) {
				for _, name := range []string{"li", "wang", "zhao"} {
					if _, stderr, code := run(t, cfg, "user", "add", "--name", name, "--role", "reviewer", "--division", "310104"); code != 0 {
						t.Fatalf("user add: %s", stderr)
					}
				}
				if out, _, code := run(t, cfg, "audit", "verify"); code != 0 || !strings.HasPrefix(out, "OK") {
					t.Fatalf("audit verify before: %d %q", code, out)
				}
				at.do(t, lift(t, cfg))
				out, stderr, code := run(t, cfg, "audit", "verify")
				if code != 1 || !strings.Contains(out, "审计日志") || !strings.Contains(stderr, "审计日志校验未通过") {
					t.Fatalf("audit verify after %s: code %d\nstdout %q\nstderr %q", at.name, code, out, stderr)
				}
				t.Logf("%s: %s", at.name, strings.TrimSpace(out))
			})
		})
	}
}

// TestAuditCheckpointExport: verify writes a checkpoint into the data
// folder (0600), and export copies the file out.
func TestAuditCheckpointExport(t *testing.T) {
	cfg := app.Config{DataDir: t.TempDir()}
	if _, _, code := run(t, cfg, "user", "add", "--name", "li", "--role", "reviewer", "--division", "310104"); code != 0 {
		t.Fatal("user add failed")
	}
	if out, _, code := run(t, cfg, "audit", "verify"); code != 0 || !strings.Contains(out, "已写入新的检查点") {
		t.Fatalf("audit verify: %d %q", code, out)
	}
	path := filepath.Join(cfg.DataDir, "audit-checkpoints.jsonl")
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("checkpoint file: %v, %v", fi, err)
	}
	to := filepath.Join(t.TempDir(), "cp.jsonl")
	if _, stderr, code := run(t, cfg, "audit", "checkpoint", "export", "--to", to); code != 0 || !strings.Contains(stderr, "已导出 1 个检查点") {
		t.Fatalf("export: %d %q", code, stderr)
	}
	want, _ := os.ReadFile(path)
	got, _ := os.ReadFile(to)
	if len(want) == 0 || string(got) != string(want) {
		t.Fatalf("export wrote %q, the file holds %q", got, want)
	}
	if out, _, code := run(t, cfg, "audit", "checkpoint", "export"); code != 0 || out != string(want) {
		t.Fatalf("export to stdout: %d %q", code, out)
	}
	if _, stderr, code := run(t, cfg, "audit", "checkpoint"); code != 1 || !strings.Contains(stderr, "用法") {
		t.Fatalf("audit checkpoint without export: %d %q", code, stderr)
	}
	// The table wiped and the local checkpoints deleted: the exported copy
	// still tells.
	if _, err := lift(t, cfg).Exec(`DELETE FROM audit_log`); err != nil {
		t.Fatal(err)
	}
	os.Remove(path)
	if out, _, code := run(t, cfg, "audit", "verify", "--checkpoints", to); code != 1 || !strings.Contains(out, "整张表可能被清空") {
		t.Fatalf("audit verify --checkpoints: %d %q", code, out)
	}
}
