package assistance

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"minzheng/internal/audit"
	"minzheng/internal/auth"
	"minzheng/internal/db"
	"minzheng/internal/division"
	"minzheng/internal/errs"
	"minzheng/internal/events"
	"minzheng/internal/jobs"
	"minzheng/internal/policy"
	"minzheng/internal/registry"
	"minzheng/internal/secret"
)

// Service is the social assistance line.
type Service struct {
	DB       *db.DB
	Registry *registry.Service
	Policies *policy.Set
	Audit    *audit.Log
	Suite    secret.Suite
	Tree     *division.Tree
	DataDir  string       // uploads go under DataDir/uploads
	Leases   *jobs.Leases // RunRechecks' lease
	Now      func() time.Time
}

// today is the calendar date in Shanghai.
func (s *Service) today() time.Time {
	n := s.Now().In(shanghai)
	return time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, time.UTC)
}

var shanghai = time.FixedZone("CST", 8*3600)

const dateFmt = time.DateOnly

const appCols = `a.id, a.kind, a.parent_id, a.household_id, a.applicant_id, a.division, a.state, a.state_since, a.due_on, a.notice_until, a.conflict,
	a.declared_deposits_fen, a.declared_securities_fen, a.declared_vehicles, a.declared_properties, a.decided_on, a.created_by, a.created_at,
	COALESCE((SELECT m.name FROM application_members m WHERE m.application_id = a.id AND m.person_id = a.applicant_id), '')`

func (s *Service) scanApp(row interface{ Scan(...any) error }) (Application, error) {
	var a Application
	var parent sql.NullInt64
	var state, since, created string
	var due, notice, decided sql.NullString
	var conflict int
	err := row.Scan(&a.ID, &a.Kind, &parent, &a.HouseholdID, &a.ApplicantID, &a.Division, &state, &since, &due, &notice, &conflict,
		&a.DeclaredDepositsFen, &a.DeclaredSecuritiesFen, &a.DeclaredVehicles, &a.DeclaredProperties, &decided, &a.CreatedBy, &created, &a.Applicant)
	if err != nil {
		return a, err
	}
	a.ParentID, a.State, a.StateLabel = parent.Int64, State(state), State(state).Label()
	a.StateSince, a.CreatedAt = db.ParseTime(since), db.ParseTime(created)
	a.DueOn, a.NoticeUntil, a.DecidedOn, a.Conflict = due.String, notice.String, decided.String, conflict != 0
	a.Overdue = a.DueOn != "" && a.DueOn < s.today().Format(dateFmt)
	return a, nil
}

// load reads an application in the caller's jurisdiction; outside it, it
// reads as absent.
func (s *Service) load(ctx context.Context, q db.Queryer, p auth.Principal, id int64) (Application, error) {
	// a.division is the household's registered address.
	where, args := p.Scope().SQL(nil, "a.division")
	args = append(args, id)
	a, err := s.scanApp(q.QueryRowContext(ctx, fmt.Sprintf(`SELECT %s FROM applications a WHERE %s AND a.id = $%d`, appCols, where, len(args)), args...))
	if errors.Is(err, sql.ErrNoRows) {
		return Application{}, errs.E(errs.NotFound, "未找到编号为 %d 的救助申请，或不在您的辖区内", id)
	}
	if err != nil {
		return Application{}, fmt.Errorf("assistance: load application %d: %w", id, err)
	}
	a.Programs, err = s.programs(ctx, q, id)
	return a, err
}

func (s *Service) programs(ctx context.Context, q db.Queryer, id int64) ([]ProgramStatus, error) {
	rows, err := q.QueryContext(ctx, `SELECT program, status, monthly_fen, one_off_fen FROM application_programs WHERE application_id = $1 ORDER BY program`, id)
	if err != nil {
		return nil, fmt.Errorf("assistance: programmes of %d: %w", id, err)
	}
	defer rows.Close()
	out := []ProgramStatus{}
	for rows.Next() {
		var x ProgramStatus
		if err := rows.Scan(&x.Program, &x.Status, &x.MonthlyFen, &x.OneOffFen); err != nil {
			return nil, err
		}
		x.Label = ProgramLabel(x.Program)
		out = append(out, x)
	}
	return out, rows.Err()
}

func (s *Service) dueOn(st State, from time.Time) any {
	info, ok := st.Info()
	if !ok || info.DeadlineDays == 0 {
		return nil
	}
	return from.AddDate(0, 0, info.DeadlineDays).Format(dateFmt)
}

// Create starts an application for the household of a registered person
// whose registered address (户籍地) lies in the caller's jurisdiction.
func (s *Service) Create(ctx context.Context, p auth.Principal, na NewApplication) (Application, error) {
	if !p.Can(PermCreate) {
		return Application{}, errs.E(errs.Forbidden, "您的角色无权受理救助申请")
	}
	var fe errs.Fields
	if na.PersonID <= 0 {
		fe.Add("person_id", "请指定申请人（已登记人员的编号）")
	}
	if len(na.Programs) == 0 {
		fe.Add("programs", "请至少选择一个救助项目")
	}
	seen := map[string]bool{}
	for i, pr := range na.Programs {
		if _, ok := ProgramByID(pr); !ok {
			fe.Add(fmt.Sprintf("programs[%d]", i), "未知救助项目“%s”，可选：dibao、dibao_edge、rigid_expense、tekun、temporary", pr)
		} else if seen[pr] {
			fe.Add(fmt.Sprintf("programs[%d]", i), "救助项目“%s”重复", ProgramLabel(pr))
		}
		seen[pr] = true
	}
	if na.DeclaredDepositsFen < 0 {
		fe.Add("declared_deposits_fen", "申报存款不能为负数")
	}
	if na.DeclaredSecuritiesFen < 0 {
		fe.Add("declared_securities_fen", "申报有价证券不能为负数")
	}
	if na.DeclaredVehicles < 0 {
		fe.Add("declared_vehicles", "申报车辆数不能为负数")
	}
	if na.DeclaredProperties < 0 {
		fe.Add("declared_properties", "申报住房套数不能为负数")
	}
	if err := fe.Err(); err != nil {
		return Application{}, err
	}
	subject, members, err := s.Registry.Household(ctx, p, na.PersonID, "受理社会救助申请")
	if err != nil {
		if errs.IsNotFound(err) {
			return Application{}, errs.E(errs.NotFound, "未找到编号为 %d 的人员，或不在您的辖区内", na.PersonID)
		}
		return Application{}, err
	}
	var hukou string
	if err := s.DB.QueryRowContext(ctx, `SELECT hukou_division FROM households WHERE id = $1`, subject.HouseholdID).Scan(&hukou); err != nil {
		return Application{}, fmt.Errorf("assistance: household %d: %w", subject.HouseholdID, err)
	}
	if !policy.IsShanghai(hukou) {
		return Application{}, errs.Field("person_id", "该户不是本市户籍，社会救助由户籍地街道（乡镇）受理")
	}
	if !p.Scope().Covers(hukou) {
		return Application{}, errs.Field("person_id", "该户户籍地为%s，不在您的辖区内：社会救助由户籍地街道（乡镇）受理", s.Tree.FullName(hukou))
	}
	living := map[int64]registry.Person{}
	for _, m := range members {
		if m.Alive() {
			living[m.ID] = m
		}
	}
	for k, v := range na.DeclaredIncomeFen {
		pid, err := strconv.ParseInt(k, 10, 64)
		if _, ok := living[pid]; err != nil || !ok {
			fe.Add("declared_income_fen."+k, "人员 %s 不是该户在世成员", k)
		} else if v < 0 {
			fe.Add("declared_income_fen."+k, "申报收入不能为负数")
		}
	}
	if err := fe.Err(); err != nil {
		return Application{}, err
	}
	now := s.Now().UTC()
	var a Application
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		var open int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM applications WHERE household_id = $1 AND state NOT IN ('granted', 'refused')`, subject.HouseholdID).Scan(&open); err != nil {
			return err
		}
		if open > 0 {
			return errs.E(errs.Conflict, "该户已有一件办理中的救助申请，请在原申请中办理")
		}
		var id int64
		if err := tx.QueryRowContext(ctx, `INSERT INTO applications (kind, household_id, applicant_id, division, state, state_since, due_on, declared_deposits_fen,
			declared_securities_fen, declared_vehicles, declared_properties, created_by, created_at, updated_at)
			VALUES ('new', $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $5, $5) RETURNING id`,
			subject.HouseholdID, subject.ID, hukou, string(Submitted), db.Now(now), s.dueOn(Submitted, s.today()), na.DeclaredDepositsFen,
			na.DeclaredSecuritiesFen, na.DeclaredVehicles, na.DeclaredProperties, p.Name).Scan(&id); err != nil {
			return fmt.Errorf("assistance: insert application: %w", err)
		}
		for _, pr := range na.Programs {
			if _, err := tx.ExecContext(ctx, `INSERT INTO application_programs (application_id, program, status) VALUES ($1, $2, 'pending')`, id, pr); err != nil {
				return fmt.Errorf("assistance: insert programme: %w", err)
			}
		}
		if err := s.copyMembers(ctx, tx, id, subject.HouseholdID, func(m registry.Person) int64 {
			if v, ok := na.DeclaredIncomeFen[strconv.FormatInt(m.ID, 10)]; ok {
				return v
			}
			return m.MonthlyIncome * 100 // the register holds yuan
		}); err != nil {
			return err
		}
		if err := s.insertStep(ctx, tx, id, "", Submitted, p, "受理申请", nil, now); err != nil {
			return err
		}
		var err error
		if a, err = s.load(ctx, tx, auth.System(), id); err != nil {
			return err
		}
		if err := s.checkConflict(ctx, tx, p, &a, now); err != nil {
			return err
		}
		labels := make([]string, len(na.Programs))
		for i, pr := range na.Programs {
			labels[i] = ProgramLabel(pr)
		}
		if err := s.Audit.Append(ctx, tx, audit.Entry{Actor: p.Name, Role: string(p.Role), Action: "application.create", Entity: "application",
			EntityID: fmt.Sprint(id), Detail: fmt.Sprintf("受理户 %d 的救助申请：%s", subject.HouseholdID, strings.Join(labels, "、")), Remote: p.Remote}); err != nil {
			return err
		}
		_, err = events.Append(ctx, tx, ApplicationMoved, id, hukou, Moved{ApplicationID: id, To: Submitted}, now)
		return err
	})
	return a, err
}

// copyMembers records the living members of the household on the
// application, with their keyed ID hashes for matching.
func (s *Service) copyMembers(ctx context.Context, tx *sql.Tx, id, household int64, income func(registry.Person) int64) error {
	rows, err := tx.QueryContext(ctx, `SELECT id, relation, name, id_masked, id_hash, monthly_income FROM persons WHERE household_id = $1 AND death_date IS NULL ORDER BY id`, household)
	if err != nil {
		return fmt.Errorf("assistance: members of household %d: %w", household, err)
	}
	type row struct {
		m    registry.Person
		hash []byte
	}
	var all []row
	for rows.Next() {
		var r row
		var rel string
		if err := rows.Scan(&r.m.ID, &rel, &r.m.Name, &r.m.IDMasked, &r.hash, &r.m.MonthlyIncome); err != nil {
			rows.Close()
			return err
		}
		r.m.Relation = registry.Relation(rel)
		all = append(all, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, r := range all {
		if _, err := tx.ExecContext(ctx, `INSERT INTO application_members (application_id, person_id, relation, name, id_masked, id_hash, declared_income_fen)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, id, r.m.ID, string(r.m.Relation), r.m.Name, r.m.IDMasked, r.hash, income(r.m)); err != nil {
			return fmt.Errorf("assistance: insert member: %w", err)
		}
	}
	return nil
}

func (s *Service) insertStep(ctx context.Context, tx *sql.Tx, id int64, from, to State, p auth.Principal, note string, reasons []string, now time.Time) error {
	if reasons == nil {
		reasons = []string{}
	}
	b, _ := json.Marshal(reasons)
	_, err := tx.ExecContext(ctx, `INSERT INTO application_steps (application_id, from_state, to_state, actor, actor_id, role, note, reasons, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, id, string(from), string(to), p.Name, p.UserID, string(p.Role), note, string(b), db.Now(now))
	if err != nil {
		return fmt.Errorf("assistance: insert step: %w", err)
	}
	return nil
}

// relatedStaff returns the staff (user ID → name) who have a relative on
// file among the application's members.
func relatedStaff(ctx context.Context, q db.Queryer, id int64) (map[int64]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT DISTINCT r.user_id, r.user_name FROM staff_relatives r JOIN application_members m ON m.id_hash = r.id_hash WHERE m.application_id = $1`, id)
	if err != nil {
		return nil, fmt.Errorf("assistance: related staff of %d: %w", id, err)
	}
	defer rows.Close()
	out := map[int64]string{}
	for rows.Next() {
		var uid int64
		var name string
		if err := rows.Scan(&uid, &name); err != nil {
			return nil, err
		}
		out[uid] = name
	}
	return out, rows.Err()
}

// checkConflict flags the application when a staff member who acted in its
// chain (or acts now) has a relative among its members; the flag is
// audited once.
func (s *Service) checkConflict(ctx context.Context, tx *sql.Tx, p auth.Principal, a *Application, now time.Time) error {
	if a.Conflict {
		return nil
	}
	related, err := relatedStaff(ctx, tx, a.ID)
	if err != nil || len(related) == 0 {
		return err
	}
	rows, err := tx.QueryContext(ctx, `SELECT DISTINCT actor_id FROM application_steps WHERE application_id = $1`, a.ID)
	if err != nil {
		return err
	}
	actors := []int64{p.UserID}
	for rows.Next() {
		var uid int64
		if err := rows.Scan(&uid); err != nil {
			rows.Close()
			return err
		}
		actors = append(actors, uid)
	}
	rows.Close()
	var who []string
	for _, uid := range actors {
		if name, ok := related[uid]; ok && !slices.Contains(who, name) {
			who = append(who, name)
		}
	}
	if len(who) == 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `UPDATE applications SET conflict = 1 WHERE id = $1`, a.ID); err != nil {
		return err
	}
	a.Conflict = true
	return s.Audit.Append(ctx, tx, audit.Entry{Actor: p.Name, Role: string(p.Role), Action: "application.conflict_flagged", Entity: "application",
		EntityID: fmt.Sprint(a.ID), Detail: fmt.Sprintf("经办人员 %s 的备案亲属为申请家庭成员，标记利益冲突；审核、审批须由无亲属关系的人员办理", strings.Join(who, "、")), Remote: p.Remote})
}

// Move makes a transition of the chain: the caller's role must be one of
// the transition's, the case in the caller's jurisdiction, what the
// transition requires recorded, and, for a deciding transition, the
// caller without a relative in the household. The change, its audit entry
// and its events are written in one transaction; an approval also writes
// the decision and the entitlement the payroll pays.
func (s *Service) Move(ctx context.Context, p auth.Principal, id int64, m Move) (Application, error) {
	if !p.Can(PermRead) || !actsInChain(p.Role) {
		return Application{}, errs.E(errs.Forbidden, "您的角色（%s）不办理救助申请的审核审批流程", p.Role.Label())
	}
	m.Note = strings.TrimSpace(m.Note)
	var reasons []string
	for _, r := range m.Reasons {
		if r = strings.TrimSpace(r); r != "" {
			reasons = append(reasons, r)
		}
	}
	now := s.Now().UTC()
	today := s.today()
	var a Application
	var refusedConflict bool
	err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		if a, err = s.load(ctx, tx, p, id); err != nil {
			return err
		}
		t, ok := Find(a.State, m.To)
		if !ok {
			if a.State.Final() {
				return errs.E(errs.Conflict, "申请已办结（%s），不能再转为“%s”", a.State.Label(), m.To.Label())
			}
			return errs.E(errs.Conflict, "申请当前处于“%s”，不能转为“%s”", a.State.Label(), m.To.Label())
		}
		if !t.Allows(p.Role) {
			names := make([]string, len(t.Roles))
			for i, r := range t.Roles {
				names[i] = r.Label()
			}
			return errs.E(errs.Forbidden, "“%s”须由%s办理，您的角色是%s", t.Label, strings.Join(names, "或"), p.Role.Label())
		}
		if err := s.checkConflict(ctx, tx, p, &a, now); err != nil {
			return err
		}
		if t.Independent {
			related, err := relatedStaff(ctx, tx, id)
			if err != nil {
				return err
			}
			if _, ok := related[p.UserID]; ok {
				refusedConflict = true
				return errs.E(errs.Forbidden, "您有备案亲属是该申请家庭的成员（经办人员亲属备案），须回避：“%s”应由无亲属关系的工作人员办理", t.Label)
			}
		}
		var amounts map[string]int64
		var pre []Precheck
		if t.Needs(NeedAmounts) {
			if pre, err = s.precheck(ctx, tx, a); err != nil {
				return err
			}
		}
		if amounts, err = s.requirements(ctx, tx, t, a, m, reasons, pre, today); err != nil {
			return err
		}
		var due, notice any = s.dueOn(t.To, today), nullable(a.NoticeUntil)
		if t.To == Notice {
			notice = today.AddDate(0, 0, NoticeDays).Format(dateFmt)
		}
		var decided any
		if t.To.Final() {
			decided = today.Format(dateFmt)
		}
		// The state is a condition of the update: of two staff moving the
		// same case at once (PostgreSQL reads committed data), one wins and
		// the other is told the case has moved on.
		res, err := tx.ExecContext(ctx, `UPDATE applications SET state = $1, state_since = $2, due_on = $3, notice_until = $4, decided_on = $5, updated_at = $2 WHERE id = $6 AND state = $7`,
			string(t.To), db.Now(now), due, notice, decided, id, string(a.State))
		if err != nil {
			return fmt.Errorf("assistance: move %d: %w", id, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n != 1 {
			return errs.E(errs.Conflict, "申请已被他人办理（不再处于“%s”），请刷新后重试", a.State.Label())
		}
		if err := s.insertStep(ctx, tx, id, a.State, t.To, p, m.Note, reasons, now); err != nil {
			return err
		}
		detail := fmt.Sprintf("%s：%s → %s", t.Label, a.State.Label(), t.To.Label())
		if a.Conflict && t.Independent {
			detail += fmt.Sprintf("（该申请有利益冲突标记，由无亲属关系的%s %s 办理）", p.Role.Label(), p.Name)
		}
		switch t.To {
		case Granted:
			d, err := s.grant(ctx, tx, p, a, amounts, pre, today, now)
			if err != nil {
				return err
			}
			detail += "；" + d
		case Refused:
			if _, err := tx.ExecContext(ctx, `UPDATE application_programs SET status = 'refused' WHERE application_id = $1`, id); err != nil {
				return err
			}
			if a.Kind == "recheck" {
				if err := s.stopOnRecheck(ctx, tx, a, today, now); err != nil {
					return err
				}
			}
			detail += "；理由：" + strings.Join(reasons, "；")
		}
		if err := s.Audit.Append(ctx, tx, audit.Entry{Actor: p.Name, Role: string(p.Role), Action: "application.move", Entity: "application",
			EntityID: fmt.Sprint(id), Detail: detail, Remote: p.Remote}); err != nil {
			return err
		}
		payload := Moved{ApplicationID: id, From: a.State, To: t.To, Actor: p.Name, HouseholdID: a.HouseholdID}
		if _, err := events.Append(ctx, tx, ApplicationMoved, id, a.Division, payload, now); err != nil {
			return err
		}
		if t.To.Final() {
			if _, err := events.Append(ctx, tx, ApplicationDecided, id, a.Division, payload, now); err != nil {
				return err
			}
		}
		a, err = s.load(ctx, tx, auth.System(), id)
		return err
	})
	if refusedConflict {
		// The refusal is audited too, and the case flagged: a staff
		// member with a relative in the household tried to decide it.
		ferr := s.DB.Tx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `UPDATE applications SET conflict = 1 WHERE id = $1`, id); err != nil {
				return err
			}
			return s.Audit.Append(ctx, tx, audit.Entry{Actor: p.Name, Role: string(p.Role), Action: "application.conflict_refused", Entity: "application",
				EntityID: fmt.Sprint(id), Detail: fmt.Sprintf("拒绝办理并标记利益冲突：%s 的备案亲属为申请家庭成员，须回避", p.Name), Remote: p.Remote})
		})
		if ferr != nil {
			return Application{}, ferr
		}
	}
	if err != nil {
		return Application{}, err
	}
	return a, nil
}

// evidencedByVerification lists the policy conditions that rest on income
// and property, which only a valid verification report evidences.
var evidencedByVerification = map[string]bool{"income": true, "property": true, "expense": true, "income_cap": true, "not_dibao": true}
