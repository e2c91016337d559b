package cases

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"minzheng/internal/auth"
)

// embeddedSources returns the embedded definition files as Load takes them,
// keyed as LoadFS names them (services/dibao.yaml).
func embeddedSources(t testing.TB) map[string][]byte {
	t.Helper()
	names, err := fs.Glob(embedded, "services/*.yaml")
	if err != nil || len(names) == 0 {
		t.Fatalf("embedded definitions: %v %v", names, err)
	}
	src := map[string][]byte{}
	for _, n := range names {
		b, err := fs.ReadFile(embedded, n)
		if err != nil {
			t.Fatal(err)
		}
		src[n] = b
	}
	return src
}

// minimal is a small valid service, added to the embedded ones for the tests
// that break its chain.
const minimal = `code: zz_min
name: 测试事项
name_en: Test service
basis: {text: 测试依据, source: 测试}
level: street
department: 测试部门
applicants: [resident]
form:
  - {name: note, label: 说明, type: text}
  - {name: grade, label: 等级, type: choice, staff: true, options: [{value: a, label: 甲}]}
materials:
  - {code: proof, name: 证明, required: true, source: 测试}
fees: {free: true, source: 测试}
time_limit: {days: 10, source: 测试}
checks:
  - {code: ok, label: 检查通过}
chain:
  source: 测试
  states:
    - {code: submitted, label: 受理, deadline: 3}
    - {code: review, label: 审核, deadline: 5}
    - {code: done, label: 办结, terminal: true}
    - {code: refused, label: 不予办理, terminal: true}
  transitions:
    - {from: submitted, to: review, label: 送审, roles: [clerk]}
    - {from: review, to: done, label: 办结, roles: [reviewer], records: {fields: [grade], attachments: [proof], checks: [ok]}, decides: true}
    - {from: review, to: refused, label: 不予办理, roles: [reviewer], records: {reasons: true}, decides: true}
`

// lineOfText is the 1-based line on which text starts in src, or 0.
func lineOfText(src []byte, text string) int {
	i := bytes.Index(src, []byte(text))
	if i < 0 {
		return 0
	}
	return bytes.Count(src[:i], []byte("\n")) + 1
}

func TestEmbedded(t *testing.T) {
	cat, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	var services, bundles, assistance int
	for _, s := range cat.All() {
		if s.IsBundle() {
			bundles++
			if len(s.Members()) < 2 || s.Flow() != nil {
				t.Errorf("%s: bundle with %d members, flow %v", s.Code, len(s.Members()), s.Flow())
			}
			continue
		}
		services++
		if s.ChainOf == "dibao" || s.Code == "dibao" {
			assistance++
		}
		if s.Flow() == nil || s.Initial() == nil || s.TimeLimit.Days < s.Flow().ShortestDays() {
			t.Errorf("%s: no chain, or a time limit below its shortest path", s.Code)
		}
		if len(s.Version) != 12 || s.Path != "services/"+s.Code+".yaml" {
			t.Errorf("%s: version %q path %q", s.Code, s.Version, s.Path)
		}
	}
	if assistance != 4 || services-assistance < 10 || bundles < 3 {
		t.Errorf("%d services (%d on the assistance chain), %d bundles", services, assistance, bundles)
	}
	for _, code := range []string{"dibao", "tekun", "temporary_aid", "low_income", "elderly_allowance", "eldercare_subsidy",
		"care_assessment", "home_adaptation", "assistive_rental", "disability_living", "disability_care", "funeral_subsidy",
		"sea_burial_subsidy", "marriage_appointment", "marriage_record", "social_org_registration",
		"social_assistance", "death_bundle", "eldercare_bundle"} {
		if _, ok := cat.Get(code); !ok {
			t.Errorf("catalogue lacks %s", code)
		}
	}
	// A bundle's form is its members' forms merged: one field per name.
	b, _ := cat.Get("eldercare_bundle")
	seen := map[string]bool{}
	for _, f := range b.Fields() {
		if seen[f.Name] {
			t.Errorf("eldercare_bundle: field %s twice", f.Name)
		}
		seen[f.Name] = true
	}
	for _, want := range []string{"applicant_id", "address", "grade", "insurance", "service_kind", "housing", "device"} {
		if !seen[want] {
			t.Errorf("eldercare_bundle lacks %s", want)
		}
	}
	if len(b.MaterialList()) == 0 {
		t.Error("eldercare_bundle has no materials")
	}
}

func TestServiceAccessors(t *testing.T) {
	cat, err := Load(map[string][]byte{"x/zz_min.yaml": []byte(minimal)})
	if err != nil {
		t.Fatal(err)
	}
	s, _ := cat.Get("zz_min")
	if s.Kind != KindService || s.Initial().Code != "submitted" || s.Level.Label() != "街道（乡镇）" || Resident.Label() == "" {
		t.Errorf("service %+v", s.Definition)
	}
	if st, ok := s.State("done"); !ok || !st.Terminal {
		t.Error("State(done)")
	}
	if _, ok := s.State("nope"); ok {
		t.Error("State(nope)")
	}
	tr, ok := s.Find("review", "done")
	if !ok || !tr.Allows(auth.Reviewer) || tr.Allows(auth.Clerk) || !tr.Decides {
		t.Errorf("Find(review, done) = %+v", tr)
	}
	if len(s.Next("review")) != 2 || len(s.Next("done")) != 0 {
		t.Error("Next")
	}
	if got := s.Flow().ShortestDays(); got != 8 {
		t.Errorf("ShortestDays = %d, want 8", got)
	}
	if len(s.AllChecks()) != 1 || len(cat.Codes()) != 1 {
		t.Error("AllChecks, Codes")
	}
	c := DefaultCalendar()
	st, _ := s.State("submitted")
	if due, ok, err := st.Due(c, day("2025-01-24")); !ok || err != nil || due.Format(time.DateOnly) != "2025-02-05" {
		t.Errorf("State.Due = %v %v %v", due, ok, err)
	}
	if _, ok, _ := (&State{Terminal: true}).Due(c, day("2025-01-24")); ok {
		t.Error("a terminal state has no due date")
	}
}

func TestLoadDir(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadDir(dir); err == nil || !strings.Contains(err.Error(), "没有找到") {
		t.Errorf("empty dir: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "zz_min.yaml"), []byte(minimal), 0o600); err != nil {
		t.Fatal(err)
	}
	cat, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if s, ok := cat.Get("zz_min"); !ok || s.Path != filepath.ToSlash(filepath.Join(dir, "zz_min.yaml")) {
		t.Errorf("LoadDir: %+v", s)
	}
}

func TestLoadErrors(t *testing.T) {
	cases := []struct {
		name     string
		file     string // the file edited, under services/; zz_min.yaml is minimal, added
		old, new string // the first old is replaced by new
		// line is text in the edited file whose line the error must name, field the
		// field path it must name ("" for neither).
		line, field string
		want        []string // substrings of the message
	}{
		{"unknown top-level key", "dibao.yaml", "level: street\n", "level: street\ncolour: red\n",
			"colour: red", "colour", []string{"未知字段", "colour"}},
		{"unknown key in a form field", "dibao.yaml", "    type: id_number\n", "    type: id_number\n    colour: red\n",
			"    colour: red", "form[0].colour", []string{"未知字段“colour”"}},
		{"unknown key in a transition", "dibao.yaml", "label: 发起经济状况核对, roles: [clerk]}", "label: 发起经济状况核对, roles: [clerk], role: x}",
			"role: x}", "chain.transitions[0].role", []string{"未知字段“role”"}},
		{"deadline not a number", "dibao.yaml", "label: 入户调查, deadline: 10}", "label: 入户调查, deadline: ten}",
			"deadline: ten", "chain.states[2].deadline", []string{"应为整数", "ten"}},
		{"required not a boolean", "dibao.yaml", "    required: true\n", "    required: maybe\n",
			"required: maybe", "form[0].required", []string{"true 或 false", "maybe"}},
		{"roles not a list", "zz_min.yaml", "label: 送审, roles: [clerk]}", "label: 送审, roles: clerk}",
			"roles: clerk}", "chain.transitions[0].roles", []string{"应为一个列表"}},
		{"YAML syntax", "zz_min.yaml", "level: street\n", "level: street\n  bad: [\n",
			"", "", []string{"YAML 格式错误"}},
		{"second document", "zz_min.yaml", "level: street\n", "level: street\n---\ncode: other\n",
			"---", "", []string{"只能有一个定义"}},
		{"not a mapping", "zz_min.yaml", minimal, "- a\n- b\n",
			"- a", "", []string{"映射"}},
		{"empty file", "zz_min.yaml", minimal, "# nothing\n",
			"", "", []string{"文件为空"}},
		{"bad code", "zz_min.yaml", "code: zz_min", "code: ZZ-min",
			"code: ZZ-min", "code", []string{"事项编码"}},
		{"duplicate code", "elderly_allowance.yaml", "code: elderly_allowance", "code: dibao",
			"code: dibao", "code", []string{"重复", "services/dibao.yaml"}},
		{"unknown kind", "zz_min.yaml", "code: zz_min\n", "code: zz_min\nkind: thing\n",
			"kind: thing", "kind", []string{"kind"}},
		{"no English name", "zz_min.yaml", "name_en: Test service\n", "",
			"", "name_en", []string{"英文名称"}},
		{"basis without source", "zz_min.yaml", "basis: {text: 测试依据, source: 测试}", "basis: {text: 测试依据}",
			"basis:", "basis.source", []string{"来源"}},
		{"unknown level", "zz_min.yaml", "level: street", "level: county",
			"level: county", "level", []string{"county"}},
		{"unknown applicant", "zz_min.yaml", "applicants: [resident]", "applicants: [resident, alien]",
			"applicants:", "applicants[1]", []string{"alien"}},
		{"duplicate field", "zz_min.yaml", "{name: grade, label: 等级", "{name: note, label: 等级",
			"{name: note, label: 等级", "form[1].name", []string{"字段名“note”重复"}},
		{"unknown field type", "zz_min.yaml", "label: 说明, type: text}", "label: 说明, type: essay}",
			"type: essay", "form[0].type", []string{"essay"}},
		{"choice without options", "zz_min.yaml", ", options: [{value: a, label: 甲}]}", "}",
			"{name: grade", "form[1].options", []string{"缺少 options"}},
		{"bad pattern", "zz_min.yaml", "label: 说明, type: text}", "label: 说明, type: text, pattern: '[a-'}",
			"pattern:", "form[0].pattern", []string{"正则表达式"}},
		{"min on a choice", "zz_min.yaml", "type: choice, staff: true,", "type: choice, min: 1, staff: true,",
			"min: 1", "form[1].min", []string{"不能设 min"}},
		{"max below min", "dibao.yaml", "    min: 0\n    max: 99\n", "    min: 10\n    max: 9\n",
			"    max: 9", "form[5].max", []string{"max 小于 min"}},
		{"required staff field", "zz_min.yaml", "type: choice, staff: true,", "type: choice, staff: true, required: true,",
			"{name: grade", "form[1].required", []string{"staff"}},
		{"material without source", "zz_min.yaml", "required: true, source: 测试}", "required: true}",
			"{code: proof", "materials[0].source", []string{"来源"}},
		{"unknown platform data", "dibao.yaml", "fetched_from: registry.hukou", "fetched_from: registry.hukuo",
			"fetched_from: registry.hukuo", "materials[1].fetched_from", []string{"registry.hukuo", "registry.hukou"}},
		{"no fees", "zz_min.yaml", "fees: {free: true, source: 测试}\n", "",
			"", "fees", []string{"fees"}},
		{"free and items", "zz_min.yaml", "fees: {free: true, source: 测试}", "fees: {free: true, items: [{name: 工本费, yuan: 5}], source: 测试}",
			"fees:", "fees", []string{"二者取一"}},
		{"no time limit", "zz_min.yaml", "time_limit: {days: 10, source: 测试}\n", "",
			"", "time_limit", []string{"承诺时限"}},
		{"time limit below the chain", "dibao.yaml", "  days: 60\n", "  days: 40\n",
			"  days: 40", "time_limit.days", []string{"40", "50"}},
		{"borrowed chain too long", "tekun.yaml", "  days: 60\n", "  days: 49\n",
			"  days: 49", "time_limit.days", []string{"49", "50"}},
		{"no chain", "zz_min.yaml", "chain:\n  source: 测试\n", "chainx:\n  source: 测试\n",
			"chainx:", "chainx", []string{"未知字段"}},
		{"chain and chain_of", "zz_min.yaml", "chain:\n", "chain_of: dibao\nchain:\n",
			"chain_of: dibao", "chain_of", []string{"只能写一个"}},
		{"chain_of unknown", "tekun.yaml", "chain_of: dibao\n", "chain_of: dibaoo\n",
			"chain_of: dibaoo", "chain_of", []string{"dibaoo", "不存在"}},
		{"chain_of a borrower", "tekun.yaml", "chain_of: dibao\n", "chain_of: low_income\n",
			"chain_of: low_income", "chain_of", []string{"chain_of: dibao"}},
		{"chain_of a bundle", "tekun.yaml", "chain_of: dibao\n", "chain_of: social_assistance\n",
			"chain_of: social_assistance", "chain_of", []string{"一件事"}},
		{"one state", "zz_min.yaml", "    - {code: review, label: 审核, deadline: 5}\n    - {code: done, label: 办结, terminal: true}\n    - {code: refused, label: 不予办理, terminal: true}\n", "",
			"  states:", "chain.states", []string{"至少有两个状态"}},
		{"duplicate state", "zz_min.yaml", "{code: review, label: 审核", "{code: submitted, label: 审核",
			"{code: submitted, label: 审核", "chain.states[1].code", []string{"重复"}},
		{"terminal with a deadline", "zz_min.yaml", "{code: done, label: 办结, terminal: true}", "{code: done, label: 办结, terminal: true, deadline: 2}",
			"{code: done", "chain.states[2].deadline", []string{"不设期限"}},
		{"first state terminal", "zz_min.yaml", "{code: submitted, label: 受理, deadline: 3}", "{code: submitted, label: 受理, terminal: true}",
			"{code: submitted, label: 受理", "chain.states[0].terminal", []string{"起点"}},
		{"no terminal state", "zz_min.yaml", "办结, terminal: true}\n    - {code: refused, label: 不予办理, terminal: true}", "办结, deadline: 1}\n    - {code: refused, label: 不予办理, deadline: 1}",
			"  states:", "chain.states", []string{"没有终止状态"}},
		{"transition to an unknown state", "dibao.yaml", "{from: submitted, to: verifying,", "{from: submitted, to: verifyin,",
			"to: verifyin,", "chain.transitions[0].to", []string{"目标状态“verifyin”未定义"}},
		{"transition from an unknown state", "zz_min.yaml", "{from: review, to: done,", "{from: reviw, to: done,",
			"{from: reviw", "chain.transitions[1].from", []string{"起始状态“reviw”未定义"}},
		{"transition out of a terminal state", "zz_min.yaml", "{from: review, to: refused,", "{from: done, to: refused,",
			"{from: done, to: refused", "chain.transitions[2].from", []string{"终止状态"}},
		{"transition to itself", "zz_min.yaml", "{from: review, to: refused,", "{from: review, to: review,",
			"{from: review, to: review,", "chain.transitions[2].to", []string{"它自己"}},
		{"duplicate transition", "zz_min.yaml", "{from: review, to: refused,", "{from: review, to: done,",
			"{from: review, to: done, label: 不予办理", "chain.transitions[2].to", []string{"重复"}},
		{"unknown role", "dibao.yaml", "label: 发起经济状况核对, roles: [clerk]}", "label: 发起经济状况核对, roles: [janitor]}",
			"roles: [janitor]", "chain.transitions[0].roles[0]", []string{"未知角色“janitor”", "approver"}},
		{"no roles", "zz_min.yaml", "label: 送审, roles: [clerk]}", "label: 送审}",
			"label: 送审}", "chain.transitions[0].roles", []string{"roles"}},
		{"unknown record field", "zz_min.yaml", "fields: [grade]", "fields: [grad]",
			"fields: [grad]", "chain.transitions[1].records.fields[0]", []string{"grad"}},
		{"unknown attachment", "zz_min.yaml", "attachments: [proof]", "attachments: [prof]",
			"attachments: [prof]", "chain.transitions[1].records.attachments[0]", []string{"prof"}},
		{"undeclared check", "dibao.yaml", "records: {checks: [visit]}", "records: {checks: [visits]}",
			"checks: [visits]", "chain.transitions[2].records.checks[0]", []string{"visits", "未在 checks 中声明"}},
		{"unused check", "zz_min.yaml", "  - {code: ok, label: 检查通过}\n", "  - {code: ok, label: 检查通过}\n  - {code: spare, label: 备用}\n",
			"{code: spare", "checks[1].code", []string{"spare", "没有步骤使用"}},
		{"unreachable state", "zz_min.yaml", "    - {code: done, label: 办结, terminal: true}\n", "    - {code: limbo, label: 悬置, deadline: 5}\n    - {code: done, label: 办结, terminal: true}\n",
			"{code: limbo", "chain.states[2].code", []string{"limbo", "无法到达"}},
		{"dead end", "zz_min.yaml", "{from: review, to: done, label: 办结, roles: [reviewer], records: {fields: [grade], attachments: [proof], checks: [ok]}, decides: true}\n    - {from: review, to: refused,",
			"{from: submitted, to: done, label: 办结, roles: [reviewer], records: {fields: [grade], attachments: [proof], checks: [ok]}, decides: true}\n    - {from: submitted, to: refused,",
			"{code: review", "chain.states[1].code", []string{"review", "无法到达任何终止状态"}},
		{"chain without source", "zz_min.yaml", "chain:\n  source: 测试\n", "chain:\n",
			"chain:", "chain.source", []string{"来源"}},
		{"bundle naming an unknown service", "social_assistance.yaml", "services: [dibao, tekun,", "services: [dibao, tekunn,",
			"services:", "services[1]", []string{"tekunn", "不存在"}},
		{"bundle of a bundle", "death_bundle.yaml", "services: [funeral_subsidy, sea_burial_subsidy]", "services: [funeral_subsidy, social_assistance]",
			"services:", "services[1]", []string{"一件事不能套一件事"}},
		{"bundle of one", "death_bundle.yaml", "services: [funeral_subsidy, sea_burial_subsidy]", "services: [funeral_subsidy]",
			"services:", "services", []string{"至少两个"}},
		{"bundle with a chain", "death_bundle.yaml", "services: [", "time_limit: {days: 3, source: x}\nservices: [",
			"time_limit:", "time_limit", []string{"一件事不写 time_limit"}},
		{"bundle applicant a member refuses", "death_bundle.yaml", "applicants: [resident, staff]", "applicants: [resident, staff, organisation]",
			"services:", "services[0]", []string{"组织"}},
		{"service listing services", "zz_min.yaml", "level: street\n", "level: street\nservices: [dibao, tekun]\n",
			"services:", "services", []string{"kind: bundle"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := embeddedSources(t)
			src["services/zz_min.yaml"] = []byte(minimal)
			path := "services/" + tc.file
			old := string(src[path])
			if !strings.Contains(old, tc.old) {
				t.Fatalf("%s does not contain %q", tc.file, tc.old)
			}
			edited := []byte(strings.Replace(old, tc.old, tc.new, 1))
			src[path] = edited
			_, err := Load(src)
			var le *LoadError
			if !errors.As(err, &le) {
				t.Fatalf("want a *LoadError, got %v", err)
			}
			if le.File != path {
				t.Errorf("file = %s, want %s (%v)", le.File, path, err)
			}
			if tc.line != "" {
				if want := lineOfText(edited, tc.line); le.Line != want {
					t.Errorf("line = %d, want %d (%v)", le.Line, want, err)
				}
			}
			if le.Field != tc.field {
				t.Errorf("field = %q, want %q (%v)", le.Field, tc.field, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(le.Message, w) {
					t.Errorf("message %q lacks %q", le.Message, w)
				}
			}
			if !strings.HasPrefix(err.Error(), path) {
				t.Errorf("Error() = %q should start with the file", err)
			}
		})
	}
}

func TestBundleMergeConflict(t *testing.T) {
	src := embeddedSources(t)
	p := "services/eldercare_subsidy.yaml"
	src[p] = bytes.Replace(src[p], []byte("    max: 50\n"), []byte("    max: 40\n"), 1)
	_, err := Load(src)
	var le *LoadError
	if !errors.As(err, &le) || le.File != "services/eldercare_bundle.yaml" || le.Field != "services[1]" ||
		!strings.Contains(le.Message, "applicant_name") {
		t.Fatalf("got %v", err)
	}
	if want := lineOfText(src["services/eldercare_bundle.yaml"], "services:"); le.Line != want {
		t.Errorf("line %d, want %d", le.Line, want)
	}
}
