// Package db opens the database — embedded SQLite (the default) or
// PostgreSQL — applies the embedded, versioned migrations and runs
// transactions. Stores in the business-line packages write plain SQL with
// $1 placeholders, which both drivers accept.
package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Dialect tells which SQL flavour a DB speaks.
type Dialect string

// The supported dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DB is an open database with its dialect.
type DB struct {
	*sql.DB
	Dialect Dialect
	// Path is the SQLite file, empty for PostgreSQL.
	Path string
	// URL is the PostgreSQL connection URL, empty for SQLite.
	URL string
}

// Open connects (Connect) and applies the platform's migrations and those of
// schema (each line's migrations folder) before returning.
func Open(ctx context.Context, dsn, dataDir string, schema ...fs.FS) (*DB, error) {
	d, err := Connect(ctx, dsn, dataDir)
	if err != nil {
		return nil, err
	}
	if err := d.Migrate(ctx, schema...); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// Connect opens the database named by dsn without migrating it: a
// postgres:// or postgresql:// URL selects PostgreSQL; an empty dsn means
// the SQLite file minzheng.db in dataDir; any other value is taken as a
// SQLite file path.
func Connect(ctx context.Context, dsn, dataDir string) (*DB, error) {
	var d *DB
	var err error
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		d, err = openPostgres(ctx, dsn)
	} else {
		path := dsn
		if path == "" {
			if err := os.MkdirAll(dataDir, 0o700); err != nil {
				return nil, fmt.Errorf("db: create data folder: %w", err)
			}
			path = filepath.Join(dataDir, "minzheng.db")
		}
		d, err = openSQLite(ctx, path)
	}
	if err != nil {
		return nil, err
	}
	return d, nil
}

// uriPath escapes the characters a SQLite URI filename gives a meaning to
// (% escapes, ? starts the query, # the fragment), so a data folder named
// "a#1" opens a#1, not a.
func uriPath(path string) string {
	return strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
}

func openSQLite(ctx context.Context, path string) (*DB, error) {
	// busy_timeout first so the other pragmas wait instead of failing;
	// _txlock=immediate makes write transactions take the write lock at
	// BEGIN, so two writers queue instead of deadlocking on upgrade.
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "temp_store(MEMORY)")
	q.Add("_pragma", "cache_size(-65536)")
	// Worker threads let CREATE INDEX sort in parallel (bulk loads rebuild indexes).
	q.Add("_pragma", "threads(2)")
	q.Set("_txlock", "immediate")
	sdb, err := sql.Open("sqlite", "file:"+uriPath(path)+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("db: open sqlite %s: %w", path, err)
	}
	sdb.SetMaxOpenConns(8)
	sdb.SetMaxIdleConns(8)
	sdb.SetConnMaxIdleTime(5 * time.Minute)
	if err := sdb.PingContext(ctx); err != nil {
		sdb.Close()
		return nil, fmt.Errorf("db: open sqlite %s: %w", path, err)
	}
	// Refresh planner statistics where they are missing or stale (cheap).
	sdb.ExecContext(ctx, `PRAGMA analysis_limit = 1000; PRAGMA optimize = 0x10002`)
	return &DB{DB: sdb, Dialect: SQLite, Path: path}, nil
}

func openPostgres(ctx context.Context, dsn string) (*DB, error) {
	sdb, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("db: open postgres: %w", err)
	}
	sdb.SetMaxOpenConns(16)
	sdb.SetMaxIdleConns(8)
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := sdb.PingContext(pctx); err != nil {
		sdb.Close()
		return nil, fmt.Errorf("db: connect to postgres: %w", err)
	}
	return &DB{DB: sdb, Dialect: Postgres, URL: dsn}, nil
}

// Tx runs fn in a transaction, committing when fn returns nil and rolling
// back otherwise.
func (d *DB) Tx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := d.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("db: begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("db: commit: %w", err)
	}
	return nil
}

// IsUniqueViolation reports whether err is a unique-constraint violation,
// judged by the driver's error code rather than its message.
func IsUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23505"
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// Queryer is what *sql.DB and *sql.Tx have in common, so store functions can
// run inside or outside a transaction.
type Queryer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// PrefixRange returns the half-open range [lo, hi) of the strings that start
// with prefix, so "code LIKE prefix%" can be written as an index range on
// both databases. Division codes are ASCII digits.
func PrefixRange(prefix string) (lo, hi string) {
	if prefix == "" {
		return "", "\U0010FFFF"
	}
	b := []byte(prefix)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return prefix, string(b[:i+1])
		}
	}
	return prefix, prefix + "\U0010FFFF"
}

// Now formats t the way timestamps are stored: UTC, fixed width, so text
// order is time order on both databases.
func Now(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000Z") }

// ParseTime parses a timestamp stored by Now.
func ParseTime(s string) time.Time {
	t, _ := time.Parse("2006-01-02T15:04:05.000000Z", s)
	return t
}
