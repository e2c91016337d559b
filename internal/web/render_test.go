package web_test

import (
	"context"
	"html"
	"html/template"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"path"
	"strings"
	"testing"
	"time"

	"minzheng/internal/app"
	"minzheng/internal/audit"
	"minzheng/internal/auth"
	"minzheng/internal/division"
	"minzheng/internal/eligibility"
	"minzheng/internal/errs"
	"minzheng/internal/module"
	"minzheng/internal/monitor"
	"minzheng/internal/payroll"
	"minzheng/internal/policy"
	"minzheng/internal/registry"
	"minzheng/internal/web"
)

// The handlers' page data types are unexported in their packages; these
// mirror them field for field (templates only see field names).
type (
	loginData struct {
		Name, Next, Error string
	}
	usersData struct {
		Users    []auth.User
		Roles    []auth.Role
		Created  *auth.User
		Password string
		Error    *errs.Error
	}
	auditData struct {
		Entries []audit.Entry
		Filter  audit.Filter
		Older   int64
	}
	searchData struct {
		Q                      string
		Result                 registry.SearchResult
		Prev, Next             bool
		PrevOffset, NextOffset int
	}
	newData struct {
		Form      registry.NewPerson
		Fields    map[string]string
		Error     *errs.Error
		Relations []registry.Relation
	}
	importData struct {
		FileName string
		Report   *registry.ImportReport
		Error    string
	}
	policiesData struct {
		Today    string
		Policies []*policy.Policy
	}
	proactiveData struct {
		Today string
		Runs  []eligibility.RunRow
		Last  *eligibility.RunStats
		Error string
	}
	simData struct {
		Set        string
		From       string
		Parameters []string
		Sim        *eligibility.Simulation
		Chart      string
		Query      template.URL
		Error      string
	}
	payrollData struct {
		Periods []payroll.Period
		Next    string
		CanRun  bool
		Result  *payroll.Result
		Returns *payroll.ReturnReport
		Error   string
	}
	payeeData struct {
		PersonID int64
		Account  payroll.Account
		Form     payroll.Account
		Card     bool
		CanEdit  bool
		Saved    bool
		Error    string
	}
	payrollPeriodData struct {
		Period    string
		Figures   []payroll.FigureRow
		Total     payroll.Figure
		Chart     string
		Districts []string
		Files     []string
		Error     string
	}
)

// Monitoring pages (mirrors of the unexported types in package monitor).
type (
	monitorDashData struct {
		Dash     monitor.Dashboard
		Division string
		Name     string
		Map      string
		Trend    string
		Query    string
	}
	monitorTasksData struct {
		Tasks  []monitor.Task
		Status string
	}
	monitorTaskData struct {
		Detail       monitor.TaskDetail
		Data         []monitor.KV
		Dispositions []monitor.Choice
		Error        *errs.Error
		CanVisit     bool
	}
	monitorFeedsData struct {
		Types      []monitor.FeedType
		Batches    []monitor.BatchRow
		Rules      []monitor.Rule
		Result     *monitor.Result
		FileName   string
		Error      string
		Done       string
		DoneN      int
		RuleError  *errs.Error
		Severities []monitor.Severity
		Pops       []monitor.Population
		Districts  []string
		CanRules   bool
		CanImport  bool
	}
)

var (
	monitorTask = monitor.Task{ID: 7, Kind: monitor.TaskWarning, WarningID: 3, PersonID: 42, HouseholdID: 9, Division: "310104003001", District: "310104",
		Assignee: "gu", Severity: monitor.High, Title: "Rigid expense risk", Reason: "bills 2100 yuan", Status: monitor.StatusOpen, DueAt: at, CreatedAt: at, Overdue: true}
	monitorRule = monitor.Rule{ID: 1, Code: "rigid_expense", Name: "Rigid expense risk", Severity: monitor.High, Population: monitor.DibaoEdge, Feed: monitor.Medical,
		Expression: "household.medical_3m > 1000", SuppressDays: 90}
)

// Test data is ASCII so that an English page holding any Chinese at all
// shows a string that missed translation.
var divisionNames = map[string]string{
	"310000":       "Shanghai",
	"310101":       "Huangpu District",
	"310104":       "Xuhui District",
	"310104003":    "Tianping Road Subdistrict",
	"310104003001": "Yongjia Road Committee",
}

// eligibilityData mirrors eligibility's fragment data.
type eligibilityData struct {
	AsOf    string
	Results []*policy.Result
}

func newRenderer(t *testing.T) *web.Renderer {
	t.Helper()
	r, err := web.NewRenderer(slog.New(slog.DiscardHandler), func(code string) string { return divisionNames[code] }, linePages()...)
	if err != nil {
		t.Fatalf("NewRenderer: %v", err)
	}
	r.Nav = func(p auth.Principal) []web.NavItem { return module.Nav(app.Declared(), p) }
	return r
}

var cityAdmin = auth.Principal{UserID: 1, Name: "liming", Display: "Li Ming", Role: auth.CityAdmin, Division: "310000"}

// adviser and reviewer are callers of a district for pages whose forms
// depend on the role.
var (
	adviser  = auth.Principal{UserID: 2, Name: "gu", Display: "Gu Mei", Role: auth.Adviser, Division: "310101"}
	reviewer = auth.Principal{UserID: 3, Name: "shen", Display: "Shen He", Role: auth.Reviewer, Division: "310101"}
)

// request is a GET for the language lang as the principal u (nil:
// anonymous).
func request(lang string, u *auth.Principal) *http.Request {
	target := "/page"
	if lang == "en" {
		target += "?lang=en"
	}
	req := httptest.NewRequest("GET", target, nil)
	if u != nil {
		req = req.WithContext(auth.WithPrincipal(context.Background(), *u))
	}
	return req
}

var (
	at       = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC) // 11:04 in Shanghai
	zhang    = registry.Person{ID: 42, HouseholdID: 9, Relation: registry.Head, Name: "Zhang San", IDMasked: "310104********0017", BirthDate: "1950-01-01", Sex: "M", HukouDivision: "310104003001", ResidenceDivision: "310101", MonthlyIncome: 4500, DisabilityCategory: "physical", DisabilityGrade: 2}
	li       = registry.Person{ID: 43, HouseholdID: 9, Relation: registry.Spouse, Name: "Li Si", IDMasked: "310104********0022", BirthDate: "1952-02-02", Sex: "F", ResidenceDivision: "310101", DeathDate: "2020-01-01"}
	rowError = registry.RowError{Line: 5, Field: "id_number", Column: "id_number", Message: "bad check digit"}
)

type renderCase struct {
	name     string // case name
	page     string // template
	fragment string // block rendered alone; "" for the whole page
	title    string
	user     *auth.Principal
	data     any
	status   int
	zh, en   []string // in the output, HTML-escaped as written
}

var renderCases = []renderCase{
	{name: "home", page: "home", title: "首页", user: &cityAdmin,
		data: &division.Node{Division: division.Division{Code: "310000", Name: "Shanghai", Level: division.City}, Persons: 1234567, Households: 456789},
		zh:   []string{"<title>首页 · 上海民政</title>", "您好", "市管理员", "辖区户籍人口", "1,234,567", "456,789", "人员查询", "行政区划", "审计日志", "退出"},
		en: []string{"<title>Home · Shanghai Civil Affairs</title>", "Hello", "Li Ming", "City administrator", "Registered population (hukou) in jurisdiction",
			"1,234,567", "Person search", "Administrative divisions", "Bulk import", "User accounts", "Audit log", "Sign out", `href="/divisions/310000"`}},
	{name: "login", page: "login", title: "登录", data: loginData{Next: "/persons"},
		zh: []string{"工作人员登录", "用户名", "密码", "登录", `name="next" value="/persons"`},
		en: []string{"<title>Sign in · Shanghai Civil Affairs</title>", "Staff sign-in", "Username", "Password", ">Sign in</button>", `name="next" value="/persons"`}},
	{name: "login failed", page: "login", title: "登录", data: loginData{Name: "liming", Next: "/", Error: "Wrong username or password"}, status: http.StatusUnauthorized,
		zh: []string{`role="alert">Wrong username or password`, `value="liming"`},
		en: []string{`role="alert">Wrong username or password`, `value="liming"`, "Password"}},
	{name: "users", page: "users", title: "账号管理", user: &cityAdmin,
		data: usersData{Roles: auth.Roles, Created: &auth.User{Name: "wang"}, Password: "s3cret-Pass",
			Users: []auth.User{{ID: 1, Name: "liming", Display: "Li Ming", Role: auth.CityAdmin, Division: "310000", CreatedAt: at},
				{ID: 2, Name: "wang", Role: auth.Clerk, Division: "310104003", CreatedAt: at}}},
		zh: []string{"账号管理", "已创建账号", "s3cret-Pass", "受理员", "社区救助顾问", "区审核员", "审批员", "区管理员", "审计员", "2024-01-02 11:04", "Tianping Road Subdistrict"},
		en: []string{"User accounts", "Account created:", "initial password", "s3cret-Pass", "Intake clerk", "Community assistance adviser", "District reviewer",
			"Approving officer", "District administrator", "City administrator", "Auditor", "Jurisdiction code", "Create account", "2024-01-02 11:04"}},
	{name: "users invalid", page: "users", title: "账号管理", user: &cityAdmin, status: http.StatusUnprocessableEntity,
		data: usersData{Roles: auth.Roles, Error: &errs.Error{Code: errs.Invalid, Message: "username taken"}},
		zh:   []string{`role="alert"><p>username taken</p>`},
		en:   []string{`role="alert"><p>username taken</p>`, "Username"}},
	{name: "audit", page: "audit", title: "审计日志", user: &cityAdmin,
		data: auditData{Filter: audit.Filter{Actor: "li&ming"}, Older: 7,
			Entries: []audit.Entry{{ID: 7, At: at, Actor: "liming", Role: "city_admin", Action: "person.view_id_number", Entity: "person", EntityID: "42", Detail: "viewed ID number", Remote: "10.0.0.1"}}},
		zh: []string{"审计日志", "校验哈希链", "操作人", "更早", "person.view_id_number", "2024-01-02 11:04", "before=7&amp;actor=li%26ming"},
		en: []string{"Audit log", "Verify hash chain", `placeholder="Operator"`, `placeholder="Action, e.g. person.view_id_number"`, "Filter", "Time", "Details", "Source", "Older", "before=7&amp;actor=li%26ming"}},
	{name: "audit verify ok", page: "audit", fragment: "verify", user: &cityAdmin, data: audit.Result{OK: true, Entries: 42},
		zh: []string{`<b class="ok">完整：共 42 条，哈希链无断裂</b>`},
		en: []string{`<b class="ok">Intact: 42 entries checked, hash chain unbroken</b>`}},
	{name: "audit verify broken", page: "audit", fragment: "verify", user: &cityAdmin, data: audit.Result{Entries: 42, BadID: 5, Reason: "entry 5 was altered"},
		zh: []string{`<b class="error">entry 5 was altered</b>`},
		en: []string{`<b class="error">entry 5 was altered</b>`}},
	{name: "persons", page: "persons", title: "人员查询", user: &cityAdmin,
		data: searchData{Q: "Zhang & co", Result: registry.SearchResult{Total: 1234, Items: []registry.Person{zhang, li}}, Prev: true, Next: true, NextOffset: 40},
		zh:   []string{"人员查询", "共", "1,234", "男", "女", "已故", "非本市户籍", "上一页", "下一页", "导出 Excel", "Yongjia Road Committee", "q=Zhang&#43;%26&#43;co"},
		en: []string{"Person search", `placeholder="Name or 18-digit ID number"`, `aria-label="Name or ID number"`, "Total", "1,234", "people", "Male", "Female", "Deceased",
			"Hukou outside Shanghai", "Previous", "Next", "Export to Excel", "Register a person", "Registered residence (hukou)", "Actual residence", "Yongjia Road Committee"}},
	{name: "persons none", page: "persons", title: "人员查询", user: &cityAdmin, data: searchData{Q: "nobody"},
		zh: []string{"没有符合条件的人员"},
		en: []string{"No matching people found"}},
	{name: "person", page: "person", title: "Zhang San", user: &cityAdmin,
		data: registry.Profile{Person: zhang, Household: registry.Household{ID: 9, HouseholdNo: "H0001", Address: "1 Tianping Road"}, Members: []registry.Person{zhang, li},
			HukouName: "Yongjia Road Committee", ResidenceName: "Huangpu District", Age: 74},
		zh: []string{"身份证号", "显示完整号码", "74 岁", "人户分离", "4,500 元", "户号 H0001", "户主", "配偶", "男"},
		en: []string{"<title>Zhang San · Shanghai Civil Affairs</title>", "ID number", "Show full number (this is recorded in the audit log)", "74 years old",
			"Registered residence (hukou)", "Lives away from registered residence", "4,500 yuan", "Disability", "Household ID 9", "Household no. H0001",
			"Household members", "Head of household", "Spouse", "Male"}},
	{name: "person deceased no disability", page: "person", title: "Li Si", user: &cityAdmin,
		data: registry.Profile{Person: li, Household: registry.Household{ID: 9}, Members: []registry.Person{li}, ResidenceName: "Huangpu District", Age: 68},
		zh:   []string{"已故 2020-01-01", "非本市户籍", "无"},
		en:   []string{"Deceased 2020-01-01", "Hukou outside Shanghai", "None", "Female"}},
	{name: "person weak guardianship, adviser", page: "person", title: "Zhou Wu", user: &adviser,
		data: registry.Profile{Person: registry.Person{ID: 44, HouseholdID: 10, Relation: registry.Head, Name: "Zhou Wu", BirthDate: "1938-01-01", Sex: "F",
			ResidenceDivision: "310101", WeakGuardianship: true, LivesAlone: true, MonthlyMedicalExpense: 1234.5}, Household: registry.Household{ID: 10}, Age: 87},
		zh: []string{"监护情况", "独居", "弱监护", `action="/persons/44/weak-guardianship"`, `name="weak_guardianship" value="0"`, "取消弱监护标记", "1234.50 元"},
		en: []string{"Guardianship", "Lives alone", "Weak guardianship", "Clear the weak guardianship mark", "Self-paid medical costs (monthly average, last 3 months)"}},
	{name: "person guardianship, reviewer", page: "person", title: "Zhang San", user: &reviewer,
		data: registry.Profile{Person: zhang, Household: registry.Household{ID: 9}, Age: 74},
		zh:   []string{"无特殊情况"}, en: []string{"Nothing to note"}},
	{name: "person eligibility", page: "person_eligibility", fragment: "eligibility", user: &cityAdmin,
		data: eligibilityData{AsOf: "2025-08-01", Results: []*policy.Result{{Program: "dibao", Name: "Dibao", Eligible: true, MonthlyAmount: 1595,
			Explanation: []policy.Step{{Passed: true, Detail: "income 0 below 1595"}},
			Parameters:  []policy.UsedValue{{Label: "standard", Value: 1595, From: "2024-07-01", Source: "doc 2024", Confirmed: true}}}}},
		zh: []string{`data-program="dibao"`, "符合", "1595.00", "income 0 below 1595", "2025-08-01", "为什么？"},
		en: []string{"Eligible", "Why?"}},
	{name: "payee account", page: "person_payee", fragment: "payee", user: &cityAdmin,
		data: payeeData{PersonID: 7, CanEdit: true, Saved: true, Account: payroll.Account{Bank: "ICBC", Number: "6222********2222", Holder: "Li Mu", Custodial: true, Custodian: "Street office"}, Form: payroll.Account{Bank: "ICBC"}},
		zh:   []string{"6222********2222", "资金卡折代管", "Street office", `hx-post="/persons/7/payee-account"`, "发放账户已保存"},
		en:   []string{"Bank", "Custodial account", "Payee account saved", "Save"}},
	{name: "payee social security card", page: "person_payee", fragment: "payee", user: &cityAdmin,
		data: payeeData{PersonID: 7, Card: true, Account: payroll.Account{Bank: "card"}, Error: "bad account"},
		zh:   []string{"社保卡（按身份证号发放）", "bad account"}, en: []string{"Social security card (paid by ID number)"}},
	{name: "person full id", page: "person", fragment: "fullid", user: &cityAdmin, data: "310104195001010017",
		zh: []string{`<span id="id-number" class="mono full">310104195001010017</span>`},
		en: []string{`<span id="id-number" class="mono full">310104195001010017</span>`}},
	{name: "person_new", page: "person_new", title: "登记人员", user: &cityAdmin,
		data: newData{Form: registry.NewPerson{ResidenceDivision: "310000", Relation: string(registry.Head)}, Fields: map[string]string{},
			Relations: []registry.Relation{registry.Head, registry.Spouse, registry.Child, registry.Parent, registry.Grandchild, registry.Other}},
		zh: []string{"登记人员", "户籍地代码", "居住地代码", "与户主关系", `<option value="head" selected>户主</option>`, "孙子女"},
		en: []string{"Register a person", "Registered residence (hukou) code", "Actual residence code", "Join household ID",
			`placeholder="e.g. 310104003001; leave blank if the hukou is outside Shanghai"`, "Relationship to head of household",
			`<option value="head" selected>Head of household</option>`, "Spouse", "Child", "Parent", "Grandchild", "Other", "Monthly income (yuan)", ">Register</button>"}},
	{name: "person_new invalid", page: "person_new", title: "登记人员", user: &cityAdmin, status: http.StatusUnprocessableEntity,
		data: newData{Form: registry.NewPerson{Name: "Zhang San", IDNumber: "310104195001010018", Relation: "spouse"},
			Fields: map[string]string{"id_number": "bad check digit"}, Error: &errs.Error{Code: errs.Invalid, Message: "bad check digit"},
			Relations: []registry.Relation{registry.Head, registry.Spouse}},
		zh: []string{`<em class="error">bad check digit</em>`, `value="310104195001010018"`, `<option value="spouse" selected>配偶</option>`},
		en: []string{`<em class="error">bad check digit</em>`, `role="alert"><p>bad check digit</p>`, `<option value="spouse" selected>Spouse</option>`}},
	{name: "policies", page: "policies", title: "政策与参数", user: &cityAdmin, data: policiesData{Today: "2025-08-01", Policies: testPolicies()},
		zh: []string{"政策与参数", "Allowance", "2016-05-01", "person.age &gt;= 65", "Band A", "test.band", "75", "Paper 1", "待核实"},
		en: []string{"Policies and parameters", "Conditions", "Monthly amount", "Parameters", "to be confirmed", "Source"}},
	{name: "proactive", page: "proactive", title: "免申即享", user: &cityAdmin,
		data: proactiveData{Today: "2025-08-01", Last: &eligibility.RunStats{Persons: 20000, Grants: 9, Stops: 2, Changes: 3},
			Runs: []eligibility.RunRow{{ID: 7, AsOf: "2025-08-01", Started: "2025-08-01 09:00", Actor: "liming", Persons: 20000, Grants: 9}}},
		zh: []string{"免申即享", "立即运行", "已完成", "20000", "liming", `name="csrf"`},
		en: []string{"Proactive grant", "Run now", "Done", "Runs", "Granted"}},
	{name: "payroll", page: "payroll", title: "待遇发放", user: &cityAdmin,
		data: payrollData{Next: "2025-09", CanRun: true, Periods: []payroll.Period{{Period: "2025-08", Lines: 12, Amount: 2250.5}},
			Result: &payroll.Result{Period: "2025-08", Lines: 12, NewLines: 3, AmountTotal: 2250.5}, Returns: &payroll.ReturnReport{Rows: 2, Paid: 1, Failed: 1}},
		zh: []string{"待遇发放", "计算发放", "导入回盘", `href="/payroll/2025-08"`, "2250.50", `name="csrf"`, "失败的付款将在下次发放时重发"},
		en: []string{"Payroll", "Compute payroll", "Import returns", "Ledger lines", "failed payments go out again"}},
	{name: "payroll empty", page: "payroll", title: "待遇发放", user: &cityAdmin, data: payrollData{Next: "2025-09"},
		zh: []string{"尚无发放记录"}, en: []string{"No payroll yet"}},
	{name: "payroll period", page: "payroll_period", title: "发放统计", user: &cityAdmin,
		data: payrollPeriodData{Period: "2025-08", Chart: `{"series":[]}`, Districts: []string{"310104"}, Files: []string{"a.csv"},
			Figures: []payroll.FigureRow{{Figure: payroll.Figure{District: "310104", Program: "dibao", Cases: 3, People: 7, Amount: 6300}, DistrictName: "Xuhui District", ProgramName: "Dibao"}},
			Total:   payroll.Figure{Cases: 3, People: 7, Amount: 6300}},
		zh: []string{"发放统计", "Xuhui District", "6300.00", "/payroll/2025-08/figures.xlsx", `action="/payroll/2025-08/signoff"`, "data-chart", "待签发"},
		en: []string{"Payroll figures", "Sign off", "People covered", "Awaiting sign-off", "Export to Excel"}},
	{name: "simulate form", page: "simulate", title: "政策模拟测算", user: &cityAdmin, data: simData{From: "2025-07-01", Parameters: []string{"dibao.standard"}},
		zh: []string{"政策模拟测算", "参数设定", "生效日期", "dibao.standard="},
		en: []string{"What-if simulation", "Parameter setting", "Effective from", "Simulate"}},
	{name: "simulate result", page: "simulate", title: "政策模拟测算", user: &cityAdmin,
		data: simData{Set: "dibao.standard=1700", From: "2025-07-01", Query: "set=dibao.standard%3D1700&from=2025-07-01", Chart: `{"series":[]}`,
			Sim: &eligibility.Simulation{Seconds: 1.5, Total: []eligibility.SimRow{{Program: "dibao", Name: "Dibao", SubjectsGain: 3, MonthlyBefore: 100, MonthlyAfter: 250, YearlyDelta: 1800}},
				Rows: []eligibility.SimRow{{Program: "dibao", Name: "Dibao", District: "310104", DistrictName: "Xuhui District", SubjectsGain: 3, MonthlyDelta: 150}}}},
		zh: []string{"全市合计", "按区", "Xuhui District", "1800.00", "data-chart", "/simulate/export.xlsx?set=dibao.standard%3D1700&amp;from=2025-07-01"},
		en: []string{"City total", "By district", "Export to Excel", "Newly eligible", "Yearly cost change (yuan)"}},
	{name: "import", page: "import", title: "批量导入", user: &cityAdmin, data: importData{},
		zh: []string{"批量导入人员与家庭", "下载导入模板", "有错误行时，仅导入正确的行", "校验并导入"},
		en: []string{"Bulk import of people and households", "Required columns: name, id_number, residence_division", "Download the import template",
			"File", "If some rows have errors, import only the valid rows", "Check and import"}},
	{name: "import rejected", page: "import", title: "批量导入", user: &cityAdmin,
		data: importData{FileName: "people.csv", Report: &registry.ImportReport{Rows: 10, Good: 8, Bad: 2, Errors: []registry.RowError{rowError}}},
		zh:   []string{"导入结果", "people.csv", "共 10 行", "正确 8 行", "错误 <b>2</b> 行", "未写入任何数据。", "请修改文件后重新上传", "第 5 行", "bad check digit"},
		en: []string{"Import result", "people.csv", "Total 10", "valid 8", "invalid <b>2</b>", "Nothing was saved.", "Please correct the file and upload it again",
			"Row", "Column", "Problem", "Row 5", "bad check digit"}},
	{name: "import written", page: "import", title: "批量导入", user: &cityAdmin,
		data: importData{FileName: "people.xlsx", Report: &registry.ImportReport{Rows: 8, Good: 8, Written: true, Persons: 8, Households: 3}},
		zh:   []string{"已导入 8 人", "新建 3 户"},
		en:   []string{"Imported 8 people", "created 3 households"}},
	{name: "import error", page: "import", title: "批量导入", user: &cityAdmin, data: importData{Error: "file too large"}, status: http.StatusRequestEntityTooLarge,
		zh: []string{`role="alert">file too large`},
		en: []string{`role="alert">file too large`}},
	{name: "divisions", page: "divisions", title: "Xuhui District", user: &cityAdmin,
		data: &division.Node{Division: division.Division{Code: "310104", Name: "Xuhui District", Level: division.District, Parent: "310000"},
			Persons: 1234567, Households: 456789, Path: []division.Ref{{Code: "310000", Name: "Shanghai"}, {Code: "310104", Name: "Xuhui District"}},
			Children:   []division.Ref{{Code: "310104003", Name: "Tianping Road Subdistrict"}},
			ChildStats: []division.Stat{{Ref: division.Ref{Code: "310104003", Name: "Tianping Road Subdistrict"}, Level: division.Street, Persons: 23456, Households: 9876}}},
		zh: []string{"310104 · 区", "户籍人口", "下级区划", `<b id="persons">1,234,567</b>`, "23,456", "9,876", "人数只计入您辖区内的在世户籍人口。"},
		en: []string{"310104 · District", "Registered population (hukou)", "Households", "Subdivisions", "Code", "Name", `<b id="persons">1,234,567</b>`,
			`<b id="households">456,789</b>`, "23,456", "Counts include only living people", `<a href="/divisions/310000">Shanghai</a>`}},
	{name: "divisions committee", page: "divisions", title: "Yongjia Road Committee", user: &cityAdmin,
		data: &division.Node{Division: division.Division{Code: "310104003001", Name: "Yongjia Road Committee", Level: division.Committee}, Persons: 999},
		zh:   []string{"居（村）委会", "999"},
		en:   []string{"Residents&#39; (villagers&#39;) committee", "999"}},
	{name: "monitor", page: "monitor", title: "低收入人口动态监测", user: &cityAdmin,
		data: monitorDashData{Map: `{"series":[]}`, Trend: `{"series":[]}`, Dash: monitor.Dashboard{Days: 30, Warnings: 12, Open: 5, Overdue: 2, Closed: 7, MedianCloseHours: 30.5,
			ByRule:     []monitor.Count{{Key: "rigid_expense", Label: "Rigid expense risk", N: 12}},
			BySeverity: []monitor.Count{{Key: "urgent", Label: monitor.Urgent.Label(), N: 1}, {Key: "high", Label: monitor.High.Label(), N: 11}},
			Districts:  []monitor.DistrictRow{{Code: "310104", Name: "Xuhui District", Warnings: 12, Open: 5, Overdue: 2, Closed: 7}},
			Calls:      []monitor.CallStat{{District: "310104", Calls: 3, Responded: 2, MedianMinutes: 12, Late: 1}}}},
		zh: []string{"低收入人口动态监测", "待处置", "已超期", "30.5", "Rigid expense risk", "紧急", "Xuhui District", "data-map=\"shanghai\"", "/static/geo/shanghai.json", "一键通响应", "12.0"},
		en: []string{"Low-income population monitoring", "Open", "overdue", "Closed", "Median time to close (hours)", "Urgent", "High", "By district", "Emergency calls (Yijiantong)", "Export to Excel"}},
	{name: "monitor_tasks", page: "monitor_tasks", title: "我的走访任务", user: &cityAdmin,
		data: monitorTasksData{Status: "open", Tasks: []monitor.Task{monitorTask}},
		zh:   []string{"我的走访任务", "Rigid expense risk", "高", "已超期", "Yongjia Road Committee", "2024-01-02 11:04", `href="/monitor/tasks/7"`},
		en:   []string{"My visit tasks", "High", "overdue", "Due", "bills 2100 yuan"}},
	{name: "monitor_tasks none", page: "monitor_tasks", title: "我的走访任务", user: &cityAdmin, data: monitorTasksData{Status: "open"},
		zh: []string{"没有任务"}, en: []string{"No tasks"}},
	{name: "monitor_task", page: "monitor_task", title: "Rigid expense risk", user: &cityAdmin,
		data: monitorTaskData{CanVisit: true, Dispositions: monitor.DispositionChoices(),
			Detail: monitor.TaskDetail{Task: monitorTask, Address: "1 Tianping Road", Members: []monitor.MemberView{{ID: 42, Name: "Zhang San", IDMasked: "310104********0017", Age: 74, LivesAlone: true},
				{ID: 43, Name: "Li Si", IDMasked: "310104********0022", Age: 86, WeakGuardianship: true}},
				Visits:   []monitor.VisitView{{ID: 1, Date: "2024-01-02", Found: "nobody home", Actor: "gu", Photos: []int64{5}}},
				Warnings: []monitor.WarningView{{ID: 3, Rule: "Rigid expense risk", Reason: "bills 2100 yuan", At: at}}},
			Data: []monitor.KV{{Key: "近 3 个月医疗自付（元）", Value: "2100"}, {Key: "低保", Value: "是"}}},
		zh: []string{"预警核查", "家庭成员", "独居", "预警依据", "2100", "转入救助申请", "未能联系，改期", `name="photos"`, `/monitor/tasks/7/photos/5`, `action="/monitor/tasks/7/visit"`},
		en: []string{"Warning check", "Household members", "Lives alone", "Weak guardianship", "Medical costs paid in the last 3 months (yuan)", "Yes", "Referred to an assistance application",
			"Could not reach (reschedule)", "Record a visit", "Photos", "Submit"}},
	{name: "monitor_task invalid", page: "monitor_task", title: "Rigid expense risk", user: &cityAdmin, status: http.StatusUnprocessableEntity,
		data: monitorTaskData{CanVisit: true, Dispositions: monitor.DispositionChoices(), Detail: monitor.TaskDetail{Task: monitorTask},
			Error: &errs.Error{Code: errs.Invalid, Message: "bad visit", Fields: []errs.FieldError{{Field: "found", Message: "say what you found"}}}},
		zh: []string{`role="alert"><p>bad visit</p><p>say what you found</p>`}, en: []string{"say what you found"}},
	{name: "monitor_feeds", page: "monitor_feeds", title: "部门数据与预警规则", user: &cityAdmin,
		data: monitorFeedsData{Done: "weather", DoneN: 91, CanImport: true, CanRules: true, Types: monitor.FeedTypes, Severities: monitor.Severities, Pops: monitor.Populations, Rules: []monitor.Rule{monitorRule},
			Batches:  []monitor.BatchRow{{Batch: "gaj-1", Type: monitor.Death, Source: "PSB", Rows: 3, Accepted: 2, Unmatched: 1, At: at}},
			FileName: "deaths.csv",
			Result: &monitor.Result{Batch: "gaj-1", Type: monitor.Death, Rows: 3, Rejected: 1,
				Problems: []monitor.RowProblem{{Line: 3, Field: "death_date", Column: "death_date", Kind: "rejected", Message: "bad date"}}}},
		zh: []string{"已生成探访任务：91", "导入部门数据", "死亡信息", "智能水表读数", "未写入任何数据。", "第 3 行", "bad date", "低保、低保边缘家庭", "household.medical_3m &gt; 1000", "极端天气走访", "寒潮"},
		en: []string{"Visit tasks created", "Import department data", "Deaths", "Smart water meter readings", "Nothing was saved.", "Row 3", "bad date", "Dibao and near-dibao households",
			"Warning rules", "Save rule", "Run a full sweep", "Extreme-weather visits", "Cold wave", "Heat wave"}},
	{name: "error", page: "error", title: "出错了", user: &cityAdmin, status: http.StatusNotFound,
		data: &errs.Error{Code: errs.NotFound, Message: "No such person", Fields: []errs.FieldError{{Field: "id", Message: "not a number"}}},
		zh:   []string{"<title>出错了 · 上海民政</title>", "出错了", "No such person", "id：not a number", "首页"},
		en:   []string{"<title>Something went wrong · Shanghai Civil Affairs</title>", `id="error-message">No such person`, "Home"}},
}

func TestRenderPages(t *testing.T) {
	r := newRenderer(t)
	for _, c := range renderCases {
		for _, lang := range []string{"zh", "en"} {
			t.Run(c.name+"/"+lang, func(t *testing.T) {
				page := web.PageFor(request(lang, c.user), c.title)
				if page.Lang != lang {
					t.Fatalf("PageFor: Lang = %q, want %q", page.Lang, lang)
				}
				page.CSRF = "csrf-token"
				page.Data = c.data
				status := c.status
				if status == 0 {
					status = http.StatusOK
				}
				w := httptest.NewRecorder()
				var err error
				if c.fragment != "" {
					err = r.Fragment(w, c.page, c.fragment, page)
					status = http.StatusOK
				} else {
					err = r.Render(w, status, c.page, page)
				}
				if err != nil {
					t.Fatal(err)
				}
				body := w.Body.String()
				if w.Code != status {
					t.Errorf("status %d, want %d", w.Code, status)
				}
				if ct := w.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
					t.Errorf("Content-Type %q", ct)
				}
				want := c.zh
				if lang == "en" {
					want = c.en
				}
				for _, s := range want {
					if !strings.Contains(body, s) {
						t.Errorf("missing %q", s)
					}
				}
				if c.fragment == "" {
					htmlLang := map[string]string{"zh": `<html lang="zh-CN">`, "en": `<html lang="en">`}[lang]
					if !strings.Contains(body, htmlLang) {
						t.Errorf("missing %s", htmlLang)
					}
					if !strings.Contains(body, `<a href="?lang=zh">中文</a> | <a href="?lang=en">English</a>`) {
						t.Error("missing the language switch")
					}
					if c.user != nil && !strings.Contains(body, `"X-CSRF-Token": "csrf-token"`) {
						t.Error("missing the CSRF header for htmx")
					}
				}
				if lang == "en" {
					for _, run := range hanRuns(body) {
						if !untranslatedText[run] {
							t.Errorf("English page holds Chinese %q", run)
						}
					}
				}
				if t.Failed() {
					t.Logf("output:\n%s", body)
				}
			})
		}
	}
}

// TestRenderCoversEveryTemplate makes a new template get a render case.
func TestRenderCoversEveryTemplate(t *testing.T) {
	covered := map[string]bool{}
	for _, c := range renderCases {
		covered[c.page] = true
	}
	for _, f := range templateFiles(t) {
		name := strings.TrimSuffix(path.Base(f), ".html")
		if name != "layout" && !covered[name] {
			t.Errorf("template %s has no case in renderCases", f)
		}
	}
}

func TestRenderUnknownPage(t *testing.T) {
	r := newRenderer(t)
	w := httptest.NewRecorder()
	if err := r.Render(w, http.StatusOK, "no-such-page", &web.Page{}); err == nil {
		t.Error("Render of an unknown page: no error")
	}
	if err := r.Fragment(w, "no-such-page", "content", &web.Page{}); err == nil {
		t.Error("Fragment of an unknown page: no error")
	}
	if err := r.Fragment(w, "person", "no-such-block", &web.Page{}); err == nil {
		t.Error("Fragment of an unknown block: no error")
	}
	if w.Body.Len() != 0 {
		t.Errorf("failed renders wrote %q", w.Body.String())
	}
}

func TestRenderEscapesUserData(t *testing.T) {
	const evil = `<script>alert(1)</script>`
	r := newRenderer(t)
	u := cityAdmin
	u.Display = evil
	for _, lang := range []string{"zh", "en"} {
		page := web.PageFor(request(lang, &u), evil)
		page.Flash = evil
		p := zhang
		p.Name = evil
		page.Data = registry.Profile{Person: p, Household: registry.Household{ID: 9, Address: evil}, Members: []registry.Person{p}}
		w := httptest.NewRecorder()
		if err := r.Render(w, http.StatusOK, "person", page); err != nil {
			t.Fatal(err)
		}
		body := w.Body.String()
		if strings.Contains(body, evil) {
			t.Errorf("%s: user data is not escaped:\n%s", lang, body)
		}
		escaped := html.EscapeString(evil) // &lt;script&gt;alert(1)&lt;/script&gt;
		if n := strings.Count(body, escaped); n < 5 {
			t.Errorf("%s: escaped name appears %d times, want the title, the user, the flash, the heading, the address…:\n%s", lang, n, body)
		}
	}

	// A search term lands in an attribute, in text and in links.
	page := web.PageFor(request("en", &cityAdmin), "人员查询")
	q := `"><script>alert(2)</script>&x=`
	page.Data = searchData{Q: q, Next: true, NextOffset: 20}
	w := httptest.NewRecorder()
	if err := r.Render(w, http.StatusOK, "persons", page); err != nil {
		t.Fatal(err)
	}
	body := w.Body.String()
	if strings.Contains(body, "<script>alert(2)") {
		t.Errorf("search term is not escaped:\n%s", body)
	}
	for _, s := range []string{`value="&#34;&gt;&lt;script&gt;alert(2)&lt;/script&gt;&amp;x="`,
		`q=%22%3E%3Cscript%3Ealert%282%29%3C%2Fscript%3E%26x%3D&amp;offset=20`} {
		if !strings.Contains(body, s) {
			t.Errorf("missing %s in:\n%s", s, body)
		}
	}
}

func TestErrorPage(t *testing.T) {
	r := newRenderer(t)

	req := httptest.NewRequest("GET", "/persons/9", nil)
	req.AddCookie(&http.Cookie{Name: web.LangCookie, Value: "en"})
	w := httptest.NewRecorder()
	r.ErrorPage(w, req, http.StatusNotFound, errs.E(errs.NotFound, "No such person"))
	if w.Code != http.StatusNotFound {
		t.Errorf("status %d", w.Code)
	}
	for _, s := range []string{`<html lang="en">`, "<title>Something went wrong · Shanghai Civil Affairs</title>", "No such person"} {
		if !strings.Contains(w.Body.String(), s) {
			t.Errorf("missing %q in:\n%s", s, w.Body.String())
		}
	}

	req = httptest.NewRequest("GET", "/persons?q=a%26b", nil)
	w = httptest.NewRecorder()
	r.ErrorPage(w, req, http.StatusUnauthorized, errs.E(errs.Unauthorized, "sign in"))
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/login?next=%2Fpersons%3Fq%3Da%2526b" {
		t.Errorf("unauthorised: %d to %q", w.Code, w.Header().Get("Location"))
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int64]string{
		0:             "0",
		7:             "7",
		999:           "999",
		1000:          "1,000",
		12345:         "12,345",
		123456:        "123,456",
		1234567:       "1,234,567",
		-1:            "-1",
		-999:          "-999",
		-1000:         "-1,000",
		-123456:       "-123,456",
		-1234567:      "-1,234,567",
		math.MaxInt64: "9,223,372,036,854,775,807",
		math.MinInt64: "-9,223,372,036,854,775,808",
	} {
		if got := web.Thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

// testPolicies loads a small ASCII policy for the policies page.
func testPolicies() []*policy.Policy {
	s, err := policy.Load(map[string][]byte{"test.yaml": []byte(`id: test
names: [{from: 2016-05-01, name: Allowance}]
entity: person
basis: Regulation 25
parameters:
  - name: band
    label: Band A
    values: [{from: 2016-05-01, value: 75, source: Paper 1}]
conditions:
  - id: age
    label: Aged 65
    expr: person.age >= 65
amount: test.band
`)})
	if err != nil {
		panic(err)
	}
	p, _ := s.Get("test")
	return []*policy.Policy{p}
}
