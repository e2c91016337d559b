// Package dbtest gives tests a fresh, migrated database of each kind: SQLite
// always, and PostgreSQL when MINZHENG_TEST_POSTGRES holds a connection URL
// (in CI, where CI=true, a missing URL fails the test instead of skipping).
package dbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"minzheng/internal/db"
)

// EnvPostgres names the variable holding the PostgreSQL server URL for tests.
const EnvPostgres = "MINZHENG_TEST_POSTGRES"

// Schema returns every business line's migrations folder
// (internal/<line>/migrations) of the source tree the test runs in, so that
// a package's tests get the whole schema without importing every line (the
// application gets the same folders from its modules; a test in internal/app
// checks that the two agree).
func Schema(t testing.TB) []fs.FS {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("schema: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("schema: no go.mod above the test's folder")
		}
		dir = parent
	}
	folders, err := filepath.Glob(filepath.Join(dir, "internal", "*", "migrations"))
	if err != nil {
		t.Fatalf("schema: %v", err)
	}
	var out []fs.FS
	for _, f := range folders {
		if filepath.Base(filepath.Dir(f)) != "db" { // the platform's own are embedded in db
			out = append(out, os.DirFS(f))
		}
	}
	return out
}

// SQLite returns a new migrated SQLite database in a temporary folder.
func SQLite(t testing.TB) *db.DB {
	t.Helper()
	d, err := db.Open(context.Background(), "", t.TempDir(), Schema(t)...)
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// PostgresURL returns a URL of a new, empty throwaway database on the test
// server, dropped when the test ends. It skips the test when no server is
// configured outside CI, and fails it in CI.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvPostgres)
	if base == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set in CI: the PostgreSQL tests must run", EnvPostgres)
		}
		t.Skipf("PostgreSQL tests skipped: set %s=postgres://postgres@127.0.0.1:5432/postgres to run them", EnvPostgres)
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	defer admin.Close()
	var b [6]byte
	rand.Read(b[:])
	name := "minzheng_test_" + sanitize(filepath.Base(os.Args[0])) + "_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec(`CREATE DATABASE ` + name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		a, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer a.Close()
		a.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`)
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", EnvPostgres, err)
	}
	u.Path = "/" + name
	return u.String()
}

// Postgres returns a new migrated database on the test PostgreSQL server.
func Postgres(t testing.TB) *db.DB {
	t.Helper()
	dsn := PostgresURL(t)
	d, err := db.Open(context.Background(), dsn, t.TempDir(), Schema(t)...)
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// Each runs fn as a subtest once per database kind, each with a fresh database.
func Each(t *testing.T, fn func(t *testing.T, d *db.DB)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, Postgres(t)) })
}

func sanitize(s string) string {
	s = strings.TrimSuffix(strings.ToLower(s), ".test")
	var b strings.Builder
	for _, r := range s {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
		if b.Len() >= 20 {
			break
		}
	}
	return b.String()
}
