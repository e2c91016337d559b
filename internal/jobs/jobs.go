// Package jobs runs scheduled jobs so that, of several minzheng processes
// sharing one database, exactly one runs each job: a job takes a lease (a
// row in job_leases) before it starts and records the period it completed,
// so a second process, or a second run, does nothing.
package jobs

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"minzheng/internal/db"
	"minzheng/internal/errs"
)

// Leases hands out job leases in the database.
type Leases struct {
	DB     *db.DB
	Holder string // this process, e.g. host:pid:random
	Now    func() time.Time
}

// NewLeases returns leases held under this process's name: host, process
// id and a random part, so that a lease left by a process that died on this
// host can be taken over at once (see Acquire).
func NewLeases(d *db.DB, now func() time.Time) *Leases {
	b := make([]byte, 4)
	rand.Read(b)
	if now == nil {
		now = time.Now
	}
	host, _ := os.Hostname()
	return &Leases{DB: d, Holder: fmt.Sprintf("%s:%d:%s", host, os.Getpid(), hex.EncodeToString(b)), Now: now}
}

// deadHere reports whether holder names a process on this host that no
// longer exists (killed, crashed): its lease need not wait to expire.
func deadHere(holder string) bool {
	parts := strings.Split(holder, ":")
	if len(parts) != 3 {
		return false
	}
	host, _ := os.Hostname()
	pid, err := strconv.Atoi(parts[1])
	if parts[0] != host || err != nil || pid <= 0 || pid == os.Getpid() {
		return false
	}
	return syscall.Kill(pid, 0) == syscall.ESRCH
}

// ErrHeld is returned when another process holds the lease.
var ErrHeld = errors.New("jobs: lease held by another process")

// Acquire takes the lease on name for ttl if it is free, expired, ours, or
// held by a process of this host that has died.
// It returns the last period the job completed.
func (l *Leases) Acquire(ctx context.Context, name string, ttl time.Duration) (lastDone string, err error) {
	now := l.Now().UTC()
	err = l.DB.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO job_leases (name, holder, expires_at) VALUES ($1, '', $2) ON CONFLICT (name) DO NOTHING`, name, db.Now(time.Time{})); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE job_leases SET holder = $1, expires_at = $2 WHERE name = $3 AND (holder = $1 OR holder = '' OR expires_at < $4)`,
			l.Holder, db.Now(now.Add(ttl)), name, db.Now(now))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			var holder string
			if err := tx.QueryRowContext(ctx, `SELECT holder FROM job_leases WHERE name = $1`, name).Scan(&holder); err != nil {
				return err
			}
			if !deadHere(holder) {
				return ErrHeld
			}
			res, err := tx.ExecContext(ctx, `UPDATE job_leases SET holder = $1, expires_at = $2 WHERE name = $3 AND holder = $4`,
				l.Holder, db.Now(now.Add(ttl)), name, holder)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return ErrHeld
			}
		}
		return tx.QueryRowContext(ctx, `SELECT last_done FROM job_leases WHERE name = $1`, name).Scan(&lastDone)
	})
	return lastDone, err
}

// Release gives the lease up, recording the period done ("" keeps the old).
func (l *Leases) Release(ctx context.Context, name, done string) error {
	_, err := l.DB.ExecContext(ctx, `UPDATE job_leases SET holder = '', last_done = CASE WHEN $1 = '' THEN last_done ELSE $1 END WHERE name = $2 AND holder = $3`, done, name, l.Holder)
	return err
}

// Once runs fn under the lease on name unless period is already done. It
// reports whether fn ran. A lease held elsewhere is an errs.Conflict
// saying the job is running.
func (l *Leases) Once(ctx context.Context, name, period string, ttl time.Duration, fn func(ctx context.Context) error) (bool, error) {
	last, err := l.Acquire(ctx, name, ttl)
	if errors.Is(err, ErrHeld) {
		return false, errs.E(errs.Conflict, "任务 %s 正在另一进程中运行", name)
	}
	if err != nil {
		return false, fmt.Errorf("jobs: %s: %w", name, err)
	}
	if last >= period {
		l.Release(ctx, name, "")
		return false, nil
	}
	if err := fn(ctx); err != nil {
		l.Release(ctx, name, "")
		return true, err
	}
	return true, l.Release(ctx, name, period)
}

// Daily runs job once a day after the hour:minute at (local time of loc),
// checking every minute until ctx ends. The period is the date.
func (l *Leases) Daily(ctx context.Context, log *slog.Logger, name string, hour, minute int, loc *time.Location, ttl time.Duration, job func(ctx context.Context, day time.Time) error) {
	tick := time.NewTicker(time.Minute)
	defer tick.Stop()
	for {
		now := l.Now().In(loc)
		if now.Hour()*60+now.Minute() >= hour*60+minute {
			day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
			ran, err := l.Once(ctx, name, day.Format(time.DateOnly), ttl, func(ctx context.Context) error { return job(ctx, day) })
			switch {
			case err != nil && errs.Code(err) != errs.Conflict:
				log.Error("scheduled job failed", "job", name, "err", err)
			case ran:
				log.Info("scheduled job done", "job", name, "day", day.Format(time.DateOnly))
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// Bar draws a 30-character progress bar for batch jobs run from the CLI.
func Bar(done, total int64) string {
	const width = 30
	n := width
	if total > 0 && done < total {
		n = int(done * width / total)
	}
	b := make([]rune, width)
	for i := range b {
		b[i] = '░'
		if i < n {
			b[i] = '█'
		}
	}
	return string(b)
}
