package db

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// InsertRows writes rows into table with multi-row INSERT statements of up
// to 100 rows each, prepared once per size. SQLite gets ? placeholders (its
// driver resolves $N names one by one, which costs more than the insert in
// statements this long), PostgreSQL $1, $2 ….
func InsertRows(ctx context.Context, tx *sql.Tx, d Dialect, table string, cols []string, rows [][]any) error {
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
			var q strings.Builder
			fmt.Fprintf(&q, "INSERT INTO %s (%s) VALUES ", table, strings.Join(cols, ", "))
			n := 0
			for i := range part {
				if i > 0 {
					q.WriteString(", ")
				}
				q.WriteByte('(')
				for j := range cols {
					if j > 0 {
						q.WriteString(", ")
					}
					n++
					if d == Postgres {
						fmt.Fprintf(&q, "$%d", n)
					} else {
						q.WriteByte('?')
					}
				}
				q.WriteByte(')')
			}
			var err error
			if st, err = tx.PrepareContext(ctx, q.String()); err != nil {
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

// ReserveIDs returns n new IDs for table's id column, for rows written by
// InsertRows with their IDs given, inside tx. On PostgreSQL they come from
// the identity's sequence; on SQLite, whose writers take turns, they follow
// the largest ID in the table.
func ReserveIDs(ctx context.Context, tx *sql.Tx, d Dialect, table string, n int) ([]int64, error) {
	ids := make([]int64, 0, n)
	if n == 0 {
		return ids, nil
	}
	if d == Postgres {
		rows, err := tx.QueryContext(ctx, fmt.Sprintf(`SELECT nextval(pg_get_serial_sequence('%s', 'id')) FROM generate_series(1, $1)`, table), n)
		if err != nil {
			return nil, fmt.Errorf("db: reserve %s ids: %w", table, err)
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return nil, err
			}
			ids = append(ids, id)
		}
		return ids, rows.Err()
	}
	var last int64
	if err := tx.QueryRowContext(ctx, fmt.Sprintf(`SELECT COALESCE(MAX(id), 0) FROM %s`, table)).Scan(&last); err != nil {
		return nil, fmt.Errorf("db: reserve %s ids: %w", table, err)
	}
	for i := range n {
		ids = append(ids, last+1+int64(i))
	}
	return ids, nil
}
