// Package events is the outbox: a change that other modules care about (a
// death, an approval, a payment) is appended to the events table in the
// same transaction as the change, so neither exists without the other.
// A Dispatcher hands the events, in order, to the consumers registered for
// their kind; each consumer remembers the last event it handled, so a
// restart resumes where it stopped. Delivery is at least once: handlers
// must be idempotent.
package events

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"minzheng/internal/db"
)

// An event's kind ("person.died") and its payload type belong to the
// package that produces it (registry.PersonDied with registry.Died,
// assistance.ApplicationMoved with assistance.Moved, …); this package only
// stores and delivers them. Decode reads a payload into its type.

// Event is one change.
type Event struct {
	ID        int64
	Kind      string
	SubjectID int64  // the person, household or case it is about
	Division  string // the division it belongs to
	Payload   json.RawMessage
	CreatedAt time.Time
}

// Append writes an event in tx. payload is marshalled to JSON (nil is {}).
func Append(ctx context.Context, tx *sql.Tx, kind string, subject int64, division string, payload any, now time.Time) (int64, error) {
	b := []byte("{}")
	if payload != nil {
		var err error
		if b, err = json.Marshal(payload); err != nil {
			return 0, fmt.Errorf("events: %s: %w", kind, err)
		}
	}
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO events (kind, subject_id, division, payload, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		kind, subject, division, string(b), db.Now(now)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("events: append %s: %w", kind, err)
	}
	return id, nil
}

// Decode reads e's payload into a T, the payload type its producer
// declares for its kind.
func Decode[T any](e Event) (T, error) {
	var v T
	if err := json.Unmarshal(e.Payload, &v); err != nil {
		return v, fmt.Errorf("events: %s %d: %w", e.Kind, e.ID, err)
	}
	return v, nil
}

// AppendAll writes events in tx as multi-row INSERTs, for a batch that
// raises many (a feed can raise a hundred thousand). A nil Payload is {};
// ID and CreatedAt are ignored (now is the time of all).
func AppendAll(ctx context.Context, tx *sql.Tx, d db.Dialect, es []Event, now time.Time) error {
	at := db.Now(now)
	rows := make([][]any, len(es))
	for i, e := range es {
		payload := "{}"
		if e.Payload != nil {
			payload = string(e.Payload)
		}
		rows[i] = []any{e.Kind, e.SubjectID, e.Division, payload, at}
	}
	if err := db.InsertRows(ctx, tx, d, "events", []string{"kind", "subject_id", "division", "payload", "created_at"}, rows); err != nil {
		return fmt.Errorf("events: append: %w", err)
	}
	return nil
}

// Handler handles one event. Returning an error stops the consumer at
// that event; it is retried on the next Drain.
type Handler func(ctx context.Context, e Event) error

type consumer struct {
	name  string
	kinds map[string]bool
	fn    Handler
}

// Dispatcher delivers events to consumers.
type Dispatcher struct {
	DB  *db.DB
	Log *slog.Logger
	Now func() time.Time
	// GapWait is how long a missing id (a transaction still open on
	// PostgreSQL, or rolled back) holds a consumer back before it is
	// skipped. Zero means 5 seconds.
	GapWait time.Duration

	mu        sync.Mutex
	consumers []consumer
	drain     sync.Mutex
}

// Handle registers fn as consumer name of the given kinds. The name is the
// key of its offset: keep it stable.
func (d *Dispatcher) Handle(name string, fn Handler, kinds ...string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	k := map[string]bool{}
	for _, x := range kinds {
		k[x] = true
	}
	d.consumers = append(d.consumers, consumer{name: name, kinds: k, fn: fn})
}

// Drain delivers every pending event to every consumer and returns the
// number of deliveries made.
func (d *Dispatcher) Drain(ctx context.Context) (int, error) {
	d.drain.Lock()
	defer d.drain.Unlock()
	d.mu.Lock()
	cs := append([]consumer(nil), d.consumers...)
	d.mu.Unlock()
	total := 0
	for _, c := range cs {
		n, err := d.drainOne(ctx, c)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

func (d *Dispatcher) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d *Dispatcher) drainOne(ctx context.Context, c consumer) (int, error) {
	var last int64
	err := d.DB.QueryRowContext(ctx, `SELECT last_id FROM event_offsets WHERE consumer = $1`, c.name).Scan(&last)
	if err == sql.ErrNoRows {
		if _, err := d.DB.ExecContext(ctx, `INSERT INTO event_offsets (consumer, last_id) VALUES ($1, 0) ON CONFLICT (consumer) DO NOTHING`, c.name); err != nil {
			return 0, err
		}
	} else if err != nil {
		return 0, fmt.Errorf("events: offset of %s: %w", c.name, err)
	}
	gap := d.GapWait
	if gap == 0 {
		gap = 5 * time.Second
	}
	delivered := 0
	for {
		batch, err := d.read(ctx, last, 500)
		if err != nil || len(batch) == 0 {
			return delivered, err
		}
		for _, e := range batch {
			// A hole before e may be a transaction not yet committed:
			// wait for it unless e is old enough that the hole is a
			// rollback.
			if e.ID != last+1 && d.now().Sub(e.CreatedAt) < gap {
				return delivered, d.save(ctx, c.name, last)
			}
			if c.kinds[e.Kind] {
				if err := c.fn(ctx, e); err != nil {
					d.save(ctx, c.name, last)
					return delivered, fmt.Errorf("events: %s handling %s #%d: %w", c.name, e.Kind, e.ID, err)
				}
				delivered++
			}
			last = e.ID
		}
		if err := d.save(ctx, c.name, last); err != nil {
			return delivered, err
		}
	}
}

func (d *Dispatcher) read(ctx context.Context, after int64, limit int) ([]Event, error) {
	rows, err := d.DB.QueryContext(ctx, `SELECT id, kind, subject_id, division, payload, created_at FROM events WHERE id > $1 ORDER BY id LIMIT $2`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("events: read: %w", err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		var payload, created string
		if err := rows.Scan(&e.ID, &e.Kind, &e.SubjectID, &e.Division, &payload, &created); err != nil {
			return nil, err
		}
		e.Payload = json.RawMessage(payload)
		e.CreatedAt = db.ParseTime(created)
		out = append(out, e)
	}
	return out, rows.Err()
}

func (d *Dispatcher) save(ctx context.Context, name string, last int64) error {
	_, err := d.DB.ExecContext(ctx, `UPDATE event_offsets SET last_id = $1 WHERE consumer = $2 AND last_id < $1`, last, name)
	return err
}

// Run drains every interval until ctx ends, logging failures.
func (d *Dispatcher) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := d.Drain(ctx); err != nil && ctx.Err() == nil && d.Log != nil {
			d.Log.Error("events", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
