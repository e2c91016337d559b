package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"testing"
	"time"

	"minzheng/internal/auth"
	"minzheng/internal/db/dbtest"
	"minzheng/internal/payroll"
)

// benchEntitlements is the roll size of the payroll benchmarks:
// MINZHENG_BENCH_ENTITLEMENTS (4500000 is the elderly allowance roll), or
// 100,000.
func benchEntitlements() int64 {
	if n, err := strconv.ParseInt(os.Getenv("MINZHENG_BENCH_ENTITLEMENTS"), 10, 64); err == nil && n > 0 {
		return n
	}
	return 100000
}

// payrollBenchApp generates a city of n persons and gives every one an
// active elderly allowance, so the roll has n entitlements.
func payrollBenchApp(b *testing.B, cfg Config, n int64) *App {
	b.Helper()
	a, err := Open(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { a.Close() })
	start := time.Now()
	if _, err := a.Generate(context.Background(), n, 1, io.Discard); err != nil {
		b.Fatal(err)
	}
	if _, err := a.DB.Exec(`INSERT INTO entitlements (program, person_id, household_id, status, monthly_fen, since, proactive, decision_id, updated_at)
		SELECT 'elderly_allowance', id, household_id, 'active', 15000, '2025-01-01', 1, 0, '' FROM persons`); err != nil {
		b.Fatal(err)
	}
	a.DB.Exec(`ANALYZE`)
	b.Logf("set-up: %d persons and entitlements in %v", n, time.Since(start).Round(time.Second))
	return a
}

// benchPayroll measures the monthly payroll from the database to the bank
// files — each iteration pays a new month for the whole roll — and, on the
// same data, what one would otherwise write: a single INSERT … SELECT of
// every line, then one query reading them with the names for the bank file
// (no ID numbers decrypted, no files written): the floor the database sets.
func benchPayroll(b *testing.B, cfg Config) {
	a := payrollBenchApp(b, cfg, benchEntitlements())
	var n int64 // the generator rounds to whole households
	a.DB.QueryRow(`SELECT COUNT(*) FROM entitlements`).Scan(&n)
	month := 0
	b.Run("minzheng", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			month++
			period := fmt.Sprintf("2025-%02d", month)
			start := time.Now()
			var progress io.Writer = io.Discard
			if testing.Verbose() {
				progress = os.Stderr
			}
			res, err := a.Payroll.Run(context.Background(), auth.System(), period, payroll.Options{Files: true}, progress)
			if err != nil {
				b.Fatal(err)
			}
			if res.NewLines != n {
				b.Fatalf("%s: %d new lines, want %d", period, res.NewLines, n)
			}
			b.ReportMetric(float64(n)/time.Since(start).Seconds(), "lines/s")
		}
	})
	b.Run("plain-sql", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			month++
			period := fmt.Sprintf("2025-%02d", month)
			start := time.Now()
			res, err := a.DB.Exec(`INSERT INTO ledger (period, program, person_id, kind, fen, household_id, division, run_id, created_at)
				SELECT $1, e.program, e.person_id, 'regular', e.monthly_fen, e.household_id, h.hukou_division, 0, ''
				FROM entitlements e JOIN households h ON h.id = e.household_id WHERE e.status = 'active'
				ON CONFLICT (period, program, person_id, kind) DO NOTHING`, period)
			if err != nil {
				b.Fatal(err)
			}
			if k, _ := res.RowsAffected(); k != n {
				b.Fatalf("inserted %d", k)
			}
			rows, err := a.DB.Query(`SELECT l.person_id, l.fen, p.name, p.id_enc FROM ledger l JOIN persons p ON p.id = l.person_id
				WHERE l.period = $1 ORDER BY l.period, l.program, l.person_id, l.kind`, period)
			if err != nil {
				b.Fatal(err)
			}
			for rows.Next() {
				var id, fen int64
				var name string
				var enc []byte
				rows.Scan(&id, &fen, &name, &enc)
			}
			rows.Close()
			b.ReportMetric(float64(n)/time.Since(start).Seconds(), "lines/s")
		}
	})
}

// BenchmarkPayrollSQLite: MINZHENG_BENCH_ENTITLEMENTS=4500000 go test
// ./internal/app -run - -bench PayrollSQLite -benchtime 1x -timeout 2h
func BenchmarkPayrollSQLite(b *testing.B) {
	benchPayroll(b, Config{DataDir: b.TempDir()})
}

// BenchmarkPayrollPostgres is the same on PostgreSQL
// (MINZHENG_TEST_POSTGRES).
func BenchmarkPayrollPostgres(b *testing.B) {
	if os.Getenv(dbtest.EnvPostgres) == "" {
		b.Skip("set " + dbtest.EnvPostgres + " to benchmark PostgreSQL")
	}
	benchPayroll(b, Config{DataDir: b.TempDir(), DB: dbtest.PostgresURL(b)})
}
