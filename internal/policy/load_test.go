package policy

import (
	"bytes"
	"errors"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"
)

// embeddedSources returns the embedded policy files as Load takes them,
// keyed as LoadFS names them (policies/dibao.yaml).
func embeddedSources(t testing.TB) map[string][]byte {
	t.Helper()
	names, err := fs.Glob(embedded, "policies/*.yaml")
	if err != nil || len(names) == 0 {
		t.Fatalf("embedded policies: %v %v", names, err)
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

// minimalPolicy is a small valid policy file added to the embedded ones,
// for the tests that take a required part away.
const minimalPolicy = `id: zz_min
names:
  - from: 2020-01-01
    name: 测试
entity: person
parameters:
  - name: monthly
    label: 金额
    values:
      - from: 2020-01-01
        value: 10
        source: 测试
conditions:
  - id: alive
    label: 在世
    expr: person.alive
amount: zz_min.monthly
`

// lineOfText is the 1-based line on which text starts in src, or 0.
func lineOfText(src []byte, text string) int {
	i := bytes.Index(src, []byte(text))
	if i < 0 {
		return 0
	}
	return bytes.Count(src[:i], []byte("\n")) + 1
}

func TestLoadErrors(t *testing.T) {
	cases := []struct {
		name     string
		file     string // the file edited, under policies/
		old, new string // the first old is replaced by new
		// line is text in the edited file whose line the error must name;
		// "" when no single line is meaningful.
		line string
		want []string // substrings of the message
	}{
		{"unknown top-level field", "dibao.yaml", "entity: household\n", "entity: household\ncolour: red\n",
			"colour: red", []string{"未知字段", "colour"}},
		{"unknown field in a condition", "dibao.yaml", "    label: 本市户籍\n", "    label: 本市户籍\n    colour: red\n",
			"    colour: red", []string{"未知字段", "colour"}},
		{"unknown field in a value", "dibao.yaml", "        confirmed: true\n", "        confirmed: true\n        confirmd: true\n",
			"confirmd: true", []string{"未知字段", "confirmd"}},
		{"value not a number", "dibao.yaml", "value: 1595", `value: "abc"`,
			`value: "abc"`, []string{"abc", "float64"}},
		{"confirmed not a boolean", "dibao.yaml", "confirmed: true", "confirmed: maybe",
			"confirmed: maybe", []string{"maybe", "bool"}},
		{"conditions not a list", "elderly_allowance.yaml", "conditions:\n", "conditions: 3\nx_conditions:\n",
			"conditions: 3", []string{"Condition"}},
		{"from not a date", "dibao.yaml", "from: 2024-07-01", "from: 2024-13-01",
			"from: 2024-13-01", []string{"2024-13-01"}},
		{"YAML syntax", "dibao.yaml", "entity: household\n", "entity: household\n  bad: [\n",
			"  bad: [", []string{"line"}},
		{"unknown parameter in a condition", "dibao.yaml", "household.per_capita_income < dibao.standard\n", "household.per_capita_income < dibao.nope\n",
			"dibao.nope", []string{"未知参数 dibao.nope", "income"}},
		{"unknown parameter by index", "dibao.yaml", "household.per_capita_income < dibao.standard\n", "household.per_capita_income < dibao[\"nope\"]\n",
			`dibao["nope"]`, []string{"未知参数 dibao.nope"}},
		{"unknown parameter of another policy", "tekun.yaml", "amount: dibao.standard * tekun.basic_multiple", "amount: dibao.standrd * tekun.basic_multiple",
			"amount: dibao.standrd", []string{"未知参数 dibao.standrd", "amount"}},
		{"unknown name", "dibao.yaml", "household.per_capita_income < dibao.standard\n", "household.per_capita_income < foo.bar\n",
			"foo.bar", []string{"foo", "income"}},
		{"unknown fact field", "elderly_allowance.yaml", "expr: person.age >= 65", "expr: person.salary >= 65",
			"person.salary", []string{"salary", "条件 age"}},
		{"unknown household field", "dibao.yaml", "household.properties == 0", "household.houses == 0",
			"household.houses", []string{"houses", "条件 property"}},
		{"type error in an expression", "elderly_allowance.yaml", "expr: person.age >= 65", `expr: person.age + "x" > 1`,
			`person.age + "x"`, []string{"mismatched types int and string", "条件 age"}},
		{"condition not boolean", "elderly_allowance.yaml", "expr: person.age >= 65", "expr: person.age",
			"expr: person.age\n", []string{"bool", "条件 age"}},
		{"amount not a number", "disability_care.yaml", "amount: 'person.disability_grade == 1 ? disability_care.grade_1 : disability_care.grade_2'", "amount: person.alive",
			"amount: person.alive", []string{"amount", "float64"}},
		{"expression syntax", "elderly_allowance.yaml", "expr: person.age >= 65", "expr: person.age >= (65",
			"person.age >= (65", []string{"条件 age"}},
		{"explain: unknown fact field", "elderly_allowance.yaml", "{{.Person.age}} 周岁，{{if .Passed}}已满", "{{.Person.salary}} 周岁，{{if .Passed}}已满",
			"{{.Person.salary}}", []string{"说明模板", "salary"}},
		{"explain: unknown parameter", "dibao.yaml", `{{yuan (.P "dibao.standard")}} 元'`, `{{yuan (.P "dibao.nope")}} 元'`,
			`(.P "dibao.nope")`, []string{"说明模板", "未知参数 dibao.nope"}},
		{"explain: unknown function", "dibao.yaml", `{{if .Passed}}申请人为本市户籍{{else}}`, `{{if .Passed}}申请人为本市户籍{{els}}`,
			"{{els}}", []string{"说明模板", "els"}},
		{"amount_explain: unknown field", "tekun.yaml", "= {{yuan .Amount}} 元/月", "= {{yuan .Amont}} 元/月",
			"{{yuan .Amont}}", []string{"amount_explain", "Amont"}},
		{"duplicate condition id", "dibao.yaml", "  - id: alive\n", "  - id: hukou\n",
			"  - id: hukou\n    label: 申请人在世", []string{"hukou", "重复"}},
		{"condition without expr", "elderly_allowance.yaml", "    expr: person.age >= 65\n", "",
			"", []string{"age", "expr"}},
		{"duplicate parameter name", "elderly_allowance.yaml", "  - name: band_70\n", "  - name: band_65\n",
			"  - name: band_65\n    label: 70–79", []string{"band_65", "重复"}},
		{"value without from", "dibao.yaml", "      - from: 2024-07-01\n        value: 1595", "      - value: 1595",
			"      - value: 1595", []string{"standard", "缺少生效日期 from", "第 3 个"}},
		{"value without source", "dibao.yaml", "        source: 上海市民政局 2024 年工作总结（seed 文件）\n        confirmed: true\n", "        confirmed: true\n",
			"      - from: 2024-07-01", []string{"standard", "2024-07-01", "source"}},
		{"two values on one date", "dibao.yaml", "from: 2025-07-01", "from: 2024-07-01",
			"      - from: 2024-07-01\n        value: 1650", []string{"standard", "2024-07-01", "两个取值"}},
		{"parameter without values", "zz_min.yaml", "    values:\n      - from: 2020-01-01\n        value: 10\n        source: 测试\n", "    values: []\n",
			"  - name: monthly", []string{"monthly", "没有取值"}},
		{"parameter name not an identifier", "zz_min.yaml", "name: monthly", "name: Monthly",
			"name: Monthly", []string{"Monthly"}},
		{"entity not person or household", "dibao.yaml", "entity: household", "entity: family",
			"entity: family", []string{"entity", "person", "household", "family"}},
		{"id not an identifier", "tekun.yaml", "id: tekun", "id: Tekun",
			"id: Tekun", []string{"Tekun"}},
		{"no names", "zz_min.yaml", "names:\n  - from: 2020-01-01\n    name: 测试\n", "",
			"", []string{"names"}},
		{"no amount", "zz_min.yaml", "amount: zz_min.monthly\n", "",
			"", []string{"amount"}},
		{"no conditions", "zz_min.yaml", "conditions:\n  - id: alive\n    label: 在世\n    expr: person.alive\n", "",
			"", []string{"conditions"}},
		{"condition without label", "zz_min.yaml", "    label: 在世\n", "",
			"", []string{"alive", "label"}},
		{"id reserved for the facts", "disability_care.yaml", "id: disability_care", "id: person",
			"id: person", []string{"person"}},
	}
	// A line also accepted: the enclosing parameter, or the first of two
	// duplicates.
	alsoLine := map[string]string{
		"duplicate condition id":   "  - id: hukou\n",
		"duplicate parameter name": "  - name: band_65\n",
		"value without from":       "  - name: standard\n",
		"value without source":     "  - name: standard\n",
		"two values on one date":   "  - name: standard\n",
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := embeddedSources(t)
			src["policies/zz_min.yaml"] = []byte(minimalPolicy)
			if _, err := Load(src); err != nil {
				t.Fatalf("the unedited files do not load: %v", err)
			}
			path := "policies/" + c.file
			old := string(src[path])
			if !strings.Contains(old, c.old) {
				t.Fatalf("%s no longer contains %q: adjust the test", path, c.old)
			}
			edited := []byte(strings.Replace(old, c.old, c.new, 1))
			src[path] = edited
			set, err := Load(src)
			if err == nil {
				t.Fatalf("loaded %v, want an error", set.IDs())
			}
			var le *LoadError
			if !errors.As(err, &le) {
				t.Fatalf("error %T %v, want *LoadError", err, err)
			}
			if le.File != path {
				t.Errorf("error names file %q, want %q (%v)", le.File, path, err)
			}
			for _, w := range c.want {
				if !strings.Contains(le.Message, w) {
					t.Errorf("message %q does not say %q", le.Message, w)
				}
			}
			if c.line != "" {
				want := lineOfText(edited, c.line)
				if want == 0 {
					t.Fatalf("marker %q not in the edited file", c.line)
				}
				if alt := alsoLine[c.name]; alt != "" && le.Line == lineOfText(edited, alt) {
					want = le.Line
				}
				if le.Line != want {
					t.Errorf("error names line %d, want %d (the line of %q): %v", le.Line, want, strings.TrimSpace(strings.SplitN(c.line, "\n", 2)[0]), err)
				}
				if !strings.HasPrefix(err.Error(), le.File+":") {
					t.Errorf("Error() %q does not start with the file", err)
				}
			}
		})
	}
}

func TestLoadDuplicateIDs(t *testing.T) {
	src := embeddedSources(t)
	src["policies/zz_copy.yaml"] = src["policies/dibao.yaml"]
	_, err := Load(src)
	var le *LoadError
	if !errors.As(err, &le) {
		t.Fatalf("error %T %v, want *LoadError", err, err)
	}
	if le.File != "policies/zz_copy.yaml" || !strings.Contains(le.Message, "dibao") ||
		!strings.Contains(le.Message, "重复") || !strings.Contains(le.Message, "policies/dibao.yaml") {
		t.Errorf("got %v", err)
	}
}

func TestLoadFS(t *testing.T) {
	_, err := LoadFS(fstest.MapFS{"README.md": {Data: []byte("x")}}, "mydir")
	var le *LoadError
	if !errors.As(err, &le) || le.File != "mydir" || !strings.Contains(le.Message, "*.yaml") {
		t.Errorf("empty folder: %v", err)
	}
	fsys := fstest.MapFS{}
	for p, b := range embeddedSources(t) {
		fsys[strings.TrimPrefix(p, "policies/")] = &fstest.MapFile{Data: b}
	}
	set, err := LoadFS(fsys, "policies")
	if err != nil {
		t.Fatal(err)
	}
	emb := embeddedSet(t)
	for _, id := range emb.IDs() {
		a, _ := emb.Get(id)
		b, ok := set.Get(id)
		if !ok || a.Version != b.Version || a.Path != b.Path {
			t.Errorf("%s: LoadFS %+v differs from Embedded %+v", id, b, a)
		}
	}
	// A single broken file among good ones is named with the folder prefix.
	fsys["tekun.yaml"] = &fstest.MapFile{Data: []byte("id: tekun\nentity: person\ncolour: red\n")}
	_, err = LoadFS(fsys, "/etc/minzheng/policies")
	if !errors.As(err, &le) || le.File != "/etc/minzheng/policies/tekun.yaml" || le.Line != 3 {
		t.Errorf("broken file: %v", err)
	}
}

// TestEvaluateNonFiniteAmount: an amount expression that divides by zero
// at run time must not turn into an "eligible" decision with a garbage
// amount; the engine should refuse (an error) or pay a finite, non-negative
// amount.
func TestEvaluateNonFiniteAmount(t *testing.T) {
	for _, amount := range []string{
		"zz_min.monthly / float(person.disability_grade)",                 // +Inf
		"-zz_min.monthly / float(person.disability_grade)",                // -Inf → max(0, …) = 0
		"float(person.disability_grade) / float(person.disability_grade)", // NaN
	} {
		src := map[string][]byte{"policies/zz_min.yaml": []byte(strings.Replace(minimalPolicy, "amount: zz_min.monthly", "amount: "+amount, 1))}
		set, err := Load(src)
		if err != nil {
			t.Fatalf("%s: %v", amount, err)
		}
		r, err := set.Evaluate("zz_min", fixedCaseNoDisability(), fuzzDay("2024-08-01"), nil)
		if err != nil {
			continue
		}
		if r.Eligible && (r.MonthlyAmount < 0 || r.MonthlyAmount > 1e12 || r.MonthlyAmount != r.MonthlyAmount) {
			t.Errorf("amount %s: eligible with monthly_amount %v", amount, r.MonthlyAmount)
		}
	}
}

func fixedCaseNoDisability() *Case {
	c := fixedCase()
	c.Members[0].DisabilityGrade, c.Members[0].DisabilityCategory = 0, ""
	return c
}
