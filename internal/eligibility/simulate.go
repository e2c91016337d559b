package eligibility

import (
	"context"
	"sort"
	"strconv"
	"strings"
	"time"

	"minzheng/internal/auth"
	"minzheng/internal/errs"
	"minzheng/internal/policy"
)

// Simulation is a what-if: parameter values changed from a date, evaluated
// over the whole register next to the values in force, without touching
// any entitlement.
type Simulation struct {
	Set     policy.Overrides `json:"set"`
	From    string           `json:"from"`
	Rows    []SimRow         `json:"rows"`  // per programme and district
	Total   []SimRow         `json:"total"` // per programme, all districts
	Seconds float64          `json:"seconds"`
}

// SimRow compares one programme in one district (District "" for the
// city). Subjects are persons or, for household programmes, households;
// People counts the people in those households.
type SimRow struct {
	Program       string  `json:"program"`
	Name          string  `json:"name"`
	District      string  `json:"district"`
	DistrictName  string  `json:"district_name"`
	SubjectsGain  int     `json:"subjects_gain"`
	SubjectsLose  int     `json:"subjects_lose"`
	PeopleGain    int     `json:"people_gain"`
	PeopleLose    int     `json:"people_lose"`
	SubjectsAfter int     `json:"subjects_after"`
	MonthlyBefore float64 `json:"monthly_before"`
	MonthlyAfter  float64 `json:"monthly_after"`
	MonthlyDelta  float64 `json:"monthly_delta"`
	YearlyDelta   float64 `json:"yearly_delta"`
}

// ParseSet reads "dibao.standard=1700" settings and checks that each names
// a parameter.
func (s *Service) ParseSet(settings []string) (policy.Overrides, error) {
	over := policy.Overrides{}
	for _, kv := range settings {
		name, val, ok := strings.Cut(kv, "=")
		v, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
		if !ok || err != nil {
			return nil, errs.Field("set", "“%s”应写成 项目.参数=数值，例如 dibao.standard=1700", kv)
		}
		name = strings.TrimSpace(name)
		if !s.Policies.HasParameter(name) {
			return nil, errs.Field("set", "未知参数 %s", name)
		}
		over[name] = v
	}
	if len(over) == 0 {
		return nil, errs.Field("set", "请至少设定一个参数，例如 dibao.standard=1700")
	}
	return over, nil
}

// MaySimulate returns the error Simulate gives by when by may not run
// simulations (a city-wide administrator may), for its page and navigation.
func MaySimulate(by auth.Principal) error {
	if !by.Scope().CityWide() || !by.Can(auth.SystemOperate) {
		return errs.E(errs.Forbidden, "只有全市范围的市管理员可以做政策模拟测算")
	}
	return nil
}

// Simulate evaluates every programme as of from twice — with the values in
// force and with over — and compares them by district. DistrictName names
// a district code.
func (s *Service) Simulate(ctx context.Context, by auth.Principal, over policy.Overrides, from time.Time, districtName func(string) string) (*Simulation, error) {
	if err := MaySimulate(by); err != nil {
		return nil, err
	}
	start := time.Now()
	type pair struct{ base, sim *policy.Plan }
	var plans []pair
	fieldSet := map[string]bool{}
	for _, id := range s.Policies.IDs() {
		b, err := s.Policies.Plan(id, from, nil)
		if err != nil {
			return nil, errs.Field("from", "项目 %s 无法按 %s 计算：%v", id, from.Format(time.DateOnly), err)
		}
		m, err := s.Policies.Plan(id, from, over)
		if err != nil {
			return nil, errs.Field("set", "项目 %s：%v", id, err)
		}
		plans = append(plans, pair{b, m})
		for _, f := range append(b.Fields(), "household.members") {
			fieldSet[f] = true
		}
	}
	var fields []string
	for f := range fieldSet {
		fields = append(fields, f)
	}
	type k struct{ program, district string }
	acc := map[k]*SimRow{}
	err := streamRows(ctx, s.Registry, by, from, batchPersons, nil, func(b *batch) error {
		rows := b.rows
		n := len(rows)
		cols, err := policy.NewColumns(n, fields)
		if err != nil {
			return err
		}
		for i := range rows {
			cols.Set(i, &rows[i].facts, rows[i].head)
		}
		e0, a0, e1, a1 := make([]bool, n), make([]float64, n), make([]bool, n), make([]float64, n)
		members := cols.Column("household.members")
		for _, pl := range plans {
			pl.base.Run(cols, e0, a0)
			pl.sim.Run(cols, e1, a1)
			household := pl.base.Policy.Entity == "household"
			for i := range rows {
				if !e0[i] && !e1[i] {
					continue
				}
				key := k{pl.base.Policy.ID, rows[i].district}
				r := acc[key]
				if r == nil {
					r = &SimRow{Program: key.program, District: key.district}
					acc[key] = r
				}
				people := 1
				if household {
					people = int(members[i])
				}
				switch {
				case e1[i] && !e0[i]:
					r.SubjectsGain++
					r.PeopleGain += people
				case e0[i] && !e1[i]:
					r.SubjectsLose++
					r.PeopleLose += people
				}
				if e1[i] {
					r.SubjectsAfter++
				}
				r.MonthlyBefore += a0[i]
				r.MonthlyAfter += a1[i]
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sim := &Simulation{Set: over, From: from.Format(time.DateOnly), Rows: []SimRow{}, Total: []SimRow{}}
	totals := map[string]*SimRow{}
	for _, r := range acc {
		p, _ := s.Policies.Get(r.Program)
		r.Name = p.NameOn(from)
		r.DistrictName = districtName(r.District)
		r.MonthlyBefore, r.MonthlyAfter = policy.Round2(r.MonthlyBefore), policy.Round2(r.MonthlyAfter)
		r.MonthlyDelta = policy.Round2(r.MonthlyAfter - r.MonthlyBefore)
		r.YearlyDelta = policy.Round2(r.MonthlyDelta * 12)
		sim.Rows = append(sim.Rows, *r)
		t := totals[r.Program]
		if t == nil {
			t = &SimRow{Program: r.Program, Name: r.Name, DistrictName: "全市"}
			totals[r.Program] = t
		}
		t.SubjectsGain += r.SubjectsGain
		t.SubjectsLose += r.SubjectsLose
		t.PeopleGain += r.PeopleGain
		t.PeopleLose += r.PeopleLose
		t.SubjectsAfter += r.SubjectsAfter
		t.MonthlyBefore += r.MonthlyBefore
		t.MonthlyAfter += r.MonthlyAfter
	}
	for _, id := range s.Policies.IDs() {
		if t := totals[id]; t != nil {
			t.MonthlyBefore, t.MonthlyAfter = policy.Round2(t.MonthlyBefore), policy.Round2(t.MonthlyAfter)
			t.MonthlyDelta = policy.Round2(t.MonthlyAfter - t.MonthlyBefore)
			t.YearlyDelta = policy.Round2(t.MonthlyDelta * 12)
			sim.Total = append(sim.Total, *t)
		}
	}
	sort.Slice(sim.Rows, func(i, j int) bool {
		if sim.Rows[i].Program != sim.Rows[j].Program {
			return sim.Rows[i].Program < sim.Rows[j].Program
		}
		return sim.Rows[i].District < sim.Rows[j].District
	})
	sim.Seconds = time.Since(start).Seconds()
	return sim, nil
}

// Changed returns the rows of programmes the simulation changes at all.
func (sim *Simulation) Changed() []SimRow {
	var out []SimRow
	for _, r := range sim.Total {
		if r.SubjectsGain != 0 || r.SubjectsLose != 0 || r.MonthlyDelta != 0 {
			out = append(out, r)
		}
	}
	return out
}
