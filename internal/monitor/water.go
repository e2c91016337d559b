package monitor

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"time"

	"minzheng/internal/audit"
	"minzheng/internal/auth"
	"minzheng/internal/db"
	"minzheng/internal/errs"
)

// meterState is what a meter normally does, learnt from its own history:
// of the complete days observed, how many showed any use, and the last
// hour it was used. A day is complete once a reading of a later day comes.
type meterState struct {
	days, daysWithUse int
	curDay            string
	curUse            float64
	first, last       time.Time
	lastUse           time.Time // zero: never used
	isNew             bool
}

// env returns the meter as the rules see it.
func (m *meterState) env() MeterEnv {
	e := MeterEnv{HistoryDays: m.days}
	if m.days > 0 {
		e.UseShare = float64(m.daysWithUse) / float64(m.days)
	}
	since := m.lastUse
	if since.IsZero() {
		since = m.first.Add(-time.Hour)
	}
	e.SilentHours = m.last.Sub(since).Hours()
	return e
}

// add takes one hourly reading, in time order.
func (m *meterState) add(hour time.Time, litres float64) {
	day := hour.In(shanghai).Format(time.DateOnly)
	if m.curDay == "" {
		m.curDay, m.first = day, hour
	} else if day != m.curDay {
		m.days++
		if m.curUse > 0 {
			m.daysWithUse++
		}
		m.curDay, m.curUse = day, 0
	}
	m.curUse += litres
	if litres > 0 {
		m.lastUse = hour
	}
	m.last = hour
}

// water applies hourly meter readings: each meter's state moves forward
// with its readings in time order (a reading at or before the last one
// already taken is a duplicate), then the water rules look at every meter
// that moved.
func (w *writer) water(recs []Record) ([]match, error) {
	ms, err := w.matchDevices(recs, "water_meter")
	if err != nil {
		return nil, err
	}
	byMeter := map[string][]match{}
	for _, m := range ms {
		byMeter[m.rec.Key] = append(byMeter[m.rec.Key], m)
	}
	ids := make([]string, 0, len(byMeter))
	for id := range byMeter {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	states, err := loadMeters(w.ctx, w.s.DB.Dialect, w.tx, ids)
	if err != nil {
		return nil, err
	}
	meters := make(map[int64]MeterEnv, len(ids))
	var touched []match
	for _, id := range ids {
		rs := byMeter[id]
		sort.Slice(rs, func(i, j int) bool { return rs[i].rec.Hour.Before(rs[j].rec.Hour) })
		st := states[id]
		if st == nil {
			st = &meterState{isNew: true}
			states[id] = st
		}
		took := false
		for _, m := range rs {
			if !st.last.IsZero() && !m.rec.Hour.After(st.last) {
				w.res.Duplicates++
				if w.res.Duplicates <= maxStoredProblems {
					w.problem(m.rec.Line, "duplicate", "水表“%s”%s 的读数已接收", id, m.rec.Hour.Format("2006-01-02 15:00"))
				}
				continue
			}
			st.add(m.rec.Hour, m.rec.Amount)
			w.res.Accepted++
			took = true
		}
		if took {
			meters[rs[0].person] = st.env()
			touched = append(touched, rs[0])
		} else {
			delete(states, id)
		}
	}
	if err := saveMeters(w.ctx, w.s.DB.Dialect, w.tx, states); err != nil {
		return nil, err
	}
	n, err := w.s.evaluate(w.ctx, w.tx, Water, touched, w.batchID, w.now, given{meters: meters})
	w.res.Warnings += n
	return touched, err
}

func loadMeters(ctx context.Context, d db.Dialect, tx *sql.Tx, ids []string) (map[string]*meterState, error) {
	out := make(map[string]*meterState, len(ids))
	for start := 0; start < len(ids); start += chunk {
		part := ids[start:min(start+chunk, len(ids))]
		args := make([]any, len(part))
		for i, id := range part {
			args[i] = id
		}
		err := scanEach(ctx, tx, `SELECT device_id, days, days_with_use, cur_day, cur_use, first_hour, last_hour, last_use_hour FROM meter_state WHERE device_id IN (`+ph(d, 1, len(part))+`)`,
			args, func(r *sql.Rows) error {
				var id, first, last string
				var lastUse sql.NullString
				st := &meterState{}
				if err := r.Scan(&id, &st.days, &st.daysWithUse, &st.curDay, &st.curUse, &first, &last, &lastUse); err != nil {
					return err
				}
				st.first, st.last = parseHour(first), parseHour(last)
				if lastUse.Valid {
					st.lastUse = parseHour(lastUse.String)
				}
				out[id] = st
				return nil
			})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func parseHour(s string) time.Time {
	t, _ := time.Parse(hourLayout, s)
	return t
}

func saveMeters(ctx context.Context, d db.Dialect, tx *sql.Tx, states map[string]*meterState) error {
	ids := make([]string, 0, len(states))
	for id := range states {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	const cols = 8
	const per = 500
	for start := 0; start < len(ids); start += per {
		part := ids[start:min(start+per, len(ids))]
		var b strings.Builder
		b.WriteString(`INSERT INTO meter_state (device_id, days, days_with_use, cur_day, cur_use, first_hour, last_hour, last_use_hour) VALUES `)
		args := make([]any, 0, len(part)*cols)
		for i, id := range part {
			st := states[id]
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString("(" + ph(d, i*cols+1, cols) + ")")
			var lastUse any
			if !st.lastUse.IsZero() {
				lastUse = st.lastUse.UTC().Format(hourLayout)
			}
			args = append(args, id, st.days, st.daysWithUse, st.curDay, st.curUse, st.first.UTC().Format(hourLayout), st.last.UTC().Format(hourLayout), lastUse)
		}
		b.WriteString(` ON CONFLICT (device_id) DO UPDATE SET days = excluded.days, days_with_use = excluded.days_with_use, cur_day = excluded.cur_day,
			cur_use = excluded.cur_use, first_hour = excluded.first_hour, last_hour = excluded.last_hour, last_use_hour = excluded.last_use_hour`)
		if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("monitor: save meters: %w", err)
		}
	}
	return nil
}

// Device kinds.
const (
	WaterMeter = "water_meter" // 智能水表
	CallButton = "call_button" // 一键通呼叫器
)

// Binding binds a device to a person (and their household).
type Binding struct {
	DeviceID string `json:"device_id"`
	Kind     string `json:"kind"`
	PersonID int64  `json:"person_id"`
}

// BindDevices binds devices to persons in the caller's jurisdiction,
// replacing earlier bindings of the same devices, in one transaction.
func (s *Service) BindDevices(ctx context.Context, p auth.Principal, bs []Binding) error {
	if !p.Can(PermPlan) {
		return errs.E(errs.Forbidden, "您的角色无权绑定设备")
	}
	return s.DB.Tx(ctx, func(tx *sql.Tx) error {
		for i, b := range bs {
			if b.Kind != WaterMeter && b.Kind != CallButton {
				return errs.Field(fmt.Sprintf("[%d].kind", i), "设备类型“%s”应为 water_meter 或 call_button", b.Kind)
			}
			if strings.TrimSpace(b.DeviceID) == "" {
				return errs.Field(fmt.Sprintf("[%d].device_id", i), "设备编号不能为空")
			}
			var hh int64
			var hukou, res string
			err := tx.QueryRowContext(ctx, `SELECT household_id, hukou_division, residence_division FROM persons WHERE id = $1`, b.PersonID).Scan(&hh, &hukou, &res)
			if err == sql.ErrNoRows || (err == nil && !p.Scope().Covers(hukou, res)) {
				return errs.Field(fmt.Sprintf("[%d].person_id", i), "人员 %d 不存在或不在您的辖区内", b.PersonID)
			}
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO monitor_devices (device_id, kind, person_id, household_id, created_at) VALUES ($1, $2, $3, $4, $5)
				ON CONFLICT (device_id) DO UPDATE SET kind = excluded.kind, person_id = excluded.person_id, household_id = excluded.household_id`,
				b.DeviceID, b.Kind, b.PersonID, hh, db.Now(s.now())); err != nil {
				return fmt.Errorf("monitor: bind %s: %w", b.DeviceID, err)
			}
		}
		return s.Audit.Append(ctx, tx, audit.Entry{Actor: p.Name, Role: string(p.Role), Action: "monitor.bind", Entity: "monitor_device", EntityID: "*",
			Detail: fmt.Sprintf("绑定设备 %d 台（智能水表、一键通）", len(bs)), Remote: p.Remote})
	})
}
