package monitor

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"minzheng/internal/db"
	"minzheng/internal/eligibility"
	"minzheng/internal/events"
)

// subject is a person the rules look at, with what they need.
type subject struct {
	person    int64
	household int64
	residence string
	env       Env
}

// subjectsPerLoad is how many persons evaluate loads at a time (a
// variable so that tests can make it small).
var subjectsPerLoad = chunk

// given is what the caller of evaluate has read already.
type given struct {
	meters  map[int64]MeterEnv // by person: the meter state, for the water rules
	medical map[int64]float64  // by household: medical spending in the MedicalMonths window (medicalWindow)
}

// evaluate runs the feed's rules for the people touched and raises a
// warning (and its task) for every rule that matches, unless the same rule
// warned about the household within its suppression window. It returns
// the number of warnings raised.
func (s *Service) evaluate(ctx context.Context, tx *sql.Tx, feed FeedType, touched []match, batch int64, now time.Time, g given) (int, error) {
	rules, err := s.compiledRules(ctx, tx, feed)
	if err != nil || len(rules) == 0 || len(touched) == 0 {
		return 0, err
	}
	maxSuppress := 0
	for _, r := range rules {
		maxSuppress = max(maxSuppress, r.SuppressDays)
	}
	// When every rule watches recipients only, households without an
	// active entitlement are dropped before anything else is read.
	recipientsOnly := true
	for _, r := range rules {
		recipientsOnly = recipientsOnly && (r.Population == Recipients || r.Population == DibaoEdge)
	}
	seen := map[int64]bool{}
	var persons []int64
	// The entitlements of the households, when read to drop those without.
	var programs map[int64]HouseholdEnv
	if recipientsOnly && touched[0].household != 0 {
		programs = map[int64]HouseholdEnv{}
	}
	for start := 0; start < len(touched); start += chunk {
		part := touched[start:min(start+chunk, len(touched))]
		if programs != nil {
			if err := s.householdPrograms(ctx, tx, part, programs); err != nil {
				return 0, err
			}
		}
		for _, m := range part {
			if seen[m.person] {
				continue
			}
			if _, ok := programs[m.household]; programs == nil || ok {
				seen[m.person] = true
				persons = append(persons, m.person)
			}
		}
	}
	standard := 0.0
	if s.DibaoStandard != nil {
		standard = s.DibaoStandard(now)
	}
	r := &raiser{s: s, ctx: ctx, tx: tx, now: now, batch: batch}
	codes := make([]string, 0, len(rules))
	for _, rule := range rules {
		codes = append(codes, rule.Code)
	}
	raised := 0
	// The warnings of this evaluation are written at its end, so the
	// suppression window knows them from here until then.
	raisedNow := map[warnKey]bool{}
	for start := 0; start < len(persons); start += subjectsPerLoad {
		subs, err := s.subjects(ctx, tx, persons[start:min(start+subjectsPerLoad, len(persons))], feed, now, programs, g.medical)
		if err != nil {
			return raised, err
		}
		hh := make([]int64, 0, len(subs))
		for _, sb := range subs {
			hh = append(hh, sb.household)
		}
		recent, err := recentWarnings(ctx, s.DB.Dialect, tx, codes, hh, now.AddDate(0, 0, -maxSuppress))
		if err != nil {
			return raised, err
		}
		for _, sb := range subs {
			sb.env.Feed = string(feed)
			sb.env.DibaoStandard = standard
			if m, ok := g.meters[sb.person]; ok {
				sb.env.Meter = m
			}
			for _, rule := range rules {
				if !inPopulation(rule.Population, &sb.env) {
					continue
				}
				key := warnKey{rule.Code, sb.household}
				if last, ok := recent[key]; raisedNow[key] && rule.SuppressDays > 0 || ok && now.Sub(last) < time.Duration(rule.SuppressDays)*24*time.Hour {
					continue
				}
				ok, err := rule.match(&sb.env)
				if err != nil {
					return raised, err
				}
				if !ok {
					continue
				}
				r.raise(rule, sb)
				raisedNow[key] = true
				raised++
			}
		}
	}
	return raised, r.flush()
}

// householdPrograms adds to out the households of the matches that hold
// an active entitlement, with which.
func (s *Service) householdPrograms(ctx context.Context, tx *sql.Tx, ms []match, out map[int64]HouseholdEnv) error {
	var hs []int64
	for i, m := range ms {
		if i == 0 || m.household != ms[i-1].household {
			hs = append(hs, m.household)
		}
	}
	return eligibility.ActivePrograms(ctx, tx, s.DB.Dialect, hs, func(id int64, prog string) {
		h := out[id]
		h.addProgram(prog)
		out[id] = h
	})
}

// addProgram marks the household as holding an active entitlement of prog.
func (h *HouseholdEnv) addProgram(prog string) {
	h.Recipient = true
	switch prog {
	case "dibao":
		h.Dibao = true
	case "dibao_edge":
		h.Edge = true
	}
}

// medicalWindow is the span of bill dates that medical spending sums:
// the last MedicalMonths months up to today in Shanghai.
func medicalWindow(now time.Time) (from, to string) {
	today := now.In(shanghai)
	return today.AddDate(0, -MedicalMonths, 0).Format(time.DateOnly), today.Format(time.DateOnly)
}

func inPopulation(p Population, e *Env) bool {
	switch p {
	case Recipients:
		return e.Household.Recipient
	case DibaoEdge:
		return e.Household.Dibao || e.Household.Edge
	case EldersAlone:
		return e.Person.Age >= 60 && e.Person.LivesAlone && e.Person.Alive
	}
	return true
}

// subjects loads the persons with their households, entitlements and the
// feed facts the rules read. programs, when not nil, holds the active
// entitlements of every household of the persons that has any; medical,
// when not nil, the medical spending of the households.
func (s *Service) subjects(ctx context.Context, tx *sql.Tx, persons []int64, feed FeedType, now time.Time, programs map[int64]HouseholdEnv, medical map[int64]float64) ([]subject, error) {
	args := make([]any, len(persons))
	for i, p := range persons {
		args[i] = p
	}
	// Every member of the persons' households.
	rows, err := tx.QueryContext(ctx, `SELECT m.id, m.household_id, m.birth_date, m.death_date, m.lives_alone, m.monthly_income, m.disability_grade, m.residence_division
		FROM persons m WHERE m.household_id IN (SELECT household_id FROM persons WHERE id IN (`+ph(s.DB.Dialect, 1, len(args))+`))`, args...)
	if err != nil {
		return nil, fmt.Errorf("monitor: subjects: %w", err)
	}
	type member struct {
		PersonEnv
		household int64
		residence string
	}
	byID := map[int64]member{}
	households := map[int64]*HouseholdEnv{}
	for rows.Next() {
		var m member
		var id int64
		var birth string
		var death sql.NullString
		var alone int
		if err := rows.Scan(&id, &m.household, &birth, &death, &alone, &m.MonthlyIncome, &m.DisabilityGrade, &m.residence); err != nil {
			rows.Close()
			return nil, err
		}
		m.Alive, m.LivesAlone, m.Age = !death.Valid, alone != 0, age(birth, now)
		byID[id] = m
		h := households[m.household]
		if h == nil {
			h = &HouseholdEnv{}
			households[m.household] = h
		}
		if m.Alive {
			h.Members++
			h.MonthlyIncome += m.MonthlyIncome
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	hargs := make([]any, 0, len(households))
	for id, h := range households {
		hargs = append(hargs, id)
		if h.Members > 0 {
			h.PerCapitaIncome = h.MonthlyIncome / float64(h.Members)
		}
	}
	if programs != nil {
		for id, h := range households {
			p := programs[id]
			h.Recipient, h.Dibao, h.Edge = p.Recipient, p.Dibao, p.Edge
		}
	} else if len(hargs) > 0 {
		hs := make([]int64, len(hargs))
		for i, a := range hargs {
			hs[i] = a.(int64)
		}
		if err := eligibility.ActivePrograms(ctx, tx, s.DB.Dialect, hs, func(id int64, prog string) { households[id].addProgram(prog) }); err != nil {
			return nil, err
		}
	}
	if feed == Medical && medical != nil {
		for id, h := range households {
			h.Medical3M = medical[id]
		}
	} else if feed == Medical && len(hargs) > 0 {
		from, to := medicalWindow(now)
		if err := scanEach(ctx, tx, `SELECT household_id, SUM(amount) FROM feed_facts WHERE feed_type = 'medical' AND valid_from >= $1 AND valid_from <= $2 AND household_id IN (`+ph(s.DB.Dialect, 3, len(hargs))+`) GROUP BY household_id`,
			append([]any{from, to}, hargs...), func(r *sql.Rows) error {
				var id int64
				var sum float64
				if err := r.Scan(&id, &sum); err != nil {
					return err
				}
				households[id].Medical3M = sum
				return nil
			}); err != nil {
			return nil, err
		}
	}
	subs := make([]subject, 0, len(persons))
	index := map[int64]int{}
	for _, p := range persons {
		m, ok := byID[p]
		if !ok {
			continue
		}
		index[p] = len(subs)
		subs = append(subs, subject{person: p, household: m.household, residence: m.residence,
			env: Env{Person: m.PersonEnv, Household: *households[m.household]}})
	}
	switch feed {
	case Unemployment:
		today := now.Format(time.DateOnly)
		from := now.AddDate(0, 0, -90).Format(time.DateOnly)
		// By household (the index facts have), then by person.
		err = scanEach(ctx, tx, `SELECT person_id FROM feed_facts WHERE feed_type = 'unemployment' AND valid_from >= $1 AND (valid_to IS NULL OR valid_to >= $2) AND household_id IN (`+ph(s.DB.Dialect, 3, len(hargs))+`)`,
			append([]any{from, today}, hargs...), func(r *sql.Rows) error {
				var id int64
				if err := r.Scan(&id); err != nil {
					return err
				}
				if i, ok := index[id]; ok {
					subs[i].env.Unemployed = true
				}
				return nil
			})
	case Arrears:
		err = scanEach(ctx, tx, `SELECT person_id, amount, detail FROM feed_facts WHERE feed_type = 'arrears' AND household_id IN (`+ph(s.DB.Dialect, 1, len(hargs))+`) ORDER BY valid_from`,
			hargs, func(r *sql.Rows) error {
				var id int64
				var amount float64
				var detail string
				if err := r.Scan(&id, &amount, &detail); err != nil {
					return err
				}
				var months int
				if _, m, ok := strings.Cut(detail, "|"); ok {
					fmt.Sscan(m, &months)
				}
				i, ok := index[id]
				if !ok {
					return nil
				}
				e := &subs[i].env
				e.Arrears = ArrearsEnv{Amount: amount, Months: months}
				return nil
			})
	case Disability:
		for i := range subs {
			subs[i].env.Disability.Grade = subs[i].env.Person.DisabilityGrade
		}
	}
	return subs, err
}

func scanEach(ctx context.Context, tx *sql.Tx, q string, args []any, fn func(*sql.Rows) error) error {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("monitor: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

func age(birth string, on time.Time) int {
	b, err := time.Parse(time.DateOnly, birth)
	if err != nil {
		return 0
	}
	a := on.Year() - b.Year()
	if on.Month() < b.Month() || (on.Month() == b.Month() && on.Day() < b.Day()) {
		a--
	}
	return a
}

type warnKey struct {
	rule      string
	household int64
}

// The rule codes lead the condition so that the lookup walks the index on
// (rule_code, household_id, raised_at) instead of every warning raised in
// the window, which grows as a large feed raises them.
func recentWarnings(ctx context.Context, d db.Dialect, tx *sql.Tx, codes []string, households []int64, since time.Time) (map[warnKey]time.Time, error) {
	out := map[warnKey]time.Time{}
	if len(households) == 0 || len(codes) == 0 {
		return out, nil
	}
	args := []any{db.Now(since)}
	for _, c := range codes {
		args = append(args, c)
	}
	for _, h := range households {
		args = append(args, h)
	}
	err := scanEach(ctx, tx, `SELECT rule_code, household_id, MAX(raised_at) FROM warnings WHERE raised_at >= $1 AND rule_code IN (`+ph(d, 2, len(codes))+`)
		AND household_id IN (`+ph(d, 2+len(codes), len(households))+`) GROUP BY rule_code, household_id`,
		args, func(r *sql.Rows) error {
			var k warnKey
			var at string
			if err := r.Scan(&k.rule, &k.household, &at); err != nil {
				return err
			}
			out[k] = db.ParseTime(at)
			return nil
		})
	return out, err
}

// raiser collects the warnings of an evaluation and writes them, their
// warning.raised events and their tasks when flushed, as multi-row
// INSERTs (a feed of a million bills can raise a hundred thousand).
type raiser struct {
	s       *Service
	ctx     context.Context
	tx      *sql.Tx
	now     time.Time
	batch   int64
	pending []pendingWarning
}

// pendingWarning is a warning not yet written.
type pendingWarning struct {
	rule *compiled
	sb   subject
}

// reason says in Chinese why the rule fired, with the numbers it saw.
func reason(rule *compiled, e *Env) string {
	var facts string
	switch rule.Feed {
	case Medical:
		facts = fmt.Sprintf("近 3 个月家庭医疗自付 %.0f 元，家庭月收入 %.0f 元（%d 人）", e.Household.Medical3M, e.Household.MonthlyIncome, e.Household.Members)
	case Death:
		facts = "部门数据报告该人员已死亡，请核实并停发待遇、核查多发金额"
	case Water:
		facts = fmt.Sprintf("水表已连续 %.0f 小时无用水；过去 %d 天中 %.0f%% 的日子有用水", e.Meter.SilentHours, e.Meter.HistoryDays, e.Meter.UseShare*100)
	case Unemployment:
		facts = fmt.Sprintf("新近失业登记；家庭月人均收入 %.0f 元，低保标准 %.0f 元", e.Household.PerCapitaIncome, e.DibaoStandard)
	case Arrears:
		facts = fmt.Sprintf("欠费 %d 个月，金额 %.0f 元", e.Arrears.Months, e.Arrears.Amount)
	case Disability:
		facts = fmt.Sprintf("新发残疾证，等级 %d 级", e.Disability.Grade)
	}
	return rule.Name + "：" + facts
}

func (r *raiser) raise(rule *compiled, sb subject) {
	r.pending = append(r.pending, pendingWarning{rule, sb})
}

var warningColumns = []string{"id", "rule_code", "rule_name", "severity", "person_id", "household_id", "division", "district", "reason", "data", "batch", "raised_at"}

// flush writes the pending warnings with IDs reserved in the transaction,
// an event for each and a task routed to the household's adviser.
func (r *raiser) flush() error {
	n := len(r.pending)
	if n == 0 {
		return nil
	}
	d := r.s.DB.Dialect
	ids, err := db.ReserveIDs(r.ctx, r.tx, d, "warnings", n)
	if err != nil {
		return fmt.Errorf("monitor: raise warnings: %w", err)
	}
	var batch any
	if r.batch != 0 {
		batch = r.batch
	}
	at := db.Now(r.now)
	warnings := make([][]any, n)
	evs := make([]events.Event, n)
	tasks := make([]Task, n)
	for i, w := range r.pending {
		data, _ := json.Marshal(envData(&w.sb.env))
		why := reason(w.rule, &w.sb.env)
		district := districtOf(w.sb.residence)
		sev := string(w.rule.Severity)
		warnings[i] = []any{ids[i], w.rule.Code, w.rule.Name, sev, w.sb.person, w.sb.household, w.sb.residence, district, why, string(data), batch, at}
		payload, _ := json.Marshal(Raised{ids[i], w.rule.Code, sev})
		evs[i] = events.Event{Kind: WarningRaised, SubjectID: w.sb.person, Division: w.sb.residence, Payload: payload}
		tasks[i] = Task{Kind: TaskWarning, WarningID: ids[i], PersonID: w.sb.person, HouseholdID: w.sb.household, Division: w.sb.residence,
			District: district, Severity: w.rule.Severity, Title: w.rule.Name, Reason: why, DueAt: r.now.Add(w.rule.Severity.Deadline()), CreatedAt: r.now}
	}
	r.pending = r.pending[:0]
	if err := db.InsertRows(r.ctx, r.tx, d, "warnings", warningColumns, warnings); err != nil {
		return fmt.Errorf("monitor: raise warnings: %w", err)
	}
	if err := events.AppendAll(r.ctx, r.tx, d, evs, r.now); err != nil {
		return err
	}
	st := r.s.DB.Stmts(r.ctx, r.tx)
	defer st.Close()
	return r.s.insertTasks(r.ctx, r.tx, st, tasks, map[string]string{})
}

// warningData is the data behind a warning, as shown to the adviser: the
// person and household always, the feed's own facts when it is that feed.
type warningData struct {
	Age             int      `json:"age"`
	LivesAlone      bool     `json:"lives_alone"`
	Members         int      `json:"members"`
	HouseholdIncome float64  `json:"household_income"`
	PerCapitaIncome float64  `json:"per_capita_income"`
	Dibao           bool     `json:"dibao"`
	Edge            bool     `json:"edge"`
	Recipient       bool     `json:"recipient"`
	Medical3M       *float64 `json:"medical_3m,omitempty"`
	SilentHours     *float64 `json:"silent_hours,omitempty"`
	HistoryDays     *int     `json:"history_days,omitempty"`
	UseShare        *float64 `json:"use_share,omitempty"`
	ArrearsMonths   *int     `json:"arrears_months,omitempty"`
	ArrearsAmount   *float64 `json:"arrears_amount,omitempty"`
	Unemployed      *bool    `json:"unemployed,omitempty"`
	DibaoStandard   *float64 `json:"dibao_standard,omitempty"`
}

func envData(e *Env) warningData {
	out := warningData{Age: e.Person.Age, LivesAlone: e.Person.LivesAlone, Members: e.Household.Members,
		HouseholdIncome: e.Household.MonthlyIncome, PerCapitaIncome: e.Household.PerCapitaIncome,
		Dibao: e.Household.Dibao, Edge: e.Household.Edge, Recipient: e.Household.Recipient}
	switch e.Feed {
	case string(Medical):
		out.Medical3M = &e.Household.Medical3M
	case string(Water):
		out.SilentHours, out.HistoryDays, out.UseShare = &e.Meter.SilentHours, &e.Meter.HistoryDays, &e.Meter.UseShare
	case string(Arrears):
		out.ArrearsMonths, out.ArrearsAmount = &e.Arrears.Months, &e.Arrears.Amount
	case string(Unemployment):
		out.Unemployed, out.DibaoStandard = &e.Unemployed, &e.DibaoStandard
	}
	return out
}
