package db_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"minzheng/internal/db"
	"minzheng/internal/db/dbtest"
)

func TestMigrationsMatchAcrossDialects(t *testing.T) {
	s, err := db.Migrations(db.SQLite, dbtest.Schema(t)...)
	if err != nil {
		t.Fatal(err)
	}
	p, err := db.Migrations(db.Postgres, dbtest.Schema(t)...)
	if err != nil {
		t.Fatal(err)
	}
	if len(s) == 0 || len(s) != len(p) {
		t.Fatalf("sqlite has %d migrations, postgres %d", len(s), len(p))
	}
	for i := range s {
		if s[i].Name != p[i].Name {
			t.Errorf("migration %d: sqlite %s, postgres %s", i, s[i].Name, p[i].Name)
		}
	}
}

func TestMigrateAndUnique(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		// A second Migrate is a no-op.
		if err := d.Migrate(ctx, dbtest.Schema(t)...); err != nil {
			t.Fatalf("second migrate: %v", err)
		}
		var n int
		if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil || n == 0 {
			t.Fatalf("schema_migrations: n=%d err=%v", n, err)
		}
		_, err := d.ExecContext(ctx, `INSERT INTO divisions (code, name, level) VALUES ($1, $2, $3)`, "310000", "上海市", "city")
		if err != nil {
			t.Fatal(err)
		}
		_, err = d.ExecContext(ctx, `INSERT INTO divisions (code, name, level) VALUES ($1, $2, $3)`, "310000", "上海市", "city")
		if !db.IsUniqueViolation(err) {
			t.Fatalf("want unique violation, got %v", err)
		}
		// A failed transaction leaves nothing behind.
		err = d.Tx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO divisions (code, name, level) VALUES ($1, $2, $3)`, "310104", "徐汇区", "district"); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO divisions (code, name, level) VALUES ($1, $2, $3)`, "310000", "x", "city")
			return err
		})
		if err == nil {
			t.Fatal("want error from duplicate insert")
		}
		if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM divisions`).Scan(&n); err != nil || n != 1 {
			t.Fatalf("divisions after rollback = %d (%v), want 1", n, err)
		}
		// The audit log refuses updates and deletes.
		_, err = d.ExecContext(ctx, `INSERT INTO audit_log (id, at, actor, role, action, entity, entity_id, detail, remote, prev_hash, hash) VALUES (1,'t','a','r','x','e','1','','','','h')`)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.ExecContext(ctx, `UPDATE audit_log SET actor = 'b'`); err == nil {
			t.Error("update of audit_log was allowed")
		}
		if _, err := d.ExecContext(ctx, `DELETE FROM audit_log`); err == nil {
			t.Error("delete from audit_log was allowed")
		}
	})
}

func TestPrefixRange(t *testing.T) {
	lo, hi := db.PrefixRange("310104")
	if lo != "310104" || hi != "310105" {
		t.Errorf("got %q %q", lo, hi)
	}
	for _, c := range []string{"310104", "310104003", "310104003001"} {
		if !(c >= lo && c < hi) {
			t.Errorf("%s not in range", c)
		}
	}
	for _, c := range []string{"310105", "31010", "310103999"} {
		if c >= lo && c < hi {
			t.Errorf("%s in range", c)
		}
	}
}

// TestSQLitePathWithURICharacters: a data folder whose name holds the
// characters a SQLite URI gives a meaning to (# ? %) opens that folder's
// file, not a file named after the part before them.
func TestSQLitePathWithURICharacters(t *testing.T) {
	for _, name := range []string{"sqlite#01", "a?b", "100%", "x%23y"} {
		dir := filepath.Join(t.TempDir(), name)
		d, err := db.Open(context.Background(), "", dir, dbtest.Schema(t)...)
		if err != nil {
			t.Fatalf("%s: open: %v", name, err)
		}
		d.Close()
		if _, err := os.Stat(filepath.Join(dir, "minzheng.db")); err != nil {
			t.Errorf("%s: the database is not in the folder: %v", name, err)
		}
	}
}
