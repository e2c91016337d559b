// Package audit keeps the append-only, hash-chained record of every write and
// every read of sensitive data: who (name and role), what, which record, when
// and from where. Each entry's hash is a keyed MAC (secret.Suite.Chain, key
// outside the database) over the entry and the previous entry's hash, so an
// entry altered or deleted directly in the database breaks the chain and
// cannot be re-chained without the key. Signed checkpoints of the chain head
// in a file outside the database (checkpoint.go) catch what a chain alone
// cannot: the newest entries deleted, or the whole table. Verify finds the
// first broken entry.
//
// Entries written before the chain was keyed carry the scheme "sha256" and
// are still verified under it; once a keyed entry follows them, none may.
package audit

import (
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"sync"
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
	// Scheme is what chained it: "hmac-sha256", or "sha256" before the
	// upgrade. Not in the JSON until the API's document (admin's
	// openapi.json) describes it.
	Scheme string `json:"-"`
}

// Log appends entries to the audit log.
type Log struct {
	db    *db.DB
	suite secret.Suite
	now   func() time.Time

	// Checkpoints is the checkpoint file (DATA/audit-checkpoints.jsonl);
	// "" keeps none. Set it before the log is used.
	Checkpoints string
	// CheckpointEvery is how often at most Append writes a checkpoint of
	// the chain head it builds on (default one minute); Verify writes one
	// after each whole chain. Negative: only Verify writes them.
	CheckpointEvery time.Duration

	mu        sync.Mutex
	last      *Checkpoint // the newest checkpoint this process knows
	lastWrite time.Time   // when Append last considered writing one
	loaded    bool        // last has been read from the file's tail
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
	// The head just read is committed (the lock above, or SQLite's write
	// lock, waits for the append before), so it may be checkpointed.
	l.checkpointHead(ctx, tx, lastID, prev)
	e.ID = lastID + 1
	e.At = l.now().UTC().Truncate(time.Microsecond)
	e.PrevHash = prev
	e.Scheme = l.suite.ChainScheme()
	var ok bool
	if e.Hash, ok = l.hash(e); !ok {
		return fmt.Errorf("audit: the suite cannot chain with its own scheme %q", e.Scheme)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO audit_log (id, at, actor, role, action, entity, entity_id, detail, remote, prev_hash, hash, scheme)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		e.ID, db.Now(e.At), e.Actor, e.Role, e.Action, e.Entity, e.EntityID, e.Detail, e.Remote, e.PrevHash, e.Hash, e.Scheme)
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

// hash returns the chain hash of e under its scheme: for the keyed schemes a
// MAC over the scheme, the previous hash and the entry; for the old "sha256"
// the digest of the same fields without the scheme, as it was computed then.
func (l *Log) hash(e Entry) (string, bool) {
	sum, ok := l.suite.Chain(e.Scheme)
	if !ok {
		return "", false
	}
	fields := []string{e.PrevHash, strconv.FormatInt(e.ID, 10), db.Now(e.At), e.Actor, e.Role, e.Action, e.Entity, e.EntityID, e.Detail, e.Remote}
	if e.Scheme != secret.ChainSHA256 {
		fields = append([]string{e.Scheme}, fields...)
	}
	return hex.EncodeToString(sum([]byte(strings.Join(fields, "\x1f")))), true
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
	q := `SELECT ` + entryColumns + ` FROM audit_log`
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
		e, err := scanEntry(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// entryColumns are the columns scanEntry reads, in its order.
const entryColumns = `id, at, actor, role, action, entity, entity_id, detail, remote, prev_hash, hash, scheme`

func scanEntry(rows *sql.Rows) (Entry, error) {
	var e Entry
	var at string
	err := rows.Scan(&e.ID, &at, &e.Actor, &e.Role, &e.Action, &e.Entity, &e.EntityID, &e.Detail, &e.Remote, &e.PrevHash, &e.Hash, &e.Scheme)
	e.At = db.ParseTime(at)
	return e, err
}
