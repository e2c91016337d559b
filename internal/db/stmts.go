package db

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
)

// Stmts prepares each statement once per transaction: a batch writes the
// same few statements thousands of times, and preparing them again each
// time costs more than running them. On SQLite the numbered placeholders
// become ? (see Positional).
type Stmts struct {
	tx     *sql.Tx
	ctx    context.Context
	m      map[string]*sql.Stmt
	sqlite bool
}

// Stmts returns a statement cache for tx; Close it when tx is done.
func (d *DB) Stmts(ctx context.Context, tx *sql.Tx) *Stmts {
	return &Stmts{tx: tx, ctx: ctx, m: map[string]*sql.Stmt{}, sqlite: d.Dialect == SQLite}
}

func (c *Stmts) stmt(q string) (*sql.Stmt, error) {
	if s, ok := c.m[q]; ok {
		return s, nil
	}
	text := q
	if c.sqlite {
		text = Positional(q)
	}
	s, err := c.tx.PrepareContext(c.ctx, text)
	if err != nil {
		return nil, err
	}
	c.m[q] = s
	return s, nil
}

// Exec runs q with args.
func (c *Stmts) Exec(q string, args ...any) (sql.Result, error) {
	s, err := c.stmt(q)
	if err != nil {
		return nil, err
	}
	return s.ExecContext(c.ctx, args...)
}

// QueryRow runs q for one row; preparation errors surface from Scan.
func (c *Stmts) QueryRow(q string, args ...any) interface{ Scan(...any) error } {
	s, err := c.stmt(q)
	if err != nil {
		return errRow{err}
	}
	return s.QueryRowContext(c.ctx, args...)
}

// Close closes the prepared statements.
func (c *Stmts) Close() {
	for _, s := range c.m {
		s.Close()
	}
}

type errRow struct{ err error }

func (e errRow) Scan(...any) error { return e.err }

// Positional rewrites $1, $2 … $n to ? when they appear in that order,
// each once: SQLite's driver looks numbered names up on every bind, which
// costs more than a short INSERT. Otherwise q is returned as it is.
func Positional(q string) string {
	var b strings.Builder
	next := 1
	for i := 0; i < len(q); i++ {
		if q[i] != '$' {
			b.WriteByte(q[i])
			continue
		}
		j := i + 1
		for j < len(q) && q[j] >= '0' && q[j] <= '9' {
			j++
		}
		if n, err := strconv.Atoi(q[i+1 : j]); err != nil || n != next {
			return q
		}
		next++
		b.WriteByte('?')
		i = j - 1
	}
	return b.String()
}
