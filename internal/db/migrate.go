package db

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
)

//go:embed migrations
var migrations embed.FS

// Migration is one numbered schema change.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Migrations returns the migrations of a dialect in number order: the
// platform's own (internal/db/migrations) and those of each of schema, an FS
// holding sqlite/NNNN_name.sql and postgres/NNNN_name.sql (a business line's
// migrations folder). Numbers are one sequence across every source, so that
// a table a line creates exists before another line's later migration
// refers to it; a number used twice is an error naming both files.
func Migrations(d Dialect, schema ...fs.FS) ([]Migration, error) {
	own, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return nil, err
	}
	var ms []Migration
	for _, fsys := range append([]fs.FS{own}, schema...) {
		part, err := readMigrations(fsys, string(d))
		if err != nil {
			return nil, err
		}
		ms = append(ms, part...)
	}
	sort.SliceStable(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	for i := 1; i < len(ms); i++ {
		if ms[i].Version == ms[i-1].Version {
			return nil, fmt.Errorf("db: two migrations numbered %d: %s and %s", ms[i].Version, ms[i-1].Name, ms[i].Name)
		}
	}
	return ms, nil
}

// readMigrations reads the .sql files of one dialect's folder of fsys; a
// missing folder holds none.
func readMigrations(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("db: read migrations: %w", err)
	}
	var ms []Migration
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".sql") {
			continue
		}
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("db: migration %s: name must start with a number and _", name)
		}
		body, err := fs.ReadFile(fsys, dir+"/"+name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, Migration{Version: v, Name: name, SQL: string(body)})
	}
	return ms, nil
}

// Migrate applies the migrations (Migrations: the platform's and schema's)
// not yet recorded in schema_migrations, each
// in its own transaction. On PostgreSQL an advisory lock keeps two processes
// that start at once from migrating together.
func (d *DB) Migrate(ctx context.Context, schema ...fs.FS) error {
	ms, err := Migrations(d.Dialect, schema...)
	if err != nil {
		return err
	}
	conn, err := d.Conn(ctx)
	if err != nil {
		return fmt.Errorf("db: migrate: %w", err)
	}
	defer conn.Close()
	if d.Dialect == Postgres {
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(7263001)`); err != nil {
			return fmt.Errorf("db: migrate lock: %w", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(7263001)`)
	}
	if d.Dialect == SQLite {
		// A migration that rewrites a large table (ALTER TABLE … DROP
		// COLUMN) inside its transaction keeps a statement journal of
		// every page it changes: on disk, not in memory (12 GB for the
		// persons of 25 million). The pool's setting comes back after.
		if _, err := conn.ExecContext(ctx, `PRAGMA temp_store = FILE`); err != nil {
			return fmt.Errorf("db: migrate: %w", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA temp_store = MEMORY`)
	}
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`); err != nil {
		return fmt.Errorf("db: create schema_migrations: %w", err)
	}
	applied := map[int]bool{}
	rows, err := conn.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return fmt.Errorf("db: read schema_migrations: %w", err)
	}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return err
		}
		applied[v] = true
	}
	rows.Close()
	for _, m := range ms {
		if applied[m.Version] {
			continue
		}
		if err := applyOne(ctx, conn, m); err != nil {
			return err
		}
	}
	return nil
}

func applyOne(ctx context.Context, conn *sql.Conn, m Migration) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("db: migration %s: %w", m.Name, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return fmt.Errorf("db: migration %s: %w", m.Name, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, CURRENT_TIMESTAMP)`, m.Version, m.Name); err != nil {
		return fmt.Errorf("db: record migration %s: %w", m.Name, err)
	}
	return tx.Commit()
}
