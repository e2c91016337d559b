package app

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"minzheng/internal/auth"
	"minzheng/internal/errs"
	"minzheng/internal/jobs"
)

// TestProactiveScheduleAndLease: the daily schedule runs the proactive
// grant once for the day, and a run while another process holds the lease
// is refused as running.
func TestProactiveScheduleAndLease(t *testing.T) {
	ctx := context.Background()
	a, err := Open(ctx, Config{DataDir: t.TempDir()}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	a.Now = func() time.Time { return time.Date(2025, 8, 1, 19, 30, 0, 0, time.UTC) } // 03:30 in Shanghai
	if _, err := a.Generate(ctx, 500, 1, io.Discard); err != nil {
		t.Fatal(err)
	}
	other := jobs.NewLeases(a.DB, a.Now)
	if _, err := other.Acquire(ctx, ProactiveJob, time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := a.RunProactive(ctx, auth.System(), a.Now(), io.Discard); errs.Code(err) != errs.Conflict {
		t.Fatalf("run while another process holds the lease: %v", err)
	}
	other.Release(ctx, ProactiveJob, "")

	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	only := map[string]string{"proactive-at": "02:00", "monitor-at": "off", "recheck-at": "off", "payroll-day": "0"}
	bad := map[string]string{"proactive-at": "25:00", "monitor-at": "off", "recheck-at": "off", "payroll-day": "0"}
	if err := a.scheduleJobs(sctx, bad); errs.Code(err) != errs.Invalid || !strings.Contains(err.Error(), "proactive-at") {
		t.Errorf("bad time accepted: %v", err)
	}
	bad["proactive-at"], bad["payroll-day"] = "off", "29"
	if err := a.scheduleJobs(sctx, bad); errs.Code(err) != errs.Invalid || !strings.Contains(err.Error(), "payroll-day") {
		t.Errorf("bad payroll day accepted: %v", err)
	}
	if err := a.scheduleJobs(sctx, only); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	var runs int
	for time.Now().Before(deadline) {
		a.DB.QueryRow(`SELECT COUNT(*) FROM proactive_runs WHERE finished_at IS NOT NULL`).Scan(&runs)
		if runs > 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if runs != 1 {
		t.Fatalf("scheduled runs %d, want 1", runs)
	}
	var asOf string
	a.DB.QueryRow(`SELECT as_of FROM proactive_runs`).Scan(&asOf)
	if asOf != "2025-08-02" {
		t.Errorf("scheduled run as of %s, want the Shanghai date 2025-08-02", asOf)
	}
}
