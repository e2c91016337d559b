// Command sidebyside runs the three simple eligibility rules of issue 3
// ("Speed and memory") side by side on the same generated data, in one
// process: a hand-written Go loop over column slices, minzheng's batch
// plan (through the main module's benchmarks, see runPlan), DuckDB and
// PostgreSQL. It prints the times and their ratio to the hand loop.
//
// The rules: eligible when per-capita income < 1595 OR age >= 65 OR
// disability grade 1–2; amount by age band 75/150/180/350/600 for
// 65–69/70–79/80–89/90–99/100+, 0 when not eligible.
//
//	cd bench && go run ./sidebyside --persons 25000000
package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/jackc/pgx/v5"
)

// data holds the generated facts as columns. The fact columns are float64
// like the batch plan's Columns; id is the person id.
type data struct {
	n     int
	id    []int64
	age   []float64
	pci   []float64 // household per-capita income, yuan per month
	grade []float64 // disability grade, 0 = none
}

// generate fills the columns with the same draws, in the same order, as
// benchColumns in internal/policy/plan_bench_test.go (PCG(seed, seed),
// seed 7 there): with --seed 7 the age, income and grade columns are the
// very values the plan benchmarks run on. The draws for the columns that
// the three rules do not read (hukou, members, head) are made and dropped.
func generate(n int, seed uint64) *data {
	d := &data{n: n, id: make([]int64, n), age: make([]float64, n), pci: make([]float64, n), grade: make([]float64, n)}
	grades := [42]float64{38: 1, 39: 2, 40: 3, 41: 4} // 38 of 42 have no disability
	r := rand.New(rand.NewPCG(seed, seed))
	for i := 0; i < n; i++ {
		d.id[i] = int64(i + 1)
		d.age[i] = float64(r.IntN(100))
		_ = r.IntN(10) // shanghai_hukou
		d.grade[i] = grades[r.IntN(42)]
		_ = r.IntN(4) // household members
		d.pci[i] = float64(r.IntN(9000))
		_ = r.IntN(5) // household head
	}
	return d
}

// handLoop is the loop of BenchmarkThreeRulesHandLoop, over rows [lo, hi).
func handLoop(d *data, elig []bool, amt []float64, lo, hi int) {
	age, grade, pci := d.age[lo:hi], d.grade[lo:hi], d.pci[lo:hi]
	el, am := elig[lo:hi], amt[lo:hi]
	for i := range age {
		a := age[i]
		el[i] = pci[i] < 1595 || a >= 65 || (grade[i] >= 1 && grade[i] <= 2)
		switch {
		case a >= 100:
			am[i] = 600
		case a >= 90:
			am[i] = 350
		case a >= 80:
			am[i] = 180
		case a >= 70:
			am[i] = 150
		case a >= 65:
			am[i] = 75
		default:
			am[i] = 0
		}
		if !el[i] {
			am[i] = 0
		}
	}
}

// handTotals computes only the totals, writing nothing per person: the
// in-memory counterpart of the SQL totals query.
func handTotals(d *data) (count int64, sum float64) {
	age, grade, pci := d.age, d.grade[:len(d.age)], d.pci[:len(d.age)]
	for i := range age {
		a := age[i]
		if pci[i] < 1595 || a >= 65 || (grade[i] >= 1 && grade[i] <= 2) {
			count++
			switch {
			case a >= 100:
				sum += 600
			case a >= 90:
				sum += 350
			case a >= 80:
				sum += 180
			case a >= 70:
				sum += 150
			case a >= 65:
				sum += 75
			}
		}
	}
	return count, sum
}

// handLoopParallel splits the hand loop over w goroutines.
func handLoopParallel(d *data, elig []bool, amt []float64, w int) {
	var wg sync.WaitGroup
	for k := 0; k < w; k++ {
		lo, hi := d.n*k/w, d.n*(k+1)/w
		wg.Go(func() { handLoop(d, elig, amt, lo, hi) })
	}
	wg.Wait()
}

func totalsOf(elig []bool, amt []float64) (count int64, sum float64) {
	for i, e := range elig {
		if e {
			count++
		}
		sum += amt[i]
	}
	return count, sum
}

// perPerson is the per-person result of the three rules in SQL, valid in
// DuckDB and PostgreSQL alike. amount is DOUBLE like the Go []float64.
const perPerson = `
SELECT id, eligible,
       CASE WHEN NOT eligible THEN 0
            WHEN age >= 100 THEN 600
            WHEN age >= 90 THEN 350
            WHEN age >= 80 THEN 180
            WHEN age >= 70 THEN 150
            WHEN age >= 65 THEN 75
            ELSE 0 END::DOUBLE PRECISION AS amount
FROM (SELECT id, age, (pci < 1595 OR age >= 65 OR (grade >= 1 AND grade <= 2)) AS eligible FROM persons) p`

const totalsSQL = `SELECT count(*) FILTER (WHERE eligible), sum(amount) FROM (` + perPerson + `) r`
const resultSQL = `CREATE TABLE result AS ` + perPerson

// row is one line of the results table.
type row struct {
	method string
	d      time.Duration
	base   bool   // counts against the hand loop
	note   string // how it was measured
	load   string // load average when the step ended
}

type report struct {
	rows []row
	hand time.Duration
}

func (r *report) add(method string, d time.Duration, base bool, note string) {
	r.rows = append(r.rows, row{method: method, d: d, base: base, note: note, load: loadavg()})
	logf("%-48s %10s  %s", method, fmtDur(d), note)
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func logf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, time.Now().Format("15:04:05 ")+format+"\n", a...)
}

func fmtDur(d time.Duration) string {
	switch {
	case d >= 10*time.Second:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	default:
		return fmt.Sprintf("%.0f ms", float64(d.Microseconds())/1000)
	}
}

// best runs f runs times and returns the fastest time and all of them.
func best(runs int, f func() error) (time.Duration, []time.Duration, error) {
	var all []time.Duration
	for range runs {
		t := time.Now()
		if err := f(); err != nil {
			return 0, all, err
		}
		all = append(all, time.Since(t))
	}
	return slices.Min(all), all, nil
}

func fmtAll(all []time.Duration) string {
	var s []string
	for _, d := range all {
		s = append(s, fmtDur(d))
	}
	return strings.Join(s, ", ")
}

// check compares a method's totals with the hand loop's.
func check(method string, wantN int64, wantSum float64, n int64, sum float64) error {
	if n != wantN || math.Abs(sum-wantSum) > 0.5 {
		return fmt.Errorf("%s: totals %d / %.0f, hand loop %d / %.0f", method, n, sum, wantN, wantSum)
	}
	return nil
}

func main() {
	persons := flag.Int("persons", 25_000_000, "number of synthetic persons")
	seed := flag.Uint64("seed", 7, "PRNG seed (7 = the values of the plan benchmarks' benchColumns)")
	runs := flag.Int("runs", 3, "runs of each in-memory and DuckDB measurement (the fastest is reported)")
	pgRuns := flag.Int("pg-runs", 2, "runs of each PostgreSQL measurement (the fastest is reported)")
	mainDir := flag.String("main", "..", "the main module's directory, for the plan benchmarks")
	pgURL := flag.String("pg", "postgres://postgres@127.0.0.1:5432/postgres", "PostgreSQL server; a throwaway database is made there and dropped")
	skipPlan := flag.Bool("skip-plan", false, "skip the batch plan benchmarks")
	skipDuck := flag.Bool("skip-duckdb", false, "skip DuckDB")
	skipPG := flag.Bool("skip-pg", false, "skip PostgreSQL")
	flag.Parse()
	if err := run(*persons, *seed, *runs, *pgRuns, *mainDir, *pgURL, *skipPlan, *skipDuck, *skipPG); err != nil {
		fmt.Fprintln(os.Stderr, "sidebyside:", err)
		os.Exit(1)
	}
}

func run(n int, seed uint64, runs, pgRuns int, mainDir, pgURL string, skipPlan, skipDuck, skipPG bool) error {
	ctx := context.Background()
	rep := &report{}
	startLoad := loadavg()
	logf("persons %d, seed %d, GOMAXPROCS %d, load average %s", n, seed, runtime.GOMAXPROCS(0), startLoad)

	t := time.Now()
	d := generate(n, seed)
	rep.add("generate columns (id, age, income, grade)", time.Since(t), false, "seeded PCG, same draws as benchColumns")

	// 2. The hand loop.
	elig, amt := make([]bool, n), make([]float64, n)
	handLoop(d, elig, amt, 0, n) // touch the output pages once
	hand, all, _ := best(runs, func() error { handLoop(d, elig, amt, 0, n); return nil })
	rep.hand = hand
	rep.add("Go hand loop, per-person slices (1 core)", hand, true, "best of "+fmtAll(all))
	wantN, wantSum := totalsOf(elig, amt)
	logf("totals: %d eligible, amount %.0f", wantN, wantSum)
	var tn int64
	var ts float64
	tt, all, _ := best(runs, func() error { tn, ts = handTotals(d); return nil })
	if err := check("hand totals", wantN, wantSum, tn, ts); err != nil {
		return err
	}
	rep.add("Go hand loop, totals only (1 core)", tt, true, "best of "+fmtAll(all))
	w := runtime.GOMAXPROCS(0)
	tp, all, _ := best(runs, func() error { handLoopParallel(d, elig, amt, w); return nil })
	if n2, s2 := totalsOf(elig, amt); n2 != wantN || s2 != wantSum {
		return fmt.Errorf("parallel hand loop disagrees")
	}
	rep.add(fmt.Sprintf("Go hand loop, per-person slices (%d goroutines)", w), tp, true, "best of "+fmtAll(all))
	elig, amt = nil, nil
	runtime.GC()

	// 3. The batch plan, through the main module's benchmarks.
	if !skipPlan {
		if err := runPlan(rep, n, runs, mainDir); err != nil {
			logf("batch plan: %v", err)
			rep.rows = append(rep.rows, row{method: "minzheng batch plan", note: "FAILED: " + firstLine(err.Error())})
		}
	}

	// 4. DuckDB.
	if !skipDuck {
		if err := runDuck(ctx, rep, d, runs, wantN, wantSum); err != nil {
			return fmt.Errorf("duckdb: %w", err)
		}
		runtime.GC()
	}

	// 5. PostgreSQL.
	if !skipPG {
		if err := runPG(ctx, rep, d, pgRuns, pgURL, wantN, wantSum); err != nil {
			return fmt.Errorf("postgresql: %w", err)
		}
	}

	printTables(rep, n, startLoad)
	return nil
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// benchLine matches a line of go test -bench output, e.g.
// "BenchmarkThreeRulesPlan-2   3   512345678 ns/op   20.49 ns/person".
var benchLine = regexp.MustCompile(`^Benchmark([\w/-]+?)(?:-\d+)?\s+(\d+)\s+([\d.]+) ns/op(?:\s+([\d.]+) ns/person)?`)

// runPlan measures minzheng's batch plan. The policy package is internal
// to the main module, which this module may not import (and the main
// module is not to be changed for it), so the plan runs in the main
// module's own benchmarks, in a child process: go test -bench with
// MINZHENG_BENCH_PERSONS=n. Those benchmarks build their columns with
// benchColumns, whose draws generate repeats, so the values are the same
// (with --seed 7) but the copy is the child's own, not this process's.
func runPlan(rep *report, n, runs int, mainDir string) error {
	dir, err := filepath.Abs(mainDir)
	if err != nil {
		return err
	}
	args := []string{"test", "-run", "^$", "-bench", "ThreeRules|AllProgrammes", "-benchtime", fmt.Sprintf("%dx", runs), "-count", "1", "./internal/policy"}
	logf("batch plan: (cd %s && MINZHENG_BENCH_PERSONS=%d go %s)", dir, n, strings.Join(args, " "))
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), fmt.Sprintf("MINZHENG_BENCH_PERSONS=%d", n))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	found := 0
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		m := benchLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		ns, _ := strconv.ParseFloat(m[3], 64)
		name := map[string]string{
			"ThreeRulesHandLoop":             "hand loop in go test (BenchmarkThreeRulesHandLoop)",
			"ThreeRulesPlan":                 "minzheng batch plan, three rules (BenchmarkThreeRulesPlan)",
			"AllProgrammesPlan/one-pass":     "minzheng batch plan, all programmes in one pass (BenchmarkAllProgrammesPlan/one-pass)",
			"AllProgrammesPlan/plan-by-plan": "minzheng batch plan, all programmes plan by plan (BenchmarkAllProgrammesPlan/plan-by-plan)",
		}[m[1]]
		if name == "" {
			continue
		}
		found++
		note := fmt.Sprintf("child go test, mean of %s runs", m[2])
		if m[4] != "" {
			note += ", " + m[4] + " ns/person"
		}
		rep.add(name, time.Duration(ns), true, note)
	}
	if err != nil || found == 0 {
		return fmt.Errorf("go test: %v\n%s", err, out.String())
	}
	return nil
}

func runDuck(ctx context.Context, rep *report, d *data, runs int, wantN int64, wantSum float64) error {
	connector, err := duckdb.NewConnector("", nil) // in memory, threads = cores
	if err != nil {
		return err
	}
	db := sql.OpenDB(connector)
	defer db.Close()
	conn, err := db.Conn(ctx) // one connection for the Appender and the queries
	if err != nil {
		return err
	}
	defer conn.Close()
	var version string
	var threads int64
	if err := conn.QueryRowContext(ctx, `SELECT version(), current_setting('threads')`).Scan(&version, &threads); err != nil {
		return err
	}
	logf("duckdb %s, threads %d", version, threads)
	if _, err := conn.ExecContext(ctx, `CREATE TABLE persons (id BIGINT, age INTEGER, pci DOUBLE, grade INTEGER)`); err != nil {
		return err
	}
	t := time.Now()
	err = conn.Raw(func(dc any) error {
		app, err := duckdb.NewAppenderFromConn(dc.(driver.Conn), "", "persons")
		if err != nil {
			return err
		}
		for i := 0; i < d.n; i++ {
			if err := app.AppendRow(d.id[i], int32(d.age[i]), d.pci[i], int32(d.grade[i])); err != nil {
				app.Close()
				return err
			}
		}
		return app.Close()
	})
	if err != nil {
		return err
	}
	rep.add("DuckDB load (Appender API)", time.Since(t), false, fmt.Sprintf("in-memory, DuckDB %s, %d threads", version, threads))

	var cnt int64
	var sum float64
	tt, all, err := best(runs, func() error { return conn.QueryRowContext(ctx, totalsSQL).Scan(&cnt, &sum) })
	if err != nil {
		return err
	}
	if err := check("duckdb totals", wantN, wantSum, cnt, sum); err != nil {
		return err
	}
	rep.add("DuckDB SQL, totals", tt, true, "best of "+fmtAll(all))

	tr, all, err := best(runs, func() error {
		if _, err := conn.ExecContext(ctx, `DROP TABLE IF EXISTS result`); err != nil {
			return err
		}
		_, err := conn.ExecContext(ctx, resultSQL)
		return err
	})
	if err != nil {
		return err
	}
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FILTER (WHERE eligible), sum(amount) FROM result`).Scan(&cnt, &sum); err != nil {
		return err
	}
	if err := check("duckdb result table", wantN, wantSum, cnt, sum); err != nil {
		return err
	}
	rep.add("DuckDB SQL, CREATE TABLE result AS (per person)", tr, true, "best of "+fmtAll(all)+" (each after a DROP, not timed; DROP is ~0)")
	return nil
}

// copySource feeds the columns to pgx's CopyFrom.
type copySource struct {
	d   *data
	i   int
	row []any
}

func (s *copySource) Next() bool { s.i++; return s.i <= s.d.n }
func (s *copySource) Values() ([]any, error) {
	i := s.i - 1
	s.row[0], s.row[1], s.row[2], s.row[3] = s.d.id[i], int32(s.d.age[i]), s.d.pci[i], int32(s.d.grade[i])
	return s.row, nil
}
func (s *copySource) Err() error { return nil }

func runPG(ctx context.Context, rep *report, d *data, runs int, url string, wantN int64, wantSum float64) error {
	admin, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer admin.Close(ctx)
	dbname := fmt.Sprintf("minzheng_sidebyside_%d", os.Getpid())
	if _, err := admin.Exec(ctx, `CREATE DATABASE `+dbname); err != nil {
		return err
	}
	defer func() {
		if _, err := admin.Exec(context.Background(), `DROP DATABASE IF EXISTS `+dbname+` WITH (FORCE)`); err != nil {
			logf("drop database %s: %v", dbname, err)
		}
	}()
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return err
	}
	cfg.Database = dbname
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `SET max_parallel_workers_per_gather = 2`); err != nil {
		return err
	}
	var version string
	if err := conn.QueryRow(ctx, `SHOW server_version`).Scan(&version); err != nil {
		return err
	}
	settings := []string{"shared_buffers", "work_mem", "max_worker_processes", "max_parallel_workers", "max_parallel_workers_per_gather", "synchronous_commit", "wal_level"}
	var sv []string
	for _, s := range settings {
		var v string
		if err := conn.QueryRow(ctx, `SELECT current_setting($1)`, s).Scan(&v); err != nil {
			return err
		}
		sv = append(sv, s+"="+v)
	}
	logf("postgresql %s; %s", version, strings.Join(sv, " "))
	if _, err := conn.Exec(ctx, `CREATE TABLE persons (id BIGINT, age INTEGER, pci DOUBLE PRECISION, grade INTEGER)`); err != nil {
		return err
	}
	t := time.Now()
	copied, err := conn.CopyFrom(ctx, pgx.Identifier{"persons"}, []string{"id", "age", "pci", "grade"}, &copySource{d: d, row: make([]any, 4)})
	if err != nil {
		return err
	}
	if copied != int64(d.n) {
		return fmt.Errorf("copied %d rows of %d", copied, d.n)
	}
	rep.add("PostgreSQL load (COPY via pgx)", time.Since(t), false, "PostgreSQL "+version+", logged table")
	t = time.Now()
	if _, err := conn.Exec(ctx, `ANALYZE persons`); err != nil {
		return err
	}
	rep.add("PostgreSQL ANALYZE", time.Since(t), false, "")

	var cnt int64
	var sum float64
	tt, all, err := best(runs, func() error { return conn.QueryRow(ctx, totalsSQL).Scan(&cnt, &sum) })
	if err != nil {
		return err
	}
	if err := check("postgresql totals", wantN, wantSum, cnt, sum); err != nil {
		return err
	}
	rep.add("PostgreSQL SQL, totals", tt, true, "best of "+fmtAll(all)+"; max_parallel_workers_per_gather=2")

	tr, all, err := best(runs, func() error {
		if _, err := conn.Exec(ctx, `DROP TABLE IF EXISTS result`); err != nil {
			return err
		}
		_, err := conn.Exec(ctx, resultSQL)
		return err
	})
	if err != nil {
		return err
	}
	if err := conn.QueryRow(ctx, `SELECT count(*) FILTER (WHERE eligible), sum(amount) FROM result`).Scan(&cnt, &sum); err != nil {
		return err
	}
	if err := check("postgresql result table", wantN, wantSum, cnt, sum); err != nil {
		return err
	}
	rep.add("PostgreSQL SQL, CREATE TABLE result AS (per person)", tr, true, "best of "+fmtAll(all)+"; logged table")
	return nil
}

func maxRSS() string {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return "?"
	}
	return fmt.Sprintf("%.1f GiB", float64(ru.Maxrss)/(1<<20)) // Linux: KiB
}

func printTables(rep *report, n int, startLoad string) {
	ratio := func(r row) string {
		if !r.base || r.d == 0 || rep.hand == 0 {
			return ""
		}
		return fmt.Sprintf("%.2f×", float64(r.d)/float64(rep.hand))
	}
	host := hostInfo()
	fmt.Printf("\n%d persons; %s; load average at start %s, at end %s; peak RSS of this process %s\n\n", n, host, startLoad, loadavg(), maxRSS())
	fmt.Printf("%-62s %10s %8s  %-16s %s\n", "method", "time", "vs hand", "load avg at end", "how")
	for _, r := range rep.rows {
		d := ""
		if r.d > 0 {
			d = fmtDur(r.d)
		}
		fmt.Printf("%-62s %10s %8s  %-16s %s\n", r.method, d, ratio(r), r.load, r.note)
	}
	fmt.Printf("\n### Side by side, %s persons\n\n", group(n))
	fmt.Printf("%s; load average at start %s, at end %s; peak RSS %s.\n\n", host, startLoad, loadavg(), maxRSS())
	fmt.Println("| method | time | × hand loop | load avg (1/5/15 min) at end | how |")
	fmt.Println("| --- | ---: | ---: | --- | --- |")
	for _, r := range rep.rows {
		d := ""
		if r.d > 0 {
			d = fmtDur(r.d)
		}
		fmt.Printf("| %s | %s | %s | %s | %s |\n", r.method, d, ratio(r), r.load, r.note)
	}
}

func group(n int) string {
	s := strconv.Itoa(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func hostInfo() string {
	model := "?"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	return fmt.Sprintf("%d cores (%s), %s", runtime.NumCPU(), model, runtime.Version())
}
