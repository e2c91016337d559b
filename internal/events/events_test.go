package events_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"

	"minzheng/internal/db"
	"minzheng/internal/db/dbtest"
	"minzheng/internal/events"
)

// Kinds for the tests; real kinds belong to their producers.
const (
	personDied    = "person.died"
	personChanged = "person.changed"
	warningRaised = "warning.raised"
)

func TestOutboxDeliversInOrderOnceAndResumes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := time.Date(2025, 8, 1, 9, 0, 0, 0, time.UTC)
		appendOne := func(kind string, subject int64) {
			t.Helper()
			if err := d.Tx(ctx, func(tx *sql.Tx) error {
				_, err := events.Append(ctx, tx, kind, subject, "310104", map[string]any{"n": subject}, now)
				return err
			}); err != nil {
				t.Fatal(err)
			}
		}
		appendOne(personDied, 1)
		// A rolled-back change leaves no event (and a hole in the ids).
		d.Tx(ctx, func(tx *sql.Tx) error {
			events.Append(ctx, tx, personDied, 99, "310104", nil, now)
			return errors.New("rollback")
		})
		appendOne(personChanged, 2)
		appendOne(personDied, 3)

		var got []int64
		fail := true
		disp := &events.Dispatcher{DB: d, Now: func() time.Time { return now.Add(time.Minute) }}
		disp.Handle("stop-benefits", func(ctx context.Context, e events.Event) error {
			if e.SubjectID == 3 && fail {
				fail = false
				return errors.New("temporary")
			}
			got = append(got, e.SubjectID)
			return nil
		}, personDied)
		if _, err := disp.Drain(ctx); err == nil {
			t.Fatal("a failing handler should stop the drain with an error")
		}
		if len(got) != 1 || got[0] != 1 {
			t.Fatalf("first drain delivered %v, want [1]", got)
		}
		n, err := disp.Drain(ctx)
		if err != nil || n != 1 || len(got) != 2 || got[1] != 3 {
			t.Fatalf("second drain: n=%d err=%v got=%v", n, err, got)
		}
		// A new dispatcher (a restart) resumes after the last handled event.
		again := &events.Dispatcher{DB: d, Now: disp.Now}
		again.Handle("stop-benefits", func(ctx context.Context, e events.Event) error {
			t.Errorf("event %d delivered twice", e.ID)
			return nil
		}, personDied)
		if n, err := again.Drain(ctx); n != 0 || err != nil {
			t.Fatalf("after restart: n=%d err=%v", n, err)
		}
	})
}

func TestOutboxWaitsForARecentHole(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		if d.Dialect == db.SQLite {
			return // SQLite hands out ids at commit (one writer): no holes
		}
		ctx := context.Background()
		now := time.Date(2025, 8, 1, 9, 0, 0, 0, time.UTC)
		d.Tx(ctx, func(tx *sql.Tx) error {
			events.Append(ctx, tx, personDied, 1, "310104", nil, now)
			return errors.New("rollback") // id 1 never commits
		})
		if err := d.Tx(ctx, func(tx *sql.Tx) error {
			_, err := events.Append(ctx, tx, personDied, 2, "310104", nil, now)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		clock := now.Add(time.Second)
		disp := &events.Dispatcher{DB: d, Now: func() time.Time { return clock }}
		var got int
		disp.Handle("c", func(ctx context.Context, e events.Event) error { got++; return nil }, personDied)
		if n, _ := disp.Drain(ctx); n != 0 {
			t.Fatalf("delivered %d past a hole one second old", n)
		}
		clock = now.Add(10 * time.Second)
		if n, err := disp.Drain(ctx); n != 1 || err != nil {
			t.Fatalf("after the wait: n=%d err=%v", n, err)
		}
	})
}

// Events appended together are delivered like those appended one by one,
// in order, with their payloads ({} for none).
func TestAppendAll(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := time.Date(2025, 8, 1, 9, 0, 0, 0, time.UTC)
		var es []events.Event
		for i := range 250 { // more than one multi-row statement
			es = append(es, events.Event{Kind: warningRaised, SubjectID: int64(i + 1), Division: "310104", Payload: []byte(`{"warning":1}`)})
		}
		es[7].Payload = nil
		if err := d.Tx(ctx, func(tx *sql.Tx) error { return events.AppendAll(ctx, tx, d.Dialect, es, now) }); err != nil {
			t.Fatal(err)
		}
		var got []events.Event
		disp := &events.Dispatcher{DB: d, Now: func() time.Time { return now }}
		disp.Handle("count", func(ctx context.Context, e events.Event) error {
			got = append(got, e)
			return nil
		}, warningRaised)
		if _, err := disp.Drain(ctx); err != nil {
			t.Fatal(err)
		}
		if len(got) != len(es) {
			t.Fatalf("delivered %d of %d", len(got), len(es))
		}
		for i, e := range got {
			want := `{"warning":1}`
			if i == 7 {
				want = `{}`
			}
			if e.SubjectID != int64(i+1) || e.Division != "310104" || string(e.Payload) != want || !e.CreatedAt.Equal(now) {
				t.Fatalf("event %d: %+v %s", i, e, e.Payload)
			}
		}
	})
}

// TestDecode reads a payload into its producer's type and names the event
// when it cannot.
func TestDecode(t *testing.T) {
	type died struct {
		DeathDate string `json:"death_date"`
	}
	got, err := events.Decode[died](events.Event{ID: 7, Kind: personDied, Payload: []byte(`{"death_date":"2025-08-01","source":"公安"}`)})
	if err != nil || got.DeathDate != "2025-08-01" {
		t.Fatalf("decode: %+v %v", got, err)
	}
	if _, err := events.Decode[died](events.Event{ID: 8, Kind: personDied, Payload: []byte(`{"death_date":1}`)}); err == nil || !strings.Contains(err.Error(), "person.died 8") {
		t.Errorf("bad payload: %v", err)
	}
}
