package monitor

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"minzheng/internal/audit"
	"minzheng/internal/auth"
	"minzheng/internal/db"
	"minzheng/internal/errs"
)

// route returns the adviser a task of division goes to: the one whose
// jurisdiction is the closest above it, cached in assignees for a batch.
func (s *Service) route(st *db.Stmts, division string, assignees map[string]string) (string, error) {
	if who, ok := assignees[division]; ok {
		return who, nil
	}
	var who string
	var cands []any
	for _, n := range []int{12, 9, 6} {
		if len(division) >= n {
			cands = append(cands, division[:n])
		}
	}
	if len(cands) > 0 {
		err := st.QueryRow(`SELECT name FROM users WHERE role = 'adviser' AND disabled = 0 AND division IN (`+ph(s.DB.Dialect, 1, len(cands))+`)
			ORDER BY LENGTH(division) DESC, id LIMIT 1`, cands...).Scan(&who)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return "", fmt.Errorf("monitor: route task: %w", err)
		}
	}
	assignees[division] = who
	return who, nil
}

// taskColumns are the columns insertTasks writes.
var taskColumns = []string{"kind", "warning_id", "person_id", "household_id", "division", "district", "assignee", "severity", "title", "reason", "status", "due_at", "created_at"}

// insertTasks writes open tasks, each routed to its adviser (route), as
// multi-row INSERTs.
func (s *Service) insertTasks(ctx context.Context, tx *sql.Tx, st *db.Stmts, ts []Task, assignees map[string]string) error {
	rows := make([][]any, 0, len(ts))
	for _, t := range ts {
		who, err := s.route(st, t.Division, assignees)
		if err != nil {
			return err
		}
		var warning any
		if t.WarningID != 0 {
			warning = t.WarningID
		}
		rows = append(rows, []any{t.Kind, warning, t.PersonID, t.HouseholdID, t.Division, t.District, who, string(t.Severity), t.Title, t.Reason,
			StatusOpen, db.Now(t.DueAt), db.Now(t.CreatedAt)})
	}
	if err := db.InsertRows(ctx, tx, s.DB.Dialect, "monitor_tasks", taskColumns, rows); err != nil {
		return fmt.Errorf("monitor: insert tasks: %w", err)
	}
	return nil
}

const taskCols = `t.id, t.kind, COALESCE(t.warning_id, 0), t.person_id, t.household_id, t.division, t.district, t.assignee, t.severity, t.title, t.reason,
	t.status, t.due_at, t.attempts, t.disposition, t.referral, t.created_at, COALESCE(t.closed_at, '')`

func scanTask(r interface{ Scan(...any) error }, now time.Time) (Task, error) {
	var t Task
	var sev, due, created, closed string
	err := r.Scan(&t.ID, &t.Kind, &t.WarningID, &t.PersonID, &t.HouseholdID, &t.Division, &t.District, &t.Assignee, &sev, &t.Title, &t.Reason,
		&t.Status, &due, &t.Attempts, &t.Disposition, &t.Referral, &created, &closed)
	t.Severity, t.DueAt, t.CreatedAt = Severity(sev), db.ParseTime(due), db.ParseTime(created)
	if closed != "" {
		t.ClosedAt = db.ParseTime(closed)
	}
	t.Overdue = t.Status != StatusClosed && now.After(t.DueAt)
	return t, err
}

// TaskFilter selects tasks.
type TaskFilter struct {
	Status   string // open (open and escalated), closed, overdue, or "" for all
	Division string // a division code inside the caller's jurisdiction
	Kind     string
	Severity string
	Rule     string
	Limit    int
}

func (s *Service) taskWhere(p auth.Principal, f TaskFilter) (string, []any, error) {
	sc := p.Scope()
	if f.Division != "" {
		if !sc.Covers(f.Division) {
			return "", nil, errs.Field("division", "区划“%s”不在您的辖区内", f.Division)
		}
		sc, _ = sc.Narrow(f.Division)
	}
	where, args := sc.SQL(nil, "t.division")
	conds := []string{where}
	switch f.Status {
	case "":
	case "open":
		conds = append(conds, "t.status <> 'closed'")
	case StatusClosed, StatusEscalated:
		args = append(args, f.Status)
		conds = append(conds, fmt.Sprintf("t.status = $%d", len(args)))
	case "overdue":
		args = append(args, db.Now(s.now()))
		conds = append(conds, fmt.Sprintf("t.status <> 'closed' AND t.due_at < $%d", len(args)))
	default:
		return "", nil, errs.Field("status", "状态“%s”无法识别，可选 open、overdue、escalated、closed", f.Status)
	}
	if f.Kind != "" {
		args = append(args, f.Kind)
		conds = append(conds, fmt.Sprintf("t.kind = $%d", len(args)))
	}
	if f.Severity != "" {
		args = append(args, f.Severity)
		conds = append(conds, fmt.Sprintf("t.severity = $%d", len(args)))
	}
	if f.Rule != "" {
		args = append(args, f.Rule)
		conds = append(conds, fmt.Sprintf("t.warning_id IN (SELECT id FROM warnings WHERE rule_code = $%d)", len(args)))
	}
	return strings.Join(conds, " AND "), args, nil
}

// Tasks lists tasks in the caller's jurisdiction, most urgent and oldest
// due first: an adviser sees their committees', a district its own.
func (s *Service) Tasks(ctx context.Context, p auth.Principal, f TaskFilter) ([]Task, error) {
	if !p.Can(PermRead) {
		return nil, errs.E(errs.Forbidden, "您的角色无权查看监测任务")
	}
	where, args, err := s.taskWhere(p, f)
	if err != nil {
		return nil, err
	}
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 200
	}
	rows, err := s.DB.QueryContext(ctx, fmt.Sprintf(`SELECT %s FROM monitor_tasks t WHERE %s
		ORDER BY CASE t.status WHEN 'closed' THEN 1 ELSE 0 END, CASE t.severity WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END, t.due_at, t.id LIMIT %d`,
		taskCols, where, f.Limit), args...)
	if err != nil {
		return nil, fmt.Errorf("monitor: tasks: %w", err)
	}
	defer rows.Close()
	now := s.now()
	out := []Task{}
	for rows.Next() {
		t, err := scanTask(rows, now)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// TaskDetail is a task with what the adviser needs at the door.
type TaskDetail struct {
	Task
	Address  string          `json:"address"`
	Members  []MemberView    `json:"members"`
	Data     json.RawMessage `json:"data"`
	Visits   []VisitView     `json:"visits"`
	Warnings []WarningView   `json:"warnings"` // earlier warnings of the household
}

// MemberView is a household member as the adviser sees them.
type MemberView struct {
	ID               int64  `json:"id"`
	Name             string `json:"name"`
	IDMasked         string `json:"id_number_masked"`
	Age              int    `json:"age"`
	Relation         string `json:"relation"`
	Deceased         string `json:"death_date,omitempty"`
	LivesAlone       bool   `json:"lives_alone"`
	WeakGuardianship bool   `json:"weak_guardianship"`
}

// VisitView is a recorded visit.
type VisitView struct {
	ID          int64   `json:"id"`
	Date        string  `json:"date"`
	Found       string  `json:"found"`
	Disposition string  `json:"disposition"`
	Actor       string  `json:"actor"`
	Photos      []int64 `json:"photos"`
}

// WarningView is a warning of the household.
type WarningView struct {
	ID       int64     `json:"id"`
	Rule     string    `json:"rule"`
	Severity Severity  `json:"severity"`
	Reason   string    `json:"reason"`
	At       time.Time `json:"at"`
}

// task returns a task in the caller's jurisdiction.
func (s *Service) task(ctx context.Context, q db.Queryer, p auth.Principal, id int64) (Task, error) {
	where, args := p.Scope().SQL(nil, "t.division")
	args = append(args, id)
	t, err := scanTask(q.QueryRowContext(ctx, fmt.Sprintf(`SELECT %s FROM monitor_tasks t WHERE %s AND t.id = $%d`, taskCols, where, len(args)), args...), s.now())
	if errors.Is(err, sql.ErrNoRows) {
		return Task{}, errs.E(errs.NotFound, "未找到编号为 %d 的任务，或不在您的辖区内", id)
	}
	if err != nil {
		return Task{}, fmt.Errorf("monitor: task %d: %w", id, err)
	}
	return t, nil
}

// Task returns a task with its household, the data behind the warning and
// the visits so far. Opening it is recorded in the audit log.
func (s *Service) Task(ctx context.Context, p auth.Principal, id int64) (TaskDetail, error) {
	if !p.Can(PermRead) {
		return TaskDetail{}, errs.E(errs.Forbidden, "您的角色无权查看监测任务")
	}
	t, err := s.task(ctx, s.DB, p, id)
	if err != nil {
		return TaskDetail{}, err
	}
	d := TaskDetail{Task: t, Data: json.RawMessage("{}"), Members: []MemberView{}, Visits: []VisitView{}, Warnings: []WarningView{}}
	if t.WarningID != 0 {
		var data string
		if err := s.DB.QueryRowContext(ctx, `SELECT data FROM warnings WHERE id = $1`, t.WarningID).Scan(&data); err == nil {
			d.Data = json.RawMessage(data)
		}
	}
	s.DB.QueryRowContext(ctx, `SELECT address FROM households WHERE id = $1`, t.HouseholdID).Scan(&d.Address)
	now := s.now()
	err = scanRows(ctx, s.DB, `SELECT id, name, id_masked, birth_date, relation, COALESCE(death_date, ''), lives_alone, weak_guardianship FROM persons WHERE household_id = $1 ORDER BY id`,
		[]any{t.HouseholdID}, func(r *sql.Rows) error {
			var m MemberView
			var birth string
			var alone, weak int
			if err := r.Scan(&m.ID, &m.Name, &m.IDMasked, &birth, &m.Relation, &m.Deceased, &alone, &weak); err != nil {
				return err
			}
			m.Age, m.LivesAlone, m.WeakGuardianship = age(birth, now), alone != 0, weak != 0
			d.Members = append(d.Members, m)
			return nil
		})
	if err != nil {
		return TaskDetail{}, err
	}
	err = scanRows(ctx, s.DB, `SELECT v.id, v.visited_on, v.found, v.disposition, v.actor, COALESCE(ph.id, 0) FROM task_visits v LEFT JOIN task_photos ph ON ph.visit_id = v.id
		WHERE v.task_id = $1 ORDER BY v.id, ph.id`, []any{id}, func(r *sql.Rows) error {
		var v VisitView
		var photo int64
		if err := r.Scan(&v.ID, &v.Date, &v.Found, &v.Disposition, &v.Actor, &photo); err != nil {
			return err
		}
		if n := len(d.Visits); n > 0 && d.Visits[n-1].ID == v.ID {
			d.Visits[n-1].Photos = append(d.Visits[n-1].Photos, photo)
			return nil
		}
		v.Photos = []int64{}
		if photo != 0 {
			v.Photos = append(v.Photos, photo)
		}
		d.Visits = append(d.Visits, v)
		return nil
	})
	if err != nil {
		return TaskDetail{}, err
	}
	err = scanRows(ctx, s.DB, `SELECT id, rule_name, severity, reason, raised_at FROM warnings WHERE household_id = $1 ORDER BY id DESC LIMIT 20`,
		[]any{t.HouseholdID}, func(r *sql.Rows) error {
			var w WarningView
			var sev, at string
			if err := r.Scan(&w.ID, &w.Rule, &sev, &w.Reason, &at); err != nil {
				return err
			}
			w.Severity, w.At = Severity(sev), db.ParseTime(at)
			d.Warnings = append(d.Warnings, w)
			return nil
		})
	if err != nil {
		return TaskDetail{}, err
	}
	err = s.Audit.Record(ctx, audit.Entry{Actor: p.Name, Role: string(p.Role), Action: "monitor.task.view", Entity: "monitor_task", EntityID: fmt.Sprint(id),
		Detail: "查看监测任务及家庭信息", Remote: p.Remote})
	return d, err
}

func scanRows(ctx context.Context, q db.Queryer, query string, args []any, fn func(*sql.Rows) error) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("monitor: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// maxPhoto caps one photo; maxPhotos caps a visit.
const (
	maxPhoto  = 8 << 20
	maxPhotos = 6
)

// RecordVisit records a visit and its disposition. Referred, resolved and
// nothing found close the task (referred also opens an assistance
// application through ReferApplication); could not reach reschedules it
// for the next day and keeps it open.
func (s *Service) RecordVisit(ctx context.Context, p auth.Principal, id int64, v Visit) (Task, error) {
	if !p.Can(PermVisit) {
		return Task{}, errs.E(errs.Forbidden, "您的角色无权登记走访")
	}
	var fe errs.Fields
	now := s.now()
	v.Found = strings.TrimSpace(v.Found)
	if v.Date == "" {
		v.Date = now.In(shanghai).Format(time.DateOnly)
	}
	if _, err := time.Parse(time.DateOnly, v.Date); err != nil {
		fe.Add("date", "走访日期“%s”应为 YYYY-MM-DD", v.Date)
	} else if v.Date > now.In(shanghai).Format(time.DateOnly) {
		fe.Add("date", "走访日期 %s 晚于今天", v.Date)
	}
	if utf8.RuneCountInString(v.Found) > 2000 {
		fe.Add("found", "走访情况最多 2000 字")
	}
	known := false
	for _, d := range Dispositions {
		known = known || d == v.Disposition
	}
	if !known {
		fe.Add("disposition", "处置结果“%s”无法识别，可选：referred（转入救助申请）、resolved（已解决）、nothing_found（未发现问题）、unreachable（未能联系，改期）", v.Disposition)
	}
	if v.Disposition != Unreachable && v.Found == "" {
		fe.Add("found", "请填写走访发现的情况")
	}
	if len(v.Photos) > maxPhotos {
		fe.Add("photos", "每次走访最多 %d 张照片", maxPhotos)
	}
	for _, ph := range v.Photos {
		if len(ph.Data) > maxPhoto {
			fe.Add("photos", "照片“%s”超过 8 MB", ph.Name)
		}
		if !strings.HasPrefix(ph.ContentType, "image/") {
			fe.Add("photos", "文件“%s”不是图片", ph.Name)
		}
	}
	if err := fe.Err(); err != nil {
		return Task{}, err
	}
	// The application a referral opens is written by the assistance line
	// in its own transaction, so it comes first: if it fails, nothing of
	// the visit is written.
	referral := ""
	if v.Disposition == Referred {
		t, err := s.task(ctx, s.DB, p, id)
		if err != nil {
			return Task{}, err
		}
		if t.Status == StatusClosed {
			return Task{}, errs.E(errs.Conflict, "任务 %d 已办结", id)
		}
		referral = "已转入救助申请"
		if s.ReferApplication != nil {
			var rule string
			if t.WarningID != 0 {
				s.DB.QueryRowContext(ctx, `SELECT rule_code FROM warnings WHERE id = $1`, t.WarningID).Scan(&rule)
			}
			if referral, err = s.ReferApplication(ctx, p, Referral{TaskID: id, PersonID: t.PersonID, HouseholdID: t.HouseholdID, Rule: rule,
				Reason: t.Reason + "；走访：" + v.Found, By: p.Name}); err != nil {
				return Task{}, err
			}
		}
	}
	var t Task
	err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		if t, err = s.task(ctx, tx, p, id); err != nil {
			return err
		}
		if t.Status == StatusClosed {
			return errs.E(errs.Conflict, "任务 %d 已办结", id)
		}
		var vid int64
		if err := tx.QueryRowContext(ctx, `INSERT INTO task_visits (task_id, visited_on, found, disposition, actor, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
			id, v.Date, v.Found, v.Disposition, p.Name, db.Now(now)).Scan(&vid); err != nil {
			return fmt.Errorf("monitor: insert visit: %w", err)
		}
		for _, ph := range v.Photos {
			if _, err := tx.ExecContext(ctx, `INSERT INTO task_photos (visit_id, name, content_type, data) VALUES ($1, $2, $3, $4)`, vid, ph.Name, ph.ContentType, ph.Data); err != nil {
				return fmt.Errorf("monitor: insert photo: %w", err)
			}
		}
		responded := db.Now(now)
		switch v.Disposition {
		case Unreachable:
			t.Attempts++
			t.DueAt = now.Add(24 * time.Hour)
			_, err = tx.ExecContext(ctx, `UPDATE monitor_tasks SET attempts = attempts + 1, due_at = $1, status = 'open', responded_at = COALESCE(responded_at, $2) WHERE id = $3`,
				db.Now(t.DueAt), responded, id)
		default:
			if v.Disposition == Referred {
				t.Referral = referral
			}
			t.Status, t.Disposition, t.ClosedAt = StatusClosed, v.Disposition, now
			_, err = tx.ExecContext(ctx, `UPDATE monitor_tasks SET status = 'closed', disposition = $1, referral = $2, closed_at = $3, responded_at = COALESCE(responded_at, $3) WHERE id = $4`,
				v.Disposition, t.Referral, db.Now(now), id)
		}
		if err != nil {
			return fmt.Errorf("monitor: update task %d: %w", id, err)
		}
		return s.Audit.Append(ctx, tx, audit.Entry{Actor: p.Name, Role: string(p.Role), Action: "monitor.visit", Entity: "monitor_task", EntityID: fmt.Sprint(id),
			Detail: fmt.Sprintf("走访 %s：%s（照片 %d 张）%s", v.Date, DispositionLabel(v.Disposition), len(v.Photos), t.Referral), Remote: p.Remote})
	})
	return t, err
}

// Photo returns a visit photo of a task in the caller's jurisdiction.
func (s *Service) Photo(ctx context.Context, p auth.Principal, taskID, photoID int64) (Photo, error) {
	if !p.Can(PermRead) {
		return Photo{}, errs.E(errs.Forbidden, "您的角色无权查看监测任务")
	}
	if _, err := s.task(ctx, s.DB, p, taskID); err != nil {
		return Photo{}, err
	}
	var ph Photo
	err := s.DB.QueryRowContext(ctx, `SELECT ph.name, ph.content_type, ph.data FROM task_photos ph JOIN task_visits v ON v.id = ph.visit_id WHERE ph.id = $1 AND v.task_id = $2`,
		photoID, taskID).Scan(&ph.Name, &ph.ContentType, &ph.Data)
	if errors.Is(err, sql.ErrNoRows) {
		return Photo{}, errs.E(errs.NotFound, "未找到照片 %d", photoID)
	}
	return ph, err
}

// Escalate marks every open task past its deadline as escalated to the
// district (超期上报) and returns how many it marked. It is safe to run
// twice.
func (s *Service) Escalate(ctx context.Context) (int, error) {
	now := db.Now(s.now())
	r, err := s.DB.ExecContext(ctx, `UPDATE monitor_tasks SET status = 'escalated', escalated_at = $1 WHERE status = 'open' AND due_at < $1`, now)
	if err != nil {
		return 0, fmt.Errorf("monitor: escalate: %w", err)
	}
	n, _ := r.RowsAffected()
	return int(n), nil
}

// Weather kinds of extreme-weather sweeps.
var WeatherKinds = map[string]string{"cold": "寒潮", "heat": "高温"}

// WeatherSweep creates a visit task, due within a day, for every living
// elder (60 or over) in the chosen districts who lives alone (独居) or is
// marked with weak guardianship (弱监护), one per household, unless the
// household has an open weather task already. The task's title and reason
// say which of the two the elder is. It returns the number created.
func (s *Service) WeatherSweep(ctx context.Context, p auth.Principal, kind string, districts []string) (int, error) {
	if !p.Can(PermPlan) {
		return 0, errs.E(errs.Forbidden, "您的角色无权发起极端天气走访")
	}
	label, ok := WeatherKinds[kind]
	if !ok {
		return 0, errs.Field("kind", "天气类型“%s”应为 cold（寒潮）或 heat（高温）", kind)
	}
	if len(districts) == 0 {
		return 0, errs.Field("districts", "请选择至少一个区")
	}
	for _, d := range districts {
		if n, ok := s.Tree.Get(d); !ok || len(d) != 6 || n.Code == "310000" {
			return 0, errs.Field("districts", "“%s”不是本市的区代码", d)
		}
		if !p.Scope().Covers(d) {
			return 0, errs.Field("districts", "%s不在您的辖区内", s.Tree.Name(d))
		}
	}
	now := s.now()
	born := now.AddDate(-60, 0, 0).Format(time.DateOnly)
	created := 0
	err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
		st := s.DB.Stmts(ctx, tx)
		defer st.Close()
		assignees := map[string]string{}
		seen := map[int64]bool{}
		for _, d := range districts {
			lo, hi := db.PrefixRange(d)
			var subs []Task
			err := scanRows(ctx, tx, `SELECT p.id, p.household_id, p.residence_division, p.lives_alone, p.weak_guardianship FROM persons p
				WHERE p.residence_division >= $1 AND p.residence_division < $2 AND (p.lives_alone = 1 OR p.weak_guardianship = 1) AND p.death_date IS NULL AND p.birth_date <= $3
				AND NOT EXISTS (SELECT 1 FROM monitor_tasks t WHERE t.household_id = p.household_id AND t.kind = 'weather' AND t.status <> 'closed')
				ORDER BY p.id`, []any{lo, hi, born}, func(r *sql.Rows) error {
				var t Task
				var alone int
				var weak int
				if err := r.Scan(&t.PersonID, &t.HouseholdID, &t.Division, &alone, &weak); err != nil {
					return err
				}
				if seen[t.HouseholdID] {
					return nil // one visit per household: an old couple both marked
				}
				seen[t.HouseholdID] = true
				who := "弱监护老人"
				if alone != 0 {
					who = "独居老人"
				}
				t.Title = label + "天气探访" + who
				t.Reason = fmt.Sprintf("%s预警：请在 24 小时内上门或电话探访%s，确认取暖/防暑、饮食与健康情况", label, who)
				subs = append(subs, t)
				return nil
			})
			if err != nil {
				return err
			}
			for i := range subs {
				t := &subs[i]
				t.Kind, t.District, t.Severity = TaskWeather, districtOf(t.Division), High
				t.DueAt, t.CreatedAt = now.Add(24*time.Hour), now
			}
			if err := s.insertTasks(ctx, tx, st, subs, assignees); err != nil {
				return err
			}
			created += len(subs)
		}
		return s.Audit.Append(ctx, tx, audit.Entry{Actor: p.Name, Role: string(p.Role), Action: "monitor.weather", Entity: "monitor_task", EntityID: "*",
			Detail: fmt.Sprintf("%s探访：%s，新建任务 %d 个", label, strings.Join(districts, "、"), created), Remote: p.Remote})
	})
	return created, err
}
