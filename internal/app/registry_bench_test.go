package app

// Benchmarks of the register's read paths on a generated city, each beside
// what a user would otherwise do: ID lookup through the keyed hash against a
// plaintext index and against decrypting every row; name search by prefix
// against a LIKE '%…%' scan; and the division counts. docs/BENCHMARKS.md
// has the commands and the results.
//
// The city (benchPersons persons, seed 1) is generated once and kept in a
// folder under os.TempDir() for later runs; set MINZHENG_TEST_POSTGRES to
// run the same benchmarks on PostgreSQL too.

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"minzheng/internal/auth"
	"minzheng/internal/db"
	"minzheng/internal/db/dbtest"
	"minzheng/internal/gen"
	"minzheng/internal/registry"
	"minzheng/internal/secret"
)

// benchSeed is the seed of the benchmark city.
const benchSeed = 1

// benchAsOf pins the generator's reference date (App.Generate uses a.Now()),
// so a cached city holds the same people whenever it was made.
var benchAsOf = gen.DefaultAsOf

// benchDistrict is the district of the district-level benchmarks: 浦东新区,
// the largest (about a fifth of the city).
const benchDistrict = "310115"

// The callers: the whole city, and a reviewer of benchDistrict.
var (
	benchCityWide = auth.Principal{Name: "bench-city", Role: auth.CityAdmin, Division: "310000", Remote: "bench"}
	benchReviewer = auth.Principal{Name: "bench-reviewer", Role: auth.Reviewer, Division: benchDistrict, Remote: "bench"}
)

// benchCompleteFile marks a cached city whose generation finished.
const benchCompleteFile = "BENCH-COMPLETE"

// benchCity is a generated city open for benchmarks, shared by every
// benchmark of the process and never closed.
type benchCity struct {
	app     *App
	persons int64
	maxID   int64

	mu      sync.Mutex
	samples map[string][]string // sampled ID numbers by principal
}

var benchCities = struct {
	sync.Mutex
	m map[string]*benchCity
}{m: map[string]*benchCity{}}

// forEachBackend runs fn as a sub-benchmark per database: "sqlite" always,
// "postgres" when MINZHENG_TEST_POSTGRES is set (skipped otherwise).
func forEachBackend(b *testing.B, fn func(b *testing.B, c *benchCity)) {
	for _, backend := range []string{"sqlite", "postgres"} {
		b.Run(backend, func(b *testing.B) { fn(b, openBenchCity(b, backend)) })
	}
}

// openBenchCity returns the benchmark city on backend, generating it on
// first use. A SQLite city lives in os.TempDir()/minzheng-bench-sqlite-pN-sS
// and is reused by later runs once benchCompleteFile is there; a PostgreSQL
// city is the database minzheng_bench_pN_sS on the MINZHENG_TEST_POSTGRES
// server, with its key in os.TempDir()/minzheng-bench-postgres-pN-sS.
func openBenchCity(b *testing.B, backend string) *benchCity {
	b.Helper()
	n := benchPersons()
	if backend == "postgres" && os.Getenv(dbtest.EnvPostgres) == "" {
		b.Skipf("PostgreSQL benchmarks skipped: set %s=postgres://postgres@127.0.0.1:5432/postgres to run them", dbtest.EnvPostgres)
	}
	benchCities.Lock()
	defer benchCities.Unlock()
	if c := benchCities.m[backend]; c != nil {
		return c
	}
	ctx := context.Background()
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("minzheng-bench-%s-p%d-s%d", backend, n, benchSeed))
	cfg := Config{DataDir: dir}
	dialect := db.SQLite
	if backend == "postgres" {
		dialect = db.Postgres
	}
	schema, err := benchSchema(dialect)
	if err != nil {
		b.Fatal(err)
	}
	complete := benchCacheValid(filepath.Join(dir, benchCompleteFile), schema)
	if backend == "postgres" {
		dsn, exists, err := benchPostgresDB(ctx, fmt.Sprintf("minzheng_bench_p%d_s%d", n, benchSeed), !complete)
		if err != nil {
			b.Fatal(err)
		}
		cfg.DB = dsn
		complete = complete && exists
	}
	if !complete {
		if err := os.RemoveAll(dir); err != nil {
			b.Fatal(err)
		}
	}
	// The city's key is the one in its folder, whatever the environment says.
	b.Setenv(secret.EnvKey, "")
	a, err := Open(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	if !complete {
		fmt.Fprintf(os.Stderr, "registry benchmarks: generating %d persons into %s (once; kept for later runs)\n", n, backend)
		a.Now = func() time.Time { return benchAsOf }
		st, err := a.Generate(ctx, n, benchSeed, io.Discard)
		if err != nil {
			b.Fatal(err)
		}
		fmt.Fprintf(os.Stderr, "registry benchmarks: generated %d persons in %.1f s (%.0f persons/s)\n", st.Persons, st.Seconds, st.PersonsPerSecond)
		if a.DB.Dialect == db.SQLite {
			if _, err := a.DB.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
				b.Fatal(err)
			}
		}
		marker := fmt.Sprintf("%d persons, seed %d, as of %s\n%s", st.Persons, benchSeed, benchAsOf.Format(time.DateOnly), schema)
		if err := os.WriteFile(filepath.Join(dir, benchCompleteFile), []byte(marker), 0o600); err != nil {
			b.Fatal(err)
		}
	}
	c := &benchCity{app: a, samples: map[string][]string{}}
	if err := a.DB.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(MAX(id), 0) FROM persons`).Scan(&c.persons, &c.maxID); err != nil {
		b.Fatal(err)
	}
	if err := c.ensurePlainIDs(ctx); err != nil {
		b.Fatal(err)
	}
	benchCities.m[backend] = c
	return c
}

// benchSchema lists the dialect's migrations with a hash of each, one a
// line, for the completion marker.
func benchSchema(d db.Dialect) (string, error) {
	var schema []fs.FS
	for _, m := range Declared() {
		if m.Migrations != nil {
			schema = append(schema, m.Migrations)
		}
	}
	ms, err := db.Migrations(d, schema...)
	if err != nil {
		return "", err
	}
	var sb strings.Builder
	for _, m := range ms {
		fmt.Fprintf(&sb, "migration %s %x\n", m.Name, sha256.Sum256([]byte(m.SQL)))
	}
	return sb.String(), nil
}

// benchCacheValid reports whether the completion marker at path exists and
// every migration it lists is unchanged. Migrations added since are fine
// (Open applies them); one edited in place means the cached city was built
// on another schema and must be made again.
func benchCacheValid(path, schema string) bool {
	b, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	recorded := 0
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "migration ") {
			if !strings.Contains(schema, line+"\n") {
				return false
			}
			recorded++
		}
	}
	return recorded > 0
}

// benchPostgresDB returns the URL of the benchmark database name on the
// MINZHENG_TEST_POSTGRES server and whether it existed; with fresh it is
// dropped and created empty.
func benchPostgresDB(ctx context.Context, name string, fresh bool) (dsn string, existed bool, err error) {
	base := os.Getenv(dbtest.EnvPostgres)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		return "", false, err
	}
	defer admin.Close()
	if err := admin.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&existed); err != nil {
		return "", false, fmt.Errorf("bench postgres: %w", err)
	}
	if fresh || !existed {
		if _, err := admin.ExecContext(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
			return "", false, fmt.Errorf("bench postgres: drop %s: %w", name, err)
		}
		if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+name); err != nil {
			return "", false, fmt.Errorf("bench postgres: create %s: %w", name, err)
		}
	}
	u, err := url.Parse(base)
	if err != nil {
		return "", false, err
	}
	u.Path = "/" + name
	return u.String(), existed, nil
}

// ensurePlainIDs adds the table a register without encryption would have:
// every person's ID number in clear under an ordinary unique index
// (bench_plain_ids, in the benchmark database only). It is filled by
// decrypting id_enc, in one transaction, so it is either complete or absent.
func (c *benchCity) ensurePlainIDs(ctx context.Context) error {
	d := c.app.DB
	q := `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'bench_plain_ids'`
	ddl := `CREATE TABLE bench_plain_ids (id_number TEXT PRIMARY KEY, id INTEGER NOT NULL) WITHOUT ROWID`
	if d.Dialect == db.Postgres {
		q = `SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'bench_plain_ids'`
		ddl = `CREATE TABLE bench_plain_ids (id_number TEXT PRIMARY KEY, id BIGINT NOT NULL)`
	}
	var n int
	if err := d.QueryRowContext(ctx, q).Scan(&n); err != nil || n > 0 {
		return err
	}
	type row struct {
		number string
		id     int64
	}
	all := make([]row, 0, c.persons)
	rows, err := d.QueryContext(ctx, `SELECT id, id_enc FROM persons`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var r row
		var enc []byte
		if err := rows.Scan(&r.id, &enc); err != nil {
			rows.Close()
			return err
		}
		plain, err := c.app.Suite.Open(enc)
		if err != nil {
			rows.Close()
			return fmt.Errorf("decrypt person %d: %w", r.id, err)
		}
		r.number = string(plain)
		all = append(all, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	// In key order the index is built by appending, as CREATE INDEX would.
	slices.SortFunc(all, func(x, y row) int { return strings.Compare(x.number, y.number) })
	return d.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, ddl); err != nil {
			return err
		}
		const per = 500
		args := make([]any, 0, 2*per)
		for start := 0; start < len(all); start += per {
			part := all[start:min(start+per, len(all))]
			var sb strings.Builder
			sb.WriteString(`INSERT INTO bench_plain_ids (id_number, id) VALUES `)
			args = args[:0]
			for i, r := range part {
				if i > 0 {
					sb.WriteString(", ")
				}
				fmt.Fprintf(&sb, "($%d, $%d)", 2*i+1, 2*i+2)
				args = append(args, r.number, r.id)
			}
			if _, err := tx.ExecContext(ctx, sb.String(), args...); err != nil {
				return fmt.Errorf("fill bench_plain_ids: %w", err)
			}
		}
		return nil
	})
}

// sample returns n ID numbers of random persons p may see, the same on
// every run: random person IDs are probed and their numbers decrypted.
// With outside, the persons are those p may not see.
func (c *benchCity) sample(b *testing.B, p auth.Principal, n int, outside bool) []string {
	b.Helper()
	key := fmt.Sprintf("%s/%v/%d", p.Division, outside, n)
	c.mu.Lock()
	defer c.mu.Unlock()
	if s := c.samples[key]; s != nil {
		return s
	}
	rng := rand.New(rand.NewPCG(benchSeed, uint64(n)))
	out := make([]string, 0, n)
	for probes := 0; len(out) < n; probes++ {
		if probes > 100*n {
			b.Fatalf("sample: only %d of %d persons found for %s", len(out), n, key)
		}
		var hukou, residence string
		var enc []byte
		err := c.app.DB.QueryRowContext(context.Background(), `SELECT hukou_division, residence_division, id_enc FROM persons WHERE id = $1`,
			1+rng.Int64N(c.maxID)).Scan(&hukou, &residence, &enc)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			b.Fatal(err)
		}
		if p.Scope().Covers(hukou, residence) == outside {
			continue
		}
		plain, err := c.app.Suite.Open(enc)
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, string(plain))
	}
	c.samples[key] = out
	return out
}

// timed runs op in a b.Loop and reports, besides ns/op, the 50th and 99th
// percentile of the operations' durations and the CPU time the process
// used per operation (cpu-ns/op, Linux only, when the run used enough CPU
// to measure). On a shared machine cpu-ns/op
// moves less with the load than the wall-clock figures; for SQLite it is
// all the work, for PostgreSQL only the client's share.
func timed(b *testing.B, op func(i int) error) {
	b.Helper()
	lat := make([]time.Duration, 0, 1024)
	cpu0, cpuOK := processCPU()
	i := 0
	for b.Loop() {
		start := time.Now()
		err := op(i)
		lat = append(lat, time.Since(start))
		if err != nil {
			b.Fatalf("operation %d: %v", i, err)
		}
		i++
	}
	// Below 20 ticks the figure would be mostly rounding.
	if cpu1, ok := processCPU(); ok && cpuOK && cpu1-cpu0 >= 200*time.Millisecond {
		b.ReportMetric(float64((cpu1-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(lat[min(len(lat)*99/100, len(lat)-1)].Nanoseconds()), "p99-ns")
}

// processCPU returns the user and system CPU time of the process so far,
// from /proc/self/stat, in clock ticks of 10 ms; false where there is no
// /proc.
func processCPU() (time.Duration, bool) {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0, false
	}
	// Fields after the command name, which is in parentheses: state is
	// field 3, utime and stime are fields 14 and 15.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0, false
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	const userHZ = 100 // sysconf(_SC_CLK_TCK) on Linux
	return time.Duration(utime+stime) * (time.Second / userHZ), true
}

// benchLookupSample is how many distinct ID numbers each lookup benchmark
// cycles through.
const benchLookupSample = 4096

// lookupCase is a caller with the numbers it looks up and how many
// persons each lookup must find.
type lookupCase struct {
	name    string
	p       auth.Principal
	outside bool // numbers of persons outside p's jurisdiction: found 0 times
}

var lookupCases = []lookupCase{
	{name: "city", p: benchCityWide},
	{name: "district", p: benchReviewer},
	{name: "district-outside", p: benchReviewer, outside: true},
}

func (lc lookupCase) want() int64 {
	if lc.outside {
		return 0
	}
	return 1
}

// BenchmarkLookupByID measures Registry.Search with a full ID number: the
// number's keyed hash found through the persons_id_hash index, with the
// jurisdiction filter, total count and first page, as the search box does.
func BenchmarkLookupByID(b *testing.B) {
	forEachBackend(b, func(b *testing.B, c *benchCity) {
		for _, lc := range lookupCases {
			b.Run(lc.name, func(b *testing.B) {
				numbers := c.sample(b, lc.p, benchLookupSample, lc.outside)
				ctx := context.Background()
				timed(b, func(i int) error {
					res, err := c.app.Registry.Search(ctx, lc.p, registry.Query{Q: numbers[i%len(numbers)]})
					if err != nil {
						return err
					}
					if res.Total != lc.want() {
						return fmt.Errorf("found %d persons, want %d", res.Total, lc.want())
					}
					return nil
				})
			})
		}
	})
}

// benchPersonCols are the columns Registry.Search reads.
const benchPersonCols = `p.id, p.household_id, p.relation, p.name, p.id_masked, p.birth_date, p.sex, p.hukou_division, p.residence_division,
	p.monthly_income, p.disability_category, p.disability_grade, p.death_date, p.lives_alone, p.created_at, p.updated_at`

// searchSQL runs the two queries of Registry.Search — the count, then the
// first page of 20 by name — with cond (using $3) in place of the search
// condition, so other ways of finding people are timed on the same terms.
func searchSQL(ctx context.Context, d *db.DB, p auth.Principal, cond string, arg any) (total int64, page int, err error) {
	lo, hi := p.Scope().Range()
	where := `((p.hukou_division >= $1 AND p.hukou_division < $2) OR (p.residence_division >= $1 AND p.residence_division < $2)) AND ` + cond
	if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM persons p WHERE `+where, lo, hi, arg).Scan(&total); err != nil {
		return 0, 0, err
	}
	rows, err := d.QueryContext(ctx, `SELECT `+benchPersonCols+` FROM persons p WHERE `+where+` ORDER BY p.name, p.id LIMIT 20 OFFSET 0`, lo, hi, arg)
	if err != nil {
		return 0, 0, err
	}
	defer rows.Close()
	for rows.Next() {
		var x registry.Person
		var rel, created, updated string
		var death sql.NullString
		var alone int
		if err := rows.Scan(&x.ID, &x.HouseholdID, &rel, &x.Name, &x.IDMasked, &x.BirthDate, &x.Sex, &x.HukouDivision, &x.ResidenceDivision,
			&x.MonthlyIncome, &x.DisabilityCategory, &x.DisabilityGrade, &death, &alone, &created, &updated); err != nil {
			return 0, 0, err
		}
		x.Relation, x.DeathDate, x.LivesAlone = registry.Relation(rel), death.String, alone != 0
		x.CreatedAt, x.UpdatedAt = db.ParseTime(created), db.ParseTime(updated)
		page++
	}
	return total, page, rows.Err()
}

// BenchmarkLookupByIDPlaintextIndex compares the keyed-hash lookup with the
// same lookup on a number stored in clear under an ordinary unique index
// (bench_plain_ids), both as the SQL of Registry.Search: "hmac" computes
// HMAC-SHA-256 of the number and finds it in persons_id_hash, "plaintext"
// finds the number itself. The difference is what encryption costs a lookup.
func BenchmarkLookupByIDPlaintextIndex(b *testing.B) {
	forEachBackend(b, func(b *testing.B, c *benchCity) {
		for _, lc := range lookupCases[:2] {
			for _, how := range []string{"hmac", "plaintext"} {
				b.Run(lc.name+"/"+how, func(b *testing.B) {
					numbers := c.sample(b, lc.p, benchLookupSample, lc.outside)
					ctx := context.Background()
					timed(b, func(i int) error {
						number := numbers[i%len(numbers)]
						var total int64
						var err error
						if how == "hmac" {
							total, _, err = searchSQL(ctx, c.app.DB, lc.p, `p.id_hash = $3`, c.app.Suite.Index(number))
						} else {
							total, _, err = searchSQL(ctx, c.app.DB, lc.p, `p.id = (SELECT x.id FROM bench_plain_ids x WHERE x.id_number = $3)`, number)
						}
						if err != nil {
							return err
						}
						if total != lc.want() {
							return fmt.Errorf("found %d persons, want %d", total, lc.want())
						}
						return nil
					})
				})
			}
		}
	})
}

// BenchmarkLookupByIDDecryptScan measures finding an ID number without a
// keyed hash: read the first rows persons, decrypt every id_enc and compare
// (every row, since the search also reports the total). It reports ns/row,
// which is also the milliseconds a city of a million persons would take.
func BenchmarkLookupByIDDecryptScan(b *testing.B) {
	forEachBackend(b, func(b *testing.B, c *benchCity) {
		for _, n := range []int64{10000, 100000} {
			if n > c.maxID {
				continue
			}
			b.Run(fmt.Sprintf("rows=%d", n), func(b *testing.B) {
				ctx := context.Background()
				var enc []byte
				if err := c.app.DB.QueryRowContext(ctx, `SELECT id_enc FROM persons WHERE id = $1`, n/2).Scan(&enc); err != nil {
					b.Fatal(err)
				}
				plain, err := c.app.Suite.Open(enc)
				if err != nil {
					b.Fatal(err)
				}
				target := string(plain)
				// No jurisdiction filter: it would only add to the time (and,
				// on SQLite, make the planner leave the rowid range).
				timed(b, func(int) error {
					rows, err := c.app.DB.QueryContext(ctx, `SELECT id, id_enc FROM persons WHERE id <= $1`, n)
					if err != nil {
						return err
					}
					defer rows.Close()
					found := 0
					for rows.Next() {
						var id int64
						if err := rows.Scan(&id, &enc); err != nil {
							return err
						}
						got, err := c.app.Suite.Open(enc)
						if err != nil {
							return err
						}
						if string(got) == target {
							found++
						}
					}
					if err := rows.Err(); err != nil {
						return err
					}
					if found != 1 {
						return fmt.Errorf("found %d persons, want 1", found)
					}
					return nil
				})
				perRow := float64(b.Elapsed().Nanoseconds()) / float64(b.N) / float64(n)
				// ns per row is also ms per million rows.
				b.ReportMetric(perRow, "ns/row")
			})
		}
	})
}

// BenchmarkSearchByName measures name search as Registry.Search does it — a
// prefix, as a range on the persons_name index — for a common surname (王)
// and for the most common full name with it, city-wide and as a district
// reviewer; "contains" is the same search written name LIKE '%…%', which no
// index serves. "empty" is the people page opened without a query: the
// first 20 of everyone in the jurisdiction, by name.
func BenchmarkSearchByName(b *testing.B) {
	forEachBackend(b, func(b *testing.B, c *benchCity) {
		ctx := context.Background()
		// The most common full name with the surname: the full-name search
		// with the most matches.
		var full string
		var nfull int
		lo, hi := db.PrefixRange("王")
		err := c.app.DB.QueryRowContext(ctx, `SELECT name, COUNT(*) FROM persons WHERE name >= $1 AND name < $2 GROUP BY name ORDER BY 2 DESC, 1 LIMIT 1`, lo, hi).Scan(&full, &nfull)
		if err != nil {
			b.Fatal(err)
		}
		fmt.Fprintf(os.Stderr, "registry benchmarks: full name searched: %s (%d persons city-wide)\n", full, nfull)
		for _, who := range []struct {
			name string
			p    auth.Principal
		}{{"city", benchCityWide}, {"district", benchReviewer}} {
			for _, q := range []struct{ name, q string }{{"surname", "王"}, {"fullname", full}, {"empty", ""}} {
				for _, how := range []string{"prefix", "contains"} {
					if q.q == "" && how == "contains" {
						continue
					}
					b.Run(who.name+"/"+q.name+"/"+how, func(b *testing.B) {
						var total int64
						timed(b, func(int) error {
							var page int
							var err error
							if how == "prefix" {
								var res registry.SearchResult
								res, err = c.app.Registry.Search(ctx, who.p, registry.Query{Q: q.q})
								total, page = res.Total, len(res.Items)
							} else {
								total, page, err = searchSQL(ctx, c.app.DB, who.p, `p.name LIKE $3`, "%"+q.q+"%")
							}
							if err == nil && (total == 0 || page == 0) {
								err = fmt.Errorf("search %q found nothing", q.q)
							}
							return err
						})
						b.ReportMetric(float64(total), "matches")
					})
				}
			}
		}
	})
}

// BenchmarkDivisionCounts measures the division page: division.Service.Node
// counts the living persons and the households of each child division with
// a GROUP BY over the hukou_division indexes, for the whole city (its 16
// districts) and for one district (its streets).
func BenchmarkDivisionCounts(b *testing.B) {
	forEachBackend(b, func(b *testing.B, c *benchCity) {
		for _, code := range []string{"310000", benchDistrict} {
			b.Run(code, func(b *testing.B) {
				ctx := context.Background()
				var persons int64
				timed(b, func(int) error {
					n, err := c.app.Divisions.Node(ctx, auth.System(), code)
					persons = n.Persons
					return err
				})
				b.ReportMetric(float64(persons), "persons")
			})
		}
	})
}
