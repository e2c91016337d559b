package jobs_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"minzheng/internal/db"
	"minzheng/internal/db/dbtest"
	"minzheng/internal/errs"
	"minzheng/internal/jobs"
)

func TestOnceRunsOncePerPeriod(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		a, b := jobs.NewLeases(d, nil), jobs.NewLeases(d, nil)
		var runs atomic.Int32
		var wg sync.WaitGroup
		results := make(chan error, 2)
		start := make(chan struct{})
		for _, l := range []*jobs.Leases{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, err := l.Once(ctx, "proactive", "2025-08-01", time.Minute, func(context.Context) error {
					runs.Add(1)
					time.Sleep(200 * time.Millisecond)
					return nil
				})
				results <- err
			}()
		}
		close(start)
		wg.Wait()
		close(results)
		conflicts := 0
		for err := range results {
			if errs.Code(err) == errs.Conflict {
				conflicts++
			} else if err != nil {
				t.Fatal(err)
			}
		}
		if runs.Load() != 1 {
			t.Fatalf("job ran %d times, want 1 (conflicts %d)", runs.Load(), conflicts)
		}
		// The same period again: nothing; the next period: runs.
		ran, err := b.Once(ctx, "proactive", "2025-08-01", time.Minute, func(context.Context) error { runs.Add(1); return nil })
		if ran || err != nil || runs.Load() != 1 {
			t.Fatalf("second run of the period: ran=%v err=%v runs=%d", ran, err, runs.Load())
		}
		ran, err = b.Once(ctx, "proactive", "2025-08-02", time.Minute, func(context.Context) error { runs.Add(1); return nil })
		if !ran || err != nil || runs.Load() != 2 {
			t.Fatalf("next period: ran=%v err=%v runs=%d", ran, err, runs.Load())
		}
	})
}

func TestExpiredLeaseIsTaken(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		clock := time.Date(2025, 8, 1, 2, 0, 0, 0, time.UTC)
		now := func() time.Time { return clock }
		a, b := jobs.NewLeases(d, now), jobs.NewLeases(d, now)
		if _, err := a.Acquire(ctx, "payroll", time.Minute); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Acquire(ctx, "payroll", time.Minute); err != jobs.ErrHeld {
			t.Fatalf("held lease taken: %v", err)
		}
		clock = clock.Add(2 * time.Minute) // a died without releasing
		if _, err := b.Acquire(ctx, "payroll", time.Minute); err != nil {
			t.Fatalf("expired lease not taken: %v", err)
		}
	})
}

func TestLeaseOfADeadProcessIsTakenOver(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		// A child process that exits at once leaves a pid nobody holds.
		cmd := exec.Command("true")
		if err := cmd.Run(); err != nil {
			t.Skip("no true(1):", err)
		}
		host, _ := os.Hostname()
		dead := &jobs.Leases{DB: d, Holder: fmt.Sprintf("%s:%d:dead", host, cmd.Process.Pid), Now: time.Now}
		if _, err := dead.Acquire(ctx, "payroll", time.Hour); err != nil {
			t.Fatal(err)
		}
		alive := &jobs.Leases{DB: d, Holder: fmt.Sprintf("%s:%d:live", host, os.Getppid()), Now: time.Now}
		if _, err := alive.Acquire(ctx, "payroll", time.Hour); err != nil {
			t.Fatalf("the lease of a dead process was not taken over: %v", err)
		}
		// A living holder (the test's parent process) keeps its lease.
		me := jobs.NewLeases(d, nil)
		if _, err := me.Acquire(ctx, "payroll", time.Hour); err != jobs.ErrHeld {
			t.Fatalf("took a living process's lease: %v", err)
		}
	})
}
