package monitor

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"sort"
	"strconv"
	"time"

	"minzheng/internal/audit"
	"minzheng/internal/auth"
	"minzheng/internal/db"
	"minzheng/internal/errs"
	"minzheng/internal/tabular"
)

// Count is one bar of a chart.
type Count struct {
	Key   string `json:"key"`
	Label string `json:"label"`
	N     int    `json:"n"`
}

// DistrictRow is one district of the dashboard.
type DistrictRow struct {
	Code     string `json:"code"`
	Name     string `json:"name"`
	Warnings int    `json:"warnings"`
	Open     int    `json:"open"`
	Overdue  int    `json:"overdue"`
	Closed   int    `json:"closed"`
}

// CallStat is the response to 一键通 calls in one district.
type CallStat struct {
	District      string  `json:"district"`
	Name          string  `json:"name"`
	Calls         int     `json:"calls"`
	Responded     int     `json:"responded"`
	MedianMinutes float64 `json:"median_minutes"`
	Late          int     `json:"late"` // responded after CallResponseTime, or not yet and past it
}

// Dashboard is the monitoring loop at a glance, in the caller's
// jurisdiction, for warnings raised in the last Days days.
type Dashboard struct {
	Days             int           `json:"days"`
	Division         string        `json:"division"`
	Warnings         int           `json:"warnings"`
	Open             int           `json:"open"`
	Overdue          int           `json:"overdue"`
	Closed           int           `json:"closed"`
	MedianCloseHours float64       `json:"median_close_hours"`
	ByRule           []Count       `json:"by_rule"`
	BySeverity       []Count       `json:"by_severity"`
	Daily            []Count       `json:"daily"` // warnings per day
	Districts        []DistrictRow `json:"districts"`
	Calls            []CallStat    `json:"calls"`
}

// Dashboard computes the figures. division narrows to a district or a
// street inside the jurisdiction ("" for all of it).
func (s *Service) Dashboard(ctx context.Context, p auth.Principal, division string, days int) (Dashboard, error) {
	if !p.Can(PermRead) {
		return Dashboard{}, errs.E(errs.Forbidden, "您的角色无权查看监测看板")
	}
	if days <= 0 || days > 366 {
		days = 30
	}
	sc := p.Scope()
	if division != "" {
		if !sc.Covers(division) {
			return Dashboard{}, errs.Field("division", "区划“%s”不在您的辖区内", division)
		}
		sc, _ = sc.Narrow(division)
	}
	d := Dashboard{Days: days, Division: division, ByRule: []Count{}, BySeverity: []Count{}, Daily: []Count{}, Districts: []DistrictRow{}}
	lo, hi := sc.Range()
	now := s.now()
	since := db.Now(now.AddDate(0, 0, -days))
	nowS := db.Now(now)
	districts := map[string]*DistrictRow{}
	district := func(code string) *DistrictRow {
		r := districts[code]
		if r == nil {
			r = &DistrictRow{Code: code, Name: s.Tree.Name(code)}
			districts[code] = r
		}
		return r
	}
	rules := map[string]*Count{}
	sev := map[string]int{}
	daily := map[string]int{}
	err := scanRows(ctx, s.DB, `SELECT rule_code, rule_name, severity, district, raised_at FROM warnings WHERE division >= $1 AND division < $2 AND raised_at >= $3`,
		[]any{lo, hi, since}, func(r *sql.Rows) error {
			var code, name, severity, dist, at string
			if err := r.Scan(&code, &name, &severity, &dist, &at); err != nil {
				return err
			}
			d.Warnings++
			c := rules[code]
			if c == nil {
				c = &Count{Key: code, Label: name}
				rules[code] = c
			}
			c.N++
			sev[severity]++
			daily[db.ParseTime(at).In(shanghai).Format(time.DateOnly)]++
			district(dist).Warnings++
			return nil
		})
	if err != nil {
		return d, err
	}
	var closeHours []float64
	err = scanRows(ctx, s.DB, `SELECT district, status, due_at, created_at, COALESCE(closed_at, '') FROM monitor_tasks WHERE division >= $1 AND division < $2 AND (status <> 'closed' OR closed_at >= $3)`,
		[]any{lo, hi, since}, func(r *sql.Rows) error {
			var dist, status, due, created, closed string
			if err := r.Scan(&dist, &status, &due, &created, &closed); err != nil {
				return err
			}
			row := district(dist)
			switch {
			case status == StatusClosed:
				d.Closed++
				row.Closed++
				closeHours = append(closeHours, db.ParseTime(closed).Sub(db.ParseTime(created)).Hours())
			case due < nowS:
				d.Overdue++
				row.Overdue++
				d.Open++
				row.Open++
			default:
				d.Open++
				row.Open++
			}
			return nil
		})
	if err != nil {
		return d, err
	}
	d.MedianCloseHours = median(closeHours)
	for _, c := range rules {
		d.ByRule = append(d.ByRule, *c)
	}
	sort.Slice(d.ByRule, func(i, j int) bool {
		return d.ByRule[i].N > d.ByRule[j].N || (d.ByRule[i].N == d.ByRule[j].N && d.ByRule[i].Key < d.ByRule[j].Key)
	})
	for _, sv := range Severities {
		d.BySeverity = append(d.BySeverity, Count{Key: string(sv), Label: sv.Label(), N: sev[string(sv)]})
	}
	for day := now.AddDate(0, 0, -days+1); !day.After(now); day = day.AddDate(0, 0, 1) {
		k := day.In(shanghai).Format(time.DateOnly)
		d.Daily = append(d.Daily, Count{Key: k, Label: k[5:], N: daily[k]})
	}
	for _, r := range districts {
		d.Districts = append(d.Districts, *r)
	}
	sort.Slice(d.Districts, func(i, j int) bool { return d.Districts[i].Code < d.Districts[j].Code })
	d.Calls, err = s.callStats(ctx, lo, hi)
	return d, err
}

// CallStats returns the response times to 一键通 calls per district in the
// caller's jurisdiction.
func (s *Service) CallStats(ctx context.Context, p auth.Principal) ([]CallStat, error) {
	if !p.Can(PermRead) {
		return nil, errs.E(errs.Forbidden, "您的角色无权查看监测看板")
	}
	lo, hi := p.Scope().Range()
	return s.callStats(ctx, lo, hi)
}

func (s *Service) callStats(ctx context.Context, lo, hi string) ([]CallStat, error) {
	byDistrict := map[string]*CallStat{}
	minutes := map[string][]float64{}
	now := s.now()
	err := scanRows(ctx, s.DB, `SELECT district, created_at, COALESCE(responded_at, '') FROM monitor_tasks WHERE kind = 'call' AND division >= $1 AND division < $2`,
		[]any{lo, hi}, func(r *sql.Rows) error {
			var dist, created, responded string
			if err := r.Scan(&dist, &created, &responded); err != nil {
				return err
			}
			st := byDistrict[dist]
			if st == nil {
				st = &CallStat{District: dist, Name: s.Tree.Name(dist)}
				byDistrict[dist] = st
			}
			st.Calls++
			c := db.ParseTime(created)
			if responded == "" {
				if now.Sub(c) > CallResponseTime {
					st.Late++
				}
				return nil
			}
			m := db.ParseTime(responded).Sub(c).Minutes()
			st.Responded++
			if m > CallResponseTime.Minutes() {
				st.Late++
			}
			minutes[dist] = append(minutes[dist], m)
			return nil
		})
	out := []CallStat{}
	for k, st := range byDistrict {
		st.MedianMinutes = median(minutes[k])
		out = append(out, *st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].District < out[j].District })
	return out, err
}

// MayExportTasks returns the error ExportTasks gives p when p may not
// export tasks, for a handler to refuse before it starts the file.
func MayExportTasks(p auth.Principal) error {
	if !p.Can(auth.ExportList) || !p.Can(PermRead) {
		return errs.E(errs.Forbidden, "您的角色无权导出监测任务")
	}
	return nil
}

// ExportTasks writes the tasks of the filter to Excel and records the
// export in the audit log.
func (s *Service) ExportTasks(ctx context.Context, p auth.Principal, f TaskFilter, w io.Writer) (int, error) {
	if err := MayExportTasks(p); err != nil {
		return 0, err
	}
	f.Limit = 1000
	ts, err := s.Tasks(ctx, p, f)
	if err != nil {
		return 0, err
	}
	x, err := tabular.NewXLSXWriter(w, "监测任务", []string{"任务编号", "类型", "预警", "严重程度", "区", "居委/街道", "责任人", "状态", "办结期限", "处置结果", "原因", "创建时间", "办结时间"})
	if err != nil {
		return 0, err
	}
	kinds := map[string]string{TaskWarning: "预警核查", TaskWeather: "极端天气探访", TaskCall: "一键通响应"}
	for _, t := range ts {
		closed := ""
		if !t.ClosedAt.IsZero() {
			closed = t.ClosedAt.In(shanghai).Format("2006-01-02 15:04")
		}
		status := StatusLabel(t.Status)
		if t.Overdue && t.Status == StatusOpen {
			status = "已超期"
		}
		if err := x.Write([]string{strconv.FormatInt(t.ID, 10), kinds[t.Kind], t.Title, t.Severity.Label(), s.Tree.Name(t.District), s.Tree.Name(t.Division), t.Assignee,
			status, t.DueAt.In(shanghai).Format("2006-01-02 15:04"), DispositionLabel(t.Disposition), t.Reason, t.CreatedAt.In(shanghai).Format("2006-01-02 15:04"), closed}); err != nil {
			return 0, err
		}
	}
	if err := x.Close(); err != nil {
		return 0, err
	}
	err = s.Audit.Record(ctx, audit.Entry{Actor: p.Name, Role: string(p.Role), Action: "monitor.export", Entity: "monitor_task", EntityID: "*",
		Detail: fmt.Sprintf("导出监测任务 %d 条", len(ts)), Remote: p.Remote})
	return len(ts), err
}
