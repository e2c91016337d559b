package payroll

import (
	"context"
	"fmt"
	"sort"
	"time"

	"minzheng/internal/auth"
	"minzheng/internal/errs"
)

// Figure is one district's and programme's numbers for a period.
type Figure struct {
	District   string  `json:"district"`
	Program    string  `json:"program"`
	Cases      int64   `json:"cases"`      // beneficiaries paid (户/人次)
	People     int64   `json:"people"`     // people covered: household members for household programmes
	Amount     float64 `json:"amount"`     // the period's lines, yuan
	BackPay    float64 `json:"back_pay"`   // of which back payments
	Deductions float64 `json:"deductions"` // deductions (negative)
	New        int64   `json:"new"`        // entitlements starting in the period
	Stopped    int64   `json:"stopped"`    // entitlements stopping in the period
	SignedBy   string  `json:"signed_by"`  // the district's sign-off, if given
	Recoveries float64 `json:"recoveries"` // recoveries of overpaid months found this period (negative)
}

// Figures returns the period's numbers by district and programme, within
// the caller's jurisdiction.
func (s *Service) Figures(ctx context.Context, by auth.Principal, period string) ([]Figure, error) {
	if !by.Can(PermRead) {
		return nil, errs.E(errs.Forbidden, "您的角色无权查看发放统计")
	}
	first, last, err := ParsePeriod(period)
	if err != nil {
		return nil, errs.Field("period", "%s", err.Error())
	}
	lo, hi := by.Scope().Range()
	type key struct{ district, program string }
	m := map[key]*Figure{}
	get := func(d, p string) *Figure {
		k := key{d, p}
		if f, ok := m[k]; ok {
			return f
		}
		f := &Figure{District: d, Program: p}
		m[k] = f
		return f
	}
	rows, err := s.DB.QueryContext(ctx, `SELECT substr(division, 1, 6), program, kind, COUNT(*), SUM(fen) FROM ledger
		WHERE period = $1 AND division >= $2 AND division < $3 GROUP BY substr(division, 1, 6), program, kind`, period, lo, hi)
	if err != nil {
		return nil, fmt.Errorf("payroll: figures: %w", err)
	}
	for rows.Next() {
		var d, p, kind string
		var n, fen int64
		if err := rows.Scan(&d, &p, &kind, &n, &fen); err != nil {
			rows.Close()
			return nil, err
		}
		f := get(d, p)
		f.Amount += yuan(fen)
		switch kind {
		case Regular, OneOff:
			f.Cases += n
			f.People += n
		case BackPay:
			f.BackPay += yuan(fen)
		case Deduction:
			f.Deductions += yuan(fen)
		case Recovery:
			f.Recoveries += yuan(fen)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// Household programmes cover every living member, not only the head.
	if len(s.HouseholdPrograms) > 0 {
		rows, err := s.DB.QueryContext(ctx, `SELECT substr(l.division, 1, 6), l.program, COUNT(*) FROM ledger l JOIN persons p ON p.household_id = l.household_id
			WHERE l.period = $1 AND l.kind = 'regular' AND l.division >= $2 AND l.division < $3 AND (p.death_date IS NULL OR p.death_date >= $4)
			GROUP BY substr(l.division, 1, 6), l.program`, period, lo, hi, first.Format(time.DateOnly))
		if err != nil {
			return nil, fmt.Errorf("payroll: figures: %w", err)
		}
		for rows.Next() {
			var d, p string
			var n int64
			if err := rows.Scan(&d, &p, &n); err != nil {
				rows.Close()
				return nil, err
			}
			if s.HouseholdPrograms[p] {
				get(d, p).People = n
			}
		}
		rows.Close()
	}
	rows, err = s.DB.QueryContext(ctx, `SELECT substr(h.hukou_division, 1, 6), e.program,
			SUM(CASE WHEN e.since >= $1 AND e.since <= $2 THEN 1 ELSE 0 END), SUM(CASE WHEN e.until >= $1 AND e.until <= $2 THEN 1 ELSE 0 END)
		FROM entitlements e JOIN households h ON h.id = e.household_id
		WHERE ((e.since >= $1 AND e.since <= $2) OR (e.until >= $1 AND e.until <= $2)) AND h.hukou_division >= $3 AND h.hukou_division < $4
		GROUP BY substr(h.hukou_division, 1, 6), e.program`, first.Format(time.DateOnly), last.Format(time.DateOnly), lo, hi)
	if err != nil {
		return nil, fmt.Errorf("payroll: figures: %w", err)
	}
	for rows.Next() {
		var d, p string
		var n, st int64
		if err := rows.Scan(&d, &p, &n, &st); err != nil {
			rows.Close()
			return nil, err
		}
		f := get(d, p)
		f.New, f.Stopped = n, st
	}
	rows.Close()
	// A district is signed off when its last batch covers its last line.
	signed := map[string]string{}
	srows, err := s.DB.QueryContext(ctx, `SELECT s.district, s.approver FROM payroll_signoffs s
		WHERE s.period = $1 AND s.batch = (SELECT MAX(batch) FROM payroll_signoffs x WHERE x.period = s.period AND x.district = s.district)
		AND NOT EXISTS (SELECT 1 FROM ledger l WHERE l.period = s.period AND l.division >= s.district AND l.division < s.district || 'z' AND l.id > s.max_line)`, period)
	if err != nil {
		return nil, err
	}
	for srows.Next() {
		var d, a string
		if err := srows.Scan(&d, &a); err != nil {
			srows.Close()
			return nil, err
		}
		signed[d] = a
	}
	srows.Close()
	out := make([]Figure, 0, len(m))
	for _, f := range m {
		f.SignedBy = signed[f.District]
		out = append(out, *f)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].District != out[j].District {
			return out[i].District < out[j].District
		}
		return out[i].Program < out[j].Program
	})
	return out, nil
}

// SignOff is a district approver's sign-off (签发) of a period's payroll
// for their district: it records the district's lines not yet signed off
// (all of them the first time; lines a later run added, as a supplementary
// batch, afterwards) and writes their bank files. Nothing new to sign is a
// Conflict; a payroll running meanwhile too.
func (s *Service) SignOff(ctx context.Context, by auth.Principal, period, district string) ([]string, error) {
	if !by.Can(PermSign) {
		return nil, errs.E(errs.Forbidden, "您的角色无权签发发放")
	}
	if _, _, err := ParsePeriod(period); err != nil {
		return nil, errs.Field("period", "%s", err.Error())
	}
	sc := by.Scope()
	if len(district) != 6 || !sc.Covers(district) {
		return nil, errs.E(errs.Forbidden, "区 %s 不在您的管辖范围内", district)
	}
	sc, _ = sc.Narrow(district)
	return s.release(ctx, by, period, sc, district)
}

// Period is a payroll period with its totals in the caller's jurisdiction.
type Period struct {
	Period string  `json:"period"`
	Lines  int64   `json:"lines"`
	Amount float64 `json:"amount"`
}

// Periods lists the periods in the ledger, newest first.
func (s *Service) Periods(ctx context.Context, by auth.Principal) ([]Period, error) {
	if !by.Can(PermRead) {
		return nil, errs.E(errs.Forbidden, "您的角色无权查看发放")
	}
	rows, err := s.DB.QueryContext(ctx, `SELECT DISTINCT period FROM payroll_runs ORDER BY period DESC LIMIT 36`)
	if err != nil {
		return nil, err
	}
	var ps []Period
	for rows.Next() {
		var p Period
		if err := rows.Scan(&p.Period); err != nil {
			rows.Close()
			return nil, err
		}
		ps = append(ps, p)
	}
	rows.Close()
	lo, hi := by.Scope().Range()
	for i := range ps {
		var fen int64
		if err := s.DB.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(fen), 0) FROM ledger WHERE period = $1 AND division >= $2 AND division < $3`, ps[i].Period, lo, hi).Scan(&ps[i].Lines, &fen); err != nil {
			return nil, err
		}
		ps[i].Amount = yuan(fen)
	}
	return ps, nil
}
