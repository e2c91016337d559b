package cases

import (
	"strings"
	"testing"
	"time"

	"minzheng/internal/errs"
	"minzheng/internal/idcard"
)

// allTypes is a service whose form has a field of every type and bound.
const allTypes = `code: zz_form
name: 表单测试
name_en: Form test
basis: {text: 测试依据, source: 测试}
level: district
department: 测试部门
applicants: [resident]
form:
  - {name: name, label: 姓名, type: text, required: true, min: 2, max: 5}
  - {name: code, label: 编号, type: text, pattern: 'A\d{3}', help: A 加 3 位数字}
  - {name: count, label: 人数, type: number, integer: true, min: 1, max: 10}
  - {name: ratio, label: 比例, type: number, min: -1.5, max: 1.5}
  - {name: amount, label: 金额, type: money, required: true, max: 100000}
  - {name: born, label: 出生日期, type: date, min: 1900-01-01, max: today}
  - {name: visit, label: 上门日期, type: date, min: today}
  - {name: id, label: 身份证号码, type: id_number, required: true}
  - {name: kind, label: 类别, type: choice, required: true, options: [{value: a, label: 甲类}, {value: b, label: 乙类}]}
  - {name: items, label: 项目, type: choice, multiple: true, options: [{value: x, label: 扶手}, {value: y, label: 防滑}]}
  - {name: agree, label: 本人承诺信息真实, type: bool, required: true}
  - {name: urgent, label: 是否紧急, type: bool}
  - {name: photo, label: 照片, type: file}
  - {name: photos, label: 更多照片, type: file, multiple: true}
  - {name: grade, label: 评估等级, type: choice, staff: true, options: [{value: "1", label: 一级}]}
materials:
  - {code: proof, name: 证明, required: true, source: 测试}
fees: {free: true, source: 测试}
time_limit: {days: 1, source: 测试}
chain:
  source: 测试
  states:
    - {code: submitted, label: 受理, deadline: 1}
    - {code: done, label: 办结, terminal: true}
  transitions:
    - {from: submitted, to: done, label: 办结, roles: [clerk]}
`

var today = time.Date(2025, 6, 16, 10, 0, 0, 0, time.FixedZone("CST", 8*3600))

func formService(t testing.TB) *Service {
	t.Helper()
	cat, err := Load(map[string][]byte{"t/zz_form.yaml": []byte(allTypes)})
	if err != nil {
		t.Fatal(err)
	}
	s, _ := cat.Get("zz_form")
	return s
}

func validID() string {
	return idcard.Build("310104", time.Date(1950, 3, 1, 0, 0, 0, 0, time.UTC), 27)
}

func goodSubmission() map[string]string {
	return map[string]string{
		"name": " 王小明 ", "code": "A123", "count": "３", "ratio": "-0.25", "amount": "1234.5",
		"born": "1950-03-01", "visit": "2025-06-16", "id": strings.ToLower(validID()), "kind": "乙类",
		"items": "x，y", "agree": "是", "urgent": "false", "photo": strings.Repeat("AB", 32),
		"photos": strings.Repeat("a", 64) + "," + strings.Repeat("b", 64),
	}
}

func TestValidateGood(t *testing.T) {
	s := formService(t)
	c, err := s.ValidateOn(goodSubmission(), today)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		field string
		ok    bool
	}{
		{"name", c["name"].Text == "王小明"},
		{"count", c["count"].Number == 3 && c["count"].Text == "3"},
		{"ratio", c["ratio"].Number == -0.25},
		{"amount", c["amount"].Fen == 123450 && c["amount"].Text == "1234.50"},
		{"born", c["born"].Date.Equal(time.Date(1950, 3, 1, 0, 0, 0, 0, time.UTC))},
		{"id", c["id"].Text == validID() && c["id"].ID.Region == "310104"},
		{"kind", c["kind"].Text == "b"},
		{"items", strings.Join(c["items"].List, "|") == "x|y"},
		{"agree", c["agree"].Bool},
		{"urgent", !c["urgent"].Bool && c["urgent"].Text == "false"},
		{"photo", c["photo"].Text == strings.Repeat("ab", 32)},
		{"photos", len(c["photos"].List) == 2},
	}
	for _, ch := range checks {
		if !ch.ok {
			t.Errorf("%s = %+v", ch.field, c[ch.field])
		}
	}
	if _, ok := c["grade"]; ok {
		t.Error("a staff field is never in a submission")
	}
	// Optional fields left empty are absent.
	sub := goodSubmission()
	sub["code"], sub["photos"] = "", "  "
	delete(sub, "ratio")
	c, err = s.ValidateOn(sub, today)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"code", "photos", "ratio"} {
		if _, ok := c[k]; ok {
			t.Errorf("%s should be absent", k)
		}
	}
}

func TestValidateErrors(t *testing.T) {
	s := formService(t)
	cases := []struct {
		field, value string
		want         string // a substring of the field's message
	}{
		{"name", "", "请填写“姓名”"},
		{"name", "王", "至少 2 个字"},
		{"name", "欧阳王小明明", "最多 5 个字"},
		{"name", "王\x01明", "控制字符"},
		{"name", "\xff\xfe", "无法识别"},
		{"code", "B123", "格式不正确：A 加 3 位数字"},
		{"count", "2.5", "应为整数"},
		{"count", "0", "不能小于 1"},
		{"count", "11", "不能大于 10"},
		{"count", "1e3", "应为整数"},
		{"ratio", "abc", "应为数字"},
		{"ratio", "NaN", "应为数字"},
		{"ratio", "0x10", "应为数字"},
		{"ratio", "2", "不能大于 1.5"},
		{"amount", "12.345", "最多两位小数"},
		{"amount", "-5", "不能为负数"},
		{"amount", "100000.01", "不能大于 100000"},
		{"amount", "1,000", "金额"},
		{"born", "1950/03/01", "YYYY-MM-DD"},
		{"born", "1950-02-30", "YYYY-MM-DD"},
		{"born", "2025-06-17", "不能晚于今天"},
		{"born", "1899-12-31", "不能早于 1900-01-01"},
		{"visit", "2025-06-15", "不能早于今天"},
		{"id", "310104195003010001", "校验位"},
		{"id", "31010419500301", "18 位"},
		{"kind", "丙类", "没有“丙类”这一选项，可选：甲类、乙类"},
		{"kind", "a,b", "只能选一项"},
		{"kind", " , ", "请填写“类别”"},
		{"items", "x,z", "没有“z”"},
		{"agree", "否", "请确认"},
		{"agree", "maybe", "应为“是”或“否”"},
		{"photo", "abc", "SHA-256"},
		{"photo", strings.Repeat("g", 64), "SHA-256"},
		{"photo", strings.Repeat("a", 64) + "," + strings.Repeat("b", 64), "只能选一项"},
		{"grade", "1", "由工作人员在办理中填写"},
		{"colour", "red", "表单没有“colour”这一项"},
	}
	for _, tc := range cases {
		t.Run(tc.field+"="+tc.value, func(t *testing.T) {
			sub := goodSubmission()
			sub[tc.field] = tc.value
			c, err := s.ValidateOn(sub, today)
			if c != nil {
				t.Error("a refused submission returns no values")
			}
			e := errs.As(err)
			if e == nil || e.Code != errs.Invalid {
				t.Fatalf("want an errs invalid, got %v", err)
			}
			if len(e.Fields) != 1 || e.Fields[0].Field != tc.field || !strings.Contains(e.Fields[0].Message, tc.want) {
				t.Errorf("fields %+v, want one for %s containing %q", e.Fields, tc.field, tc.want)
			}
		})
	}
}

func TestValidateNamesEveryField(t *testing.T) {
	s := formService(t)
	_, err := s.ValidateOn(map[string]string{"count": "x", "zzz": "1", "aaa": "2", strings.Repeat("长", 40): "3"}, today)
	e := errs.As(err)
	if e == nil {
		t.Fatal("accepted")
	}
	var names []string
	for _, f := range e.Fields {
		names = append(names, f.Field)
	}
	// Form order (required fields missing, the bad count), then unknown keys sorted, long ones cut.
	want := "name,count,amount,id,kind,agree,aaa,zzz," + truncate(strings.Repeat("长", 40), 64)
	if got := strings.Join(names, ","); got != want {
		t.Errorf("fields %s\nwant   %s", got, want)
	}
	if !strings.Contains(e.Message, "请填写“姓名”") || !strings.Contains(e.Message, "；") {
		t.Errorf("message %q", e.Message)
	}
}

func TestValidateCatalogue(t *testing.T) {
	cat, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	dibao, _ := cat.Get("dibao")
	sub := map[string]string{
		"applicant_id": validID(), "applicant_name": "张三", "phone": "13812345678",
		"declared_deposits": "5000", "declared_securities": "0", "declared_vehicles": "0", "declared_properties": "0",
		"reason": "失业，无收入", "declaration": "true",
	}
	c, err := dibao.Validate(sub)
	if err != nil {
		t.Fatal(err)
	}
	if c["declared_deposits"].Fen != 500000 {
		t.Errorf("deposits %+v", c["declared_deposits"])
	}
	sub["phone"] = "12345"
	_, err = dibao.Validate(sub)
	if e := errs.As(err); e == nil || e.Fields[0].Field != "phone" || !strings.Contains(e.Fields[0].Message, "021-12345678") {
		t.Errorf("bad phone: %v", err)
	}
	// A bundle validates its merged form; each member takes its part.
	b, _ := cat.Get("social_assistance")
	sub["phone"] = "021-12345678"
	sub["tekun_category"], sub["supporter_situation"], sub["emergency"], sub["programs"] = "elderly", "无子女", "illness", "dibao_edge,rigid_expense"
	c, err = b.Validate(sub)
	if err != nil {
		t.Fatal(err)
	}
	low, _ := cat.Get("low_income")
	part := c.Only(low)
	if _, ok := part["emergency"]; ok || len(part["programs"].List) != 2 || part["applicant_id"].Text != validID() {
		t.Errorf("low_income part %+v", part)
	}
	delete(sub, "tekun_category")
	if _, err := b.Validate(sub); err == nil {
		t.Error("a bundle requires what any member requires")
	}
}
