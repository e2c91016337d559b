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
	"time"
	"unicode/utf8"

	"minzheng/internal/audit"
	"minzheng/internal/auth"
	"minzheng/internal/db"
	"minzheng/internal/division"
	"minzheng/internal/eligibility"
	"minzheng/internal/errs"
	"minzheng/internal/events"
	"minzheng/internal/idcard"
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

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// requirements checks that what the transition requires is recorded, and
// returns the approved amounts of an approval.
func (s *Service) requirements(ctx context.Context, tx *sql.Tx, t Transition, a Application, m Move, reasons []string, pre []Precheck, today time.Time) (map[string]int64, error) {
	var fe errs.Fields
	if utf8.RuneCountInString(m.Note) > 2000 {
		fe.Add("note", "意见过长（最多 2000 字）")
	}
	if t.Needs(NeedNote) && m.Note == "" {
		fe.Add("note", "请填写意见（%s）", t.Label)
	}
	if t.Needs(NeedReasons) && len(reasons) == 0 {
		fe.Add("reasons", "请填写不予批准的理由")
	}
	if t.Needs(NeedVerification) {
		var until sql.NullString
		err := tx.QueryRowContext(ctx, `SELECT MAX(valid_until) FROM verification_batches WHERE application_id = $1`, a.ID).Scan(&until)
		if err != nil {
			return nil, err
		}
		switch {
		case !until.Valid:
			fe.Add("verification", "尚无经济状况核对数据，请先导入各部门核对结果")
		case until.String < today.Format(dateFmt):
			fe.Add("verification", "经济状况核对报告已于 %s 过期，请重新核对", until.String)
		}
	}
	if t.Needs(NeedVisit) {
		if m.Note == "" {
			fe.Add("note", "请填写入户调查记录")
		}
		var photos int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM application_materials WHERE application_id = $1 AND kind = 'visit_photo'`, a.ID).Scan(&photos); err != nil {
			return nil, err
		}
		if photos == 0 {
			fe.Add("materials", "请先上传入户调查照片（材料类型 visit_photo）")
		}
	}
	if t.Needs(NeedNoticeOver) {
		if a.NoticeUntil != "" && today.Format(dateFmt) < a.NoticeUntil {
			fe.Add("notice_until", "公示期至 %s 止，期满后方可提交区审核", a.NoticeUntil)
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM objections WHERE application_id = $1`, a.ID).Scan(&n); err != nil {
			return nil, err
		}
		if n > 0 && m.Note == "" {
			fe.Add("note", "公示期间收到 %d 条异议，请说明核实处理情况", n)
		}
	}
	var amounts map[string]int64
	if t.Needs(NeedAmounts) {
		amounts = map[string]int64{}
		engine := map[string]Precheck{}
		for _, x := range pre {
			engine[x.Program] = x
		}
		var some bool
		for k := range m.Amounts {
			if !slices.ContainsFunc(a.Programs, func(x ProgramStatus) bool { return x.Program == k }) {
				fe.Add("amounts_fen."+k, "申请中没有救助项目“%s”", k)
			}
		}
		for _, pr := range a.Programs {
			v, given := m.Amounts[pr.Program]
			switch {
			case given && v < 0:
				fe.Add("amounts_fen."+pr.Program, "%s的金额不能为负数", pr.Label)
			case given && v > 100_000_000:
				fe.Add("amounts_fen."+pr.Program, "%s的金额 %s 元超出合理范围", pr.Label, yuan(v))
			case given:
				amounts[pr.Program] = v
			case engine[pr.Program].Eligible:
				amounts[pr.Program] = engine[pr.Program].MonthlyFen
			default:
				fe.Add("amounts_fen."+pr.Program, "请核定%s的金额（规则引擎未认定符合条件；填 0 表示该项目不予批准）", pr.Label)
			}
			if amounts[pr.Program] > 0 {
				some = true
			}
		}
		if len(fe) == 0 && !some {
			fe.Add("amounts_fen", "批准时至少一个项目的金额应大于 0；全部不予批准请选择“不予批准”")
		}
	}
	return amounts, fe.Err()
}

func yuan(fen int64) string { return fmt.Sprintf("%d.%02d", fen/100, fen%100) }

// grant writes what an approval decides: for each recurring programme a
// decision and the household head's entitlement (since the first day of
// the next month), for temporary aid the one-off amount on the
// application. It returns a sentence for the audit entry.
func (s *Service) grant(ctx context.Context, tx *sql.Tx, p auth.Principal, a Application, amounts map[string]int64, pre []Precheck, today, now time.Time) (string, error) {
	head := a.ApplicantID
	if err := tx.QueryRowContext(ctx, `SELECT person_id FROM application_members WHERE application_id = $1 AND relation = 'head' ORDER BY person_id LIMIT 1`, a.ID).Scan(&head); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", err
	}
	since := time.Date(today.Year(), today.Month()+1, 1, 0, 0, 0, 0, time.UTC).Format(dateFmt)
	engine := map[string]Precheck{}
	for _, x := range pre {
		engine[x.Program] = x
	}
	var parts []string
	for _, pr := range a.Programs {
		fen := amounts[pr.Program]
		prog, _ := ProgramByID(pr.Program)
		if fen == 0 {
			if _, err := tx.ExecContext(ctx, `UPDATE application_programs SET status = 'refused' WHERE application_id = $1 AND program = $2`, a.ID, pr.Program); err != nil {
				return "", err
			}
			parts = append(parts, pr.Label+"不予批准")
			continue
		}
		if !prog.Recurring {
			if _, err := tx.ExecContext(ctx, `UPDATE application_programs SET status = 'granted', one_off_fen = $1 WHERE application_id = $2 AND program = $3`, fen, a.ID, pr.Program); err != nil {
				return "", err
			}
			parts = append(parts, fmt.Sprintf("%s一次性 %s 元", pr.Label, yuan(fen)))
			continue
		}
		expl, _ := json.Marshal(map[string]any{"application_id": a.ID, "kind": a.Kind, "approved_by": p.Name, "monthly_fen": fen, "precheck": engine[pr.Program]})
		version := engine[pr.Program].PolicyVersion
		if version == "" {
			version = "application"
		}
		did, err := eligibility.ApplyGrant(ctx, tx, eligibility.Grant{Program: pr.Program, PersonID: head, HouseholdID: a.HouseholdID, MonthlyFen: fen,
			AsOf: today.Format(dateFmt), Since: since, PolicyVersion: version, Explanation: expl}, now)
		if err != nil {
			return "", fmt.Errorf("assistance: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE application_programs SET status = 'granted', monthly_fen = $1, decision_id = $2 WHERE application_id = $3 AND program = $4`,
			fen, did, a.ID, pr.Program); err != nil {
			return "", err
		}
		parts = append(parts, fmt.Sprintf("%s每月 %s 元（自 %s 起）", pr.Label, yuan(fen), since))
	}
	return strings.Join(parts, "、"), nil
}

// stopOnRecheck stops, at the end of the month, the entitlements that a
// refused annual re-check (复核) no longer supports.
func (s *Service) stopOnRecheck(ctx context.Context, tx *sql.Tx, a Application, today, now time.Time) error {
	until := time.Date(today.Year(), today.Month()+1, 0, 0, 0, 0, 0, time.UTC).Format(dateFmt)
	for _, pr := range a.Programs {
		expl, _ := json.Marshal(map[string]any{"application_id": a.ID, "kind": "recheck", "stopped": true})
		if _, err := eligibility.ApplyStop(ctx, tx, eligibility.Stop{Program: pr.Program, HouseholdID: a.HouseholdID,
			AsOf: today.Format(dateFmt), Until: until, Explanation: expl}, now); err != nil {
			return err
		}
	}
	return nil
}

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

// evidencedByVerification lists the policy conditions that rest on income
// and property, which only a valid verification report evidences.
var evidencedByVerification = map[string]bool{"income": true, "property": true, "expense": true, "income_cap": true, "not_dibao": true}

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

// RegisterRelative puts a close relative of the caller on file
// (经办人员亲属备案). Only staff who act in the chain register relatives.
func (s *Service) RegisterRelative(ctx context.Context, p auth.Principal, nr NewRelative) (Relative, error) {
	if !p.Can(PermRelatives) {
		return Relative{}, errs.E(errs.Forbidden, "您的角色无须办理经办人员亲属备案")
	}
	var fe errs.Fields
	nr.Name, nr.Relation = strings.TrimSpace(nr.Name), strings.TrimSpace(nr.Relation)
	if n := utf8.RuneCountInString(nr.Name); n == 0 || n > 50 {
		fe.Add("name", "请填写亲属姓名（最多 50 个字）")
	}
	if n := utf8.RuneCountInString(nr.Relation); n == 0 || n > 20 {
		fe.Add("relation", "请填写亲属关系，例如：配偶、父母、子女、兄弟姐妹")
	}
	id, err := idcard.Parse(strings.ToUpper(strings.TrimSpace(nr.IDNumber)), s.Now())
	if err != nil {
		msg := err.Error()
		var ie *idcard.Error
		if errors.As(err, &ie) {
			msg = ie.Message
		}
		fe.Add("id_number", "%s", msg)
	}
	if err := fe.Err(); err != nil {
		return Relative{}, err
	}
	now := s.Now().UTC()
	r := Relative{Name: nr.Name, Relation: nr.Relation, IDMasked: idcard.Mask(id.Number), CreatedAt: now}
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO staff_relatives (user_id, user_name, name, relation, id_hash, id_masked, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
			p.UserID, p.Name, r.Name, r.Relation, s.Suite.Index(id.Number), r.IDMasked, db.Now(now)).Scan(&r.ID)
		if db.IsUniqueViolation(err) {
			return errs.Field("id_number", "亲属 %s 已备案", r.IDMasked)
		}
		if err != nil {
			return fmt.Errorf("assistance: insert relative: %w", err)
		}
		return s.Audit.Append(ctx, tx, audit.Entry{Actor: p.Name, Role: string(p.Role), Action: "relative.register", Entity: "staff_relative",
			EntityID: fmt.Sprint(r.ID), Detail: fmt.Sprintf("备案亲属 %s（%s，%s）", r.Name, r.Relation, r.IDMasked), Remote: p.Remote})
	})
	return r, err
}

// Relatives lists the caller's relatives on file.
func (s *Service) Relatives(ctx context.Context, p auth.Principal) ([]Relative, error) {
	if !p.Can(PermRelatives) {
		return nil, errs.E(errs.Forbidden, "您的角色无须办理经办人员亲属备案")
	}
	rows, err := s.DB.QueryContext(ctx, `SELECT id, name, relation, id_masked, created_at FROM staff_relatives WHERE user_id = $1 ORDER BY id`, p.UserID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Relative{}
	for rows.Next() {
		var r Relative
		var at string
		if err := rows.Scan(&r.ID, &r.Name, &r.Relation, &r.IDMasked, &at); err != nil {
			return nil, err
		}
		r.CreatedAt = db.ParseTime(at)
		out = append(out, r)
	}
	return out, rows.Err()
}

// Declare replaces the declaration of an application still in 受理 or
// 核对: the clerk corrects what the register suggested. It is audited.
func (s *Service) Declare(ctx context.Context, p auth.Principal, id int64, d Declaration) error {
	if !p.Can(PermCreate) {
		return errs.E(errs.Forbidden, "您的角色无权更正申报")
	}
	var fe errs.Fields
	for pid, v := range d.IncomeFen {
		if v < 0 || v > 100_000_000 {
			fe.Add(fmt.Sprintf("income_%d", pid), "申报月收入应在 0 至 100 万元之间")
		}
	}
	if d.DepositsFen < 0 {
		fe.Add("deposits", "申报存款不能为负数")
	}
	if d.SecuritiesFen < 0 {
		fe.Add("securities", "申报有价证券不能为负数")
	}
	if d.Vehicles < 0 {
		fe.Add("vehicles", "申报车辆数不能为负数")
	}
	if d.Properties < 0 {
		fe.Add("properties", "申报住房套数不能为负数")
	}
	if err := fe.Err(); err != nil {
		return err
	}
	now := s.Now().UTC()
	return s.DB.Tx(ctx, func(tx *sql.Tx) error {
		a, err := s.load(ctx, tx, p, id)
		if err != nil {
			return err
		}
		if a.State != Submitted && a.State != Verifying {
			return errs.E(errs.Conflict, "申请已进入“%s”，不能再更正申报", a.State.Label())
		}
		members, err := s.members(ctx, tx, id)
		if err != nil {
			return err
		}
		known := map[int64]bool{}
		for _, m := range members {
			known[m.PersonID] = true
		}
		for pid, v := range d.IncomeFen {
			if !known[pid] {
				return errs.Field(fmt.Sprintf("income_%d", pid), "人员 %d 不是本申请的家庭成员", pid)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE application_members SET declared_income_fen = $1 WHERE application_id = $2 AND person_id = $3`, v, id, pid); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE applications SET declared_deposits_fen = $1, declared_securities_fen = $2, declared_vehicles = $3, declared_properties = $4, updated_at = $5 WHERE id = $6`,
			d.DepositsFen, d.SecuritiesFen, d.Vehicles, d.Properties, db.Now(now), id); err != nil {
			return err
		}
		return s.Audit.Append(ctx, tx, audit.Entry{Actor: p.Name, Role: string(p.Role), Action: "application.declare", Entity: "application", EntityID: fmt.Sprint(id),
			Detail: fmt.Sprintf("更正申报：%d 名成员的月收入，存款 %s 元，有价证券 %s 元，车辆 %d，住房 %d", len(d.IncomeFen), yuan(d.DepositsFen), yuan(d.SecuritiesFen), d.Vehicles, d.Properties),
			Remote: p.Remote})
	})
}

// AddMember adds to an application, while it is in 受理 or 核对, a
// household member the register lacks (a spouse from outside Shanghai, a
// child born since): the person is registered in the application's
// household through the registry (validated and audited there), then
// joined to the application with their declared income. A retry after a
// failure between the two finds the person already registered in the
// household and only joins them.
func (s *Service) AddMember(ctx context.Context, p auth.Principal, id int64, np registry.NewPerson) (Member, error) {
	if !p.Can(PermCreate) || !p.Can(auth.PersonWrite) {
		return Member{}, errs.E(errs.Forbidden, "您的角色无权添加家庭成员")
	}
	a, err := s.load(ctx, s.DB, p, id)
	if err != nil {
		return Member{}, err
	}
	if a.State != Submitted && a.State != Verifying {
		return Member{}, errs.E(errs.Conflict, "申请已进入“%s”，不能再添加家庭成员", a.State.Label())
	}
	if np.Relation == "" || np.Relation == "户主" || np.Relation == string(registry.Head) {
		return Member{}, errs.Field("relation", "请填写与户主的关系（配偶、子女、父母……）")
	}
	np.HouseholdID = a.HouseholdID
	number := strings.ToUpper(strings.TrimSpace(np.IDNumber))
	person, err := s.Registry.Create(ctx, p, np)
	var personID int64
	switch {
	case err == nil:
		personID = person.ID
	case errs.As(err) != nil && len(errs.As(err).Fields) == 1 && errs.As(err).Fields[0].Field == "id_number" && strings.Contains(err.Error(), "已登记"):
		// Registered before: join them if they are of this household.
		if qerr := s.DB.QueryRowContext(ctx, `SELECT id FROM persons WHERE id_hash = $1 AND household_id = $2`, s.Suite.Index(number), a.HouseholdID).Scan(&personID); qerr != nil {
			return Member{}, err
		}
	default:
		return Member{}, err
	}
	var m Member
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		a, err := s.load(ctx, tx, p, id)
		if err != nil {
			return err
		}
		if a.State != Submitted && a.State != Verifying {
			return errs.E(errs.Conflict, "申请已进入“%s”，不能再添加家庭成员", a.State.Label())
		}
		var rel string
		var hash []byte
		var income int64
		if err := tx.QueryRowContext(ctx, `SELECT relation, name, id_masked, id_hash, monthly_income FROM persons WHERE id = $1`, personID).
			Scan(&rel, &m.Name, &m.IDMasked, &hash, &income); err != nil {
			return err
		}
		m.PersonID, m.Relation, m.DeclaredIncomeFen = personID, rel, income*100
		m.RelationLabel = registry.Relation(rel).Label()
		res, err := tx.ExecContext(ctx, `INSERT INTO application_members (application_id, person_id, relation, name, id_masked, id_hash, declared_income_fen)
			SELECT $1, $2, $3, $4, $5, $6, $7 WHERE NOT EXISTS (SELECT 1 FROM application_members WHERE application_id = $1 AND person_id = $2)`,
			id, personID, rel, m.Name, m.IDMasked, hash, m.DeclaredIncomeFen)
		if err != nil {
			return fmt.Errorf("assistance: add member: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.Field("id_number", "%s 已是本申请的家庭成员", m.IDMasked)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE applications SET updated_at = $1 WHERE id = $2`, db.Now(s.Now().UTC()), id); err != nil {
			return err
		}
		return s.Audit.Append(ctx, tx, audit.Entry{Actor: p.Name, Role: string(p.Role), Action: "application.add_member", Entity: "application", EntityID: fmt.Sprint(id),
			Detail: fmt.Sprintf("添加家庭成员 %s（%s），申报月收入 %s 元", m.IDMasked, m.RelationLabel, yuan(m.DeclaredIncomeFen)), Remote: p.Remote})
	})
	return m, err
}
