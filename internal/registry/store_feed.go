package registry

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"minzheng/internal/audit"
	"minzheng/internal/auth"
	"minzheng/internal/db"
	"minzheng/internal/events"
)

// FeedWriter records in the register what a department's feed establishes
// about persons — a death, a disability certificate, the monthly medical
// spending — inside the transaction of the feed's import, so the import
// and the register change together. The register owns persons and
// person_medical; the monitoring line writes them only through it.
type FeedWriter struct {
	s      *Service
	ctx    context.Context
	tx     *sql.Tx
	by     auth.Principal
	source string
	batch  string
	now    time.Time
	stmts  *db.Stmts // each statement prepared once for the batch
}

// FeedWriter returns a writer for the feed batch imported by by in tx;
// Close it before tx ends.
func (s *Service) FeedWriter(ctx context.Context, tx *sql.Tx, by auth.Principal, source, batch string, now time.Time) *FeedWriter {
	return &FeedWriter{s: s, ctx: ctx, tx: tx, by: by, source: source, batch: batch, now: now, stmts: s.db.Stmts(ctx, tx)}
}

// Close closes the writer's prepared statements.
func (w *FeedWriter) Close() { w.stmts.Close() }

// RecordDeath records the death of a person not yet recorded dead and
// appends PersonDied (residence is the event's division). It reports false
// when a death was already on record.
func (w *FeedWriter) RecordDeath(person int64, residence, date string) (bool, error) {
	r, err := w.stmts.Exec(`UPDATE persons SET death_date = $1, updated_at = $2 WHERE id = $3 AND death_date IS NULL`, date, db.Now(w.now), person)
	if err != nil {
		return false, fmt.Errorf("registry: record death of %d: %w", person, err)
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return false, nil
	}
	_, err = events.Append(w.ctx, w.tx, PersonDied, person, residence, Died{DeathDate: date, Source: w.source, Batch: w.batch}, w.now)
	return err == nil, err
}

// SetDisability sets a person's disability category and grade from a
// certificate valid today, when they differ from the register's, audited
// (person.feed_update, naming the source and batch) and followed by
// PersonChanged. It reports false when the register said so already.
func (w *FeedWriter) SetDisability(person int64, residence, category string, grade int, validFrom, validTo string) (bool, error) {
	r, err := w.stmts.Exec(`UPDATE persons SET disability_category = $1, disability_grade = $2, updated_at = $3
		WHERE id = $4 AND (disability_category <> $1 OR disability_grade <> $2)`, category, grade, db.Now(w.now), person)
	if err != nil {
		return false, fmt.Errorf("registry: disability of %d: %w", person, err)
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return false, nil
	}
	until := validTo
	if until == "" {
		until = "长期"
	}
	if err := w.s.audit.Append(w.ctx, w.tx, audit.Entry{Actor: w.by.Name, Role: string(w.by.Role), Action: "person.feed_update", Entity: "person",
		EntityID: fmt.Sprint(person), Detail: fmt.Sprintf("来源%s（批次 %s）：残疾类别 %s、残疾等级 %d（发证 %s，有效期至 %s）",
			w.source, w.batch, DisabilityCategories[category], grade, validFrom, until), Remote: w.by.Remote}); err != nil {
		return false, err
	}
	_, err = events.Append(w.ctx, w.tx, PersonChanged, person, residence, DisabilityChanged{Category: category, Grade: grade,
		Source: w.source, Batch: w.batch, ValidFrom: validFrom, ValidTo: validTo}, w.now)
	return err == nil, err
}

// Medical is a person's monthly medical spending (yuan) as of a date.
type Medical struct {
	Household, Person int64
	Monthly           float64
}

// SetMedical writes the monthly medical spending of persons (given in
// household order, so person_medical is written from one end to the
// other) as of a date, changing only figures that differ, and returns how
// many changed.
func (w *FeedWriter) SetMedical(rows []Medical, asOf string) (int, error) {
	if len(rows) == 0 {
		return 0, nil
	}
	var b strings.Builder
	args := make([]any, 0, 4*len(rows))
	b.WriteString(`INSERT INTO person_medical (household_id, person_id, monthly, as_of) VALUES `)
	for i, m := range rows {
		if i > 0 {
			b.WriteByte(',')
		}
		n := 4*i + 1
		fmt.Fprintf(&b, "($%d, $%d, $%d, $%d)", n, n+1, n+2, n+3) // ? on SQLite (db.Stmts)
		args = append(args, m.Household, m.Person, m.Monthly, asOf)
	}
	b.WriteString(` ON CONFLICT (household_id, person_id) DO UPDATE SET monthly = excluded.monthly, as_of = excluded.as_of
			WHERE person_medical.monthly <> excluded.monthly`)
	r, err := w.stmts.Exec(b.String(), args...)
	if err != nil {
		return 0, fmt.Errorf("registry: medical expenses: %w", err)
	}
	n, _ := r.RowsAffected()
	return int(n), nil
}
