package monitor

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"time"

	"minzheng/internal/audit"
	"minzheng/internal/auth"
	"minzheng/internal/db"
	"minzheng/internal/errs"
)

// CallResponseTime is how soon the service centre must respond to a
// 一键通 call.
const CallResponseTime = 30 * time.Minute

// calls turns each matched 一键通 call into an immediate task for the
// service centre (社区综合为老服务中心) of the caller's street; the response
// clock starts at the moment of the call.
func (w *writer) calls(ms []match) error {
	st := w.s.DB.Stmts(w.ctx, w.tx)
	defer st.Close()
	ts := make([]Task, 0, len(ms))
	for _, m := range ms {
		street := m.residence
		if len(street) > 9 {
			street = street[:9]
		}
		kind := m.rec.Detail
		if kind == "" {
			kind = "紧急呼叫"
		}
		t := Task{Kind: TaskCall, PersonID: m.person, HouseholdID: m.household, Division: street, District: districtOf(street), Severity: Urgent,
			Title: "一键通呼叫：" + kind, Reason: fmt.Sprintf("%s 设备 %s 发出%s，请立即响应", m.rec.Hour.In(shanghai).Format("2006-01-02 15:04"), m.rec.Key, kind),
			DueAt: m.rec.Hour.Add(CallResponseTime), CreatedAt: m.rec.Hour}
		ts = append(ts, t)
	}
	return w.s.insertTasks(w.ctx, w.tx, st, ts, map[string]string{})
}

// Respond records that the service centre has responded to a call (or
// anyone to a task): the response clock stops.
func (s *Service) Respond(ctx context.Context, p auth.Principal, id int64) (Task, error) {
	if !p.Can(PermVisit) {
		return Task{}, errs.E(errs.Forbidden, "您的角色无权处置监测任务")
	}
	var t Task
	err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		if t, err = s.task(ctx, tx, p, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE monitor_tasks SET responded_at = COALESCE(responded_at, $1) WHERE id = $2`, db.Now(s.now()), id); err != nil {
			return err
		}
		return s.Audit.Append(ctx, tx, audit.Entry{Actor: p.Name, Role: string(p.Role), Action: "monitor.respond", Entity: "monitor_task", EntityID: fmt.Sprint(id),
			Detail: "响应任务：" + t.Title, Remote: p.Remote})
	})
	return t, err
}

// SweepStats reports a full sweep.
type SweepStats struct {
	Subjects  int     `json:"subjects"`
	Warnings  int     `json:"warnings"`
	Escalated int     `json:"escalated"`
	Seconds   float64 `json:"seconds"`
}

// Sweep evaluates every rule for everyone it may concern — the people
// with facts of its feed in the last 90 days, every water meter — as a
// full run on demand (the incremental path runs as each batch arrives),
// and escalates overdue tasks. Suppression keeps it from warning twice.
func (s *Service) Sweep(ctx context.Context, p auth.Principal) (SweepStats, error) {
	start := time.Now()
	if !p.Can(PermRules) || !p.Scope().CityWide() {
		return SweepStats{}, errs.E(errs.Forbidden, "只有市级管理员可以运行全量预警")
	}
	var st SweepStats
	now := s.now()
	from := now.AddDate(0, 0, -90).Format(time.DateOnly)
	err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
		for _, feed := range []FeedType{Medical, Unemployment, Arrears, Disability} {
			var ms []match
			err := scanRows(ctx, tx, `SELECT DISTINCT person_id FROM feed_facts WHERE feed_type = $1 AND valid_from >= $2 ORDER BY person_id`, []any{string(feed), from},
				func(r *sql.Rows) error {
					var m match
					if err := r.Scan(&m.person); err != nil {
						return err
					}
					ms = append(ms, m)
					return nil
				})
			if err != nil {
				return err
			}
			st.Subjects += len(ms)
			n, err := s.evaluate(ctx, tx, feed, ms, 0, now, given{})
			if err != nil {
				return err
			}
			st.Warnings += n
		}
		// Every meter.
		var ids []string
		var ms []match
		err := scanRows(ctx, tx, `SELECT d.device_id, d.person_id FROM monitor_devices d JOIN meter_state m ON m.device_id = d.device_id WHERE d.kind = 'water_meter'`, nil,
			func(r *sql.Rows) error {
				var id string
				var m match
				if err := r.Scan(&id, &m.person); err != nil {
					return err
				}
				ids = append(ids, id)
				ms = append(ms, m)
				return nil
			})
		if err != nil {
			return err
		}
		states, err := loadMeters(ctx, s.DB.Dialect, tx, ids)
		if err != nil {
			return err
		}
		meters := map[int64]MeterEnv{}
		for i, id := range ids {
			if st, ok := states[id]; ok {
				meters[ms[i].person] = st.env()
			}
		}
		st.Subjects += len(ms)
		n, err := s.evaluate(ctx, tx, Water, ms, 0, now, given{meters: meters})
		st.Warnings += n
		if err != nil {
			return err
		}
		return s.Audit.Append(ctx, tx, audit.Entry{Actor: p.Name, Role: string(p.Role), Action: "monitor.sweep", Entity: "warning", EntityID: "*",
			Detail: fmt.Sprintf("全量预警：检查 %d 人次，新预警 %d 条", st.Subjects, st.Warnings), Remote: p.Remote})
	})
	if err != nil {
		return st, err
	}
	if st.Escalated, err = s.Escalate(ctx); err != nil {
		return st, err
	}
	st.Seconds = time.Since(start).Seconds()
	return st, nil
}

// median returns the median of xs (0 for none).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	sort.Float64s(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}
