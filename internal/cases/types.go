package cases

import (
	"regexp"
	"slices"
	"time"

	"minzheng/internal/auth"
)

// Definition is the content of one definition file (services/*.yaml): a
// service (事项) with its form, materials and chain, or a bundle (一件事,
// Kind "bundle") that lists services sharing one form.
type Definition struct {
	Code       string      `yaml:"code"`    // identifier: lower-case letters, digits, _
	Kind       string      `yaml:"kind"`    // service (default) or bundle
	Name       string      `yaml:"name"`    // Chinese name as the catalogue shows it
	NameEN     string      `yaml:"name_en"` // English name, for the English pages
	Summary    string      `yaml:"summary"` // one sentence for the resident: who it is for, what they get
	Basis      Basis       `yaml:"basis"`
	Level      Level       `yaml:"level"`      // who is responsible: city, district or street
	Department string      `yaml:"department"` // the handling department (办理部门)
	Applicants []Applicant `yaml:"applicants"` // who may apply
	Form       []Field     `yaml:"form"`
	Materials  []Material  `yaml:"materials"`
	Fees       Fees        `yaml:"fees"`
	TimeLimit  TimeLimit   `yaml:"time_limit"` // the promised time limit (承诺时限)
	Checks     []Check     `yaml:"checks"`     // checks the owning line makes at some steps
	Chain      *Chain      `yaml:"chain"`
	// ChainOf reuses the chain and checks of another service (低保, 特困,
	// 临时救助 and 低收入家庭认定 run one chain).
	ChainOf  string   `yaml:"chain_of"`
	Services []string `yaml:"services"` // a bundle's member services
	Note     string   `yaml:"note"`
}

// Kinds of definition.
const (
	KindService = "service"
	KindBundle  = "bundle"
)

// Fact is where a fact of a definition comes from: the document or page it
// was read in and whether it was confirmed there; Confirmed false marks the
// best assumption, awaiting the official text (as policy files mark their
// parameter values).
type Fact struct {
	Source    string `yaml:"source"`
	Confirmed bool   `yaml:"confirmed"`
}

// Basis is the legal basis of a service (设定依据).
type Basis struct {
	Text string `yaml:"text"` // e.g. 《上海市社会救助条例》第十条
	Fact `yaml:",inline"`
}

// Level is the level of government responsible for a service.
type Level string

// The levels.
const (
	City     Level = "city"     // 市级
	District Level = "district" // 区级
	Street   Level = "street"   // 街道（乡镇）
)

var levelLabels = map[Level]string{City: "市级", District: "区级", Street: "街道（乡镇）"}

// Label returns the level in Chinese.
func (l Level) Label() string { return levelLabels[l] }

// Applicant is who may apply for a service.
type Applicant string

// The applicants.
const (
	Resident     Applicant = "resident"     // the resident, at a window or online
	Staff        Applicant = "staff"        // staff on the resident's behalf (代办, 主动发现)
	Organisation Applicant = "organisation" // an organisation (社会组织, 单位)
)

var applicantLabels = map[Applicant]string{Resident: "居民本人", Staff: "工作人员代为申请", Organisation: "组织（单位）"}

// Label returns the applicant kind in Chinese.
func (a Applicant) Label() string { return applicantLabels[a] }

// FieldType is the type of a form field.
type FieldType string

// The field types.
const (
	Text     FieldType = "text"      // one or more lines of text
	Number   FieldType = "number"    // a decimal number, or an integer with integer: true
	Money    FieldType = "money"     // yuan with at most 2 decimals; Clean holds fen
	Date     FieldType = "date"      // YYYY-MM-DD
	IDNumber FieldType = "id_number" // a citizen ID number, checked by internal/idcard (GB 11643)
	Choice   FieldType = "choice"    // one of Options (several with multiple: true), by value or label
	Bool     FieldType = "bool"      // yes or no; required means it must be yes (a declaration)
	File     FieldType = "file"      // the SHA-256 (hex) of a file uploaded beforehand
)

var fieldTypeLabels = map[FieldType]string{
	Text: "文字", Number: "数字", Money: "金额（元）", Date: "日期", IDNumber: "身份证号码",
	Choice: "选项", Bool: "是/否", File: "文件",
}

// Label returns the type in Chinese.
func (t FieldType) Label() string { return fieldTypeLabels[t] }

// Field is one field of a form.
type Field struct {
	Name     string    `yaml:"name"` // identifier, the key of a submission
	Label    string    `yaml:"label"`
	Type     FieldType `yaml:"type"`
	Required bool      `yaml:"required"`
	// Min and Max bound a number or an amount (in yuan), the length of a
	// text (in characters), or a date (YYYY-MM-DD, or "today").
	Min      string   `yaml:"min"`
	Max      string   `yaml:"max"`
	Integer  bool     `yaml:"integer"`  // a number without decimals
	Pattern  string   `yaml:"pattern"`  // a text must match it whole (Go regexp syntax)
	Options  []Option `yaml:"options"`  // a choice's options
	Multiple bool     `yaml:"multiple"` // a choice (or file) of several values, comma-separated
	Help     string   `yaml:"help"`     // a hint shown under the field
	// Staff fields are filled in by staff during the chain (an assessment
	// grade), not by the applicant: a submission may not carry them.
	Staff bool `yaml:"staff"`

	min, max bound
	pattern  *regexp.Regexp
}

// bound is a Min or Max parsed for the field's type.
type bound struct {
	set   bool
	num   float64 // number, money (yuan), text (characters)
	today bool    // a date bound of "today"
	date  time.Time
}

// Option is one option of a choice.
type Option struct {
	Value string `yaml:"value"`
	Label string `yaml:"label"`
}

// Material is one entry of the materials list (材料清单).
type Material struct {
	Code     string `yaml:"code"`
	Name     string `yaml:"name"`
	Required bool   `yaml:"required"`
	// FetchedFrom names platform data that replaces the submission (免提交):
	// one of DataSources. When the data are there the applicant need not
	// bring the material.
	FetchedFrom string `yaml:"fetched_from"`
	Note        string `yaml:"note"` // e.g. when it is needed: 离婚的提供离婚证
	Fact        `yaml:",inline"`
}

// DataSources are the platform data a material may be fetched from, with
// what they hold.
var DataSources = map[string]string{
	"registry.identity":   "人口库：身份信息（姓名、身份证号码）",
	"registry.hukou":      "人口库：户籍信息（户口簿）",
	"registry.household":  "人口库：共同生活的家庭成员",
	"registry.disability": "人口库：残疾人证信息（残联数据）",
	"registry.death":      "人口库：死亡信息（公安、卫健、殡葬数据）",
	"assistance.status":   "社会救助：低保、特困、低保边缘等救助对象身份",
	"assistance.report":   "社会救助：有效的家庭经济状况核对报告",
	"cases.assessment":    "事项办理：老年照护统一需求评估结论",
	"payroll.account":     "待遇发放：已登记的收款账户（社保卡、银行卡）",
}

// Fees says what a service costs the applicant.
type Fees struct {
	Free  bool   `yaml:"free"`
	Items []Fee  `yaml:"items"`
	Note  string `yaml:"note"`
	Fact  `yaml:",inline"`
}

// Fee is one fee.
type Fee struct {
	Name string  `yaml:"name"`
	Yuan float64 `yaml:"yuan"`
	Note string  `yaml:"note"`
}

// TimeLimit is the promised time limit (承诺时限) in working days from the
// day the case is received (not counted); 0 means the same day (当场办结).
type TimeLimit struct {
	Days int    `yaml:"days"`
	Note string `yaml:"note"` // e.g. the statutory limit, or what is not counted
	Fact `yaml:",inline"`
}

// Check is a check the owning business line makes before a step may be
// taken (a valid verification report, a visit record): the engine only
// names it; the line implements it.
type Check struct {
	Code  string `yaml:"code"`
	Label string `yaml:"label"` // what is required, in Chinese
}

// Chain is a service's decision chain: its states, the first being where
// a case starts, and the transitions between them.
type Chain struct {
	States      []State          `yaml:"states"`
	Transitions []Transition     `yaml:"transitions"`
	Fact        `yaml:",inline"` // where the deadlines come from
}

// State is a state of a chain.
type State struct {
	Code  string `yaml:"code"`
	Label string `yaml:"label"`
	// Deadline is how many working days a case may stay in the state before
	// it is overdue (0: the same day). Terminal states have none.
	Deadline int  `yaml:"deadline"`
	Terminal bool `yaml:"terminal"`
}

// Transition is one move of a chain: from a state to another, by one of
// the roles, recording what Records says.
type Transition struct {
	From    string      `yaml:"from"`
	To      string      `yaml:"to"`
	Label   string      `yaml:"label"` // the action, in Chinese
	Roles   []auth.Role `yaml:"roles"`
	Records Records     `yaml:"records"`
	// Decides marks a step that decides the case: a staff member with a
	// relative in the household may not take it (利益冲突回避).
	Decides bool `yaml:"decides"`
}

// Records is what a step must record.
type Records struct {
	Note        bool     `yaml:"note"`        // an opinion or a finding (意见)
	Reasons     bool     `yaml:"reasons"`     // reasons, for a refusal (理由)
	Fields      []string `yaml:"fields"`      // form fields that must be filled in by then
	Attachments []string `yaml:"attachments"` // materials that must be attached
	Checks      []string `yaml:"checks"`      // the owning line's checks that must pass
}

// Allows reports whether the role may make the transition.
func (t *Transition) Allows(r auth.Role) bool { return slices.Contains(t.Roles, r) }

// Service is a loaded, checked definition.
type Service struct {
	Definition
	Path      string // the file it was loaded from
	Version   string // first 12 hex digits of the file's SHA-256
	members   []*Service
	chain     *Chain // Chain, or the chain of ChainOf
	checks    []Check
	form      []Field    // Form; for a bundle, merged with its members' forms
	materials []Material // Materials; for a bundle, merged with its members'
}

// Fields returns the form a submission fills in: the definition's form, or
// for a bundle its own fields followed by its members' (one field per name;
// required when any member requires it).
func (s *Service) Fields() []Field { return s.form }

// MaterialList returns the materials list; for a bundle, merged like Fields.
func (s *Service) MaterialList() []Material { return s.materials }

// IsBundle reports whether the definition is a bundle (一件事).
func (s *Service) IsBundle() bool { return s.Kind == KindBundle }

// Members returns a bundle's services in the order listed.
func (s *Service) Members() []*Service { return s.members }

// Flow returns the chain a case of the service runs (its own or that of
// ChainOf); nil for a bundle.
func (s *Service) Flow() *Chain { return s.chain }

// AllChecks returns the checks the chain uses (its own or those of ChainOf).
func (s *Service) AllChecks() []Check { return s.checks }

// Initial returns the state a case starts in.
func (s *Service) Initial() *State {
	if s.chain == nil {
		return nil
	}
	return &s.chain.States[0]
}

// State returns a state of the chain by code.
func (s *Service) State(code string) (*State, bool) {
	if s.chain == nil {
		return nil, false
	}
	for i := range s.chain.States {
		if s.chain.States[i].Code == code {
			return &s.chain.States[i], true
		}
	}
	return nil, false
}

// Find returns the transition from one state to another.
func (s *Service) Find(from, to string) (*Transition, bool) {
	if s.chain == nil {
		return nil, false
	}
	for i := range s.chain.Transitions {
		if t := &s.chain.Transitions[i]; t.From == from && t.To == to {
			return t, true
		}
	}
	return nil, false
}

// Next returns the transitions that leave a state, in file order.
func (s *Service) Next(from string) []*Transition {
	if s.chain == nil {
		return nil
	}
	var out []*Transition
	for i := range s.chain.Transitions {
		if t := &s.chain.Transitions[i]; t.From == from {
			out = append(out, t)
		}
	}
	return out
}

// Field returns a form field by name.
func (s *Service) Field(name string) (*Field, bool) {
	for i := range s.form {
		if s.form[i].Name == name {
			return &s.form[i], true
		}
	}
	return nil, false
}

// Due returns the date a case that entered the state on entered is due to
// leave it: Deadline working days later. ok is false for a terminal state.
// err is an *UncoveredError when the calendar lacks a year it counted.
func (st *State) Due(cal *Calendar, entered time.Time) (due time.Time, ok bool, err error) {
	if st.Terminal {
		return time.Time{}, false, nil
	}
	due, err = cal.Due(entered, st.Deadline)
	return due, true, err
}
