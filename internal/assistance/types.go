// Package assistance manages applications for social assistance (社会救助,
// 《上海市社会救助条例》): one application (一件事) for one or several
// programmes for a registered household, its members' declared incomes and
// property, materials, the economic verification (经济状况核对) against
// other departments' data, and the decision chain 受理 → 核对 → 入户调查 →
// 公示 → 区审核 → 审批 → 批准发放 / 不予批准. The chain is data (States and
// Transitions below): who may move a case from which state to which, what
// must be recorded and the deadline. Jurisdiction is the household's
// registered address (户籍地). A staff member's relatives on file
// (经办人员亲属备案) flag a case and keep that member from deciding it.
package assistance

import (
	"slices"
	"time"

	"minzheng/internal/auth"
)

// State is a state of the decision chain.
type State string

// The states.
const (
	Submitted State = "submitted" // 受理
	Verifying State = "verifying" // 经济状况核对
	Visiting  State = "visiting"  // 入户调查
	Notice    State = "notice"    // 公示
	Review    State = "review"    // 区审核
	Approval  State = "approval"  // 审批
	Granted   State = "granted"   // 批准（发放）
	Refused   State = "refused"   // 不予批准
)

// StateInfo describes a state: its Chinese name and how many days a case
// may stay in it before it is overdue (0: final, no deadline).
type StateInfo struct {
	State        State
	Label        string
	DeadlineDays int
}

// States lists the chain's states in order.
var States = []StateInfo{
	{Submitted, "受理", 5},
	{Verifying, "经济状况核对", 15},
	{Visiting, "入户调查", 10},
	{Notice, "公示", NoticeDays + 3},
	{Review, "区审核", 10},
	{Approval, "审批", 10},
	{Granted, "批准发放", 0},
	{Refused, "不予批准", 0},
}

// NoticeDays is how long the public notice (公示) lasts.
const NoticeDays = 7

// VerificationValidDays is how long an economic verification report is
// valid (有效期) after the data were checked.
const VerificationValidDays = 90

// Info returns the state's description.
func (s State) Info() (StateInfo, bool) {
	for _, x := range States {
		if x.State == s {
			return x, true
		}
	}
	return StateInfo{}, false
}

// Label returns the state's Chinese name.
func (s State) Label() string {
	if x, ok := s.Info(); ok {
		return x.Label
	}
	return string(s)
}

// Final reports whether no transition leaves the state.
func (s State) Final() bool { return s == Granted || s == Refused }

// Requirement is something a transition must record.
type Requirement string

// The requirements.
const (
	NeedNote         Requirement = "note"         // an opinion or a finding (意见)
	NeedReasons      Requirement = "reasons"      // reasons in Chinese, for refusals (不予批准理由)
	NeedVerification Requirement = "verification" // a valid economic verification report
	NeedVisit        Requirement = "visit"        // a visit record (入户调查记录) and at least one photo
	NeedNoticeOver   Requirement = "notice_over"  // the 7-day public notice has ended; objections answered in the note
	NeedAmounts      Requirement = "amounts"      // the approved amount of every programme
)

var requirementLabels = map[Requirement]string{
	NeedNote: "填写意见", NeedReasons: "填写不予批准理由", NeedVerification: "有效的经济状况核对报告",
	NeedVisit: "入户调查记录及照片", NeedNoticeOver: "公示期满（有异议时须说明处理情况）", NeedAmounts: "核定各项目金额",
}

// Label returns the requirement in Chinese.
func (r Requirement) Label() string { return requirementLabels[r] }

// Transition is one move of the chain: from a state to another, by one of
// the roles, recording what Requires says. Independent transitions decide
// the case: a staff member with a relative in the household may not make
// them (利益冲突回避).
type Transition struct {
	From        State
	To          State
	Label       string
	Roles       []auth.Role
	Requires    []Requirement
	Independent bool
}

// Transitions is the decision chain. Changing who may do what is a change
// of this table and nothing else.
var Transitions = []Transition{
	{From: Submitted, To: Verifying, Label: "发起经济状况核对", Roles: []auth.Role{auth.Clerk}},
	{From: Verifying, To: Visiting, Label: "核对完成，安排入户调查", Roles: []auth.Role{auth.Clerk}, Requires: []Requirement{NeedVerification}},
	{From: Visiting, To: Notice, Label: "入户调查完成，开始公示", Roles: []auth.Role{auth.Adviser}, Requires: []Requirement{NeedVisit}},
	{From: Notice, To: Review, Label: "公示期满，提交区审核", Roles: []auth.Role{auth.Clerk, auth.Adviser}, Requires: []Requirement{NeedNoticeOver}},
	{From: Notice, To: Visiting, Label: "异议成立，重新入户调查", Roles: []auth.Role{auth.Reviewer}, Requires: []Requirement{NeedNote}},
	{From: Review, To: Approval, Label: "审核通过，提交审批", Roles: []auth.Role{auth.Reviewer}, Requires: []Requirement{NeedNote}, Independent: true},
	{From: Review, To: Visiting, Label: "退回重新调查", Roles: []auth.Role{auth.Reviewer}, Requires: []Requirement{NeedNote}},
	{From: Review, To: Refused, Label: "审核不通过，不予批准", Roles: []auth.Role{auth.Reviewer}, Requires: []Requirement{NeedReasons}, Independent: true},
	{From: Approval, To: Granted, Label: "批准", Roles: []auth.Role{auth.Approver}, Requires: []Requirement{NeedAmounts}, Independent: true},
	{From: Approval, To: Refused, Label: "不予批准", Roles: []auth.Role{auth.Approver}, Requires: []Requirement{NeedReasons}, Independent: true},
}

// Find returns the transition from one state to another.
func Find(from, to State) (Transition, bool) {
	for _, t := range Transitions {
		if t.From == from && t.To == to {
			return t, true
		}
	}
	return Transition{}, false
}

// Allows reports whether the role may make the transition.
func (t Transition) Allows(r auth.Role) bool { return slices.Contains(t.Roles, r) }

// Needs reports whether the transition requires r.
func (t Transition) Needs(r Requirement) bool { return slices.Contains(t.Requires, r) }

// actsInChain reports whether the role makes any transition at all.
func actsInChain(r auth.Role) bool {
	for _, t := range Transitions {
		if t.Allows(r) {
			return true
		}
	}
	return false
}

// Program is a programme one may apply for.
type Program struct {
	ID        string
	Label     string
	Recurring bool // paid monthly through an entitlement; false: one-off
}

// Programs are the programmes of an application. All but temporary have a
// policy file of the same ID that the rules engine evaluates.
var Programs = []Program{
	{"dibao", "最低生活保障", true},
	{"dibao_edge", "最低生活保障边缘家庭", true},
	{"rigid_expense", "刚性支出困难家庭", true},
	{"tekun", "特困人员供养", true},
	{"temporary", "临时救助", false},
}

// ProgramByID returns the programme.
func ProgramByID(id string) (Program, bool) {
	for _, p := range Programs {
		if p.ID == id {
			return p, true
		}
	}
	return Program{}, false
}

// ProgramLabel returns the programme's Chinese name.
func ProgramLabel(id string) string {
	if p, ok := ProgramByID(id); ok {
		return p.Label
	}
	return id
}

// Source is a kind of department data in an economic verification.
type Source struct {
	ID    string
	Label string
	// Income: a monthly income compared with the member's declared income;
	// otherwise an asset: an amount compared with the declared household
	// property, or a count (real estate, vehicles, businesses).
	Income bool
	Count  bool
}

// Sources are the kinds of department data (条例第三十五条).
var Sources = []Source{
	{"wage", "工资收入", true, false},
	{"pension", "养老金", true, false},
	{"deposit", "银行存款", false, false},
	{"securities", "有价证券", false, false},
	{"real_estate", "不动产", false, true},
	{"vehicle", "机动车", false, true},
	{"business", "工商登记", false, true},
}

// SourceByKey finds a source by its ID or Chinese name.
func SourceByKey(s string) (Source, bool) {
	for _, x := range Sources {
		if x.ID == s || x.Label == s {
			return x, true
		}
	}
	switch s {
	case "工资":
		return Sources[0], true
	case "存款":
		return Sources[2], true
	case "证券", "股票", "基金":
		return Sources[3], true
	case "房产", "住房":
		return Sources[4], true
	case "车辆":
		return Sources[5], true
	case "营业执照", "企业登记", "个体工商户":
		return Sources[6], true
	}
	return Source{}, false
}

// Application is one case.
type Application struct {
	ID                    int64           `json:"id"`
	Kind                  string          `json:"kind"` // new or recheck (复核)
	ParentID              int64           `json:"parent_id,omitempty"`
	HouseholdID           int64           `json:"household_id"`
	ApplicantID           int64           `json:"applicant_id"`
	Division              string          `json:"division"` // the household's 户籍地
	State                 State           `json:"state"`
	StateLabel            string          `json:"state_label"`
	StateSince            time.Time       `json:"state_since"`
	DueOn                 string          `json:"due_on,omitempty"`
	Overdue               bool            `json:"overdue"`
	NoticeUntil           string          `json:"notice_until,omitempty"`
	Conflict              bool            `json:"conflict"`
	DeclaredDepositsFen   int64           `json:"declared_deposits_fen"`
	DeclaredSecuritiesFen int64           `json:"declared_securities_fen"`
	DeclaredVehicles      int             `json:"declared_vehicles"`
	DeclaredProperties    int             `json:"declared_properties"`
	DecidedOn             string          `json:"decided_on,omitempty"`
	CreatedBy             string          `json:"created_by"`
	CreatedAt             time.Time       `json:"created_at"`
	Programs              []ProgramStatus `json:"programs"`
	Applicant             string          `json:"applicant"` // the applicant's name
}

// ProgramStatus is one programme of an application and its outcome.
type ProgramStatus struct {
	Program    string `json:"program"`
	Label      string `json:"label"`
	Status     string `json:"status"` // pending, granted, refused
	MonthlyFen int64  `json:"monthly_fen"`
	OneOffFen  int64  `json:"one_off_fen"`
}

// Member is a household member as the application records them.
type Member struct {
	PersonID          int64  `json:"person_id"`
	Relation          string `json:"relation"`
	Name              string `json:"name"`
	IDMasked          string `json:"id_number_masked"`
	DeclaredIncomeFen int64  `json:"declared_income_fen"`
	RelationLabel     string `json:"-"` // 户主, 配偶…
}

// Step is one transition made.
type Step struct {
	From    State     `json:"from"`
	To      State     `json:"to"`
	Actor   string    `json:"actor"`
	Role    auth.Role `json:"role"`
	Note    string    `json:"note"`
	Reasons []string  `json:"reasons"`
	At      time.Time `json:"at"`
}

// Material is an uploaded file of an application.
type Material struct {
	ID          int64     `json:"id"`
	Kind        string    `json:"kind"`
	FileName    string    `json:"file_name"`
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
	SHA256      string    `json:"sha256"`
	UploadedBy  string    `json:"uploaded_by"`
	CreatedAt   time.Time `json:"created_at"`
	KindLabel   string    `json:"-"`
}

// MaterialKind is a kind of material with its Chinese name.
type MaterialKind struct {
	ID    string
	Label string
}

// MaterialKindList lists the kinds of material in form order.
var MaterialKindList = []MaterialKind{
	{"id_card", "身份证明"}, {"hukou_book", "户口簿"}, {"income_proof", "收入证明"}, {"property_proof", "财产证明"},
	{"medical_bill", "医疗费用单据"}, {"visit_photo", "入户调查照片"}, {"other", "其他材料"},
}

// MaterialKinds maps each kind of material to its Chinese name.
var MaterialKinds = func() map[string]string {
	m := map[string]string{}
	for _, k := range MaterialKindList {
		m[k.ID] = k.Label
	}
	return m
}()

// Objection is an objection lodged during the public notice.
type Objection struct {
	ID        int64     `json:"id"`
	Text      string    `json:"text"`
	CreatedAt time.Time `json:"created_at"`
}

// Condition is a rules-engine condition of the pre-check, with whether
// it is evidenced by a valid verification report.
type Condition struct {
	ID        string `json:"id"`
	Label     string `json:"label"`
	Passed    bool   `json:"passed"`
	Evidenced bool   `json:"evidenced"`
	Detail    string `json:"detail"`
}

// Precheck is the rules engine's view of one programme of an application.
type Precheck struct {
	Program       string      `json:"program"`
	Label         string      `json:"label"`
	Evaluated     bool        `json:"evaluated"` // false: no policy file (临时救助)
	Eligible      bool        `json:"eligible"`
	MonthlyFen    int64       `json:"monthly_fen"`
	Conditions    []Condition `json:"conditions"`
	PolicyVersion string      `json:"policy_version,omitempty"`
}

// Finding is one line of the verification report: what the departments
// reported for one member (or the household) and one source, against the
// declaration.
type Finding struct {
	PersonID    int64  `json:"person_id"` // 0: the household (property)
	Name        string `json:"name"`
	Source      string `json:"source"`
	SourceLabel string `json:"source_label"`
	FoundFen    int64  `json:"found_fen"`
	Count       int    `json:"count"`
	DeclaredFen int64  `json:"declared_fen"`
	// DeclaredCount is the declared number of dwellings or vehicles.
	DeclaredCount int    `json:"declared_count"`
	Differs       bool   `json:"differs"`
	Details       string `json:"details"`
}

// Report is the economic verification report (经济状况核对报告): the latest
// batch of department data and what differs from the declaration.
type Report struct {
	CheckedOn  string    `json:"checked_on"`
	ValidUntil string    `json:"valid_until"`
	Valid      bool      `json:"valid"`
	Rows       int       `json:"rows"`
	Findings   []Finding `json:"findings"`
	Differs    bool      `json:"differs"`
}

// Case is an application with everything the case page shows.
type Case struct {
	Application
	Members      []Member     `json:"members"`
	Steps        []Step       `json:"steps"`
	Materials    []Material   `json:"materials"`
	Objections   []Objection  `json:"objections"`
	Precheck     []Precheck   `json:"precheck"`
	Report       *Report      `json:"verification,omitempty"`
	Next         []NextAction `json:"next"` // transitions the caller may make now
	RelatedStaff []string     `json:"-"`    // staff with a relative in the household (shown to the chain only)
}

// NextAction is a transition offered to the caller.
type NextAction struct {
	To       State    `json:"to"`
	Label    string   `json:"label"`
	Requires []string `json:"requires"`
}

// NewApplication is what a clerk submits to start an application.
type NewApplication struct {
	PersonID              int64            `json:"person_id"` // any member: the household is theirs
	Programs              []string         `json:"programs"`
	DeclaredIncomeFen     map[string]int64 `json:"declared_income_fen,omitempty"` // person ID → monthly income; default: the register's
	DeclaredDepositsFen   int64            `json:"declared_deposits_fen"`
	DeclaredSecuritiesFen int64            `json:"declared_securities_fen"`
	DeclaredVehicles      int              `json:"declared_vehicles"`
	DeclaredProperties    int              `json:"declared_properties"`
}

// Move is a request to move a case to another state.
type Move struct {
	To      State            `json:"to"`
	Note    string           `json:"note,omitempty"`
	Reasons []string         `json:"reasons,omitempty"`
	Amounts map[string]int64 `json:"amounts_fen,omitempty"` // programme → approved fen (monthly, or one-off for temporary); 0 refuses that programme
}

// VerificationRecord is one item of department data.
type VerificationRecord struct {
	IDNumber  string  `json:"id_number"`
	Source    string  `json:"source"`
	Amount    float64 `json:"amount"` // yuan: monthly for incomes, value for assets; ignored for counts
	Detail    string  `json:"detail,omitempty"`
	CheckedOn string  `json:"checked_on,omitempty"` // YYYY-MM-DD; default today
}

// VerificationBatch is the body of POST …/verification.
type VerificationBatch struct {
	Records []VerificationRecord `json:"records"`
}

// Declaration is what the household declares: each member's monthly
// income and the household's property, in fen.
type Declaration struct {
	IncomeFen     map[int64]int64 // person ID → monthly income
	DepositsFen   int64
	SecuritiesFen int64
	Vehicles      int
	Properties    int
}

// Relative is a staff member's close relative on file.
type Relative struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Relation  string    `json:"relation"`
	IDMasked  string    `json:"id_number_masked"`
	CreatedAt time.Time `json:"created_at"`
}

// NewRelative is what a staff member submits to put a relative on file.
type NewRelative struct {
	Name     string `json:"name"`
	IDNumber string `json:"id_number"`
	Relation string `json:"relation"`
}

// ListQuery selects applications for a worklist.
type ListQuery struct {
	State   State
	Overdue bool
	Offset  int
	Limit   int
}

// List is one page of applications.
type List struct {
	Total int64         `json:"total"`
	Items []Application `json:"items"`
}

// OverdueCount is the number of overdue cases of a district.
type OverdueCount struct {
	District string `json:"district"`
	Name     string `json:"name"`
	Open     int64  `json:"open"`
	Overdue  int64  `json:"overdue"`
}
