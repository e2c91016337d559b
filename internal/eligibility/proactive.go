package eligibility

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"strconv"
	"sync"
	"time"

	"minzheng/internal/audit"
	"minzheng/internal/auth"
	"minzheng/internal/db"
	"minzheng/internal/errs"
	"minzheng/internal/events"
	"minzheng/internal/jobs"
	"minzheng/internal/policy"
	"minzheng/internal/registry"
)

// Proactive runs the proactive grant (免申即享): every programme for the
// whole register as of a date, compared with current entitlements. Only
// changes are written — grants, stops, amount changes — each as a decision
// with its explanation, the policy version and a hash of its inputs, with a
// notice to the person. A second run on unchanged data changes nothing.
type Proactive struct {
	DB       *db.DB
	Registry *registry.Service
	Policies *policy.Set
	Audit    *audit.Log
	Leases   *jobs.Leases // RunExclusive's lease
	Now      func() time.Time
}

// Job is the name of the proactive grant's lease.
const Job = "proactive"

// RunExclusive runs the proactive grant under its lease, so that it never
// runs twice at once across processes (the CLI, the console button and the
// daily schedule take the same lease).
func (p *Proactive) RunExclusive(ctx context.Context, by auth.Principal, on time.Time, progress io.Writer) (RunStats, error) {
	if _, err := p.Leases.Acquire(ctx, Job, 6*time.Hour); errors.Is(err, jobs.ErrHeld) {
		return RunStats{}, errs.E(errs.Conflict, "免申即享正在另一进程中运行，请稍后再试")
	} else if err != nil {
		return RunStats{}, err
	}
	defer p.Leases.Release(context.WithoutCancel(ctx), Job, "")
	return p.Run(ctx, by, on, progress)
}

// Redecide is the outbox handler that re-decides the household of an
// event's person today (a death stops its entitlements); a person no longer
// registered is skipped.
func (p *Proactive) Redecide(ctx context.Context, e events.Event) error {
	if err := p.RedecidePerson(ctx, e.SubjectID); !errs.IsNotFound(err) {
		return err
	}
	return nil
}

// RedecidePerson re-decides the household of a person as of today, as the
// system (the incremental path of the proactive grant: a change of income,
// disability or death).
func (p *Proactive) RedecidePerson(ctx context.Context, personID int64) error {
	now := p.Now()
	_, err := p.Household(ctx, auth.System(), personID, time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC))
	return err
}

// RunStats reports a proactive run; the CLI prints it as JSON.
type RunStats struct {
	Run          int64   `json:"run"`
	AsOf         string  `json:"as_of"`
	Persons      int     `json:"persons"`
	Households   int     `json:"households"`
	Grants       int     `json:"grants"`
	Stops        int     `json:"stops"`
	Changes      int     `json:"changes"`
	BackPayments int     `json:"back_payments"`      // monthly back-payment lines written
	BackPayTotal float64 `json:"back_payment_total"` // yuan
	Seconds      float64 `json:"seconds"`
}

// readSlice is how many household IDs one read query of a run covers.
const readSlice = 50000

// batchPersons is how many persons a run evaluates and writes at a time.
const batchPersons = 20000

type row struct {
	person, household int64
	head              bool
	facts             policy.Facts
	death             string
	district          string // 6-digit district of the 户籍地 (else of the residence)
}

// batch is a run of whole households read and derived together.
type batch struct {
	rows       []row
	households int
	stale      []int64             // households whose stored facts are to be written again
	current    map[key]entitlement // their entitlements, when the caller's prepare loaded them
}

type entitlement struct {
	id     int64
	status string
	fen    int64
	// applied: decided on an application (社会救助申请, proactive = 0).
	// Such an entitlement rests on verified income and property the
	// register does not hold; only the application chain and its annual
	// re-check change it, never the proactive run.
	applied bool
}

type runner struct {
	p        *Proactive
	ctx      context.Context
	on       time.Time
	plans    []*policy.Plan
	fields   []string
	run      int64
	prevAsOf time.Time // the date of the last finished run; zero for none
	stats    RunStats
	by       auth.Principal // who runs it, for RefreshFacts
	now      string
}

// MayRun returns the error Run gives by when by may not run the proactive
// grant (a city-wide administrator may), for its console and navigation.
func MayRun(by auth.Principal) error {
	if !by.Scope().CityWide() || !by.Can(auth.SystemOperate) {
		return errs.E(errs.Forbidden, "只有全市范围的市管理员可以运行免申即享")
	}
	return nil
}

// Run evaluates everyone as of on, acting as by (a city-wide account).
func (p *Proactive) Run(ctx context.Context, by auth.Principal, on time.Time, progress io.Writer) (RunStats, error) {
	if err := MayRun(by); err != nil {
		return RunStats{}, err
	}
	start := time.Now()
	r, err := p.newRunner(ctx, on)
	if err != nil {
		return RunStats{}, err
	}
	if err := p.DB.QueryRowContext(ctx, `INSERT INTO proactive_runs (as_of, started_at, actor) VALUES ($1, $2, $3) RETURNING id`,
		r.stats.AsOf, r.now, by.Name).Scan(&r.run); err != nil {
		return RunStats{}, fmt.Errorf("proactive: start run: %w", err)
	}
	r.stats.Run = r.run
	var total int64
	p.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM persons`).Scan(&total)
	last := time.Now()
	// Each reader loads its batch's current entitlements itself, so that
	// this goroutine, which evaluates and writes, does not wait for them.
	load := func(b *batch) error {
		var err error
		b.current, err = r.current(b.rows[0].household, b.rows[len(b.rows)-1].household)
		return err
	}
	r.by = by
	err = streamRows(ctx, p.Registry, by, on, batchPersons, load, func(b *batch) error {
		r.stats.Households += b.households
		if err := r.flush(b); err != nil {
			return err
		}
		if time.Since(last) > 500*time.Millisecond {
			last = time.Now()
			fmt.Fprintf(progress, "\r免申即享：%s [%d/%d 人] 新增 %d 停发 %d 变更 %d   ", jobs.Bar(int64(r.stats.Persons), total), r.stats.Persons, total, r.stats.Grants, r.stats.Stops, r.stats.Changes)
		}
		return nil
	})
	if err != nil {
		return r.stats, err
	}
	r.stats.Seconds = time.Since(start).Seconds()
	if _, err := p.DB.ExecContext(ctx, `UPDATE proactive_runs SET finished_at = $1, persons = $2, grants = $3, stops = $4, changes = $5 WHERE id = $6`,
		db.Now(p.Now()), r.stats.Persons, r.stats.Grants, r.stats.Stops, r.stats.Changes, r.run); err != nil {
		return r.stats, err
	}
	fmt.Fprintf(progress, "\r免申即享完成：%s [%d 人] 新增 %d 停发 %d 变更 %d，用时 %.1f 秒\n", jobs.Bar(1, 1), r.stats.Persons, r.stats.Grants, r.stats.Stops, r.stats.Changes, r.stats.Seconds)
	err = p.Audit.Record(ctx, audit.Entry{Actor: by.Name, Role: string(by.Role), Action: "proactive.run", Entity: "proactive_run", EntityID: fmt.Sprint(r.run),
		Detail: fmt.Sprintf("免申即享（截至 %s）：%d 人，新增 %d、停发 %d、变更 %d", r.stats.AsOf, r.stats.Persons, r.stats.Grants, r.stats.Stops, r.stats.Changes), Remote: by.Remote})
	return r.stats, err
}

func fen(yuan float64) int64 { return int64(math.Round(yuan * 100)) }

// readers is how many goroutines read and derive the register at once,
// each a share of the household IDs (SQLite's WAL and PostgreSQL both
// serve concurrent readers).
var readers = max(1, runtime.GOMAXPROCS(0))

// streamRows reads the whole register household by household, derives each
// person's facts as of on, and hands them to fn in batches of about size
// persons (whole households, consecutive IDs), with the number of
// households in the batch and those whose stored facts were stale.
// Reading and deriving run on their own goroutines, ahead of fn, so they
// use every core; fn runs on the caller's goroutine, one batch at a time,
// in no set order between readers.
//
// prepare, when not nil, runs on the reader's goroutine for each batch
// before it is handed on.
func streamRows(ctx context.Context, reg *registry.Service, by auth.Principal, on time.Time, size int, prepare, fn func(b *batch) error) error {
	first, last, err := reg.HouseholdIDRange(ctx)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan *batch, readers)
	errc := make(chan error, readers)
	span := (last-first)/int64(readers) + 1
	var wg sync.WaitGroup
	for w := 0; w < readers; w++ {
		lo := first + int64(w)*span
		hi := min(lo+span-1, last)
		wg.Add(1)
		go func() {
			defer wg.Done()
			rows := make([]row, 0, size+8)
			households := 0
			var stale []int64
			var sendErr error
			send := func() bool {
				b := &batch{rows: rows, households: households, stale: stale}
				if prepare != nil {
					if err := prepare(b); err != nil {
						sendErr = err
						return false
					}
				}
				select {
				case batches <- b:
					rows, households, stale = make([]row, 0, size+8), 0, nil
					return true
				case <-ctx.Done():
					return false
				}
			}
			each := func(hid int64, members []registry.Person, isStale bool) error {
				households++
				if isStale {
					stale = append(stale, hid)
				}
				rows = appendHousehold(rows, hid, members, on)
				if len(rows) >= size && !send() {
					if sendErr != nil {
						return sendErr
					}
					return ctx.Err()
				}
				return nil
			}
			// One query per slice of households, each its own short read
			// transaction: a reader holding one snapshot for the whole run
			// would stop SQLite from checkpointing the run's writes, and
			// its WAL would grow to the size of everything written.
			var err error
			for from := lo; from <= hi && err == nil; from += readSlice {
				err = reg.StreamHouseholdRange(ctx, by, from, min(from+readSlice-1, hi), each)
			}
			if err == nil && len(rows) > 0 {
				send()
			}
			if err == nil {
				err = sendErr
			}
			errc <- err
		}()
	}
	go func() { wg.Wait(); close(batches) }()
	var failed error
	for b := range batches {
		if failed != nil {
			continue // drain so the readers can finish
		}
		if err := fn(b); err != nil {
			failed = err
			cancel()
		}
	}
	for i := 0; i < readers; i++ {
		if err := <-errc; err != nil && failed == nil && !errors.Is(err, context.Canceled) {
			failed = err
		}
	}
	return failed
}

// flush evaluates a batch with the plans and writes the differences with
// the current entitlements, and the batch's stale facts records, in one
// transaction.
func (r *runner) flush(b *batch) error {
	rows := b.rows
	n := len(rows)
	if n == 0 {
		return nil
	}
	cols, err := policy.NewColumns(n, r.fields)
	if err != nil {
		return err
	}
	for i := range rows {
		cols.Set(i, &rows[i].facts, rows[i].head)
	}
	current := b.current
	if current == nil {
		var err error
		if current, err = r.current(rows[0].household, rows[n-1].household); err != nil {
			return err
		}
	}
	eligibleOf, amountOf := make([][]bool, len(r.plans)), make([][]float64, len(r.plans))
	for j := range r.plans {
		eligibleOf[j], amountOf[j] = make([]bool, n), make([]float64, n)
	}
	policy.RunAll(r.plans, cols, eligibleOf, amountOf)
	type change struct {
		plan *policy.Plan
		row  *row
		kind string
		old  entitlement
		fen  int64
	}
	var changes []change
	for j, pl := range r.plans {
		eligible, amount := eligibleOf[j], amountOf[j]
		household := pl.Policy.Entity == "household"
		for i := range rows {
			if household && !rows[i].head {
				continue
			}
			cur, has := current[key{pl.Policy.ID, rows[i].person}]
			if has && cur.applied {
				continue // decided on an application: its chain owns it
			}
			active := has && cur.status == "active"
			f := fen(amount[i])
			switch {
			case eligible[i] && !active:
				changes = append(changes, change{pl, &rows[i], "grant", cur, f})
			case eligible[i] && active && cur.fen != f:
				changes = append(changes, change{pl, &rows[i], "change", cur, f})
			case !eligible[i] && active:
				changes = append(changes, change{pl, &rows[i], "stop", cur, 0})
			}
		}
	}
	r.stats.Persons += n
	if len(changes) == 0 && len(b.stale) == 0 {
		return nil
	}
	// The explanations (the interpreted, explained evaluation, its JSON and
	// the inputs' hash) are made on every core before the transaction:
	// in a run with many changes they cost more than the writes.
	type explained struct {
		res  *policy.Result
		expl string
		hash string
	}
	ex := make([]explained, len(changes))
	err = parallel(len(changes), func(i int) error {
		c := changes[i]
		res, err := r.p.Policies.EvaluateFacts(c.plan.Policy.ID, c.row.facts, r.on, nil)
		if err != nil {
			return err
		}
		res.Subject = strconv.FormatInt(c.row.person, 10)
		b, _ := json.Marshal(res)
		ex[i] = explained{res, string(b), inputsHash(c.row.facts, res)}
		return nil
	})
	if err != nil {
		return err
	}
	return r.p.DB.Tx(r.ctx, func(sqlTx *sql.Tx) error {
		if err := r.p.Registry.RefreshFacts(r.ctx, sqlTx, r.by, b.stale); err != nil {
			return err
		}
		tx := r.p.DB.Stmts(r.ctx, sqlTx)
		defer tx.Close()
		// Decisions, new entitlements and notices go in as multi-row
		// INSERTs with their decision IDs reserved first; a run that
		// grants to a whole city writes millions of them.
		ids, err := db.ReserveIDs(r.ctx, sqlTx, r.p.DB.Dialect, "decisions", len(changes))
		if err != nil {
			return err
		}
		decisions := make([][]any, 0, len(changes))
		var granted, notices [][]any
		for i, c := range changes {
			res, did := ex[i].res, ids[i]
			var until any
			var text string
			switch c.kind {
			case "grant":
				r.stats.Grants++
				text = fmt.Sprintf("您已符合%s条件，自 %s 起每月发放 %s 元，无需申请（免申即享）。", res.Name, r.stats.AsOf, policy.Yuan(res.MonthlyAmount))
				if c.old.id == 0 {
					granted = append(granted, []any{res.Program, c.row.person, c.row.household, "active", c.fen, r.stats.AsOf, 1, did, r.now})
				} else {
					_, err = tx.Exec(`UPDATE entitlements SET status = 'active', monthly_fen = $1, since = $2, until = NULL, proactive = 1, decision_id = $3, updated_at = $4 WHERE id = $5`,
						c.fen, r.stats.AsOf, did, r.now, c.old.id)
				}
			case "change":
				r.stats.Changes++
				text = fmt.Sprintf("您的%s自 %s 起调整为每月 %s 元。", res.Name, r.stats.AsOf, policy.Yuan(res.MonthlyAmount))
				_, err = tx.Exec(`UPDATE entitlements SET monthly_fen = $1, decision_id = $2, updated_at = $3 WHERE id = $4`, c.fen, did, r.now, c.old.id)
			case "stop":
				r.stats.Stops++
				stop := r.stats.AsOf
				if c.row.death != "" {
					stop = c.row.death
				}
				// The decision carries the stop date: the payroll recovers
				// months paid beyond it (追缴).
				until = stop
				text = fmt.Sprintf("您的%s自 %s 起停止发放，原因见决定书。", res.Name, stop)
				_, err = tx.Exec(`UPDATE entitlements SET status = 'stopped', until = $1, decision_id = $2, updated_at = $3 WHERE id = $4`, stop, did, r.now, c.old.id)
			}
			if err != nil {
				return fmt.Errorf("proactive: entitlement: %w", err)
			}
			decisions = append(decisions, []any{did, r.run, res.Program, c.row.person, c.row.household, c.kind, r.stats.AsOf, c.old.fen, c.fen,
				res.Version, ex[i].hash, ex[i].expl, r.now, until})
			if c.kind != "stop" {
				if err := r.backPay(tx, c.plan.Policy.ID, c.row, res, c.old, did); err != nil {
					return err
				}
			}
			if c.kind == "stop" && c.row.death != "" {
				continue // no notice to a dead person
			}
			notices = append(notices, []any{c.row.person, did, text, r.now})
		}
		d := r.p.DB.Dialect
		if err := db.InsertRows(r.ctx, sqlTx, d, "decisions", decisionCols, decisions); err != nil {
			return fmt.Errorf("proactive: decisions: %w", err)
		}
		if err := db.InsertRows(r.ctx, sqlTx, d, "entitlements", grantCols, granted); err != nil {
			return fmt.Errorf("proactive: entitlements: %w", err)
		}
		if err := db.InsertRows(r.ctx, sqlTx, d, "notices", noticeCols, notices); err != nil {
			return fmt.Errorf("proactive: notices: %w", err)
		}
		return nil
	})
}

var (
	decisionCols = []string{"id", "run_id", "program", "person_id", "household_id", "kind", "as_of", "fen_before", "fen_after",
		"policy_version", "inputs_hash", "explanation", "created_at", "until"}
	grantCols  = []string{"program", "person_id", "household_id", "status", "monthly_fen", "since", "proactive", "decision_id", "updated_at"}
	noticeCols = []string{"person_id", "decision_id", "text", "created_at"}
)

type key struct {
	program string
	person  int64
}

// current loads the entitlements of the households in [lo, hi].
func (r *runner) current(lo, hi int64) (map[key]entitlement, error) {
	rows, err := r.p.DB.QueryContext(r.ctx, `SELECT id, program, person_id, status, monthly_fen, proactive FROM entitlements WHERE household_id >= $1 AND household_id <= $2`, lo, hi)
	if err != nil {
		return nil, fmt.Errorf("proactive: load entitlements: %w", err)
	}
	defer rows.Close()
	out := map[key]entitlement{}
	for rows.Next() {
		var e entitlement
		var k key
		var proactive int
		if err := rows.Scan(&e.id, &k.program, &k.person, &e.status, &e.fen, &proactive); err != nil {
			return nil, err
		}
		e.applied = proactive == 0
		out[k] = e
	}
	return out, rows.Err()
}

// inputsHash fingerprints what a decision rests on: the facts and the
// parameter values, so the decision can be reproduced and checked.
func inputsHash(f policy.Facts, r *policy.Result) string {
	b, _ := json.Marshal(struct {
		Facts  policy.Facts
		Params []policy.UsedValue
		Ver    string
	}{f, r.Parameters, r.Version})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Household re-evaluates every programme for the household of one person
// as of on and writes the changes, as a run of one household would: the
// incremental path after a person's facts change.
func (p *Proactive) Household(ctx context.Context, by auth.Principal, personID int64, on time.Time) (RunStats, error) {
	start := time.Now()
	_, members, err := p.Registry.Household(ctx, by, personID, "事实变化后重新计算待遇")
	if err != nil {
		return RunStats{}, err
	}
	r, err := p.newRunner(ctx, on)
	if err != nil {
		return RunStats{}, err
	}
	r.stats.Households = 1
	if err := r.flush(&batch{rows: appendHousehold(nil, members[0].HouseholdID, members, on), households: 1}); err != nil {
		return r.stats, err
	}
	r.stats.Seconds = time.Since(start).Seconds()
	return r.stats, nil
}

// backPay writes back payments (补发) for a grant or a raise that follows
// from a parameter value that took effect after the previous run's date
// but before the month of this run: for every month from that effective
// date to the month before the run, the amount due under the rules of that
// month minus what was paid then (the old amount, or nothing). The first
// run is not retroactive. Facts are taken as they are now: the register
// keeps no monthly history of them yet.
func (r *runner) backPay(tx *db.Stmts, program string, rw *row, res *policy.Result, old entitlement, decision int64) error {
	runMonth := time.Date(r.on.Year(), r.on.Month(), 1, 0, 0, 0, 0, time.UTC)
	if r.prevAsOf.IsZero() {
		return nil
	}
	var from time.Time
	for _, u := range res.Parameters {
		t, err := time.Parse(time.DateOnly, u.From)
		if err == nil && t.After(r.prevAsOf) && t.Before(runMonth) && (from.IsZero() || t.Before(from)) {
			from = t
		}
	}
	if from.IsZero() {
		return nil
	}
	paid := int64(0)
	if old.status == "active" {
		paid = old.fen
	}
	for m := time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, time.UTC); m.Before(runMonth); m = m.AddDate(0, 1, 0) {
		day := m
		if day.Before(from) {
			day = from
		}
		due, err := r.p.Policies.EvaluateFacts(program, rw.facts, day, nil)
		if err != nil || !due.Eligible {
			continue
		}
		diff := fen(due.MonthlyAmount) - paid
		if diff <= 0 {
			continue
		}
		if _, err := tx.Exec(`INSERT INTO back_payments (decision_id, program, person_id, month, fen, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
			decision, program, rw.person, m.Format("2006-01"), diff, r.now); err != nil {
			return fmt.Errorf("proactive: back payment: %w", err)
		}
		r.stats.BackPayments++
		r.stats.BackPayTotal += float64(diff) / 100
	}
	return nil
}

// parallel calls fn(0) … fn(n-1) on every core and returns the first error.
func parallel(n int, fn func(i int) error) error {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		for i := 0; i < n; i++ {
			if err := fn(i); err != nil {
				return err
			}
		}
		return nil
	}
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				if err := fn(i); err != nil {
					errs[w] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// lastRun returns the date of the last finished run, or zero.
func (p *Proactive) lastRun(ctx context.Context) time.Time {
	var s string
	p.DB.QueryRowContext(ctx, `SELECT as_of FROM proactive_runs WHERE finished_at IS NOT NULL ORDER BY id DESC LIMIT 1`).Scan(&s)
	t, _ := time.Parse(time.DateOnly, s)
	return t
}

// newRunner compiles every programme's plan for the date and collects the
// facts they read.
func (p *Proactive) newRunner(ctx context.Context, on time.Time) (*runner, error) {
	r := &runner{p: p, ctx: ctx, on: on, now: db.Now(p.Now()), prevAsOf: p.lastRun(ctx)}
	r.stats.AsOf = on.Format(time.DateOnly)
	seen := map[string]bool{}
	for _, id := range p.Policies.IDs() {
		pl, err := p.Policies.Plan(id, on, nil)
		if err != nil {
			return nil, errs.E(errs.Invalid, "项目 %s 无法按 %s 计算：%v", id, r.stats.AsOf, err)
		}
		r.plans = append(r.plans, pl)
		for _, f := range pl.Fields() {
			if !seen[f] {
				seen[f] = true
				r.fields = append(r.fields, f)
			}
		}
	}
	return r, nil
}

// appendHousehold derives the facts of every member of a household as of
// on and appends one row per member. The head is the member recorded as
// head, else the first.
func appendHousehold(rows []row, hid int64, members []registry.Person, on time.Time) []row {
	head := members[0].ID
	for _, m := range members {
		if m.Relation == registry.Head {
			head = m.ID
			break
		}
	}
	c := CaseOf(members[0], members)
	for i, f := range c.DeriveAll(on) {
		m := members[i]
		district := m.HukouDivision
		if district == "" {
			district = m.ResidenceDivision
		}
		if len(district) > 6 {
			district = district[:6]
		}
		rows = append(rows, row{person: m.ID, household: hid, head: m.ID == head, facts: f, death: m.DeathDate, district: district})
	}
	return rows
}
