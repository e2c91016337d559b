package registry

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"minzheng/internal/audit"
	"minzheng/internal/auth"
	"minzheng/internal/db"
	"minzheng/internal/idcard"
)

// Loader writes many households and persons fast, for the synthetic city
// and for bulk loads from trusted sources: multi-row INSERTs on SQLite and
// COPY on PostgreSQL, committed every few hundred thousand rows. Records
// must already be valid; Loader does not check them.
type Loader struct {
	s       *Service
	ctx     context.Context
	by      auth.Principal
	now     string
	nextHID int64
	nextPID int64
	hh      [][]any
	pp      [][]any
	persons int64
	house   int64
}

// loaderBatch is how many persons are buffered before they are written.
const loaderBatch = 50000

// NewLoader starts a bulk load acting as by.
func (s *Service) NewLoader(ctx context.Context, by auth.Principal) (*Loader, error) {
	l := &Loader{s: s, ctx: ctx, by: by, now: db.Now(s.now())}
	for _, q := range []struct {
		sql string
		dst *int64
	}{{`SELECT COALESCE(MAX(id), 0) FROM households`, &l.nextHID}, {`SELECT COALESCE(MAX(id), 0) FROM persons`, &l.nextPID}} {
		if err := s.db.QueryRowContext(ctx, q.sql).Scan(q.dst); err != nil {
			return nil, fmt.Errorf("registry: loader: %w", err)
		}
	}
	return l, nil
}

// Add buffers a household and its members; numbers are the members' full ID
// numbers in the same order. It returns the household's new ID.
func (l *Loader) Add(h Household, members []Person, numbers []string) (int64, error) {
	l.nextHID++
	hid := l.nextHID
	var no any
	if h.HouseholdNo != "" {
		no = h.HouseholdNo
	}
	l.hh = append(l.hh, []any{hid, no, h.HukouDivision, h.ResidenceDivision, h.Address, l.now})
	for i, x := range members {
		l.nextPID++
		var death any
		if x.DeathDate != "" {
			death = x.DeathDate
		}
		n := numbers[i]
		l.pp = append(l.pp, []any{l.nextPID, hid, string(x.Relation), x.Name, l.s.suite.Index(n), l.s.suite.Seal([]byte(n)), idcard.Mask(n),
			x.BirthDate, x.Sex, x.HukouDivision, x.ResidenceDivision, x.MonthlyIncome, x.DisabilityCategory, x.DisabilityGrade, death,
			boolInt(x.LivesAlone), l.now, l.now})
	}
	if len(l.pp) >= loaderBatch {
		return hid, l.flush()
	}
	return hid, nil
}

// Persons returns how many persons have been written or buffered.
func (l *Loader) Persons() int64 { return l.persons + int64(len(l.pp)) }

var (
	householdCols = []string{"id", "household_no", "hukou_division", "residence_division", "address", "created_at"}
	personColsAll = []string{"id", "household_id", "relation", "name", "id_hash", "id_enc", "id_masked", "birth_date", "sex",
		"hukou_division", "residence_division", "monthly_income", "disability_category", "disability_grade", "death_date",
		"lives_alone", "created_at", "updated_at"}
)

func (l *Loader) flush() error {
	if len(l.hh) == 0 && len(l.pp) == 0 {
		return nil
	}
	var err error
	if l.s.db.Dialect == db.Postgres {
		err = l.copyPostgres()
	} else {
		err = l.s.db.Tx(l.ctx, func(tx *sql.Tx) error {
			if err := insertRows(l.ctx, tx, "households", householdCols, l.hh); err != nil {
				return err
			}
			return insertRows(l.ctx, tx, "persons", personColsAll, l.pp)
		})
	}
	if err != nil {
		return fmt.Errorf("registry: bulk load: %w", err)
	}
	l.persons += int64(len(l.pp))
	l.house += int64(len(l.hh))
	l.hh, l.pp = l.hh[:0], l.pp[:0]
	return nil
}

// insertRows writes rows with multi-row INSERT statements of up to 100 rows
// (SQLite allows 32,766 parameters per statement).
func insertRows(ctx context.Context, tx *sql.Tx, table string, cols []string, rows [][]any) error {
	const per = 100
	stmts := map[int]*sql.Stmt{}
	defer func() {
		for _, s := range stmts {
			s.Close()
		}
	}()
	args := make([]any, 0, per*len(cols))
	for start := 0; start < len(rows); start += per {
		part := rows[start:min(start+per, len(rows))]
		st := stmts[len(part)]
		if st == nil {
			var b strings.Builder
			fmt.Fprintf(&b, "INSERT INTO %s (%s) VALUES ", table, strings.Join(cols, ", "))
			n := 0
			for i := range part {
				if i > 0 {
					b.WriteString(", ")
				}
				b.WriteByte('(')
				for j := range cols {
					if j > 0 {
						b.WriteString(", ")
					}
					n++
					fmt.Fprintf(&b, "$%d", n)
				}
				b.WriteByte(')')
			}
			var err error
			if st, err = tx.PrepareContext(ctx, b.String()); err != nil {
				return err
			}
			stmts[len(part)] = st
		}
		args = args[:0]
		for _, r := range part {
			args = append(args, r...)
		}
		if _, err := st.ExecContext(ctx, args...); err != nil {
			return err
		}
	}
	return nil
}

func (l *Loader) copyPostgres() error {
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
		if _, err := tx.CopyFrom(l.ctx, pgx.Identifier{"households"}, householdCols, pgx.CopyFromRows(l.hh)); err != nil {
			return err
		}
		if _, err := tx.CopyFrom(l.ctx, pgx.Identifier{"persons"}, personColsAll, pgx.CopyFromRows(l.pp)); err != nil {
			return err
		}
		return tx.Commit(l.ctx)
	})
}

// Close writes what is buffered and records the load in the audit log.
func (l *Loader) Close(detail string) error {
	if err := l.flush(); err != nil {
		return err
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
