package cases

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"minzheng/internal/auth"
)

// checkOwn checks everything a definition file says about itself; what
// needs other files (a borrowed chain, a bundle's members) is link's.
func (f *file) checkOwn() error {
	s := f.svc
	d := &s.Definition
	if !isIdent(d.Code) {
		return f.errAt(at("code"), "事项编码“%s”应为小写字母、数字和下划线，以字母开头", d.Code)
	}
	switch d.Kind {
	case "":
		d.Kind = KindService
	case KindService, KindBundle:
	default:
		return f.errAt(at("kind"), "kind 应为 service（事项）或 bundle（一件事），实为“%s”", d.Kind)
	}
	if strings.TrimSpace(d.Name) == "" {
		return f.errAt(at("name"), "缺少事项名称")
	}
	if strings.TrimSpace(d.NameEN) == "" {
		return f.errAt(at("name_en"), "缺少英文名称（供英文页面使用）")
	}
	if strings.TrimSpace(d.Basis.Text) == "" {
		return f.errAt(at("basis", "text"), "缺少设定依据")
	}
	if strings.TrimSpace(d.Basis.Source) == "" {
		return f.errAt(at("basis", "source"), "设定依据没有注明来源 source")
	}
	if d.Level.Label() == "" {
		return f.errAt(at("level"), "level 应为 city（市级）、district（区级）或 street（街道）之一，实为“%s”", d.Level)
	}
	if strings.TrimSpace(d.Department) == "" {
		return f.errAt(at("department"), "缺少办理部门")
	}
	if len(d.Applicants) == 0 {
		return f.errAt(at("applicants"), "缺少申请人类型（resident、staff、organisation）")
	}
	for i, a := range d.Applicants {
		if a.Label() == "" {
			return f.errAt(at("applicants", i), "申请人类型应为 resident（居民）、staff（工作人员代办）或 organisation（组织），实为“%s”", a)
		}
		if slices.Index(d.Applicants, a) != i {
			return f.errAt(at("applicants", i), "申请人类型“%s”重复", a)
		}
	}
	if err := f.checkForm(d.Form); err != nil {
		return err
	}
	if err := f.checkMaterials(d.Materials); err != nil {
		return err
	}
	s.form, s.materials = d.Form, d.Materials
	if d.Kind == KindBundle {
		return f.checkBundleOwn()
	}
	return f.checkServiceOwn()
}

func (f *file) checkServiceOwn() error {
	s := f.svc
	d := &s.Definition
	if f.has("services") {
		return f.errAt(at("services"), "只有一件事（kind: bundle）才列出 services")
	}
	if !f.has("fees") {
		return f.errAt(at("fees"), "缺少收费 fees（不收费的写 free: true）")
	}
	if d.Fees.Free == (len(d.Fees.Items) > 0) {
		return f.errAt(at("fees"), "fees 应写 free: true（不收费）或列出 items 收费项目，二者取一")
	}
	for i, it := range d.Fees.Items {
		if strings.TrimSpace(it.Name) == "" || it.Yuan < 0 || math.IsNaN(it.Yuan) || math.IsInf(it.Yuan, 0) {
			return f.errAt(at("fees", "items", i), "收费项目应有名称 name 和不小于 0 的金额 yuan")
		}
	}
	if strings.TrimSpace(d.Fees.Source) == "" {
		return f.errAt(at("fees", "source"), "收费没有注明来源 source")
	}
	if !f.has("time_limit") {
		return f.errAt(at("time_limit"), "缺少承诺时限 time_limit（工作日）")
	}
	if d.TimeLimit.Days < 0 {
		return f.errAt(at("time_limit", "days"), "承诺时限不能为负数")
	}
	if strings.TrimSpace(d.TimeLimit.Source) == "" {
		return f.errAt(at("time_limit", "source"), "承诺时限没有注明来源 source")
	}
	switch {
	case d.Chain != nil && d.ChainOf != "":
		return f.errAt(at("chain_of"), "chain 与 chain_of 只能写一个")
	case d.Chain == nil && d.ChainOf == "":
		return f.errAt(at("chain"), "缺少办理流程 chain（或用 chain_of 沿用另一事项的流程）")
	case d.ChainOf != "":
		if len(d.Checks) > 0 {
			return f.errAt(at("checks"), "沿用 %s 的流程时，检查项 checks 也沿用，不能另写", d.ChainOf)
		}
		return nil
	}
	if err := f.checkChecks(d.Checks); err != nil {
		return err
	}
	if err := f.checkChain(d.Chain, d.Checks, at("chain")); err != nil {
		return err
	}
	s.chain, s.checks = d.Chain, d.Checks
	return f.checkTimeLimit(at("time_limit", "days"))
}

func (f *file) checkBundleOwn() error {
	d := &f.svc.Definition
	for _, k := range []string{"chain", "chain_of", "checks", "time_limit", "fees"} {
		if f.has(k) {
			return f.errAt(at(k), "一件事不写 %s：各事项按自己的定义办理", k)
		}
	}
	if len(d.Services) < 2 {
		return f.errAt(at("services"), "一件事应列出至少两个事项 services")
	}
	for i, c := range d.Services {
		if slices.Index(d.Services, c) != i {
			return f.errAt(at("services", i), "事项“%s”重复", c)
		}
	}
	return nil
}

// link resolves what a definition names in other files.
func (f *file) link(cat *Catalogue) error {
	s := f.svc
	d := &s.Definition
	if d.ChainOf != "" {
		o, ok := cat.Get(d.ChainOf)
		switch {
		case !ok:
			return f.errAt(at("chain_of"), "沿用流程的事项“%s”不存在", d.ChainOf)
		case o.IsBundle():
			return f.errAt(at("chain_of"), "“%s”是一件事，没有自己的流程", d.ChainOf)
		case o.ChainOf != "":
			return f.errAt(at("chain_of"), "“%s”本身沿用 %s 的流程：请直接写 chain_of: %s", d.ChainOf, o.ChainOf, o.ChainOf)
		}
		for i, t := range o.chain.Transitions {
			for _, name := range t.Records.Fields {
				if _, ok := s.Field(name); !ok {
					return f.errAt(at("chain_of"), "沿用的流程第 %d 步要求填写字段“%s”，本事项表单没有该字段", i+1, name)
				}
			}
			for _, code := range t.Records.Attachments {
				if !slices.ContainsFunc(s.materials, func(m Material) bool { return m.Code == code }) {
					return f.errAt(at("chain_of"), "沿用的流程第 %d 步要求附上材料“%s”，本事项材料清单没有该材料", i+1, code)
				}
			}
		}
		s.chain, s.checks = o.chain, o.checks
		return f.checkTimeLimit(at("time_limit", "days"))
	}
	if !s.IsBundle() {
		return nil
	}
	form := slices.Clone(s.form)
	materials := slices.Clone(s.materials)
	for i, code := range d.Services {
		m, ok := cat.Get(code)
		switch {
		case !ok:
			return f.errAt(at("services", i), "事项“%s”不存在", code)
		case m.IsBundle():
			return f.errAt(at("services", i), "“%s”是一件事，一件事不能套一件事", code)
		}
		for _, a := range d.Applicants {
			if !slices.Contains(m.Applicants, a) {
				return f.errAt(at("services", i), "事项“%s”不接受“%s”申请，一件事却允许", code, a.Label())
			}
		}
		for _, fl := range m.form {
			j := slices.IndexFunc(form, func(x Field) bool { return x.Name == fl.Name })
			if j < 0 {
				form = append(form, fl)
				continue
			}
			if !sameField(form[j], fl) {
				return f.errAt(at("services", i), "事项“%s”的字段“%s”与一件事中同名字段的类型或选项不同，无法合并为一张表单", code, fl.Name)
			}
			form[j].Required = form[j].Required || fl.Required
		}
		for _, mt := range m.materials {
			j := slices.IndexFunc(materials, func(x Material) bool { return x.Code == mt.Code })
			if j < 0 {
				materials = append(materials, mt)
				continue
			}
			if materials[j].Name != mt.Name {
				return f.errAt(at("services", i), "事项“%s”的材料“%s”（%s）与同编码材料“%s”名称不同", code, mt.Code, mt.Name, materials[j].Name)
			}
			materials[j].Required = materials[j].Required || mt.Required
		}
		s.members = append(s.members, m)
	}
	s.form, s.materials = form, materials
	return nil
}

// sameField reports whether two fields of one name can be one field.
func sameField(a, b Field) bool {
	return a.Type == b.Type && a.Multiple == b.Multiple && a.Staff == b.Staff && a.Pattern == b.Pattern &&
		a.Min == b.Min && a.Max == b.Max && a.Integer == b.Integer && slices.Equal(a.Options, b.Options)
}

func (f *file) checkForm(form []Field) error {
	for i := range form {
		fl := &form[i]
		p := func(k string) []any { return at("form", i, k) }
		if !isIdent(fl.Name) {
			return f.errAt(p("name"), "字段名“%s”应为小写字母、数字和下划线，以字母开头", fl.Name)
		}
		if slices.IndexFunc(form, func(x Field) bool { return x.Name == fl.Name }) != i {
			return f.errAt(p("name"), "字段名“%s”重复", fl.Name)
		}
		if strings.TrimSpace(fl.Label) == "" {
			return f.errAt(p("label"), "字段“%s”缺少中文名称 label", fl.Name)
		}
		if fl.Type.Label() == "" {
			return f.errAt(p("type"), "字段类型应为 text、number、money、date、id_number、choice、bool、file 之一，实为“%s”", fl.Type)
		}
		if fl.Staff && fl.Required {
			return f.errAt(p("required"), "工作人员填写的字段（staff: true）不设 required：在流程步骤的 records.fields 中要求")
		}
		if (len(fl.Options) > 0) != (fl.Type == Choice) {
			if fl.Type == Choice {
				return f.errAt(p("options"), "选项字段“%s”缺少 options", fl.Name)
			}
			return f.errAt(p("options"), "只有选项字段（choice）才有 options")
		}
		for j, o := range fl.Options {
			if o.Value == "" || strings.ContainsAny(o.Value, ",，、") || strings.TrimSpace(o.Label) == "" {
				return f.errAt(at("form", i, "options", j), "选项应有不含逗号的 value 和中文 label")
			}
			if slices.IndexFunc(fl.Options, func(x Option) bool { return x.Value == o.Value || x.Label == o.Label }) != j {
				return f.errAt(at("form", i, "options", j), "选项“%s”重复", o.Value)
			}
		}
		if fl.Multiple && fl.Type != Choice && fl.Type != File {
			return f.errAt(p("multiple"), "只有选项（choice）和文件（file）字段可以多选")
		}
		if fl.Integer && fl.Type != Number {
			return f.errAt(p("integer"), "只有数字字段（number）可以要求整数")
		}
		if fl.Pattern != "" {
			if fl.Type != Text {
				return f.errAt(p("pattern"), "只有文字字段（text）可以有 pattern")
			}
			re, err := regexp.Compile(`^(?:` + fl.Pattern + `)$`)
			if err != nil {
				return f.errAt(p("pattern"), "pattern 不是有效的正则表达式：%v", err)
			}
			fl.pattern = re
		}
		var err error
		if fl.min, err = parseBound(fl.Type, fl.Min); err != nil {
			return f.errAt(p("min"), "%s", err.Error())
		}
		if fl.max, err = parseBound(fl.Type, fl.Max); err != nil {
			return f.errAt(p("max"), "%s", err.Error())
		}
		if fl.min.set && fl.max.set && !fl.min.today && !fl.max.today &&
			(fl.min.num > fl.max.num || fl.min.date.After(fl.max.date)) {
			return f.errAt(p("max"), "max 小于 min")
		}
	}
	return nil
}

// parseBound parses a min or max for a field type.
func parseBound(t FieldType, s string) (bound, error) {
	if s == "" {
		return bound{}, nil
	}
	switch t {
	case Number, Money:
		v, ok := parseDecimal(s, -1)
		if !ok {
			return bound{}, errf("界限“%s”应为数字", s)
		}
		return bound{set: true, num: v}, nil
	case Text:
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return bound{}, errf("文字长度界限“%s”应为不小于 0 的整数（字数）", s)
		}
		return bound{set: true, num: float64(n)}, nil
	case Date:
		if s == "today" {
			return bound{set: true, today: true}, nil
		}
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return bound{}, errf("日期界限“%s”应为 YYYY-MM-DD 或 today", s)
		}
		return bound{set: true, date: d}, nil
	}
	return bound{}, errf("%s字段不能设 min 或 max", t.Label())
}

func (f *file) checkMaterials(ms []Material) error {
	for i, m := range ms {
		p := func(k string) []any { return at("materials", i, k) }
		if !isIdent(m.Code) {
			return f.errAt(p("code"), "材料编码“%s”应为小写字母、数字和下划线，以字母开头", m.Code)
		}
		if slices.IndexFunc(ms, func(x Material) bool { return x.Code == m.Code }) != i {
			return f.errAt(p("code"), "材料编码“%s”重复", m.Code)
		}
		if strings.TrimSpace(m.Name) == "" {
			return f.errAt(p("name"), "材料“%s”缺少名称", m.Code)
		}
		if _, ok := DataSources[m.FetchedFrom]; m.FetchedFrom != "" && !ok {
			return f.errAt(p("fetched_from"), "未知的平台数据“%s”，可选：%s", m.FetchedFrom, strings.Join(sortedKeys(DataSources), "、"))
		}
		if strings.TrimSpace(m.Source) == "" {
			return f.errAt(p("source"), "材料“%s”没有注明来源 source", m.Code)
		}
	}
	return nil
}

func (f *file) checkChecks(cs []Check) error {
	for i, c := range cs {
		if !isIdent(c.Code) || strings.TrimSpace(c.Label) == "" {
			return f.errAt(at("checks", i), "检查项应有编码 code（小写字母、数字和下划线）和中文说明 label")
		}
		if slices.IndexFunc(cs, func(x Check) bool { return x.Code == c.Code }) != i {
			return f.errAt(at("checks", i, "code"), "检查项“%s”重复", c.Code)
		}
	}
	return nil
}

// checkChain checks a chain's states and transitions and that it is a
// sound graph: every state reachable from the first, no dead end.
func (f *file) checkChain(ch *Chain, checks []Check, base []any) error {
	p := func(parts ...any) []any { return append(slices.Clone(base), parts...) }
	if strings.TrimSpace(ch.Source) == "" {
		return f.errAt(p("source"), "流程的期限没有注明来源 source")
	}
	if len(ch.States) < 2 {
		return f.errAt(p("states"), "流程应至少有两个状态（受理和办结）")
	}
	idx := map[string]int{}
	terminals := 0
	for i, st := range ch.States {
		if !isIdent(st.Code) {
			return f.errAt(p("states", i, "code"), "状态编码“%s”应为小写字母、数字和下划线，以字母开头", st.Code)
		}
		if _, dup := idx[st.Code]; dup {
			return f.errAt(p("states", i, "code"), "状态“%s”重复", st.Code)
		}
		idx[st.Code] = i
		if strings.TrimSpace(st.Label) == "" {
			return f.errAt(p("states", i, "label"), "状态“%s”缺少中文名称", st.Code)
		}
		if st.Deadline < 0 {
			return f.errAt(p("states", i, "deadline"), "期限不能为负数")
		}
		if st.Terminal {
			terminals++
			if st.Deadline != 0 {
				return f.errAt(p("states", i, "deadline"), "终止状态“%s”不设期限", st.Code)
			}
		}
	}
	if ch.States[0].Terminal {
		return f.errAt(p("states", 0, "terminal"), "第一个状态是案件的起点，不能是终止状态")
	}
	if terminals == 0 {
		return f.errAt(p("states"), "流程没有终止状态（terminal: true）")
	}
	usedChecks := map[string]bool{}
	next := make([][]int, len(ch.States))
	for i, t := range ch.Transitions {
		tp := func(k ...any) []any { return p(append([]any{"transitions", i}, k...)...) }
		from, ok := idx[t.From]
		if !ok {
			return f.errAt(tp("from"), "起始状态“%s”未定义", t.From)
		}
		to, ok := idx[t.To]
		if !ok {
			return f.errAt(tp("to"), "目标状态“%s”未定义", t.To)
		}
		if from == to {
			return f.errAt(tp("to"), "不能从“%s”转到它自己", t.From)
		}
		if ch.States[from].Terminal {
			return f.errAt(tp("from"), "“%s”是终止状态，不能再转出", t.From)
		}
		if slices.IndexFunc(ch.Transitions, func(x Transition) bool { return x.From == t.From && x.To == t.To }) != i {
			return f.errAt(tp("to"), "从“%s”到“%s”的步骤重复", t.From, t.To)
		}
		if strings.TrimSpace(t.Label) == "" {
			return f.errAt(tp("label"), "步骤缺少中文名称 label")
		}
		if len(t.Roles) == 0 {
			return f.errAt(tp("roles"), "步骤没有写由哪些角色办理 roles")
		}
		for j, r := range t.Roles {
			if !r.Valid() {
				return f.errAt(tp("roles", j), "未知角色“%s”，可选：%s", r, roleList())
			}
			if slices.Index(t.Roles, r) != j {
				return f.errAt(tp("roles", j), "角色“%s”重复", r)
			}
		}
		for j, name := range t.Records.Fields {
			if _, ok := f.svc.Field(name); !ok {
				return f.errAt(tp("records", "fields", j), "表单没有字段“%s”", name)
			}
		}
		for j, code := range t.Records.Attachments {
			if !slices.ContainsFunc(f.svc.Materials, func(m Material) bool { return m.Code == code }) {
				return f.errAt(tp("records", "attachments", j), "材料清单没有材料“%s”", code)
			}
		}
		for j, code := range t.Records.Checks {
			if !slices.ContainsFunc(checks, func(c Check) bool { return c.Code == code }) {
				return f.errAt(tp("records", "checks", j), "检查项“%s”未在 checks 中声明", code)
			}
			usedChecks[code] = true
		}
		next[from] = append(next[from], to)
	}
	for i, c := range checks {
		if !usedChecks[c.Code] {
			return f.errAt(at("checks", i, "code"), "检查项“%s”已声明，但没有步骤使用", c.Code)
		}
	}
	// Every state reachable from the first…
	seen := reach(next, []int{0})
	for i, st := range ch.States {
		if !seen[i] {
			return f.errAt(p("states", i, "code"), "状态“%s”从起点“%s”无法到达", st.Code, ch.States[0].Code)
		}
	}
	// …and every state can still reach an end.
	back := make([][]int, len(ch.States))
	var ends []int
	for from, tos := range next {
		for _, to := range tos {
			back[to] = append(back[to], from)
		}
		if ch.States[from].Terminal {
			ends = append(ends, from)
		}
	}
	canEnd := reach(back, ends)
	for i, st := range ch.States {
		if !canEnd[i] {
			return f.errAt(p("states", i, "code"), "状态“%s”无法到达任何终止状态，案件会停在那里", st.Code)
		}
	}
	return nil
}

// reach returns the states reachable from the given ones along next.
func reach(next [][]int, from []int) []bool {
	seen := make([]bool, len(next))
	stack := slices.Clone(from)
	for _, s := range from {
		seen[s] = true
	}
	for len(stack) > 0 {
		s := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, t := range next[s] {
			if !seen[t] {
				seen[t] = true
				stack = append(stack, t)
			}
		}
	}
	return seen
}

// ShortestDays returns the fewest working days the chain can take from the
// first state to a terminal one: the sum of the deadlines of the states on
// the shortest path. The promised time limit may not be shorter.
func (c *Chain) ShortestDays() int {
	idx := map[string]int{}
	for i, st := range c.States {
		idx[st.Code] = i
	}
	const inf = math.MaxInt
	dist := make([]int, len(c.States))
	for i := range dist {
		dist[i] = inf
	}
	dist[0] = 0
	for range c.States { // Bellman–Ford: deadlines are non-negative and chains are small
		for _, t := range c.Transitions {
			from, to := idx[t.From], idx[t.To]
			if dist[from] == inf {
				continue
			}
			if d := dist[from] + c.States[from].Deadline; d < dist[to] {
				dist[to] = d
			}
		}
	}
	best := inf
	for i, st := range c.States {
		if st.Terminal && dist[i] < best {
			best = dist[i]
		}
	}
	return best
}

func (f *file) checkTimeLimit(path []any) error {
	if min := f.svc.chain.ShortestDays(); f.svc.TimeLimit.Days < min {
		return f.errAt(path, "承诺时限 %d 个工作日短于流程各环节期限之和的最小值 %d 个工作日", f.svc.TimeLimit.Days, min)
	}
	return nil
}

func roleList() string {
	names := make([]string, len(auth.Roles))
	for i, r := range auth.Roles {
		names[i] = string(r)
	}
	return strings.Join(names, "、")
}

func isIdent(s string) bool {
	if s == "" || len(s) > 64 || !(s[0] >= 'a' && s[0] <= 'z') {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z') && !(c >= '0' && c <= '9') && c != '_' {
			return false
		}
	}
	return true
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// loadMsg is an error whose text is a Chinese message.
type loadMsg string

func (m loadMsg) Error() string { return string(m) }

func errf(format string, args ...any) error { return loadMsg(fmt.Sprintf(format, args...)) }
