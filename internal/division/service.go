package division

import (
	"context"
	"database/sql"
	"fmt"

	"minzheng/internal/auth"
	"minzheng/internal/db"
	"minzheng/internal/errs"
)

// Service answers questions about the tree and the people registered in it.
type Service struct {
	db   *db.DB
	Tree *Tree
}

// NewService returns a service over the tree, storing it in d on first use.
func NewService(d *db.DB, t *Tree) *Service { return &Service{db: d, Tree: t} }

// Seed writes the tree into the divisions table when the table is empty.
func (s *Service) Seed(ctx context.Context) error {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM divisions`).Scan(&n); err != nil {
		return fmt.Errorf("division: seed: %w", err)
	}
	if n > 0 {
		return nil
	}
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO divisions (code, name, level, parent) VALUES ($1, $2, $3, $4)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, d := range s.Tree.All() {
			var parent any
			if d.Parent != "" {
				parent = d.Parent
			}
			if _, err := stmt.ExecContext(ctx, d.Code, d.Name, string(d.Level), parent); err != nil {
				return fmt.Errorf("division: seed %s: %w", d.Code, err)
			}
		}
		return nil
	})
}

// ExportNode is Node for a list export, which needs the export
// permission as well.
func (s *Service) ExportNode(ctx context.Context, p auth.Principal, code string) (Node, error) {
	if !p.Can(auth.ExportList) {
		return Node{}, errs.E(errs.Forbidden, "您的角色无权导出名单")
	}
	return s.Node(ctx, p, code)
}

// Node returns a division with its path, its children and, for each, the
// number of living registered people and of households, counted inside the
// caller's jurisdiction only.
func (s *Service) Node(ctx context.Context, p auth.Principal, code string) (Node, error) {
	if !p.Can(auth.DivisionRead) {
		return Node{}, errs.E(errs.Forbidden, "您的角色无权查看行政区划")
	}
	d, ok := s.Tree.Get(code)
	if !ok {
		return Node{}, errs.E(errs.NotFound, "行政区划代码“%s”不存在", code)
	}
	n := Node{Division: d, Path: s.Tree.Path(code), Children: []Ref{}}
	kids := s.Tree.Children(code)
	stats := map[string]*Stat{}
	for _, c := range kids {
		cd, _ := s.Tree.Get(c)
		n.Children = append(n.Children, Ref{Code: c, Name: cd.Name})
		n.ChildStats = append(n.ChildStats, Stat{Ref: Ref{Code: c, Name: cd.Name}, Level: cd.Level})
	}
	for i := range n.ChildStats {
		stats[n.ChildStats[i].Code] = &n.ChildStats[i]
	}
	sc, ok := p.Scope().Narrow(code)
	if !ok {
		return n, nil
	}
	lo, hi := sc.Range()
	childLen := 0
	if len(kids) > 0 {
		childLen = len(kids[0])
	}
	count := func(table, extra string, set func(st *Stat, v int64), total *int64) error {
		q := fmt.Sprintf(`SELECT substr(hukou_division, 1, %d), COUNT(*) FROM %s WHERE hukou_division >= $1 AND hukou_division < $2 %s GROUP BY 1`, max(childLen, 1), table, extra)
		rows, err := s.db.QueryContext(ctx, q, lo, hi)
		if err != nil {
			return fmt.Errorf("division: count %s: %w", table, err)
		}
		defer rows.Close()
		for rows.Next() {
			var c string
			var v int64
			if err := rows.Scan(&c, &v); err != nil {
				return err
			}
			*total += v
			if st := stats[c]; st != nil {
				set(st, v)
			}
		}
		return rows.Err()
	}
	if err := count("persons", "AND death_date IS NULL", func(st *Stat, v int64) { st.Persons = v }, &n.Persons); err != nil {
		return Node{}, err
	}
	if err := count("households", "", func(st *Stat, v int64) { st.Households = v }, &n.Households); err != nil {
		return Node{}, err
	}
	return n, nil
}
