package registry

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"minzheng/internal/audit"
	"minzheng/internal/auth"
	"minzheng/internal/db"
	"minzheng/internal/idcard"
)

// Loader writes many households and persons fast, for the synthetic city
// and for bulk loads from trusted sources: multi-row INSERTs on SQLite and
// COPY on PostgreSQL, in batches written by a background goroutine while
// the caller prepares the next batch (encryption and hashing run on the
// caller's goroutine). Into empty tables it drops the secondary indexes and
// rebuilds them at the end, which is several times faster than keeping them
// up to date row by row. Records must already be valid; Loader does not
// check them.
type Loader struct {
	s       *Service
	ctx     context.Context
	by      auth.Principal
	now     string
	nextHID int64
	nextPID int64
	hh      [][]any
	pp      [][]any
	pm      [][]any  // person_medical rows, for members with medical spending
	scratch []Person // the members with their IDs, for their facts record
	persons int64
	house   int64
	batches chan batch
	done    chan error
	err     error
}

type batch struct{ hh, pp, pm [][]any }

// loaderBatch is how many persons are buffered before they are written.
const loaderBatch = 50000

// NewLoader starts a bulk load acting as by.
func (s *Service) NewLoader(ctx context.Context, by auth.Principal) (*Loader, error) {
	l := &Loader{s: s, ctx: ctx, by: by, now: db.Now(s.now()), batches: make(chan batch, 1), done: make(chan error, 1)}
	for _, q := range []struct {
		sql string
		dst *int64
	}{{`SELECT COALESCE(MAX(id), 0) FROM households`, &l.nextHID}, {`SELECT COALESCE(MAX(id), 0) FROM persons`, &l.nextPID}} {
		if err := s.db.QueryRowContext(ctx, q.sql).Scan(q.dst); err != nil {
			return nil, fmt.Errorf("registry: loader: %w", err)
		}
	}
	if l.nextHID == 0 && l.nextPID == 0 {
		if err := deferIndexes(ctx, s.db); err != nil {
			return nil, err
		}
	}
	go l.writer()
	return l, nil
}

// indexesOf lists the secondary indexes of the register's tables with the
// SQL that creates them, as the database itself reports it.
func indexesOf(ctx context.Context, d *db.DB) (map[string]string, error) {
	q := `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('persons', 'households') AND sql IS NOT NULL`
	if d.Dialect == db.Postgres {
		q = `SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename IN ('persons', 'households') AND indexname NOT LIKE '%_pkey'`
	}
	rows, err := d.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			return nil, err
		}
		out[name] = def
	}
	return out, rows.Err()
}

// deferIndexes records and drops the secondary indexes in one transaction.
func deferIndexes(ctx context.Context, d *db.DB) error {
	idx, err := indexesOf(ctx, d)
	if err != nil {
		return fmt.Errorf("registry: list indexes: %w", err)
	}
	return d.Tx(ctx, func(tx *sql.Tx) error {
		for name, def := range idx {
			if _, err := tx.ExecContext(ctx, `INSERT INTO deferred_indexes (name, sql) VALUES ($1, $2)`, name, def); err != nil {
				return fmt.Errorf("registry: defer index %s: %w", name, err)
			}
			if _, err := tx.ExecContext(ctx, `DROP INDEX `+name); err != nil {
				return fmt.Errorf("registry: drop index %s: %w", name, err)
			}
		}
		return nil
	})
}

// RestoreIndexes rebuilds indexes a bulk load dropped. It runs at the end
// of every load and at start-up, in case a load was killed.
func RestoreIndexes(ctx context.Context, d *db.DB) error {
	rows, err := d.QueryContext(ctx, `SELECT name, sql FROM deferred_indexes ORDER BY name`)
	if err != nil {
		return fmt.Errorf("registry: restore indexes: %w", err)
	}
	defs := map[string]string{}
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			rows.Close()
			return err
		}
		defs[name] = def
	}
	rows.Close()
	// PostgreSQL builds indexes on separate connections at the same time;
	// SQLite has one writer, so there they run one after the other.
	workers := 1
	if d.Dialect == db.Postgres {
		workers = 2
	}
	sem := make(chan struct{}, workers)
	errc := make(chan error, len(defs))
	var wg sync.WaitGroup
	for name, def := range defs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			errc <- d.Tx(ctx, func(tx *sql.Tx) error {
				if _, err := tx.ExecContext(ctx, def); err != nil {
					return fmt.Errorf("registry: rebuild index %s: %w", name, err)
				}
				_, err := tx.ExecContext(ctx, `DELETE FROM deferred_indexes WHERE name = $1`, name)
				return err
			})
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			return err
		}
	}
	return nil
}

// Add buffers a household and its members; numbers are the members' full ID
// numbers in the same order. It returns the household's new ID.
func (l *Loader) Add(h Household, members []Person, numbers []string) (int64, error) {
	if l.err != nil {
		return 0, l.err
	}
	l.nextHID++
	hid := l.nextHID
	var no any
	if h.HouseholdNo != "" {
		no = h.HouseholdNo
	}
	l.scratch = l.scratch[:0]
	for i, x := range members {
		l.nextPID++
		x.ID = l.nextPID
		l.scratch = append(l.scratch, x)
		var death any
		if x.DeathDate != "" {
			death = x.DeathDate
		}
		n := numbers[i]
		l.pp = append(l.pp, []any{l.nextPID, hid, string(x.Relation), x.Name, l.s.suite.Index(n), l.s.suite.Seal([]byte(n)), idcard.Mask(n),
			x.BirthDate, x.Sex, x.HukouDivision, x.ResidenceDivision, x.MonthlyIncome, x.DisabilityCategory, x.DisabilityGrade, death,
			boolInt(x.LivesAlone), boolInt(x.WeakGuardianship), l.now, l.now})
		if x.MonthlyMedicalExpense != 0 {
			l.pm = append(l.pm, []any{hid, l.nextPID, x.MonthlyMedicalExpense, l.now[:len(time.DateOnly)]})
		}
	}
	l.hh = append(l.hh, []any{hid, no, h.HukouDivision, h.ResidenceDivision, h.Address, l.now, EncodeFacts(nil, l.scratch)})
	if len(l.pp) >= loaderBatch {
		l.send()
	}
	return hid, l.err
}

// send hands the buffered rows to the writer and starts new buffers.
func (l *Loader) send() {
	if len(l.hh) == 0 && len(l.pp) == 0 {
		return
	}
	select {
	case l.batches <- batch{l.hh, l.pp, l.pm}:
		l.persons += int64(len(l.pp))
		l.house += int64(len(l.hh))
	case err := <-l.done:
		// The writer stopped on an error.
		l.err = err
	}
	l.hh, l.pp, l.pm = make([][]any, 0, len(l.hh)), make([][]any, 0, loaderBatch+8), nil
}

var (
	householdCols = []string{"id", "household_no", "hukou_division", "residence_division", "address", "created_at", "facts"}
	personColsAll = []string{"id", "household_id", "relation", "name", "id_hash", "id_enc", "id_masked", "birth_date", "sex",
		"hukou_division", "residence_division", "monthly_income", "disability_category", "disability_grade", "death_date",
		"lives_alone", "weak_guardianship", "created_at", "updated_at"}
	medicalCols = []string{"household_id", "person_id", "monthly", "as_of"}
)

// writer writes batches until the channel closes or a write fails.
func (l *Loader) writer() {
	for b := range l.batches {
		var err error
		if l.s.db.Dialect == db.Postgres {
			err = l.copyPostgres(b)
		} else {
			err = l.s.db.Tx(l.ctx, func(tx *sql.Tx) error {
				if err := db.InsertRows(l.ctx, tx, db.SQLite, "households", householdCols, b.hh); err != nil {
					return err
				}
				if err := db.InsertRows(l.ctx, tx, db.SQLite, "persons", personColsAll, b.pp); err != nil {
					return err
				}
				return db.InsertRows(l.ctx, tx, db.SQLite, "person_medical", medicalCols, b.pm)
			})
		}
		if err != nil {
			l.done <- fmt.Errorf("registry: bulk load: %w", err)
			return
		}
	}
	l.done <- nil
}

func (l *Loader) copyPostgres(b batch) error {
	conn, err := l.s.db.Conn(l.ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		pc := dc.(*stdlib.Conn).Conn()
		tx, err := pc.Begin(l.ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(l.ctx)
		if _, err := tx.CopyFrom(l.ctx, pgx.Identifier{"households"}, householdCols, pgx.CopyFromRows(b.hh)); err != nil {
			return err
		}
		if _, err := tx.CopyFrom(l.ctx, pgx.Identifier{"persons"}, personColsAll, pgx.CopyFromRows(b.pp)); err != nil {
			return err
		}
		if _, err := tx.CopyFrom(l.ctx, pgx.Identifier{"person_medical"}, medicalCols, pgx.CopyFromRows(b.pm)); err != nil {
			return err
		}
		return tx.Commit(l.ctx)
	})
}

// Close writes what is buffered, waits for the writer, rebuilds deferred
// indexes and records the load in the audit log.
func (l *Loader) Close(detail string) error {
	if l.err == nil {
		l.send()
	}
	close(l.batches)
	if l.err == nil {
		l.err = <-l.done
	}
	if err := RestoreIndexes(l.ctx, l.s.db); err != nil && l.err == nil {
		l.err = err
	}
	if l.err != nil {
		return l.err
	}
	// Fresh statistics, so the planner knows a city-wide range is not
	// selective and a name is.
	analyze := `PRAGMA analysis_limit = 1000; ANALYZE`
	if l.s.db.Dialect == db.Postgres {
		analyze = `ANALYZE persons; ANALYZE households`
	}
	if _, err := l.s.db.ExecContext(l.ctx, analyze); err != nil {
		return fmt.Errorf("registry: bulk load: analyze: %w", err)
	}
	if l.s.db.Dialect == db.Postgres {
		// Identity columns do not see explicit IDs; move them past the load.
		for _, t := range []string{"households", "persons"} {
			if _, err := l.s.db.ExecContext(l.ctx, fmt.Sprintf(`SELECT setval(pg_get_serial_sequence('%s', 'id'), (SELECT COALESCE(MAX(id), 0) + 1 FROM %s), false)`, t, t)); err != nil {
				return fmt.Errorf("registry: bulk load: reset %s ids: %w", t, err)
			}
		}
	}
	return l.s.audit.Record(l.ctx, audit.Entry{Actor: l.by.Name, Role: string(l.by.Role), Action: "person.bulk_load", Entity: "person", EntityID: "*",
		Detail: fmt.Sprintf("批量写入 %d 户、%d 人：%s", l.house, l.persons, detail), Remote: l.by.Remote})
}
