package app

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"minzheng/internal/auth"
	"minzheng/internal/db"
	"minzheng/internal/monitor"
	"minzheng/internal/tabular"
)

// benchFeedRows is the size of the feed of BenchmarkFeedImport:
// MINZHENG_BENCH_FEED_ROWS, or as many rows as the city has persons.
func benchFeedRows(persons int64) int {
	if n, err := strconv.Atoi(os.Getenv("MINZHENG_BENCH_FEED_ROWS")); err == nil && n > 0 {
		return n
	}
	return int(persons)
}

// resetMonitor empties the monitoring tables of a benchmark city and the
// medical spending that feeds write, so each run imports into the same
// state and writes every figure anew. With everyone it adds a rule that
// watches everyone (the worst case: every household a row touches is
// evaluated); the default rules watch recipients only.
func resetMonitor(b *testing.B, a *App, everyone bool) {
	b.Helper()
	ctx := context.Background()
	tables := []string{"feed_batches", "feed_facts", "person_medical", "warnings", "monitor_tasks", "task_visits", "task_photos", "meter_state", "monitor_devices", "monitor_rules"}
	if a.DB.Dialect == db.Postgres {
		// TRUNCATE, not DELETE: the next run writes the same facts again,
		// and each of its duplicate checks would visit the deleted row
		// versions the index still points to until VACUUM (300 ms per
		// 1,000 keys), which no real import meets.
		if _, err := a.DB.ExecContext(ctx, `TRUNCATE `+strings.Join(tables, ", ")); err != nil {
			b.Fatal(err)
		}
		tables = nil
	}
	for _, t := range tables {
		if _, err := a.DB.ExecContext(ctx, `DELETE FROM `+t); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := a.DB.ExecContext(ctx, `DELETE FROM events WHERE kind IN ('warning.raised', 'person.died', 'person.changed')`); err != nil {
		b.Fatal(err)
	}
	if err := a.Monitor.SeedRules(ctx); err != nil {
		b.Fatal(err)
	}
	if !everyone {
		return
	}
	if _, err := a.Monitor.SaveRule(ctx, auth.System(), monitor.Rule{Code: "bench_big_bills", Name: "大额医疗费用（全部人员）", Severity: monitor.Medium,
		Population: monitor.Everyone, Feed: monitor.Medical, Expression: "household.medical_3m > 6 * household.monthly_income + 20000", SuppressDays: 30, Enabled: true}); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkFeedImport imports a medical-bill feed (医保) with one row per
// person of the benchmark city (MINZHENG_BENCH_PERSONS, 100,000 unless
// set; MINZHENG_BENCH_FEED_ROWS to change the feed's size), matched by ID
// number, stored with source and dates, and evaluated by every medical
// rule for the households touched — from the CSV bytes to the commit.
func BenchmarkFeedImport(b *testing.B) {
	forEachBackend(b, func(b *testing.B, c *benchCity) {
		ctx := context.Background()
		a := c.app
		a.Now = func() time.Time { return benchAsOf.AddDate(0, 1, 0) }
		rows, err := a.DB.QueryContext(ctx, `SELECT id_number FROM bench_plain_ids`)
		if err != nil {
			b.Fatal(err)
		}
		var numbers []string
		for rows.Next() {
			var n string
			rows.Scan(&n)
			numbers = append(numbers, n)
		}
		rows.Close()
		n := benchFeedRows(c.persons)
		rng := rand.New(rand.NewPCG(1, 2))
		rng.Shuffle(len(numbers), func(i, j int) { numbers[i], numbers[j] = numbers[j], numbers[i] })
		var csv bytes.Buffer
		csv.WriteString("身份证号,结算日期,自付金额,结算单号\n")
		for i := range n {
			day := benchAsOf.AddDate(0, 0, -rng.IntN(60)).Format(time.DateOnly)
			fmt.Fprintf(&csv, "%s,%s,%d.%02d,YB%08d\n", numbers[i%len(numbers)], day, 50+rng.IntN(30000), rng.IntN(100), i)
		}
		data := csv.Bytes()
		for _, everyone := range []bool{false, true} {
			name := "default-rules"
			if everyone {
				name = "rule-on-everyone"
			}
			b.Run(name, func(b *testing.B) { benchFeed(b, a, data, n, c.persons, everyone) })
		}
	})
}

func benchFeed(b *testing.B, a *App, data []byte, n int, persons int64, everyone bool) {
	ctx := context.Background()
	{
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			resetMonitor(b, a, everyone)
			b.StartTimer()
			start := time.Now()
			cpu0, _ := processCPU()
			tab, err := tabular.Read(bytes.NewReader(data), "yibao.csv", 0)
			if err != nil {
				b.Fatal(err)
			}
			read := time.Since(start)
			res, err := a.Monitor.Import(ctx, auth.System(), monitor.ImportRequest{Type: monitor.Medical, Batch: fmt.Sprintf("bench-%d", i), Table: tab})
			if err != nil {
				b.Fatal(err)
			}
			if res.Accepted != n {
				b.Fatalf("accepted %d of %d: %+v", res.Accepted, n, res.Problems[:min(3, len(res.Problems))])
			}
			el := time.Since(start)
			cpu1, _ := processCPU()
			b.ReportMetric(float64(n)/el.Seconds(), "rows/s")
			b.ReportMetric(el.Seconds(), "s/feed")
			b.ReportMetric((cpu1 - cpu0).Seconds(), "cpu-s/feed")
			b.ReportMetric(float64(res.Warnings), "warnings")
			fmt.Fprintf(os.Stderr, "feed %d rows into %d persons (%s, rule on everyone %v): read %.2f s, import %.2f s, total %.2f s (process CPU %.2f s), %d warnings\n",
				n, persons, a.DB.Dialect, everyone, read.Seconds(), res.Seconds, el.Seconds(), (cpu1 - cpu0).Seconds(), res.Warnings)
		}
	}
}

// BenchmarkWaterMeters processes one day of hourly readings of 30,000
// smart water meters (720,000 rows) after a week of history, with one
// meter in 100 silent all day: the silent ones must be warned about and
// no other.
func BenchmarkWaterMeters(b *testing.B) {
	forEachBackend(b, func(b *testing.B, c *benchCity) {
		ctx := context.Background()
		a := c.app
		const meters = 30000
		// Elders (60 or over on the day), one meter each, those living
		// alone first. The city has fewer than 30,000 of them at 1M
		// persons, so the others are marked as living alone for the run
		// and restored afterwards.
		rows, err := a.DB.QueryContext(ctx, `SELECT id, lives_alone FROM persons WHERE death_date IS NULL AND birth_date <= '1965-01-01' ORDER BY lives_alone DESC, id LIMIT $1`, meters)
		if err != nil {
			b.Fatal(err)
		}
		var ids, marked []int64
		for rows.Next() {
			var id int64
			var alone int
			rows.Scan(&id, &alone)
			ids = append(ids, id)
			if alone == 0 {
				marked = append(marked, id)
			}
		}
		rows.Close()
		if len(ids) < meters {
			b.Skipf("only %d elders in the city; set MINZHENG_BENCH_PERSONS higher", len(ids))
		}
		setAlone := func(v int) {
			for _, id := range marked {
				if _, err := a.DB.ExecContext(ctx, `UPDATE persons SET lives_alone = $1 WHERE id = $2`, v, id); err != nil {
					b.Fatal(err)
				}
			}
		}
		setAlone(1)
		b.Cleanup(func() { setAlone(0) })
		day0 := time.Date(2025, 7, 1, 0, 0, 0, 0, time.FixedZone("CST", 8*3600))
		feed := func(days int, from time.Time, silent func(m int) bool) []byte {
			var buf bytes.Buffer
			buf.WriteString("meter_id,hour,volume\n")
			for m := range meters {
				for h := range days * 24 {
					t := from.Add(time.Duration(h) * time.Hour)
					v := 0
					if hr := t.Hour(); hr >= 7 && hr < 22 && !silent(m) && (m+h)%3 != 0 {
						v = 5 + (m+h)%20
					}
					fmt.Fprintf(&buf, "WM%06d,%s,%d\n", m, t.Format("2006-01-02 15:04"), v)
				}
			}
			return buf.Bytes()
		}
		var history [][]byte
		for d := range 7 {
			history = append(history, feed(1, day0.AddDate(0, 0, d), func(int) bool { return false }))
		}
		today := feed(1, day0.AddDate(0, 0, 7), func(m int) bool { return m%100 == 0 })
		a.Now = func() time.Time { return day0.AddDate(0, 0, 8) }
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			resetMonitor(b, a, false)
			bs := make([]monitor.Binding, meters)
			for m := range meters {
				bs[m] = monitor.Binding{DeviceID: fmt.Sprintf("WM%06d", m), Kind: monitor.WaterMeter, PersonID: ids[m]}
			}
			if err := a.Monitor.BindDevices(ctx, auth.System(), bs); err != nil {
				b.Fatal(err)
			}
			for d, h := range history {
				tab, _ := tabular.Read(bytes.NewReader(h), "history.csv", 0)
				if _, err := a.Monitor.Import(ctx, auth.System(), monitor.ImportRequest{Type: monitor.Water, Batch: fmt.Sprintf("history-%d-%d", i, d), Table: tab}); err != nil {
					b.Fatal(err)
				}
			}
			b.StartTimer()
			start := time.Now()
			cpu0, _ := processCPU()
			tab, err := tabular.Read(bytes.NewReader(today), "today.csv", 0)
			if err != nil {
				b.Fatal(err)
			}
			res, err := a.Monitor.Import(ctx, auth.System(), monitor.ImportRequest{Type: monitor.Water, Batch: fmt.Sprintf("today-%d", i), Table: tab})
			if err != nil {
				b.Fatal(err)
			}
			el := time.Since(start)
			cpu1, _ := processCPU()
			if res.Accepted != meters*24 || res.Warnings != meters/100 {
				b.Fatalf("accepted %d, warnings %d (want %d)", res.Accepted, res.Warnings, meters/100)
			}
			b.ReportMetric(el.Seconds(), "s/day")
			b.ReportMetric((cpu1 - cpu0).Seconds(), "cpu-s/day")
			fmt.Fprintf(os.Stderr, "water %d meters × 24 h (%s): %.2f s (process CPU %.2f s), %d warnings\n", meters, a.DB.Dialect, el.Seconds(), (cpu1 - cpu0).Seconds(), res.Warnings)
		}
	})
}
