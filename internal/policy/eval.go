package policy

import (
	"bytes"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/expr-lang/expr/vm"

	"minzheng/internal/errs"
)

// Overrides replace parameter values from a date on, for what-if
// simulation: "dibao.standard" → value.
type Overrides map[string]float64

// value returns the value of policy.param in force on the date, or false
// when the parameter has no value yet on that date.
func (s *Set) value(name string, on time.Time) (Value, *Parameter, bool) {
	id, param, _ := strings.Cut(name, ".")
	p, ok := s.Policies[id]
	if !ok {
		return Value{}, nil, false
	}
	prm, ok := p.params[param]
	if !ok {
		return Value{}, nil, false
	}
	i := sort.Search(len(prm.Values), func(i int) bool { return prm.Values[i].From.After(on) }) - 1
	if i < 0 {
		return Value{}, prm, false
	}
	return prm.Values[i], prm, true
}

// Param returns the value of a parameter ("dibao.standard") in force on
// the date, and false when it has none then.
func (s *Set) Param(name string, on time.Time) (float64, bool) {
	v, _, ok := s.value(name, on)
	return v.Value, ok
}

// Name returns the programme's name in force on the date.
func (p *Policy) NameOn(on time.Time) string {
	name := p.Names[0].Name
	for _, n := range p.Names {
		if !n.From.After(on) {
			name = n.Name
		}
	}
	return name
}

// explainData is what explanation templates see: .Passed, .Person.age,
// .Household.per_capita_income, .Amount, .P "dibao.standard" (the value in
// force), .Since "dibao.standard" (its effective date), and yuan x.
type explainData struct {
	Passed    bool
	Person    map[string]any
	Household map[string]any
	Amount    float64
	set       *Set
	on        time.Time
	over      Overrides
}

// P returns a parameter's value in force.
func (d *explainData) P(name string) (float64, error) {
	v, prm, _ := d.set.value(name, d.on)
	if prm == nil {
		return 0, fmt.Errorf("未知参数 %s", name)
	}
	if ov, ok := d.over[name]; ok {
		return ov, nil
	}
	return v.Value, nil
}

// Since returns the date from which a parameter's value is in force.
func (d *explainData) Since(name string) (string, error) {
	v, prm, ok := d.set.value(name, d.on)
	if prm == nil {
		return "", fmt.Errorf("未知参数 %s", name)
	}
	if !ok || d.on.IsZero() {
		return "", nil
	}
	return v.From.String(), nil
}

// Yuan formats an amount of money with thousands separators and at most
// two decimals: 1595 → "1,595", 1234.5 → "1,234.50".
func Yuan(x float64) string {
	neg := x < 0
	x = math.Abs(x)
	whole := int64(x)
	cents := int64(math.Round((x - float64(whole)) * 100))
	if cents == 100 {
		whole, cents = whole+1, 0
	}
	s := strconv.FormatInt(whole, 10)
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if cents > 0 {
		fmt.Fprintf(&b, ".%02d", cents)
	}
	return b.String()
}

// Evaluate decides one programme for a case as of a date, with every
// condition explained and every parameter value it used listed with its
// source. Overrides, if any, replace parameter values (what-if).
func (s *Set) Evaluate(id string, c *Case, on time.Time, over Overrides) (*Result, error) {
	if _, ok := s.Policies[id]; !ok {
		return nil, errs.Field("program", "未知项目“%s”，可选：%s", id, strings.Join(s.order, "、"))
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	r, err := s.EvaluateFacts(id, c.Derive(on), on, over)
	if err != nil {
		return nil, err
	}
	r.Subject = c.Subject
	return r, nil
}

// EvaluateFacts decides one programme on derived facts, with the
// explanation: the interpreted path that the batch plan must agree with.
func (s *Set) EvaluateFacts(id string, f Facts, on time.Time, over Overrides) (*Result, error) {
	p, ok := s.Policies[id]
	if !ok {
		return nil, errs.Field("program", "未知项目“%s”，可选：%s", id, strings.Join(s.order, "、"))
	}
	env, used, err := s.envFor(f, on, over)
	if err != nil {
		return nil, err
	}
	for _, cc := range p.conds {
		if err := missingValue(used, cc.refs, on); err != nil {
			return nil, err
		}
	}
	if err := missingValue(used, p.amountR, on); err != nil {
		return nil, err
	}
	r := &Result{Program: p.ID, Name: p.NameOn(on), AsOf: on.Format(time.DateOnly), Eligible: true,
		Version: p.Version, Explanation: []Step{}, Parameters: []UsedValue{}}
	d := &explainData{Person: structMap(f.Person), Household: structMap(f.Household), set: s, on: on, over: over}
	refs := map[string]bool{}
	for _, cc := range p.conds {
		out, err := vm.Run(cc.prog, env)
		if err != nil {
			return nil, fmt.Errorf("policy %s: condition %s: %w", p.ID, cc.ID, err)
		}
		passed := out.(bool)
		d.Passed = passed
		st := Step{ID: cc.ID, Label: cc.Label, Passed: passed}
		if cc.explain != nil {
			var b bytes.Buffer
			if err := cc.explain.Execute(&b, d); err != nil {
				return nil, fmt.Errorf("policy %s: explain %s: %w", p.ID, cc.ID, err)
			}
			st.Detail = b.String()
		} else if passed {
			st.Detail = "符合：" + cc.Label
		} else {
			st.Detail = "不符合：" + cc.Label
		}
		if !passed {
			r.Eligible = false
		}
		r.Explanation = append(r.Explanation, st)
		for _, ref := range cc.refs {
			refs[ref] = true
		}
	}
	if r.Eligible {
		out, err := vm.Run(p.amount, env)
		if err != nil {
			return nil, fmt.Errorf("policy %s: amount: %w", p.ID, err)
		}
		amount := out.(float64)
		if math.IsNaN(amount) || math.IsInf(amount, 0) {
			return nil, errs.E(errs.Invalid, "项目 %s 的月金额无法计算（结果为 %v），请检查政策文件的 amount", p.ID, amount)
		}
		r.MonthlyAmount = round2(math.Max(0, amount))
		for _, ref := range p.amountR {
			refs[ref] = true
		}
		if p.amountT != nil {
			d.Amount, d.Passed = r.MonthlyAmount, true
			var b bytes.Buffer
			if err := p.amountT.Execute(&b, d); err != nil {
				return nil, fmt.Errorf("policy %s: amount_explain: %w", p.ID, err)
			}
			r.Explanation = append(r.Explanation, Step{ID: "amount", Label: "月发放金额", Passed: true, Detail: b.String()})
		}
	}
	names := make([]string, 0, len(refs))
	for n := range refs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		r.Parameters = append(r.Parameters, used[n])
	}
	return r, nil
}

// envFor builds the expression environment for facts on a date.
func (s *Set) envFor(f Facts, on time.Time, over Overrides) (map[string]any, map[string]UsedValue, error) {
	var ps *paramsOn
	if len(over) == 0 {
		if v, ok := s.params.Load(on); ok {
			ps = v.(*paramsOn)
		} else {
			ps = s.paramsFor(on, nil)
			if s.nParams.Add(1) <= maxCachedDates {
				s.params.Store(on, ps)
			}
		}
	} else {
		ps = s.paramsFor(on, over)
	}
	env := make(map[string]any, len(ps.maps)+2)
	env["person"], env["household"] = f.Person, f.Household
	for id, m := range ps.maps {
		env[id] = m
	}
	return env, ps.used, nil
}

// paramsOn are the parameter values of every policy on one date: per
// policy a map for expressions, and each value with its source. Both are
// read only once made, so evaluations share them.
type paramsOn struct {
	maps map[string]map[string]float64
	used map[string]UsedValue
}

func (s *Set) paramsFor(on time.Time, over Overrides) *paramsOn {
	ps := &paramsOn{maps: map[string]map[string]float64{}, used: map[string]UsedValue{}}
	for id, p := range s.Policies {
		m := make(map[string]float64, len(p.params))
		for name, prm := range p.params {
			full := id + "." + name
			v, _, ok := s.value(full, on)
			uv := UsedValue{Name: full, Label: prm.Label, Value: v.Value, Source: v.Source, Confirmed: v.Confirmed}
			if ok {
				uv.From = v.From.String()
			} else {
				uv.Source = "该日期尚无取值"
			}
			if ov, ok := over[full]; ok {
				uv.Value, uv.Source, uv.Confirmed, uv.From = ov, "模拟测算设定值", false, on.Format(time.DateOnly)
			}
			m[name] = uv.Value
			ps.used[full] = uv
		}
		ps.maps[id] = m
	}
	return ps
}

// missingValue refuses a date on which a parameter the policy uses has no
// value yet: the engine cannot decide then, rather than decide on zero.
func missingValue(used map[string]UsedValue, refs []string, on time.Time) error {
	for _, ref := range refs {
		if used[ref].From == "" {
			return errs.Field("as_of", "参数 %s（%s）在 %s 尚无取值，无法按该日期计算", ref, used[ref].Label, on.Format(time.DateOnly))
		}
	}
	return nil
}
