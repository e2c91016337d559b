package audit_test

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"minzheng/internal/audit"
	"minzheng/internal/db"
	"minzheng/internal/db/dbtest"
	"minzheng/internal/secret"
)

func newLog(t *testing.T, d *db.DB) *audit.Log {
	s, err := secret.NewStandard(bytes.Repeat([]byte{1}, secret.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return audit.New(d, s, nil)
}

// tamper runs a statement with the append-only triggers lifted, as an
// attacker with database access could.
func tamper(t *testing.T, d *db.DB, stmt string) {
	t.Helper()
	ctx := context.Background()
	switch d.Dialect {
	case db.SQLite:
		mustExec(t, d, `DROP TRIGGER audit_log_no_update`)
		mustExec(t, d, `DROP TRIGGER audit_log_no_delete`)
	case db.Postgres:
		mustExec(t, d, `ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change`)
	}
	if _, err := d.ExecContext(ctx, stmt); err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
}

func mustExec(t *testing.T, d *db.DB, q string) {
	t.Helper()
	if _, err := d.ExecContext(context.Background(), q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func fill(t *testing.T, l *audit.Log, n int) {
	ctx := context.Background()
	for i := 0; i < n; i++ {
		e := audit.Entry{Actor: "admin", Role: "city_admin", Action: "person.create", Entity: "person", EntityID: fmt.Sprint(i + 1), Detail: "新增人员", Remote: "127.0.0.1"}
		if err := l.Record(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
}

func TestVerify(t *testing.T) {
	tests := []struct {
		name   string
		stmt   string
		bad    int64
		wantOK bool
	}{
		{"intact", "", 0, true},
		{"altered detail", `UPDATE audit_log SET detail = '改过' WHERE id = 3`, 3, false},
		{"altered actor", `UPDATE audit_log SET actor = 'x' WHERE id = 1`, 1, false},
		{"deleted middle", `DELETE FROM audit_log WHERE id = 4`, 5, false},
		{"deleted first", `DELETE FROM audit_log WHERE id = 1`, 2, false},
		{"rehashed row", `UPDATE audit_log SET hash = 'abc' WHERE id = 2`, 2, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dbtest.Each(t, func(t *testing.T, d *db.DB) {
				l := newLog(t, d)
				fill(t, l, 6)
				if tt.stmt != "" {
					tamper(t, d, tt.stmt)
				}
				res, err := l.Verify(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if res.OK != tt.wantOK || res.BadID != tt.bad {
					t.Fatalf("Verify = %+v, want ok=%v bad=%d", res, tt.wantOK, tt.bad)
				}
				if !res.OK && res.Reason == "" {
					t.Error("no reason given")
				}
			})
		})
	}
}

func TestConcurrentAppends(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		l := newLog(t, d)
		var wg sync.WaitGroup
		errc := make(chan error, 40)
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 10; i++ {
					errc <- l.Record(context.Background(), audit.Entry{Actor: "a", Role: "r", Action: "x", Entity: "e", EntityID: "1"})
				}
			}()
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			if err != nil {
				t.Fatal(err)
			}
		}
		res, err := l.Verify(context.Background())
		if err != nil || !res.OK || res.Entries != 40 {
			t.Fatalf("Verify = %+v, %v", res, err)
		}
		list, err := l.List(context.Background(), audit.Filter{Limit: 5})
		if err != nil || len(list) != 5 || list[0].ID != 40 {
			t.Fatalf("List: %v %+v", err, list)
		}
		if time.Since(list[0].At) > time.Minute {
			t.Errorf("time stored wrong: %v", list[0].At)
		}
	})
}
