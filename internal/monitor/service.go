package monitor

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"minzheng/internal/audit"
	"minzheng/internal/auth"
	"minzheng/internal/db"
	"minzheng/internal/division"
	"minzheng/internal/errs"
	"minzheng/internal/registry"
	"minzheng/internal/secret"
	"minzheng/internal/tabular"
)

// Service is the monitoring line: feeds, rules, warnings and tasks.
type Service struct {
	DB    *db.DB
	Suite secret.Suite
	Audit *audit.Log
	Tree  *division.Tree
	Now   func() time.Time
	// DibaoStandard returns the 低保 standard in force on a date, for
	// rules that compare income with it (wired to the policy set).
	DibaoStandard func(on time.Time) float64
	// ReferApplication opens an assistance application (救助申请) prefilled
	// from a task whose visit ends "referred", and returns its reference.
	// The assistance line wires it in app.go; while it is nil the referral
	// is recorded on the task only.
	ReferApplication func(ctx context.Context, p auth.Principal, r Referral) (string, error)
	// Registry records what feeds establish about persons (deaths,
	// disabilities, medical spending): the register owns persons.
	Registry *registry.Service
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// ImportRequest is one batch to import.
type ImportRequest struct {
	Type   FeedType
	Batch  string // the sender's batch id; "" derives one from the content
	Source string // the sending department; "" is the type's usual one
	Table  *tabular.Table
	// GoodOnly writes the good rows of a batch that has rejected ones;
	// without it such a batch changes nothing.
	GoodOnly bool
}

// BatchIDOf derives a batch id from a file's content, so the same file
// sent twice is recognised.
func BatchIDOf(t FeedType, content []byte) string {
	sum := sha256.Sum256(content)
	return string(t) + "-" + hex.EncodeToString(sum[:12])
}

// match is a record matched to a person.
type match struct {
	rec       *Record
	key       string // the fact key (Record.factKey), made once
	person    int64
	household int64
	residence string
	birth     string
}

// MayImport returns the error Import gives p when p may not import feeds
// (city-wide accounts may), for the upload page to refuse before reading.
func MayImport(p auth.Principal) error {
	if !p.Can(PermFeedImport) || !p.Scope().CityWide() {
		return errs.E(errs.Forbidden, "只有市级账号可以导入部门数据")
	}
	return nil
}

// Import checks, matches and writes one batch in one transaction, then
// evaluates the rules the feed triggers for the people it touched, in the
// same transaction. A batch id seen before returns its stored result and
// changes nothing. A batch with rejected rows changes nothing unless
// GoodOnly is set. Rows that match no one are reported and skipped; facts
// already on record are reported as duplicates and skipped.
func (s *Service) Import(ctx context.Context, p auth.Principal, req ImportRequest) (Result, error) {
	start := time.Now()
	if err := MayImport(p); err != nil {
		return Result{}, err
	}
	if req.Type.Columns() == nil {
		return Result{}, errs.Field("type", "未知的数据类型“%s”，可选：%s", req.Type, feedTypeList())
	}
	req.Batch = strings.TrimSpace(req.Batch)
	if req.Batch == "" {
		return Result{}, errs.Field("batch", "批次号不能为空")
	}
	if len(req.Batch) > 100 {
		return Result{}, errs.Field("batch", "批次号最长 100 个字符")
	}
	if req.Source == "" {
		req.Source = req.Type.DefaultSource()
	}
	if prev, ok, err := s.batch(ctx, req.Batch); err != nil || ok {
		if ok && prev.Type != req.Type {
			return Result{}, errs.Field("batch", "批次号“%s”已用于%s数据", req.Batch, prev.Type.Label())
		}
		prev.Replayed = true
		if prev.Problems == nil {
			prev.Problems = []RowProblem{}
		}
		return prev, err
	}
	now := s.now()
	recs, probs, err := Parse(req.Type, req.Table, now)
	if err != nil {
		return Result{}, err
	}
	if probs == nil {
		probs = []RowProblem{}
	}
	res := Result{Batch: req.Batch, Type: req.Type, Rows: len(req.Table.Rows), Problems: probs}
	res.Rejected = len(probs)
	if res.Rejected > 0 && !req.GoodOnly {
		res.Seconds = time.Since(start).Seconds()
		sortProblems(res.Problems)
		return res, nil
	}
	var w *writer
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		w = &writer{s: s, ctx: ctx, tx: tx, p: p, now: now, res: &res, req: req,
			register: s.Registry.FeedWriter(ctx, tx, p, req.Source, req.Batch, now)}
		defer w.close()
		return w.run(recs)
	})
	if errors.Is(err, errRefused) {
		// Rows rejected once matched (a death before birth): nothing is written.
		res.Accepted, res.Duplicates, res.Warnings = 0, 0, 0
		res.Seconds = time.Since(start).Seconds()
		sortProblems(res.Problems)
		return res, nil
	}
	if err != nil {
		return Result{}, err
	}
	res.Written = true
	res.Seconds = time.Since(start).Seconds()
	sortProblems(res.Problems)
	return res, nil
}

// maxStoredProblems caps the problems kept with a batch; the counts stay exact.
const maxStoredProblems = 1000

// batch returns the stored result of a batch id.
func (s *Service) batch(ctx context.Context, id string) (Result, bool, error) {
	var r Result
	var t, report string
	err := s.DB.QueryRowContext(ctx, `SELECT batch_id, feed_type, row_count, accepted, rejected, unmatched, duplicates, warnings, report FROM feed_batches WHERE batch_id = $1`, id).
		Scan(&r.Batch, &t, &r.Rows, &r.Accepted, &r.Rejected, &r.Unmatched, &r.Duplicates, &r.Warnings, &report)
	if errors.Is(err, sql.ErrNoRows) {
		return Result{}, false, nil
	}
	if err != nil {
		return Result{}, false, fmt.Errorf("monitor: batch %s: %w", id, err)
	}
	r.Type, r.Written = FeedType(t), true
	if err := json.Unmarshal([]byte(report), &r.Problems); err != nil {
		r.Problems = nil
	}
	return r, true, nil
}

// BatchRow is one imported batch for the feeds page.
type BatchRow struct {
	Batch      string    `json:"batch"`
	Type       FeedType  `json:"type"`
	Source     string    `json:"source"`
	Actor      string    `json:"actor"`
	Rows       int       `json:"rows"`
	Accepted   int       `json:"accepted"`
	Rejected   int       `json:"rejected"`
	Unmatched  int       `json:"unmatched"`
	Duplicates int       `json:"duplicates"`
	Warnings   int       `json:"warnings"`
	At         time.Time `json:"at"`
}

// Batches lists the latest batches.
func (s *Service) Batches(ctx context.Context, p auth.Principal, limit int) ([]BatchRow, error) {
	if !p.Can(PermFeedImport) {
		return nil, errs.E(errs.Forbidden, "您的角色无权查看部门数据批次")
	}
	rows, err := s.DB.QueryContext(ctx, `SELECT batch_id, feed_type, source, actor, row_count, accepted, rejected, unmatched, duplicates, warnings, created_at
		FROM feed_batches ORDER BY id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("monitor: batches: %w", err)
	}
	defer rows.Close()
	var out []BatchRow
	for rows.Next() {
		var b BatchRow
		var t, at string
		if err := rows.Scan(&b.Batch, &t, &b.Source, &b.Actor, &b.Rows, &b.Accepted, &b.Rejected, &b.Unmatched, &b.Duplicates, &b.Warnings, &at); err != nil {
			return nil, err
		}
		b.Type, b.At = FeedType(t), db.ParseTime(at)
		out = append(out, b)
	}
	return out, rows.Err()
}

// writer writes one batch inside its transaction.
type writer struct {
	s       *Service
	ctx     context.Context
	tx      *sql.Tx
	p       auth.Principal
	now     time.Time
	res     *Result
	req     ImportRequest
	batchID int64
	stmts   map[string]*sql.Stmt
	// register writes the register's part of the batch (deaths,
	// disabilities, medical spending) in the same transaction.
	register *registry.FeedWriter
	// registered counts the persons whose disability the batch changed in
	// the register; medical those whose monthly medical expense it changed.
	registered, medical int
	// medical3m is the medical spending of each household a medical
	// batch touched, in the window of medicalWindow, for the rules.
	medical3m map[int64]float64
}

// query runs q in the batch's transaction through a statement prepared
// once per text: the IN lists of full chunks repeat the same text.
func (w *writer) query(q string, args ...any) (*sql.Rows, error) {
	st, err := w.prepare(q)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(w.ctx, args...)
}

// prepare returns the batch's statement for q, prepared on first use.
func (w *writer) prepare(q string) (*sql.Stmt, error) {
	if st, ok := w.stmts[q]; ok {
		return st, nil
	}
	st, err := w.tx.PrepareContext(w.ctx, q)
	if err != nil {
		return nil, err
	}
	if w.stmts == nil {
		w.stmts = map[string]*sql.Stmt{}
	}
	w.stmts[q] = st
	return st, nil
}

func (w *writer) close() {
	for _, st := range w.stmts {
		st.Close()
	}
	w.register.Close()
}

func (w *writer) problem(line int, kind, format string, args ...any) {
	w.res.Problems = append(w.res.Problems, RowProblem{Line: line, Kind: kind, Message: fmt.Sprintf(format, args...)})
}

func (w *writer) run(recs []Record) error {
	ctx, tx := w.ctx, w.tx
	err := tx.QueryRowContext(ctx, `INSERT INTO feed_batches (batch_id, feed_type, source, actor, row_count, accepted, rejected, unmatched, duplicates, warnings, report, created_at)
		VALUES ($1, $2, $3, $4, 0, 0, 0, 0, 0, 0, '[]', $5) RETURNING id`, w.req.Batch, string(w.req.Type), w.req.Source, w.p.Name, db.Now(w.now)).Scan(&w.batchID)
	if db.IsUniqueViolation(err) {
		return errs.E(errs.Conflict, "批次“%s”正在被同时导入，请稍后查询结果", w.req.Batch)
	}
	if err != nil {
		return fmt.Errorf("monitor: insert batch: %w", err)
	}
	var touched []match
	switch w.req.Type {
	case Water:
		touched, err = w.water(recs)
	default:
		touched, err = w.facts(recs)
	}
	if err != nil {
		return err
	}
	if w.req.Type != Water {
		n, err := w.s.evaluate(ctx, tx, w.req.Type, touched, w.batchID, w.now, given{medical: w.medical3m})
		if err != nil {
			return err
		}
		w.res.Warnings += n
	}
	stored := w.res.Problems
	if len(stored) > maxStoredProblems {
		stored = stored[:maxStoredProblems]
	}
	sortProblems(stored)
	report, _ := json.Marshal(stored)
	if _, err := tx.ExecContext(ctx, `UPDATE feed_batches SET row_count = $1, accepted = $2, rejected = $3, unmatched = $4, duplicates = $5, warnings = $6, report = $7 WHERE id = $8`,
		w.res.Rows, w.res.Accepted, w.res.Rejected, w.res.Unmatched, w.res.Duplicates, w.res.Warnings, string(report), w.batchID); err != nil {
		return fmt.Errorf("monitor: finish batch: %w", err)
	}
	detail := fmt.Sprintf("导入%s（%s）%d 行：接收 %d、拒收 %d、未匹配 %d、重复 %d，预警 %d", w.req.Type.Label(), w.req.Source, w.res.Rows,
		w.res.Accepted, w.res.Rejected, w.res.Unmatched, w.res.Duplicates, w.res.Warnings)
	switch w.req.Type {
	case Disability:
		detail += fmt.Sprintf("；更新人口库残疾信息 %d 人", w.registered)
	case Medical:
		detail += fmt.Sprintf("；更新近 %d 个月月均医疗自付 %d 人", MedicalMonths, w.medical)
	}
	return w.s.Audit.Append(ctx, tx, audit.Entry{Actor: w.p.Name, Role: string(w.p.Role), Action: "feed.import", Entity: "feed_batch", EntityID: w.req.Batch,
		Detail: detail, Remote: w.p.Remote})
}

// chunk is how many keys go into one IN list.
const chunk = 1000

// matchPersons finds the persons of the records by the keyed hash of
// their ID numbers, in two passes that each read in index order instead of
// at random: the hashes, sorted, are looked up in the persons_id_hash
// index alone (it holds the person's ID), then the persons so found, sorted
// by ID, are read from the table, which is in ID order.
func (w *writer) matchPersons(recs []Record) ([]match, error) {
	type hashed struct {
		h      string
		rec    *Record
		person int64
	}
	all := make([]hashed, len(recs))
	for i := range recs {
		all[i] = hashed{h: string(w.s.Suite.Index(recs[i].Key)), rec: &recs[i]}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].h < all[j].h })
	byHash := make(map[string]int64, chunk)
	args := make([]any, 0, chunk)
	for start := 0; start < len(all); start += chunk {
		part := all[start:min(start+chunk, len(all))]
		clear(byHash)
		args = args[:0]
		for i, x := range part {
			if i == 0 || x.h != part[i-1].h {
				args = append(args, []byte(x.h))
			}
		}
		rows, err := w.query(`SELECT id_hash, id FROM persons WHERE id_hash IN (`+ph(w.s.DB.Dialect, 1, len(args))+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("monitor: match: %w", err)
		}
		for rows.Next() {
			var h []byte
			var id int64
			if err := rows.Scan(&h, &id); err != nil {
				rows.Close()
				return nil, err
			}
			byHash[string(h)] = id
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		for i := range part {
			if id, ok := byHash[part[i].h]; ok {
				part[i].person = id
				continue
			}
			w.res.Unmatched++
			w.problem(part[i].rec.Line, "unmatched", "身份证号码未在本市人口库中登记")
		}
	}
	found := all[:0]
	for _, x := range all {
		if x.person != 0 {
			found = append(found, x)
		}
	}
	sort.Slice(found, func(i, j int) bool {
		if found[i].person != found[j].person {
			return found[i].person < found[j].person
		}
		return found[i].rec.Line < found[j].rec.Line
	})
	type person struct {
		household        int64
		residence, birth string
	}
	byID := make(map[int64]person, chunk)
	out := make([]match, 0, len(found))
	for start := 0; start < len(found); start += chunk {
		part := found[start:min(start+chunk, len(found))]
		clear(byID)
		args = args[:0]
		for i, x := range part {
			if i == 0 || x.person != part[i-1].person {
				args = append(args, x.person)
			}
		}
		rows, err := w.query(`SELECT id, household_id, residence_division, birth_date FROM persons WHERE id IN (`+ph(w.s.DB.Dialect, 1, len(args))+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("monitor: match: %w", err)
		}
		for rows.Next() {
			var id int64
			var p person
			if err := rows.Scan(&id, &p.household, &p.residence, &p.birth); err != nil {
				rows.Close()
				return nil, err
			}
			byID[id] = p
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		for _, x := range part {
			p := byID[x.person]
			out = append(out, match{rec: x.rec, person: x.person, household: p.household, residence: p.residence, birth: p.birth})
		}
	}
	return out, nil // in person order, each person's rows in line order
}

// matchDevices finds the households of the records by their bound device.
func (w *writer) matchDevices(recs []Record, kind string) ([]match, error) {
	ids := map[string]bool{}
	for _, r := range recs {
		ids[r.Key] = true
	}
	keys := make([]string, 0, len(ids))
	for k := range ids {
		keys = append(keys, k)
	}
	bound := make(map[string]match, len(keys))
	for start := 0; start < len(keys); start += chunk {
		part := keys[start:min(start+chunk, len(keys))]
		args := make([]any, 0, len(part)+1)
		args = append(args, kind)
		for _, k := range part {
			args = append(args, k)
		}
		rows, err := w.tx.QueryContext(w.ctx, `SELECT d.device_id, d.person_id, d.household_id, h.residence_division FROM monitor_devices d
			JOIN households h ON h.id = d.household_id WHERE d.kind = $1 AND d.device_id IN (`+ph(w.s.DB.Dialect, 2, len(part))+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("monitor: match devices: %w", err)
		}
		for rows.Next() {
			var id string
			var m match
			if err := rows.Scan(&id, &m.person, &m.household, &m.residence); err != nil {
				rows.Close()
				return nil, err
			}
			bound[id] = m
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	out := make([]match, 0, len(recs))
	for i := range recs {
		m, ok := bound[recs[i].Key]
		if !ok {
			w.res.Unmatched++
			w.problem(recs[i].Line, "unmatched", "设备编号“%s”未绑定家庭", recs[i].Key)
			continue
		}
		m.rec = &recs[i]
		out = append(out, m)
	}
	return out, nil
}

// ph returns n placeholders numbered from from: "?" on SQLite, where
// binding numbered ones looks each name up (quadratic in a long list; "?"
// after $1…$k takes k+1, k+2 …), "$from, …" on PostgreSQL.
func ph(d db.Dialect, from, n int) string {
	if d == db.SQLite {
		return strings.TrimSuffix(strings.Repeat("?,", n), ",")
	}
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "$%d", from+i)
	}
	return b.String()
}

// facts matches and stores the records of a person-level feed (and the
// calls), applies deaths and disability certificates to the register and
// writes their events.
func (w *writer) facts(recs []Record) ([]match, error) {
	var ms []match
	var err error
	if w.req.Type == Call {
		ms, err = w.matchDevices(recs, "call_button")
	} else {
		ms, err = w.matchPersons(recs)
	}
	if err != nil {
		return nil, err
	}
	// Checks that need the person.
	kept := ms[:0]
	for _, m := range ms {
		if w.req.Type == Death && m.rec.ValidFrom < m.birth {
			w.res.Rejected++
			w.res.Problems = append(w.res.Problems, RowProblem{Line: m.rec.Line, Field: "death_date", Column: "死亡日期", Kind: "rejected",
				Message: fmt.Sprintf("死亡日期 %s 早于出生日期 %s", m.rec.ValidFrom, m.birth)})
			continue
		}
		kept = append(kept, m)
	}
	ms = kept
	if w.res.Rejected > 0 && !w.req.GoodOnly {
		return nil, errRefused
	}
	// In household and person order, the facts' indexes are written
	// nearly in order instead of at random places of a large B-tree.
	sort.SliceStable(ms, func(i, j int) bool {
		if ms[i].household != ms[j].household {
			return ms[i].household < ms[j].household
		}
		return ms[i].person < ms[j].person
	})
	for i := range ms {
		ms[i].key = ms[i].rec.factKey(w.req.Type, ms[i].person)
	}
	// Facts already on record.
	known, err := w.knownFacts(ms)
	if err != nil {
		return nil, err
	}
	fresh := ms[:0]
	for _, m := range ms {
		if known[m.key] {
			w.res.Duplicates++
			w.problem(m.rec.Line, "duplicate", "该信息已在此前批次中接收")
			continue
		}
		fresh = append(fresh, m)
	}
	ms = fresh
	if err := w.insertFacts(ms); err != nil {
		return nil, err
	}
	w.res.Accepted = len(ms)
	switch w.req.Type {
	case Death:
		return ms, w.deaths(ms)
	case Disability:
		return ms, w.disabilities(ms)
	case Medical:
		return ms, w.medicalExpenses(ms)
	case Call:
		return nil, w.calls(ms)
	}
	return ms, nil
}

// errRefused rolls back a batch whose rows were rejected after matching.
var errRefused = errors.New("monitor: batch refused")

func (w *writer) knownFacts(ms []match) (map[string]bool, error) {
	known := map[string]bool{}
	for start := 0; start < len(ms); start += chunk {
		part := ms[start:min(start+chunk, len(ms))]
		args := make([]any, 0, len(part)+1)
		args = append(args, string(w.req.Type))
		for _, m := range part {
			args = append(args, m.key)
		}
		rows, err := w.query(`SELECT fact_key FROM feed_facts WHERE feed_type = $1 AND fact_key IN (`+ph(w.s.DB.Dialect, 2, len(part))+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("monitor: known facts: %w", err)
		}
		for rows.Next() {
			var k string
			if err := rows.Scan(&k); err != nil {
				rows.Close()
				return nil, err
			}
			known[k] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return known, nil
}

func (w *writer) insertFacts(ms []match) error {
	// What every row of the batch shares is bound once per statement, the
	// rest per row (binding, not inserting, was most of the cost). The
	// casts type PostgreSQL's parameters, which VALUES leaves as text.
	const shared, cols = 4, 7
	const per = 500
	created := db.Now(w.now)
	statement := func(n int) string {
		var b strings.Builder
		b.WriteString(`INSERT INTO feed_facts (batch, feed_type, source, created_at, fact_key, person_id, household_id, valid_from, valid_to, amount, detail)
			SELECT CAST(` + ph(w.s.DB.Dialect, 1, 1) + ` AS BIGINT), ` + ph(w.s.DB.Dialect, 2, 3) + `, v.* FROM (VALUES `)
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			p := strings.Split(ph(w.s.DB.Dialect, shared+i*cols+1, cols), ",")
			fmt.Fprintf(&b, "(%s, CAST(%s AS BIGINT), CAST(%s AS BIGINT), %s, %s, CAST(%s AS DOUBLE PRECISION), %s)", p[0], p[1], p[2], p[3], p[4], p[5], p[6])
		}
		// "WHERE true" tells SQLite's parser that ON CONFLICT is not a join's.
		b.WriteString(`) AS v WHERE true ON CONFLICT (feed_type, fact_key) DO NOTHING`)
		return b.String()
	}
	// One statement, prepared once, for every full group of rows.
	var full *sql.Stmt
	if len(ms) >= per {
		var err error
		if full, err = w.tx.PrepareContext(w.ctx, statement(per)); err != nil {
			return fmt.Errorf("monitor: prepare facts: %w", err)
		}
		defer full.Close()
	}
	args := make([]any, 0, shared+per*cols)
	for start := 0; start < len(ms); start += per {
		part := ms[start:min(start+per, len(ms))]
		args = append(args[:0], w.batchID, string(w.req.Type), w.req.Source, created)
		for _, m := range part {
			var to any
			if m.rec.ValidTo != "" {
				to = m.rec.ValidTo
			}
			detail := m.rec.Detail
			switch w.req.Type {
			case Arrears:
				detail = fmt.Sprintf("%s|%d", m.rec.Detail, m.rec.Months)
			case Disability:
				detail = fmt.Sprintf("%s|%d", m.rec.Detail, m.rec.Grade)
			case Call:
				detail = m.rec.Hour.UTC().Format(time.RFC3339) + "|" + m.rec.Detail
			}
			args = append(args, m.key, m.person, m.household, m.rec.ValidFrom, to, m.rec.Amount, detail)
		}
		var err error
		if len(part) == per {
			_, err = full.ExecContext(w.ctx, args...)
		} else {
			_, err = w.tx.ExecContext(w.ctx, statement(len(part)), args...)
		}
		if err != nil {
			return fmt.Errorf("monitor: insert facts: %w", err)
		}
	}
	return nil
}

// districtOf returns the district code of a division code.
func districtOf(code string) string {
	if len(code) < 6 {
		return code
	}
	return code[:6]
}
