// Package monitor is low-income dynamic monitoring (低收入人口动态监测):
// other departments' data feeds are matched to people and households, staff
// configured rules (expr expressions) raise warnings, warnings become visit
// tasks for the community assistance adviser (社区救助顾问) of the household's
// residence committee, each closed with a disposition or escalated to the
// district; smart water meters and 一键通 emergency calls feed the same loop.
package monitor

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"minzheng/internal/tabular"
)

// FeedType names a department feed.
type FeedType string

// The feed types.
const (
	Death        FeedType = "death"        // 死亡（公安/卫健）
	Medical      FeedType = "medical"      // 大额医疗费用（医保）
	Unemployment FeedType = "unemployment" // 失业登记（人社）
	Disability   FeedType = "disability"   // 残疾证（残联）
	Arrears      FeedType = "arrears"      // 水电燃气欠费
	Water        FeedType = "water"        // 智能水表小时读数
	Call         FeedType = "call"         // 一键通紧急呼叫
)

// FeedTypes lists every feed type in display order.
var FeedTypes = []FeedType{Death, Medical, Unemployment, Disability, Arrears, Water, Call}

// Label returns the feed's Chinese name.
func (t FeedType) Label() string {
	switch t {
	case Death:
		return "死亡信息"
	case Medical:
		return "大额医疗费用"
	case Unemployment:
		return "失业登记"
	case Disability:
		return "残疾证"
	case Arrears:
		return "水电燃气欠费"
	case Water:
		return "智能水表读数"
	case Call:
		return "一键通呼叫"
	}
	return string(t)
}

// DefaultSource returns the department that usually sends the feed.
func (t FeedType) DefaultSource() string {
	switch t {
	case Death:
		return "公安"
	case Medical:
		return "医保"
	case Unemployment:
		return "人社"
	case Disability:
		return "残联"
	case Arrears:
		return "水电燃气"
	case Water:
		return "供水"
	case Call:
		return "一键通"
	}
	return ""
}

// ParseFeedType accepts a type's code or its Chinese name.
func ParseFeedType(s string) (FeedType, bool) {
	for _, t := range FeedTypes {
		if s == string(t) || s == t.Label() {
			return t, true
		}
	}
	return "", false
}

// ByDevice reports whether rows of the feed are matched by a device bound
// to a household rather than by ID number.
// feedTypeList names the feed types for a message.
func feedTypeList() string {
	var b []string
	for _, t := range FeedTypes {
		b = append(b, string(t)+"（"+t.Label()+"）")
	}
	return strings.Join(b, "、")
}

func (t FeedType) ByDevice() bool { return t == Water || t == Call }

var idColumn = tabular.Column{Key: "id_number", Names: []string{"id_number", "身份证号", "身份证号码", "公民身份号码"}, Required: true}

// Columns returns the schema of the feed: its columns in English or Chinese.
func (t FeedType) Columns() []tabular.Column {
	switch t {
	case Death:
		return []tabular.Column{idColumn, {Key: "death_date", Names: []string{"death_date", "死亡日期"}, Required: true}}
	case Medical:
		return []tabular.Column{idColumn, {Key: "bill_date", Names: []string{"bill_date", "结算日期"}, Required: true},
			{Key: "amount", Names: []string{"amount", "自付金额", "金额"}, Required: true}, {Key: "bill_no", Names: []string{"bill_no", "结算单号"}}}
	case Unemployment:
		return []tabular.Column{idColumn, {Key: "registered_on", Names: []string{"registered_on", "登记日期"}, Required: true},
			{Key: "ended_on", Names: []string{"ended_on", "终止日期"}}}
	case Disability:
		return []tabular.Column{idColumn, {Key: "category", Names: []string{"category", "残疾类别"}, Required: true},
			{Key: "grade", Names: []string{"grade", "残疾等级"}, Required: true}, {Key: "issued_on", Names: []string{"issued_on", "发证日期"}, Required: true},
			{Key: "valid_until", Names: []string{"valid_until", "有效期至"}}}
	case Arrears:
		return []tabular.Column{idColumn, {Key: "utility", Names: []string{"utility", "类别", "欠费类别"}, Required: true},
			{Key: "amount", Names: []string{"amount", "欠费金额"}, Required: true}, {Key: "months", Names: []string{"months", "欠费月数"}, Required: true},
			{Key: "as_of", Names: []string{"as_of", "统计日期"}, Required: true}}
	case Water:
		return []tabular.Column{{Key: "meter_id", Names: []string{"meter_id", "水表编号"}, Required: true},
			{Key: "hour", Names: []string{"hour", "读数时间"}, Required: true}, {Key: "volume", Names: []string{"volume", "用水量", "用水量（升）"}, Required: true}}
	case Call:
		return []tabular.Column{{Key: "device_id", Names: []string{"device_id", "设备编号"}, Required: true},
			{Key: "called_at", Names: []string{"called_at", "呼叫时间"}, Required: true}, {Key: "call_type", Names: []string{"call_type", "呼叫类型"}}}
	}
	return nil
}

// columnLabel returns the Chinese name of a column of the feed.
func (t FeedType) columnLabel(key string) string {
	for _, c := range t.Columns() {
		if c.Key == key {
			for _, n := range c.Names {
				if strings.IndexFunc(n, func(r rune) bool { return r > 0x7f }) >= 0 {
					return n
				}
			}
		}
	}
	return key
}

// Record is one row of a feed, read and checked but not yet matched.
type Record struct {
	Line      int       // row number as in the file (header = 1) or position in a JSON batch
	Key       string    // ID number or device id
	ValidFrom string    // YYYY-MM-DD: the date the fact holds from
	ValidTo   string    // YYYY-MM-DD or ""
	Hour      time.Time // water: the hour of the reading; call: the moment of the call
	Amount    float64   // yuan (medical, arrears), litres (water)
	Months    int       // arrears
	Grade     int       // disability
	Detail    string    // category, utility, bill number, call type
}

// naturalKey identifies the fact the row states, without the person:
// the same key twice in one batch is a duplicate row.
func (r Record) naturalKey(t FeedType) string {
	switch t {
	case Death:
		return r.Key
	case Medical:
		return fmt.Sprintf("%s|%s|%.2f|%s", r.Key, r.ValidFrom, r.Amount, r.Detail)
	case Unemployment:
		return r.Key + "|" + r.ValidFrom
	case Disability:
		return fmt.Sprintf("%s|%s|%d|%s", r.Key, r.Detail, r.Grade, r.ValidFrom)
	case Arrears:
		return r.Key + "|" + r.Detail + "|" + r.ValidFrom
	case Water, Call:
		return r.Key + "|" + strconv.FormatInt(r.Hour.Unix(), 10)
	}
	return r.Key
}

// factKey is the natural key with the person in place of the ID number,
// stored to recognise a fact sent again in another batch.
func (r Record) factKey(t FeedType, personID int64) string {
	// The person is zero-padded so that text order is number order: a
	// batch sorted by person inserts its keys in index order.
	k := r.naturalKey(t)
	if !t.ByDevice() {
		if _, rest, ok := strings.Cut(k, "|"); ok {
			return fmt.Sprintf("%012d|%s", personID, rest)
		}
		return fmt.Sprintf("%012d", personID)
	}
	return k
}

const hourLayout = "2006-01-02T15"

// RowProblem is one row of a batch that was not written, and why.
type RowProblem struct {
	Line    int    `json:"line"`
	Field   string `json:"field,omitempty"`
	Column  string `json:"column,omitempty"`
	Kind    string `json:"kind"` // rejected, unmatched, duplicate
	Message string `json:"message"`
}

// Result is what a batch held and what became of it. Its JSON is what
// `minzheng import feed` prints.
type Result struct {
	Batch      string       `json:"batch"`
	Type       FeedType     `json:"type"`
	Rows       int          `json:"rows"`
	Accepted   int          `json:"accepted"`
	Rejected   int          `json:"rejected"`
	Unmatched  int          `json:"unmatched"`
	Duplicates int          `json:"duplicates"`
	Warnings   int          `json:"warnings"`
	Written    bool         `json:"written"`  // false: the batch was refused and nothing changed
	Replayed   bool         `json:"replayed"` // the batch had been imported before; nothing changed
	Seconds    float64      `json:"seconds"`
	Problems   []RowProblem `json:"problems"`
}

// Line is the one-line summary the CLI prints last.
func (r Result) Line() string {
	return fmt.Sprintf(`{"batch":%q, "accepted":%d, "rejected":%d, "unmatched":%d, "duplicates":%d}`, r.Batch, r.Accepted, r.Rejected, r.Unmatched, r.Duplicates)
}

// Severity is how urgent a warning is.
type Severity string

// The severities, most urgent first.
const (
	Urgent Severity = "urgent" // 紧急
	High   Severity = "high"   // 高
	Medium Severity = "medium" // 中
	Low    Severity = "low"    // 低
)

// Severities lists the severities, most urgent first.
var Severities = []Severity{Urgent, High, Medium, Low}

// Label returns the severity in Chinese.
func (s Severity) Label() string {
	switch s {
	case Urgent:
		return "紧急"
	case High:
		return "高"
	case Medium:
		return "中"
	case Low:
		return "低"
	}
	return string(s)
}

// Deadline is how long the adviser has to visit after a warning of this
// severity.
func (s Severity) Deadline() time.Duration {
	switch s {
	case Urgent:
		return 24 * time.Hour
	case High:
		return 3 * 24 * time.Hour
	case Medium:
		return 7 * 24 * time.Hour
	}
	return 15 * 24 * time.Hour
}

// Population is the group of people a rule watches.
type Population string

// The populations.
const (
	Everyone    Population = "all"          // 全部人员
	Recipients  Population = "recipients"   // 在享待遇对象
	DibaoEdge   Population = "dibao_edge"   // 低保、低保边缘家庭
	EldersAlone Population = "elders_alone" // 独居老人
)

// Populations lists the populations.
var Populations = []Population{Everyone, Recipients, DibaoEdge, EldersAlone}

// Label returns the population in Chinese.
func (p Population) Label() string {
	switch p {
	case Everyone:
		return "全部人员"
	case Recipients:
		return "在享待遇对象"
	case DibaoEdge:
		return "低保、低保边缘家庭"
	case EldersAlone:
		return "独居老人"
	}
	return string(p)
}

// Rule is a warning rule configured by staff.
type Rule struct {
	ID           int64      `json:"id"`
	Code         string     `json:"code"`
	Name         string     `json:"name"`
	Severity     Severity   `json:"severity"`
	Population   Population `json:"population"`
	Feed         FeedType   `json:"feed_type"`
	Expression   string     `json:"expression"`
	SuppressDays int        `json:"suppress_days"`
	Enabled      bool       `json:"enabled"`
}

// DefaultRules are the rules a new database starts with (the issue's
// examples); staff change them on the rules page.
var DefaultRules = []Rule{
	{Code: "rigid_expense", Name: "刚性支出困难风险", Severity: High, Population: DibaoEdge, Feed: Medical,
		Expression: "household.medical_3m > 0.5 * household.monthly_income * 3", SuppressDays: 90, Enabled: true},
	{Code: "recipient_died", Name: "待遇对象死亡，停发核查", Severity: High, Population: Recipients, Feed: Death,
		Expression: `feed == "death"`, SuppressDays: 365, Enabled: true},
	{Code: "water_silence", Name: "独居老人用水异常", Severity: Urgent, Population: EldersAlone, Feed: Water,
		Expression: "meter.silent_hours >= 24 && meter.history_days >= 7 && meter.use_share >= 0.8", SuppressDays: 1, Enabled: true},
	{Code: "unemployed_near_line", Name: "失业登记，收入接近低保线", Severity: Medium, Population: Everyone, Feed: Unemployment,
		Expression: "unemployed && !household.dibao && household.per_capita_income >= dibao_standard && household.per_capita_income < 1.5 * dibao_standard", SuppressDays: 180, Enabled: true},
	{Code: "utility_arrears", Name: "水电燃气欠费", Severity: Medium, Population: DibaoEdge, Feed: Arrears,
		Expression: "arrears.months >= 3", SuppressDays: 90, Enabled: true},
}

// Task kinds.
const (
	TaskWarning = "warning" // 预警核查
	TaskWeather = "weather" // 极端天气探访
	TaskCall    = "call"    // 一键通响应
)

// Task statuses.
const (
	StatusOpen      = "open"      // 待处置
	StatusEscalated = "escalated" // 已超期，上报区
	StatusClosed    = "closed"    // 已办结
)

// StatusLabel returns a task status in Chinese.
func StatusLabel(s string) string {
	switch s {
	case StatusOpen:
		return "待处置"
	case StatusEscalated:
		return "超期上报"
	case StatusClosed:
		return "已办结"
	}
	return s
}

// Dispositions of a visit.
const (
	Referred     = "referred"      // 转入救助申请
	Resolved     = "resolved"      // 已解决
	NothingFound = "nothing_found" // 未发现问题
	Unreachable  = "unreachable"   // 未能联系，改期
)

// Dispositions lists the dispositions in display order.
var Dispositions = []string{Referred, Resolved, NothingFound, Unreachable}

// DispositionLabel returns a disposition in Chinese.
func DispositionLabel(d string) string {
	switch d {
	case Referred:
		return "转入救助申请"
	case Resolved:
		return "已解决"
	case NothingFound:
		return "未发现问题"
	case Unreachable:
		return "未能联系，改期"
	}
	return d
}

// Task is a visit to make.
type Task struct {
	ID          int64     `json:"id"`
	Kind        string    `json:"kind"`
	WarningID   int64     `json:"warning_id,omitempty"`
	PersonID    int64     `json:"person_id"`
	HouseholdID int64     `json:"household_id"`
	Division    string    `json:"division"`
	District    string    `json:"district"`
	Assignee    string    `json:"assignee"`
	Severity    Severity  `json:"severity"`
	Title       string    `json:"title"`
	Reason      string    `json:"reason"`
	Status      string    `json:"status"`
	DueAt       time.Time `json:"due_at"`
	Attempts    int       `json:"attempts"`
	Disposition string    `json:"disposition"`
	Referral    string    `json:"referral"`
	CreatedAt   time.Time `json:"created_at"`
	ClosedAt    time.Time `json:"closed_at,omitzero"`
	Overdue     bool      `json:"overdue"`
}

// Visit is what an adviser records after going to the door.
type Visit struct {
	Date        string  `json:"date"` // YYYY-MM-DD
	Found       string  `json:"found"`
	Disposition string  `json:"disposition"`
	Photos      []Photo `json:"-"`
}

// Photo is a picture taken on a visit.
type Photo struct {
	Name        string
	ContentType string
	Data        []byte
}

// Referral is what the hook that opens an assistance application receives.
type Referral struct {
	TaskID      int64
	PersonID    int64
	HouseholdID int64
	Rule        string // the code of the warning's rule ("" for weather and call tasks)
	Reason      string // the warning's reason and what the visit found
	By          string
}

// StatusLabel returns the task's status in Chinese, 已超期 for an open
// task past its deadline.
func (t Task) StatusLabel() string {
	if t.Overdue && t.Status == StatusOpen {
		return "已超期"
	}
	return StatusLabel(t.Status)
}

// KindLabel returns the task's kind in Chinese.
func (t Task) KindLabel() string {
	switch t.Kind {
	case TaskWarning:
		return "预警核查"
	case TaskWeather:
		return "极端天气探访"
	case TaskCall:
		return "一键通响应"
	}
	return t.Kind
}

// DispositionLabel returns the task's disposition in Chinese.
func (t Task) DispositionLabel() string { return DispositionLabel(t.Disposition) }

// Choice is an option of a form.
type Choice struct {
	Code  string
	Label string
}

// DispositionChoices are the dispositions as form options.
func DispositionChoices() []Choice {
	out := make([]Choice, len(Dispositions))
	for i, d := range Dispositions {
		out[i] = Choice{d, DispositionLabel(d)}
	}
	return out
}

// Labels lists every Chinese label the monitoring pages show through a
// translation (severities, statuses, kinds, dispositions, feed types,
// populations, the names of the data behind a warning and yes/no), so the
// English catalogue can be checked against them.
func Labels() []string {
	var out []string
	for _, s := range Severities {
		out = append(out, s.Label())
	}
	for _, s := range []string{StatusOpen, StatusEscalated, StatusClosed} {
		out = append(out, StatusLabel(s))
	}
	out = append(out, Task{Status: StatusOpen, Overdue: true}.StatusLabel())
	for _, k := range []string{TaskWarning, TaskWeather, TaskCall} {
		out = append(out, Task{Kind: k}.KindLabel())
	}
	for _, d := range Dispositions {
		out = append(out, DispositionLabel(d))
	}
	for _, t := range FeedTypes {
		out = append(out, t.Label())
	}
	for _, p := range Populations {
		out = append(out, p.Label())
	}
	for _, kv := range dataLabels {
		out = append(out, kv.Value)
	}
	return append(out, "是", "否")
}
