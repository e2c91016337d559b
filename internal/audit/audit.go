// Package audit keeps the append-only, hash-chained record of every write and
// every read of sensitive data: who (name and role), what, which record, when
// and from where. Each entry's hash covers the previous entry's hash, so an
// entry altered or deleted directly in the database breaks the chain, and
// Verify finds the first broken entry.
package audit

import (
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"minzheng/internal/db"
	"minzheng/internal/secret"
)

// Entry is one audit record.
type Entry struct {
	ID       int64     `json:"id"`
	At       time.Time `json:"at"`
	Actor    string    `json:"actor"`     // user name, or "system"
	Role     string    `json:"role"`      // the actor's role
	Action   string    `json:"action"`    // e.g. person.create, person.view_id_number
	Entity   string    `json:"entity"`    // e.g. person
	EntityID string    `json:"entity_id"` // the record's ID
	Detail   string    `json:"detail"`    // short, never a full ID number
	Remote   string    `json:"remote"`    // client address, or "cli"
	PrevHash string    `json:"prev_hash"`
	Hash     string    `json:"hash"`
}

// Log appends entries to the audit log.
type Log struct {
	db    *db.DB
	suite secret.Suite
	now   func() time.Time
}

// New returns a Log writing to d, hashing with suite.
func New(d *db.DB, suite secret.Suite, now func() time.Time) *Log {
	if now == nil {
		now = time.Now
	}
	return &Log{db: d, suite: suite, now: now}
}

// chainLock is the PostgreSQL advisory lock that serialises appends.
const chainLock = 7263002

// Append adds e to the log inside tx, the transaction of the change it
// records, so the change and its entry commit or fail together.
func (l *Log) Append(ctx context.Context, tx *sql.Tx, e Entry) error {
	if l.db.Dialect == db.Postgres {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, chainLock); err != nil {
			return fmt.Errorf("audit: lock: %w", err)
		}
	}
	var lastID int64
	var prev string
	err := tx.QueryRowContext(ctx, `SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1`).Scan(&lastID, &prev)
	if err != nil && err != sql.ErrNoRows {
		return fmt.Errorf("audit: read chain head: %w", err)
	}
	e.ID = lastID + 1
	e.At = l.now().UTC().Truncate(time.Microsecond)
	e.PrevHash = prev
	e.Hash = l.hash(e)
	_, err = tx.ExecContext(ctx, `INSERT INTO audit_log (id, at, actor, role, action, entity, entity_id, detail, remote, prev_hash, hash)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		e.ID, db.Now(e.At), e.Actor, e.Role, e.Action, e.Entity, e.EntityID, e.Detail, e.Remote, e.PrevHash, e.Hash)
	if err != nil {
		return fmt.Errorf("audit: append: %w", err)
	}
	return nil
}

// Record appends e in a transaction of its own: for reads, which change
// nothing else.
func (l *Log) Record(ctx context.Context, e Entry) error {
	return l.db.Tx(ctx, func(tx *sql.Tx) error { return l.Append(ctx, tx, e) })
}

func (l *Log) hash(e Entry) string {
	fields := []string{e.PrevHash, strconv.FormatInt(e.ID, 10), db.Now(e.At), e.Actor, e.Role, e.Action, e.Entity, e.EntityID, e.Detail, e.Remote}
	return hex.EncodeToString(l.suite.Digest([]byte(strings.Join(fields, "\x1f"))))
}

// Result is the outcome of Verify.
type Result struct {
	OK      bool   `json:"ok"`
	Entries int64  `json:"entries"`
	BadID   int64  `json:"bad_id,omitempty"` // the first broken entry
	Reason  string `json:"reason,omitempty"` // in Chinese
}

// Verify walks the whole chain in order and reports the first entry whose
// hash does not match its content, whose link to the previous entry is
// broken, or before which an entry is missing.
func (l *Log) Verify(ctx context.Context) (Result, error) {
	rows, err := l.db.QueryContext(ctx, `SELECT id, at, actor, role, action, entity, entity_id, detail, remote, prev_hash, hash FROM audit_log ORDER BY id`)
	if err != nil {
		return Result{}, fmt.Errorf("audit: verify: %w", err)
	}
	defer rows.Close()
	var res Result
	var prevID int64
	prevHash := ""
	for rows.Next() {
		var e Entry
		var at string
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Role, &e.Action, &e.Entity, &e.EntityID, &e.Detail, &e.Remote, &e.PrevHash, &e.Hash); err != nil {
			return Result{}, err
		}
		e.At = db.ParseTime(at)
		res.Entries++
		switch {
		case e.ID != prevID+1:
			return Result{Entries: res.Entries, BadID: e.ID, Reason: fmt.Sprintf("第 %d 条之前缺少记录（上一条为第 %d 条），记录可能被删除", e.ID, prevID)}, nil
		case e.PrevHash != prevHash:
			return Result{Entries: res.Entries, BadID: e.ID, Reason: fmt.Sprintf("第 %d 条与上一条的链接不符，上一条记录可能被篡改或删除", e.ID)}, nil
		case l.hash(e) != e.Hash:
			return Result{Entries: res.Entries, BadID: e.ID, Reason: fmt.Sprintf("第 %d 条的内容与其哈希不符，记录可能被篡改", e.ID)}, nil
		}
		prevID, prevHash = e.ID, e.Hash
	}
	if err := rows.Err(); err != nil {
		return Result{}, err
	}
	res.OK = true
	return res, nil
}

// Filter selects entries for List.
type Filter struct {
	Actor    string
	Entity   string
	EntityID string
	Action   string
	BeforeID int64 // entries with a smaller ID (paging back); 0 for the newest
	Limit    int
}

// List returns entries matching f, newest first.
func (l *Log) List(ctx context.Context, f Filter) ([]Entry, error) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.Actor != "" {
		add("actor = $%d", f.Actor)
	}
	if f.Entity != "" {
		add("entity = $%d", f.Entity)
	}
	if f.EntityID != "" {
		add("entity_id = $%d", f.EntityID)
	}
	if f.Action != "" {
		add("action = $%d", f.Action)
	}
	if f.BeforeID > 0 {
		add("id < $%d", f.BeforeID)
	}
	if f.Limit <= 0 {
		f.Limit = 100
	}
	f.Limit = min(f.Limit, 1000)
	q := `SELECT id, at, actor, role, action, entity, entity_id, detail, remote, prev_hash, hash FROM audit_log`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += fmt.Sprintf(" ORDER BY id DESC LIMIT %d", f.Limit)
	rows, err := l.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("audit: list: %w", err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var e Entry
		var at string
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Role, &e.Action, &e.Entity, &e.EntityID, &e.Detail, &e.Remote, &e.PrevHash, &e.Hash); err != nil {
			return nil, err
		}
		e.At = db.ParseTime(at)
		out = append(out, e)
	}
	return out, rows.Err()
}
