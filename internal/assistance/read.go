package assistance

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"minzheng/internal/audit"
	"minzheng/internal/auth"
	"minzheng/internal/db"
	"minzheng/internal/errs"
	"minzheng/internal/policy"
	"minzheng/internal/registry"
)

// Get returns an application with its members, steps, materials,
// objections, verification report, the rules engine's pre-check and the
// transitions the caller may make now.
func (s *Service) Get(ctx context.Context, p auth.Principal, id int64) (Case, error) {
	if !p.Can(PermRead) {
		return Case{}, errs.E(errs.Forbidden, "您的角色无权查看救助申请")
	}
	a, err := s.load(ctx, s.DB, p, id)
	if err != nil {
		return Case{}, err
	}
	c := Case{Application: a, Members: []Member{}, Steps: []Step{}, Materials: []Material{}, Objections: []Objection{}, Next: []NextAction{}}
	if c.Members, err = s.members(ctx, s.DB, id); err != nil {
		return Case{}, err
	}
	rows, err := s.DB.QueryContext(ctx, `SELECT from_state, to_state, actor, role, note, reasons, created_at FROM application_steps WHERE application_id = $1 ORDER BY id`, id)
	if err != nil {
		return Case{}, err
	}
	for rows.Next() {
		var st Step
		var from, to, role, reasons, at string
		if err := rows.Scan(&from, &to, &st.Actor, &role, &st.Note, &reasons, &at); err != nil {
			rows.Close()
			return Case{}, err
		}
		st.From, st.To, st.Role, st.At = State(from), State(to), auth.Role(role), db.ParseTime(at)
		json.Unmarshal([]byte(reasons), &st.Reasons)
		if st.Reasons == nil {
			st.Reasons = []string{}
		}
		c.Steps = append(c.Steps, st)
	}
	rows.Close()
	if c.Materials, err = s.materials(ctx, id); err != nil {
		return Case{}, err
	}
	orows, err := s.DB.QueryContext(ctx, `SELECT id, text, created_at FROM objections WHERE application_id = $1 ORDER BY id`, id)
	if err != nil {
		return Case{}, err
	}
	for orows.Next() {
		var o Objection
		var at string
		if err := orows.Scan(&o.ID, &o.Text, &at); err != nil {
			orows.Close()
			return Case{}, err
		}
		o.CreatedAt = db.ParseTime(at)
		c.Objections = append(c.Objections, o)
	}
	orows.Close()
	if c.Report, err = s.report(ctx, s.DB, a, c.Members); err != nil {
		return Case{}, err
	}
	if c.Precheck, err = s.precheck(ctx, s.DB, a); err != nil {
		return Case{}, err
	}
	for _, t := range Transitions {
		if t.From == a.State && t.Allows(p.Role) {
			req := []string{}
			for _, r := range t.Requires {
				req = append(req, r.Label())
			}
			c.Next = append(c.Next, NextAction{To: t.To, Label: t.Label, Requires: req})
		}
	}
	if actsInChain(p.Role) || p.Can(auth.AuditRead) {
		related, err := relatedStaff(ctx, s.DB, id)
		if err != nil {
			return Case{}, err
		}
		for _, n := range related {
			c.RelatedStaff = append(c.RelatedStaff, n)
		}
		slices.Sort(c.RelatedStaff)
	}
	err = s.Audit.Record(ctx, audit.Entry{Actor: p.Name, Role: string(p.Role), Action: "application.view", Entity: "application",
		EntityID: fmt.Sprint(id), Detail: "查看救助申请（含家庭收入、财产）", Remote: p.Remote})
	return c, err
}

func (s *Service) members(ctx context.Context, q db.Queryer, id int64) ([]Member, error) {
	rows, err := q.QueryContext(ctx, `SELECT person_id, relation, name, id_masked, declared_income_fen FROM application_members WHERE application_id = $1 ORDER BY person_id`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Member{}
	for rows.Next() {
		var m Member
		if err := rows.Scan(&m.PersonID, &m.Relation, &m.Name, &m.IDMasked, &m.DeclaredIncomeFen); err != nil {
			return nil, err
		}
		m.RelationLabel = registry.Relation(m.Relation).Label()
		out = append(out, m)
	}
	return out, rows.Err()
}

func (s *Service) materials(ctx context.Context, id int64) ([]Material, error) {
	rows, err := s.DB.QueryContext(ctx, `SELECT id, kind, file_name, content_type, size, sha256, uploaded_by, created_at FROM application_materials WHERE application_id = $1 ORDER BY id`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Material{}
	for rows.Next() {
		var m Material
		var at string
		if err := rows.Scan(&m.ID, &m.Kind, &m.FileName, &m.ContentType, &m.Size, &m.SHA256, &m.UploadedBy, &at); err != nil {
			return nil, err
		}
		m.CreatedAt, m.KindLabel = db.ParseTime(at), MaterialKinds[m.Kind]
		out = append(out, m)
	}
	return out, rows.Err()
}

// precheck evaluates each programme of the application with the rules
// engine, on the register's facts and the declared (or, once verified, the
// verified) incomes and property.
func (s *Service) precheck(ctx context.Context, q db.Queryer, a Application) ([]Precheck, error) {
	rows, err := q.QueryContext(ctx, `SELECT p.id, p.birth_date, p.sex, p.hukou_division, p.residence_division, p.disability_category, p.disability_grade, p.relation, m.declared_income_fen
		FROM application_members m JOIN persons p ON p.id = m.person_id WHERE m.application_id = $1 ORDER BY p.id`, a.ID)
	if err != nil {
		return nil, fmt.Errorf("assistance: precheck facts: %w", err)
	}
	c := policy.Case{Subject: strconv.FormatInt(a.ApplicantID, 10)}
	for rows.Next() {
		var m policy.Member
		var id, income int64
		if err := rows.Scan(&id, &m.BirthDate, &m.Sex, &m.HukouDivision, &m.ResidenceDivision, &m.DisabilityCategory, &m.DisabilityGrade, &m.Relation, &income); err != nil {
			rows.Close()
			return nil, err
		}
		m.ID, m.MonthlyIncome, m.HasSupporter = strconv.FormatInt(id, 10), float64(income)/100, true
		c.Members = append(c.Members, m)
	}
	rows.Close()
	c.Assets = policy.Assets{Deposits: float64(a.DeclaredDepositsFen) / 100, Securities: float64(a.DeclaredSecuritiesFen) / 100,
		Vehicles: a.DeclaredVehicles, Properties: a.DeclaredProperties}
	verified, err := s.verifiedFacts(ctx, q, a.ID)
	if err != nil {
		return nil, err
	}
	if verified != nil {
		for i := range c.Members {
			if v, ok := verified.income[c.Members[i].ID]; ok {
				c.Members[i].MonthlyIncome = float64(v) / 100
			} else {
				c.Members[i].MonthlyIncome = 0
			}
		}
		c.Assets = policy.Assets{Deposits: float64(verified.deposits) / 100, Securities: float64(verified.securities) / 100,
			Vehicles: verified.vehicles, Properties: verified.properties}
	}
	on := s.today()
	out := []Precheck{}
	for _, pr := range a.Programs {
		x := Precheck{Program: pr.Program, Label: pr.Label, Conditions: []Condition{}}
		if _, ok := s.Policies.Get(pr.Program); !ok || len(c.Members) == 0 {
			out = append(out, x)
			continue
		}
		res, err := s.Policies.Evaluate(pr.Program, &c, on, nil)
		if err != nil {
			return nil, fmt.Errorf("assistance: evaluate %s for application %d: %w", pr.Program, a.ID, err)
		}
		x.Evaluated, x.Eligible, x.PolicyVersion = true, res.Eligible, res.Version
		x.MonthlyFen = int64(math.Round(res.MonthlyAmount * 100))
		for _, st := range res.Explanation {
			if st.ID == "amount" {
				continue
			}
			x.Conditions = append(x.Conditions, Condition{ID: st.ID, Label: st.Label, Passed: st.Passed, Detail: st.Detail,
				Evidenced: verified != nil || !evidencedByVerification[st.ID]})
		}
		out = append(out, x)
	}
	return out, nil
}

type verifiedSums struct {
	income                         map[string]int64 // person ID → monthly
	deposits, securities           int64
	vehicles, properties, business int
}

// verifiedFacts sums the latest valid verification batch, or returns nil
// when there is none.
func (s *Service) verifiedFacts(ctx context.Context, q db.Queryer, id int64) (*verifiedSums, error) {
	var batch int64
	err := q.QueryRowContext(ctx, `SELECT id FROM verification_batches WHERE application_id = $1 AND valid_until >= $2 ORDER BY id DESC LIMIT 1`, id, s.today().Format(dateFmt)).Scan(&batch)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	rows, err := q.QueryContext(ctx, `SELECT person_id, source, amount_fen FROM verification_records WHERE batch_id = $1`, batch)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	v := &verifiedSums{income: map[string]int64{}}
	for rows.Next() {
		var pid, fen int64
		var src string
		if err := rows.Scan(&pid, &src, &fen); err != nil {
			return nil, err
		}
		switch src {
		case "wage", "pension":
			v.income[strconv.FormatInt(pid, 10)] += fen
		case "deposit":
			v.deposits += fen
		case "securities":
			v.securities += fen
		case "vehicle":
			v.vehicles++
		case "real_estate":
			v.properties++
		case "business":
			v.business++
		}
	}
	return v, rows.Err()
}

// List returns the applications in the caller's jurisdiction, oldest
// deadline first.
func (s *Service) List(ctx context.Context, p auth.Principal, q ListQuery) (List, error) {
	if !p.Can(PermRead) {
		return List{}, errs.E(errs.Forbidden, "您的角色无权查看救助申请")
	}
	if q.Limit <= 0 {
		q.Limit = 50
	}
	q.Limit = min(q.Limit, 200)
	sc, args := p.Scope().SQL(nil, "a.division")
	cond := []string{sc}
	if q.State != "" {
		if _, ok := q.State.Info(); !ok {
			return List{}, errs.Field("state", "未知状态“%s”", q.State)
		}
		args = append(args, string(q.State))
		cond = append(cond, fmt.Sprintf("a.state = $%d", len(args)))
	}
	if q.Overdue {
		args = append(args, s.today().Format(dateFmt))
		cond = append(cond, fmt.Sprintf("a.due_on < $%d", len(args)))
	}
	where := strings.Join(cond, " AND ")
	res := List{Items: []Application{}}
	if err := s.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM applications a WHERE `+where, args...).Scan(&res.Total); err != nil {
		return List{}, fmt.Errorf("assistance: count: %w", err)
	}
	rows, err := s.DB.QueryContext(ctx, fmt.Sprintf(`SELECT %s FROM applications a WHERE %s ORDER BY CASE WHEN a.due_on IS NULL THEN 1 ELSE 0 END, a.due_on, a.id LIMIT %d OFFSET %d`,
		appCols, where, q.Limit, max(q.Offset, 0)), args...)
	if err != nil {
		return List{}, fmt.Errorf("assistance: list: %w", err)
	}
	var items []Application
	for rows.Next() {
		a, err := s.scanApp(rows)
		if err != nil {
			rows.Close()
			return List{}, err
		}
		items = append(items, a)
	}
	rows.Close()
	for _, a := range items {
		if a.Programs, err = s.programs(ctx, s.DB, a.ID); err != nil {
			return List{}, err
		}
		res.Items = append(res.Items, a)
	}
	return res, nil
}

// Overdue counts the open and the overdue cases per district of the
// caller's jurisdiction.
func (s *Service) Overdue(ctx context.Context, p auth.Principal) ([]OverdueCount, error) {
	if !p.Can(PermRead) {
		return nil, errs.E(errs.Forbidden, "您的角色无权查看救助申请")
	}
	where, args := p.Scope().SQL(nil, "a.division")
	args = append(args, s.today().Format(dateFmt))
	rows, err := s.DB.QueryContext(ctx, fmt.Sprintf(`SELECT SUBSTR(a.division, 1, 6), COUNT(*), SUM(CASE WHEN a.due_on < $%d THEN 1 ELSE 0 END)
		FROM applications a WHERE %s AND a.due_on IS NOT NULL GROUP BY SUBSTR(a.division, 1, 6) ORDER BY 1`, len(args), where), args...)
	if err != nil {
		return nil, fmt.Errorf("assistance: overdue: %w", err)
	}
	defer rows.Close()
	out := []OverdueCount{}
	for rows.Next() {
		var c OverdueCount
		if err := rows.Scan(&c.District, &c.Open, &c.Overdue); err != nil {
			return nil, err
		}
		c.Name = s.Tree.Name(c.District)
		out = append(out, c)
	}
	return out, rows.Err()
}
