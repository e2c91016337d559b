package app

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strconv"
	"testing"
)

// benchPersons is the city size of the generation benchmarks:
// MINZHENG_BENCH_PERSONS, or 100,000.
func benchPersons() int64 {
	if n, err := strconv.ParseInt(os.Getenv("MINZHENG_BENCH_PERSONS"), 10, 64); err == nil && n > 0 {
		return n
	}
	return 100000
}

// BenchmarkGenerateSQLite measures `minzheng gen` into a fresh SQLite
// database: b.N runs of benchPersons persons each.
func BenchmarkGenerateSQLite(b *testing.B) {
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		a, err := Open(context.Background(), Config{DataDir: b.TempDir()}, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		st, err := a.Generate(context.Background(), benchPersons(), 1, io.Discard)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(st.PersonsPerSecond, "persons/s")
		a.Close()
	}
}
